using Ensemble.Data.NetCdf;

namespace Ensemble.Data.Cf;

/// <summary>
/// CF decoding of stored values with netCDF4-python's semantics: values equal to <c>_FillValue</c> or
/// <c>missing_value</c> (or, without <c>_FillValue</c>, the type's default fill; bytes excepted) and values
/// outside <c>valid_min</c>/<c>valid_max</c>/<c>valid_range</c> become NaN, compared in the stored
/// (packed) units; the rest are unpacked as value·scale_factor + add_offset in float64.
/// A float fill value on an integer variable (e.g. NaN on int16) is ignored.
/// </summary>
public sealed class CfDecoding
{
    readonly NcType _type;
    readonly double[] _missing;
    readonly double _validMin = double.NegativeInfinity, _validMax = double.PositiveInfinity;
    readonly double _scale = 1, _offset;
    readonly bool _unsigned;

    public CfDecoding(NcVariable v)
    {
        _type = v.Type;
        bool isInt = NcTypes.IsInteger(v.Type);
        _unsigned = isInt && string.Equals(v.TextAttribute("_Unsigned"), "true", StringComparison.OrdinalIgnoreCase);
        var missing = new List<double>();
        var fill = v.Attribute("_FillValue");
        if (fill is { IsText: false } && fill.Numbers.Length > 0)
            missing.Add(fill.Numbers[0]);
        else if (fill is null && v.Type is not (NcType.Byte or NcType.UByte or NcType.Char or NcType.String))
            missing.Add(NcTypes.DefaultFill(v.Type));
        if (v.Attribute("missing_value") is { IsText: false } mv)
            missing.AddRange(mv.Numbers);
        // Integer data cannot equal a NaN or fractional fill value: such attributes are ignored.
        _missing = missing.Where(m => !isInt || (!double.IsNaN(m) && m == Math.Floor(m))).Select(Narrow).Distinct().ToArray();

        if (v.Attribute("valid_range") is { IsText: false, Numbers.Length: >= 2 } vr)
        {
            _validMin = Narrow(vr.Numbers[0]);
            _validMax = Narrow(vr.Numbers[1]);
        }
        else
        {
            if (v.NumberAttribute("valid_min") is double lo) _validMin = Narrow(lo);
            if (v.NumberAttribute("valid_max") is double hi) _validMax = Narrow(hi);
        }
        if (v.NumberAttribute("scale_factor") is double s) _scale = s;
        if (v.NumberAttribute("add_offset") is double o) _offset = o;
    }

    /// <summary>True when the variable is packed (scale_factor or add_offset present).</summary>
    public bool IsPacked => _scale != 1 || _offset != 0;

    /// <summary>Masks and unpacks in place.</summary>
    public void Apply(Span<double> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            double raw = values[i];
            if (_unsigned && raw < 0)
                raw += _type switch { NcType.Byte => 256.0, NcType.Short => 65536.0, NcType.Int => 4294967296.0, _ => 18446744073709551616.0 };
            if (double.IsNaN(raw) || IsMissing(raw) || raw < _validMin || raw > _validMax)
            {
                values[i] = double.NaN;
                continue;
            }
            values[i] = raw * _scale + _offset;
        }
    }

    bool IsMissing(double raw)
    {
        foreach (double m in _missing)
            if (raw == m)
                return true;
        return false;
    }

    // Attributes may be stored in a wider type than the data: compare at the data's precision.
    double Narrow(double v) => _type == NcType.Float ? (float)v : v;
}
