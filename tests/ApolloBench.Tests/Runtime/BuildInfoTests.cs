using ApolloBench.Runtime;

namespace ApolloBench.Tests.Runtime;

public class BuildInfoTests
{
    [Fact]
    public void The_build_names_the_commit_it_was_built_from()
    {
        // A clone of the repository is what CI and users build: the SDK stamps HEAD's sha into the assembly, and
        // Directory.Build.targets adds "+dirty" when tracked files outside reports/ had uncommitted changes.
        Assert.Matches("^[0-9a-f]{40}(\\+dirty)?$", BuildInfo.Commit);
    }

    [Theory]
    [InlineData("813624642232c9c5ea40c9445c4979860506a1fb", "813624642232")]
    [InlineData("813624642232c9c5ea40c9445c4979860506a1fb+dirty", "813624642232+dirty")]
    [InlineData("unknown", "unknown")]
    public void A_short_commit_keeps_the_dirty_mark(string commit, string shown) => Assert.Equal(shown, BuildInfo.Short(commit));
}
