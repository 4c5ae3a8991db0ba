namespace Ensemble.Models.Checkpoints.Pickle;

public enum GlobalKind
{
    /// <summary>collections.OrderedDict: rebuilt as a <see cref="PyDict"/>.</summary>
    OrderedDict,
    /// <summary>torch._utils._rebuild_tensor_v2 / _rebuild_parameter: handled by the checkpoint reader.</summary>
    TensorRebuild,
    /// <summary>torch.*Storage / torch.storage.UntypedStorage: only a dtype tag inside a persistent id.</summary>
    StorageType,
    /// <summary>torch.float32 and friends: a dtype value.</summary>
    DType,
    /// <summary>On the short "inert data" list: becomes a <see cref="PickleOpaque"/> placeholder, never instantiated.</summary>
    Inert,
}

/// <summary>
/// The unpickler's allowlist. A pickle may name only these globals; any other (os.system, posix.system,
/// subprocess.*, builtins.*, …) is refused before anything else happens. Nothing named here is ever executed:
/// tensor rebuilds and OrderedDict are implemented in C#, inert data classes become placeholders.
/// </summary>
public static class PickleGlobals
{
    static readonly Dictionary<string, ScalarTypeName> StorageTypes = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = ScalarTypeName.Float32,
        ["DoubleStorage"] = ScalarTypeName.Float64,
        ["HalfStorage"] = ScalarTypeName.Float16,
        ["BFloat16Storage"] = ScalarTypeName.BFloat16,
        ["ComplexFloatStorage"] = ScalarTypeName.Complex64,
        ["ComplexDoubleStorage"] = ScalarTypeName.Complex128,
        ["LongStorage"] = ScalarTypeName.Int64,
        ["IntStorage"] = ScalarTypeName.Int32,
        ["ShortStorage"] = ScalarTypeName.Int16,
        ["CharStorage"] = ScalarTypeName.Int8,
        ["ByteStorage"] = ScalarTypeName.UInt8,
        ["BoolStorage"] = ScalarTypeName.Bool,
    };

    static readonly Dictionary<string, ScalarTypeName> DTypes = new(StringComparer.Ordinal)
    {
        ["float32"] = ScalarTypeName.Float32, ["float"] = ScalarTypeName.Float32,
        ["float64"] = ScalarTypeName.Float64, ["double"] = ScalarTypeName.Float64,
        ["float16"] = ScalarTypeName.Float16, ["half"] = ScalarTypeName.Float16,
        ["bfloat16"] = ScalarTypeName.BFloat16,
        ["complex64"] = ScalarTypeName.Complex64, ["cfloat"] = ScalarTypeName.Complex64,
        ["complex128"] = ScalarTypeName.Complex128, ["cdouble"] = ScalarTypeName.Complex128,
        ["int64"] = ScalarTypeName.Int64, ["long"] = ScalarTypeName.Int64,
        ["int32"] = ScalarTypeName.Int32, ["int"] = ScalarTypeName.Int32,
        ["int16"] = ScalarTypeName.Int16, ["int8"] = ScalarTypeName.Int8,
        ["uint8"] = ScalarTypeName.UInt8, ["bool"] = ScalarTypeName.Bool,
    };

    /// <summary>
    /// Classes that may appear in the <c>params</c> entry of a makani checkpoint (the YParams object, the ruamel.yaml
    /// containers and scalars it holds, numpy arrays/scalars). They are recorded by name only.
    /// </summary>
    public static readonly IReadOnlySet<string> InertData = new HashSet<string>(StringComparer.Ordinal)
    {
        "makani.utils.YParams.YParams", "makani.utils.YParams.ParamsBase",
        "utils.YParams.YParams", "utils.YParams.ParamsBase",
        "modulus.experimental.sfno.utils.YParams.YParams", "modulus.experimental.sfno.utils.YParams.ParamsBase",
        "ruamel.yaml.comments.CommentedMap", "ruamel.yaml.comments.CommentedSeq", "ruamel.yaml.comments.Comment",
        "ruamel.yaml.comments.Format", "ruamel.yaml.comments.LineCol", "ruamel.yaml.comments.Tag",
        "ruamel.yaml.scalarfloat.ScalarFloat", "ruamel.yaml.scalarint.ScalarInt", "ruamel.yaml.scalarbool.ScalarBoolean",
        "ruamel.yaml.scalarstring.DoubleQuotedScalarString", "ruamel.yaml.scalarstring.SingleQuotedScalarString",
        "ruamel.yaml.scalarstring.PlainScalarString", "ruamel.yaml.tokens.CommentToken", "ruamel.yaml.error.CommentMark",
        "ruamel.yaml.anchor.Anchor",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
    };

    /// <summary>Judges a referenced global; throws <see cref="PickleRefusedException"/> for anything not allowed.</summary>
    public static PyGlobal Resolve(string module, string name)
    {
        string full = $"{module}.{name}";
        GlobalKind? kind = full switch
        {
            "collections.OrderedDict" => GlobalKind.OrderedDict,
            "torch._utils._rebuild_tensor_v2" or "torch._utils._rebuild_parameter" => GlobalKind.TensorRebuild,
            "torch.storage.UntypedStorage" or "torch.UntypedStorage" => GlobalKind.StorageType,
            _ when module == "torch" && StorageTypes.ContainsKey(name) => GlobalKind.StorageType,
            _ when module == "torch" && DTypes.ContainsKey(name) => GlobalKind.DType,
            _ when InertData.Contains(full) => GlobalKind.Inert,
            _ => null,
        };
        if (kind is null)
            throw new PickleRefusedException($"refuses global '{full}' (not on the checkpoint allowlist; nothing was executed)");
        return new PyGlobal(module, name, kind.Value);
    }

    /// <summary>The element type a storage class or dtype global stands for (UntypedStorage: bytes).</summary>
    public static ScalarTypeName ElementType(PyGlobal g) => g.Kind switch
    {
        GlobalKind.StorageType when StorageTypes.TryGetValue(g.Name, out var t) => t,
        GlobalKind.StorageType => ScalarTypeName.UInt8,
        GlobalKind.DType => DTypes[g.Name],
        _ => throw new PickleRefusedException($"'{g.FullName}' is not a storage type or dtype"),
    };

    public static string StorageClassName(ScalarTypeName t) => StorageTypes.First(kv => kv.Value == t).Key;
}

/// <summary>Element types a torch checkpoint can hold (kept free of TorchSharp so the unpickler stays pure).</summary>
public enum ScalarTypeName { Float32, Float64, Float16, BFloat16, Complex64, Complex128, Int64, Int32, Int16, Int8, UInt8, Bool }

/// <summary>A pickle that names a forbidden global or uses a forbidden opcode.</summary>
public sealed class PickleRefusedException(string message) : Exception(message);

/// <summary>A pickle stream that is malformed or truncated.</summary>
public sealed class PickleFormatException(string message) : Exception(message);
