using Jianwei.Models.Training;

namespace Jianwei.Models.Tests.Training;

public class ProgressBarTests
{
    [Fact]
    public void PrintsProgressRateAndEtaAndThrottlesLogLines()
    {
        var output = new StringWriter();
        var bar = new ProgressBar(output, "mlm", interactive: false) { LineInterval = TimeSpan.FromHours(1) };
        bar.Update(25, 100, TimeSpan.FromSeconds(30), "loss 2.5000");
        bar.Update(50, 100, TimeSpan.FromSeconds(60), "loss 2.0000");            // within the interval: not printed
        bar.Update(100, 100, TimeSpan.FromSeconds(120), "loss 1.5000", force: true);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("mlm |", lines[0]);
        Assert.Contains(" 25% 25/100 [0:30<1:30] loss 2.5000", lines[0]);   // ETA: 30 s per 25 steps, 75 to go
        Assert.Contains("100% 100/100 [2:00<--:--] loss 1.5000", lines[1]);
        Assert.Equal("1:01:05", ProgressBar.Format(TimeSpan.FromSeconds(3665)));
    }

    [Fact]
    public void InteractiveBarRedrawsInPlace()
    {
        var output = new StringWriter();
        var bar = new ProgressBar(output, "fine-tune", interactive: true);
        bar.Update(1, 4, TimeSpan.FromSeconds(1), "x");
        bar.Update(4, 4, TimeSpan.FromSeconds(4), "y", force: true);
        bar.Finish();
        var text = output.ToString();
        Assert.Equal(2, text.Count(c => c == '\r'));
        Assert.EndsWith(Environment.NewLine, text);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
