using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>What a sink needs to describe world output.</summary>
/// <param name="Channels">Channel names/units in snapshot order.</param>
/// <param name="LatitudesDeg">Grid latitudes (degrees, north → south).</param>
/// <param name="LongitudesDeg">Grid longitudes (degrees east from 0).</param>
/// <param name="Start">First snapshot time (UTC).</param>
/// <param name="Interval">Time between snapshots.</param>
/// <param name="Count">Number of snapshots that will be written.</param>
/// <param name="Config">The configuration that produced them.</param>
public sealed record WorldMetadata(IReadOnlyList<WorldChannel> Channels, double[] LatitudesDeg, double[] LongitudesDeg,
    DateTime Start, TimeSpan Interval, int Count, WorldConfig Config);

/// <summary>Receives world snapshots: Begin once, Write per snapshot in time order, Complete once at the end.</summary>
public interface IWorldSink
{
    void Begin(WorldMetadata metadata);
    /// <summary><paramref name="snapshot"/> is float32 [C, nlat, nlon] on the CPU; the sink must copy what it keeps.</summary>
    void Write(DateTime time, Tensor snapshot);
    void Complete();
}

/// <summary>
/// A sink that also keeps the exact restart data of every snapshot (<see cref="WorldRestartFile"/>):
/// <paramref name="state"/> is the spectral state [3, lmax, mmax] and <paramref name="stirring"/> the stirring in force
/// ([lmax, mmax], null before the first stirring update), both in the solver's complex dtype.
/// </summary>
public interface IWorldRestartSink
{
    void WriteRestart(DateTime time, Tensor state, Tensor? stirring);
}

/// <summary>Keeps every snapshot in memory (tests, small runs, feeding the trainer directly).</summary>
public sealed class InMemoryWorldSink : IWorldSink
{
    public WorldMetadata? Metadata { get; private set; }
    public List<DateTime> Times { get; } = [];
    public List<float[]> Snapshots { get; } = [];
    public bool Completed { get; private set; }

    public void Begin(WorldMetadata metadata) => Metadata = metadata;

    public void Write(DateTime time, Tensor snapshot)
    {
        Times.Add(time);
        Snapshots.Add(snapshot.contiguous().data<float>().ToArray());
    }

    public void Complete() => Completed = true;

    /// <summary>Snapshot i as a float32 tensor [C, nlat, nlon].</summary>
    public Tensor Snapshot(int i)
    {
        var m = Metadata ?? throw new InvalidOperationException("sink not begun");
        return torch.tensor(Snapshots[i], [m.Channels.Count, m.LatitudesDeg.Length, m.LongitudesDeg.Length]);
    }
}
