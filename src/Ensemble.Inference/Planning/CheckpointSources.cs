using Ensemble.Inference.Config;
using Ensemble.Models.Packages;
using Ensemble.Perturbations;
using static TorchSharp.torch;

namespace Ensemble.Inference.Planning;

/// <summary>One checkpoint of the plan: a model package, and — with <c>perturbation.weights</c> — one seeded weight-perturbation variant of it.</summary>
public sealed record CheckpointSource(int Index, int Model, int? Variant, string Directory)
{
    /// <summary>Name in outputs: the package folder, with "~wN" for a weight variant.</summary>
    public string Name => System.IO.Path.GetFileName(System.IO.Path.GetFullPath(Directory).TrimEnd(System.IO.Path.DirectorySeparatorChar))
        + (Variant is { } v ? $"~w{v}" : "");
}

/// <summary>
/// The checkpoints members run with: every listed package, or, when the perturbation config has a <c>weights</c> section
/// (for users with a single trained model), <c>variants</c> seeded weight-perturbed copies of each package
/// (Seed: PerturbationSeeds.Weights(campaign seed, model, variant)). Ordered model-major, so a rank loads each
/// variant once.
/// </summary>
public static class CheckpointSources
{
    public static IReadOnlyList<CheckpointSource> Of(EnsembleRunConfig config)
    {
        int variants = config.Perturbation.Weights?.Variants ?? 0;
        var list = new List<CheckpointSource>();
        for (int m = 0; m < config.Models.Count; m++)
        {
            if (variants == 0) list.Add(new CheckpointSource(list.Count, m, null, config.Models[m]));
            else
                for (int v = 0; v < variants; v++) list.Add(new CheckpointSource(list.Count, m, v, config.Models[m]));
        }
        return list;
    }

    public static ModelPackage Load(EnsembleRunConfig config, int checkpoint, Device device)
    {
        var source = Of(config)[checkpoint];
        if (source.Variant is not { } v) return ModelPackage.Load(source.Directory, device);
        var weights = config.Perturbation.Weights!;
        return WeightPerturbation.LoadPerturbed(source.Directory, weights, PerturbationSeeds.Weights(config.Seed, source.Model, v), device);
    }
}
