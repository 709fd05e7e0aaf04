using System.Globalization;
using System.Reflection;
using ApolloBench.Core;
using Microsoft.Extensions.Configuration;

namespace ApolloBench.Experiments;

/// <summary>Checks one configuration layer against the schema types: known keys, objects where objects go, parsable values.</summary>
sealed class SchemaWalker(string file)
{
    UsageException Fail(string path, string message) => new($"{file}: {path}: {message}");

    public void CheckMember(IConfigurationSection section, Type owner, string path)
    {
        var property = Properties(owner).FirstOrDefault(p => p.Name.Equals(section.Key, StringComparison.OrdinalIgnoreCase));
        var here = path + section.Key;
        if (property is null)
            throw Fail(here, $"unknown key (valid: {string.Join(", ", Properties(owner).Select(p => JsonLayer.CamelCase(p.Name)))})");
        CheckValue(section, property.PropertyType, here);
    }

    public void CheckValue(IConfigurationSection section, Type type, string path)
    {
        var children = section.GetChildren().ToList();
        var leaf = Nullable.GetUnderlyingType(type) ?? type;
        if (LeafKind(leaf) is { } kind)
        {
            if (children.Count > 0) throw Fail(path, $"expected {kind}, found an object");
            if (section.Value is null) throw Fail(path, $"expected {kind}, found an empty object");
            if (!Parses(leaf, section.Value)) throw Fail(path, $"'{section.Value}' is not {kind}");
            return;
        }
        if (children.Count == 0)
            throw Fail(path, section.Value is { Length: > 0 } v ? $"expected an object, found '{v}'" : "expected an object, found an empty one");
        if (leaf.IsGenericType && leaf.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            var itemType = leaf.GetGenericArguments()[1];
            foreach (var child in children) CheckValue(child, itemType, $"{path}.{child.Key}");
            return;
        }
        foreach (var child in children) CheckMember(child, leaf, path + ".");
    }

    static PropertyInfo[] Properties(Type t) => t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanWrite && p.Name != "EqualityContract").ToArray();

    static string? LeafKind(Type t) =>
        t == typeof(string) ? "a string" :
        t == typeof(int) || t == typeof(long) ? "an integer" :
        t == typeof(double) ? "a number" :
        t == typeof(bool) ? "true or false" : null;

    static bool Parses(Type t, string value) =>
        t == typeof(string) ||
        (t == typeof(int) && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)) ||
        (t == typeof(long) && long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)) ||
        (t == typeof(double) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)) ||
        (t == typeof(bool) && bool.TryParse(value, out _));
}
