using Ensemble.Core;
using Xunit;

namespace Ensemble.Perturbations.Tests;

/// <summary>YAML binding (strict snake_case keys), validation messages naming the key, and the factory's checks.</summary>
public class ConfigTests
{
    static readonly string[] Channels = ["z500", "t850", "q700", "tcwv", "u10m"];

    [Fact]
    public void EveryKeyBindsFromYaml()
    {
        var c = PerturbationConfig.Parse("""
            method: spherical_gaussian
            amplitudes: {z500: 39.27, t850: 0.5}
            skill_table: skill.parquet
            skill_lead_hours: 24
            amplitude_factor: 0.5
            skill_model: sfno
            skill_weighting: coslat
            seed_channels: [t850]
            noise: {length_scale: 250000, time_scale_hours: 24, sigma: 0.5, lmax: 64}
            breeding_cycles: 2
            timing: original
            clip_non_negative: [q700]
            weights: {relative_std: 0.02, groups: [encoder, "blocks.*.filter"], variants: 4}
            """);
        Assert.Equal(PerturbationMethod.SphericalGaussian, c.MethodKind);
        Assert.Equal(39.27, c.Amplitudes!["z500"]);
        Assert.Equal("skill.parquet", c.SkillTable);
        Assert.Equal((24.0, 0.5, "sfno", "coslat"), (c.SkillLeadHours, c.AmplitudeFactor, c.SkillModel, c.SkillWeighting));
        Assert.Equal(["t850"], c.SeedChannels);
        Assert.Equal(new NoiseConfig { LengthScale = 2.5e5, TimeScaleHours = 24, Sigma = 0.5, Lmax = 64 }, c.Noise);
        Assert.Equal((2, BreedingTiming.Original), (c.BreedingCycles, c.TimingKind));
        Assert.Equal(["q700"], c.ClipNonNegative);
        Assert.Equal(0.02, c.Weights!.RelativeStd);
        Assert.Equal(["encoder", "blocks.*.filter"], c.Weights.Groups);
        Assert.Equal(4, c.Weights.Variants);
    }

    [Fact]
    public void DefaultsAreTheHensValues()
    {
        var c = PerturbationConfig.Parse("amplitudes: {z500: 39.27}");
        Assert.Equal(PerturbationMethod.BredVector, c.MethodKind);
        Assert.Equal((48.0, 0.35, 3, BreedingTiming.Earth2Studio), (c.SkillLeadHours, c.AmplitudeFactor, c.BreedingCycles, c.TimingKind));
        Assert.Equal((5e5, 48.0, 1.0, (int?)null), (c.Noise.LengthScale, c.Noise.TimeScaleHours, c.Noise.Sigma, c.Noise.Lmax));
        Assert.Equal(["z500"], c.SeedChannels);
        Assert.Null(c.Weights);
        // The earth2studio clipping rule: q*, r*, tp*, tcwv.
        Assert.Equal([2, 3], c.NonNegativeChannels(Channels));
        Assert.Equal([], (c with { ClipNonNegative = [] }).NonNegativeChannels(Channels));
    }

    [Theory]
    [InlineData("amplitudes: {z500: 1}\nnoize: {sigma: 1}", "noize")]
    [InlineData("amplitudes: {z500: 1}\nnoise: {sigma: 1, lenght_scale: 3}", "noise.lenght_scale")]
    [InlineData("amplitudes: {z500: 1}\nweights: {std: 0.1}", "weights.std")]
    [InlineData("method: bred\namplitudes: {z500: 1}", "'method'")]
    [InlineData("method: gaussian", "'amplitudes'")]
    [InlineData("amplitudes: {z500: -1}", "'amplitudes.z500'")]
    [InlineData("amplitudes: {z500: 1}\nbreeding_cycles: 0", "'breeding_cycles'")]
    [InlineData("amplitudes: {z500: 1}\ntiming: late", "'timing'")]
    [InlineData("amplitudes: {z500: 1}\nnoise: {length_scale: 0}", "'noise.length_scale'")]
    [InlineData("amplitudes: {z500: 1}\nweights: {relative_std: -0.1}", "'weights.relative_std'")]
    [InlineData("amplitudes: {z500: 1}\nweights: {groups: []}", "'weights.groups'")]
    [InlineData("amplitudes: {z500: 1}\nseed_channels: []", "'seed_channels'")]
    [InlineData("amplitudes: {z500: 1}\nskill_lead_hours: x", "skill_lead_hours")]
    public void InvalidConfigsNameTheKey(string yaml, string key)
    {
        var e = Assert.Throws<EnsembleException>(() => PerturbationConfig.Parse(yaml, "campaign.yaml"));
        Assert.Contains(key, e.Message);
        Assert.StartsWith("campaign.yaml", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("amplitudes: {z501: 1}", "'amplitudes.z501'")]
    [InlineData("amplitudes: {t850: 1}", "'seed_channels'")]
    [InlineData("amplitudes: {z500: 1}\nseed_channels: [msl]", "'seed_channels'")]
    [InlineData("amplitudes: {z500: 1}\nclip_non_negative: [q850]", "'clip_non_negative'")]
    [InlineData("method: gaussian\nskill_table: /nonexistent/skill.parquet", "skill table not found")]
    public void ChannelErrorsFromTheFactoryNameTheKey(string yaml, string key)
    {
        var c = PerturbationConfig.Parse(yaml);
        var e = Assert.Throws<EnsembleException>(() => PerturbationFactory.Create(c, Channels, 16, 32));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void TheNoiseMethodsNeedAnNBy2NGrid()
    {
        var c = PerturbationConfig.Parse("amplitudes: {z500: 1}");
        Assert.IsType<BredVectorPerturbation>(PerturbationFactory.Create(c, Channels, 17, 32));
        var e = Assert.Throws<EnsembleException>(() => PerturbationFactory.Create(c, Channels, 16, 40));
        Assert.Contains("16×40", e.Message);
        // Plain Gaussian noise has no grid constraint; the control needs no amplitudes.
        Assert.IsType<GaussianPerturbation>(PerturbationFactory.Create(c with { Method = "gaussian" }, Channels, 16, 40));
        Assert.IsType<NoPerturbation>(PerturbationFactory.Create(PerturbationConfig.Parse("method: none"), Channels, 16, 40));
    }
}
