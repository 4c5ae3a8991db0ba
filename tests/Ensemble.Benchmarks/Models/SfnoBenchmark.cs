using System.Diagnostics;
using System.Globalization;
using Ensemble.Models.Sfno;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Benchmarks.Models;

/// <summary>
/// Timed driver for SFNO inference (`dotnet run -c Release --project tests/Ensemble.Benchmarks -- sfno [options]`):
/// float32, 2 threads, inference mode, one fresh child process per (case, batch) so that the peak RSS (VmHWM) belongs
/// to that case alone. Reports the median forward time per member, the analytic FLOPs per member-step (SfnoFlops)
/// over that time, and that rate as a fraction of a float32 2048² matmul timed in the same run. Prints Markdown.
/// Options: <c>--cases a,b</c>, <c>--batches 1,4,16</c>, <c>--reps N</c> (timed runs, default 11, after 1 warm-up: on this shared VM single forwards swing by ±30 %, and the median of 5 moved by as much between runs),
/// <c>--profile</c> (also print the time of each stage, in-process, via the network's activation tap);
/// <c>--chunk N</c> (members per chunk; default: the network's automatic choice);
/// <c>--threads N</c> (default 2; 1 gives CPU times that time-slicing on a busy machine does not inflate);
/// <c>--wait-policy active|passive</c> (OMP_WAIT_POLICY of the case processes; passive: OpenMP threads sleep at
/// barriers instead of spinning, which keeps 2 threads usable when another process holds a core);
/// <c>--stages a|b BATCH [THREADS]</c> times the building blocks alone (<see cref="SfnoStageProfile"/>);
/// <c>--batch1 a|b [REPS]</c> compares one member's one-thread and shared forwards (<see cref="SfnoBatchOne"/>).
/// With 2+ threads the forward runs on SfnoWorkers (the header says so); <c>ENSEMBLE_SFNO_WORKERS=0</c> in the environment
/// gives the intra-op-thread forward for A/B (<c>--profile</c> uses the activation tap, which always runs without workers).
/// </summary>
public static class SfnoBenchmark
{
    sealed record Case(string Key, string Name, SfnoConfig Config, double[] MakaniMs);

    static readonly Case[] Cases =
    [
        new("a", "181×360, 9 ch, E 64, 4 layers, scale 2", Make(181, 360, 9, 64), [559, 844, 1160]),
        new("b", "91×180, 6 ch, E 32, 4 layers, scale 2", Make(91, 180, 6, 32), [85, 78, 114]),
    ];
    static readonly int[] MakaniBatches = [1, 4, 16];

    static SfnoConfig Make(int nlat, int nlon, int channels, int embed) => new()
    {
        ImgShapeX = nlat, ImgShapeY = nlon, ScaleFactor = 2, NInChannels = channels, NOutChannels = channels,
        EmbedDim = embed, NumLayers = 4,
    };

    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "--child") return Child(args[1..]);
        if (args.Length > 0 && args[0] == "--dft") return Ensemble.Benchmarks.Spherical.DftLayouts.Run();
        if (args.Length > 0 && args[0] == "--gemm") return Ensemble.Benchmarks.Spherical.GemmShapes.Run();
        if (args.Length > 0 && args[0] == "--gemm-small") return Ensemble.Benchmarks.Spherical.GemmShapes.RunSmall();
        if (args.Length > 1 && args[0] == "--batch1")
            return SfnoBatchOne.Run(Cases.Single(c => c.Key == args[1]).Config, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 15,
                args.Length > 3 ? args[3].Split(',').Select(m => int.Parse(m, CultureInfo.InvariantCulture)).ToArray() : null);
        if (args.Length > 2 && args[0] == "--stages")
            return SfnoStageProfile.Run(Cases.Single(c => c.Key == args[1]).Config, int.Parse(args[2], CultureInfo.InvariantCulture),
                args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 2);
        var opts = Options.Parse(args);
        torch.set_num_threads(opts.Threads);
        Console.WriteLine($"# SFNO inference benchmark: torch {torch.__version__}, threads {torch.get_num_threads()}, float32, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"SFNO workers: {(Ensemble.Models.Sfno.SfnoWorkers.Enabled ? $"on ({opts.Threads} workers when threads >= 2)" : "off (ENSEMBLE_SFNO_WORKERS=0: intra-op threads)")}");
        Console.WriteLine($"malloc tuning (one arena, 32 MB mmap threshold, 1 GB trim threshold): {(Ensemble.Core.NativeHeap.Tuned ? "on" : "off (ENSEMBLE_MALLOC_TUNING=0 or not glibc)")}");
        Console.WriteLine($"load average before: {LoadAverage()}; OMP_WAIT_POLICY of the cases: {opts.WaitPolicy ?? Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "libgomp default"}");
        double mm0 = MatmulGflops();
        Console.WriteLine($"float32 matmul 2048² ({opts.Threads} threads): {mm0:F1} GFLOP/s");
        Console.WriteLine();

        var results = new List<(Case C, int Batch, ChildResult R)>();
        foreach (var c in Cases.Where(c => opts.Cases.Contains(c.Key)))
            foreach (int b in opts.Batches)
            {
                var r = RunChild(c.Key, b, opts);
                if (r is null) return 1;
                results.Add((c, b, r));
            }
        double mm1 = MatmulGflops();
        double mm = Math.Max(mm0, mm1);
        Console.WriteLine($"float32 matmul 2048² after the cases: {mm1:F1} GFLOP/s (rate used below: the better, {mm:F1}); load average after: {LoadAverage()}");
        Console.WriteLine();

        foreach (var c in Cases.Where(c => opts.Cases.Contains(c.Key)))
        {
            var flops = SfnoFlops.Of(c.Config);
            Console.WriteLine($"### ({c.Key}) {c.Name}: {flops.Total / 1e9:F2} GFLOP per member-step (dense spectral loops: {flops.DenseTotal / 1e9:F2})");
            Console.WriteLine($"conv1x1 {flops.Conv1x1 / 1e9:F3}, FFT {flops.Fft / 1e9:F3}, Legendre {flops.Legendre / 1e9:F3}, dhconv {flops.Dhconv / 1e9:F3}, norms {flops.Norm / 1e9:F3}, GELU {flops.Gelu / 1e9:F3}, adds {flops.Adds / 1e9:F3} GFLOP");
            Console.WriteLine();
            Console.WriteLine("| batch | forward ms (median) | ms per member | makani ms per member | speed-up | GFLOP/s | % of matmul (run) | % of matmul (case) | CPU ms per member | % of matmul by CPU time | peak RSS MB | peak − baseline MB |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var (_, b, r) in results.Where(t => t.C == c))
            {
                double perMember = r.MedianMs / b;
                int mi = Array.IndexOf(MakaniBatches, b);
                string makani = mi >= 0 ? c.MakaniMs[mi].ToString("F0", CultureInfo.InvariantCulture) : "–";
                string speedup = mi >= 0 ? (c.MakaniMs[mi] / perMember).ToString("F1", CultureInfo.InvariantCulture) + "×" : "–";
                double gflops = flops.Total / (perMember * 1e6);
                // CPU-time rate: FLOPs over CPU time per thread, against the matmul's rate measured the same way.
                double cpuRate = flops.Total / (r.CpuMs / b / opts.Threads * 1e6);
                Console.WriteLine($"| {b} | {r.MedianMs:F1} (min {r.MinMs:F1}, max {r.MaxMs:F1}, n {r.Reps}) | {perMember:F1} | {makani} | {speedup} | {gflops:F1} | {100 * gflops / mm:F0} % | {100 * gflops / r.MatmulWall:F0} % | {r.CpuMs / b:F1} | {100 * cpuRate / r.MatmulCpu:F0} % | {r.PeakMb:F0} | {r.PeakMb - r.BaseMb:F0} |");
            }
            Console.WriteLine();
        }
        return 0;
    }

    sealed record Options(HashSet<string> Cases, int[] Batches, int Reps, bool Profile, int Threads, int Chunk, string? WaitPolicy)
    {
        public static Options Parse(string[] args)
        {
            var cases = new HashSet<string> { "a", "b" };
            int[] batches = [1, 4, 16];
            int reps = 11;
            bool profile = false;
            int threads = 2;
            int chunk = 0;
            string? wait = null;
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--cases": cases = args[++i].Split(',').ToHashSet(); break;
                    case "--batches": batches = args[++i].Split(',').Select(int.Parse).ToArray(); break;
                    case "--reps": reps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--profile": profile = true; break;
                    case "--chunk": chunk = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--wait-policy": wait = args[++i].ToUpperInvariant(); break;
                    default: throw new ArgumentException($"sfno benchmark: unknown option '{args[i]}'");
                }
            }
            if (wait is not null and not ("ACTIVE" or "PASSIVE")) throw new ArgumentException("sfno benchmark: --wait-policy is active or passive");
            return new Options(cases, batches, Math.Max(1, reps), profile, Math.Max(1, threads), Math.Max(0, chunk), wait);
        }
    }

    /// <summary>One case's numbers; CpuMs is the process CPU time per forward, MatmulWall/MatmulCpu the child's own matmul rates.</summary>
    sealed record ChildResult(double MedianMs, double MinMs, double MaxMs, int Reps, double BaseMb, double PeakMb, double CpuMs, double MatmulWall, double MatmulCpu);

    /// <summary>Runs one case in a fresh process of this executable and parses its RESULT line.</summary>
    static ChildResult? RunChild(string key, int batch, Options opts)
    {
        string exe = Environment.ProcessPath!;
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, UseShellExecute = false };
        psi.FileName = exe;
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") psi.ArgumentList.Add(typeof(SfnoBenchmark).Assembly.Location);
        foreach (var a in new[] { "sfno", "--child", key, batch.ToString(CultureInfo.InvariantCulture), opts.Reps.ToString(CultureInfo.InvariantCulture), opts.Profile ? "profile" : "plain", opts.Threads.ToString(CultureInfo.InvariantCulture), opts.Chunk.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        // libgomp reads OMP_WAIT_POLICY when libtorch loads, so it can only be set for a fresh process.
        if (opts.WaitPolicy is { } policy) psi.Environment["OMP_WAIT_POLICY"] = policy;
        using var p = Process.Start(psi)!;
        ChildResult? result = null;
        string? line;
        while ((line = p.StandardOutput.ReadLine()) != null)
        {
            if (line.StartsWith("RESULT ", StringComparison.Ordinal))
            {
                var v = line[7..].Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                result = new ChildResult(v[0], v[1], v[2], (int)v[3], v[4], v[5], v[6], v[7], v[8]);
            }
            else Console.WriteLine(line);
        }
        p.WaitForExit();
        if (p.ExitCode != 0 || result is null) Console.Error.WriteLine($"sfno benchmark: child for case {key}, batch {batch} failed (exit {p.ExitCode})");
        return result;
    }

    static int Child(string[] args)
    {
        var c = Cases.Single(x => x.Key == args[0]);
        int batch = int.Parse(args[1], CultureInfo.InvariantCulture), reps = int.Parse(args[2], CultureInfo.InvariantCulture);
        bool profile = args[3] == "profile";
        torch.set_num_threads(int.Parse(args[4], CultureInfo.InvariantCulture));
        using (var warm = torch.ones(8)) { }
        double baseMb = ProcStatusMb("VmRSS");
        var (mmWall, mmCpu) = Matmul();
        using var net = new SphericalFourierNeuralOperatorNet(c.Config, ScalarType.Float32, seed: 1);
        net.eval();
        int chunk = int.Parse(args[5], CultureInfo.InvariantCulture);
        if (chunk > 0) net.MembersPerChunk = chunk;
        using var inference = torch.inference_mode();
        using var x = torch.randn([batch, c.Config.ModelInputChannels, c.Config.ImgShapeX, c.Config.ImgShapeY], generator: new Generator(7));

        void Once() { using var y = net.forward(x); }
        Once();                                         // warm-up (not timed)
        var (wall, cpu) = Measure(Once, reps);
        if (profile) Profile(net, x, c, batch, reps);
        double peak = ProcStatusMb("VmHWM");
        Console.WriteLine(FormattableString.Invariant($"RESULT {Median(wall)} {wall.Min()} {wall.Max()} {wall.Count} {baseMb} {peak} {Median(cpu)} {mmWall} {mmCpu}"));
        return 0;
    }

    /// <summary>Wall and process CPU milliseconds of each run.</summary>
    static (List<double> Wall, List<double> Cpu) Measure(Action run, int reps)
    {
        var wall = new List<double>();
        var cpu = new List<double>();
        using var self = Process.GetCurrentProcess();
        for (int i = 0; i < reps; i++)
        {
            self.Refresh();
            var c0 = self.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            run();
            wall.Add(sw.Elapsed.TotalMilliseconds);
            self.Refresh();
            cpu.Add((self.TotalProcessorTime - c0).TotalMilliseconds);
        }
        return (wall, cpu);
    }

    static double Median(List<double> v)
    {
        var s = v.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : 0.5 * (s[s.Count / 2 - 1] + s[s.Count / 2]);
    }

    /// <summary>Median time between consecutive activation taps (encoder, each block's filter and rest, decoder + residual).</summary>
    static void Profile(SphericalFourierNeuralOperatorNet net, Tensor x, Case c, int batch, int reps)
    {
        var samples = new Dictionary<string, List<double>>();
        var order = new List<string>();
        using var self = Process.GetCurrentProcess();
        for (int r = 0; r < Math.Max(3, reps); r++)
        {
            self.Refresh();
            var last = self.TotalProcessorTime;
            void Tap(string name, Tensor _)
            {
                self.Refresh();
                var now = self.TotalProcessorTime;
                if (!samples.TryGetValue(name, out var list)) { samples[name] = list = []; order.Add(name); }
                list.Add((now - last).TotalMilliseconds);
                last = now;
            }
            using var y = net.Forward(x, Tap);
            Tap("residual+output", y);
        }
        Console.WriteLine($"profile ({c.Key}) batch {batch}, median CPU ms per stage: " +
            string.Join(", ", order.Select(n => FormattableString.Invariant($"{n} {Median(samples[n]):F1}"))));
    }

    static double ProcStatusMb(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return double.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }

    static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    static double MatmulGflops() => Matmul().Wall;

    /// <summary>float32 2048² matmul: GFLOP/s over the median wall time and over the median process CPU time per thread.</summary>
    static (double Wall, double Cpu) Matmul()
    {
        using var a = torch.randn(2048, 2048);
        using var b = torch.randn(2048, 2048);
        for (int i = 0; i < 2; i++) { using var _ = torch.mm(a, b); }
        var (wall, cpu) = Measure(() => { using var _ = torch.mm(a, b); }, 7);
        double flop = 2.0 * 2048 * 2048 * 2048;
        return (flop / (Median(wall) * 1e6), flop / (Median(cpu) / torch.get_num_threads() * 1e6));
    }
}
