using System.Buffers;
using System.Text.Unicode;

namespace Jianwei.Data;

/// <summary>
/// Turns a CSV field's UTF-8 bytes into a string, validating as it decodes, for the readers' hot loop.
/// Two costs dominate reading a table of Chinese text: transcoding to UTF-16 and allocating the
/// strings. Long fields (texts) get one transcoding pass into a reused buffer — the runtime's
/// transcoder stops at the first invalid byte instead of substituting U+FFFD, so no second scan is
/// needed — and one allocation. Short fields (categories, grades, labels) mostly repeat, so each
/// column keeps a small direct-mapped cache from bytes to the string decoded before: a hit costs a
/// hash and a comparison, no transcoding and no allocation. A column whose short values rarely
/// repeat (identifiers) turns its cache off after a trial.
/// </summary>
internal sealed class FieldDecoder
{
    /// <summary>Fields up to this many bytes go through the cache.</summary>
    internal const int ShortField = 24;
    private const int Slots = 256;                  // per column, a power of two
    private const int TrialLookups = 4096;          // lookups before a column's hit rate is judged
    private const double MinimumHitRate = 0.5;

    private char[] _chars = new char[1024];
    private ColumnCache?[] _columns = [];

    /// <summary>
    /// Decodes <paramref name="field"/> of file column <paramref name="column"/>; false when the bytes
    /// are not valid UTF-8 (then <paramref name="value"/> is empty). Invalid bytes are never cached.
    /// </summary>
    public bool TryDecode(int column, ReadOnlySpan<byte> field, out string value)
    {
        value = "";
        if (field.IsEmpty) return true;
        if (field.Length > ShortField) return TryTranscode(field, out value);

        if (column >= _columns.Length) Array.Resize(ref _columns, Math.Max(column + 1, 2 * _columns.Length));
        var cache = _columns[column] ??= new ColumnCache();
        if (!cache.Enabled) return TryTranscode(field, out value);
        int slot = Slot(field);
        var key = cache.Keys[slot];
        cache.Lookups++;
        if (key is not null && field.SequenceEqual(key))
        {
            cache.Hits++;
            value = cache.Values[slot]!;
            return true;
        }
        if (!TryTranscode(field, out value)) return false;
        cache.Keys[slot] = field.ToArray();
        cache.Values[slot] = value;
        // Judge once: values that rarely repeat (identifiers) would pay a copy of the key per row.
        if (cache.Lookups == TrialLookups && cache.Hits < MinimumHitRate * TrialLookups) cache.Disable();
        return true;
    }

    /// <summary>Whether file column <paramref name="column"/> still goes through its cache (for tests).</summary>
    internal bool IsCaching(int column) => column < _columns.Length && _columns[column] is { Enabled: true };

    private bool TryTranscode(ReadOnlySpan<byte> field, out string value)
    {
        // UTF-16 never needs more chars than UTF-8 has bytes.
        if (_chars.Length < field.Length) _chars = new char[Math.Max(field.Length, 2 * _chars.Length)];
        if (Utf8.ToUtf16(field, _chars, out _, out int written, replaceInvalidSequences: false) != OperationStatus.Done)
        {
            value = "";
            return false;
        }
        value = new string(_chars, 0, written);
        return true;
    }

    /// <summary>FNV-1a over at most <see cref="ShortField"/> bytes, folded to a slot.</summary>
    private static int Slot(ReadOnlySpan<byte> field)
    {
        uint h = 2166136261;
        foreach (byte b in field) h = (h ^ b) * 16777619;
        return (int)((h ^ (h >> 16)) & (Slots - 1));
    }

    private sealed class ColumnCache
    {
        public byte[]?[] Keys = new byte[Slots][];
        public string?[] Values = new string[Slots];
        public int Lookups, Hits;
        public bool Enabled = true;

        public void Disable()
        {
            Enabled = false;
            Keys = [];
            Values = [];
        }
    }
}
