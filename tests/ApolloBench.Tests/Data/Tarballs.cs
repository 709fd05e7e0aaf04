using ApolloBench.Data;

namespace ApolloBench.Tests.Data;

/// <summary>Package tarballs made by tests, standing in for what <c>npm pack</c> fetches.</summary>
static class Tarballs
{
    /// <summary>A tarball made once by <paramref name="make"/> (given an empty folder, returning the file) and pinned to its own SHA-512; every fetch gets a copy.</summary>
    public static TarballSource Pinned(Func<string, string> make)
    {
        var dir = Directory.CreateTempSubdirectory("ab-tarball-").FullName;
        try
        {
            var path = make(dir);
            var name = Path.GetFileName(path);
            var bytes = File.ReadAllBytes(path);
            return new TarballSource(dest =>
            {
                var copy = Path.Combine(dest, name);
                File.WriteAllBytes(copy, bytes);
                return copy;
            }, NpmPackage.IntegrityOf(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A fetch that fails before there is a tarball to check (its pin is never compared).</summary>
    public static TarballSource Failing(Func<string, string> fetch) => new(fetch, "sha512-never-compared");
}
