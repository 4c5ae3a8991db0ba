namespace Ensemble.Data.EnsembleOutput;

/// <summary>
/// Where one ensemble member comes from: checkpoint index, model name, perturbation method, perturbation pair,
/// sign (+1, −1, or 0 for a control) and the seed of its pair. Stored as 1-D variables along <c>ensemble</c>.
/// </summary>
public sealed record EnsembleMemberInfo(int Checkpoint, string Model, string Perturbation, int Pair, int Sign, long Seed);
