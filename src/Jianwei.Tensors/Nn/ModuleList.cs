namespace Jianwei.Tensors.Nn;

/// <summary>An indexed list of child modules, named "0", "1", … (as torch.nn.ModuleList).</summary>
public sealed class ModuleList<T> : Module where T : Module
{
    private readonly List<T> _items = new();

    /// <summary>Creates the list from modules.</summary>
    public ModuleList(IEnumerable<T> modules)
    {
        foreach (var m in modules) Add(m);
    }

    /// <summary>Appends a module under the next index.</summary>
    public void Add(T module) => _items.Add(RegisterModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module));

    /// <summary>Number of modules.</summary>
    public int Count => _items.Count;

    /// <summary>The module at an index.</summary>
    public T this[int index] => _items[index];

    /// <summary>The modules in order.</summary>
    public IReadOnlyList<T> Items => _items;
}
