using System.Globalization;
using System.Text;
using System.Text.Json;
using Ensemble.Core;
using Ensemble.Data.Npy;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>
/// Writes world output into a folder: <c>fields.npy</c> float32 [T, C, nlat, nlon] (streamed), <c>times.npy</c>
/// int64 seconds since 1970-01-01 UTC, <c>lat.npy</c>, <c>lon.npy</c> (float64 degrees) and <c>world.json</c>
/// (channels, units, start, interval, configuration). Every file is written under a temporary name and renamed
/// into place when complete; <c>fields.npy</c> only on <see cref="Complete"/>.
/// </summary>
public sealed class NpyWorldSink(string directory) : IWorldSink
{
    WorldMetadata? _meta;
    FileStream? _fields;
    string? _tmp;
    readonly List<long> _times = [];

    public void Begin(WorldMetadata metadata)
    {
        if (!Directory.Exists(directory)) throw new EnsembleException($"{directory}: output directory does not exist");
        _meta = metadata;
        _tmp = Path.Combine(directory, $".fields.npy.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        _fields = new FileStream(_tmp, FileMode.CreateNew, FileAccess.Write);
        WriteHeader(_fields, "<f4", [metadata.Count, metadata.Channels.Count, metadata.LatitudesDeg.Length, metadata.LongitudesDeg.Length]);
    }

    public void Write(DateTime time, Tensor snapshot)
    {
        if (_fields is null || _meta is null) throw new InvalidOperationException("NpyWorldSink.Write before Begin");
        if (_times.Count >= _meta.Count) throw new InvalidOperationException($"NpyWorldSink: more than the announced {_meta.Count} snapshots");
        using var c = snapshot.to(ScalarType.Float32).cpu().contiguous();
        long expected = (long)_meta.Channels.Count * _meta.LatitudesDeg.Length * _meta.LongitudesDeg.Length;
        if (c.NumberOfElements != expected) throw new InvalidOperationException($"NpyWorldSink: snapshot has {c.NumberOfElements} values, expected {expected}");
        _fields.Write(c.bytes);
        _times.Add(new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)).ToUnixTimeSeconds());
    }

    public void Complete()
    {
        if (_fields is null || _meta is null || _tmp is null) throw new InvalidOperationException("NpyWorldSink.Complete before Begin");
        if (_times.Count != _meta.Count) throw new InvalidOperationException($"NpyWorldSink: {_times.Count} snapshots written, {_meta.Count} announced");
        _fields.Flush(flushToDisk: true);
        _fields.Dispose();
        _fields = null;
        File.Move(_tmp, Path.Combine(directory, "fields.npy"), overwrite: true);
        NpyFile.Write(Path.Combine(directory, "times.npy"), new NpyArray("<i8", [_times.Count], _times.SelectMany(BitConverter.GetBytes).ToArray()));
        NpyFile.Write(Path.Combine(directory, "lat.npy"), NpyArray.FromDoubles(_meta.LatitudesDeg, _meta.LatitudesDeg.Length));
        NpyFile.Write(Path.Combine(directory, "lon.npy"), NpyArray.FromDoubles(_meta.LongitudesDeg, _meta.LongitudesDeg.Length));
        var info = new
        {
            channels = _meta.Channels.Select(ch => new { name = ch.Name, units = ch.Units, long_name = ch.LongName }),
            start = _meta.Start.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            interval_hours = _meta.Interval.TotalHours,
            count = _meta.Count,
            config = _meta.Config.ToYaml(),
        };
        AtomicFile.WriteAllText(Path.Combine(directory, "world.json"), JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>NPY v1.0 header for a C-order array of known shape (padded to a multiple of 64 bytes).</summary>
    static void WriteHeader(Stream s, string descr, long[] shape)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        s.Write(BitConverter.GetBytes((ushort)header.Length));
        s.Write(Encoding.ASCII.GetBytes(header));
    }
}
