using Jianwei.Tensors.Optim;

namespace Jianwei.Tensors.Tests;

public class WeightAverageTests
{
    [Fact]
    public void AverageIsTheBiasCorrectedExponentialMeanAndSwapsBackExactly()
    {
        var p = Tensor.FromArray([0f, 0f], 2);
        var average = new WeightAverage([p], 0.5f);
        using (average.Swap()) Assert.Equal([0f, 0f], p.Data.ToArray());   // nothing to average yet
        foreach (var (a, b) in new[] { (1f, 10f), (2f, 20f), (3f, 30f) })
        {
            new[] { a, b }.CopyTo(p.Data);
            average.Update();
        }
        // Weights 0.125, 0.25, 0.5 over steps 1..3, divided by their sum 1 − 0.5³ = 0.875.
        double first = (0.125 * 1 + 0.25 * 2 + 0.5 * 3) / 0.875, second = (0.125 * 10 + 0.25 * 20 + 0.5 * 30) / 0.875;
        var swapped = average.Swap();
        Assert.Equal(first, p.Data[0], 5);
        Assert.Equal(second, p.Data[1], 4);
        swapped.Dispose();
        Assert.Equal([3f, 30f], p.Data.ToArray());                          // the training weights, bit for bit
        swapped.Dispose();                                                   // a second dispose changes nothing
        Assert.Equal([3f, 30f], p.Data.ToArray());
        Assert.Equal(3, average.Steps);
    }

    [Fact]
    public void DecayZeroKeepsTheLatestWeightsAndBadDecaysAreRefused()
    {
        var p = Tensor.FromArray([1f, 2f, 3f], 3);
        var latest = new WeightAverage([p], 0f);
        latest.Update();
        new[] { 4f, 5f, 6f }.CopyTo(p.Data);
        latest.Update();
        using (latest.Swap()) Assert.Equal([4f, 5f, 6f], p.Data.ToArray());
        foreach (float decay in new[] { 1f, -0.1f, float.NaN })
            Assert.Throws<ArgumentOutOfRangeException>(() => new WeightAverage([p], decay));
    }
}
