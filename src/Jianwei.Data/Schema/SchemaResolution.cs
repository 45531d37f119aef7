namespace Jianwei.Data;

/// <summary>
/// The schema a labeled table is trained with, decided the same way by every command: the one a
/// schema file pins (its label set to <c>label</c>), else the one inferred; a positive class named
/// by the user wins. The label must be a column of both, its positive class known and not guessed
/// among more than two classes, and the table must hold every column the schema uses.
/// </summary>
public static class SchemaResolution
{
    /// <summary>Resolves the schema; every problem is a <see cref="DataFormatException"/> naming the file and column.</summary>
    public static TableSchema Resolve(RawTable table, string label, string? positive = null, string? schemaFile = null)
    {
        var schema = schemaFile is null
            ? SchemaInference.Infer(table, label, positive)
            : TableSchema.Load(schemaFile) with { Label = label };
        if (schemaFile is not null && positive is not null) schema = schema with { PositiveClass = positive };
        if (schema.Find(label) is null) throw new DataFormatException(schemaFile ?? table.Source, null, label, "the label column is not in the schema.");
        if (schema.PositiveClass is null)
            throw new DataFormatException(schemaFile ?? table.Source, null, label, "the schema names no positive class; name it with --positive.");
        schema.CheckHeader(table.Header, table.Source, needLabel: true);
        bool guessed = positive is null && schemaFile is null;
        var classes = SchemaInference.LabelClasses(table, label, new ValueParser(schema.MissingMarkers));
        if (guessed && classes.Count > 2)
            throw new DataFormatException(table.Source, null, label, $"the label has {classes.Count} classes ({string.Join(", ", classes.Take(6))}{(classes.Count > 6 ? ", …" : "")}); "
                                                                    + "a model predicts one class against the rest: name it with --positive (the other classes then count as negative).");
        return schema;
    }
}
