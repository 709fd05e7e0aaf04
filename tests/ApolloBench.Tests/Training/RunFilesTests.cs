using System.Text.Json.Nodes;
using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Tests.Training;

public class RunFilesTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ab-runfiles-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    string Finished()
    {
        var trainer = TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(10));
        var result = trainer.Run();
        RunFiles.SaveModel(dir, trainer.Session.Model);
        Directory.CreateDirectory(Path.Combine(dir, "stages"));
        File.WriteAllText(Path.Combine(dir, "stages", "end-3-weights.bin"), "snapshot");
        RunFiles.Write(dir, result, new JsonObject { ["method"] = "scratch" });
        return dir;
    }

    [Fact]
    public void The_manifest_seals_every_file_of_a_finished_run_and_a_whole_run_verifies()
    {
        Finished();
        var files = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, RunFiles.Manifest)))!["files"]!.AsObject();
        Assert.Equal(["curve.csv", "growth.csv", "ledger.csv", "model.bin", "stages/end-3-weights.bin"], files.Select(f => f.Key));
        Assert.Null(RunFiles.Verify(dir));
        Assert.True(RunFiles.IsFinished(dir));
    }

    [Fact]
    public void The_manifest_seals_itself_so_a_changed_value_in_it_is_caught_and_an_older_manifest_without_its_own_seal_still_verifies()
    {
        Finished();
        var path = Path.Combine(dir, RunFiles.Manifest);
        var whole = File.ReadAllText(path);
        // a bit flipped in a value no file seal covers: "scratch" -> "scratcx"... as a disk would, one byte
        File.WriteAllText(path, whole.Replace("\"scratch\"", "\"scratcX\""));
        Assert.Equal("manifest.json: SHA-256 does not match its own seal (manifestSha256)", RunFiles.Verify(dir));

        var older = JsonNode.Parse(whole)!.AsObject();
        older.Remove(RunFiles.SelfSeal);
        File.WriteAllText(path, older.ToJsonString());
        Assert.Null(RunFiles.Verify(dir));   // runs finished before the self-seal are not taken for damaged
    }

    [Theory]
    [InlineData("curve.csv", "flip", "curve.csv: SHA-256 does not match the manifest")]
    [InlineData("model.bin", "truncate", "model.bin: ")]
    [InlineData("stages/end-3-weights.bin", "delete", "stages/end-3-weights.bin: missing")]
    [InlineData("manifest.json", "truncate", "manifest.json: unreadable")]
    public void A_damaged_file_of_a_finished_run_is_named(string file, string how, string expected)
    {
        Finished();
        ResumeTests.Damage(Path.Combine(dir, file), how);
        Assert.StartsWith(expected, RunFiles.Verify(dir));
    }
}
