using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Spherical;

/// <summary>
/// Base of the four SHT modules: owns the single precomputed table, registered as a NON-persistent buffer
/// (absent from <c>state_dict</c>, as in torch-harmonics, so models containing these modules have exactly the
/// Python keys).
/// <para>
/// TorchSharp 0.107 lists only persistent buffers in <c>named_buffers</c>, so its <c>.to(...)</c> would leave a
/// non-persistent buffer behind; this class converts/moves the table itself after the base conversion and
/// disposes it with the module.
/// </para>
/// </summary>
public abstract class SphericalTransformModule : nn.Module<Tensor, Tensor>
{
    readonly string _tableName;

    protected SphericalTransformModule(string name, string tableName) : base(name) => _tableName = tableName;

    /// <summary>The buffer name, as torch-harmonics calls it ("weights", "pct" or "dpct").</summary>
    public string TableName => _tableName;

    /// <summary>The packed Legendre table (working dtype and device of the module).</summary>
    public Tensor Table => get_buffer(_tableName) ?? throw new InvalidOperationException($"{GetName()}: table '{_tableName}' missing");

    protected void RegisterTable(Tensor table) => register_buffer(_tableName, table, persistent: false);

    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        var t = get_buffer(_tableName);
        if (t is null) return;
        var targetType = dtype ?? t.dtype;
        var targetDevice = device ?? t.device;
        if (t.dtype == targetType && t.device_type == targetDevice.type && (targetDevice.type != DeviceType.CUDA || t.device_index == targetDevice.index))
            return;
        var moved = t.to(targetType, targetDevice, non_blocking: non_blocking).DetachFromDisposeScope();
        ConditionallyRegisterBuffer(_tableName, moved, persistent: false);
        t.Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) get_buffer(_tableName)?.Dispose();
        base.Dispose(disposing);
    }
}
