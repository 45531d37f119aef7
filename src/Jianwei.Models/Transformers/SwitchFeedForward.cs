using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Transformers;

// Shapes: b batch rows, n tokens, H hidden width, I feed-forward width, E experts, T = b·n tokens.

/// <summary>One feed-forward expert, H → I → H with GELU ("experts.e": "wi" and "wo", as Switch names them).</summary>
public sealed class FeedForwardExpert : Module
{
    /// <summary>H → I.</summary>
    public Linear In { get; }
    /// <summary>I → H.</summary>
    public Linear Out { get; }

    /// <summary>Creates the expert.</summary>
    public FeedForwardExpert(int hidden, int intermediate, Rng rng)
    {
        In = RegisterModule("wi", new Linear(hidden, intermediate, rng));
        Out = RegisterModule("wo", new Linear(intermediate, hidden, rng));
    }

    /// <summary>[m, H] → [m, H].</summary>
    public Tensor Forward(Tensor x) => Out.Forward(In.Forward(x).Gelu());
}

/// <summary>
/// Where each token goes: its expert (the router's arg-max; −1 for a token not routed, such as padding),
/// and per expert the tokens it keeps, in token order, at most <see cref="Capacity"/> of them. A token
/// its expert has no room for is dropped: the layer gives it 0 and the residual carries it on.
/// </summary>
/// <param name="Expert">[T] the chosen expert per token, −1 when not routed.</param>
/// <param name="Kept">[E][≤ capacity] the tokens each expert processes.</param>
/// <param name="Capacity">Tokens an expert may take.</param>
/// <param name="Routed">Tokens routed (padding excluded).</param>
public sealed record SwitchRouting(int[] Expert, int[][] Kept, int Capacity, int Routed)
{
    /// <summary>
    /// Top-1 routing of <paramref name="tokens"/> rows of router probabilities [T, E]; the capacity is
    /// ⌈factor·routed/E⌉ (unbounded when <paramref name="capacityFactor"/> is infinite). Tokens whose
    /// <paramref name="tokenMask"/> entry is 0 are not routed (an empty mask routes every token).
    /// </summary>
    public static SwitchRouting Route(ReadOnlySpan<float> probs, int tokens, int experts, float capacityFactor, ReadOnlySpan<float> tokenMask)
    {
        var expert = new int[tokens];
        int routed = 0;
        for (int t = 0; t < tokens; t++)
        {
            if (!tokenMask.IsEmpty && tokenMask[t] == 0f) { expert[t] = -1; continue; }
            var row = probs.Slice(t * experts, experts);
            int best = 0;
            for (int e = 1; e < experts; e++) if (row[e] > row[best]) best = e;
            expert[t] = best;
            routed++;
        }
        int capacity = float.IsPositiveInfinity(capacityFactor) ? routed : Math.Max(1, (int)Math.Ceiling(capacityFactor * routed / experts));
        var kept = Enumerable.Range(0, experts).Select(_ => new List<int>()).ToArray();
        for (int t = 0; t < tokens; t++)
            if (expert[t] >= 0 && kept[expert[t]].Count < capacity) kept[expert[t]].Add(t);
        return new SwitchRouting(expert, kept.Select(k => k.ToArray()).ToArray(), capacity, routed);
    }

    /// <summary>fᵢ: the share of routed tokens whose arg-max is expert i (counted before capacity drops them).</summary>
    public float[] Fractions(int experts)
    {
        var f = new float[experts];
        foreach (int e in Expert) if (e >= 0) f[e] += 1f / Routed;
        return f;
    }
}

/// <summary>
/// The Switch Transformer feed-forward layer (Fedus et al. 2021, "moe"): a router (H → E, no bias, softmax)
/// sends each token to the one expert with the highest probability p, whose output is scaled by p so the
/// router learns from the loss. In training each expert takes at most its capacity and the layer adds
/// the load-balancing loss w·E·Σᵢ fᵢ·Pᵢ (fᵢ the share of tokens routed to i, Pᵢ the mean router
/// probability of i), which is smallest when the experts share the work evenly. In evaluation every
/// token is processed: a row's score must not depend on the other rows of its batch.
/// </summary>
public sealed class SwitchFeedForward : Module
{
    /// <summary>"router": H → E, no bias.</summary>
    public Linear Router { get; }
    /// <summary>"experts".</summary>
    public ModuleList<FeedForwardExpert> Experts { get; }
    /// <summary>The layer norm after (post-LN) or before (pre-LN) the layer, or null (ReZero).</summary>
    public LayerNorm? Norm { get; }
    private readonly float _capacityFactor, _balanceWeight;

    /// <summary>Creates the router and <see cref="EncoderConfig.Experts"/> experts.</summary>
    public SwitchFeedForward(EncoderConfig c, Rng rng)
    {
        Router = RegisterModule("router", new Linear(c.HiddenSize, c.Experts, rng, bias: false));
        Experts = RegisterModule("experts", new ModuleList<FeedForwardExpert>(Enumerable.Range(0, c.Experts).Select(_ => new FeedForwardExpert(c.HiddenSize, c.IntermediateSize, rng))));
        if (c.Norm != NormPlacement.ReZero) Norm = RegisterModule("LayerNorm", new LayerNorm(c.HiddenSize, c.LayerNormEps));
        _capacityFactor = c.ExpertCapacityFactor;
        _balanceWeight = c.LoadBalancingWeight;
    }

    /// <summary>The routing of the last forward pass (for inspection and tests).</summary>
    public SwitchRouting? LastRouting { get; private set; }

    /// <summary>[b, n, H] → [b, n, H]; <paramref name="tokenMask"/> [b, n] of 1 (route) or 0 (padding: output 0), or null.</summary>
    public Tensor Forward(Tensor x, Tensor? tokenMask)
    {
        int b = x.Dim(0), n = x.Dim(1), h = x.Dim(2), tokens = b * n, experts = Experts.Count;
        var flat = x.Reshape(tokens, h);                                                    // [T, H]
        var probs = Router.Forward(flat).Softmax();                                         // [T, E]
        var routing = SwitchRouting.Route(probs.Data, tokens, experts, IsTraining ? _capacityFactor : float.PositiveInfinity,
                                          tokenMask is null ? default : tokenMask.Data);
        LastRouting = routing;
        // Each expert works on a block of fixed height — its capacity in training, as Switch's [E, C, H]
        // buffers, else its tokens rounded up to 64 — so the engine's exact-size buffer pool serves every
        // step. Padding rows repeat the expert's first token with gate 0: they add nothing, and their
        // zero output gradient gives the expert's weights nothing.
        var outputs = new List<Tensor>(experts);
        var targets = new List<int>(tokens);
        for (int e = 0; e < experts; e++)
        {
            var rows = routing.Kept[e];
            int m = rows.Length;
            if (m == 0) continue;
            int height = IsTraining ? Math.Max(routing.Capacity, m) : (m + 63) / 64 * 64;
            var padded = new int[height];
            rows.CopyTo(padded, 0);
            Array.Fill(padded, rows[0], m, height - m);
            var index = new IntTensor(padded, height);
            var gate = probs.IndexSelect(0, index).Slice(1, e, 1);                              // [height, 1] the router's probability
            if (height > m) gate = gate * Tensor.FromArray([.. Enumerable.Range(0, height).Select(i => i < m ? 1f : 0f)], height, 1);
            outputs.Add(Experts[e].Forward(flat.IndexSelect(0, index)) * gate);                 // [height, H]
            targets.AddRange(padded);
        }
        if (IsTraining && _balanceWeight > 0 && routing.Routed > 0) AddLoss(LoadBalancingLoss(probs, routing) * _balanceWeight);
        var output = Tensor.Zeros(tokens, h);                                                   // dropped and padding tokens stay 0
        if (outputs.Count == 0) return output.Reshape(b, n, h);
        return output.IndexAdd(0, new IntTensor([.. targets], targets.Count), outputs.Count == 1 ? outputs[0] : Tensor.Concat(0, [.. outputs])).Reshape(b, n, h);
    }

    /// <summary>
    /// E·Σᵢ fᵢ·Pᵢ over the routed tokens (Switch eq. 4, without its weight): 1 when routing is uniform.
    /// fᵢ is a count and carries no gradient; Pᵢ = mean of probs[:, i] does.
    /// </summary>
    public static Tensor LoadBalancingLoss(Tensor probs, SwitchRouting routing)
    {
        int experts = probs.Dim(1);
        var routed = Enumerable.Range(0, routing.Expert.Length).Where(t => routing.Expert[t] >= 0).ToArray();
        var meanProbs = probs.IndexSelect(0, new IntTensor(routed, routed.Length)).Sum(0) * (1f / routed.Length);   // [E] Pᵢ
        return (meanProbs * Tensor.FromArray(routing.Fractions(experts), experts)).SumAll() * experts;
    }
}
