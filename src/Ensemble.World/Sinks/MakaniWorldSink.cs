using Ensemble.Core;
using Ensemble.Data.Hdf5;
using Ensemble.Spherical;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>
/// Writes world output as a Makani/FourCastNet training set: <c>DIR/train/YYYY.h5</c> (and <c>DIR/valid/YYYY.h5</c>
/// for years ≥ <c>validationFromYear</c>), <c>DIR/data.json</c> (channels, lat, lon, dhours, grid_type) and
/// <c>DIR/stats/</c> (global_means.npy, global_stds.npy [1, C, 1, 1] and time_means.npy [1, C, lat, lon]), all from the
/// training years only (from every year when there are none). Global statistics are unweighted over time, latitude
/// and longitude, as FourCastNet's. A year file's index i is 1 January 00 UTC + i·dhours, so the world must start
/// on 1 January 00 UTC with a whole-hour interval that divides a day. One year of snapshots is held in memory
/// (64×128, 6 channels, 6-hourly: 290 MB) and written, under a temporary name, when the next year starts or on
/// <see cref="Complete"/>. The exact restart states go to <c>DIR/restart/YYYY.npy</c> with the configuration in
/// <c>DIR/restart/world.yaml</c> (<see cref="WorldRestartFile"/>; 64×128 T42: 118 KB per snapshot, 172 MB per year).
/// </summary>
public sealed class MakaniWorldSink(string outputDir, int? validationFromYear = null) : IWorldSink, IWorldRestartSink
{
    readonly List<double[]> _restart = [];
    int _lmax, _mmax;
    WorldMetadata? _meta;
    int _dhours;
    int _year;
    DateTime _expected;
    readonly List<float[]> _buffer = [];
    double[]? _shift, _sum, _sumSq, _timeSum;
    long _statCount, _statSnapshots;
    bool _statsFromTraining;

    public string OutputDirectory => outputDir;
    public int? ValidationFromYear => validationFromYear;

    public void Begin(WorldMetadata metadata)
    {
        var start = metadata.Start;
        if (start.Month != 1 || start.Day != 1 || start.TimeOfDay != TimeSpan.Zero)
            throw new EnsembleException($"{outputDir}: Makani year files begin on 1 January 00 UTC, but the world starts at {start:yyyy-MM-ddTHH:mm:ssZ} (set 'start' to a 1 January)");
        double h = metadata.Interval.TotalHours;
        if (h < 1 || h != Math.Round(h) || 24 % (int)h != 0)
            throw new EnsembleException($"{outputDir}: Makani needs a whole number of hours dividing 24 between snapshots, got output_hours {h}");
        _meta = metadata;
        _dhours = (int)h;
        _year = start.Year;
        _expected = start;
        _statsFromTraining = validationFromYear is null || start.Year < validationFromYear;
        int c = metadata.Channels.Count, pts = metadata.LatitudesDeg.Length * metadata.LongitudesDeg.Length;
        _sum = new double[c];
        _sumSq = new double[c];
        _timeSum = new double[c * pts];
        Directory.CreateDirectory(outputDir);
        new MakaniMetadata("ensemble-world", _dhours, metadata.Channels.Select(ch => ch.Name).ToArray(),
            metadata.LatitudesDeg, metadata.LongitudesDeg, GridTypes.Name(metadata.Config.GridType))
            .Write(Path.Combine(outputDir, "data.json"));
        _lmax = metadata.Config.Lmax;
        _mmax = metadata.Config.Mmax;
        Directory.CreateDirectory(Path.Combine(outputDir, WorldRestartFile.Folder));
        AtomicFile.WriteAllText(WorldRestartFile.ConfigPath(outputDir), metadata.Config.ToYaml());
    }

    public void WriteRestart(DateTime time, Tensor state, Tensor? stirring)
    {
        if (_meta is null) throw new InvalidOperationException("MakaniWorldSink.WriteRestart before Begin");
        if (time != _expected - TimeSpan.FromHours(_dhours)) throw new InvalidOperationException($"MakaniWorldSink: restart at {time:O} does not follow the snapshot at {_expected.AddHours(-_dhours):O}");
        _restart.Add(WorldRestartFile.Row(state, stirring));
    }

    public void Write(DateTime time, Tensor snapshot)
    {
        var meta = _meta ?? throw new InvalidOperationException("MakaniWorldSink.Write before Begin");
        if (time != _expected) throw new InvalidOperationException($"MakaniWorldSink: snapshot at {time:O}, expected {_expected:O}");
        if (time.Year != _year) FlushYear();
        _year = time.Year;
        using var c = snapshot.to(ScalarType.Float32).cpu().contiguous();
        var values = c.data<float>().ToArray();
        int nc = meta.Channels.Count;
        if (values.Length % nc != 0 || values.Length != _timeSum!.Length)
            throw new InvalidOperationException($"MakaniWorldSink: snapshot has {values.Length} values, expected {_timeSum!.Length}");
        _buffer.Add(values);
        if (IsTraining(_year) == _statsFromTraining) Accumulate(values, nc);
        _expected = time.AddHours(_dhours);
    }

    public void Complete()
    {
        var meta = _meta ?? throw new InvalidOperationException("MakaniWorldSink.Complete before Begin");
        if (_buffer.Count > 0) FlushYear();
        if (_statCount == 0) throw new InvalidOperationException("MakaniWorldSink: no snapshots written");
        int nc = meta.Channels.Count;
        long perChannel = _statCount / nc;
        var means = new double[nc];
        var stds = new double[nc];
        for (int k = 0; k < nc; k++)
        {
            // sums are of (x − shift) so the variance does not cancel catastrophically (z ≈ 2500 m, std ≈ 100 m)
            double m = _sum![k] / perChannel;
            means[k] = _shift![k] + m;
            stds[k] = Math.Sqrt(Math.Max(_sumSq![k] / perChannel - m * m, 0));
        }
        string stats = Path.Combine(outputDir, "stats");
        MakaniStats.WriteGlobal(stats, means, stds);
        MakaniStats.WriteTimeMeans(stats, _timeSum!.Select(v => (float)(v / _statSnapshots)).ToArray(), nc,
            meta.LatitudesDeg.Length, meta.LongitudesDeg.Length);
    }

    bool IsTraining(int year) => validationFromYear is null || year < validationFromYear;

    void Accumulate(float[] values, int nc)
    {
        int pts = values.Length / nc;
        if (_shift is null)
        {
            _shift = new double[nc];
            for (int k = 0; k < nc; k++)
            {
                double s = 0;
                for (int p = 0; p < pts; p++) s += values[k * pts + p];
                _shift[k] = s / pts;
            }
        }
        for (int k = 0; k < nc; k++)
        {
            double s = 0, s2 = 0, sh = _shift[k];
            for (int p = 0; p < pts; p++)
            {
                double x = values[k * pts + p];
                double d = x - sh;
                s += d;
                s2 += d * d;
                _timeSum![k * pts + p] += x;
            }
            _sum![k] += s;
            _sumSq![k] += s2;
        }
        _statCount += values.Length;
        _statSnapshots++;
    }

    void FlushYear()
    {
        var meta = _meta!;
        string dir = Path.Combine(outputDir, IsTraining(_year) ? "train" : "valid");
        Directory.CreateDirectory(dir);
        int per = _buffer[0].Length;
        var fields = new float[(long)per * _buffer.Count];
        for (int i = 0; i < _buffer.Count; i++) Array.Copy(_buffer[i], 0, fields, (long)i * per, per);
        MakaniYearFile.Write(Path.Combine(dir, $"{_year:D4}.h5"), _year, _dhours, fields,
            meta.Channels.Select(ch => ch.Name).ToArray(), meta.LatitudesDeg, meta.LongitudesDeg);
        if (_restart.Count > 0)
        {
            if (_restart.Count != _buffer.Count) throw new InvalidOperationException($"MakaniWorldSink: {_restart.Count} restart states for {_buffer.Count} snapshots of {_year}");
            WorldRestartFile.WriteYear(outputDir, _year, _restart, _lmax, _mmax);
            _restart.Clear();
        }
        _buffer.Clear();
    }
}
