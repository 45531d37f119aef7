namespace Jianwei.Models;

/// <summary>
/// Probabilities and log-odds, one way everywhere: a probability is clipped to [1e-6, 1 − 1e-6]
/// before its log-odds are taken (±13.8), so a learner that is certain cannot outvote the others
/// with an infinite logit.
/// </summary>
public static class LogOdds
{
    /// <summary>How close to 0 or 1 a probability may come before its log-odds are taken.</summary>
    public const double Clip = 1e-6;

    /// <summary>log(p / (1 − p)) of <paramref name="p"/> clipped to [<see cref="Clip"/>, 1 − <see cref="Clip"/>].</summary>
    public static double Of(double p)
    {
        p = Math.Clamp(p, Clip, 1 - Clip);
        return Math.Log(p / (1 - p));
    }

    /// <summary>The probability 1 / (1 + e^−z) of log-odds <paramref name="z"/>.</summary>
    public static double Probability(double z) => 1 / (1 + Math.Exp(-z));
}
