using System.Globalization;
using Ensemble.Core;
using Ensemble.Spherical;
using TorchSharp;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Ensemble.World;

/// <summary>Planet constants as YAML (<c>planet:</c>); defaults are <see cref="PlanetConstants.Earth"/>.</summary>
public sealed class PlanetSection
{
    public double Radius { get; set; } = PlanetConstants.Earth.Radius;
    public double Omega { get; set; } = PlanetConstants.Earth.Omega;
    public double Gravity { get; set; } = PlanetConstants.Earth.Gravity;
    public double MeanDepth { get; set; } = PlanetConstants.Earth.MeanDepth;

    public PlanetConstants ToConstants() => new(Radius, Omega, Gravity, MeanDepth, PlanetConstants.Earth.BumpAmplitude);
}

/// <summary>
/// Everything that defines a world run (configs/world.yaml). YAML keys are the snake-case property names;
/// an unknown key is an <see cref="EnsembleException"/> naming it.
/// </summary>
public sealed class WorldConfig
{
    /// <summary>legendre-gauss | equiangular | lobatto.</summary>
    public string Grid { get; set; } = "legendre-gauss";
    public int Nlat { get; set; } = 64;
    public int Nlon { get; set; } = 128;
    public int Lmax { get; set; } = 43;
    public int Mmax { get; set; } = 43;
    /// <summary>Solver time step (s); must divide the output interval.</summary>
    public double Dt { get; set; } = 300.0;
    /// <summary>E-folding time (h) of hyperdiffusion at the highest degree (the reference's 2 h).</summary>
    public double HyperdiffusionHours { get; set; } = 2.0;
    public PlanetSection Planet { get; set; } = new();
    public ForcingParameters Forcing { get; set; } = new();
    /// <summary>Seed of the stirring (and of nothing else: the initial state is deterministic).</summary>
    public long Seed { get; set; } = 1;
    /// <summary>First output time (UTC, ISO 8601).</summary>
    public string Start { get; set; } = "2000-01-01T00:00:00Z";
    /// <summary>Simulated days before the first output (the run starts at start − spinup_days).</summary>
    public double SpinupDays { get; set; } = 200.0;
    /// <summary>Simulated days of output.</summary>
    public double Days { get; set; } = 365.0;
    /// <summary>Output cadence (hours).</summary>
    public double OutputHours { get; set; } = 6.0;
    /// <summary>float64 (default) or float32.</summary>
    public string Dtype { get; set; } = "float64";
    /// <summary>cpu | cuda | cuda:N.</summary>
    public string Device { get; set; } = "cpu";

    [YamlIgnore]
    public GridType GridType => GridTypes.Parse(Grid);
    [YamlIgnore]
    public torch.ScalarType ScalarType => Dtype.Trim().ToLowerInvariant() switch
    {
        "float64" => torch.ScalarType.Float64,
        "float32" => torch.ScalarType.Float32,
        _ => throw new EnsembleException($"world config: dtype '{Dtype}' must be float64 or float32"),
    };

    /// <summary>The first output time.</summary>
    [YamlIgnore]
    public DateTime StartTime
    {
        get
        {
            if (!DateTime.TryParse(Start, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
                throw new EnsembleException($"world config: start '{Start}' is not an ISO 8601 time");
            return DateTime.SpecifyKind(t, DateTimeKind.Utc);
        }
    }

    /// <summary>Time of solver step 0 (start − spin-up): stirring updates are counted from here.</summary>
    [YamlIgnore]
    public DateTime ClockOrigin => StartTime - TimeSpan.FromDays(SpinupDays);

    /// <summary>Solver steps per output interval.</summary>
    [YamlIgnore]
    public int StepsPerOutput => (int)Math.Round(OutputHours * 3600.0 / Dt);

    /// <summary>Number of outputs: days · 24 / output_hours (the first at start).</summary>
    [YamlIgnore]
    public int OutputCount => (int)Math.Round(Days * 24.0 / OutputHours);

    /// <summary>Solver steps of spin-up.</summary>
    [YamlIgnore]
    public long SpinupSteps => (long)Math.Round(SpinupDays * 86400.0 / Dt);

    /// <summary>Checks ranges and consistency; throws <see cref="EnsembleException"/> naming the key.</summary>
    public WorldConfig Validate(string source = "world config")
    {
        void Fail(string m) => throw new EnsembleException($"{source}: {m}");
        _ = GridType;
        _ = ScalarType;
        _ = StartTime;
        if (Nlat < 4 || Nlon < 8) Fail($"nlat/nlon too small ({Nlat}×{Nlon})");
        if (Lmax < 2 || Mmax < 1 || Mmax > Lmax) Fail($"need 2 ≤ lmax and 1 ≤ mmax ≤ lmax, got lmax {Lmax}, mmax {Mmax}");
        if (GridType == GridType.LegendreGauss && Lmax > Nlat) Fail($"lmax {Lmax} exceeds nlat {Nlat} on a legendre-gauss grid");
        if (Mmax > Nlon / 2 + 1) Fail($"mmax {Mmax} exceeds nlon/2+1 = {Nlon / 2 + 1}");
        if (!(Dt > 0)) Fail($"dt must be > 0 s, got {Dt}");
        if (!(OutputHours > 0)) Fail($"output_hours must be > 0, got {OutputHours}");
        if (Math.Abs(OutputHours * 3600.0 / Dt - StepsPerOutput) > 1e-9 || StepsPerOutput < 1) Fail($"dt {Dt} s must divide output_hours {OutputHours} h");
        if (!(SpinupDays >= 0)) Fail($"spinup_days must be ≥ 0, got {SpinupDays}");
        if (Math.Abs(SpinupDays * 86400.0 / Dt - SpinupSteps) > 1e-6) Fail($"dt {Dt} s must divide spinup_days {SpinupDays}");
        if (!(Days > 0)) Fail($"days must be > 0, got {Days}");
        if (!(HyperdiffusionHours > 0)) Fail($"hyperdiffusion_hours must be > 0, got {HyperdiffusionHours}");
        if (!(Planet.Radius > 0) || !(Planet.Gravity > 0) || !(Planet.MeanDepth > 0)) Fail("planet radius, gravity and mean_depth must be > 0");
        Forcing.Validate(Fail);
        if (Forcing.StirringLmax >= Lmax) Fail($"forcing.stirring_lmax ({Forcing.StirringLmax}) must be below lmax ({Lmax})");
        _ = Devices.Parse(Device);
        return this;
    }

    static IDeserializer Deserializer() => new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    /// <summary>Parses YAML text; <paramref name="source"/> names it in errors.</summary>
    public static WorldConfig Parse(string yaml, string source = "world config")
    {
        WorldConfig? c;
        try
        {
            c = Deserializer().Deserialize<WorldConfig>(yaml);
        }
        catch (YamlException e)
        {
            string msg = (e.InnerException?.Message ?? e.Message).Replace('\n', ' ');
            throw new EnsembleException($"{source}: line {e.Start.Line}: {msg}", e);
        }
        return (c ?? new WorldConfig()).Validate(source);
    }

    /// <summary>Loads and validates a YAML file.</summary>
    public static WorldConfig Load(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: world config not found");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>The configuration as YAML (round-trips through <see cref="Parse"/>).</summary>
    public string ToYaml() => new SerializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build().Serialize(this);

    /// <summary>A deep copy (for variations in tests and the CLI).</summary>
    public WorldConfig Clone() => Parse(ToYaml());
}
