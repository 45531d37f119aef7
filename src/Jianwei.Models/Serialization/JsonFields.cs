using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jianwei.Models.Serialization;

/// <summary>
/// One JSON object of a model file, read field by field with errors that name the file and the
/// field's path (<see cref="ModelFormatException"/>) instead of the null references and casts a
/// tampered file would otherwise cause. Numbers must be finite and within float32's range (the
/// engine computes in float32), unless a field says otherwise.
/// </summary>
public readonly struct JsonFields
{
    private readonly JsonObject _object;

    private JsonFields(JsonObject o, string file, string path) { _object = o; File = file; Path = path; }

    /// <summary>The file, for messages.</summary>
    public string File { get; }
    /// <summary>This object's path inside the file ("" for the root).</summary>
    public string Path { get; }
    /// <summary>The underlying object.</summary>
    public JsonObject Node => _object;

    /// <summary>The largest magnitude a number in a model file may have: float32's.</summary>
    public const double Largest = float.MaxValue;

    /// <summary>Reads a file whose content is one JSON object.</summary>
    public static JsonFields Load(string file)
    {
        if (!System.IO.File.Exists(file)) throw new ModelFormatException(file, null, "the file is missing.");
        string text;
        try { text = System.IO.File.ReadAllText(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelFormatException(file, null, $"cannot read it ({Tensors.Serialization.FileWriteException.Reason(e)})."); }
        return Parse(text, file);
    }

    /// <summary>Parses JSON text that must be one object; <paramref name="file"/> names it in errors.</summary>
    public static JsonFields Parse(string text, string file)
    {
        JsonNode? node;
        // Repeated keys are refused here: left in, they would throw from whichever later access first touches the object.
        try { node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false }); }
        catch (JsonException e)
        {
            string reason = e.Message.Split(" LineNumber")[0].Split(" Path:")[0].TrimEnd('.', ' ');
            throw new ModelFormatException(file, null, $"not valid JSON ({(e.LineNumber is long line ? $"line {line + 1}: " : "")}{reason}).");
        }
        return node is JsonObject o ? new JsonFields(o, file, "") : throw new ModelFormatException(file, null, "expected a JSON object.");
    }

    /// <summary>Wraps an object already parsed (a part of a larger file).</summary>
    public static JsonFields Of(JsonObject o, string file, string path = "") => new(o, file, path);

    /// <summary>The full path of a field of this object.</summary>
    public string Name(string field) => Path.Length == 0 ? field : Path + "." + field;

    /// <summary>An error about <paramref name="field"/> of this object (null: the object itself).</summary>
    public ModelFormatException Error(string? field, string problem) => new(File, field is null ? (Path.Length == 0 ? null : Path) : Name(field), problem);

    /// <summary>Whether the field is present and not null.</summary>
    public bool Has(string field) => _object[field] is not null;

    private JsonNode Required(string field) => _object[field] ?? throw Error(field, "missing.");

    /// <summary>A nested object.</summary>
    public JsonFields Object(string field) => Required(field) is JsonObject o ? new JsonFields(o, File, Name(field)) : throw Error(field, "expected an object.");

    /// <summary>A nested object, or null when absent.</summary>
    public JsonFields? OptionalObject(string field) => Has(field) ? Object(field) : null;

    /// <summary>A string.</summary>
    public string String(string field) => AsString(Required(field), Name(field));

    /// <summary>A string, or null when absent.</summary>
    public string? OptionalString(string field) => Has(field) ? String(field) : null;

    /// <summary>A boolean.</summary>
    public bool Bool(string field) => Required(field) is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False
        ? v.GetValue<bool>() : throw Error(field, $"expected true or false, got {Show(_object[field])}.");

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int Int(string field, int min = int.MinValue, int max = int.MaxValue) => AsInt(Required(field), Name(field), min, max);

    /// <summary>A whole number, or <paramref name="fallback"/> when absent.</summary>
    public int Int(string field, int fallback, int min, int max) => Has(field) ? Int(field, min, max) : fallback;

    /// <summary>A finite number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public double Number(string field, double min = -Largest, double max = Largest) => AsNumber(Required(field), Name(field), min, max);

    /// <summary>An array of finite numbers in range, of <paramref name="length"/> elements when given.</summary>
    public double[] Numbers(string field, int? length = null, double min = -Largest, double max = Largest)
    {
        var a = Array(field, length);
        var result = new double[a.Count];
        for (int i = 0; i < a.Count; i++) result[i] = AsNumber(a[i], $"{Name(field)}[{i}]", min, max);
        return result;
    }

    /// <summary>An array of arrays of finite numbers in range.</summary>
    public List<double[]> NumberArrays(string field, int? length = null, double min = -Largest, double max = Largest)
    {
        var a = Array(field, length);
        var result = new List<double[]>(a.Count);
        for (int i = 0; i < a.Count; i++)
        {
            string where = $"{Name(field)}[{i}]";
            if (a[i] is not JsonArray inner) throw new ModelFormatException(File, where, $"expected an array, got {Show(a[i])}.");
            var values = new double[inner.Count];
            for (int k = 0; k < inner.Count; k++) values[k] = AsNumber(inner[k], $"{where}[{k}]", min, max);
            result.Add(values);
        }
        return result;
    }

    /// <summary>An array of whole numbers in range.</summary>
    public int[] Ints(string field, int? length = null, int min = int.MinValue, int max = int.MaxValue)
    {
        var a = Array(field, length);
        var result = new int[a.Count];
        for (int i = 0; i < a.Count; i++) result[i] = AsInt(a[i], $"{Name(field)}[{i}]", min, max);
        return result;
    }

    /// <summary>An array of strings.</summary>
    public string[] Strings(string field, int? length = null)
    {
        var a = Array(field, length);
        var result = new string[a.Count];
        for (int i = 0; i < a.Count; i++) result[i] = AsString(a[i], $"{Name(field)}[{i}]");
        return result;
    }

    /// <summary>An array of objects.</summary>
    public List<JsonFields> Objects(string field, int? length = null)
    {
        var a = Array(field, length);
        var result = new List<JsonFields>(a.Count);
        for (int i = 0; i < a.Count; i++)
            result.Add(a[i] is JsonObject o ? new JsonFields(o, File, $"{Name(field)}[{i}]") : throw new ModelFormatException(File, $"{Name(field)}[{i}]", "expected an object."));
        return result;
    }

    /// <summary>The raw array (for shapes this reader does not cover).</summary>
    public JsonArray Array(string field, int? length = null)
    {
        if (Required(field) is not JsonArray a) throw Error(field, $"expected an array, got {Show(_object[field])}.");
        if (length is int n && a.Count != n) throw Error(field, $"expected {n} elements, got {a.Count}.");
        return a;
    }

    /// <summary>The string of an enum member (case-insensitive), e.g. "Numeric".</summary>
    public T Enum<T>(string field) where T : struct, Enum
    {
        var s = String(field);
        return System.Enum.TryParse<T>(s, ignoreCase: true, out var v) && System.Enum.IsDefined(v) && !s.Any(char.IsDigit)
            ? v : throw Error(field, $"'{Shorten(s)}' is not one of {string.Join(", ", System.Enum.GetNames<T>())}.");
    }

    /// <summary>Each property of this object, as (name, node).</summary>
    public IEnumerable<(string Name, JsonNode? Value)> Properties() => _object.Select(kv => (kv.Key, kv.Value));

    /// <summary>A property's value read as a whole number (for objects used as maps).</summary>
    public int MapInt(string key, JsonNode? value, int min, int max) => AsInt(value, Name(key), min, max);

    /// <summary>A value read as a string (for arrays used as maps).</summary>
    public string MapString(string key, JsonNode? value) => AsString(value, Name(key));

    private string AsString(JsonNode? n, string where)
    {
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.String) throw new ModelFormatException(File, where, $"expected a string, got {Show(n)}.");
        try { return v.GetValue<string>(); }
        catch (InvalidOperationException) { throw new ModelFormatException(File, where, "the string holds an unpaired UTF-16 surrogate escape."); }
    }

    private int AsInt(JsonNode? n, string where, int min, int max)
    {
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<double>(out double d) || d != Math.Floor(d) || d < int.MinValue || d > int.MaxValue)
            throw new ModelFormatException(File, where, $"expected a whole number, got {Show(n)}.");
        if (d < min || d > max) throw new ModelFormatException(File, where, $"{d.ToString(CultureInfo.InvariantCulture)} is outside [{min}, {max}].");
        return (int)d;
    }

    private double AsNumber(JsonNode? n, string where, double min, double max)
    {
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<double>(out double d) || !double.IsFinite(d))
            throw new ModelFormatException(File, where, $"expected a finite number, got {Show(n)}.");
        if (d < min || d > max)
        {
            static string Bound(double b) => Math.Abs(b) == Largest ? (b < 0 ? "-3.4e38" : "3.4e38") : b.ToString("R", CultureInfo.InvariantCulture);
            throw new ModelFormatException(File, where, $"{d.ToString("R", CultureInfo.InvariantCulture)} is outside [{Bound(min)}, {Bound(max)}]"
                                                        + (Math.Abs(d) > Largest ? " (beyond float32, the precision models compute in)." : "."));
        }
        return d;
    }

    private static string Show(JsonNode? n)
    {
        if (n is null) return "null";
        try { return Shorten(n.ToJsonString()); }
        catch (InvalidOperationException) { return "a string with an unpaired surrogate"; }
    }

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "…" : s;
}
