using Jianwei.Models.Features;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Layers;

/// <summary>
/// The feature tokenizer (Gorishniy et al. 2021): every table cell becomes a token of width d — a
/// numeric value x_j as x_j·W_j + b_j (or a piecewise-linear encoding e_j·W_j + b_j), a category as
/// its embedding plus b_j. The bias b_j is the column's identity. A masked cell (for masked-cell
/// pretraining) becomes a learned mask vector plus b_j, so the model still knows which column to fill.
/// </summary>
public sealed class FeatureTokenizer : Module
{
    private readonly int _numeric, _categorical, _dim, _width;
    private readonly int[] _categoryOffsets;
    private readonly Tensor _numW, _numB, _catB;
    private readonly Tensor? _mask;
    private readonly Embedding? _catEmbedding;

    /// <summary>
    /// Creates the tokenizer for <paramref name="numeric"/> numeric inputs of <paramref name="numericWidth"/>
    /// values and the given category vocabularies; <paramref name="maskable"/> adds the mask token.
    /// </summary>
    public FeatureTokenizer(int numeric, IReadOnlyList<int> categorySizes, int dim, Rng rng, int numericWidth = 1, bool maskable = false)
    {
        _numeric = numeric; _categorical = categorySizes.Count; _dim = dim; _width = numericWidth;
        float s = 1f / MathF.Sqrt(dim);
        _numW = RegisterParameter("num_weight", numericWidth == 1
            ? Tensor.Uniform(rng, -s, s, Math.Max(1, numeric), dim)
            : Tensor.Uniform(rng, -s, s, Math.Max(1, numeric), numericWidth, dim));
        _numB = RegisterParameter("num_bias", Tensor.Uniform(rng, -s, s, Math.Max(1, numeric), dim));
        _categoryOffsets = new int[_categorical];
        for (int j = 1; j < _categorical; j++) _categoryOffsets[j] = _categoryOffsets[j - 1] + categorySizes[j - 1];
        if (_categorical > 0) _catEmbedding = RegisterModule("cat_embedding", new Embedding(categorySizes.Sum(), dim, rng, s));
        _catB = RegisterParameter("cat_bias", Tensor.Uniform(rng, -s, s, Math.Max(1, _categorical), dim));
        if (maskable) _mask = RegisterParameter("mask_token", Tensor.Uniform(rng, -s, s, 1, 1, dim));
    }

    /// <summary>Tokens per row: numeric inputs then categorical ones.</summary>
    public int Features => _numeric + _categorical;

    /// <summary>
    /// Tokens [count, features, d] of rows order[start..start+count) of <paramref name="inputs"/>.
    /// <paramref name="masked"/> (row-major [count, features], or null) marks cells replaced by the mask token.
    /// </summary>
    public Tensor Forward(TokenInputs inputs, int[] order, int start, int count, bool[]? masked = null)
    {
        var tokens = new List<Tensor>();
        if (_numeric > 0)
        {
            if (inputs.NumericWidth != _width) throw new ArgumentException($"The tokenizer expects {_width} values per numeric feature, the inputs have {inputs.NumericWidth}.");
            int per = _numeric * _width;
            var x = new float[count * per];
            for (int i = 0; i < count; i++) inputs.Numeric.AsSpan(order[start + i] * per, per).CopyTo(x.AsSpan(i * per));
            if (_width == 1)
                tokens.Add(Tensor.FromArray(x, count, _numeric, 1) * _numW + _numB);                      // [b, numeric, d]
            else   // per feature j: e_j [b, w] · W_j [w, d], as one batched product over features
                tokens.Add(Tensor.MatMul(Tensor.FromArray(x, count, _numeric, _width).Permute(1, 0, 2), _numW).Permute(1, 0, 2) + _numB);
        }
        if (_categorical > 0)
        {
            var ids = new int[count * _categorical];
            for (int i = 0; i < count; i++)
                for (int j = 0; j < _categorical; j++) ids[i * _categorical + j] = inputs.Categorical[order[start + i] * _categorical + j] + _categoryOffsets[j];
            tokens.Add(_catEmbedding!.Forward(new IntTensor(ids, count, _categorical)) + _catB);   // [b, categorical, d]
        }
        var t = tokens.Count == 1 ? tokens[0] : Tensor.Concat(1, [.. tokens]);                       // [b, features, d]
        if (masked is null || !masked.Contains(true)) return t;
        if (_mask is null) throw new InvalidOperationException("this tokenizer was created without a mask token (maskable: false).");
        // Masked cells: mask + b_j in place of the value's token.
        var m = new float[count * Features];
        for (int i = 0; i < m.Length; i++) m[i] = masked[i] ? 1f : 0f;
        var mt = Tensor.FromArray(m, count, Features, 1);                                          // [b, features, 1]
        return t * mt.RSubScalar(1f) + (ColumnBiases() + _mask) * mt;
    }

    /// <summary>
    /// Each feature's column bias b_j [features, d]: the token of a value-free cell (a numeric input of 0 —
    /// the median after a rank-Gauss transform — or no category), the baseline attributions start from.
    /// </summary>
    public Tensor ColumnBiases() => _numeric > 0 && _categorical > 0 ? Tensor.Concat(0, _numB, _catB) : _numeric > 0 ? _numB : _catB;
}
