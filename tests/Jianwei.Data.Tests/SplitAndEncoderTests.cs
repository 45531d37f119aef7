namespace Jianwei.Data.Tests;

public class SplitAndEncoderTests
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

    [Fact]
    public void CategoricalVocabularyNeverCrashesOnUnseenValues()
    {
        var v = CategoricalVocabulary.Fit(["A", "B", "A", null, "C", "A", "B"], minFrequency: 2);
        Assert.Equal(["A", "B"], v.Categories);
        Assert.Equal(2, v.Transform("A"));
        Assert.Equal(3, v.Transform("B"));
        Assert.Equal(CategoricalVocabulary.UnknownId, v.Transform("C"));     // rare in training
        Assert.Equal(CategoricalVocabulary.UnknownId, v.Transform("新类别"));  // never seen
        Assert.Equal(CategoricalVocabulary.MissingId, v.Transform(null));
        Assert.Equal(4, v.Size);
        var json = System.Text.Json.JsonSerializer.Serialize(v);
        Assert.Equal(3, System.Text.Json.JsonSerializer.Deserialize<CategoricalVocabulary>(json)!.Transform("B"));
    }

    [Fact]
    public void NumericEncodersByHand()
    {
        double[] train = [1, 2, 3, 4, double.NaN];
        var st = Standardizer.Fit(train);
        Assert.Equal(2.5, st.Mean, 12);
        Assert.Equal(Math.Sqrt(1.25), st.Std, 12);
        Assert.Equal(0, st.Transform(double.NaN));

        var qt = QuantileTransformer.Fit(Enumerable.Range(0, 1001).Select(i => (double)i * i), normal: false);
        Assert.Equal(0.5, qt.Transform(500.0 * 500), 3);              // the median maps to 0.5 whatever the skew
        Assert.Equal(0, qt.Transform(-5));
        Assert.Equal(1, qt.Transform(1e12));
        var rg = QuantileTransformer.Fit(Enumerable.Range(0, 1001).Select(i => (double)i), normal: true);
        Assert.Equal(0, rg.Transform(500), 6);
        Assert.Equal(1.6448536, rg.Transform(950), 3);                  // Φ⁻¹(0.95)
        Assert.Equal(-1.9599640, QuantileTransformer.InverseNormalCdf(0.025), 7);

        var ple = PiecewiseLinearEncoder.Fit(Enumerable.Range(0, 101).Select(i => (double)i), bins: 4);   // edges 0 25 50 75 100
        var e = new float[ple.Size];
        ple.Transform(60, e);
        Assert.Equal([1f, 1f, 0.4f, 0f], e);
        ple.Transform(-25, e);
        Assert.Equal([-1f, 0f, 0f, 0f], e);   // the first component extends below the range
        ple.Transform(150, e);
        Assert.Equal([1f, 1f, 1f, 3f], e);    // the last extends above it
    }

    [Fact]
    public void GeneratorIsDeterministicWithTheDocumentedLabelRate()
    {
        var a = SmeDataGenerator.Generate(new SmeDataOptions(Seed: 7, Labeled: 3000, Unlabeled: 200));
        var b = SmeDataGenerator.Generate(new SmeDataOptions(Seed: 7, Labeled: 3000, Unlabeled: 200));
        Assert.Equal(a.Labeled, b.Labeled);
        Assert.Equal(a.Unlabeled, b.Unlabeled);
        Assert.NotEqual(a.Labeled[0], SmeDataGenerator.Generate(new SmeDataOptions(Seed: 8, Labeled: 10, Unlabeled: 0)).Labeled[0]);
        Assert.InRange(a.DefaultRate, 0.05, 0.08);
        Assert.All(a.Unlabeled, c => Assert.Equal(-1, c.Default));
        Assert.InRange(a.TrueScoreAuc, 0.75, 0.9);
        // The text carries signal the table lacks: collector hiring shows in the texts of riskier firms.
        double Rate(Func<SmeCompany, bool> f) => a.Labeled.Where(f).Average(c => c.Default);
        Assert.True(Rate(c => c.Recruitment.Contains("催收")) > 1.5 * Rate(c => !c.Recruitment.Contains("催收")));
        var en = SmeDataGenerator.Generate(new SmeDataOptions(Seed: 7, Labeled: 50, Unlabeled: 0, Language: "en"));
        Assert.DoesNotContain(en.Labeled, c => c.Profile.Any(ch => ch >= '\u4E00' && ch <= '\u9FFF'));
    }

    [Fact]
    public void GeneratedFilesReadBackWithTheirSchema()
    {
        var dir = Directory.CreateTempSubdirectory("jianwei-sme").FullName;
        try
        {
            var ds = SmeDataGenerator.Generate(new SmeDataOptions(Labeled: 500, Unlabeled: 100));
            var (labeled, unlabeled) = ds.Write(dir);
            var t = RawTable.Load(labeled);
            Assert.Equal(500, t.RowCount);
            var schema = SchemaInference.Infer(t, "default");
            Assert.Equal(["profile", "recruitment", "changes"], schema.Columns.Where(c => c.Type == ColumnType.Text).Select(c => c.Name));
            Assert.Equal(ColumnRole.Identifier, schema.Find("company_id")!.Role);
            Assert.Equal(ColumnType.Numeric, schema.Find("revenue_growth")!.Type);
            Assert.Equal(100, RawTable.Load(unlabeled).RowCount);
            schema.CheckHeader(RawTable.Load(unlabeled).Header, unlabeled, needLabel: false);
        }
        finally { Directory.Delete(dir, true); }
    }
}
