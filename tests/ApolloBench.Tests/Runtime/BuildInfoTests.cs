namespace ApolloBench.Tests.Runtime;

public class BuildInfoTests
{
    [Fact]
    public void The_build_names_the_commit_it_was_built_from()
    {
        // A clone of the repository is what CI and users build: the SDK stamps HEAD's sha into the assembly.
        Assert.Matches("^[0-9a-f]{40}$", ApolloBench.Runtime.BuildInfo.Commit);
    }
}
