namespace Ensemble.World;

/// <summary>
/// Physical constants of the shallow-water planet. <see cref="Earth"/> holds the torch-harmonics
/// `ShallowWaterSolver` defaults (docs sht-and-sfno §10), which the conformance fixtures use.
/// </summary>
/// <param name="Radius">Planet radius a (m).</param>
/// <param name="Omega">Rotation rate Ω (1/s).</param>
/// <param name="Gravity">Gravity g (m/s²).</param>
/// <param name="MeanDepth">Mean fluid depth h_avg (m).</param>
/// <param name="BumpAmplitude">Height amplitude h_amp (m) of the Galewsky bump and the random initial condition.</param>
public sealed record PlanetConstants(double Radius, double Omega, double Gravity, double MeanDepth, double BumpAmplitude)
{
    public static PlanetConstants Earth { get; } = new(6.37122e6, 7.292e-5, 9.80616, 10.0e3, 120.0);
}
