using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Transformers;

// Shapes: b batch rows, n tokens, E embedding width, H hidden width, V vocabulary (see TransformerEncoder.cs).

/// <summary>One batch for a <see cref="TransformerEncoder"/>.</summary>
public sealed class EncoderInputs
{
    /// <summary>Token ids [b, n].</summary>
    public required IntTensor Ids { get; init; }
    /// <summary>Token types [b, n]; null means all 0.</summary>
    public IntTensor? TokenTypes { get; init; }
    /// <summary>Position of each token [b, n]; null means 0..n−1. Permuted layouts (MPNet) set it.</summary>
    public IntTensor? Positions { get; init; }
    /// <summary>[b, keys] of 1 (real token) or 0 (padding), or null when nothing is padded.</summary>
    public Tensor? KeyMask { get; init; }
    /// <summary>[b, n, keys] of 1 (row i may attend key j) or 0, or null; softmax attention only.</summary>
    public Tensor? AttentionMask { get; init; }
    /// <summary>
    /// How many leading rows serve as keys and values (0: all). Rows after them are queries only — a
    /// second stream that reads the first but is never read (MPNet's query stream).
    /// </summary>
    public int KeyRows { get; init; }
}
