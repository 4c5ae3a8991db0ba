using Ensemble.Core;
using Ensemble.Core.Config;
using Xunit;

namespace Ensemble.Core.Tests;

public class YamlConfigTests
{
    public sealed record Inner
    {
        public int BatchSize { get; init; } = 4;
        public double LearningRate { get; init; } = 1e-3;
        public List<int> Leads { get; init; } = [];
    }

    public sealed record Root
    {
        public string Name { get; init; } = "";
        public bool Enabled { get; init; }
        public Inner Training { get; init; } = new();
    }

    [Fact]
    public void Parses_nested_snake_case_keys_with_types()
    {
        var r = YamlConfig.Parse<Root>("name: demo\nenabled: true\ntraining:\n  batch_size: 8\n  learning_rate: 2.5e-4\n  leads: [6, 12]\n", "t.yaml");
        Assert.Equal("demo", r.Name);
        Assert.True(r.Enabled);
        Assert.Equal(8, r.Training.BatchSize);
        Assert.Equal(2.5e-4, r.Training.LearningRate);
        Assert.Equal([6, 12], r.Training.Leads);
    }

    [Fact]
    public void Quoted_numbers_stay_strings()
    {
        var r = YamlConfig.Parse<Root>("name: '2020'\n", "t.yaml");
        Assert.Equal("2020", r.Name);
    }

    [Fact]
    public void Overrides_apply_like_hydra()
    {
        var r = YamlConfig.Parse<Root>("training:\n  batch_size: 8\n", "t.yaml", ["training.batch_size=16", "training.leads=[1, 2, 3]", "name=x"]);
        Assert.Equal(16, r.Training.BatchSize);
        Assert.Equal([1, 2, 3], r.Training.Leads);
        Assert.Equal("x", r.Name);
    }

    [Fact]
    public void A_null_override_clears_a_key()
    {
        var r = YamlConfig.Parse<Root>("name: a\ntraining:\n  batch_size: 8\n", "t.yaml", ["name=null"]);
        Assert.Null(r.Name);
        Assert.Equal(8, r.Training.BatchSize);
    }

    [Theory]
    [InlineData("nmae: x\n", "t.yaml: unknown key 'nmae'")]
    [InlineData("training:\n  batch_sise: 3\n", "t.yaml: unknown key 'training.batch_sise'")]
    [InlineData("training:\n  batch_size: many\n", "t.yaml: key 'training.batch_size': wrong type or value")]
    [InlineData("name: [unclosed\n", "t.yaml: invalid YAML at line")]
    [InlineData("name: a\nname: b\n", "t.yaml: invalid YAML at line 2")]
    public void Malformed_configs_name_the_file_and_key(string yaml, string expected)
    {
        var e = Assert.Throws<EnsembleException>(() => YamlConfig.Parse<Root>(yaml, "t.yaml"));
        Assert.StartsWith(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("noequals")]
    [InlineData("a..b=1")]
    [InlineData("name.sub=1")]
    public void Malformed_overrides_are_user_errors(string o) =>
        Assert.Throws<EnsembleException>(() => YamlConfig.Parse<Root>("name: x\n", "t.yaml", [o]));

    [Fact]
    public void Missing_file_is_a_user_error() =>
        Assert.Contains("config file not found", Assert.Throws<EnsembleException>(() => YamlConfig.Load<Root>("/nonexistent/x.yaml")).Message);
}
