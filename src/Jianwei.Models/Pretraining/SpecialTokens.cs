using Jianwei.Text;

namespace Jianwei.Models.Pretraining;

/// <summary>The ids of the special tokens, read from a vocabulary.</summary>
public sealed record SpecialTokens(int Pad, int Unk, int Cls, int Sep, int Mask)
{
    /// <summary>Looks up [PAD], [UNK], [CLS], [SEP] and [MASK]; throws naming any that is missing.</summary>
    public static SpecialTokens From(Vocabulary vocabulary)
    {
        int Id(string token) => vocabulary.IdOf(token) is int id and >= 0 ? id
            : throw new ArgumentException($"the vocabulary has no {token} token (pretraining needs [PAD], [UNK], [CLS], [SEP], [MASK]).");
        return new SpecialTokens(Id("[PAD]"), Id("[UNK]"), Id("[CLS]"), Id("[SEP]"), Id("[MASK]"));
    }

    /// <summary>True for the five special ids.</summary>
    public bool Contains(int id) => id == Pad || id == Unk || id == Cls || id == Sep || id == Mask;
}
