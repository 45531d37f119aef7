namespace Jianwei.Tensors.Tests;

/// <summary>
/// Finite-difference gradient checks. The scalar checked is L = Σ f(inputs) ⊙ R for a fixed random R,
/// so every output element's gradient path is exercised with a distinct weight.
/// Tolerance rule: |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|), with central
/// differences of step h; float32 forward passes bound the achievable accuracy to about 1e-3.
/// </summary>
public static class GradCheck
{
    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, float h = 1e-2f, float atol = 2e-3f, float rtol = 2e-2f, int maxPerInput = 80)
    {
        foreach (var t in inputs) { t.RequiresGrad = true; t.Grad = null; }
        var output = f(inputs);
        var rng = new Rng(4242);
        var r = Tensor.Uniform(rng, -1f, 1f, output.ShapeArray);
        var loss = (output * r).SumAll();
        loss.Backward();
        var analytic = inputs.Select(t => t.Grad?.ToArray() ?? new float[t.Length]).ToArray();

        double Eval()
        {
            using var _ = GradMode.NoGrad();
            var o = f(inputs).Data;
            double s = 0;
            for (int i = 0; i < o.Length; i++) s += (double)o[i] * r.Data[i];
            return s;
        }

        var pick = new Rng(7);
        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            var idx = Enumerable.Range(0, x.Length).ToArray();
            if (idx.Length > maxPerInput) { pick.Shuffle(idx.AsSpan()); idx = idx[..maxPerInput]; }
            foreach (int i in idx)
            {
                float orig = x.Data[i];
                x.Data[i] = orig + h; double lp = Eval();
                x.Data[i] = orig - h; double lm = Eval();
                x.Data[i] = orig;
                double numeric = (lp - lm) / (2 * h);
                double a = analytic[k][i];
                double tol = atol + rtol * Math.Max(Math.Abs(a), Math.Abs(numeric));
                Assert.True(Math.Abs(a - numeric) <= tol,
                    $"input {k} [{string.Join(", ", x.ShapeArray)}] element {i}: analytic {a:G6} vs numeric {numeric:G6} (diff {Math.Abs(a - numeric):G3}, tol {tol:G3})");
            }
        }
    }

    public static Tensor Rand(ulong seed, params int[] shape) => Tensor.Uniform(new Rng(seed), -1f, 1f, shape);

    /// <summary>Values in ±[0.1, 1.1]: away from the kinks of relu/elu at 0 by more than the step.</summary>
    public static Tensor RandAwayFromZero(ulong seed, params int[] shape)
    {
        var t = Rand(seed, shape);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = MathF.CopySign(MathF.Abs(d[i]) + 0.1f, d[i]);
        return t;
    }

    public static Tensor RandPositive(ulong seed, params int[] shape) => Tensor.Uniform(new Rng(seed), 0.5f, 2f, shape);
}
