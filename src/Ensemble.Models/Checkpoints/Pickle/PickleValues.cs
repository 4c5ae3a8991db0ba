namespace Ensemble.Models.Checkpoints.Pickle;

/// <summary>A module-qualified name a pickle referenced with GLOBAL/STACK_GLOBAL, already judged by <see cref="PickleGlobals"/>.</summary>
public sealed record PyGlobal(string Module, string Name, GlobalKind Kind)
{
    public string FullName => $"{Module}.{Name}";
    public override string ToString() => FullName;
}

/// <summary>An ordered Python dict (also what collections.OrderedDict becomes).</summary>
public sealed class PyDict
{
    readonly List<KeyValuePair<object?, object?>> _items = [];
    public IReadOnlyList<KeyValuePair<object?, object?>> Items => _items;
    public int Count => _items.Count;

    public void Set(object? key, object? value)
    {
        for (int i = 0; i < _items.Count; i++)
            if (Equals(_items[i].Key, key)) { _items[i] = new(key, value); return; }
        _items.Add(new(key, value));
    }

    public bool TryGet(string key, out object? value)
    {
        foreach (var kv in _items)
            if (kv.Key is string s && s == key) { value = kv.Value; return true; }
        value = null;
        return false;
    }
}

/// <summary>A Python set/frozenset read from EMPTY_SET/ADDITEMS/FROZENSET: kept as a list, never hashed.</summary>
public sealed class PySet(List<object?> items)
{
    public List<object?> Items { get; } = items;
}

/// <summary>
/// What an "inert data" class (e.g. the pickled makani params object) becomes: its global name, constructor arguments
/// and BUILD state are recorded as plain values; nothing is ever instantiated or called.
/// </summary>
public sealed class PickleOpaque(PyGlobal type, object? args)
{
    public PyGlobal Type { get; } = type;
    public object? Args { get; } = args;
    public object? State { get; set; }
    public override string ToString() => $"<opaque {Type.FullName}>";
}
