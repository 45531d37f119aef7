using System.Globalization;
using System.Text;

namespace Jianwei.Text;

/// <summary>
/// Accent stripping as NFD followed by removal of combining marks (Mn), without ICU: a generated
/// table for precomposed characters (AccentTable.g.cs) plus the algorithmic Hangul decomposition.
/// Marks that are already separate (category Mn) are dropped too.
/// </summary>
internal static partial class AccentTable
{
    private static readonly Dictionary<int, string> s_map;

    // Field initializers of both partial files run before this body, so Entries is set by now.
    static AccentTable() => s_map = Entries.ToDictionary(e => e.CodePoint, e => e.Stripped);

    // Hangul syllable decomposition (Unicode §3.12): S = L·V·T arithmetic.
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, VCount = 21, TCount = 28, SCount = 11172;

    /// <summary>The word with accents removed (the input itself when nothing changes).</summary>
    public static string Strip(string word)
    {
        bool ascii = true;
        foreach (char c in word) if (c >= 0x80) { ascii = false; break; }
        if (ascii) return word;
        var sb = new StringBuilder(word.Length);
        foreach (var r in word.EnumerateRunes())
        {
            int cp = r.Value;
            if (cp >= SBase && cp < SBase + SCount)
            {
                int s = cp - SBase;
                sb.Append((char)(LBase + s / (VCount * TCount))).Append((char)(VBase + s % (VCount * TCount) / TCount));
                if (s % TCount != 0) sb.Append((char)(TBase + s % TCount));
            }
            else if (s_map.TryGetValue(cp, out var stripped)) sb.Append(stripped);
            else if (Rune.GetUnicodeCategory(r) != UnicodeCategory.NonSpacingMark) sb.Append(r.ToString());
        }
        return sb.ToString();
    }
}
