using ApolloBench.Experiments;

namespace ApolloBench.Tests.Reports;

/// <summary>Two report folders compared as a re-render must match: every file byte for byte, results.json by
/// what it holds but for its render time.</summary>
static class ReportFolders
{
    /// <summary>Every file under <paramref name="dir"/>, relative, in order.</summary>
    public static string[] Files(string dir) => Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// results.json without its render time, written as this build writes it: a file written before a field was added to
    /// the results (an empty list, a null) compares by what it holds, not by how an older build spelled it.
    /// </summary>
    static string WithoutCreated(string file)
    {
        var results = ArtifactResults.FromJson(File.ReadAllText(file));
        return (results with { Context = results.Context with { Created = "" } }).ToJson();
    }

    public static void AssertSame(string expected, string actual)
    {
        Assert.Equal(Files(expected), Files(actual));
        foreach (var file in Files(expected))
        {
            if (file == ArtifactResults.FileName)
                Assert.Equal(WithoutCreated(Path.Combine(expected, file)), WithoutCreated(Path.Combine(actual, file)));
            else
                Assert.True(File.ReadAllBytes(Path.Combine(expected, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(actual, file))), $"{actual}: {file} differs from {expected}");
        }
    }
}
