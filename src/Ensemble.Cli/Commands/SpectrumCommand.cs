using System.CommandLine;
using System.Globalization;
using System.Text;
using Ensemble.Core;
using Ensemble.Data.Npy;
using Ensemble.Spherical;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble spectrum`: degree power spectrum E(l) of every field in a [.., nlat, nlon] .npy.</summary>
public static class SpectrumCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var input = new Option<FileInfo>("--input", "-i") { Description = "A .npy array [..., nlat, nlon] (float32 or float64)", Required = true };
        var grid = new Option<string>("--grid") { Description = "Latitude grid of the input: equiangular, legendre-gauss or lobatto", DefaultValueFactory = _ => "equiangular" };
        grid.AcceptOnlyFromAmong("equiangular", "legendre-gauss", "lobatto");
        var lmax = new Option<int?>("--lmax") { Description = "Number of degrees (l = 0..lmax-1); default: the grid's exactness limit" };
        var mmax = new Option<int?>("--mmax") { Description = "Number of orders (m = 0..mmax-1); default: lmax" };
        var output = new Option<FileInfo>("--output", "-o") { Description = "CSV file to write (field,l,power)", Required = true };
        var cmd = new Command("spectrum", "Spherical-harmonic degree power spectrum E(l) of the fields in a .npy file")
        {
            input, grid, lmax, mmax, output,
        };
        cmd.SetAction(parse => wrap(parse, ctx => Run(ctx,
            ctx.Get(input).FullName, ctx.Get(grid), ctx.Parse.GetValue(lmax), ctx.Parse.GetValue(mmax), ctx.Get(output).FullName)));
        return cmd;
    }

    public static int Run(CommandContext ctx, string inputPath, string gridName, int? lmaxOpt, int? mmaxOpt, string outputPath)
    {
        var gridType = GridTypes.Parse(gridName);
        var array = NpyFile.Read(inputPath);
        if (array.Descr is not ("<f4" or "<f8"))
            throw new EnsembleException($"{inputPath}: dtype {array.Descr} is not float32 or float64");
        if (array.Shape.Length < 2)
            throw new EnsembleException($"{inputPath}: expected an array [..., nlat, nlon], got shape ({string.Join(", ", array.Shape)})");
        int nlat = checked((int)array.Shape[^2]), nlon = checked((int)array.Shape[^1]);
        int minLat = gridType == GridType.LegendreGauss ? 1 : 2;
        if (nlat < minLat || nlon < 2)
            throw new EnsembleException($"{inputPath}: grid {nlat}x{nlon} is too small for a {gridName} transform");
        int exact = ExactnessLimit(gridType, nlat);
        int lmaxV = lmaxOpt ?? Math.Min(exact, nlon / 2 + 1);
        int mmaxV = mmaxOpt ?? Math.Min(lmaxV, nlon / 2 + 1);
        if (lmaxV < 1 || lmaxV > nlat)
            throw new EnsembleException($"--lmax {lmaxV}: must be between 1 and nlat = {nlat} for this {nlat}x{nlon} grid");
        if (mmaxV < 1 || mmaxV > nlon / 2 + 1)
            throw new EnsembleException($"--mmax {mmaxV}: must be between 1 and nlon/2+1 = {nlon / 2 + 1} for this {nlat}x{nlon} grid");
        if (lmaxV > exact)
            ctx.Log.Warning("lmax {LMax} exceeds the {Grid} grid's exactness limit {Exact}: high degrees are aliased", lmaxV, gridName, exact);

        using var scope = torch.NewDisposeScope();
        var field = array.ToTensor().to(ScalarType.Float64);
        if (!field.isfinite().all().item<bool>())
            throw new EnsembleException($"{inputPath}: contains NaN or infinite values");
        long batch = field.NumberOfElements / ((long)nlat * nlon);
        field = field.reshape(batch, nlat, nlon);
        using var sht = new RealSHT(nlat, nlon, lmaxV, mmaxV, gridType, SphericalNorm.Ortho, csphase: true, dtype: ScalarType.Float64);
        var spectrum = PowerSpectrum.Degree(sht.forward(field)).cpu();   // [batch, lmax]
        var values = spectrum.data<double>().ToArray();

        var sb = new StringBuilder("field,l,power\n");
        for (long b = 0; b < batch; b++)
            for (int l = 0; l < lmaxV; l++)
                sb.Append(CultureInfo.InvariantCulture, $"{b},{l},{values[b * lmaxV + l]:R}\n");
        AtomicFile.WriteAllText(outputPath, sb.ToString());
        ctx.Log.Information("Wrote E(l) for {Fields} field(s), l = 0..{LMax} ({Grid} {NLat}x{NLon}) to {Output}",
            batch, lmaxV - 1, gridName, nlat, nlon, outputPath);
        return EnsembleCli.Ok;
    }

    /// <summary>Largest lmax the grid's quadrature integrates exactly (see sht-and-sfno.md §4.4).</summary>
    public static int ExactnessLimit(GridType grid, int nlat) => grid switch
    {
        GridType.LegendreGauss => nlat,
        GridType.Lobatto => nlat - 1,
        _ => (nlat + 1) / 2,
    };
}
