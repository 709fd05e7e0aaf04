using System.Reflection;

namespace ApolloBench.Runtime;

/// <summary>
/// Which source produced the running binary. The .NET SDK stamps the git commit it was built from into the
/// assembly's informational version ("1.0.0+&lt;sha&gt;"); asking git at run time would instead name whatever
/// the working tree has checked out now, which is wrong for a long run or a copied build.
/// </summary>
public static class BuildInfo
{
    public static string Commit { get; } = Read();

    /// <summary>The first 12 hex digits, keeping a "+dirty" mark (a build from a working tree with uncommitted changes).</summary>
    public static string ShortCommit => Short(Commit);

    /// <summary>A commit as reports print it: 12 hex digits of the sha, then whatever mark follows it ("+dirty").</summary>
    public static string Short(string commit)
    {
        int mark = commit.IndexOf('+');
        var sha = mark >= 0 ? commit[..mark] : commit;
        return (sha.Length > 12 ? sha[..12] : sha) + (mark >= 0 ? commit[mark..] : "");
    }

    static string Read()
    {
        var version = typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var plus = version?.IndexOf('+') ?? -1;
        return plus >= 0 && version!.Length > plus + 1 ? version[(plus + 1)..] : "unknown";
    }
}
