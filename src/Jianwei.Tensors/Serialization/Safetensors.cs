using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Jianwei.Tensors.Serialization;

/// <summary>Element types a safetensors file may hold that the engine reads.</summary>
public enum SafetensorsDType
{
    /// <summary>float32.</summary>
    F32,
    /// <summary>float16 (read, widened to float32).</summary>
    F16,
    /// <summary>bfloat16 (read, widened to float32).</summary>
    BF16,
    /// <summary>int64.</summary>
    I64,
    /// <summary>int32.</summary>
    I32,
}

/// <summary>One tensor's entry in a safetensors header.</summary>
public sealed record SafetensorsEntry(string Name, SafetensorsDType DType, int[] Shape, long Begin, long End)
{
    /// <summary>Bytes per element.</summary>
    public int ElementSize => DType switch { SafetensorsDType.F32 or SafetensorsDType.I32 => 4, SafetensorsDType.I64 => 8, _ => 2 };
    /// <summary>Number of elements.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>A malformed or unsupported safetensors file; the message names the file and the problem.</summary>
public sealed class SafetensorsFormatException(string message) : Exception(message);

/// <summary>
/// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON mapping names to
/// {dtype, shape, data_offsets: [begin, end)} (plus an optional "__metadata__" of strings), then the
/// raw little-endian data. Files are validated before any data-sized allocation: a hostile header
/// cannot make us allocate more than the file holds.
/// </summary>
public sealed class SafetensorsFile
{
    /// <summary>Largest header accepted (the reference implementation uses 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly byte[] _data;     // the data section only
    private readonly string _path;

    /// <summary>Entries by name, in file order.</summary>
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }

    /// <summary>The "__metadata__" strings, if any.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsFile(string path, Dictionary<string, SafetensorsEntry> entries, Dictionary<string, string> metadata, byte[] data)
    {
        _path = path; Entries = entries; Metadata = metadata; _data = data;
    }

    /// <summary>Reads and validates a file.</summary>
    public static SafetensorsFile Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads and validates from a stream (its length must be known).</summary>
    public static SafetensorsFile Read(Stream stream, string displayName)
    {
        long fileLength = stream.Length;
        string Where(string msg) => $"{displayName}: {msg}";
        if (fileLength < 8) throw new SafetensorsFormatException(Where($"file is {fileLength} bytes, too short for the 8-byte header length."));
        Span<byte> lenBytes = stackalloc byte[8];
        stream.ReadExactly(lenBytes);
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (headerLen > MaxHeaderBytes) throw new SafetensorsFormatException(Where($"header length {headerLen} exceeds the {MaxHeaderBytes}-byte limit."));
        if ((long)headerLen > fileLength - 8) throw new SafetensorsFormatException(Where($"header length {headerLen} runs past the end of the file ({fileLength} bytes)."));
        var header = new byte[headerLen];
        stream.ReadExactly(header);
        long dataLength = fileLength - 8 - (long)headerLen;

        var (entries, metadata) = ParseHeader(header, dataLength, Where);
        if (dataLength > Array.MaxLength) throw new SafetensorsFormatException(Where($"data section of {dataLength} bytes is larger than this reader supports."));
        var data = GC.AllocateUninitializedArray<byte>((int)dataLength);
        stream.ReadExactly(data);
        return new SafetensorsFile(displayName, entries, metadata, data);
    }

    private static (Dictionary<string, SafetensorsEntry>, Dictionary<string, string>) ParseHeader(byte[] header, long dataLength, Func<string, string> where)
    {
        if (!System.Text.Unicode.Utf8.IsValid(header)) throw new SafetensorsFormatException(where("header is not valid UTF-8."));
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 }); }
        catch (JsonException e) { throw new SafetensorsFormatException(where($"header is not valid JSON ({e.Message}).")); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new SafetensorsFormatException(where("header must be a JSON object."));
        var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                if (prop.Value.ValueKind != JsonValueKind.Object) throw new SafetensorsFormatException(where("__metadata__ must be an object of strings."));
                foreach (var m in prop.Value.EnumerateObject())
                {
                    if (m.Value.ValueKind != JsonValueKind.String) throw new SafetensorsFormatException(where($"__metadata__.{m.Name} must be a string."));
                    metadata[m.Name] = m.Value.GetString()!;
                }
                continue;
            }
            if (entries.ContainsKey(prop.Name)) throw new SafetensorsFormatException(where($"tensor '{prop.Name}' appears twice."));
            entries[prop.Name] = ParseEntry(prop.Name, prop.Value, dataLength, where);
        }
        // Byte ranges must tile the data section: sorted, non-overlapping, no gaps, ending at its end.
        long expected = 0;
        foreach (var e in entries.Values.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != expected)
                throw new SafetensorsFormatException(where(e.Begin < expected
                    ? $"tensor '{e.Name}' bytes [{e.Begin}, {e.End}) overlap the previous tensor."
                    : $"gap before tensor '{e.Name}' at byte {expected}."));
            expected = e.End;
        }
        if (expected != dataLength) throw new SafetensorsFormatException(where($"tensors cover {expected} bytes but the data section holds {dataLength}."));
        return (entries, metadata);
    }

    private static SafetensorsEntry ParseEntry(string name, JsonElement e, long dataLength, Func<string, string> where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new SafetensorsFormatException(where($"tensor '{name}' must be an object."));
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw new SafetensorsFormatException(where($"tensor '{name}' has no dtype."));
        if (!Enum.TryParse<SafetensorsDType>(dt.GetString(), ignoreCase: false, out var dtype) || !Enum.IsDefined(dtype))
            throw new SafetensorsFormatException(where($"tensor '{name}' has unsupported dtype '{dt.GetString()}' (supported: F32, F16, BF16, I64, I32)."));
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array) throw new SafetensorsFormatException(where($"tensor '{name}' has no shape."));
        var shape = new List<int>();
        long count = 1;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0 || v > int.MaxValue)
                throw new SafetensorsFormatException(where($"tensor '{name}' has an invalid dimension {d}."));
            shape.Add((int)v);
            count = v == 0 ? 0 : (count > long.MaxValue / v ? long.MaxValue : count * v);
        }
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new SafetensorsFormatException(where($"tensor '{name}' needs data_offsets [begin, end]."));
        if (!off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new SafetensorsFormatException(where($"tensor '{name}' has invalid data_offsets [{off[0]}, {off[1]}]."));
        if (end > dataLength)
            throw new SafetensorsFormatException(where($"tensor '{name}' bytes [{begin}, {end}) run past the data section ({dataLength} bytes)."));
        var entry = new SafetensorsEntry(name, dtype, [.. shape], begin, end);
        if (count == long.MaxValue || count * entry.ElementSize != end - begin)
            throw new SafetensorsFormatException(where($"tensor '{name}' shape {ShapeUtil.Format(entry.Shape)} of {dtype} needs {(count == long.MaxValue ? "an absurd number of" : (count * entry.ElementSize).ToString())} bytes but its range holds {end - begin}."));
        if (count > Array.MaxLength) throw new SafetensorsFormatException(where($"tensor '{name}' has {count} elements, more than an array can hold."));
        return entry;
    }

    private SafetensorsEntry Get(string name) => Entries.TryGetValue(name, out var e) ? e
        : throw new KeyNotFoundException($"{_path}: no tensor named '{name}'.");

    /// <summary>A tensor as float32 (F16, BF16 and the integer types are converted).</summary>
    public Tensor GetTensor(string name)
    {
        var e = Get(name);
        var values = new float[e.Count];
        var bytes = _data.AsSpan((int)e.Begin, (int)(e.End - e.Begin));
        switch (e.DType)
        {
            case SafetensorsDType.F32:
                for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
                break;
            case SafetensorsDType.F16:
                for (int i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]);
                break;
            case SafetensorsDType.BF16:
                for (int i = 0; i < values.Length; i++) values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]) << 16);
                break;
            case SafetensorsDType.I64:
                for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(i * 8)..]);
                break;
            case SafetensorsDType.I32:
                for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(i * 4)..]);
                break;
        }
        return Tensor.Wrap(values, e.Shape);
    }

    /// <summary>An integer tensor (I64 or I32) as 64-bit values.</summary>
    public long[] GetInt64(string name)
    {
        var e = Get(name);
        var bytes = _data.AsSpan((int)e.Begin, (int)(e.End - e.Begin));
        var values = new long[e.Count];
        if (e.DType == SafetensorsDType.I64) for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(i * 8)..]);
        else if (e.DType == SafetensorsDType.I32) for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(i * 4)..]);
        else throw new InvalidOperationException($"{_path}: tensor '{name}' is {e.DType}, not an integer type.");
        return values;
    }

    /// <summary>An integer tensor as an <see cref="IntTensor"/> (values must fit in 32 bits).</summary>
    public IntTensor GetIntTensor(string name)
    {
        var longs = GetInt64(name);
        var ints = new int[longs.Length];
        for (int i = 0; i < ints.Length; i++) ints[i] = checked((int)longs[i]);
        return new IntTensor(ints, Get(name).Shape);
    }

    /// <summary>Every floating-point tensor, by name (for <c>Module.LoadStateDict</c>).</summary>
    public Dictionary<string, Tensor> ToStateDict() => Entries.Values
        .Where(e => e.DType is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16)
        .ToDictionary(e => e.Name, e => GetTensor(e.Name), StringComparer.Ordinal);
}

/// <summary>Writes safetensors files (F32 and I64), atomically: a temporary file renamed into place.</summary>
public static class SafetensorsWriter
{
    /// <summary>Writes float tensors, optional int64 tensors and string metadata to <paramref name="path"/>.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
                            IEnumerable<KeyValuePair<string, (long[] Values, int[] Shape)>>? int64Tensors = null,
                            IReadOnlyDictionary<string, string>? metadata = null)
    {
        var floats = tensors.ToList();
        var longs = int64Tensors?.ToList() ?? [];
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in floats.Select(f => f.Key).Concat(longs.Select(l => l.Key)))
            if (!names.Add(n) || n == "__metadata__") throw new ArgumentException($"Duplicate or reserved tensor name '{n}'.");
        foreach (var (n, (v, s)) in longs)
            if (ShapeUtil.Product(s) != v.Length) throw new ArgumentException($"Tensor '{n}': {v.Length} values for shape {ShapeUtil.Format(s)}.");

        // Header: entries in name order (as the Python library writes them), offsets in that order.
        var items = floats.Select(f => (Name: f.Key, DType: "F32", Shape: f.Value.ShapeArray, Bytes: (long)f.Value.Length * 4, Float: (Tensor?)f.Value, Long: (long[]?)null))
            .Concat(longs.Select(l => (Name: l.Key, DType: "I64", Shape: l.Value.Shape, Bytes: (long)l.Value.Values.Length * 8, Float: (Tensor?)null, Long: (long[]?)l.Value.Values)))
            .OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var it in items)
            {
                w.WriteStartObject(it.Name);
                w.WriteString("dtype", it.DType);
                w.WriteStartArray("shape"); foreach (var d in it.Shape) w.WriteNumberValue(d); w.WriteEndArray();
                w.WriteStartArray("data_offsets"); w.WriteNumberValue(offset); w.WriteNumberValue(offset + it.Bytes); w.WriteEndArray();
                w.WriteEndObject();
                offset += it.Bytes;
            }
            w.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 bytes, as the reference writer does.
        var header = ms.ToArray();
        int padded = (header.Length + 7) / 8 * 8;

        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            stream.Write(len);
            stream.Write(header);
            for (int i = header.Length; i < padded; i++) stream.WriteByte((byte)' ');
            var buffer = new byte[1 << 16];
            foreach (var it in items)
            {
                if (it.Float is not null) WriteValues(stream, buffer, it.Float.Data, 4, (b, v) => BinaryPrimitives.WriteSingleLittleEndian(b, v));
                else WriteValues<long>(stream, buffer, it.Long!, 8, (b, v) => BinaryPrimitives.WriteInt64LittleEndian(b, v));
            }
        });
    }

    private delegate void Put<T>(Span<byte> dst, T value);

    private static void WriteValues<T>(Stream s, byte[] buffer, ReadOnlySpan<T> values, int size, Put<T> put)
    {
        int per = buffer.Length / size;
        for (int i = 0; i < values.Length; i += per)
        {
            int n = Math.Min(per, values.Length - i);
            for (int j = 0; j < n; j++) put(buffer.AsSpan(j * size), values[i + j]);
            s.Write(buffer, 0, n * size);
        }
    }
}
