using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>
/// The reference's third-order Adams–Bashforth integrator with its non-standard start (docs sht-and-sfno §10):
/// step 0 uses F₀ in all three slots (Euler up to rounding), step 1 sets the oldest slot to F₁ (coefficients 7/3, −4/3),
/// then AB3. Hyperdiffusion multiplies ζ̂ and δ̂ after every step. The history persists between calls, so a long
/// run chunked into several calls is the same trajectory as one call.
/// </summary>
public sealed class AdamsBashforth3 : IDisposable
{
    readonly ShallowWaterSolver _solver;
    readonly Tensor?[] _slots = new Tensor?[3];
    int _inew = 0, _inow = 1, _iold = 2;

    public AdamsBashforth3(ShallowWaterSolver solver) => _solver = solver;

    /// <summary>Steps taken since construction or <see cref="Reset"/>.</summary>
    public long StepCount { get; private set; }

    /// <summary>Forgets the history: the next step starts again with the Euler step.</summary>
    public void Reset()
    {
        for (int i = 0; i < 3; i++) { _slots[i]?.Dispose(); _slots[i] = null; }
        _inew = 0; _inow = 1; _iold = 2;
        StepCount = 0;
    }

    /// <summary>
    /// One step: F = dynamics(u) (+ <paramref name="forcing"/>(u) if given, an extra tendency of the same shape);
    /// returns the new state (the input is left untouched).
    /// </summary>
    public Tensor Step(Tensor uspec, Func<Tensor, Tensor>? forcing)
    {
        using var scope = torch.NewDisposeScope();
        var f = _solver.Tendency(uspec);
        if (forcing != null) f = f.add(forcing(uspec), Scalars.One);
        f = f.MoveToOuterDisposeScope();
        _slots[_inew]?.Dispose();
        _slots[_inew] = f;
        if (StepCount == 0)
        {
            Replace(_inow, f);
            Replace(_iold, f);
        }
        else if (StepCount == 1)
        {
            Replace(_iold, f);
        }
        // Cached Scalars and add(…, One) instead of +: see Ensemble.Core.Scalars.
        var increment = _slots[_inew]!.mul(Scalars.Of(23.0 / 12.0)).sub(_slots[_inow]!.mul(Scalars.Of(16.0 / 12.0)))
            .add(_slots[_iold]!.mul(Scalars.Of(5.0 / 12.0)), Scalars.One).mul(Scalars.Of(_solver.Dt));
        var next = uspec.add(increment, Scalars.One);
        var vd = next.narrow(-3, 1, 2);
        vd.copy_(_solver.HyperDiff * vd);
        _inew = (_inew + 2) % 3;
        _inow = (_inow + 2) % 3;
        _iold = (_iold + 2) % 3;
        StepCount++;
        return next.MoveToOuterDisposeScope();
    }

    void Replace(int slot, Tensor f)
    {
        if (!ReferenceEquals(_slots[slot], f)) _slots[slot]?.Dispose();
        _slots[slot] = f.alias();
    }

    public void Dispose() => Reset();
}
