using Jianwei.Models.Features;
using Jianwei.Models.Multimodal;
using Jianwei.Models.Pretraining;
using Jianwei.Models.Training;
using Jianwei.Tensors;
using Jianwei.Text;

namespace Jianwei.Models.Tests.Multimodal;

/// <summary>FixMatch on unlabeled rows: the pseudo-labels' threshold, the strong augmentation, and the term's effect on training.</summary>
[Collection("Serial")]   // compares runs bit for bit (see SerialCollection)
public class SemiSupervisedTests
{
    [Fact]
    public void PseudoLabelsKeepOnlyRowsAtOrBeyondTheThreshold()
    {
        // logit(0.95) = ln 19 = 2.9444: 2.95 is in, 2.944 is not.
        var (rows, labels) = PseudoLabels.Select([3f, -3f, 0.5f, 2.95f, -2.95f, 2.944f, -2.944f], 0.95f);
        Assert.Equal([0, 1, 3, 4], rows);
        Assert.Equal([1f, 0f, 1f, 0f], labels);
        Assert.Equal([0, 3], PseudoLabels.Select([0.3f, 0.1f, -0.2f, -0.21f], 0.55f).Rows);   // logit(0.55) = 0.2007: σ(−0.2) = 0.450 is just above 0.45
        Assert.Empty(PseudoLabels.Select([30f, -30f], 1f).Rows);                       // 1: nothing finite is that sure
        Assert.Throws<ArgumentOutOfRangeException>(() => PseudoLabels.Select([1f], 0.5f));
    }

    private static readonly SpecialTokens Special = new(Pad: 0, Unk: 1, Cls: 2, Sep: 3, Mask: 4);

    /// <summary>[CLS] [tag] 10 pieces [SEP] [tag] 4 pieces [SEP], word ids running across the columns.</summary>
    private static EncodedRow TwoColumns(int first)
    {
        int[] ids = [2, 5, .. Enumerable.Range(first, 10), 3, 6, .. Enumerable.Range(first + 10, 4), 3];
        int[] columns = [0, 1, .. Enumerable.Repeat(1, 11), 2, .. Enumerable.Repeat(2, 5)];
        int[] words = [-1, -1, .. Enumerable.Range(0, 10), -1, -1, .. Enumerable.Range(10, 4), -1];
        return new EncodedRow(ids, columns, words);
    }

    [Fact]
    public void TextAugmentationMasksPiecesDeletesOneSpanPerColumnAndKeepsTheLayout()
    {
        var row = TwoColumns(100);
        var none = RowAugmentation.Perturb(row, new RowAugmentationOptions { TokenMaskRate = 0, SpanDeleteRate = 0 }, Special, new Rng(1));
        Assert.Equal(row.InputIds, none.InputIds);
        int masked = 0, pieces = 0;
        for (ulong seed = 0; seed < 400; seed++)
        {
            var a = RowAugmentation.Perturb(row, new RowAugmentationOptions { TokenMaskRate = 0.15, SpanDeleteRate = 0.25 }, Special, new Rng(seed));
            // ⌈0.25·10⌉ = 3 and ⌈0.25·4⌉ = 1 pieces go, as one span per column; [CLS], tags and [SEP] stay.
            Assert.Equal(row.Length - 4, a.Length);
            Assert.Equal([2, 5], a.InputIds[..2]);
            Assert.Equal([3, 6], a.InputIds[9..11]);
            Assert.Equal(3, a.InputIds[^1]);
            Assert.Equal([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2], a.ColumnIds);
            // The kept pieces keep their word ids, in order, and the deleted ones are contiguous.
            var kept = a.WordIds.Where(w => w >= 0).ToArray();
            var first = kept.Where(w => w < 10).ToArray();
            Assert.Equal(7, first.Length);
            Assert.True(Enumerable.Range(0, 10).Except(first).ToArray() is var gone && gone[^1] - gone[0] == 2, "one span of three");
            for (int p = 0; p < a.Length; p++)
                if (a.WordIds[p] >= 0)
                {
                    pieces++;
                    if (a.InputIds[p] == Special.Mask) masked++;
                    else Assert.Equal(row.InputIds[Array.IndexOf(row.WordIds, a.WordIds[p])], a.InputIds[p]);   // a piece is itself or [MASK]
                }
        }
        Assert.InRange(masked / (double)pieces, 0.13, 0.17);   // 4,000 pieces at 0.15
        Assert.Equal(RowAugmentation.Perturb(row, new(), Special, new Rng(9)).InputIds, RowAugmentation.Perturb(row, new(), Special, new Rng(9)).InputIds);
    }

    [Fact]
    public void CellSwapsTakeTheSameCellFromAnotherRowOfTheBatch()
    {
        // 50 rows; numeric inputs of width 2 hold (row, input) so their origin can be read back.
        int n = 50, numericInputs = 3, categoricalInputs = 2;
        var numeric = new float[n * numericInputs * 2];
        var categorical = new int[n * categoricalInputs];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < numericInputs; j++) { numeric[(r * numericInputs + j) * 2] = r; numeric[(r * numericInputs + j) * 2 + 1] = 1000 + j; }
            for (int j = 0; j < categoricalInputs; j++) categorical[r * categoricalInputs + j] = r * 10 + j;
        }
        var batch = new TokenInputs(numeric, categorical, n, NumericWidth: 2);
        var swapped = RowAugmentation.SwapCells(batch, 0.3, new Rng(3));
        int moved = 0;
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < numericInputs; j++)
            {
                float from = swapped.Numeric[(r * numericInputs + j) * 2];
                Assert.Equal(1000 + j, swapped.Numeric[(r * numericInputs + j) * 2 + 1]);   // the same input, both of its values
                if (from != r) moved++;
            }
            for (int j = 0; j < categoricalInputs; j++)
            {
                int v = swapped.Categorical[r * categoricalInputs + j];
                Assert.Equal(j, v % 10);                                                        // the same column
                if (v / 10 != r) moved++;
            }
        }
        Assert.InRange(moved / (double)(n * 5), 0.22, 0.38);   // 250 cells at 0.3, never from the row itself
        Assert.Same(batch, RowAugmentation.SwapCells(batch, 0, new Rng(3)));
        Assert.Equal(numeric, batch.Numeric);                   // the input is not touched
    }

    [Fact]
    public void WithoutConfidentRowsFixMatchChangesNothingAndWithThemItTrains()
    {
        var (data, train, trainLabels, valid, validLabels) = FineTuningTests.Small();
        var options = new MultimodalFineTuneOptions { MaxEpochs = 1, Seed = 3 };
        float[] Fit(MultimodalFineTuneOptions o)
        {
            var model = new MultimodalTransformer(FineTuningTests.Config(data), data, new Rng(2), keywordBuckets: 256);
            model.Fit(train, trainLabels, valid, validLabels, o, unlabeled: valid);
            return model.CopyState().Values.SelectMany(v => v).ToArray();
        }
        var plain = Fit(options);
        // Threshold 1 admits no row, so the run is the plain one bit for bit: the term reads no label and draws no shared randomness.
        Assert.Equal(plain, Fit(options with { PseudoLabelWeight = 1, PseudoLabelThreshold = 1f }));
        // A threshold a fresh model clears trains on pseudo-labels.
        Assert.NotEqual(plain, Fit(options with { PseudoLabelWeight = 1, PseudoLabelThreshold = 0.55f }));
    }

    [Fact]
    public void StrongRowsAreTheSameRowsAugmented()
    {
        var (data, train, _, _, _) = FineTuningTests.Small();
        var order = Enumerable.Range(0, train.Count).Reverse().ToArray();
        var strong = RowAugmentation.Strong(train, order, 5, 8, new RowAugmentationOptions { CellSwapRate = 0, TokenMaskRate = 0, SpanDeleteRate = 0 }, data.Special, new Rng(1));
        Assert.Equal(8, strong.Count);
        var expected = train.SelectRows(order[5..13]);
        Assert.Equal(expected.Table.Numeric, strong.Table.Numeric);
        Assert.Equal(expected.Table.Categorical, strong.Table.Categorical);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(expected.Text[i].InputIds, strong.Text[i].InputIds);
            Assert.Equal(expected.KeywordText(i).InputIds, strong.KeywordText(i).InputIds);
        }
    }
}
