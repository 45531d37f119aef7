using System.Globalization;
using System.Text;

namespace Jianwei.Data;

/// <summary>The generated companies, with their ground truth.</summary>
public sealed class SmeDataset(SmeDataOptions options, List<SmeCompany> labeled, List<SmeCompany> unlabeled, double intercept)
{
    /// <summary>The options it was generated with.</summary>
    public SmeDataOptions Options { get; } = options;
    /// <summary>Companies with a label.</summary>
    public IReadOnlyList<SmeCompany> Labeled { get; } = labeled;
    /// <summary>Companies without a label.</summary>
    public IReadOnlyList<SmeCompany> Unlabeled { get; } = unlabeled;
    /// <summary>The calibrated intercept b of the risk model.</summary>
    public double Intercept { get; } = intercept;

    /// <summary>Share of defaults among labeled companies.</summary>
    public double DefaultRate => Labeled.Count == 0 ? 0 : Labeled.Average(c => c.Default);

    /// <summary>ROC-AUC of the true probability (σ(z − ε)) on the labeled companies: the best a model can reach.</summary>
    public double TrueScoreAuc => Auc(Labeled.Select(c => c.TrueProbability).ToArray(), Labeled.Select(c => c.Default).ToArray());

    /// <summary>Column names of the files, label last.</summary>
    public static readonly string[] Columns =
        ["company_id", "registered_capital", "years_since_founding", "employees", "industry", "province", "tax_grade",
         "revenue_growth", "debt_ratio", "overdue_count", "court_cases", "profile", "recruitment", "changes", "default"];

    /// <summary>Whether a file starts with the header this class writes (so it is, in all likelihood, a file it wrote).</summary>
    public static bool HasOurHeader(string path)
    {
        try
        {
            using var reader = new StreamReader(path, new UTF8Encoding(false));
            var first = reader.ReadLine();
            return first == string.Join(",", Columns) || first == string.Join(",", Columns[..^1]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>Writes <c>labeled.csv</c> and <c>unlabeled.csv</c> (UTF-8, RFC 4180) into a folder; returns their paths.</summary>
    public (string Labeled, string Unlabeled) Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var a = Path.Combine(directory, "labeled.csv");
        var b = Path.Combine(directory, "unlabeled.csv");
        WriteCsv(a, Labeled, withLabel: true);
        WriteCsv(b, Unlabeled, withLabel: false);
        return (a, b);
    }

    /// <summary>Writes companies as CSV, atomically.</summary>
    public static void WriteCsv(string path, IEnumerable<SmeCompany> companies, bool withLabel)
    {
        var tmp = path + $".{Guid.NewGuid():N}.tmp";
        using (var w = new StreamWriter(tmp, false, new UTF8Encoding(false), 1 << 16))
        {
            w.Write(string.Join(",", withLabel ? Columns : Columns[..^1]));
            w.Write('\n');
            foreach (var c in companies)
            {
                string?[] fields = [c.CompanyId, c.RegisteredCapital, c.YearsSinceFounding, c.Employees, c.Industry, c.Province, c.TaxGrade,
                                    c.RevenueGrowth, c.DebtRatio, c.OverdueCount, c.CourtCases, c.Profile, c.Recruitment, c.Changes];
                for (int i = 0; i < fields.Length; i++)
                {
                    if (i > 0) w.Write(',');
                    w.Write(CsvFormat.Field(fields[i]));
                }
                if (withLabel) { w.Write(','); w.Write(c.Default.ToString(CultureInfo.InvariantCulture)); }
                w.Write('\n');
            }
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>ROC-AUC by the rank-sum (Mann–Whitney) statistic, ties counted half.</summary>
    internal static double Auc(double[] score, int[] label)
    {
        var order = Enumerable.Range(0, score.Length).OrderBy(i => score[i]).ToArray();
        double rankSumPos = 0; long pos = label.Count(l => l == 1), neg = label.Length - pos;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && score[order[j + 1]] == score[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) if (label[order[k]] == 1) rankSumPos += rank;
            i = j + 1;
        }
        return pos == 0 || neg == 0 ? double.NaN : (rankSumPos - pos * (pos + 1) / 2.0) / (pos * (double)neg);
    }
}
