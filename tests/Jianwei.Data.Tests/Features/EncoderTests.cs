namespace Jianwei.Data.Tests;

public class EncoderTests
{
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
}
