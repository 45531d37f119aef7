using Jianwei.Tensors.Nn;
using Jianwei.Tensors.Optim;

namespace Jianwei.Tensors.Tests;

[Collection("Serial")]
public class ModuleTests
{
    private sealed class Block : Module
    {
        public readonly Linear Dense; public readonly LayerNorm Norm; public readonly BatchNorm Bn;
        public Block(Rng rng)
        {
            Dense = RegisterModule("dense", new Linear(4, 3, rng));
            Norm = RegisterModule("LayerNorm", new LayerNorm(3));
            Bn = RegisterModule("bn", new BatchNorm(3));
        }
    }

    private sealed class Net : Module
    {
        public readonly ModuleList<Block> Layer;
        public readonly Tensor Scale;
        public Net(Rng rng)
        {
            Layer = RegisterModule("layer", new ModuleList<Block>([new Block(rng), new Block(rng)]));
            Scale = RegisterParameter("scale", Tensor.Ones(1));
        }
    }

    [Fact]
    public void NamesAreDottedAndCountsAreRight()
    {
        var net = new Net(new Rng(1));
        var names = net.NamedParameters().Select(p => p.Name).ToList();
        Assert.Equal(["scale", "layer.0.dense.weight", "layer.0.dense.bias", "layer.0.LayerNorm.weight", "layer.0.LayerNorm.bias", "layer.0.bn.weight", "layer.0.bn.bias",
                      "layer.1.dense.weight", "layer.1.dense.bias", "layer.1.LayerNorm.weight", "layer.1.LayerNorm.bias", "layer.1.bn.weight", "layer.1.bn.bias"], names);
        Assert.Equal(["layer.0.bn.running_mean", "layer.0.bn.running_var", "layer.1.bn.running_mean", "layer.1.bn.running_var"], net.NamedBuffers().Select(b => b.Name));
        Assert.Equal(1 + 2 * (12 + 3 + 3 + 3 + 3 + 3), net.ParameterCount());
    }

    [Fact]
    public void FreezeAndUnfreezeByPrefix()
    {
        var net = new Net(new Rng(1));
        net.Freeze("layer.0.");
        Assert.Equal(net.ParameterCount() - 27, net.ParameterCount(trainableOnly: true));
        net.Unfreeze();
        Assert.Equal(net.ParameterCount(), net.ParameterCount(trainableOnly: true));
    }

    [Fact]
    public void TrainAndEvalPropagate()
    {
        var net = new Net(new Rng(1));
        net.Eval();
        Assert.False(net.Layer[1].Bn.IsTraining);
        net.Train();
        Assert.True(net.Layer[0].Norm.IsTraining);
    }

    [Fact]
    public void LoadStateDictReportsEveryProblemAtOnceAndCopiesNothing()
    {
        var net = new Net(new Rng(1));
        var before = net.Layer[0].Dense.Weight.ToArray();
        var state = new Net(new Rng(2)).StateDict();
        state.Remove("layer.1.dense.bias");
        state.Remove("scale");
        state["layer.0.dense.weight"] = Tensor.Zeros(5, 5);
        state["extra.weight"] = Tensor.Zeros(1);
        var e = Assert.Throws<StateDictException>(() => net.LoadStateDict(state));
        Assert.Equal(["layer.1.dense.bias", "scale"], e.Missing.OrderBy(x => x));
        Assert.Equal(["extra.weight"], e.Unexpected);
        Assert.Single(e.MisShaped);
        Assert.Contains("layer.0.dense.weight: model [3, 4], file [5, 5]", e.Message);
        Assert.Equal(before, net.Layer[0].Dense.Weight.ToArray());
    }

    [Fact]
    public void CopyStateAndRestoreStateBringBackEarlierValues()
    {
        var net = new Net(new Rng(1));
        var saved = net.CopyState();
        var before = net.Layer[0].Dense.Weight.ToArray();
        net.Layer[0].Dense.Weight.Data.Fill(7f);
        net.Layer[1].Bn.RunningMean.Data.Fill(3f);
        net.RestoreState(saved);
        Assert.Equal(before, net.Layer[0].Dense.Weight.ToArray());
        Assert.All(net.Layer[1].Bn.RunningMean.ToArray(), v => Assert.Equal(0f, v));   // buffers too
    }

    [Fact]
    public void NonStrictLoadSkipsMissingAndUnexpected()
    {
        var net = new Net(new Rng(1));
        var other = new Net(new Rng(2));
        var state = other.StateDict();
        state.Remove("scale");
        state["extra"] = Tensor.Zeros(1);
        var loaded = net.LoadStateDict(state, strict: false);
        Assert.DoesNotContain("scale", loaded);
        Assert.Equal(other.Layer[1].Dense.Weight.ToArray(), net.Layer[1].Dense.Weight.ToArray());
    }

    [Fact]
    public void ParametersCreatedInsideAScopeAreNotRecycled()
    {
        Linear layer;
        using (new TensorScope()) layer = new Linear(8, 8, new Rng(3));
        var w = layer.Weight.ToArray();
        using (new TensorScope()) { for (int i = 0; i < 4; i++) Tensor.Full(0f, 8, 8); }
        Assert.Equal(w, layer.Weight.ToArray());
    }

    [Fact]
    public void TrainingIsBitReproducible()
    {
        // Two identical runs (same seed, same thread count) of a small MLP with dropout, layer norm,
        // batch norm and AdamW give identical bits.
        static float[] RunOnce()
        {
            var rng = new Rng(11);
            var l1 = new Linear(16, 64, rng); var ln = new LayerNorm(64); var bn = new BatchNorm(64, virtualBatchSize: 8);
            var l2 = new Linear(64, 3, rng); var drop = new Dropout(0.2f, rng.Fork());
            var ps = l1.Parameters().Concat(ln.Parameters()).Concat(bn.Parameters()).Concat(l2.Parameters()).ToList();
            var opt = new AdamW(ps, lr: 1e-2f);
            var data = Tensor.Uniform(new Rng(5), -1, 1, 32, 16);
            var y = new IntTensor(Enumerable.Range(0, 32).Select(i => i % 3).ToArray(), 32);
            for (int step = 0; step < 20; step++)
            {
                using var scope = new TensorScope();
                opt.ZeroGrad();
                var h = drop.Forward(bn.Forward(ln.Forward(l1.Forward(data)).Gelu()));
                Tensor.CrossEntropy(l2.Forward(h), y).Backward();
                GradientClipping.ClipGradNorm(ps, 1f);
                opt.Step();
            }
            return ps.SelectMany(p => p.ToArray()).ToArray();
        }
        Assert.Equal(RunOnce(), RunOnce());
    }
}
