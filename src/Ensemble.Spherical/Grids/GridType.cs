using Ensemble.Core;

namespace Ensemble.Spherical;

/// <summary>Latitude quadrature of a spherical grid (torch-harmonics `grid=` names).</summary>
public enum GridType
{
    /// <summary>Clenshaw–Curtis nodes θ_k = kπ/(nlat−1), both poles included ("equiangular"; ERA5 721×1440).</summary>
    Equiangular,
    /// <summary>Gauss–Legendre roots, no poles ("legendre-gauss"; the SFNO internal grid).</summary>
    LegendreGauss,
    /// <summary>Gauss–Lobatto nodes including both poles ("lobatto").</summary>
    Lobatto,
}

/// <summary>Normalisation of the associated Legendre functions (torch-harmonics `norm=`).</summary>
public enum SphericalNorm
{
    /// <summary>Orthonormal: ∫|Y_l^m|² dΩ = 1 ("ortho").</summary>
    Ortho,
    /// <summary>"four-pi" (and any other string in torch-harmonics, e.g. "backward"): forward table √(4π)P̄, inverse P̄/√(4π).</summary>
    FourPi,
    /// <summary>Schmidt semi-normalised: forward √(4π/(2l+1))P̄, inverse √((2l+1)/(4π))P̄.</summary>
    Schmidt,
}

/// <summary>Parsing and naming of <see cref="GridType"/> and <see cref="SphericalNorm"/> in torch-harmonics spelling.</summary>
public static class GridTypes
{
    /// <summary>Parses "equiangular", "legendre-gauss" or "lobatto" (case-insensitive); anything else is an <see cref="EnsembleException"/>.</summary>
    public static GridType Parse(string name) => (name ?? "").Trim().ToLowerInvariant() switch
    {
        "equiangular" => GridType.Equiangular,
        "legendre-gauss" => GridType.LegendreGauss,
        "lobatto" => GridType.Lobatto,
        _ => throw new EnsembleException($"grid type '{name}': expected equiangular, legendre-gauss or lobatto"),
    };

    /// <summary>The torch-harmonics name of a grid type.</summary>
    public static string Name(GridType grid) => grid switch
    {
        GridType.Equiangular => "equiangular",
        GridType.LegendreGauss => "legendre-gauss",
        GridType.Lobatto => "lobatto",
        _ => throw new ArgumentOutOfRangeException(nameof(grid)),
    };

    /// <summary>
    /// Parses a torch-harmonics norm string: "ortho", "schmidt", and — as torch-harmonics does — every other
    /// non-empty string ("four-pi", "backward", ...) as <see cref="SphericalNorm.FourPi"/>.
    /// </summary>
    public static SphericalNorm ParseNorm(string name)
    {
        string n = (name ?? "").Trim().ToLowerInvariant();
        if (n.Length == 0) throw new EnsembleException("spherical norm: empty name (expected ortho, four-pi or schmidt)");
        return n switch { "ortho" => SphericalNorm.Ortho, "schmidt" => SphericalNorm.Schmidt, _ => SphericalNorm.FourPi };
    }
}
