using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Jianwei.Models.Boosting;

/// <summary>Settings of <see cref="GradientBoostedTrees"/> and <see cref="LightGbmTrees"/> (XGBoost parameter names in the remarks).</summary>
public sealed record BoostingOptions
{
    /// <summary>Most boosting rounds (<c>num_boost_round</c>).</summary>
    public int MaxRounds { get; init; } = 2000;
    /// <summary>Shrinkage (<c>eta</c>).</summary>
    public double LearningRate { get; init; } = 0.05;
    /// <summary>Tree depth (<c>max_depth</c>).</summary>
    public int MaxDepth { get; init; } = 6;
    /// <summary>Leaves per tree for LightGBM, which grows trees leaf-wise (<c>num_leaves</c>; XGBoost ignores it).</summary>
    public int Leaves { get; init; } = 31;
    /// <summary>Row sampling per tree (<c>subsample</c>).</summary>
    public double Subsample { get; init; } = 0.8;
    /// <summary>Column sampling per tree (<c>colsample_bytree</c>).</summary>
    public double ColumnSample { get; init; } = 0.8;
    /// <summary>Minimum hessian in a leaf (<c>min_child_weight</c>).</summary>
    public double MinChildWeight { get; init; } = 1;
    /// <summary>L2 penalty on leaf weights (<c>lambda</c>).</summary>
    public double L2 { get; init; } = 1;
    /// <summary>Stop after this many rounds without improvement on the validation set (needs one).</summary>
    public int EarlyStoppingRounds { get; init; } = 50;
    /// <summary>Weight of positive rows (<c>scale_pos_weight</c>); "balanced" is negatives/positives.</summary>
    public double PositiveWeight { get; init; } = 1;
    /// <summary>Metric watched for early stopping: "logloss" (minimized) or "auc" (maximized).</summary>
    public string EvalMetric { get; init; } = "logloss";
    /// <summary>Threads (<c>nthread</c>); 0 = all cores.</summary>
    public int Threads { get; init; }
    /// <summary>
    /// Categorical features with at most this many categories are split one category against the rest
    /// (<c>max_cat_to_onehot</c>); larger ones by sorted partitions, which fit more and can overfit rare
    /// outcomes. Default 64: one-versus-rest for typical credit categoricals (provinces, grades).
    /// </summary>
    public int MaxCategoriesOneHot { get; init; } = 64;
    /// <summary>Random seed (<c>seed</c>); with the hist method and a fixed thread count, runs repeat exactly.</summary>
    public int Seed { get; init; }
}

/// <summary>
/// Gradient-boosted trees for binary outcomes, trained by XGBoost (<c>binary:logistic</c>, <c>hist</c>)
/// through its C API: native categorical splits, early stopping on a validation set, class
/// weighting, gain importance and per-row SHAP contributions. The model is stored as XGBoost's own
/// JSON (trimmed to the best round), so it loads in Python's xgboost too.
/// </summary>
public sealed class GradientBoostedTrees : IBoostedTrees
{
    private IntPtr _booster;

    private GradientBoostedTrees(IntPtr booster, string[] featureNames, bool[] categorical, int bestRound, double[] curve)
    {
        _booster = booster; FeatureNames = featureNames; Categorical = categorical; BestRound = bestRound; ValidationCurve = curve;
    }

    /// <summary>Feature names, in column order.</summary>
    public IReadOnlyList<string> FeatureNames { get; }
    /// <summary>Which columns are categorical (integer codes ≥ 0, NaN missing).</summary>
    public IReadOnlyList<bool> Categorical { get; }
    /// <summary>The round kept (0-based); the model holds rounds 0..BestRound.</summary>
    public int BestRound { get; }
    /// <summary>The validation metric after each round (empty without a validation set).</summary>
    public IReadOnlyList<double> ValidationCurve { get; }

    /// <summary>
    /// Trains on <paramref name="train"/> with 0/1 <paramref name="labels"/>; with a validation set, stops
    /// early and keeps the best round.
    /// </summary>
    public static unsafe GradientBoostedTrees Train(DenseMatrix train, IReadOnlyList<int> labels, BoostingOptions? options = null,
        DenseMatrix? validation = null, IReadOnlyList<int>? validationLabels = null, IReadOnlyList<string>? featureNames = null,
        IReadOnlyList<bool>? categorical = null, IProgress<(int Round, double Metric)>? progress = null)
    {
        XGBoostNative.EnsureAvailable();
        options ??= new BoostingOptions();
        train.Validate();
        if (labels.Count != train.Rows) throw new ArgumentException($"{labels.Count} labels for {train.Rows} rows.");
        if ((validation is null) != (validationLabels is null)) throw new ArgumentException("validation data and labels go together.");
        var names = featureNames?.ToArray() ?? Enumerable.Range(0, train.Columns).Select(i => $"f{i}").ToArray();
        var cats = categorical?.ToArray() ?? new bool[train.Columns];
        if (names.Length != train.Columns || cats.Length != train.Columns) throw new ArgumentException("one feature name and one categorical flag per column.");
        if (options.EvalMetric is not ("auc" or "logloss")) throw new ArgumentException($"EvalMetric must be 'auc' or 'logloss', got '{options.EvalMetric}'.");

        IntPtr dtrain = CreateMatrix(train, labels, names, cats);
        IntPtr dvalid = validation is null ? IntPtr.Zero : CreateMatrix(validation.Validate(), validationLabels!, names, cats);
        IntPtr booster = IntPtr.Zero;
        try
        {
            var handles = dvalid == IntPtr.Zero ? new[] { dtrain } : new[] { dtrain, dvalid };
            fixed (IntPtr* h = handles) XGBoostNative.Check(XGBoostNative.XGBoosterCreate(h, (ulong)handles.Length, out booster), "XGBoosterCreate");
            SetParameters(booster, options, cats.Any(c => c));
            var (bestRound, curve) = Boost(booster, dtrain, dvalid, options, progress);

            // Keep rounds 0..bestRound only, so the saved model is the one that is used.
            XGBoostNative.Check(XGBoostNative.XGBoosterBoostedRounds(booster, out int rounds), "XGBoosterBoostedRounds");
            if (bestRound + 1 < rounds)
            {
                XGBoostNative.Check(XGBoostNative.XGBoosterSlice(booster, 0, bestRound + 1, 1, out var sliced), "XGBoosterSlice");
                XGBoostNative.XGBoosterFree(booster);
                booster = sliced;
            }
            // The slice does not carry feature names and types over; set them on the booster itself.
            SetStrings(booster, "feature_name", names, onBooster: true);
            SetStrings(booster, "feature_type", cats.Select(c => c ? "c" : "q").ToArray(), onBooster: true);
            var model = new GradientBoostedTrees(booster, names, cats, bestRound, curve);
            booster = IntPtr.Zero;
            return model;
        }
        finally
        {
            if (booster != IntPtr.Zero) XGBoostNative.XGBoosterFree(booster);
            XGBoostNative.XGDMatrixFree(dtrain);
            if (dvalid != IntPtr.Zero) XGBoostNative.XGDMatrixFree(dvalid);
        }
    }

    /// <summary>XGBoost's parameters from <paramref name="options"/>: hist trees for a logistic objective.</summary>
    private static void SetParameters(IntPtr booster, BoostingOptions options, bool anyCategorical)
    {
        void Set(string k, string v) => XGBoostNative.Check(XGBoostNative.XGBoosterSetParam(booster, k, v), $"set {k}={v}");
        static string F(double d) => d.ToString("R", CultureInfo.InvariantCulture);
        Set("objective", "binary:logistic");
        Set("tree_method", "hist");
        Set("eta", F(options.LearningRate));
        Set("max_depth", options.MaxDepth.ToString(CultureInfo.InvariantCulture));
        Set("subsample", F(options.Subsample));
        Set("colsample_bytree", F(options.ColumnSample));
        Set("min_child_weight", F(options.MinChildWeight));
        Set("lambda", F(options.L2));
        Set("scale_pos_weight", F(options.PositiveWeight));
        Set("eval_metric", options.EvalMetric);
        Set("seed", options.Seed.ToString(CultureInfo.InvariantCulture));
        Set("nthread", (options.Threads > 0 ? options.Threads : Environment.ProcessorCount).ToString(CultureInfo.InvariantCulture));
        Set("verbosity", "0");
        if (anyCategorical) Set("max_cat_to_onehot", options.MaxCategoriesOneHot.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Boosting rounds; with validation rows, each round's metric on them, stopping
    /// <see cref="BoostingOptions.EarlyStoppingRounds"/> after the best. Returns the best round and the curve.
    /// </summary>
    private static unsafe (int BestRound, double[] Curve) Boost(IntPtr booster, IntPtr dtrain, IntPtr dvalid, BoostingOptions options, IProgress<(int Round, double Metric)>? progress)
    {
        bool maximize = options.EvalMetric == "auc";
        var curve = new List<double>();
        double best = maximize ? double.NegativeInfinity : double.PositiveInfinity;
        int bestRound = options.MaxRounds - 1;
        var evalName = Marshal.StringToCoTaskMemUTF8("valid");
        try
        {
            for (int round = 0; round < options.MaxRounds; round++)
            {
                XGBoostNative.Check(XGBoostNative.XGBoosterUpdateOneIter(booster, round, dtrain), "XGBoosterUpdateOneIter");
                if (dvalid == IntPtr.Zero) continue;
                IntPtr result;
                IntPtr dv = dvalid, nm = evalName;
                XGBoostNative.Check(XGBoostNative.XGBoosterEvalOneIter(booster, round, &dv, &nm, 1, out result), "XGBoosterEvalOneIter");
                // "[12]\tvalid-logloss:0.23456"
                var text = Marshal.PtrToStringUTF8(result)!;
                double metric = double.Parse(text[(text.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
                curve.Add(metric);
                progress?.Report((round, metric));
                if (maximize ? metric > best : metric < best) { best = metric; bestRound = round; }
                else if (round - bestRound >= options.EarlyStoppingRounds) break;
            }
        }
        finally { Marshal.FreeCoTaskMem(evalName); }
        return (bestRound, [.. curve]);
    }

    private static unsafe IntPtr CreateMatrix(DenseMatrix m, IReadOnlyList<int>? labels, string[] names, bool[] categorical)
    {
        // XGBoost reads NaN as missing but stops with a native error on ±infinity; features are checked
        // upstream (ValueParser refuses numbers beyond float32), so an infinity here is a caller's bug.
        for (int i = 0; i < m.Values.Length; i++)
            if (float.IsInfinity(m.Values[i]))
                throw new ArgumentException($"Feature '{names[i % m.Columns]}' holds {m.Values[i]} at row {i / m.Columns}: values must be finite (NaN for missing).");
        for (int j = 0; j < m.Columns; j++)
            if (categorical[j])
                for (int i = 0; i < m.Rows; i++)
                {
                    float v = m.Values[i * m.Columns + j];
                    if (!float.IsNaN(v) && (v < 0 || v != MathF.Floor(v)))
                        throw new ArgumentException($"Categorical feature '{names[j]}' holds {v} at row {i}: codes must be whole numbers ≥ 0 (NaN for missing).");
                }
        IntPtr handle;
        fixed (float* p = m.Values) XGBoostNative.Check(XGBoostNative.XGDMatrixCreateFromMat(p, (ulong)m.Rows, (ulong)m.Columns, float.NaN, out handle), "XGDMatrixCreateFromMat");
        try
        {
            if (labels is not null)
            {
                var y = labels.Select(l => l is 0 or 1 ? (float)l : throw new ArgumentException($"labels must be 0 or 1, found {l}.")).ToArray();
                fixed (float* py = y) XGBoostNative.Check(XGBoostNative.XGDMatrixSetFloatInfo(handle, "label", py, (ulong)y.Length), "set labels");
            }
            SetStrings(handle, "feature_name", names);
            SetStrings(handle, "feature_type", categorical.Select(c => c ? "c" : "q").ToArray());
            return handle;
        }
        catch
        {
            XGBoostNative.XGDMatrixFree(handle);
            throw;
        }
    }

    private static unsafe void SetStrings(IntPtr handle, string field, string[] values, bool onBooster = false)
    {
        var ptrs = values.Select(Marshal.StringToCoTaskMemUTF8).ToArray();
        try
        {
            fixed (IntPtr* p = ptrs)
                XGBoostNative.Check(onBooster
                    ? XGBoostNative.XGBoosterSetStrFeatureInfo(handle, field, p, (ulong)ptrs.Length)
                    : XGBoostNative.XGDMatrixSetStrFeatureInfo(handle, field, p, (ulong)ptrs.Length), $"set {field}");
        }
        finally { foreach (var ptr in ptrs) Marshal.FreeCoTaskMem(ptr); }
    }

    private static unsafe string[] GetStrings(IntPtr booster, string field)
    {
        XGBoostNative.Check(XGBoostNative.XGBoosterGetStrFeatureInfo(booster, field, out ulong n, out IntPtr* values), $"get {field}");
        var result = new string[n];
        for (ulong i = 0; i < n; i++) result[i] = Marshal.PtrToStringUTF8(values[i])!;
        return result;
    }

    private unsafe float[] Predict(DenseMatrix m, int type, out ulong[] shape)
    {
        ObjectDisposedException.ThrowIf(_booster == IntPtr.Zero, this);
        if (m.Validate().Columns != FeatureNames.Count)
            throw new ArgumentException($"The model has {FeatureNames.Count} features; the data has {m.Columns} columns.");
        IntPtr dm = CreateMatrix(m, null, [.. FeatureNames], [.. Categorical]);
        try
        {
            string config = $"{{\"type\": {type}, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, \"strict_shape\": false}}";
            XGBoostNative.Check(XGBoostNative.XGBoosterPredictFromDMatrix(_booster, dm, config, out ulong* s, out ulong dim, out float* result), "predict");
            shape = new ulong[dim];
            ulong total = 1;
            for (ulong i = 0; i < dim; i++) { shape[i] = s[i]; total *= s[i]; }
            return new ReadOnlySpan<float>(result, checked((int)total)).ToArray();   // XGBoost owns the buffer until the next call
        }
        finally { XGBoostNative.XGDMatrixFree(dm); }
    }

    /// <summary>Probability of the positive class for each row.</summary>
    public float[] PredictProbability(DenseMatrix m) => Predict(m, 0, out _);

    /// <summary>Log-odds for each row.</summary>
    public float[] PredictMargin(DenseMatrix m) => Predict(m, 1, out _);

    /// <summary>
    /// SHAP contributions (TreeSHAP) to the log-odds, [rows, features + 1] row-major; the last column is
    /// the bias. Each row sums to its margin.
    /// </summary>
    public float[] PredictContributions(DenseMatrix m) => Predict(m, 2, out _);

    double[] IBoostedTrees.Probabilities(DenseMatrix m) => PredictProbability(m).Select(v => (double)v).ToArray();
    double[] IBoostedTrees.Contributions(DenseMatrix m) => PredictContributions(m).Select(v => (double)v).ToArray();

    /// <summary>Total gain of each feature's splits (features never used are absent).</summary>
    public unsafe Dictionary<string, double> GainImportance()
    {
        XGBoostNative.Check(XGBoostNative.XGBoosterFeatureScore(_booster, "{\"importance_type\": \"total_gain\"}", out ulong n, out IntPtr* features, out _, out _, out float* scores), "feature importance");
        var d = new Dictionary<string, double>();
        for (ulong i = 0; i < n; i++) d[Marshal.PtrToStringUTF8(features[i])!] = scores[i];
        return d;
    }

    /// <summary>The model as XGBoost JSON (UTF-8).</summary>
    public unsafe byte[] ToJson()
    {
        XGBoostNative.Check(XGBoostNative.XGBoosterSaveModelToBuffer(_booster, "{\"format\": \"json\"}", out ulong len, out byte* data), "save model");
        return new ReadOnlySpan<byte>(data, checked((int)len)).ToArray();
    }

    /// <summary>
    /// Loads a model saved with <see cref="ToJson"/> (feature names and types come with it), read from
    /// <paramref name="file"/>. The JSON is validated first (<see cref="BoosterJson.Validate"/>): XGBoost
    /// never sees a model that could make it crash or loop; problems are <see cref="Serialization.ModelFormatException"/>s.
    /// </summary>
    public static unsafe GradientBoostedTrees FromJson(byte[] json, string file = "xgboost.json")
    {
        var valid = BoosterJson.Validate(json, file);
        XGBoostNative.EnsureAvailable();
        XGBoostNative.Check(XGBoostNative.XGBoosterCreate(null, 0, out var booster), "XGBoosterCreate");
        try
        {
            try
            {
                fixed (byte* p = valid.Json) XGBoostNative.Check(XGBoostNative.XGBoosterLoadModelFromBuffer(booster, p, (ulong)valid.Json.Length), "load model");
            }
            catch (XGBoostException e) { throw new Serialization.ModelFormatException(file, null, e.Message); }
            XGBoostNative.Check(XGBoostNative.XGBoosterBoostedRounds(booster, out int rounds), "XGBoosterBoostedRounds");
            var names = GetStrings(booster, "feature_name");
            var types = GetStrings(booster, "feature_type").Select(t => t == "c").ToArray();
            if (names.Length != valid.Features || types.Length != valid.Features)
                throw new Serialization.ModelFormatException(file, "learner.feature_names", $"the model needs a name and a type for each of its {valid.Features} features.");
            return new GradientBoostedTrees(booster, names, types, rounds - 1, []);
        }
        catch
        {
            XGBoostNative.XGBoosterFree(booster);
            throw;
        }
    }

    /// <summary>Frees the native model.</summary>
    public void Dispose()
    {
        if (_booster != IntPtr.Zero) { XGBoostNative.XGBoosterFree(_booster); _booster = IntPtr.Zero; }
    }
}
