using Jianwei.Evaluation.Reports;

namespace Jianwei.Evaluation.Tests;

public class HtmlReportTests
{
    [Fact]
    public void TokenAttributionsShadeEachPieceByItsShareOfTheRowsLargest()
    {
        var row = new ExplainedRow("C000001", 0.8, 1, [("recruitment", 0.6)])
        {
            Tokens = [("recruitment", [("招聘", 0.1), ("清收<专员>", 0.5), ("厨师", -0.1), ("。", 0.0)])],
        };
        var html = HtmlReport.Render(new ReportContent { Title = "t", Scores = [0.8, 0.2], Labels = [1, 0], Threshold = 0.5, Examples = [row] });
        Assert.Contains("Token attributions", html);
        // The largest |contribution| (0.5) gets opacity 0.85; 0.1 gets 0.17; red towards the positive class, green away.
        Assert.Contains("<span title='+0.5000' style='background:rgba(229,62,62,0.85)'>清收&lt;专员&gt;</span>", html);
        Assert.Contains("<span title='+0.1000' style='background:rgba(229,62,62,0.17)'>招聘</span>", html);
        Assert.Contains("<span title='-0.1000' style='background:rgba(56,161,105,0.17)'>厨师</span>", html);
        Assert.Contains("rgba(56,161,105,0.00)'>。</span>", html);
        // Without token lists, no section.
        var plain = HtmlReport.Render(new ReportContent { Title = "t", Scores = [0.8, 0.2], Labels = [1, 0], Threshold = 0.5, Examples = [row with { Tokens = [] }] });
        Assert.DoesNotContain("Token attributions", plain);
    }
}
