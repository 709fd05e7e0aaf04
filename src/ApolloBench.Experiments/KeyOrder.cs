namespace ApolloBench.Experiments;

/// <summary>The order in which keys first appear in each object of the layers.</summary>
sealed class KeyOrder
{
    readonly Dictionary<string, List<string>> children = new(StringComparer.OrdinalIgnoreCase);

    public void Add(string parent, string name)
    {
        if (!children.TryGetValue(parent, out var list)) children[parent] = list = [];
        if (!list.Contains(name, StringComparer.OrdinalIgnoreCase)) list.Add(name);
    }

    /// <summary>Appends the keys of <paramref name="layer"/> under <paramref name="prefix"/> (all of them for "") as if they were at the root.</summary>
    public void Merge(KeyOrder layer, string prefix)
    {
        foreach (var (parent, names) in layer.children.Where(kv => kv.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                                                                    || kv.Key.Equals(prefix.TrimEnd(':'), StringComparison.OrdinalIgnoreCase)).ToList())
        {
            var relative = parent.Length > prefix.Length ? parent[prefix.Length..] : "";
            foreach (var name in names) Add(relative, name);
        }
    }

    public void AddKey(string path)
    {
        var parts = path.Split(':');
        for (int i = 0; i < parts.Length; i++) Add(string.Join(':', parts[..i]), parts[i]);
    }

    public Dictionary<string, T>? Sort<T>(Dictionary<string, T>? items, string parent)
    {
        if (items is null) return null;
        var seq = children.TryGetValue(parent, out var list) ? list : [];
        int Rank(string key)
        {
            int i = seq.FindIndex(n => n.Equals(key, StringComparison.OrdinalIgnoreCase));
            return i < 0 ? int.MaxValue : i;
        }
        return items.OrderBy(kv => Rank(kv.Key)).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .ToDictionary(kv => kv.Key, kv => kv.Value);
    }
}
