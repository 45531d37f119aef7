using System.Buffers.Binary;
using System.Text;
using Jianwei.Tensors.Serialization;

namespace Jianwei.Tensors.Tests;

public class SafetensorsTests
{
    private static string Temp() => Path.Combine(Path.GetTempPath(), $"jianwei-st-{Guid.NewGuid():N}.safetensors");

    /// <summary>Builds a file from a raw JSON header and a data section.</summary>
    private static byte[] Build(string header, byte[] data, ulong? headerLenOverride = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLenOverride ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        return bytes;
    }

    private static SafetensorsFile Read(byte[] bytes) => SafetensorsFile.Read(new MemoryStream(bytes), "test.safetensors");

    [Fact]
    public void WritesAndReadsF32AndI64WithMetadata()
    {
        var path = Temp();
        try
        {
            var a = Tensor.FromArray([1f, -2.5f, 3e-8f, float.MaxValue, 0f, -0f], 2, 3);
            var b = Tensor.Scalar(7f);
            SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["layer.a"] = a, ["b"] = b },
                new Dictionary<string, (long[], int[])> { ["ids"] = ([1L, -5L, long.MaxValue], [3]) },
                new Dictionary<string, string> { ["format"] = "pt" });
            var f = SafetensorsFile.Load(path);
            Assert.Equal(a.ToArray(), f.GetTensor("layer.a").ToArray());
            Assert.Equal([2, 3], f.GetTensor("layer.a").ShapeArray);
            Assert.Empty(f.GetTensor("b").ShapeArray);
            Assert.Equal([1L, -5L, long.MaxValue], f.GetInt64("ids"));
            Assert.Equal("pt", f.Metadata["format"]);
            // The header length is a multiple of 8 (the reference writer pads with spaces).
            var raw = File.ReadAllBytes(path);
            Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(raw) % 8);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ReadsF16BF16AndI32()
    {
        var data = new byte[2 + 2 + 4];
        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(0), (Half)1.5f);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2), (ushort)(BitConverter.SingleToInt32Bits(-2f) >> 16));
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(4), -42);
        var f = Read(Build("""{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]},"i":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}}""", data));
        Assert.Equal(1.5f, f.GetTensor("h").Data[0]);
        Assert.Equal(-2f, f.GetTensor("b").Data[0]);
        Assert.Equal(-42L, f.GetInt64("i")[0]);
    }

    public static TheoryData<string, int, ulong?, string> Malformed => new()
    {
        { "{}", 0, 1_000_000_000UL, "exceeds" },                                                       // absurd header length
        { "{}", 0, 5000UL, "past the end" },                                                            // header past the end
        { "not json", 0, null, "not valid JSON" },
        { "[1,2]", 0, null, "must be a JSON object" },
        { """{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}""", 8, null, "unsupported dtype 'F64'" },
        { """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, null, "needs 12 bytes" },     // shape vs byte range
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}""", 8, null, "overlap" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 8, null, "data section holds 8" },  // trailing bytes
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,400]}}""", 4, null, "run past the data section" },
        { """{"a":{"dtype":"F32","shape":[100000,100000,100000],"data_offsets":[0,4]}}""", 4, null, "needs 4000000000000000 bytes but its range holds 4" },
        { """{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, null, "invalid dimension" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", 4, null, "invalid data_offsets" },
        { """{"a":{"dtype":"F32","shape":[1]}}""", 4, null, "data_offsets" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, null, "gap" },
    };

    [Theory, MemberData(nameof(Malformed))]
    public void RejectsMalformedFilesWithAClearMessage(string header, int dataBytes, ulong? headerLen, string expected)
    {
        var e = Assert.Throws<SafetensorsFormatException>(() => Read(Build(header, new byte[dataBytes], headerLen)));
        Assert.Contains("test.safetensors", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ShortFileIsRejected()
    {
        var e = Assert.Throws<SafetensorsFormatException>(() => Read([1, 2, 3]));
        Assert.Contains("too short", e.Message);
    }

    [Fact]
    public void RandomCorruptionNeverCrashesOrOverAllocates()
    {
        // Flip random bytes of a valid file: every outcome is either a clean load whose tensors fit
        // the file, or a SafetensorsFormatException — never another exception type.
        var path = Temp();
        try
        {
            SafetensorsWriter.Save(path, new Dictionary<string, Tensor>
            {
                ["w"] = Tensor.Uniform(new Rng(1), -1, 1, 4, 5),
                ["b"] = Tensor.Uniform(new Rng(2), -1, 1, 5),
            });
            var original = File.ReadAllBytes(path);
            var rng = new Rng(123);
            int rejected = 0;
            for (int trial = 0; trial < 2000; trial++)
            {
                var bytes = (byte[])original.Clone();
                int flips = 1 + rng.NextInt(4);
                for (int f = 0; f < flips; f++)
                {
                    // bias toward the length prefix and header, where the validation lives
                    int pos = rng.NextInt(2) == 0 ? rng.NextInt(Math.Min(bytes.Length, 160)) : rng.NextInt(bytes.Length);
                    bytes[pos] = (byte)rng.NextInt(256);
                }
                if (rng.NextInt(10) == 0) bytes = bytes[..rng.NextInt(bytes.Length)];   // truncation
                try
                {
                    var file = Read(bytes);
                    foreach (var name in file.Entries.Keys) Assert.True(file.GetTensor(name).Length <= bytes.Length);
                }
                catch (SafetensorsFormatException) { rejected++; }
            }
            Assert.True(rejected > 100, $"only {rejected} corrupted files were rejected");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SaveIsAtomic_NoTemporaryFilesLeftAndOldFileReplacedWhole()
    {
        var dir = Directory.CreateTempSubdirectory("jianwei-atomic").FullName;
        try
        {
            var path = Path.Combine(dir, "m.safetensors");
            SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["a"] = Tensor.Ones(3) });
            SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["a"] = Tensor.Zeros(1000) });
            Assert.Equal(1000, SafetensorsFile.Load(path).GetTensor("a").Length);
            Assert.Single(Directory.GetFiles(dir));
            // A failing writer leaves the previous file untouched.
            var e = Assert.Throws<FileWriteException>(() => AtomicFile.Write(path, s => { s.WriteByte(1); throw new IOException("No space left on device"); }));
            Assert.Equal($"{path}: cannot write (No space left on device).", e.Message);   // the target is named, not the temporary file
            Assert.Equal(1000, SafetensorsFile.Load(path).GetTensor("a").Length);
            Assert.Single(Directory.GetFiles(dir));
        }
        finally { Directory.Delete(dir, true); }
    }
}
