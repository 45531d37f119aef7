using Jianwei.Models.Training;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Tests.Training;

public class TrainerBudgetTests
{
    /// <summary>A clock that moves only when told to.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public void Advance(double seconds) => _ticks += (long)(seconds * TimeSpan.TicksPerSecond);
    }

    /// <summary>One weight pulled towards 3; each step "takes" slow seconds for the first steps, then fast ones.</summary>
    private sealed class TimedTask(ManualClock clock, int slowSteps, double slow, double fast) : ITrainingTask
    {
        private sealed class One : Module
        {
            public Tensor W { get; }
            public One() { W = RegisterParameter("w", Tensor.Zeros(1)); }
        }
        private readonly One _model = new();
        public Module Model => _model;
        public TrainingStepResult Step(long microBatch, Rng rng)
        {
            clock.Advance(microBatch < slowSteps ? slow : fast);
            var d = _model.W - 3f;
            return new TrainingStepResult((d * d).SumAll(), 1);
        }
        public IReadOnlyDictionary<string, double> Evaluate() => new Dictionary<string, double>();
    }

    [Fact]
    public void BudgetIsSpentAtThePaceOfWarmStepsNotOfTheFirstOnes()
    {
        // 5 steps of 0.3 s (JIT, cold caches), then 0.05 s each; a 3-second budget. Pace from step 10 to 20
        // (the later half when warm-up ends at 20): 0.05 s. At step 20, 2.25 s are spent: 15 more steps fit.
        // Timing the first 10 steps instead (0.175 s each) would stop at step 17 with a third of the budget unused.
        var clock = new ManualClock();
        var result = new Trainer(new TimedTask(clock, 5, 0.3, 0.05), new TrainerOptions
        {
            MaxSteps = 1000, TimeBudget = TimeSpan.FromSeconds(3), CalibrationSteps = 10, WarmupSteps = 20, LearningRate = 0.1f, Clock = clock,
        }).Run();
        Assert.Equal(35, result.TotalSteps);
        Assert.Equal(35, result.Steps);
        Assert.Equal(3.0, result.Seconds, 6);
    }

    [Fact]
    public void BudgetSmallerThanTheCalibrationStopsRightAfterIt()
    {
        var clock = new ManualClock();
        var result = new Trainer(new TimedTask(clock, 0, 0, 0.5), new TrainerOptions
        {
            MaxSteps = 1000, TimeBudget = TimeSpan.FromSeconds(2), CalibrationSteps = 6, WarmupSteps = 10, Clock = clock,
        }).Run();
        Assert.Equal(6, result.Steps);   // 3 s spent by then: nothing more fits
    }
}
