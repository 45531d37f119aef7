using System.Text.Json.Nodes;
using Jianwei.Data;
using Jianwei.Models.Ensembles;
using Jianwei.Models.Learners;
using Jianwei.Models.Training;
using Microsoft.Extensions.Time.Testing;

namespace Jianwei.Models.Tests.Ensembles;

/// <summary>
/// The ensemble's time limit on a clock the test moves by hand: candidates run in the order given, each
/// with its share of the time left; one whose folds would end past the limit is stopped and reported;
/// the first always runs; nothing starts with (almost) no time left.
/// </summary>
public class EnsembleScheduleTests
{
    private static readonly RawTable Table = new("synthetic", ["x"], Enumerable.Range(0, 60).Select(i => new[] { i.ToString() }).ToList(), Enumerable.Range(2, 60).Select(i => (long)i).ToList());
    private static readonly int[] Labels = Enumerable.Range(0, 60).Select(i => i % 3 == 0 ? 1 : 0).ToArray();
    private static readonly int[] Rows = Enumerable.Range(0, 60).ToArray();

    /// <summary>Predicts a constant; fitting it moves the clock.</summary>
    private sealed class Constant(string name) : ILearner
    {
        public string Name => name;
        public IEnumerable<(string Name, ColumnType Type)> Inputs => [];
        public JsonObject? Curves => null;
        public double[] Predict(RawTable table, IReadOnlyList<int> rows) => rows.Select(_ => 0.3).ToArray();
        public IReadOnlyList<LearnerExplanation> Explain(RawTable table, IReadOnlyList<int> rows, double scale) => [];
        public Dictionary<string, double>? Importance(RawTable table, IReadOnlyList<int> rows) => null;
        public void Save(JsonObject parts, string directory) { }
        public void Dispose() { }
    }

    /// <summary>A candidate whose preparation takes <paramref name="prepare"/> seconds and each fold model <paramref name="fold"/>; it logs what it was given.</summary>
    private static EnsembleCandidate Candidate(string name, double share, double prepare, double fold, FakeTimeProvider clock, List<string> log) =>
        new(name, share, budget =>
        {
            log.Add($"{name} prepare {Seconds(budget)}");
            clock.Advance(TimeSpan.FromSeconds(prepare));
            return new CandidatePlan((index, rows, foldBudget) =>
            {
                log.Add($"{name} fold {index + 1} {Seconds(foldBudget)}");
                clock.Advance(TimeSpan.FromSeconds(fold));
                return new Constant(name);
            });
        });

    private static string Seconds(TimeSpan? t) => t is TimeSpan s ? s.TotalSeconds.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) : "none";

    [Fact]
    public void CandidatesRunInOrderWithTheirShareOfTheTimeLeftAndOneThatWouldOverrunIsReported()
    {
        var clock = new FakeTimeProvider();
        var limit = new TimeLimit(TimeSpan.FromSeconds(100), clock);
        var log = new List<string>();
        var candidates = new[]
        {
            Candidate("a", 1, 0, 5, clock, log),    // 15 s: ends at 15
            Candidate("b", 1, 10, 5, clock, log),   // 25 s: ends at 40
            Candidate("c", 2, 0, 40, clock, log),   // one fold ends at 80; two more would end at 160
            Candidate("d", 1, 0, 1, clock, log),    // 3 s: ends at 83
        };
        var outcomes = EnsembleSchedule.Run(candidates, Table, Labels, Rows, new ScheduleOptions(3, 0, limit));

        Assert.Equal(["a", "b", "d"], outcomes.Where(o => o.Bagged is not null).Select(o => o.Candidate.Name));
        var c = outcomes[2];
        Assert.Null(c.Bagged);
        Assert.Equal("stopped after 1 of 3 folds: at 40 s a fold, the other 2 fits would end past the time limit (20 s left)", c.Skipped);
        Assert.Equal(83, limit.Elapsed.TotalSeconds);
        // Budgets: a gets 1/5 of 100 s; b 1/4 of the 85 s left (less its 10 s of preparation, over 3 folds);
        // c 2/3 of the 60 s left; d all of the 20 s left.
        Assert.Equal([
            "a prepare 20", "a fold 1 6.67", "a fold 2 6.67", "a fold 3 6.67",
            "b prepare 21.25", "b fold 1 3.75", "b fold 2 3.75", "b fold 3 3.75",
            "c prepare 40", "c fold 1 13.33",
            "d prepare 20", "d fold 1 6.67", "d fold 2 6.67", "d fold 3 6.67"], log);
        Assert.Equal(15, outcomes[0].FitSeconds);
        Assert.Equal(25, outcomes[1].FitSeconds);
        Assert.All(outcomes.Where(o => o.Bagged is not null), o => Assert.Equal(60, o.Bagged!.OutOfFold.Length));
    }

    [Fact]
    public void TheFirstCandidateAlwaysRunsTheRefitIsReservedAndNothingStartsWithoutTime()
    {
        var clock = new FakeTimeProvider();
        var limit = new TimeLimit(TimeSpan.FromSeconds(10), clock);
        var log = new List<string>();
        var outcomes = EnsembleSchedule.Run([Candidate("slow", 1, 0, 4, clock, log), Candidate("next", 1, 0, 1, clock, log)], Table, Labels, Rows,
                                            new ScheduleOptions(3, 0, limit, RefitFull: true));
        Assert.NotNull(outcomes[0].Bagged);                                   // 12 s: past the limit, but there must be a model
        Assert.Equal("not started: 0 s of the 10 s time limit were left", outcomes[1].Skipped);
        Assert.Equal(["slow prepare 5", "slow fold 1 1.25", "slow fold 2 1.25", "slow fold 3 1.25"], log);   // 5 s over 3 folds and the refit

        // Time for its three folds (90 s of the 97 s left) but not for the refit too: stopped after the first.
        clock = new FakeTimeProvider();
        limit = new TimeLimit(TimeSpan.FromSeconds(100), clock);
        outcomes = EnsembleSchedule.Run([Candidate("quick", 1, 0, 1, clock, log), Candidate("big", 10, 0, 30, clock, log)], Table, Labels, Rows,
                                        new ScheduleOptions(3, 0, limit, RefitFull: true));
        Assert.Equal("stopped after 1 of 3 folds: at 30 s a fold, the other 3 fits would end past the time limit (67 s left)", outcomes[1].Skipped);
    }

    [Fact]
    public void WithoutALimitEveryCandidateRunsWithoutBudgets()
    {
        var clock = new FakeTimeProvider();
        var log = new List<string>();
        var outcomes = EnsembleSchedule.Run([Candidate("a", 1, 100, 1000, clock, log), Candidate("b", 1, 0, 1000, clock, log)], Table, Labels, Rows,
                                            new ScheduleOptions(2, 0, new TimeLimit(null, clock)));
        Assert.All(outcomes, o => Assert.NotNull(o.Bagged));
        Assert.All(log, line => Assert.EndsWith("none", line));
    }

    [Fact]
    public void ACandidateThatCannotReadTheTableIsSkippedWithItsReasonAndTakesNoShare()
    {
        var clock = new FakeTimeProvider();
        var limit = new TimeLimit(TimeSpan.FromSeconds(10), clock);
        var log = new List<string>();
        var unreadable = Candidate("text-only", 5, 0, 1, clock, log) with { NotApplicable = "the table has no text column" };
        var outcomes = EnsembleSchedule.Run([unreadable, Candidate("slow", 1, 0, 4, clock, log)], Table, Labels, Rows, new ScheduleOptions(3, 0, limit));
        Assert.Equal("the table has no text column", outcomes[0].Skipped);
        Assert.NotNull(outcomes[1].Bagged);                           // the first candidate that can read the table runs, whatever the limit says
        Assert.Equal("slow prepare 10", log[0]);                      // all the time: the unreadable one takes no share
        Assert.Contains("no candidate can read this table: text-only: the table has no text column",
            Assert.Throws<ArgumentException>(() => EnsembleSchedule.Run([unreadable], Table, Labels, Rows, new ScheduleOptions(3, 0, limit))).Message);
    }
}
