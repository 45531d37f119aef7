using Jianwei.Models.Transformers;
using Jianwei.Tensors;
using Jianwei.Tensors.Nn;

namespace Jianwei.Models.Pretraining;

/// <summary>
/// MPNet (Song et al. 2020): masked and permuted pretraining with position compensation. In each
/// sequence a random c ≈ 15 % of the tokens are predicted, in a random order, autoregressively. The
/// input is laid out as the non-predicted tokens, then c [MASK] tokens carrying the predicted
/// positions, then the predicted tokens (content stream), followed by c query rows (query stream) that
/// read the content stream but are never read. Masks, for predicted token j in the order:
/// <list type="bullet">
/// <item>non-predicted and [MASK] rows see the non-predicted tokens and every [MASK];</item>
/// <item>predicted-token row j sees the non-predicted tokens, predicted tokens 0..j and [MASK]s j+1..c−1;</item>
/// <item>query row j sees the non-predicted tokens, predicted tokens 0..j−1 and [MASK]s j..c−1.</item>
/// </list>
/// Every row thus sees every position exactly once — as a token or as a [MASK] — which is the
/// position compensation that lets it see the full sentence length, unlike XLNet. The query rows feed
/// the MLM head. Needs softmax attention (structured masks).
/// </summary>
public sealed class Mpnet : IPretrainingObjective
{
    private readonly BertForMaskedLM _model;
    private readonly TokenMasker _masker;
    private readonly SpecialTokens _special;

    /// <summary>Creates the objective; whole-word choice applies to the predicted set as in MLM.</summary>
    public Mpnet(EncoderConfig config, SpecialTokens special, MaskingOptions masking, Rng rng)
    {
        if (!config.ExactAttention) throw new ArgumentException("MPNet's two-stream masks need exact (softmax or entmax) attention.");
        _model = new BertForMaskedLM(config, rng);
        _masker = new TokenMasker(masking, special, config.VocabSize);
        _special = special;
    }

    /// <inheritdoc/>
    public string Name => "mpnet";
    /// <inheritdoc/>
    public Module Model => _model;
    /// <inheritdoc/>
    public TransformerEncoder Encoder => _model.Bert;

    /// <summary>The two-stream layout of a batch: the encoder inputs, where the query rows are, and their targets.</summary>
    public sealed record Layout(EncoderInputs Inputs, IntTensor QueryRows, IntTensor Targets);

    /// <summary>
    /// Lays out a batch given each sequence's predicted positions in prediction order
    /// (<paramref name="predicted"/>[r]); <paramref name="corrupt"/> gives the id shown in each [MASK]
    /// slot (80/10/10). Public so tests can check it on the paper's worked example.
    /// </summary>
    public static Layout Build(IReadOnlyList<TokenSequence> sequences, IReadOnlyList<int[]> predicted, Func<int, int> corrupt, int padId)
    {
        int b = sequences.Count;
        int contentLength = 0, queryCount = 0;
        for (int r = 0; r < b; r++) { contentLength = Math.Max(contentLength, sequences[r].Length + predicted[r].Length); queryCount = Math.Max(queryCount, predicted[r].Length); }
        int rows = contentLength + queryCount, keys = contentLength;
        var ids = new int[b * rows];
        var positions = new int[b * rows];
        var keyMask = new float[b * keys];
        var attend = new float[b * rows * keys];
        var queryRows = new List<int>();
        var targets = new List<int>();
        Array.Fill(ids, padId);
        for (int r = 0; r < b; r++)
        {
            var s = sequences[r];
            var pred = predicted[r];
            int c = pred.Length, kept = s.Length - c;
            var isPredicted = new bool[s.Length];
            foreach (int p in pred) isPredicted[p] = true;
            int row = 0;
            // Content stream: kept tokens (original order), [MASK] slots, predicted tokens.
            for (int p = 0; p < s.Length; p++)
                if (!isPredicted[p]) { ids[r * rows + row] = s.Ids[p]; positions[r * rows + row] = p; row++; }
            for (int j = 0; j < c; j++) { ids[r * rows + kept + j] = corrupt(s.Ids[pred[j]]); positions[r * rows + kept + j] = pred[j]; }
            for (int j = 0; j < c; j++) { ids[r * rows + kept + c + j] = s.Ids[pred[j]]; positions[r * rows + kept + c + j] = pred[j]; }
            // Query stream: one row per predicted token, starting as its [MASK] slot.
            for (int j = 0; j < c; j++)
            {
                ids[r * rows + contentLength + j] = ids[r * rows + kept + j];
                positions[r * rows + contentLength + j] = pred[j];
                queryRows.Add(r * rows + contentLength + j);
                targets.Add(s.Ids[pred[j]]);
            }
            keyMask.AsSpan(r * keys, s.Length + c).Fill(1f);

            void Open(int fromRow, int key) => attend[(r * rows + fromRow) * keys + key] = 1f;
            for (int i = 0; i < rows; i++)
            {
                bool contentRow = i < s.Length + c, queryRow = i >= contentLength && i < contentLength + c;
                if (!contentRow && !queryRow) { Open(i, 0); continue; }                        // padding rows: any valid key
                for (int k = 0; k < kept; k++) Open(i, k);                                     // everyone sees the kept tokens
                if (i < kept + c) { for (int j = 0; j < c; j++) Open(i, kept + j); continue; } // kept and [MASK] rows: every [MASK]
                int step = contentRow ? i - kept - c : i - contentLength;                      // this row's place in the order
                int lastSeen = contentRow ? step : step - 1;                                  // predicted tokens visible: 0..lastSeen
                for (int j = 0; j <= lastSeen; j++) Open(i, kept + c + j);
                for (int j = lastSeen + 1; j < c; j++) Open(i, kept + j);                      // the rest as [MASK]s
            }
        }
        var inputs = new EncoderInputs
        {
            Ids = new IntTensor(ids, b, rows), Positions = new IntTensor(positions, b, rows),
            KeyMask = Tensor.Wrap(keyMask, b, keys), AttentionMask = Tensor.Wrap(attend, b, rows, keys), KeyRows = keys,
        };
        return new Layout(inputs, new IntTensor(queryRows.ToArray(), queryRows.Count), new IntTensor(targets.ToArray(), targets.Count));
    }

    /// <inheritdoc/>
    public PretrainingLoss Loss(TokenBatch batch, Rng rng)
    {
        var predicted = new List<int[]>();
        foreach (var s in batch.Sequences)
        {
            var chosen = _masker.Choose(s, rng);
            rng.Shuffle<int>(chosen);                                                    // a random prediction order
            predicted.Add(chosen);
        }
        var layout = Build(batch.Sequences, predicted, id => _masker.Corrupt(id, rng), _special.Pad);
        var hidden = _model.Bert.Forward(layout.Inputs);                                 // [b, rows, H]
        var picked = hidden.Reshape(-1, hidden.Dim(2)).IndexSelect(0, layout.QueryRows); // [k, H]
        var loss = Tensor.CrossEntropy(_model.MlmLogits(picked), layout.Targets);
        return new PretrainingLoss(loss, new Dictionary<string, double> { ["mpnet"] = loss.Item() });
    }

    /// <inheritdoc/>
    public Tensor PredictMasked(IntTensor input, Tensor keyMask, IntTensor where) => MaskedLanguageModel.PredictMasked(_model, input, keyMask, where);

    /// <inheritdoc/>
    public void SaveEncoder(string directory, Text.Vocabulary? vocabulary) => BertCheckpoint.Save(directory, _model.Bert.Config, _model, vocabulary);
}
