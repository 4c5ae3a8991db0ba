using System.CommandLine;
using Ensemble.Core;
using Ensemble.Data.NetCdf;
using Ensemble.Data.Npy;
using Ensemble.Models.Packages;
using Ensemble.Spherical;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble forecast`: a deterministic autoregressive rollout of one model package.</summary>
public static class ForecastCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var model = new Option<DirectoryInfo>("--model", "-m") { Description = "Model package directory (makani layout: config.json, global_means/stds.npy, training_checkpoints/best_ckpt_mp0.tar)", Required = true };
        var input = new Option<FileInfo>("--input", "-i") { Description = "Initial condition: .npy [batch, channel, lat, lon] or [channel, lat, lon]; or .nc with one variable per input channel (leading dims become the batch)", Required = true };
        var steps = new Option<int>("--steps", "-n") { Description = "Number of model steps (each config.dhours·dt hours)", DefaultValueFactory = _ => 1 };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Output .npy [batch, lead_time, channel, lat, lon] or .nc (ensemble, lead_time, lat, lon) per channel", Required = true };
        var start = new Option<string?>("--start-time") { Description = "Valid time of the input (UTC, e.g. 2020-01-01T00:00); needed by models with add_zenith" };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "auto" };
        var dtype = new Option<string>("--dtype") { Description = "Compute precision: float32 (default), float64; bfloat16/float16 on CUDA", DefaultValueFactory = _ => "float32" };
        var cmd = new Command("forecast", "Roll a model package forward from an initial condition") { model, input, steps, output, start, device, dtype };
        cmd.SetAction(parse => wrap(parse, ctx => Run(ctx, ctx.Get(model).FullName, ctx.Get(input).FullName, ctx.Get(steps), ctx.Get(output).FullName,
            ctx.Parse.GetValue(start), ctx.Get(device), ctx.Get(dtype))));
        return cmd;
    }

    public static int Run(CommandContext ctx, string modelDir, string inputPath, int steps, string outputPath, string? startText, string deviceName, string dtypeName)
    {
        if (steps < 1) throw new EnsembleException($"--steps {steps}: must be ≥ 1");
        string ext = Path.GetExtension(outputPath).ToLowerInvariant();
        if (ext is not (".npy" or ".nc")) throw new EnsembleException($"--output {outputPath}: expected a .npy or .nc file");
        DateTime? startTime = null;
        if (startText != null)
        {
            if (!DateTime.TryParse(startText, System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var t))
                throw new EnsembleException($"--start-time '{startText}': not a date/time");
            startTime = t;
        }
        var dev = Devices.Parse(deviceName);
        var computeType = Devices.ParseDType(dtypeName);
        using var package = ModelPackage.Load(modelDir, dev);
        var c = package.Config;
        var forecaster = new Forecaster(package, computeType);
        bool sameChannels = c.InChannelNames.SequenceEqual(c.OutChannelNames);
        if (steps > 1 && !sameChannels)
            throw new EnsembleException($"{modelDir}: maps {c.NInChannels} input to {c.NOutChannels} output channels, so it can take only one step (--steps 1)");

        using var scope = torch.NewDisposeScope();
        var x = ReadInput(inputPath, c.InChannelNames, c.ImgShapeX, c.ImgShapeY);
        ctx.Log.Information("Forecasting {Members} state(s) of {Channels} channels on {NLat}x{NLon}, {Steps} step(s) of {Hours} h on {Device}",
            x.shape[0], x.shape[1], x.shape[2], x.shape[3], steps, forecaster.TimeStep.TotalHours, dev.ToString());
        var leads = new List<Tensor>();
        if (sameChannels)
        {
            foreach (var state in forecaster.Rollout(x, steps, startTime))
                leads.Add(state.cpu());
        }
        else
        {
            // Lead 0 exists only in input channels: keep the output channels that are also inputs, else NaN.
            leads.Add(InitialInOutputChannels(x, c.InChannelNames, c.OutChannelNames));
            leads.Add(forecaster.Step(x, startTime).cpu());
        }
        var result = torch.stack(leads.ToArray(), 1); // [B, T, C, H, W]
        if (ext == ".npy")
            NpyFile.Write(outputPath, result);
        else
            WriteNetCdf(outputPath, result, c.OutChannelNames, forecaster.TimeStep, startTime, GridTypes.Parse(c.DataGridType), modelDir);
        ctx.Log.Information("Wrote {Leads} lead times to {Output}", leads.Count, outputPath);
        return EnsembleCli.Ok;
    }

    static Tensor InitialInOutputChannels(Tensor x, IReadOnlyList<string> inNames, IReadOnlyList<string> outNames)
    {
        var slices = outNames.Select(n =>
        {
            int i = inNames.ToList().IndexOf(n);
            return i >= 0 ? x[.., i].to(ScalarType.Float64) : torch.full_like(x[.., 0], double.NaN, dtype: ScalarType.Float64);
        }).ToArray();
        return torch.stack(slices, 1);
    }

    /// <summary>[batch, channel, lat, lon] float64 from .npy or .nc, validated against the model's channels and grid.</summary>
    public static Tensor ReadInput(string path, IReadOnlyList<string> channels, int nlat, int nlon)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        Tensor x;
        if (ext == ".npy")
        {
            var a = NpyFile.Read(path);
            if (a.Descr is not ("<f4" or "<f8")) throw new EnsembleException($"{path}: dtype {a.Descr} is not float32 or float64");
            x = a.ToTensor().to(ScalarType.Float64);
            if (x.dim() == 3) x = x.unsqueeze(0);
            if (x.dim() != 4) throw new EnsembleException($"{path}: expected [batch, channel, lat, lon], got shape ({string.Join(", ", a.Shape)})");
        }
        else if (ext == ".nc")
        {
            using var nc = NetCdfFile.Open(path);
            var fields = new List<Tensor>();
            long[]? lead = null;
            foreach (var name in channels)
            {
                if (!nc.HasVariable(name))
                    throw new EnsembleException($"{path}: no variable '{name}' (the model needs {string.Join(", ", channels)})");
                var v = nc.Variable(name);
                if (v.Rank < 2) throw new EnsembleException($"{path}: variable '{name}' is not a lat/lon field");
                var thisLead = v.Shape[..^2];
                if (lead != null && !lead.SequenceEqual(thisLead))
                    throw new EnsembleException($"{path}: variable '{name}' has leading dims ({string.Join(", ", thisLead)}), others ({string.Join(", ", lead)})");
                lead = thisLead;
                fields.Add(torch.tensor(nc.ReadDoubles(name), dtype: ScalarType.Float64).reshape(-1, v.Shape[^2], v.Shape[^1]));
            }
            x = torch.stack(fields.ToArray(), 1);
        }
        else throw new EnsembleException($"{path}: expected a .npy or .nc initial condition");
        if (x.shape[1] != channels.Count)
            throw new EnsembleException($"{path}: has {x.shape[1]} channels, the model needs {channels.Count} ({string.Join(" ", channels)})");
        if (x.shape[2] != nlat || x.shape[3] != nlon)
            throw new EnsembleException($"{path}: grid {x.shape[2]}x{x.shape[3]} does not match the model grid {nlat}x{nlon}");
        if (!x.isfinite().all().item<bool>())
            throw new EnsembleException($"{path}: contains NaN or infinite values");
        return x;
    }

    static void WriteNetCdf(string path, Tensor result, IReadOnlyList<string> channels, TimeSpan step, DateTime? start, GridType grid, string model)
    {
        long b = result.shape[0], t = result.shape[1];
        int nlat = (int)result.shape[3], nlon = (int)result.shape[4];
        var g = new SphericalGrid(grid, nlat, nlon);
        var w = new NetCdf4Writer();
        w.GlobalAttributes["title"] = "ensemble forecast";
        w.GlobalAttributes["source"] = $"Ensemble {typeof(ForecastCommand).Assembly.GetName().Version} forecast with {Path.GetFullPath(model)}";
        if (start is { } s) w.GlobalAttributes["initial_time"] = s.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        w.AddCoordinate("ensemble", Enumerable.Range(0, (int)b).ToArray(), new Dictionary<string, object> { ["long_name"] = "ensemble member" });
        w.AddCoordinate("lead_time", Enumerable.Range(0, (int)t).Select(i => i * step.TotalHours).ToArray(),
            new Dictionary<string, object> { ["units"] = "hours", ["long_name"] = "forecast lead time", ["standard_name"] = "forecast_period" });
        w.AddCoordinate("lat", g.LatitudesDeg(), new Dictionary<string, object> { ["units"] = "degrees_north", ["standard_name"] = "latitude" });
        w.AddCoordinate("lon", g.LongitudesDeg(), new Dictionary<string, object> { ["units"] = "degrees_east", ["standard_name"] = "longitude" });
        for (int ci = 0; ci < channels.Count; ci++)
        {
            var data = result[.., .., ci].to(ScalarType.Float32).contiguous().data<float>().ToArray();
            w.AddVariable(channels[ci], ["ensemble", "lead_time", "lat", "lon"], data, new Dictionary<string, object> { ["long_name"] = channels[ci] });
        }
        w.Write(path);
    }
}
