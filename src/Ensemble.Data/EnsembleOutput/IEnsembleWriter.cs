using static TorchSharp.torch;

namespace Ensemble.Data.EnsembleOutput;

/// <summary>Writes member fields into an ensemble output store created by <see cref="EnsembleStore.Create(string, EnsembleLayout)"/>.</summary>
public interface IEnsembleWriter : IDisposable
{
    string Path { get; }
    EnsembleLayout Layout { get; }

    /// <summary>
    /// Writes fields [b, V, lat, lon] (V = the layout's variables in order, any float dtype/device) of members
    /// <paramref name="members"/>[0..b) at one initial time and lead time. Every (member, variable) is one whole
    /// chunk written atomically (temp + rename), so processes writing disjoint members/times/leads never interfere,
    /// and rewriting a chunk replaces it completely.
    /// </summary>
    void Write(IReadOnlyList<int> members, int timeIndex, int leadIndex, Tensor fields);
}

/// <summary>Reads an ensemble output store (zarr v2 folder or netCDF-4 file) of our layout.</summary>
public interface IEnsembleReader : IDisposable
{
    string Path { get; }
    /// <summary>"zarr" or "netcdf4".</summary>
    string Format { get; }
    EnsembleLayout Layout { get; }

    /// <summary>One field [lat·lon] (C order); NaN where it was never written.</summary>
    float[] ReadField(string variable, int member, int timeIndex, int leadIndex);

    /// <summary>A whole variable [ensemble, time, lead_time, lat, lon] as float32.</summary>
    Tensor Read(string variable);
}
