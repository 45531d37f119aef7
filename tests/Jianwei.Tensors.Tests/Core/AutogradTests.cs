namespace Jianwei.Tensors.Tests;

public class AutogradTests
{
    [Fact]
    public void ShapeMismatchMessagesPrintBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3) + Tensor.Zeros(4, 3));
        Assert.Contains("[2, 3]", e.Message); Assert.Contains("[4, 3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.MatMul(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5)));
        Assert.Contains("[2, 3]", e.Message); Assert.Contains("[4, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Reshape(4, 2));
        Assert.Contains("[2, 3]", e.Message); Assert.Contains("[4, 2]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.Linear(Tensor.Zeros(2, 3), Tensor.Zeros(5, 4), null));
        Assert.Contains("[2, 3]", e.Message); Assert.Contains("[5, 4]", e.Message);
    }

    [Fact]
    public void BackwardTwiceThroughAFreedGraphThrowsUnlessRetained()
    {
        var x = Tensor.FromArray([1f, 2f], 2).AsParameter();
        var y = (x * x).SumAll();
        y.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("second time", e.Message);

        x.Grad = null;
        var z = (x * x).SumAll();
        z.Backward(retainGraph: true);
        z.Backward();
        Assert.Equal([4f, 8f], x.Grad!.ToArray());   // 2x, accumulated twice
    }

    [Fact]
    public void GradientsAccumulateAcrossBackwardCalls()
    {
        var x = Tensor.FromArray([3f], 1).AsParameter();
        (x * 2f).SumAll().Backward();
        (x * 5f).SumAll().Backward();
        Assert.Equal(7f, x.Grad!.Data[0]);
    }

    [Fact]
    public void BackwardNeedsAScalarOrAGradient()
    {
        var x = Tensor.FromArray([1f, 2f], 2).AsParameter();
        var e = Assert.Throws<InvalidOperationException>(() => (x * 2f).Backward());
        Assert.Contains("scalar", e.Message);
        (x * 2f).Backward(Tensor.FromArray([1f, 10f], 2));
        Assert.Equal([2f, 20f], x.Grad!.ToArray());
    }

    [Fact]
    public void NoGradScopeRecordsNothing()
    {
        var x = Tensor.FromArray([1f, 2f], 2).AsParameter();
        Tensor y;
        using (GradMode.NoGrad()) y = (x * x).Exp().SumAll();
        Assert.False(y.RequiresGrad);
        Assert.True(y.IsLeaf);
        Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.True(GradMode.IsEnabled);
    }

    [Fact]
    public void NaNCheckNamesTheOp()
    {
        var x = Tensor.FromArray([1f, float.NaN], 2);
        GradMode.CheckFinite = true;
        try
        {
            var e = Assert.Throws<ArithmeticException>(() => x.Exp());
            Assert.Contains("exp", e.Message);
            Assert.Contains("NaN", e.Message);
        }
        finally { GradMode.CheckFinite = false; }
        Assert.True(float.IsNaN(x.Exp().Data[1]));   // off by default: NaN propagates
    }

    [Fact]
    public void IndicesOutOfRangeAreReportedWithTheirPosition()
    {
        var e = Assert.Throws<IndexOutOfRangeException>(() => Tensor.Embedding(Tensor.Zeros(5, 2), IntTensor.FromArray(1, 7)));
        Assert.Contains("id 7 at position 1", e.Message);
        Assert.Throws<IndexOutOfRangeException>(() => Tensor.CrossEntropy(Tensor.Zeros(2, 3), IntTensor.FromArray(0, 3)));
    }

    [Fact]
    public void DeepChainsDoNotOverflowTheStack()
    {
        var x = Tensor.FromArray([1f], 1).AsParameter();
        var y = x;
        for (int i = 0; i < 100_000; i++) y = y * 1f;
        y.SumAll().Backward();
        Assert.Equal(1f, x.Grad!.Data[0]);
    }

    [Fact]
    public void ScopeRecyclesBuffersAndKeepSavesATensor()
    {
        TensorScope.ClearPool();
        float[] firstBuffer;
        Tensor kept;
        using (var scope = new TensorScope())
        {
            var a = Tensor.Zeros(1000);
            firstBuffer = a._data;
            kept = scope.Keep(Tensor.Ones(1000));
        }
        using (new TensorScope())
        {
            var b = Tensor.Empty(1000);
            Assert.Same(firstBuffer, b._data);            // recycled
            Assert.NotSame(kept._data, b._data);
        }
        Assert.All(kept.ToArray(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void ParameterGradientsSurviveTheirStepScope()
    {
        var w = Tensor.FromArray([2f, 3f], 2).AsParameter();
        using (new TensorScope())
        {
            (w * w).SumAll().Backward();
        }
        using (new TensorScope())
        {
            for (int i = 0; i < 3; i++) Tensor.Full(-1f, 2);   // would overwrite a recycled gradient
        }
        Assert.Equal([4f, 6f], w.Grad!.ToArray());
    }
}
