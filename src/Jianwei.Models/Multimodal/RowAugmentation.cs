using Jianwei.Models.Features;
using Jianwei.Models.Pretraining;
using Jianwei.Tensors;
using Jianwei.Text;

namespace Jianwei.Models.Multimodal;

/// <summary>How strongly <see cref="RowAugmentation.Strong"/> perturbs a row.</summary>
public sealed record RowAugmentationOptions
{
    /// <summary>Share of a row's cells replaced by the same cell of another row in the batch (SCARF's corruption, Bahri et al. 2022).</summary>
    public double CellSwapRate { get; init; } = 0.3;
    /// <summary>Share of text pieces replaced by [MASK] (UDA's word replacement, Xie et al. 2019, with the mask for a word).</summary>
    public double TokenMaskRate { get; init; } = 0.15;
    /// <summary>Share of each text column's pieces deleted as one contiguous span (0: none).</summary>
    public double SpanDeleteRate { get; init; } = 0.1;
}

/// <summary>
/// The strong augmentation of FixMatch-style training on unlabeled rows (Sohn et al. 2020): the model
/// must give a perturbed row the label it confidently gives the row itself. A row keeps its identity:
/// its own text with pieces masked and one span deleted, its own cells except some taken from another
/// row of the same batch. Augmentation reads inputs only — rows carry no labels, so no row's label can leak.
/// </summary>
public static class RowAugmentation
{
    /// <summary>
    /// Rows order[start..start+count) of <paramref name="rows"/>, augmented, in that order (a new
    /// <see cref="MultimodalRows"/> of <paramref name="count"/> rows). The whole texts the keyword channel
    /// reads are augmented alike. Deterministic for a given <paramref name="rng"/> state.
    /// </summary>
    public static MultimodalRows Strong(MultimodalRows rows, int[] order, int start, int count, RowAugmentationOptions options, SpecialTokens special, Rng rng)
    {
        var picked = order.AsSpan(start, count).ToArray();
        var table = SwapCells(rows.Table.SelectRows(picked), options.CellSwapRate, rng);
        var text = picked.Select(r => Perturb(rows.Text[r], options, special, rng)).ToList();
        var full = rows.FullText is null ? null : picked.Select(r => Perturb(rows.FullText[r], options, special, rng)).ToList();
        return new MultimodalRows(table, text, full);
    }

    /// <summary>Each cell of each row, with probability <paramref name="rate"/>, takes that cell's value in another random row of the batch.</summary>
    internal static TokenInputs SwapCells(TokenInputs batch, double rate, Rng rng)
    {
        int n = batch.Rows;
        if (n < 2 || rate <= 0) return batch;
        int width = batch.NumericWidth;
        int numericInputs = batch.Numeric.Length / n / width, categoricalInputs = batch.Categorical.Length / n;
        var numeric = (float[])batch.Numeric.Clone();
        var categorical = (int[])batch.Categorical.Clone();
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < numericInputs; j++)
                if (rng.NextDouble() < rate)
                {
                    int other = OtherRow(r, n, rng);
                    batch.Numeric.AsSpan((other * numericInputs + j) * width, width).CopyTo(numeric.AsSpan((r * numericInputs + j) * width, width));
                }
            for (int j = 0; j < categoricalInputs; j++)
                if (rng.NextDouble() < rate) categorical[r * categoricalInputs + j] = batch.Categorical[OtherRow(r, n, rng) * categoricalInputs + j];
        }
        return batch with { Numeric = numeric, Categorical = categorical };
    }

    private static int OtherRow(int row, int rows, Rng rng)
    {
        int other = rng.NextInt(rows - 1);
        return other >= row ? other + 1 : other;
    }

    /// <summary>
    /// The row with pieces masked at <see cref="RowAugmentationOptions.TokenMaskRate"/> and, per column,
    /// one span of ⌈rate·pieces⌉ pieces deleted; [CLS], column tags and [SEP] stay where they are.
    /// </summary>
    internal static EncodedRow Perturb(EncodedRow row, RowAugmentationOptions options, SpecialTokens special, Rng rng)
    {
        var keep = new bool[row.Length];
        Array.Fill(keep, true);
        if (options.SpanDeleteRate > 0)
            for (int p = 0; p < row.Length;)
            {
                if (row.WordIds[p] < 0) { p++; continue; }
                int end = p;                                                      // [p, end): one column's pieces
                while (end < row.Length && row.WordIds[end] >= 0 && row.ColumnIds[end] == row.ColumnIds[p]) end++;
                int span = (int)Math.Ceiling(options.SpanDeleteRate * (end - p));
                if (span < end - p)                                               // never a whole column
                {
                    int from = p + rng.NextInt(end - p - span + 1);
                    Array.Fill(keep, false, from, span);
                }
                p = end;
            }
        var ids = new List<int>(row.Length); var columns = new List<int>(row.Length); var words = new List<int>(row.Length);
        for (int p = 0; p < row.Length; p++)
        {
            if (!keep[p]) continue;
            bool piece = row.WordIds[p] >= 0;
            ids.Add(piece && rng.NextDouble() < options.TokenMaskRate ? special.Mask : row.InputIds[p]);
            columns.Add(row.ColumnIds[p]); words.Add(row.WordIds[p]);
        }
        return new EncodedRow([.. ids], [.. columns], [.. words]);
    }
}
