namespace Jianwei.Data;

/// <summary>
/// Categories seen at least <c>minFrequency</c> times in training get ids from 2 upward (most
/// frequent first, ties by text); id 0 is "missing" and id 1 is "unknown" — rare in training or never
/// seen — so a new category at prediction time is a valid input, never an error.
/// </summary>
public sealed record CategoricalVocabulary(string[] Categories)
{
    /// <summary>Id of missing values.</summary>
    public const int MissingId = 0;
    /// <summary>Id of categories not in the vocabulary.</summary>
    public const int UnknownId = 1;

    private Dictionary<string, int>? _index;

    /// <summary>Number of ids (categories + missing + unknown).</summary>
    public int Size => Categories.Length + 2;

    /// <summary>Fits on training values (null = missing).</summary>
    public static CategoricalVocabulary Fit(IEnumerable<string?> values, int minFrequency = 1)
    {
        var counts = values.Where(v => v is not null).GroupBy(v => v!, StringComparer.Ordinal).Select(g => (g.Key, Count: g.Count()));
        return new CategoricalVocabulary(counts.Where(c => c.Count >= minFrequency).OrderByDescending(c => c.Count)
            .ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key).ToArray());
    }

    /// <summary>Id of a value.</summary>
    public int Transform(string? value)
    {
        if (value is null) return MissingId;
        _index ??= Categories.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i + 2, StringComparer.Ordinal);
        return _index.TryGetValue(value, out int id) ? id : UnknownId;
    }
}
