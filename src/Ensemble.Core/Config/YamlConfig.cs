using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Ensemble.Core.Config;

/// <summary>
/// Strict YAML configuration loading: YAML → JSON tree → typed records (snake_case keys), with Hydra-style
/// command-line overrides (<c>training.batch_size=8</c>). Unknown keys, wrong types and malformed YAML are
/// <see cref="EnsembleException"/>s naming the file and the key.
/// </summary>
public static class YamlConfig
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static T Load<T>(string path, IEnumerable<string>? overrides = null)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: config file not found");
        return Parse<T>(File.ReadAllText(path), path, overrides);
    }

    public static T Parse<T>(string yaml, string source, IEnumerable<string>? overrides = null)
    {
        var tree = ToJson(yaml, source) ?? new JsonObject();
        foreach (var o in overrides ?? [])
            ApplyOverride(tree, o, source);
        return Bind<T>(tree, source);
    }

    /// <summary>Deserialises a JSON tree, turning binding errors into one-line messages with the key path.</summary>
    public static T Bind<T>(JsonNode tree, string source)
    {
        try
        {
            return tree.Deserialize<T>(Options) ?? throw new EnsembleException($"{source}: empty config");
        }
        catch (JsonException e)
        {
            string key = (e.Path ?? "$").TrimStart('$').TrimStart('.');
            string why = e.Message.Split(" Path:")[0].Split(". LineNumber")[0];
            if (why.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
            {
                string name = why.Split('\'').ElementAtOrDefault(1) ?? "?";
                string full = key == name || key.EndsWith("." + name, StringComparison.Ordinal) ? key : (key.Length > 0 ? key + "." : "") + name;
                throw new EnsembleException($"{source}: unknown key '{full}'");
            }
            if (why.Contains("missing required properties", StringComparison.Ordinal))
                throw new EnsembleException($"{source}: {why}");
            throw new EnsembleException($"{source}: key '{key}': wrong type or value ({why})");
        }
    }

    /// <summary>YAML text → JSON tree (mappings → objects, sequences → arrays, plain scalars typed).</summary>
    public static JsonNode? ToJson(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new EnsembleException($"{source}: invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message.Split('\n')[0]}");
        }
        if (stream.Documents.Count == 0) return null;
        return Convert(stream.Documents[0].RootNode, source);
    }

    static JsonNode? Convert(YamlNode node, string source)
    {
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (k, v) in map.Children)
                {
                    string key = ((YamlScalarNode)k).Value ?? "";
                    if (obj.ContainsKey(key))
                        throw new EnsembleException($"{source}: duplicate key '{key}' at line {k.Start.Line}");
                    obj[key] = Convert(v, source);
                }
                return obj;
            case YamlSequenceNode seq:
                return new JsonArray(seq.Children.Select(c => Convert(c, source)).ToArray());
            case YamlScalarNode s:
                return Scalar(s.Value, s.Style is ScalarStyle.Plain);
            default:
                throw new EnsembleException($"{source}: unsupported YAML node at line {node.Start.Line}");
        }
    }

    static JsonNode? Scalar(string? value, bool plain)
    {
        if (!plain) return JsonValue.Create(value);
        switch (value)
        {
            case null or "" or "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE": return JsonValue.Create(true);
            case "false" or "False" or "FALSE": return JsonValue.Create(false);
        }
        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l)) return JsonValue.Create(l);
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)) return JsonValue.Create(d);
        return JsonValue.Create(value);
    }

    /// <summary>Applies <c>a.b.c=value</c> (value parsed as YAML, so lists and numbers work) to the tree.</summary>
    public static void ApplyOverride(JsonNode tree, string assignment, string source)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new EnsembleException($"override '{assignment}': expected key.sub=value");
        string path = assignment[..eq].Trim();
        string text = assignment[(eq + 1)..];
        var parts = path.Split('.');
        if (parts.Any(p => p.Length == 0)) throw new EnsembleException($"override '{assignment}': empty key segment");
        // `key=null` (or `key=~`) clears a key: the YAML null becomes a JSON null.
        JsonNode? value = ToJson(text.Length == 0 ? "\"\"" : text, $"override '{assignment}'");
        if (tree is not JsonObject cur) throw new EnsembleException($"{source}: the config root is not a mapping");
        for (int i = 0; i < parts.Length - 1; i++)
        {
            if (cur[parts[i]] is null) cur[parts[i]] = new JsonObject();
            if (cur[parts[i]] is not JsonObject next)
                throw new EnsembleException($"override '{assignment}': '{string.Join('.', parts[..(i + 1)])}' is not a mapping");
            cur = next;
        }
        cur[parts[^1]] = value?.DeepClone();
    }

    /// <summary>The resolved config as YAML-compatible JSON text (for `config show` and content hashes).</summary>
    public static string Show<T>(T config) => JsonSerializer.Serialize(config, Options);
}
