namespace Ensemble.World;

/// <summary>
/// Forcing and dissipation of the world (see docs/world.md for the equations and why these defaults).
/// Snake-case names are the YAML keys under <c>forcing:</c>.
/// </summary>
public sealed class ForcingParameters
{
    /// <summary>Newtonian relaxation time of Φ toward the equilibrium Φ_eq (days).</summary>
    public double RelaxationDays { get; set; } = 10.0;
    /// <summary>Linear (Rayleigh) drag time on ζ and δ (days).</summary>
    public double DragDays { get; set; } = 10.0;
    /// <summary>
    /// Highest spherical-harmonic degree the drag acts on; 0 (default) = all degrees. A large-scale-only drag removes
    /// the energy of the inverse cascade without damping the synoptic eddies whose instability is the chaos.
    /// </summary>
    public int DragLmax { get; set; } = 0;
    /// <summary>
    /// Relaxation time (days) of the zonal-mean vorticity (the m = 0 coefficients of ζ̂) toward the equilibrium jets'
    /// vorticity; 0 (default) turns it off. It re-creates the barotropically unstable jets without damping the eddies.
    /// </summary>
    public double JetRelaxationDays { get; set; } = 0.0;
    /// <summary>Peak speed of the equilibrium jets (m/s) whose balanced height field is Φ_eq.</summary>
    public double JetSpeed { get; set; } = 40.0;
    /// <summary>Latitude of the equilibrium jets (degrees, both hemispheres).</summary>
    public double JetLatitude { get; set; } = 45.0;
    /// <summary>Gaussian half-width of the equilibrium jets (degrees).</summary>
    public double JetWidth { get; set; } = 10.0;
    /// <summary>Grid RMS of the stirring vorticity forcing (1/s²); 0 turns stirring off.</summary>
    public double StirringAmplitude { get; set; } = 1.0e-10;
    /// <summary>Lowest and highest spherical-harmonic degree stirred.</summary>
    public int StirringLmin { get; set; } = 8;
    public int StirringLmax { get; set; } = 14;
    /// <summary>AR(1) decorrelation time of the stirring (days).</summary>
    public double StirringCorrelationDays { get; set; } = 2.0;
    /// <summary>Interval between stirring updates (hours); the forcing is constant in between.</summary>
    public double StirringUpdateHours { get; set; } = 1.0;
    /// <summary>Centre latitude (degrees, both hemispheres) and Gaussian half-width (degrees) of the stirring mask.</summary>
    public double StirringLatitude { get; set; } = 45.0;
    public double StirringLatitudeWidth { get; set; } = 12.0;

    internal void Validate(Action<string> fail)
    {
        if (!(RelaxationDays > 0)) fail($"forcing.relaxation_days must be > 0, got {RelaxationDays}");
        if (!(DragDays > 0)) fail($"forcing.drag_days must be > 0, got {DragDays}");
        if (!(JetRelaxationDays >= 0)) fail($"forcing.jet_relaxation_days must be ≥ 0 (0 = off), got {JetRelaxationDays}");
        if (DragLmax < 0) fail($"forcing.drag_lmax must be ≥ 0 (0 = all degrees), got {DragLmax}");
        if (!(JetWidth > 0)) fail($"forcing.jet_width must be > 0, got {JetWidth}");
        if (!(StirringAmplitude >= 0)) fail($"forcing.stirring_amplitude must be ≥ 0, got {StirringAmplitude}");
        if (StirringLmin < 1 || StirringLmax < StirringLmin) fail($"forcing.stirring_lmin/stirring_lmax must satisfy 1 ≤ lmin ≤ lmax, got {StirringLmin}/{StirringLmax}");
        if (!(StirringCorrelationDays > 0)) fail($"forcing.stirring_correlation_days must be > 0, got {StirringCorrelationDays}");
        if (!(StirringUpdateHours > 0)) fail($"forcing.stirring_update_hours must be > 0, got {StirringUpdateHours}");
        if (!(StirringLatitudeWidth > 0)) fail($"forcing.stirring_latitude_width must be > 0, got {StirringLatitudeWidth}");
    }
}
