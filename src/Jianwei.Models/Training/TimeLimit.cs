namespace Jianwei.Models.Training;

/// <summary>
/// A wall-clock limit on a piece of work (AutoGluon's <c>time_limit</c>), read from a
/// <see cref="TimeProvider"/> so that tests can move time by hand (<c>FakeTimeProvider</c>). Without a
/// limit every question about time left answers "unlimited" (null).
/// </summary>
public sealed class TimeLimit
{
    private readonly TimeProvider _clock;
    private readonly long _start;

    /// <summary>Starts counting now on <paramref name="clock"/> (default: the system clock); <paramref name="limit"/> null means none.</summary>
    public TimeLimit(TimeSpan? limit, TimeProvider? clock = null) : this(limit, clock ?? TimeProvider.System, null) { }

    private TimeLimit(TimeSpan? limit, TimeProvider clock, long? start)
    {
        if (limit is TimeSpan l && !(l > TimeSpan.Zero)) throw new ArgumentOutOfRangeException(nameof(limit), limit, "a time limit is positive.");
        Limit = limit;
        _clock = clock;
        _start = start ?? clock.GetTimestamp();
    }

    /// <summary>A limit counted from <paramref name="start"/>, a timestamp of <paramref name="clock"/> (default: the system clock) taken earlier.</summary>
    public static TimeLimit Since(long start, TimeSpan? limit, TimeProvider? clock = null) => new(limit, clock ?? TimeProvider.System, start);

    /// <summary>
    /// The same limit less <paramref name="reserve"/>, counted from the same start: for a part of the work
    /// that must leave time for what follows it (never below a tenth of the limit).
    /// </summary>
    public TimeLimit Reserving(TimeSpan reserve) => Limit is TimeSpan l ? new TimeLimit(l - reserve > l / 10 ? l - reserve : l / 10, _clock, _start) : this;

    /// <summary>No limit, on the system clock.</summary>
    public static TimeLimit None => new(null);

    /// <summary>The limit, or null for none.</summary>
    public TimeSpan? Limit { get; }

    /// <summary>The clock it reads.</summary>
    public TimeProvider Clock => _clock;

    /// <summary>Time since it started.</summary>
    public TimeSpan Elapsed => _clock.GetElapsedTime(_start);

    /// <summary>Time left (never negative), or null without a limit.</summary>
    public TimeSpan? Remaining => Limit is TimeSpan l ? (l > Elapsed ? l - Elapsed : TimeSpan.Zero) : null;

    /// <summary>Whether work expected to take <paramref name="duration"/> from now would end within the limit (always, without one).</summary>
    public bool Fits(TimeSpan duration) => Remaining is not TimeSpan left || duration <= left;
}
