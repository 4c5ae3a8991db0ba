using Ensemble.Core;

namespace Ensemble.Perturbations;

/// <summary>Builds the configured <see cref="IInitialPerturbation"/> for a model's channels and grid.</summary>
public static class PerturbationFactory
{
    /// <summary>
    /// The method of <paramref name="config"/> for channels <paramref name="channelNames"/> (model order) on an
    /// <paramref name="nlat"/> × <paramref name="nlon"/> grid. Reads the skill table (relative paths against
    /// <paramref name="baseDirectory"/> when given). Config errors are <see cref="EnsembleException"/>s naming the key.
    /// </summary>
    public static IInitialPerturbation Create(PerturbationConfig config, IReadOnlyList<string> channelNames, int nlat, int nlon,
        string? baseDirectory = null, string source = "perturbation config")
    {
        config.Validate(source);
        if (channelNames.Count == 0) throw new EnsembleException($"{source}: the model has no channels");
        if (channelNames.Distinct().Count() != channelNames.Count)
            throw new EnsembleException($"{source}: the model's channel names are not unique ({string.Join(", ", channelNames)})");
        if (nlat < 3 || nlon < 1) throw new EnsembleException($"{source}: grid {nlat}×{nlon} is too small");
        var clip = config.NonNegativeChannels(channelNames, source);
        var method = config.MethodKind;
        if (method == PerturbationMethod.None) return new NoPerturbation(channelNames, nlat, nlon, clip);
        var amplitudes = SkillAmplitudes.Resolve(config, channelNames, baseDirectory, source);
        switch (method)
        {
            case PerturbationMethod.Gaussian:
                return new GaussianPerturbation(channelNames, nlat, nlon, amplitudes, clip);
            case PerturbationMethod.SphericalGaussian:
                CheckNoiseGrid(nlat, nlon, source);
                return new SphericalGaussianPerturbation(channelNames, nlat, nlon, amplitudes, config.Noise, clip);
            default:
                CheckNoiseGrid(nlat, nlon, source);
                var seeds = config.SeedChannels.Select(n => PerturbationConfig.IndexOf(channelNames, n, "seed_channels", source)).Distinct().ToList();
                foreach (int c in seeds)
                    if (!(amplitudes[c] > 0))
                        throw new EnsembleException($"{source}: key 'seed_channels': seed channel '{channelNames[c]}' has amplitude {amplitudes[c]} (set it under amplitudes or in the skill table)");
                return new BredVectorPerturbation(channelNames, nlat, nlon, amplitudes, seeds, config.Noise, config.BreedingCycles, config.TimingKind, clip);
        }
    }

    static void CheckNoiseGrid(int nlat, int nlon, string source)
    {
        int n = SeedFields.NoiseLat(nlat);
        if (n < 2 || nlon != 2 * n)
            throw new EnsembleException($"{source}: key 'method': the correlated spherical noise needs an N×2N or (N+1)×2N grid, the model grid is {nlat}×{nlon}");
    }
}
