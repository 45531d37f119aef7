using System.Globalization;
using System.Text;

namespace Jianwei.Models.Boosting;

/// <summary>
/// Gradient-boosted trees for binary outcomes trained by LightGBM (leaf-wise growth, histogram
/// splits, native categorical splits) through its C API, with the same contract as
/// <see cref="GradientBoostedTrees"/>: early stopping on a validation set, the model trimmed to its
/// best round, per-row SHAP contributions, gain importance. Settings come from
/// <see cref="BoostingOptions"/> (<see cref="BoostingOptions.Leaves"/> is LightGBM's own). The model is
/// stored as LightGBM's text format; a bundle checks its SHA-256 before LightGBM reads it.
/// </summary>
public sealed class LightGbmTrees : IBoostedTrees
{
    private IntPtr _booster;

    /// <summary>Feature names, in column order (kept here: LightGBM's own names are Column_i).</summary>
    public IReadOnlyList<string> FeatureNames { get; }
    /// <summary>Which features are categorical codes.</summary>
    public IReadOnlyList<bool> Categorical { get; }
    /// <summary>The round kept (0-based).</summary>
    public int BestRound { get; }
    /// <summary>The validation metric after each round (empty without validation data, or when loaded).</summary>
    public IReadOnlyList<double> ValidationCurve { get; }

    private LightGbmTrees(IntPtr booster, string[] names, bool[] categorical, int bestRound, double[] curve)
    {
        _booster = booster; FeatureNames = names; Categorical = categorical; BestRound = bestRound; ValidationCurve = curve;
    }

    /// <summary>
    /// Trains on <paramref name="train"/> with 0/1 <paramref name="labels"/>; with a validation set, stops
    /// <see cref="BoostingOptions.EarlyStoppingRounds"/> rounds after the best and keeps it.
    /// </summary>
    public static unsafe LightGbmTrees Train(DenseMatrix train, IReadOnlyList<int> labels, BoostingOptions? options = null,
        DenseMatrix? validation = null, IReadOnlyList<int>? validationLabels = null, IReadOnlyList<string>? featureNames = null, IReadOnlyList<bool>? categorical = null)
    {
        LightGbmNative.EnsureAvailable();
        options ??= new BoostingOptions();
        train.Validate();
        if (labels.Count != train.Rows) throw new ArgumentException($"{labels.Count} labels for {train.Rows} rows.");
        if ((validation is null) != (validationLabels is null)) throw new ArgumentException("validation data and labels go together.");
        if (options.EvalMetric is not ("auc" or "logloss")) throw new ArgumentException($"EvalMetric must be 'auc' or 'logloss', got '{options.EvalMetric}'.");
        var names = featureNames?.ToArray() ?? Enumerable.Range(0, train.Columns).Select(i => $"f{i}").ToArray();
        var cats = categorical?.ToArray() ?? new bool[train.Columns];
        if (names.Length != train.Columns || cats.Length != train.Columns) throw new ArgumentException("one feature name and one categorical flag per column.");
        string datasetParameters = DatasetParameters(options, cats);
        IntPtr dtrain = CreateDataset(train, labels, datasetParameters, IntPtr.Zero);
        IntPtr dvalid = IntPtr.Zero, booster = IntPtr.Zero;
        try
        {
            if (validation is not null) dvalid = CreateDataset(validation.Validate(), validationLabels!, datasetParameters, dtrain);
            LightGbmNative.Check(LightGbmNative.LGBM_BoosterCreate(dtrain, BoosterParameters(options), out booster), "BoosterCreate");
            if (dvalid != IntPtr.Zero) LightGbmNative.Check(LightGbmNative.LGBM_BoosterAddValidData(booster, dvalid), "BoosterAddValidData");
            var (bestRound, curve) = Boost(booster, dvalid != IntPtr.Zero, options);
            // Keep rounds 0..bestRound only, so the saved model is the one that is used.
            var trimmed = LoadText(SaveText(booster, bestRound + 1), out _);
            LightGbmNative.LGBM_BoosterFree(booster);
            booster = IntPtr.Zero;
            return new LightGbmTrees(trimmed, names, cats, bestRound, curve);
        }
        finally
        {
            if (booster != IntPtr.Zero) LightGbmNative.LGBM_BoosterFree(booster);
            if (dvalid != IntPtr.Zero) LightGbmNative.LGBM_DatasetFree(dvalid);
            LightGbmNative.LGBM_DatasetFree(dtrain);
        }
    }

    /// <summary>Binning and categorical columns (the validation set reuses the training set's bins).</summary>
    private static string DatasetParameters(BoostingOptions o, bool[] categorical)
    {
        var cats = Enumerable.Range(0, categorical.Length).Where(j => categorical[j]).ToArray();
        return "verbose=-1 max_bin=255" + (cats.Length > 0 ? " categorical_feature=" + string.Join(",", cats) : "")
               + $" max_cat_to_onehot={o.MaxCategoriesOneHot}";
    }

    /// <summary>LightGBM's parameters from <paramref name="o"/>; column-wise histograms and <c>deterministic</c> so that runs repeat exactly.</summary>
    private static string BoosterParameters(BoostingOptions o)
    {
        static string F(double d) => d.ToString("R", CultureInfo.InvariantCulture);
        int threads = o.Threads > 0 ? o.Threads : Environment.ProcessorCount;
        return string.Join(" ",
            "objective=binary", "verbose=-1", "deterministic=true", "force_col_wise=true",
            $"learning_rate={F(o.LearningRate)}", $"num_leaves={o.Leaves}", $"max_depth={o.MaxDepth}",
            $"bagging_fraction={F(o.Subsample)}", $"bagging_freq={(o.Subsample < 1 ? 1 : 0)}", $"feature_fraction={F(o.ColumnSample)}",
            $"min_sum_hessian_in_leaf={F(o.MinChildWeight)}", $"lambda_l2={F(o.L2)}", $"scale_pos_weight={F(o.PositiveWeight)}",
            $"metric={(o.EvalMetric == "auc" ? "auc" : "binary_logloss")}", $"seed={o.Seed}", $"num_threads={threads}",
            $"max_cat_to_onehot={o.MaxCategoriesOneHot}");
    }

    private static unsafe IntPtr CreateDataset(DenseMatrix m, IReadOnlyList<int> labels, string parameters, IntPtr reference)
    {
        for (int i = 0; i < m.Values.Length; i++)
            if (float.IsInfinity(m.Values[i])) throw new ArgumentException($"feature value {m.Values[i]} at row {i / m.Columns}, column {i % m.Columns}: LightGBM takes NaN as missing but no infinities.");
        IntPtr handle;
        fixed (float* p = m.Values)
            LightGbmNative.Check(LightGbmNative.LGBM_DatasetCreateFromMat(p, LightGbmNative.Float32, m.Rows, m.Columns, 1, parameters, reference, out handle), "DatasetCreateFromMat");
        var y = labels.Select(l => (float)l).ToArray();
        try
        {
            fixed (float* py = y) LightGbmNative.Check(LightGbmNative.LGBM_DatasetSetField(handle, "label", py, y.Length, LightGbmNative.Float32), "DatasetSetField(label)");
            return handle;
        }
        catch { LightGbmNative.LGBM_DatasetFree(handle); throw; }
    }

    /// <summary>Boosting rounds; with validation rows, stops <see cref="BoostingOptions.EarlyStoppingRounds"/> after the best. Returns the best round and the curve.</summary>
    private static unsafe (int BestRound, double[] Curve) Boost(IntPtr booster, bool validated, BoostingOptions o)
    {
        bool maximize = o.EvalMetric == "auc";
        var curve = new List<double>();
        double best = maximize ? double.NegativeInfinity : double.PositiveInfinity;
        int bestRound = o.MaxRounds - 1;
        double metric = 0;
        for (int round = 0; round < o.MaxRounds; round++)
        {
            LightGbmNative.Check(LightGbmNative.LGBM_BoosterUpdateOneIter(booster, out int finished), "BoosterUpdateOneIter");
            if (finished != 0) { bestRound = Math.Min(bestRound, round); break; }   // no split gains anything any more
            if (!validated) continue;
            LightGbmNative.Check(LightGbmNative.LGBM_BoosterGetEval(booster, 1, out int count, &metric), "BoosterGetEval");
            curve.Add(metric);
            if (maximize ? metric > best : metric < best) { best = metric; bestRound = round; }
            else if (round - bestRound >= o.EarlyStoppingRounds) break;
        }
        LightGbmNative.Check(LightGbmNative.LGBM_BoosterGetCurrentIteration(booster, out int done), "BoosterGetCurrentIteration");
        return (Math.Min(bestRound, Math.Max(0, done - 1)), [.. curve]);
    }

    private unsafe double[] Predict(DenseMatrix m, int type, int width)
    {
        ObjectDisposedException.ThrowIf(_booster == IntPtr.Zero, this);
        if (m.Validate().Columns != FeatureNames.Count)
            throw new ArgumentException($"The model has {FeatureNames.Count} features; the data has {m.Columns} columns.");
        var result = new double[m.Rows * width];
        if (m.Rows == 0) return result;
        fixed (float* p = m.Values)
        fixed (double* r = result)
            LightGbmNative.Check(LightGbmNative.LGBM_BoosterPredictForMat(_booster, p, LightGbmNative.Float32, m.Rows, m.Columns, 1, type, 0, -1, "num_threads=1", out long length, r), "predict");
        return result;
    }

    /// <summary>Probability of the positive class for each row.</summary>
    public double[] PredictProbability(DenseMatrix m) => Predict(m, LightGbmNative.PredictNormal, 1);

    /// <summary>Log-odds for each row.</summary>
    public double[] PredictMargin(DenseMatrix m) => Predict(m, LightGbmNative.PredictRawScore, 1);

    /// <summary>SHAP contributions to the log-odds, [rows, features + 1] row-major; the last column is the bias. Each row sums to its margin.</summary>
    public double[] PredictContributions(DenseMatrix m) => Predict(m, LightGbmNative.PredictContrib, FeatureNames.Count + 1);

    double[] IBoostedTrees.Probabilities(DenseMatrix m) => PredictProbability(m);
    double[] IBoostedTrees.Contributions(DenseMatrix m) => PredictContributions(m);

    /// <summary>Total gain of each feature's splits (features never used are absent).</summary>
    public unsafe Dictionary<string, double> GainImportance()
    {
        var gain = new double[FeatureNames.Count];
        fixed (double* g = gain) LightGbmNative.Check(LightGbmNative.LGBM_BoosterFeatureImportance(_booster, 0, LightGbmNative.ImportanceGain, g), "feature importance");
        return Enumerable.Range(0, gain.Length).Where(j => gain[j] > 0).ToDictionary(j => FeatureNames[j], j => gain[j]);
    }

    /// <summary>The model in LightGBM's text format (UTF-8).</summary>
    public byte[] ToText() => SaveText(_booster, -1);

    /// <summary>
    /// Loads a model saved with <see cref="ToText"/>, for features named <paramref name="featureNames"/>
    /// (and <paramref name="categorical"/>), after <see cref="LightGbmText.Validate"/> has checked every line
    /// of it; a model that fails, one LightGBM refuses, or one with another number of features is a
    /// <see cref="Serialization.ModelFormatException"/> naming <paramref name="file"/>.
    /// </summary>
    public static LightGbmTrees FromText(byte[] text, IReadOnlyList<string> featureNames, IReadOnlyList<bool> categorical, string file = "lightgbm.txt")
    {
        LightGbmNative.EnsureAvailable();
        if (categorical.Count != featureNames.Count) throw new ArgumentException("one categorical flag per feature name.");
        LightGbmText.Validate(text, categorical, file);   // LightGBM trusts its model files: nothing it reads is unchecked
        IntPtr booster;
        int iterations;
        try { booster = LoadText(text, out iterations); }
        catch (LightGbmException e) { throw new Serialization.ModelFormatException(file, null, e.Message); }
        try
        {
            LightGbmNative.Check(LightGbmNative.LGBM_BoosterGetNumFeature(booster, out int features), "BoosterGetNumFeature");
            if (features != featureNames.Count || categorical.Count != featureNames.Count)
                throw new Serialization.ModelFormatException(file, "max_feature_idx", $"the model has {features} features; {featureNames.Count} were expected.");
            return new LightGbmTrees(booster, [.. featureNames], [.. categorical], iterations - 1, []);
        }
        catch
        {
            LightGbmNative.LGBM_BoosterFree(booster);
            throw;
        }
    }

    private static unsafe byte[] SaveText(IntPtr booster, int iterations)
    {
        LightGbmNative.Check(LightGbmNative.LGBM_BoosterSaveModelToString(booster, 0, iterations, 0, 0, out long length, null), "save model");
        var buffer = new byte[length];
        fixed (byte* b = buffer) LightGbmNative.Check(LightGbmNative.LGBM_BoosterSaveModelToString(booster, 0, iterations, 0, length, out length, b), "save model");
        int end = Array.IndexOf(buffer, (byte)0);   // the C string's terminator
        return end < 0 ? buffer : buffer[..end];
    }

    private static unsafe IntPtr LoadText(byte[] text, out int iterations)
    {
        var z = new byte[text.Length + 1];
        text.CopyTo(z, 0);
        IntPtr booster;
        fixed (byte* p = z) LightGbmNative.Check(LightGbmNative.LGBM_BoosterLoadModelFromString(p, out iterations, out booster), "load model");
        return booster;
    }

    /// <summary>Frees the native model.</summary>
    public void Dispose()
    {
        if (_booster != IntPtr.Zero) { LightGbmNative.LGBM_BoosterFree(_booster); _booster = IntPtr.Zero; }
    }
}
