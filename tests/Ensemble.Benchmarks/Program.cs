using BenchmarkDotNet.Running;

// `dotnet run -c Release --project tests/Ensemble.Benchmarks -- --filter '*'` runs every benchmark;
// see docs/benchmarks.md for the recorded results and the machine they came from.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
