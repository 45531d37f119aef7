namespace Jianwei.Models.Learners;

/// <summary>A row's reasons and, for learners that read texts piece by piece, each piece's contribution per text column.</summary>
public sealed record Explanation(Reason[] Reasons, IReadOnlyDictionary<string, IReadOnlyList<TokenContribution>>? Tokens);

/// <summary>One feature's share in a prediction.</summary>
/// <param name="Feature">The input column.</param>
/// <param name="Contribution">Its additive effect on the log-odds (positive: towards the positive class).</param>
public sealed record Reason(string Feature, double Contribution);

/// <summary>One text piece and its share of a row's log-odds.</summary>
/// <param name="Text">The piece as it reads in the text (continuation marks removed, a space before a new Latin word).</param>
/// <param name="Contribution">Its attribution (log-odds).</param>
public sealed record TokenContribution(string Text, double Contribution);

/// <summary>What one learner contributes to a row's explanation.</summary>
/// <param name="Columns">Input column and contribution to the log-odds, in the order the learner computed them (a column may repeat: its parts add up).</param>
/// <param name="Tokens">Per text column, its pieces with their contributions; null for learners that see texts as a bag of terms.</param>
public sealed record LearnerExplanation(IReadOnlyList<(string Column, double Contribution)> Columns, IReadOnlyDictionary<string, IReadOnlyList<TokenContribution>>? Tokens);
