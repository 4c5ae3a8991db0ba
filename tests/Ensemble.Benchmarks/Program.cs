using BenchmarkDotNet.Running;

// `dotnet run -c Release --project tests/Ensemble.Benchmarks -- sht` runs the timed SHT driver, `-- sfno` the SFNO inference driver, `-- crps` the scoring driver;
// `... -- --filter '*'` runs every BenchmarkDotNet benchmark.
// See docs/benchmarks.md for the recorded results and the machine they came from.
// The CLI's malloc settings (docs/benchmarks.md); ENSEMBLE_MALLOC_TUNING=0 measures without them.
Ensemble.Core.NativeHeap.TuneForTensors();
if (args.Length > 0 && args[0] == "sht")
    return Ensemble.Benchmarks.Spherical.ShtBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "crps")
    return Ensemble.Benchmarks.Scoring.ScoringDriver.Run(args[1..]);
if (args.Length > 0 && args[0] == "sfno")
    return Ensemble.Benchmarks.Models.SfnoBenchmark.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
