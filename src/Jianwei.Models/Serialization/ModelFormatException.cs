namespace Jianwei.Models.Serialization;

/// <summary>
/// A model file that cannot be used as it is (damaged, tampered with, written by another version):
/// the message names the file and, where known, the field ("model/tabular.json: logistic.weights[3]:
/// expected a finite number, got NaN"). Loading a bundle reports every such problem as this
/// exception, never as a crash, a hang or a silently wrong score.
/// </summary>
public sealed class ModelFormatException : Exception
{
    /// <summary>Creates the exception from the file, the field (or null) and the problem.</summary>
    public ModelFormatException(string file, string? field, string problem, Exception? inner = null)
        : base(file + ": " + (string.IsNullOrEmpty(field) ? "" : field + ": ") + problem, inner)
    {
        File = file; Field = field; Problem = problem;
    }

    /// <summary>The file.</summary>
    public string File { get; }
    /// <summary>The field's path inside the file ("stacker.weights[1]"), when known.</summary>
    public string? Field { get; }
    /// <summary>What is wrong.</summary>
    public string Problem { get; }

    /// <summary>A weight file that does not fit its module, in one line: counts and the first few names of each kind.</summary>
    public static string Describe(Tensors.Nn.StateDictException e)
    {
        static string Part(string what, IReadOnlyList<string> names) => names.Count == 0 ? "" : $"{names.Count} {what} ({string.Join("; ", names.Take(3))}{(names.Count > 3 ? "; …" : "")})";
        return "the weights do not fit the model: " + string.Join(", ", new[] { Part("mis-shaped", e.MisShaped), Part("missing", e.Missing), Part("unexpected", e.Unexpected) }.Where(p => p.Length > 0)) + ".";
    }
}
