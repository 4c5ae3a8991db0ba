using System.Text.RegularExpressions;
using Ensemble.Core;
using Ensemble.Models.Packages;
using Ensemble.Models.Sfno;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Perturbations;

/// <summary>What <see cref="WeightPerturbation.Apply(SphericalFourierNeuralOperatorNet, WeightPerturbationConfig, long)"/> changed.</summary>
public sealed record WeightPerturbationResult(long Seed, double RelativeStd, IReadOnlyList<string> Parameters, long Elements);

/// <summary>
/// Seeded weight perturbation of one checkpoint (parameter uncertainty for users with a single trained model):
/// every element w of the selected parameters becomes w·(1 + σ_w·ε), ε ~ N(0, 1) (real and imaginary parts of the
/// complex spectral filters independently). Each parameter's noise comes from a generator seeded with
/// (seed, parameter name), so it does not depend on which other groups are selected. Cheaper and weaker than
/// independently trained checkpoints: the copies share one training trajectory and its systematic errors, and zero
/// weights stay zero (docs/algorithms/perturbations.md).
/// </summary>
public static class WeightPerturbation
{
    /// <summary>
    /// Parameter names (in model order) matched by the patterns: dot-separated segments, <c>*</c> inside one segment,
    /// a pattern matches any run of whole segments. A pattern that matches nothing is an error naming it.
    /// </summary>
    public static IReadOnlyList<string> Select(IEnumerable<string> parameterNames, IReadOnlyList<string> patterns, string source = "perturbation config")
    {
        var names = parameterNames.ToList();
        var chosen = new HashSet<string>();
        foreach (var pattern in patterns)
        {
            var re = ToRegex(pattern);
            var hits = names.Where(n => re.IsMatch(n)).ToList();
            if (hits.Count == 0)
                throw new EnsembleException($"{source}: key 'weights.groups': '{pattern}' matches no parameter (groups: {string.Join(", ", Groups(names))})");
            chosen.UnionWith(hits);
        }
        return names.Where(chosen.Contains).ToList();
    }

    /// <summary>Perturbs <paramref name="model"/> in place (pass a loaded copy, never a shared model).</summary>
    public static WeightPerturbationResult Apply(SphericalFourierNeuralOperatorNet model, WeightPerturbationConfig config, long seed, string source = "perturbation config")
    {
        if (!double.IsFinite(config.RelativeStd) || config.RelativeStd < 0)
            throw new EnsembleException($"{source}: key 'weights.relative_std': must be a finite value ≥ 0, got {config.RelativeStd}");
        var parameters = model.named_parameters().ToList();
        var selected = Select(parameters.Select(p => p.name), config.Groups, source).ToHashSet();
        var names = new List<string>();
        long elements = 0;
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in parameters)
        {
            if (!selected.Contains(name)) continue;
            using var scope = torch.NewDisposeScope();
            var real = p.is_complex() ? torch.view_as_real(p) : p.alias();
            using var g = new Generator((ulong)Seeds.Derive(seed, Seeds.Of(name)));
            var eps = torch.randn(real.shape, dtype: ScalarType.Float64, generator: g);
            var factor = (eps * config.RelativeStd + 1.0).to(real.dtype, real.device);
            real.mul_(factor);
            names.Add(name);
            elements += real.numel();
        }
        return new WeightPerturbationResult(seed, config.RelativeStd, names, elements);
    }

    /// <summary>Perturbs a loaded package's network in place.</summary>
    public static WeightPerturbationResult Apply(ModelPackage package, WeightPerturbationConfig config, long seed, string source = "perturbation config") =>
        Apply(package.Model, config, seed, source);

    /// <summary>Loads a fresh copy of the package at <paramref name="directory"/> and perturbs it. Caller disposes.</summary>
    public static ModelPackage LoadPerturbed(string directory, WeightPerturbationConfig config, long seed, Device? device = null,
        ScalarType dtype = ScalarType.Float32, string source = "perturbation config")
    {
        var package = ModelPackage.Load(directory, device, dtype);
        try
        {
            Apply(package, config, seed, source);
            return package;
        }
        catch
        {
            package.Dispose();
            throw;
        }
    }

    static Regex ToRegex(string pattern)
    {
        var segments = pattern.Split('.').Select(s => Regex.Escape(s).Replace(@"\*", "[^.]*"));
        return new Regex(@"(^|\.)" + string.Join(@"\.", segments) + @"(\.|$)", RegexOptions.CultureInvariant);
    }

    // Parameter names with indices and the last segment dropped, for the error message (e.g. blocks.*.filter.filter).
    static IEnumerable<string> Groups(IEnumerable<string> names) =>
        names.Select(n => string.Join('.', n.Split('.').SkipLast(1).Select(s => s.All(char.IsDigit) ? "*" : s))).Distinct();
}
