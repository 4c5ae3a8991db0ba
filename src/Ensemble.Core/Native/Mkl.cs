using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Core.Native;

/// <summary>
/// The BLAS and DFTI entry points of the MKL that libtorch's CPU build links in and exports (<c>libtorch_cpu.so</c>:
/// Fortran <c>sgemm_</c>/<c>dgemm_</c>/<c>cgemm_</c>/<c>zgemm_</c>, <c>Dfti*</c>), and the data pointer of a tensor
/// (LibTorchSharp's <c>THSTensor_data</c>). Calling them directly lets inference pass strides (BLAS leading dimensions,
/// DFTI strides and distances) instead of reordering tensors around libtorch ops (Ensemble.Spherical.Native.NativeSht,
/// the SFNO's dhconv and pointwise tiles). Resolved once; when anything is missing (another platform, a libtorch without
/// MKL) <see cref="Available"/> is false and callers keep the libtorch path.
/// </summary>
public static unsafe class Mkl
{
    // DFTI configuration (mkl_dfti.h).
    public const int DftiNumberOfTransforms = 7, DftiConjugateEvenStorage = 10, DftiPlacement = 11,
        DftiInputStrides = 12, DftiOutputStrides = 13, DftiInputDistance = 14, DftiOutputDistance = 15, DftiThreadLimit = 27;
    public const int DftiReal = 33, DftiComplexComplex = 39, DftiNotInplace = 44;

    static readonly delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*, int*, void> s_sgemm;
    static readonly delegate* unmanaged<byte*, byte*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*, int*, void> s_dgemm;
    // cgemm_/zgemm_: complex float/double, alpha and beta passed as pointers to (re, im).
    static readonly delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*, int*, void> s_cgemm;
    static readonly delegate* unmanaged<byte*, byte*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*, int*, void> s_zgemm;
    // The Dfti functions are variadic in C; every argument passed here is an integer or a pointer, which the SysV
    // x86-64 convention passes in the same registers either way (no floating-point variadic argument is ever used).
    static readonly delegate* unmanaged<IntPtr*, int, long, long> s_createSingle, s_createDouble;
    static readonly delegate* unmanaged<IntPtr, int, long, long> s_setValue;
    static readonly delegate* unmanaged<IntPtr, long> s_commit;
    static readonly delegate* unmanaged<IntPtr, void*, void*, long> s_forward, s_backward;
    static readonly delegate* unmanaged<long, byte*> s_errorMessage;
    static readonly delegate* unmanaged<IntPtr, void*> s_tensorData;

    /// <summary>Why the native path is off ("" when it is available).</summary>
    public static string Unavailable { get; } = "";

    /// <summary>Whether every entry point resolved.</summary>
    public static bool Available => Unavailable.Length == 0;

    static Mkl()
    {
        try
        {
            if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            {
                Unavailable = "not linux-x64";
                return;
            }
            using (torch.ones(1)) { }                                    // makes TorchSharp load libtorch first
            var torchCpu = Load("libtorch_cpu.so");
            var bridge = Load("libLibTorchSharp.so");
            if (torchCpu == IntPtr.Zero || bridge == IntPtr.Zero)
            {
                Unavailable = "libtorch_cpu.so or libLibTorchSharp.so not found";
                return;
            }
            s_sgemm = (delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*, int*, void>)NativeLibrary.GetExport(torchCpu, "sgemm_");
            s_dgemm = (delegate* unmanaged<byte*, byte*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*, int*, void>)NativeLibrary.GetExport(torchCpu, "dgemm_");
            s_cgemm = (delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*, int*, void>)NativeLibrary.GetExport(torchCpu, "cgemm_");
            s_zgemm = (delegate* unmanaged<byte*, byte*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*, int*, void>)NativeLibrary.GetExport(torchCpu, "zgemm_");
            s_createSingle = (delegate* unmanaged<IntPtr*, int, long, long>)NativeLibrary.GetExport(torchCpu, "DftiCreateDescriptor_s_1d");
            s_createDouble = (delegate* unmanaged<IntPtr*, int, long, long>)NativeLibrary.GetExport(torchCpu, "DftiCreateDescriptor_d_1d");
            s_setValue = (delegate* unmanaged<IntPtr, int, long, long>)NativeLibrary.GetExport(torchCpu, "DftiSetValue");
            s_commit = (delegate* unmanaged<IntPtr, long>)NativeLibrary.GetExport(torchCpu, "DftiCommitDescriptor");
            s_forward = (delegate* unmanaged<IntPtr, void*, void*, long>)NativeLibrary.GetExport(torchCpu, "DftiComputeForward");
            s_backward = (delegate* unmanaged<IntPtr, void*, void*, long>)NativeLibrary.GetExport(torchCpu, "DftiComputeBackward");
            s_errorMessage = (delegate* unmanaged<long, byte*>)NativeLibrary.GetExport(torchCpu, "DftiErrorMessage");
            s_tensorData = (delegate* unmanaged<IntPtr, void*>)NativeLibrary.GetExport(bridge, "THSTensor_data");
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException or BadImageFormatException or TypeInitializationException)
        {
            Unavailable = e.Message;
        }
    }

    /// <summary>The library TorchSharp loaded (same file, so dlopen returns the loaded handle).</summary>
    static IntPtr Load(string name)
    {
        if (NativeLibrary.TryLoad(name, typeof(torch).Assembly, null, out var h)) return h;
        string baseDir = AppContext.BaseDirectory;
        foreach (var candidate in new[] { Path.Combine(baseDir, name), Path.Combine(baseDir, "runtimes", "linux-x64", "native", name) })
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out h)) return h;
        return IntPtr.Zero;
    }

    /// <summary>First element of <paramref name="t"/> (storage offset included). The caller keeps t alive.</summary>
    public static void* Data(Tensor t) => s_tensorData(t.Handle);

    /// <summary>
    /// Column-major C (m×n, ldc) = alpha · A (m×k, lda) · B (k×n, ldb) + beta · C, no transposes (Fortran BLAS).
    /// A row-major product C = A·B is the column-major Cᵀ = Bᵀ·Aᵀ: pass B's pointer first.
    /// </summary>
    public static void Gemm(float* a, int lda, float* b, int ldb, float* c, int ldc, int m, int n, int k, float alpha, float beta)
    {
        byte nt = (byte)'N';
        s_sgemm(&nt, &nt, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
    }

    /// <inheritdoc cref="Gemm(float*, int, float*, int, float*, int, int, int, int, float, float)"/>
    public static void Gemm(double* a, int lda, double* b, int ldb, double* c, int ldc, int m, int n, int k, double alpha, double beta)
    {
        byte nt = (byte)'N';
        s_dgemm(&nt, &nt, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
    }

    /// <summary>
    /// Complex column-major C (m×n, ldc) = A (m×k, lda) · B (k×n, ldb) (alpha 1, beta 0): complex float when
    /// <paramref name="dbl"/> is false, complex double otherwise; pointers to interleaved (re, im) pairs.
    /// </summary>
    public static void ComplexGemm(bool dbl, void* a, int lda, void* b, int ldb, void* c, int ldc, int m, int n, int k)
    {
        byte nt = (byte)'N';
        if (dbl)
        {
            double* one = stackalloc double[] { 1, 0 };
            double* zero = stackalloc double[] { 0, 0 };
            s_zgemm(&nt, &nt, &m, &n, &k, one, (double*)a, &lda, (double*)b, &ldb, zero, (double*)c, &ldc);
        }
        else
        {
            float* one = stackalloc float[] { 1, 0 };
            float* zero = stackalloc float[] { 0, 0 };
            s_cgemm(&nt, &nt, &m, &n, &k, one, (float*)a, &lda, (float*)b, &ldb, zero, (float*)c, &ldc);
        }
    }

    /// <summary>
    /// A committed out-of-place real DFT descriptor for <paramref name="count"/> transforms of length
    /// <paramref name="length"/>: real side contiguous, transforms <paramref name="realDistance"/> apart; complex side
    /// (orders 0 … length/2, complex-complex storage) with orders <paramref name="complexStride"/> and transforms
    /// <paramref name="complexDistance"/> apart (complex units). One thread per call (the callers parallelise).
    /// </summary>
    public static IntPtr RealDescriptor(bool dbl, bool forward, long length, long count, long realDistance, long complexStride, long complexDistance)
    {
        IntPtr h;
        Check(dbl ? s_createDouble(&h, DftiReal, length) : s_createSingle(&h, DftiReal, length), "create");
        long* realStrides = stackalloc long[] { 0, 1 };
        long* complexStrides = stackalloc long[] { 0, complexStride };
        Check(s_setValue(h, DftiPlacement, DftiNotInplace), "placement");
        Check(s_setValue(h, DftiConjugateEvenStorage, DftiComplexComplex), "storage");
        Check(s_setValue(h, DftiNumberOfTransforms, count), "transforms");
        Check(s_setValue(h, DftiInputDistance, forward ? realDistance : complexDistance), "input distance");
        Check(s_setValue(h, DftiOutputDistance, forward ? complexDistance : realDistance), "output distance");
        Check(s_setValue(h, DftiInputStrides, (long)(forward ? realStrides : complexStrides)), "input strides");
        Check(s_setValue(h, DftiOutputStrides, (long)(forward ? complexStrides : realStrides)), "output strides");
        Check(s_setValue(h, DftiThreadLimit, 1), "thread limit");
        Check(s_commit(h), "commit");
        return h;
    }

    /// <summary>Runs a descriptor from <see cref="RealDescriptor"/> (forward: real → complex; backward: complex → real).</summary>
    public static void Compute(IntPtr descriptor, bool forward, void* input, void* output) =>
        Check(forward ? s_forward(descriptor, input, output) : s_backward(descriptor, input, output), forward ? "forward" : "backward");

    static void Check(long status, string step)
    {
        if (status == 0) return;
        string message = Marshal.PtrToStringAnsi((IntPtr)s_errorMessage(status)) ?? $"status {status}";
        throw new InvalidOperationException($"MKL DFTI {step}: {message}");
    }
}
