using Ensemble.Data.Npy;
using Ensemble.Spherical;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ensemble.World.Tests;

/// <summary>
/// The solver against torch-harmonics `ShallowWaterSolver` trajectories (shared/fixtures/swe, Legendre–Gauss 64×128,
/// lmax = mmax = 22, dt = 150 s, 12 steps, float64) and the check values of docs sht-and-sfno §10.
/// </summary>
public sealed class SolverConformanceTests(ITestOutputHelper output)
{
    static ShallowWaterSolver Reference() => new(64, 128, 22, 22, 150.0, GridType.LegendreGauss);

    static Tensor Load(string name) => NpyFile.Read(Shared.Require($"fixtures/swe/{name}")).ToTensor();

    static double RelativeError(Tensor actual, Tensor expected)
    {
        using var d = (actual - expected).abs().pow(2).sum();
        using var n = expected.abs().pow(2).sum();
        return Math.Sqrt(d.item<double>() / n.item<double>());
    }

    [SkippableFact]
    public void Galewsky_initial_state_matches_reference_spectrum_and_grid()
    {
        using var expected = Load("galewsky_lg64x128_uspec0.npy");
        using var expectedGrid = Load("galewsky_lg64x128_grid0.npy");
        using var solver = Reference();
        using var uspec = solver.GalewskyInitialCondition();
        double rel = RelativeError(uspec, expected);
        output.WriteLine($"Galewsky uspec0 relative error {rel:E3}");
        Assert.True(rel <= 1e-12, $"Galewsky initial spectrum relative error {rel:E3} > 1e-12");
        using var grid = solver.Spec2Grid(uspec);
        double relGrid = RelativeError(grid, expectedGrid);
        output.WriteLine($"Galewsky grid0 relative error {relGrid:E3}");
        Assert.True(relGrid <= 1e-12, $"Galewsky initial grid relative error {relGrid:E3} > 1e-12");
        // §10 check value: the unweighted mean of the Φ grid.
        double phiMean = grid[0].mean().item<double>();
        Assert.True(Math.Abs(phiMean - 96848.06493772555) <= 1e-8 * 96848.06493772555, $"mean Φ {phiMean:R}");
    }

    [SkippableFact]
    public void Galewsky_twelve_steps_match_reference()
    {
        using var start = Load("galewsky_lg64x128_uspec0.npy");
        using var expected = Load("galewsky_lg64x128_uspec_12x150s.npy");
        using var expectedGrid = Load("galewsky_lg64x128_grid_12x150s.npy");
        using var solver = Reference();
        using var end = solver.Timestep(start, 12);
        double rel = RelativeError(end, expected);
        output.WriteLine($"Galewsky 12 steps: spectral relative error {rel:E3}");
        Assert.True(rel <= 1e-10, $"Galewsky 12-step relative error {rel:E3} > 1e-10");
        using var grid = solver.Spec2Grid(end);
        double relGrid = RelativeError(grid, expectedGrid);
        output.WriteLine($"Galewsky 12 steps: grid relative error {relGrid:E3}");
        Assert.True(relGrid <= 1e-10, $"Galewsky 12-step grid relative error {relGrid:E3} > 1e-10");
        // §10 check value: max|ζ| on the grid after 12 steps.
        double maxVort = grid[1].abs().max().item<double>();
        Assert.True(Math.Abs(maxVort - 8.842559327658168e-05) <= 1e-10 * 8.842559327658168e-05, $"max|ζ| {maxVort:R}");
    }

    [SkippableFact]
    public void Random_initial_state_twelve_steps_match_reference()
    {
        using var start = Load("random_lg64x128_uspec0_seed0.npy");
        using var expected = Load("random_lg64x128_uspec_12x150s_seed0.npy");
        using var solver = Reference();
        using var end = solver.Timestep(start, 12);
        double rel = RelativeError(end, expected);
        output.WriteLine($"random IC 12 steps: spectral relative error {rel:E3}");
        Assert.True(rel <= 1e-10, $"random 12-step relative error {rel:E3} > 1e-10");
    }

    [SkippableFact]
    public void Batched_members_step_like_single_states()
    {
        using var start = Load("galewsky_lg64x128_uspec0.npy");
        using var other = Load("random_lg64x128_uspec0_seed0.npy");
        using var solver = Reference();
        using var batch = torch.stack([start, other]);
        using var endBatch = solver.Timestep(batch, 5);
        using var endA = solver.Timestep(start, 5);
        using var endB = solver.Timestep(other, 5);
        Assert.True(RelativeError(endBatch[0], endA) <= 1e-13);
        Assert.True(RelativeError(endBatch[1], endB) <= 1e-13);
    }

    [Fact]
    public void Solid_body_rotation_has_the_analytic_vorticity_and_no_divergence()
    {
        using var solver = new ShallowWaterSolver(32, 64, 32, 32, 150.0, GridType.LegendreGauss);
        double U = 20.0, a = solver.Planet.Radius;
        var lat = torch.tensor(solver.Latitudes, dtype: ScalarType.Float64).reshape(32, 1);
        using var u = (U * torch.cos(lat)).expand(32, 64);
        using var uv = torch.stack([u, torch.zeros_like(u)]);
        using var vd = solver.VrtDivSpec(uv);
        using var grid = solver.Spec2Grid(vd);
        using var expected = (2 * U * torch.sin(lat) / a).expand(32, 64);
        Close.Absolute(grid[0].contiguous().data<double>().ToArray(), expected.contiguous().data<double>().ToArray(), 1e-17, "vorticity");
        Assert.True(grid[1].abs().max().item<double>() < 1e-18);
        using var back = solver.GetUV(vd);
        Close.Absolute(back[0].contiguous().data<double>().ToArray(), u.contiguous().data<double>().ToArray(), 1e-9, "u round trip");
    }
}
