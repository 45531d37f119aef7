using System.Globalization;
using System.Net;
using System.Text;

namespace Jianwei.Evaluation.Reports;

/// <summary>One line of a chart.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values.</param>
/// <param name="Color">CSS color.</param>
/// <param name="Dashed">Drawn dashed (references such as the diagonal).</param>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, string Color, bool Dashed = false);

/// <summary>
/// Small charts as inline SVG text, so a report is one file that opens anywhere with no network and
/// no script: line charts with axes, ticks and a legend, and horizontal bar charts.
/// </summary>
public static class SvgChart
{
    private const int Width = 420, Height = 300, Left = 52, Right = 14, Top = 28, Bottom = 44;

    /// <summary>The CSS the charts' classes need (grid, frame, ticks, axis labels, title, legend), for a page's style sheet.</summary>
    public const string Style = ".grid{stroke:#edf2f7}.frame{fill:none;stroke:#a0aec0}.tick{font-size:10px;fill:#4a5568}.axis{font-size:11px;fill:#2d3748}.title{font-size:13px;font-weight:600}.legend{font-size:10px}";

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    private static string E(string s) => WebUtility.HtmlEncode(s);

    /// <summary>A line chart of <paramref name="series"/> over fixed axis ranges.</summary>
    public static string Lines(string title, string xLabel, string yLabel, IReadOnlyList<Series> series,
                               double xMin = 0, double xMax = 1, double yMin = 0, double yMax = 1)
    {
        if (xMax <= xMin) xMax = xMin + 1;
        if (yMax <= yMin) yMax = yMin + 1;
        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double Px(double x) => Left + (Math.Clamp(x, xMin, xMax) - xMin) / (xMax - xMin) * plotW;
        double Py(double y) => Top + plotH - (Math.Clamp(y, yMin, yMax) - yMin) / (yMax - yMin) * plotH;
        var sb = Open(title);
        for (int i = 0; i <= 5; i++)   // grid and ticks
        {
            double fx = xMin + (xMax - xMin) * i / 5, fy = yMin + (yMax - yMin) * i / 5;
            sb.Append(CultureInfo.InvariantCulture, $"<line x1='{F(Px(fx))}' y1='{Top}' x2='{F(Px(fx))}' y2='{F(Top + plotH)}' class='grid'/>");
            sb.Append(CultureInfo.InvariantCulture, $"<line x1='{Left}' y1='{F(Py(fy))}' x2='{F(Left + plotW)}' y2='{F(Py(fy))}' class='grid'/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x='{F(Px(fx))}' y='{F(Top + plotH + 14)}' class='tick' text-anchor='middle'>{Tick(fx)}</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x='{Left - 5}' y='{F(Py(fy) + 4)}' class='tick' text-anchor='end'>{Tick(fy)}</text>");
        }
        sb.Append(CultureInfo.InvariantCulture, $"<rect x='{Left}' y='{Top}' width='{F(plotW)}' height='{F(plotH)}' class='frame'/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x='{F(Left + plotW / 2)}' y='{Height - 8}' class='axis' text-anchor='middle'>{E(xLabel)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x='14' y='{F(Top + plotH / 2)}' class='axis' text-anchor='middle' transform='rotate(-90 14 {F(Top + plotH / 2)})'>{E(yLabel)}</text>");
        int legendY = Top + 14;
        foreach (var s in series)
        {
            if (s.X.Count == 0) continue;
            var points = string.Join(" ", Thin(s.X, s.Y).Select(p => $"{F(Px(p.X))},{F(Py(p.Y))}"));
            sb.Append(CultureInfo.InvariantCulture, $"<polyline points='{points}' fill='none' stroke='{s.Color}' stroke-width='2'{(s.Dashed ? " stroke-dasharray='4 4'" : "")}/>");
            sb.Append(CultureInfo.InvariantCulture, $"<line x1='{F(Left + plotW - 130)}' y1='{legendY - 4}' x2='{F(Left + plotW - 112)}' y2='{legendY - 4}' stroke='{s.Color}' stroke-width='2'{(s.Dashed ? " stroke-dasharray='4 4'" : "")}/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x='{F(Left + plotW - 108)}' y='{legendY}' class='legend'>{E(s.Name)}</text>");
            legendY += 15;
        }
        return sb.Append("</svg>").ToString();
    }

    /// <summary>Horizontal bars, largest first, with the value printed at each bar's end.</summary>
    public static string Bars(string title, IReadOnlyList<(string Label, double Value)> bars, string color = "#2b6cb0", string format = "0.000")
    {
        int rowH = 20, labelW = 150, height = Top + rowH * Math.Max(1, bars.Count) + 16;
        double max = bars.Count == 0 ? 1 : Math.Max(1e-12, bars.Max(b => Math.Abs(b.Value)));
        var sb = Open(title, height);
        double plotW = Width - labelW - 60;
        for (int i = 0; i < bars.Count; i++)
        {
            var (label, value) = bars[i];
            double y = Top + i * rowH, w = Math.Abs(value) / max * plotW;
            string fill = value < 0 ? "#c05621" : color;
            sb.Append(CultureInfo.InvariantCulture, $"<text x='{labelW - 6}' y='{F(y + 14)}' class='tick' text-anchor='end'>{E(label.Length > 24 ? label[..23] + "…" : label)}</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<rect x='{labelW}' y='{F(y + 3)}' width='{F(Math.Max(w, 1))}' height='{rowH - 6}' fill='{fill}'/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x='{F(labelW + w + 4)}' y='{F(y + 14)}' class='tick'>{E(value.ToString(format, CultureInfo.InvariantCulture))}</text>");
        }
        return sb.Append("</svg>").ToString();
    }

    private static StringBuilder Open(string title, int height = Height) => new StringBuilder()
        .Append(CultureInfo.InvariantCulture, $"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {Width} {height}' width='{Width}' height='{height}' role='img' aria-label='{E(title)}'>")
        .Append(CultureInfo.InvariantCulture, $"<text x='{Width / 2}' y='17' class='title' text-anchor='middle'>{E(title)}</text>");

    private static string Tick(double v) => Math.Abs(v) >= 100 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>At most ~400 points per line: every k-th, always the last.</summary>
    private static IEnumerable<(double X, double Y)> Thin(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        int n = Math.Min(x.Count, y.Count), step = Math.Max(1, n / 400);
        for (int i = 0; i < n; i += step) yield return (x[i], y[i]);
        if ((n - 1) % step != 0) yield return (x[n - 1], y[n - 1]);
    }
}
