using System.Runtime.CompilerServices;

namespace Ensemble.Core.Native;

/// <summary>
/// Per-thread pinned scratch memory for the native kernels' temporaries (a DFT chunk, a pointwise strip): one buffer per
/// slot, 64-byte aligned, grown on demand and kept for the thread's life, so the hot loops neither allocate nor fault
/// in fresh pages. A slot's memory is valid until the next <see cref="Get"/> of the same slot on the same thread.
/// </summary>
public static unsafe class ThreadScratch
{
    /// <summary>Slots in use (callers that never nest may share one).</summary>
    public const int Sht = 0, Pointwise = 1, Count = 2;

    [ThreadStatic] static byte[]?[]? t_slots;

    public static void* Get(int slot, long bytes)
    {
        var slots = t_slots ??= new byte[]?[Count];
        var a = slots[slot];
        if (a is null || a.LongLength < bytes + 64)
            slots[slot] = a = GC.AllocateUninitializedArray<byte>((int)checked(Math.Max(bytes + 64, (a?.LongLength ?? 0) * 3 / 2)), pinned: true);
        long p = (long)Unsafe.AsPointer(ref a[0]);
        return (void*)((p + 63) & ~63L);
    }
}
