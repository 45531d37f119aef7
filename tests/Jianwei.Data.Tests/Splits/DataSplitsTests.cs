namespace Jianwei.Data.Tests;

public class DataSplitsTests
{
    private static int[] Labels(int n, int positives, int seed)
    {
        var l = new int[n];
        var idx = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(idx);
        foreach (var i in idx[..positives]) l[i] = 1;
        return l;
    }

    [Theory]
    [InlineData(1000, 65, 5)]
    [InlineData(997, 301, 3)]
    [InlineData(50, 10, 10)]
    public void StratifiedKFoldIsDisjointCompleteAndBalanced(int n, int positives, int k)
    {
        var labels = Labels(n, positives, 1);
        var folds = DataSplits.StratifiedKFold(labels, k, seed: 0);
        Assert.Equal(k, folds.Count);
        var allTest = folds.SelectMany(f => f.Test).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, n), allTest);                                   // every row tested exactly once
        foreach (var f in folds)
        {
            Assert.Empty(f.Train.Intersect(f.Test));
            Assert.Equal(n, f.Train.Length + f.Test.Length);
            foreach (int cls in new[] { 0, 1 })
            {
                int total = labels.Count(l => l == cls), inFold = f.Test.Count(i => labels[i] == cls);
                Assert.InRange(inFold, total / k, (total + k - 1) / k);                 // within one row per class
            }
        }
        Assert.Equal(folds.Select(f => f.Test), DataSplits.StratifiedKFold(labels, k, seed: 0).Select(f => f.Test));   // reproducible
        Assert.NotEqual(folds[0].Test, DataSplits.StratifiedKFold(labels, k, seed: 1)[0].Test);
    }

    [Fact]
    public void StratifiedTrainValidTest()
    {
        var labels = Labels(2000, 130, 2);
        var s = DataSplits.StratifiedTrainValidTest(labels, 0.1, 0.2, seed: 3);
        Assert.Equal(2000, s.Train.Length + s.Validation.Length + s.Test.Length);
        Assert.Empty(s.Train.Intersect(s.Test).Concat(s.Train.Intersect(s.Validation)).Concat(s.Validation.Intersect(s.Test)));
        Assert.Equal(26, s.Test.Count(i => labels[i] == 1));   // 20 % of 130
        Assert.Equal(13, s.Validation.Count(i => labels[i] == 1));
        Assert.Throws<ArgumentException>(() => DataSplits.StratifiedKFold(Labels(10, 2, 0), 5, 0));   // 2 positives, 5 folds
    }

    [Fact]
    public void GroupKFoldNeverSplitsAGroup()
    {
        var rng = new Random(4);
        var groups = Enumerable.Range(0, 500).Select(_ => $"company{rng.Next(60)}").ToArray();
        var folds = DataSplits.GroupKFold(groups, 5, seed: 0);
        foreach (var f in folds)
            Assert.Empty(f.Train.Select(i => groups[i]).Intersect(f.Test.Select(i => groups[i])));
        Assert.Equal(500, folds.Sum(f => f.Test.Length));
        Assert.True(folds.Max(f => f.Test.Length) - folds.Min(f => f.Test.Length) < 40);   // balanced by size
    }

    [Fact]
    public void TimeOrderedTrainsOnThePast()
    {
        var times = Enumerable.Range(0, 100).Select(i => i % 10 == 0 ? (DateTime?)null : new DateTime(2020, 1, 1).AddDays((i * 37) % 100)).ToArray();
        var s = DataSplits.TimeOrdered(times, 0.1, 0.2);
        Assert.Equal(90, s.Train.Length + s.Validation.Length + s.Test.Length);   // rows without time are left out
        Assert.True(s.Train.Max(i => times[i]!.Value) <= s.Validation.Min(i => times[i]!.Value));
        Assert.True(s.Validation.Max(i => times[i]!.Value) <= s.Test.Min(i => times[i]!.Value));
    }
}
