using Ensemble.Core;
using Ensemble.Data.Hdf5;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Data.Datasets;

/// <summary>
/// A folder of Makani/FourCastNet year files (<c>YYYY.h5</c>, dataset <c>fields [time, channel, lat, lon]</c>) as an
/// <see cref="IFieldDataset"/>, with channel names and the grid from <c>data.json</c> (in the folder or its parent).
/// Time of index i in a year file = 1 January 00Z + i·dhours; consecutive years that join up form one segment.
/// </summary>
public sealed class MakaniDataset : IFieldDataset, IDisposable
{
    readonly List<MakaniYearReader> _years = [];
    readonly int[] _yearStart;
    readonly int[] _channelIndex;

    public MakaniDataset(string folder, IReadOnlyList<string>? channels = null)
    {
        if (!Directory.Exists(folder)) throw new EnsembleException($"{folder}: no such folder");
        string? meta = new[] { Path.Combine(folder, "data.json"), Path.Combine(Path.GetDirectoryName(Path.GetFullPath(folder))!, "data.json") }
            .FirstOrDefault(File.Exists);
        if (meta == null) throw new EnsembleException($"{folder}: no data.json here or in the parent folder");
        Metadata = MakaniMetadata.Read(meta);
        var files = Directory.GetFiles(folder, "*.h5").Where(f => int.TryParse(Path.GetFileNameWithoutExtension(f), out _)).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new EnsembleException($"{folder}: no YYYY.h5 year files");
        try
        {
            foreach (var f in files)
            {
                var r = MakaniYearFile.Open(f, Metadata.DHours);
                _years.Add(r);
                if (r.Shape[1] != Metadata.Channels.Length || r.Shape[2] != Metadata.Lat.Length || r.Shape[3] != Metadata.Lon.Length)
                    throw new EnsembleException($"{f}: fields [{string.Join(", ", r.Shape)}] do not match data.json ({Metadata.Channels.Length} channels, {Metadata.Lat.Length}x{Metadata.Lon.Length})");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        var names = channels ?? Metadata.Channels;
        _channelIndex = names.Select(n =>
        {
            int i = Array.IndexOf(Metadata.Channels, n);
            return i >= 0 ? i : throw new EnsembleException($"{folder}: no channel '{n}' (available: {string.Join(", ", Metadata.Channels)})");
        }).ToArray();
        Channels = names.ToArray();
        _yearStart = new int[_years.Count];
        var segments = new List<(int, int)>();
        int start = 0;
        for (int y = 0; y < _years.Count; y++)
        {
            _yearStart[y] = start;
            int n = (int)_years[y].Shape[0];
            bool joins = y > 0 && _years[y - 1].TimeOf((int)_years[y - 1].Shape[0] - 1) + Step == _years[y].TimeOf(0);
            if (joins) segments[^1] = (segments[^1].Item1, segments[^1].Item2 + n);
            else segments.Add((start, n));
            start += n;
        }
        Count = start;
        Segments = segments;
    }

    public MakaniMetadata Metadata { get; }
    public IReadOnlyList<string> Channels { get; }
    public int NLat => Metadata.Lat.Length;
    public int NLon => Metadata.Lon.Length;
    public int Count { get; }
    public TimeSpan Step => TimeSpan.FromHours(Metadata.DHours);
    public IReadOnlyList<(int Start, int Length)> Segments { get; }

    public DateTime TimeOf(int index)
    {
        var (y, i) = Locate(index);
        return _years[y].TimeOf(i);
    }

    public Tensor Get(int index)
    {
        var (y, i) = Locate(index);
        var all = torch.tensor(_years[y].ReadTime(i), [Metadata.Channels.Length, NLat, NLon]);
        if (_channelIndex.Length == Metadata.Channels.Length && _channelIndex.Select((c, k) => c == k).All(b => b))
            return all;
        using var idx = torch.tensor(_channelIndex.Select(c => (long)c).ToArray());
        using (all) return all.index_select(0, idx);
    }

    (int Year, int Index) Locate(int index)
    {
        if (index < 0 || index >= Count) throw new ArgumentOutOfRangeException(nameof(index), $"time index {index} outside [0, {Count})");
        int y = Array.BinarySearch(_yearStart, index);
        if (y < 0) y = ~y - 1;
        return (y, index - _yearStart[y]);
    }

    public void Dispose()
    {
        foreach (var r in _years) r.Dispose();
        _years.Clear();
    }
}
