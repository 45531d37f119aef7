namespace Jianwei.Tensors.Nn;

/// <summary>Random projections for Performer's FAVOR+ attention.</summary>
public static class RandomFeatures
{
    /// <summary>
    /// A [features, dim] matrix of orthogonal random features: blocks of dim rows, each block the
    /// orthonormal rows of a Gaussian matrix (Gram-Schmidt in double), every row then scaled to the
    /// length of an independent Gaussian vector so that rows are marginally N(0, I) while rows within a
    /// block are exactly orthogonal — which lowers the variance of the softmax-kernel estimate.
    /// </summary>
    public static Tensor Orthogonal(Rng rng, int features, int dim)
    {
        if (features <= 0 || dim <= 0) throw new ArgumentOutOfRangeException(nameof(features), "features and dim must be positive.");
        var w = new float[features * dim];
        var block = new double[dim * dim];
        for (int start = 0; start < features; start += dim)
        {
            for (int i = 0; i < block.Length; i++) block[i] = rng.NextNormal();
            for (int r = 0; r < dim; r++)
            {
                var row = block.AsSpan(r * dim, dim);
                for (int p = 0; p < r; p++)   // modified Gram-Schmidt against the rows already done
                {
                    var prev = block.AsSpan(p * dim, dim);
                    double dot = 0;
                    for (int j = 0; j < dim; j++) dot += row[j] * prev[j];
                    for (int j = 0; j < dim; j++) row[j] -= dot * prev[j];
                }
                double norm = 0;
                for (int j = 0; j < dim; j++) norm += row[j] * row[j];
                norm = Math.Sqrt(norm);
                for (int j = 0; j < dim; j++) row[j] /= norm;
            }
            int rows = Math.Min(dim, features - start);
            for (int r = 0; r < rows; r++)
            {
                double length = 0;
                for (int j = 0; j < dim; j++) { double g = rng.NextNormal(); length += g * g; }
                length = Math.Sqrt(length);
                for (int j = 0; j < dim; j++) w[(start + r) * dim + j] = (float)(block[r * dim + j] * length);
            }
        }
        return Tensor.Wrap(w, features, dim);
    }
}
