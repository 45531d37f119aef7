using Jianwei.Models.Training;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Tests.Training;

/// <summary>The shared epoch loop: the best epoch's weights come back, patience stops it, and a fitted start is kept when no epoch beats it.</summary>
public class EarlyStoppingTests
{
    private sealed class One : Module
    {
        public Tensor W { get; }
        public One(float start) { W = RegisterParameter("w", Tensor.FromArray([start], 1)); }
    }

    /// <summary>Runs the loop with each epoch setting the weight to the next of <paramref name="weights"/>; the validation score is the weight itself.</summary>
    private static (float Kept, List<double> Curve, int Epochs) Run(float start, float[] weights, int patience, bool keepStart)
    {
        var model = new One(start);
        var curve = new List<double>();
        int epochs = 0;
        EarlyStopping.Run(model, new EarlyStoppingOptions { MaxEpochs = weights.Length, Patience = patience, KeepStart = keepStart }, curve,
            epoch => { model.W.Data[0] = weights[epoch]; epochs++; },
            () => model.W.Data[0]);
        return (model.W.Data[0], curve, epochs);
    }

    [Fact]
    public void TheBestEpochIsKeptAndPatienceStopsTheLoop()
    {
        var (kept, curve, epochs) = Run(0, [0.3f, 0.7f, 0.5f, 0.6f, 0.9f], patience: 2, keepStart: false);
        Assert.Equal(0.7f, kept);
        Assert.Equal(4, epochs);   // two epochs without a better score after the second
        Assert.Equal([0.3, 0.7, 0.5, 0.6], curve.Select(c => Math.Round(c, 6)));
    }

    [Fact]
    public void AFittedStartIsKeptWhenNoEpochBeatsIt()
    {
        // Without KeepStart the best epoch wins even when it is worse than where training began.
        Assert.Equal(0.7f, Run(0.8f, [0.3f, 0.7f, 0.5f], patience: 5, keepStart: false).Kept);
        var (kept, curve, _) = Run(0.8f, [0.3f, 0.7f, 0.5f], patience: 5, keepStart: true);
        Assert.Equal(0.8f, kept);
        Assert.Equal(3, curve.Count);   // the start is scored but is not an epoch of the curve
        // An epoch that does beat it replaces it.
        Assert.Equal(0.9f, Run(0.8f, [0.3f, 0.9f, 0.5f], patience: 5, keepStart: true).Kept);
        // Patience counts from the start: two epochs below it and the loop stops.
        Assert.Equal(2, Run(0.8f, [0.3f, 0.7f, 0.95f], patience: 2, keepStart: true).Epochs);
    }
}
