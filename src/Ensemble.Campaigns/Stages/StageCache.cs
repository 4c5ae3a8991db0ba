using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ensemble.Core;

namespace Ensemble.Campaigns.Stages;

/// <summary>What happened to a stage in this invocation.</summary>
public enum StageOutcome { Reused, Ran, Resumed }

/// <summary>
/// Content-addressed stage bookkeeping. A stage's hash covers its own inputs (resolved config values, contents
/// of referenced files) and the hashes of the stages it reads, so editing one config value invalidates exactly
/// the stages downstream of it. Each stage owns the folder CAMPAIGN/NAME:
/// <list type="bullet">
/// <item><c>stage.json</c> (written atomically last) marks a complete stage with its hash → reused;</item>
/// <item><c>.started</c> holds the hash of an unfinished attempt → the stage resumes in place (the stages'
///   own resume: training checkpoints, runner work items);</item>
/// <item>anything else (another hash) is stale: it is moved aside and deleted before the stage runs.</item>
/// </list>
/// </summary>
public sealed class StageCache(string root)
{
    public const string RecordFile = "stage.json";
    const string StartedFile = ".started";
    /// <summary>Bump when a stage's outputs change meaning, so old campaign folders are recomputed.</summary>
    public const int FormatVersion = 1;

    public string Root { get; } = Path.GetFullPath(root);

    public string DirectoryOf(string stage) => Path.Combine(Root, stage);

    public static string Hash(string stage, JsonNode inputs, IEnumerable<string> upstream)
    {
        var doc = new JsonObject
        {
            ["stage"] = stage,
            ["version"] = FormatVersion,
            ["inputs"] = inputs.DeepClone(),
            ["upstream"] = new JsonArray(upstream.Select(h => (JsonNode)JsonValue.Create(h)!).ToArray()),
        };
        var bytes = Encoding.UTF8.GetBytes(Canonical(doc));
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    /// <summary>SHA-256 of a file's bytes (for referenced config files).</summary>
    public static string FileHash(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    public bool IsComplete(string stage, string hash)
    {
        var record = Path.Combine(DirectoryOf(stage), RecordFile);
        if (!File.Exists(record)) return false;
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(record));
            return node?["hash"]?.GetValue<string>() == hash;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Prepares the stage folder for running: keeps it when an unfinished attempt has the same hash (resume),
    /// clears it otherwise. Returns whether this is a resume.
    /// </summary>
    public bool Prepare(string stage, string hash)
    {
        string dir = DirectoryOf(stage);
        string started = Path.Combine(dir, StartedFile);
        if (Directory.Exists(dir))
        {
            bool sameAttempt = File.Exists(started) && File.ReadAllText(started).Trim() == hash && !File.Exists(Path.Combine(dir, RecordFile));
            if (sameAttempt) return true;
            Discard(dir);
        }
        Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(started, hash);
        return false;
    }

    public void Complete(string stage, string hash, JsonNode inputs, JsonObject? results = null)
    {
        var record = new JsonObject
        {
            ["stage"] = stage,
            ["hash"] = hash,
            ["finished_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["inputs"] = inputs.DeepClone(),
            ["results"] = results?.DeepClone() ?? new JsonObject(),
        };
        AtomicFile.WriteAllText(Path.Combine(DirectoryOf(stage), RecordFile), record.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The results object of a complete stage.</summary>
    public JsonObject Results(string stage)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(DirectoryOf(stage), RecordFile)));
        return node?["results"] as JsonObject ?? new JsonObject();
    }

    static void Discard(string dir)
    {
        // Rename first so a crash during the delete never leaves a half-deleted folder under the stage's name.
        string aside = Path.Combine(Path.GetDirectoryName(dir)!, $".stale-{Path.GetFileName(dir)}-{Guid.NewGuid():N}");
        Directory.Move(dir, aside);
        Directory.Delete(aside, recursive: true);
    }

    /// <summary>JSON with object keys sorted, so the hash does not depend on key order.</summary>
    public static string Canonical(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(node, sb);
        return sb.ToString();

        static void Write(JsonNode? n, StringBuilder sb)
        {
            switch (n)
            {
                case null: sb.Append("null"); break;
                case JsonObject o:
                    sb.Append('{');
                    bool first = true;
                    foreach (var kv in o.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    {
                        if (!first) sb.Append(',');
                        first = false;
                        sb.Append(JsonSerializer.Serialize(kv.Key)).Append(':');
                        Write(kv.Value, sb);
                    }
                    sb.Append('}');
                    break;
                case JsonArray a:
                    sb.Append('[');
                    for (int i = 0; i < a.Count; i++)
                    {
                        if (i > 0) sb.Append(',');
                        Write(a[i], sb);
                    }
                    sb.Append(']');
                    break;
                default: sb.Append(n.ToJsonString()); break;
            }
        }
    }
}
