using System.Globalization;

namespace Ensemble.Data.NetCdf;

/// <summary>netCDF external types (numbers as in the classic format; String is netCDF-4 only).</summary>
public enum NcType
{
    Byte = 1, Char = 2, Short = 3, Int = 4, Float = 5, Double = 6,
    UByte = 7, UShort = 8, UInt = 9, Int64 = 10, UInt64 = 11, String = 12,
}

public static class NcTypes
{
    public static int Size(NcType t) => t switch
    {
        NcType.Byte or NcType.Char or NcType.UByte => 1,
        NcType.Short or NcType.UShort => 2,
        NcType.Int or NcType.UInt or NcType.Float => 4,
        NcType.Double or NcType.Int64 or NcType.UInt64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "no fixed size"),
    };

    /// <summary>The CDL name used by ncdump.</summary>
    public static string CdlName(NcType t) => t switch
    {
        NcType.Byte => "byte", NcType.Char => "char", NcType.Short => "short", NcType.Int => "int",
        NcType.Float => "float", NcType.Double => "double", NcType.UByte => "ubyte", NcType.UShort => "ushort",
        NcType.UInt => "uint", NcType.Int64 => "int64", NcType.UInt64 => "uint64", _ => "string",
    };

    public static bool IsInteger(NcType t) => t is not (NcType.Float or NcType.Double or NcType.Char or NcType.String);

    /// <summary>netCDF's default fill value of a numeric type (what unwritten data holds).</summary>
    public static double DefaultFill(NcType t) => t switch
    {
        NcType.Byte => -127, NcType.Short => -32767, NcType.Int => -2147483647,
        NcType.Float => 9.9692099683868690e+36f, NcType.Double => 9.9692099683868690e+36,
        NcType.UByte => 255, NcType.UShort => 65535, NcType.UInt => 4294967295,
        NcType.Int64 => -9223372036854775806, NcType.UInt64 => 18446744073709551614,
        _ => double.NaN,
    };
}

/// <summary>A dimension; <see cref="IsUnlimited"/> marks the record dimension.</summary>
public sealed record NcDimension(string Name, long Length, bool IsUnlimited = false);

/// <summary>An attribute: text (<see cref="Text"/>) or numbers (<see cref="Numbers"/>, as float64).</summary>
public sealed class NcAttribute
{
    public NcAttribute(string name, NcType type, string text)
    {
        Name = name; Type = type; Text = text; Numbers = [];
    }

    public NcAttribute(string name, NcType type, double[] numbers)
    {
        Name = name; Type = type; Numbers = numbers;
    }

    public string Name { get; }
    public NcType Type { get; }
    /// <summary>The value of a char/string attribute (trailing NULs stripped), else null.</summary>
    public string? Text { get; }
    /// <summary>The values of a numeric attribute, converted to float64.</summary>
    public double[] Numbers { get; }
    public bool IsText => Text is not null;

    /// <summary>The single number of a numeric attribute, or null.</summary>
    public double? Number => Text is null && Numbers.Length > 0 ? Numbers[0] : null;

    /// <summary>Value as CDL text: "..." for text, comma-separated numbers otherwise.</summary>
    public string ValueText()
    {
        if (Text is not null)
            return "\"" + Text.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";
        string suffix = Type switch { NcType.Float => "f", NcType.Short => "s", NcType.Byte => "b", NcType.Int64 => "LL", _ => "" };
        return string.Join(", ", Numbers.Select(v => FormatNumber(v, Type) + suffix));
    }

    static string FormatNumber(double v, NcType t)
    {
        if (double.IsNaN(v)) return "NaN";
        if (t == NcType.Float) return ((float)v).ToString("R", CultureInfo.InvariantCulture);
        return v.ToString("R", CultureInfo.InvariantCulture);
    }

    public override string ToString() => $"{Name} = {ValueText()}";
}

/// <summary>A variable: name, dimension names, shape, external type and attributes.</summary>
public sealed class NcVariable
{
    public NcVariable(string name, string[] dimensions, long[] shape, NcType type, IReadOnlyList<NcAttribute> attributes)
    {
        if (dimensions.Length != shape.Length) throw new ArgumentException("dimensions and shape differ in rank");
        Name = name; Dimensions = dimensions; Shape = shape; Type = type; Attributes = attributes;
    }

    public string Name { get; }
    public string[] Dimensions { get; }
    public long[] Shape { get; }
    public NcType Type { get; }
    public IReadOnlyList<NcAttribute> Attributes { get; }
    public int Rank => Shape.Length;
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public NcAttribute? Attribute(string name) => Attributes.FirstOrDefault(a => a.Name == name);
    public string? TextAttribute(string name) => Attribute(name)?.Text;
    public double? NumberAttribute(string name) => Attribute(name)?.Number;

    public override string ToString() => $"{NcTypes.CdlName(Type)} {Name}({string.Join(", ", Dimensions)})";
}
