using Ensemble.Data.EnsembleOutput;

namespace Ensemble.Data.Conversion;

/// <summary>
/// One input of a conversion, already mapped to the ensemble layout: its own <see cref="Layout"/> (variables, times,
/// lead times, members, grid), the (member, time, lead) slots that hold data, and a field reader.
/// </summary>
internal interface IConversionSource : IDisposable
{
    /// <summary>The input path(s), for error messages and the <c>source_files</c> attribute.</summary>
    string Name { get; }

    EnsembleLayout Layout { get; }

    /// <summary>Slots (indices into <see cref="Layout"/>) where at least one variable has a field.</summary>
    IEnumerable<(int Member, int Time, int Lead)> Slots();

    /// <summary>The field [lat·lon] (north → south as in <see cref="Layout"/>.Lat) of a variable in a slot, or null when absent.</summary>
    float[]? Read(string variable, int member, int time, int lead);
}
