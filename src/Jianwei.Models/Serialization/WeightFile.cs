using Jianwei.Tensors;
using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Models.Serialization;

/// <summary>
/// A bundle network's safetensors weights, read with every problem a <see cref="ModelFormatException"/>
/// naming the file: missing, malformed, a weight that is not finite, a name or shape the network lacks.
/// </summary>
public static class WeightFile
{
    /// <summary>Opens <paramref name="path"/> (header and data checked, nothing loaded into a network yet).</summary>
    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, null, "the file is missing.");
        try { return SafetensorsFile.Load(path); }
        catch (SafetensorsFormatException e) { throw new ModelFormatException(path, null, e.Message.StartsWith(path, StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message); }
    }

    /// <summary>Floating-point weights the file holds (what a configuration's size is checked against before allocating).</summary>
    public static long FloatCount(SafetensorsFile file) =>
        file.Entries.Values.Where(e => e.DType is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16).Sum(e => e.Count);

    /// <summary>Loads <paramref name="file"/> (read from <paramref name="path"/>) into <paramref name="model"/>: every weight finite, every name and shape the model's.</summary>
    public static void LoadInto(Module model, SafetensorsFile file, string path)
    {
        var state = file.ToStateDict();
        foreach (var (name, tensor) in state)
            if (FirstNonFinite(tensor.Data) is var at and >= 0)
                throw new ModelFormatException(path, name, $"element {at} is {tensor.Data[at]}; weights must be finite.");
        try { model.LoadStateDict(state); }
        catch (StateDictException e) { throw new ModelFormatException(path, null, ModelFormatException.Describe(e)); }
    }

    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++) if (!float.IsFinite(values[i])) return i;
        return -1;
    }
}
