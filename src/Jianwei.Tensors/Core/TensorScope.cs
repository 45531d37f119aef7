namespace Jianwei.Tensors;

/// <summary>
/// A region whose tensors return their storage to a pool when it ends, so that a training step
/// allocates (almost) nothing on the managed heap after warm-up. Shapes repeat from step to step,
/// so buffers are pooled by exact length.
/// </summary>
/// <example>
/// <code>
/// using (new TensorScope())
/// {
///     var loss = model.Loss(batch);   // activations come from the pool
///     loss.Backward();
///     optimizer.Step();
///     lossValue = loss.Item();
/// }                                   // every tensor created inside is recycled here
/// </code>
/// Tensors that must outlive the scope are passed to <see cref="Keep"/>.
/// Outside any scope, tensors are ordinary garbage-collected arrays.
/// </example>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? t_current;

    // Pool shared by all threads: the buffers are handed out whole and never shared while rented.
    private static readonly Dictionary<int, Stack<float[]>> s_pool = new();
    private static readonly object s_lock = new();
    private static long s_pooledFloats;
    private static long s_rentedFloats, s_peakRentedFloats;

    /// <summary>Most floats ever rented by scopes at the same time (activation memory high-water mark).</summary>
    public static long PeakRentedFloats => Interlocked.Read(ref s_peakRentedFloats);

    /// <summary>Resets <see cref="PeakRentedFloats"/> to the current level.</summary>
    public static void ResetPeak() => Interlocked.Exchange(ref s_peakRentedFloats, Interlocked.Read(ref s_rentedFloats));

    private static void CountRented(long delta)
    {
        long now = Interlocked.Add(ref s_rentedFloats, delta);
        long peak;
        while (now > (peak = Interlocked.Read(ref s_peakRentedFloats)) && Interlocked.CompareExchange(ref s_peakRentedFloats, now, peak) != peak) { }
    }

    /// <summary>
    /// Upper bound on floats kept idle in the pool, or null (the default) for twice the activation
    /// high-water mark, at least 32 M floats (128 MB). Buffers are pooled by exact length, so batches
    /// of varying sequence length leave buffers no later step asks for; when a returned buffer would
    /// overflow the bound the pool is emptied (to the GC) and refills with the shapes now in use.
    /// </summary>
    public static long? MaxPooledFloats { get; set; }

    private static long PoolLimit => MaxPooledFloats ?? Math.Max(32L << 20, 2 * Interlocked.Read(ref s_peakRentedFloats));

    // Callers hold s_lock.
    private static void Pool(float[] buffer)
    {
        if (s_pooledFloats + buffer.Length > PoolLimit)
        {
            s_pool.Clear();
            s_pooledFloats = 0;
            if (buffer.Length > PoolLimit) return;
        }
        if (!s_pool.TryGetValue(buffer.Length, out var stack)) s_pool[buffer.Length] = stack = new Stack<float[]>();
        stack.Push(buffer);
        s_pooledFloats += buffer.Length;
    }

    /// <summary>Floats idle in the pool now.</summary>
    public static long PooledFloats { get { lock (s_lock) return s_pooledFloats; } }

    private readonly TensorScope? _parent;
    private readonly List<float[]> _rented = new();
    private bool _disposed;

    /// <summary>Opens a scope on this thread; nested scopes return their buffers first.</summary>
    public TensorScope()
    {
        _parent = t_current;
        t_current = this;
    }

    /// <summary>The innermost open scope of this thread, if any.</summary>
    public static TensorScope? Current => t_current;

    /// <summary>Buffers currently rented by this scope.</summary>
    public int RentedCount => _rented.Count;

    internal static float[] Rent(int length)
    {
        var scope = t_current;
        if (scope is null || length == 0) return new float[Math.Max(length, 1)];
        float[]? buffer = null;
        lock (s_lock)
        {
            if (s_pool.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                buffer = stack.Pop();
                s_pooledFloats -= buffer.Length;
            }
        }
        buffer ??= GC.AllocateUninitializedArray<float>(length);
        scope._rented.Add(buffer);
        CountRented(buffer.Length);
        return buffer;
    }

    /// <summary>Moves a tensor's storage out of this scope (into the enclosing one, or to the GC).</summary>
    public Tensor Keep(Tensor tensor)
    {
        int i = _rented.LastIndexOf(tensor._data);
        if (i >= 0)
        {
            _rented.RemoveAt(i);
            if (_parent is not null) _parent._rented.Add(tensor._data);
            else CountRented(-tensor._data.Length);
        }
        return tensor;
    }

    /// <summary>
    /// Removes a tensor's storage from every open scope on this thread, so it is never recycled
    /// (parameters and buffers registered on a module live as long as the module).
    /// </summary>
    internal static void Forget(Tensor tensor)
    {
        for (var s = t_current; s is not null; s = s._parent)
        {
            int i = s._rented.LastIndexOf(tensor._data);
            if (i >= 0) { s._rented.RemoveAt(i); CountRented(-tensor._data.Length); return; }
        }
    }

    /// <summary>
    /// Hands a dead tensor's buffer back to the pool before the scope ends (backward does this with
    /// each intermediate gradient once it has been pushed to the op's inputs). Buffers not rented by
    /// an open scope of this thread are left alone.
    /// </summary>
    internal static void ReturnEarly(Tensor tensor)
    {
        var scope = t_current;
        if (scope is null) return;
        var list = scope._rented;
        int i = list.LastIndexOf(tensor._data);
        if (i < 0) return;
        list[i] = list[^1];
        list.RemoveAt(list.Count - 1);
        CountRented(-tensor._data.Length);
        lock (s_lock) Pool(tensor._data);
    }

    /// <summary>Returns every buffer rented inside this scope to the pool.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (t_current != this)
            throw new InvalidOperationException("TensorScope disposed out of order: close inner scopes first.");
        t_current = _parent;
        lock (s_lock)
        {
            foreach (var buffer in _rented)
            {
                CountRented(-buffer.Length);
                Pool(buffer);
            }
        }
        _rented.Clear();
    }

    /// <summary>Runs <paramref name="allocate"/> with pooling suspended: what it creates is never recycled.</summary>
    internal static T Unpooled<T>(Func<T> allocate)
    {
        var saved = t_current;
        t_current = null;
        try { return allocate(); }
        finally { t_current = saved; }
    }

    /// <summary>Empties the pool (tests, or after a change of shapes).</summary>
    public static void ClearPool()
    {
        lock (s_lock) { s_pool.Clear(); s_pooledFloats = 0; }
    }
}
