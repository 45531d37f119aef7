using System.Globalization;
using System.Net;
using System.Text;

namespace Jianwei.Evaluation.Reports;

/// <summary>One explained row of a report.</summary>
/// <param name="Id">The row's identifier (or its line).</param>
/// <param name="Probability">Predicted probability.</param>
/// <param name="Label">True label, if known.</param>
/// <param name="Reasons">Top contributions to the log-odds, by input column.</param>
public sealed record ExplainedRow(string Id, double Probability, int? Label, IReadOnlyList<(string Feature, double Contribution)> Reasons)
{
    /// <summary>Per text column, its pieces in reading order with their contributions to the log-odds (token attributions), or empty.</summary>
    public IReadOnlyList<(string Column, IReadOnlyList<(string Text, double Contribution)> Pieces)> Tokens { get; init; } = [];
}

/// <summary>What a report shows.</summary>
public sealed record ReportContent
{
    /// <summary>Heading.</summary>
    public required string Title { get; init; }
    /// <summary>Lines of context (data file, model, training facts).</summary>
    public IReadOnlyList<(string Key, string Value)> Facts { get; init; } = [];
    /// <summary>Predicted probabilities.</summary>
    public required IReadOnlyList<double> Scores { get; init; }
    /// <summary>0/1 labels of the same rows.</summary>
    public required IReadOnlyList<int> Labels { get; init; }
    /// <summary>Decision threshold.</summary>
    public required double Threshold { get; init; }
    /// <summary>Importance by input column (any scale; the largest 20 are drawn).</summary>
    public IReadOnlyDictionary<string, double> Importance { get; init; } = new Dictionary<string, double>();
    /// <summary>Name of the importance measure.</summary>
    public string ImportanceKind { get; init; } = "importance";
    /// <summary>Training curves: named series of (step, value).</summary>
    public IReadOnlyList<Series> TrainingCurves { get; init; } = [];
    /// <summary>Explained sample rows.</summary>
    public IReadOnlyList<ExplainedRow> Examples { get; init; } = [];
    /// <summary>Per-column data summary rows: name, role/type, missing rate, distinct values.</summary>
    public IReadOnlyList<string[]> ColumnSummary { get; init; } = [];
}

/// <summary>
/// One self-contained HTML file: metrics, ROC, precision–recall, KS, calibration and score
/// distribution plots, the confusion matrix at the threshold, feature importance, training curves and
/// explained rows. Plots are inline SVG; there is no script and nothing is fetched, so it opens
/// offline and can be attached to a credit committee's minutes.
/// </summary>
public static class HtmlReport
{
    private static string E(string s) => WebUtility.HtmlEncode(s);
    private static string P(double v, string f = "0.0000") => v.ToString(f, CultureInfo.InvariantCulture);

    /// <summary>The report as HTML text.</summary>
    public static string Render(ReportContent c)
    {
        if (c.Scores.Count != c.Labels.Count) throw new ArgumentException($"{c.Scores.Count} scores but {c.Labels.Count} labels.");
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>").Append(E(c.Title)).Append("</title><style>")
          .Append("body{font-family:system-ui,'Segoe UI','Noto Sans CJK SC',sans-serif;margin:24px auto;max-width:1320px;color:#1a202c}")
          .Append("h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #e2e8f0}table{border-collapse:collapse;margin:8px 0}")
          .Append("td,th{border:1px solid #e2e8f0;padding:4px 10px;text-align:right}th{background:#f7fafc}td.l,th.l{text-align:left}")
          .Append(".charts{display:flex;flex-wrap:wrap;gap:16px}.grid{stroke:#edf2f7}.frame{fill:none;stroke:#a0aec0}")
          .Append(".tokens{margin:10px 0;line-height:1.9}.tokens span[title]{border-radius:3px;padding:1px 0}")
          .Append(".tick{font-size:10px;fill:#4a5568}.axis{font-size:11px;fill:#2d3748}.title{font-size:13px;font-weight:600}.legend{font-size:10px}")
          .Append(".pos{background:#fed7d7}.neg{background:#c6f6d5}.muted{color:#718096;font-size:12px}</style></head><body>");
        sb.Append("<h1>").Append(E(c.Title)).Append("</h1>");
        if (c.Facts.Count > 0)
        {
            sb.Append("<table>");
            foreach (var (k, v) in c.Facts) sb.Append("<tr><th class='l'>").Append(E(k)).Append("</th><td class='l'>").Append(E(v)).Append("</td></tr>");
            sb.Append("</table>");
        }

        bool twoClasses = c.Labels.Contains(0) && c.Labels.Contains(1);
        var at = Metrics.At(c.Scores, c.Labels, c.Threshold);
        sb.Append("<h2>Metrics</h2><table><tr>");
        var metrics = new List<(string, string)>();
        if (twoClasses)
            metrics.AddRange([("ROC-AUC", P(Metrics.RocAuc(c.Scores, c.Labels))), ("Gini", P(Metrics.Gini(c.Scores, c.Labels))),
                              ("PR-AUC", P(Metrics.PrAuc(c.Scores, c.Labels))), ("KS", P(Metrics.Ks(c.Scores, c.Labels)))]);
        metrics.AddRange([("accuracy", P(at.Accuracy)), ("precision", P(at.Precision)), ("recall", P(at.Recall)), ("F1", P(at.F1)),
                          ("log loss", P(Metrics.LogLoss(c.Scores, c.Labels))), ("Brier", P(Metrics.Brier(c.Scores, c.Labels))),
                          ("rows", c.Labels.Count.ToString("N0", CultureInfo.InvariantCulture)), ("positive rate", P(c.Labels.Average(), "0.00%"))]);
        foreach (var (k, _) in metrics) sb.Append("<th>").Append(E(k)).Append("</th>");
        sb.Append("</tr><tr>");
        foreach (var (_, v) in metrics) sb.Append("<td>").Append(v).Append("</td>");
        sb.Append("</tr></table>");

        sb.Append("<h2>Discrimination and calibration</h2><div class='charts'>");
        if (twoClasses)
        {
            var (fpr, tpr, recall, precision) = Curves(c.Scores, c.Labels);
            sb.Append(SvgChart.Lines("ROC curve", "false positive rate", "true positive rate",
                [new Series("model", fpr, tpr, "#2b6cb0"), new Series("chance", [0, 1], [0, 1], "#a0aec0", Dashed: true)]));
            double baseRate = c.Labels.Average();
            sb.Append(SvgChart.Lines("Precision–recall", "recall", "precision",
                [new Series("model", recall, precision, "#2b6cb0"), new Series("base rate", [0, 1], [baseRate, baseRate], "#a0aec0", Dashed: true)]));
            var (grid, cdfPos, cdfNeg, ksAt) = KsCurves(c.Scores, c.Labels);
            sb.Append(SvgChart.Lines($"KS = {P(Metrics.Ks(c.Scores, c.Labels), "0.000")} at score {P(ksAt, "0.000")}", "score", "cumulative share",
                [new Series("positives", grid, cdfPos, "#c53030"), new Series("negatives", grid, cdfNeg, "#2f855a"),
                 new Series("max gap", [ksAt, ksAt], [0, 1], "#a0aec0", Dashed: true)]));
        }
        var (meanP, observed) = Calibration(c.Scores, c.Labels, 10);
        double top = Math.Max(0.05, Math.Min(1, Math.Max(meanP.DefaultIfEmpty(0).Max(), observed.DefaultIfEmpty(0).Max()) * 1.1));
        sb.Append(SvgChart.Lines("Calibration (10 quantile bins)", "mean predicted probability", "observed positive rate",
            [new Series("model", meanP, observed, "#2b6cb0"), new Series("perfect", [0, top], [0, top], "#a0aec0", Dashed: true)], 0, top, 0, top));
        var (centers, histPos, histNeg) = Histograms(c.Scores, c.Labels, 25);
        sb.Append(SvgChart.Lines("Score distribution by class", "predicted probability", "share of class",
            [new Series("positives", centers, histPos, "#c53030"), new Series("negatives", centers, histNeg, "#2f855a")],
            0, 1, 0, Math.Max(1e-6, Math.Max(histPos.DefaultIfEmpty(0).Max(), histNeg.DefaultIfEmpty(0).Max()) * 1.1)));
        sb.Append("</div>");

        sb.Append("<h2>Confusion matrix at threshold ").Append(P(c.Threshold, "0.0000")).Append("</h2><table><tr><th></th><th>predicted positive</th><th>predicted negative</th></tr>")
          .Append(CultureInfo.InvariantCulture, $"<tr><th class='l'>actual positive</th><td class='pos'>{at.TruePositive:N0}</td><td>{at.FalseNegative:N0}</td></tr>")
          .Append(CultureInfo.InvariantCulture, $"<tr><th class='l'>actual negative</th><td>{at.FalsePositive:N0}</td><td class='neg'>{at.TrueNegative:N0}</td></tr></table>")
          .Append(CultureInfo.InvariantCulture, $"<p class='muted'>Approval rate at this threshold (predicted negative): {P(at.ApprovalRate, "0.0%")}.</p>");

        if (c.Importance.Count > 0)
        {
            var bars = c.Importance.OrderByDescending(kv => Math.Abs(kv.Value)).Take(20).Select(kv => (kv.Key, kv.Value)).ToList();
            sb.Append("<h2>Feature importance</h2><div class='charts'>").Append(SvgChart.Bars(c.ImportanceKind, bars)).Append("</div>");
        }
        if (c.TrainingCurves.Count > 0)
        {
            sb.Append("<h2>Training curves</h2><div class='charts'>");
            foreach (var s in c.TrainingCurves)
            {
                double xMax = s.X.DefaultIfEmpty(1).Max(), yMin = s.Y.DefaultIfEmpty(0).Min(), yMax = s.Y.DefaultIfEmpty(1).Max();
                sb.Append(SvgChart.Lines(s.Name, "step", s.Name, [s], 0, xMax, yMin - 0.05 * (yMax - yMin), yMax + 0.05 * (yMax - yMin)));
            }
            sb.Append("</div>");
        }
        if (c.Examples.Count > 0)
        {
            sb.Append("<h2>Why: sample rows explained</h2><p class='muted'>Contributions to the log-odds of the positive class; red pushes towards it, green away.</p>")
              .Append("<table><tr><th class='l'>row</th><th>probability</th><th>label</th><th class='l'>top reasons</th></tr>");
            foreach (var r in c.Examples)
            {
                sb.Append("<tr><td class='l'>").Append(E(r.Id)).Append("</td><td>").Append(P(r.Probability)).Append("</td><td>")
                  .Append(r.Label?.ToString(CultureInfo.InvariantCulture) ?? "–").Append("</td><td class='l'>");
                foreach (var (f, v) in r.Reasons)
                    sb.Append("<span class='").Append(v > 0 ? "pos" : "neg").Append("'>").Append(E(f)).Append(' ').Append(v > 0 ? "+" : "").Append(P(v, "0.000")).Append("</span> ");
                sb.Append("</td></tr>");
            }
            sb.Append("</table>");
            if (c.Examples.Any(r => r.Tokens.Count > 0)) AppendTokenAttributions(sb, c.Examples);
        }
        if (c.ColumnSummary.Count > 0)
        {
            sb.Append("<h2>Data</h2><table><tr><th class='l'>column</th><th class='l'>role / type</th><th>missing</th><th>distinct</th></tr>");
            foreach (var row in c.ColumnSummary)
                sb.Append("<tr><td class='l'>").Append(E(row[0])).Append("</td><td class='l'>").Append(E(row[1])).Append("</td><td>").Append(E(row[2])).Append("</td><td>").Append(E(row[3])).Append("</td></tr>");
            sb.Append("</table>");
        }
        sb.Append("<p class='muted'>Generated by Jianwei ").Append(E(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))).Append(".</p></body></html>");
        return sb.ToString();
    }

    /// <summary>
    /// The texts of the explained rows with each piece shaded by its contribution: red towards the
    /// positive class, green away, opacity relative to the largest |contribution| of that row; the exact
    /// value is in each piece's tooltip.
    /// </summary>
    private static void AppendTokenAttributions(StringBuilder sb, IReadOnlyList<ExplainedRow> rows)
    {
        sb.Append("<h3>Token attributions</h3><p class='muted'>Integrated Gradients on the input embeddings (baseline: every cell and text piece masked). ")
          .Append("Red pieces push towards the positive class, green away; hover for the value.</p>");
        foreach (var r in rows.Where(r => r.Tokens.Count > 0))
        {
            double max = r.Tokens.SelectMany(t => t.Pieces).Select(x => Math.Abs(x.Contribution)).DefaultIfEmpty(0).Max();
            sb.Append("<div class='tokens'><b>").Append(E(r.Id)).Append("</b> (probability ").Append(P(r.Probability)).Append(')');
            foreach (var (column, pieces) in r.Tokens)
            {
                sb.Append("<div><span class='muted'>").Append(E(column)).Append(":</span> ");
                foreach (var (text, v) in pieces)
                {
                    double alpha = max > 0 ? Math.Abs(v) / max * 0.85 : 0;
                    string rgb = v > 0 ? "229,62,62" : "56,161,105";
                    sb.Append("<span title='").Append(P(v, "+0.0000;-0.0000")).Append("' style='background:rgba(").Append(rgb).Append(',').Append(P(alpha, "0.00")).Append(")'>")
                      .Append(E(text)).Append("</span>");
                }
                sb.Append("</div>");
            }
            sb.Append("</div>");
        }
    }

    /// <summary>ROC (fpr, tpr) and precision–recall points, one per distinct score from the top.</summary>
    public static (double[] Fpr, double[] Tpr, double[] Recall, double[] Precision) Curves(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        int pos = labels.Count(l => l == 1), neg = labels.Count - pos;
        var fpr = new List<double> { 0 }; var tpr = new List<double> { 0 }; var rec = new List<double>(); var prec = new List<double>();
        int tp = 0, fp = 0;
        for (int k = 0; k < order.Length; k++)
        {
            if (labels[order[k]] == 1) tp++; else fp++;
            if (k + 1 < order.Length && scores[order[k + 1]] == scores[order[k]]) continue;   // ties move together
            fpr.Add(fp / (double)Math.Max(1, neg)); tpr.Add(tp / (double)Math.Max(1, pos));
            rec.Add(tp / (double)Math.Max(1, pos)); prec.Add(tp / (double)(tp + fp));
        }
        return (fpr.ToArray(), tpr.ToArray(), rec.ToArray(), prec.ToArray());
    }

    private static (double[] Grid, double[] Pos, double[] Neg, double At) KsCurves(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        int pos = labels.Count(l => l == 1), neg = labels.Count - pos;
        var grid = new List<double>(); var cp = new List<double>(); var cn = new List<double>();
        int p = 0, n = 0; double best = -1, at = 0;
        for (int k = 0; k < order.Length; k++)
        {
            if (labels[order[k]] == 1) p++; else n++;
            if (k + 1 < order.Length && scores[order[k + 1]] == scores[order[k]]) continue;
            double fp = p / (double)Math.Max(1, pos), fn = n / (double)Math.Max(1, neg);
            grid.Add(scores[order[k]]); cp.Add(fp); cn.Add(fn);
            if (Math.Abs(fn - fp) > best) { best = Math.Abs(fn - fp); at = scores[order[k]]; }
        }
        return (grid.ToArray(), cp.ToArray(), cn.ToArray(), at);
    }

    /// <summary>Reliability diagram points: mean prediction and observed rate in quantile bins of the prediction.</summary>
    public static (double[] MeanPredicted, double[] Observed) Calibration(IReadOnlyList<double> scores, IReadOnlyList<int> labels, int bins)
    {
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        var mp = new List<double>(); var ob = new List<double>();
        for (int b = 0; b < bins; b++)
        {
            int s = b * order.Length / bins, e = (b + 1) * order.Length / bins;
            if (e <= s) continue;
            mp.Add(order[s..e].Average(i => scores[i]));
            ob.Add(order[s..e].Average(i => (double)labels[i]));
        }
        return (mp.ToArray(), ob.ToArray());
    }

    private static (double[] Centers, double[] Pos, double[] Neg) Histograms(IReadOnlyList<double> scores, IReadOnlyList<int> labels, int bins)
    {
        var hp = new double[bins]; var hn = new double[bins];
        int pos = Math.Max(1, labels.Count(l => l == 1)), neg = Math.Max(1, labels.Count(l => l == 0));
        for (int i = 0; i < scores.Count; i++)
        {
            int b = Math.Clamp((int)(scores[i] * bins), 0, bins - 1);
            if (labels[i] == 1) hp[b] += 1.0 / pos; else hn[b] += 1.0 / neg;
        }
        return (Enumerable.Range(0, bins).Select(b => (b + 0.5) / bins).ToArray(), hp, hn);
    }
}
