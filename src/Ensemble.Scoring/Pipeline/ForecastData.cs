using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Pipeline;

/// <summary>Latitudes (degrees, as stored; ours run north → south) and longitudes of a regular grid.</summary>
public sealed record ScoreGrid(double[] Latitudes, double[] Longitudes)
{
    public int Nlat => Latitudes.Length;
    public int Nlon => Longitudes.Length;

    /// <summary>Throws an <see cref="EnsembleException"/> saying how two grids differ (size, then first differing coordinate).</summary>
    public void RequireSame(ScoreGrid other, string what, string otherWhat)
    {
        if (Nlat != other.Nlat || Nlon != other.Nlon)
            throw new EnsembleException($"grids differ: {what} is {Describe()}, {otherWhat} is {other.Describe()}");
        Compare(Latitudes, other.Latitudes, "latitude");
        Compare(Longitudes, other.Longitudes, "longitude");

        void Compare(double[] a, double[] b, string axis)
        {
            for (int i = 0; i < a.Length; i++)
                if (Math.Abs(a[i] - b[i]) > 1e-6 * Math.Max(1, Math.Abs(a[i])))
                    throw new EnsembleException($"grids differ: {axis} {i} is {a[i]} in {what} ({Describe()}) but {b[i]} in {otherWhat} ({other.Describe()})");
        }
    }

    public string Describe() =>
        $"{Nlon}×{Nlat} (lat {Latitudes[0]}→{Latitudes[^1]}, lon {Longitudes[0]}→{Longitudes[^1]})";
}

/// <summary>
/// One forecast variable: float64 data [ensemble, time (init), lead_time, lat, lon] with its initial times
/// and lead times in hours.
/// </summary>
public sealed class ForecastVariable : IDisposable
{
    public ForecastVariable(string name, IReadOnlyList<DateTime> initTimes, IReadOnlyList<double> leadHours, Tensor data)
    {
        if (data.dim() != 5 || data.shape[1] != initTimes.Count || data.shape[2] != leadHours.Count || data.shape[0] < 1)
            throw new EnsembleException($"forecast variable '{name}': data {Shapes.Show(data.shape)} must be [ensemble ≥ 1, time = {initTimes.Count}, lead_time = {leadHours.Count}, lat, lon]");
        Name = name;
        InitTimes = initTimes.ToArray();
        LeadHours = leadHours.ToArray();
        Data = data.to_type(ScalarType.Float64);
    }

    public string Name { get; }
    public DateTime[] InitTimes { get; }
    public double[] LeadHours { get; }
    /// <summary>[ensemble, time, lead_time, lat, lon], float64.</summary>
    public Tensor Data { get; }
    public int Members => (int)Data.shape[0];

    public void Dispose() => Data.Dispose();
}

/// <summary>
/// An ensemble (or deterministic, one-member) forecast: variables by name on one grid. Variables may have
/// their own initial and lead times (GRIB files often hold different steps per parameter).
/// </summary>
public sealed class ForecastSet : IDisposable
{
    public ForecastSet(string model, string source, bool deterministic, ScoreGrid grid, IEnumerable<ForecastVariable> variables)
    {
        Model = model;
        Source = source;
        IsDeterministic = deterministic;
        Grid = grid;
        Variables = variables.ToDictionary(v => v.Name);
        if (Variables.Count == 0) throw new EnsembleException($"{source}: no forecast variables found");
        foreach (var v in Variables.Values)
        {
            if (v.Data.shape[3] != grid.Nlat || v.Data.shape[4] != grid.Nlon)
                throw new EnsembleException($"{source}: variable '{v.Name}' {Shapes.Show(v.Data.shape)} is not on the grid {grid.Describe()}");
            if (deterministic && v.Members != 1)
                throw new EnsembleException($"{source}: deterministic forecast variable '{v.Name}' has {v.Members} members");
        }
    }

    public string Model { get; }
    /// <summary>File(s) read, for messages.</summary>
    public string Source { get; }
    public bool IsDeterministic { get; }
    public ScoreGrid Grid { get; }
    public IReadOnlyDictionary<string, ForecastVariable> Variables { get; }

    public void Dispose() { foreach (var v in Variables.Values) v.Dispose(); }
}

/// <summary>One truth variable: float64 data [time, lat, lon] at the given valid times.</summary>
public sealed class TruthVariable : IDisposable
{
    public TruthVariable(string name, IReadOnlyList<DateTime> times, Tensor data)
    {
        if (data.dim() != 3 || data.shape[0] != times.Count)
            throw new EnsembleException($"truth variable '{name}': data {Shapes.Show(data.shape)} must be [time = {times.Count}, lat, lon]");
        if (times.Distinct().Count() != times.Count)
            throw new EnsembleException($"truth variable '{name}': repeated valid times");
        Name = name;
        Times = times.ToArray();
        Data = data.to_type(ScalarType.Float64);
    }

    public string Name { get; }
    public DateTime[] Times { get; }
    public Tensor Data { get; }

    public int IndexOf(DateTime valid) => Array.IndexOf(Times, valid);

    public void Dispose() => Data.Dispose();
}

/// <summary>Verifying fields (analyses or observations on the forecast grid) by variable name.</summary>
public sealed class TruthSet : IDisposable
{
    public TruthSet(string source, ScoreGrid grid, IEnumerable<TruthVariable> variables)
    {
        Source = source;
        Grid = grid;
        Variables = variables.ToDictionary(v => v.Name);
        if (Variables.Count == 0) throw new EnsembleException($"{source}: no truth variables found");
        foreach (var v in Variables.Values)
            if (v.Data.shape[1] != grid.Nlat || v.Data.shape[2] != grid.Nlon)
                throw new EnsembleException($"{source}: truth variable '{v.Name}' {Shapes.Show(v.Data.shape)} is not on the grid {grid.Describe()}");
    }

    public string Source { get; }
    public ScoreGrid Grid { get; }
    public IReadOnlyDictionary<string, TruthVariable> Variables { get; }

    public void Dispose() { foreach (var v in Variables.Values) v.Dispose(); }
}
