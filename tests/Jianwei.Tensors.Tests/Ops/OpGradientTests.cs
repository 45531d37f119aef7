using static Jianwei.Tensors.Tests.GradCheck;

namespace Jianwei.Tensors.Tests;

/// <summary>Finite-difference checks for every differentiable op: odd sizes (SIMD tails), broadcasting, size-1 axes.</summary>
public class OpGradientTests
{
    // Sizes 1..35 cover the scalar tail, one 8-wide and one 16-wide vector plus tails.
    public static TheoryData<int> OddSizes => new() { 1, 7, 17, 35 };

    [Theory, MemberData(nameof(OddSizes))]
    public void Add_Sub_Mul_Div_SameShape(int n)
    {
        Check(x => x[0] + x[1], [Rand(1, 3, n), Rand(2, 3, n)]);
        Check(x => x[0] - x[1], [Rand(3, 3, n), Rand(4, 3, n)]);
        Check(x => x[0] * x[1], [Rand(5, 3, n), Rand(6, 3, n)]);
        Check(x => x[0] / x[1], [Rand(7, 3, n), RandPositive(8, 3, n)]);
    }

    [Fact]
    public void Broadcasting_RowColumnAndScalar()
    {
        Check(x => x[0] + x[1], [Rand(1, 4, 5), Rand(2, 5)]);              // bias row
        Check(x => x[0] * x[1], [Rand(3, 4, 5), Rand(4, 4, 1)]);           // per-row scale
        Check(x => x[0] - x[1], [Rand(5, 2, 1, 5), Rand(6, 1, 3, 1)]);     // both sides broadcast
        Check(x => x[0] / x[1], [Rand(7, 2, 3, 17), RandPositive(8, 1, 17)]);
        Check(x => x[0] / x[1], [RandPositive(9, 1), Rand(10, 3, 4)]);     // scalar numerator
        Check(x => x[0] * x[1], [Rand(11, 3, 1, 4), Rand(12, 5, 1)]);      // [3,1,4]·[5,1] → [3,5,4]
    }

    [Fact]
    public void ScalarOps() => Check(x => (x[0] * 3f + 2f) / 4f - 1f, [Rand(1, 3, 17)]);

    [Theory, MemberData(nameof(OddSizes))]
    public void Unary(int n)
    {
        Check(x => x[0].Exp(), [Rand(1, 2, n)]);
        Check(x => x[0].Log(), [RandPositive(2, 2, n)]);
        Check(x => x[0].Sqrt(), [RandPositive(3, 2, n)]);
        Check(x => x[0].Pow(3f), [Rand(4, 2, n)]);
        Check(x => x[0].Pow(2f), [Rand(4, 2, n)]);
        Check(x => x[0].Pow(-1.5f), [RandPositive(5, 2, n)]);
        Check(x => x[0].Tanh(), [Rand(6, 2, n)]);
        Check(x => x[0].Sigmoid(), [Rand(7, 2, n)]);
        Check(x => x[0].Relu(), [RandAwayFromZero(8, 2, n)]);
        Check(x => x[0].Gelu(), [Rand(9, 2, n) * 3f]);
        Check(x => x[0].Elu(1.3f), [RandAwayFromZero(10, 2, n)]);
        Check(x => x[0].Softplus(), [Rand(11, 2, n) * 4f]);
    }

    [Fact]
    public void Reductions()
    {
        Check(x => x[0].SumAll(), [Rand(1, 3, 5)]);
        Check(x => x[0].MeanAll(), [Rand(2, 3, 5)]);
        Check(x => x[0].Sum(1), [Rand(3, 3, 4, 5)]);
        Check(x => x[0].Sum(-1, keepDim: true), [Rand(4, 3, 17)]);
        Check(x => x[0].Sum([0, 2]), [Rand(5, 3, 4, 5)]);
        Check(x => x[0].Mean(0), [Rand(6, 3, 4)]);
        Check(x => x[0].Mean(1, keepDim: true), [Rand(7, 2, 1, 3)]);   // size-1 axis
        Check(x => x[0].Max(1), [Rand(8, 3, 7, 2)], h: 1e-3f);
        Check(x => x[0].Max(-1, keepDim: true), [Rand(9, 4, 17)], h: 1e-3f);
    }

    [Fact]
    public void ShapeOps()
    {
        Check(x => x[0].Reshape(6, -1), [Rand(1, 2, 3, 4)]);
        Check(x => x[0].Transpose(0, 1), [Rand(2, 3, 5)]);
        Check(x => x[0].Permute(2, 0, 3, 1), [Rand(3, 2, 3, 4, 5)]);
        Check(x => x[0].Slice(1, 1, 2), [Rand(4, 2, 4, 3)]);
        Check(x => Tensor.Concat(1, x[0], x[1]), [Rand(5, 2, 3, 2), Rand(6, 2, 1, 2)]);
        Check(x => Tensor.Stack(0, x[0], x[1], x[2]), [Rand(7, 2, 3), Rand(8, 2, 3), Rand(9, 2, 3)]);
        Check(x => Tensor.Stack(-1, x[0], x[1]), [Rand(7, 2, 3), Rand(8, 2, 3)]);
    }

    [Fact]
    public void MatMul_AllTransposeFlags_AndBatches()
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                int m = 5, k = 7, n = 3;
                var a = ta ? Rand(1, k, m) : Rand(1, m, k);
                var b = tb ? Rand(2, n, k) : Rand(2, k, n);
                Check(x => Tensor.MatMul(x[0], x[1], ta, tb), [a, b]);
                // batched both sides
                var ab = ta ? Rand(3, 2, k, m) : Rand(3, 2, m, k);
                var bb = tb ? Rand(4, 2, n, k) : Rand(4, 2, k, n);
                Check(x => Tensor.MatMul(x[0], x[1], ta, tb), [ab, bb]);
                // batched a, shared b
                Check(x => Tensor.MatMul(x[0], x[1], ta, tb), [ab, b]);
                // shared a, batched b
                Check(x => Tensor.MatMul(x[0], x[1], ta, tb), [a, bb]);
            }
    }

    [Fact]
    public void Linear_WithAndWithoutBias()
    {
        Check(x => Tensor.Linear(x[0], x[1], x[2]), [Rand(1, 2, 3, 5), Rand(2, 4, 5), Rand(3, 4)]);
        Check(x => Tensor.Linear(x[0], x[1], null), [Rand(4, 3, 17), Rand(5, 9, 17)]);
    }

    [Fact]
    public void Indexing()
    {
        var idx = new IntTensor([2, 0, 1, 1, 0, 2], 2, 3);
        Check(x => x[0].Gather(1, idx), [Rand(1, 2, 4)]);
        Check(x => x[0].Gather(0, new IntTensor([1, 0, 1, 1], 2, 2)), [Rand(2, 2, 3)]);
        Check(x => x[0].IndexSelect(0, IntTensor.FromArray(3, 0, 3)), [Rand(3, 4, 5)]);
        Check(x => x[0].IndexSelect(1, IntTensor.FromArray(1, 1)), [Rand(4, 2, 3, 2)]);
        Check(x => Tensor.Embedding(x[0], new IntTensor([1, 4, 1, 0], 2, 2)), [Rand(5, 6, 3)]);
        Check(x => x[0].ScatterAdd(1, new IntTensor([0, 2, 0, 1, 1, 1], 2, 3), x[1]), [Rand(6, 2, 4), Rand(7, 2, 3)]);
        Check(x => x[0].IndexAdd(0, IntTensor.FromArray(3, 0, 3), x[1]), [Rand(8, 4, 5), Rand(9, 3, 5)]);
        Check(x => x[0].IndexAdd(1, IntTensor.FromArray(2, 0), x[1]) + x[0], [Rand(10, 2, 3, 2), Rand(11, 2, 2, 2)]);
        var mask = Tensor.FromArray([1f, 0f, 0f, 1f, 0f], 1, 5);
        Check(x => x[0].MaskedFill(mask, -5f), [Rand(8, 3, 5)]);
    }

    [Theory, MemberData(nameof(OddSizes))]
    public void SoftmaxFamily(int n)
    {
        Check(x => x[0].Softmax(), [Rand(1, 3, n) * 3f]);
        Check(x => x[0].LogSoftmax(), [Rand(2, 3, n) * 3f]);
        var mask = Tensor.FromArray(Enumerable.Range(0, 2 * n).Select(i => i % n == n - 1 && n > 1 ? 0f : 1f).ToArray(), 2, n);
        Check(x => Tensor.AttentionSoftmax(x[0], mask, 0.5f), [Rand(3, 2, 2, 3, n) * 3f]);
        Check(x => Tensor.AttentionSoftmax(x[0], null, 1f), [Rand(4, 1, 2, 2, n)]);
    }

    [Theory, MemberData(nameof(OddSizes))]
    public void LayerNorm_AndFusedResidual(int n)
    {
        if (n == 1) return;   // variance of one element is 0: the normalized output is constant
        Check(x => Tensor.LayerNorm(x[0], x[1], x[2], 1e-5f), [Rand(1, 4, n) * 2f, Rand(2, n), Rand(3, n)]);
        Check(x => Tensor.AddLayerNorm(x[0], x[1], x[2], x[3], 1e-5f), [Rand(4, 2, 3, n), Rand(5, 2, 3, n), Rand(6, n), Rand(7, n)]);
    }

    [Fact]
    public void BatchNorm_TrainingGhostBatchesAndEval()
    {
        var rm = Tensor.Zeros(5); var rv = Tensor.Ones(5);
        Check(x => Tensor.BatchNorm(x[0], x[1], x[2], rm, rv, training: true), [Rand(1, 8, 5) * 2f, Rand(2, 5), Rand(3, 5)]);
        Check(x => Tensor.BatchNorm(x[0], x[1], x[2], rm, rv, training: true, virtualBatchSize: 3), [Rand(4, 8, 5), Rand(5, 5), Rand(6, 5)]);
        var rm2 = Tensor.FromArray([0.1f, -0.2f, 0.3f], 3); var rv2 = Tensor.FromArray([0.5f, 2f, 1f], 3);
        Check(x => Tensor.BatchNorm(x[0], x[1], x[2], rm2, rv2, training: false), [Rand(7, 4, 3), Rand(8, 3), Rand(9, 3)]);
    }

    [Fact]
    public void Dropout_GradientMatchesItsMask()
    {
        // With a fixed seed the mask is fixed; re-create the generator per evaluation.
        Check(x => Tensor.Dropout(x[0], 0.3f, true, new Rng(99)), [Rand(1, 4, 33)]);
    }

    [Fact]
    public void Losses()
    {
        var targets = IntTensor.FromArray(2, 0, -100, 4);
        Check(x => Tensor.CrossEntropy(x[0], targets), [Rand(1, 4, 5) * 2f]);
        Check(x => Tensor.CrossEntropy(x[0], targets, labelSmoothing: 0.2f, classWeights: [1f, 2f, 0.5f, 1f, 3f]), [Rand(2, 4, 5) * 2f]);
        var y = Tensor.FromArray([1f, 0f, 1f, 0f, 1f, 1f, 0f], 7);
        Check(x => Tensor.BinaryCrossEntropyWithLogits(x[0], y, 2.5f), [Rand(3, 7) * 4f]);
        Check(x => Tensor.BinaryCrossEntropyWithLogits(x[0], x[1]), [Rand(4, 7), Tensor.Uniform(new Rng(5), 0f, 1f, 7)]);
        Check(x => Tensor.MseLoss(x[0], x[1]), [Rand(6, 3, 5), Rand(7, 3, 5)]);
    }

    [Fact]
    public void SparsemaxAndEntmax()
    {
        Check(x => x[0].Sparsemax(), [Rand(1, 4, 7) * 2f], h: 1e-3f);
        Check(x => x[0].Entmax15(), [Rand(2, 4, 7) * 2f], h: 1e-3f);
        Check(x => x[0].Entmax15(), [Rand(3, 3, 17) * 4f], h: 1e-3f);
        foreach (float alpha in new[] { 1.2f, 1.5f, 1.7f, 2f })
            Check(x => x[0].Entmax(alpha), [Rand(4, 3, 11) * 3f], h: 1e-3f);
        Check(x => x[0].Entmax(1.5f) + x[0].Entmax(1.3f), [Rand(5, 2, 6) * 2f], h: 1e-3f);   // the accumulate path
    }

    [Fact]
    public void GradientAccumulatesWhenATensorIsUsedTwice()
    {
        // y = x·x + x → dy/dx = 2x + 1; every op's accumulate path is used.
        Check(x => x[0] * x[0] + x[0].Tanh() + x[0].Gelu() + x[0].Softmax() + x[0].Exp(), [Rand(1, 2, 9)]);
        Check(x => Tensor.MatMul(x[0], x[0], transB: true) + Tensor.Linear(x[0], x[0], null), [Rand(2, 3, 3)]);
        Check(x => Tensor.LayerNorm(x[0], x[1], x[1]) + x[0].LogSoftmax() + x[0].Sum(0, true), [Rand(3, 2, 5), Rand(4, 5)]);
    }
}
