using System.Text.Json.Nodes;
using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Reports;

public class ReportIndexLinksTests() : InTempFolder("ab-index-")
{

    [Fact]
    public void The_index_links_each_report_about_the_suite_by_its_title()
    {
        File.WriteAllText(Path.Combine(root, "reliability.md"), "# Reliability: what survives what\n\n| fault | trials |\n");
        File.WriteAllText(Path.Combine(root, "performance.md"), "# Performance\n");
        ReportIndex.Write(root, Repo.Experiments);
        var index = File.ReadAllText(Path.Combine(root, ReportIndex.FileName));
        Assert.Contains("Reports about the suite itself:\n\n- [performance.md](performance.md): Performance\n- [reliability.md](reliability.md): Reliability: what survives what\n", index);
        Assert.DoesNotContain("[README.md]", index);
    }

    /// <summary>
    /// The README's headline table is generated: when the index is written into a repository's own reports/ folder, the
    /// rows of the reports planned now replace what stands between the README's markers; an earlier scale's report, or an
    /// index written anywhere else, leaves them alone.
    /// </summary>
    [Fact]
    public void The_readme_headline_table_is_the_committed_reports_planned_now_and_nothing_else()
    {
        var repository = Directory.CreateDirectory(Path.Combine(root, "repo")).FullName;
        var experiments = Directory.CreateDirectory(Path.Combine(repository, "experiments")).FullName;
        foreach (var file in Directory.GetFiles(Repo.Experiments, "*.json")) File.Copy(file, Path.Combine(experiments, Path.GetFileName(file)));
        CopyFolder(Path.Combine(Repo.Experiments, "shared"), Path.Combine(experiments, "shared"));
        var readme = Path.Combine(repository, "README.md");
        string Readme(string table) => $"# R\n\nintro\n\n{ReportIndex.ReadmeBegin}\n{table}{ReportIndex.ReadmeEnd}\n\nafter\n";
        File.WriteAllText(readme, Readme("stale\n"));
        var reports = Path.Combine(repository, "reports");
        CopyFolder(Path.Combine(Repo.Root, "reports", "gpt-lr"), Path.Combine(reports, "gpt-lr"));

        ReportIndex.Write(Path.Combine(root, "elsewhere"), experiments, _ => true);
        Assert.Equal(Readme("stale\n"), File.ReadAllText(readme));   // not the repository's reports/: untouched

        ReportIndex.Write(reports, experiments, _ => true);
        var text = File.ReadAllText(readme);
        Assert.StartsWith("# R\n\nintro\n\n" + ReportIndex.ReadmeBegin + "\n| artifact | scale | seeds | run | FLOPs saving (held-out) | final held-out minus Scratch's | paper (training loss) |\n", text);
        Assert.Contains("| [gpt-lr](reports/gpt-lr/cpu/report.md) | cpu | 1 | StackBERT | 40.2% | -0.030 | 36.0% |\n", text);
        Assert.EndsWith(ReportIndex.ReadmeEnd + "\n\nafter\n", text);
        Assert.DoesNotContain("stale", text);

        ReportIndex.Write(reports, experiments, _ => false);   // an earlier scale's report: not in the README
        Assert.Equal(Readme("No committed report has a headline number yet.\n"), File.ReadAllText(readme));
    }

    static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>The committed fig6a results.json, to change by hand.</summary>
    static JsonObject CommittedFig6a() => JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "reports", "fig6a", "cpu", "results.json")))!.AsObject();

    /// <summary>A run's held-out savings at Scratch's final loss (its last budget target) in results JSON.</summary>
    static JsonObject FinalTarget(JsonObject json, string label) => json["heldOutSavings"]!.AsArray().OfType<JsonObject>().Single(r => (string?)r["label"] == label)["targets"]!.AsArray()
        .OfType<JsonObject>().MaxBy(t => (double?)t["fraction"] ?? -1)!;

    /// <summary>Writes <paramref name="json"/> as fig6a's results under the temp root and returns the index written over it.</summary>
    string IndexOver(JsonObject json)
    {
        var dir = Directory.CreateDirectory(Path.Combine(root, "fig6a", "cpu")).FullName;
        File.WriteAllText(Path.Combine(dir, "results.json"), json.ToJsonString());
        ReportIndex.Write(root, Repo.Experiments);
        return File.ReadAllText(Path.Combine(root, ReportIndex.FileName));
    }

    /// <summary>
    /// The headline table reads each report's held-out savings at Scratch's final loss, with the interval or the median and
    /// reach count, and the paper's number from the training-loss list of the same run. Built on the committed fig6a
    /// results with two summaries replaced by hand-made ones.
    /// </summary>
    [Fact]
    public void The_index_lists_each_runs_held_out_flops_saving_with_its_interval_beside_the_papers_number()
    {
        var json = CommittedFig6a();
        json["context"]!["seeds"] = "42, 43, 44";
        var runs = json["runs"]!.AsArray();
        foreach (var other in runs.Where(x => (int)x!["seed"]! != 42).ToList()) runs.Remove(other);   // seed 42's runs, copied to 43 and 44 below
        foreach (var run in runs.ToList())
            foreach (var seed in new[] { 43, 44 })
            {
                var copy = run!.DeepClone().AsObject();
                copy["seed"] = seed;
                runs.Add(copy);
            }
        // Final held-out losses: Scratch 5.0 in every seed, bert2BERT 4.90 / 4.91 / 4.92 (differences -0.10, -0.09, -0.08:
        // mean -0.09, sd 0.01, 95% half-width t(0.975, 2) x 0.01 / sqrt(3) = 0.0248).
        foreach (var run in runs.OfType<JsonObject>())
            if ((string?)run["run"] is "scratch" or "bert2bert")
                run["finalValidLoss"] = (string?)run["run"] == "scratch" ? 5.0 : 4.9 + 0.01 * ((int)run["seed"]! - 42);
        FinalTarget(json, "bert2BERT")["flops"] = JsonNode.Parse("""{"seeds": 3, "reached": 3, "value": 0.25, "low": 0.2, "high": 0.3, "statistic": "mean", "interval": "t"}""");
        FinalTarget(json, "StackBERT")["flops"] = JsonNode.Parse("""{"seeds": 3, "reached": 2, "value": 0.1, "low": null, "high": null, "statistic": "median", "interval": null}""");
        var index = IndexOver(json);
        Assert.Contains("| [fig6a](fig6a/cpu/report.md) | cpu | 3 | bert2BERT | 25.0% [20.0%, 30.0%] (t interval) | -0.090 [-0.115, -0.065] | 35.6% |", index);
        Assert.Contains("| [fig6a](fig6a/cpu/report.md) | cpu | 3 | bert2BERT + small model's cost |", index);
        Assert.Contains("| [fig6a](fig6a/cpu/report.md) | cpu | 3 | StackBERT | 10.0% (median; 2 of 3 seeds) |", index);

        // Told that the report's runs are not the ones planned now (an earlier scale), the index says so in both tables.
        ReportIndex.Write(root, Repo.Experiments, _ => false);
        index = File.ReadAllText(Path.Combine(root, ReportIndex.FileName));
        Assert.Contains("| fig6a | Figure 6(a) (BERT-Base, FLOPs) | cpu | **no**: an earlier scale or other options |", index);
        Assert.Contains("| [fig6a](fig6a/cpu/report.md) | cpu (**earlier**) | 3 | bert2BERT |", index);
        ReportIndex.Write(root, Repo.Experiments, _ => true);
        Assert.Contains("| fig6a | Figure 6(a) (BERT-Base, FLOPs) | cpu | yes |", File.ReadAllText(Path.Combine(root, ReportIndex.FileName)));
    }

    /// <summary>
    /// A wall-time artifact (the paper gives wall-time savings and no FLOPs ones, as Figure 6b) heads the index with its
    /// wall-time saving beside the paper's, both named as wall time; built on the committed fig6a results with the
    /// paper's FLOPs numbers moved to wall time.
    /// </summary>
    [Fact]
    public void A_wall_time_artifact_heads_the_index_with_its_wall_time_saving_beside_the_papers()
    {
        var json = CommittedFig6a();
        foreach (var row in json["savings"]!.AsArray().OfType<JsonObject>())
            if (row["paperFlops"] is JsonValue flops)
            {
                row["paperWall"] = flops.GetValue<double>() - 1;
                row["paperFlops"] = null;
            }
        FinalTarget(json, "bert2BERT")["wall"] = JsonNode.Parse("""{"seeds": 3, "reached": 3, "value": 0.5, "low": 0.4, "high": 0.6, "statistic": "mean", "interval": "t"}""");
        var index = IndexOver(json);
        Assert.Contains("| bert2BERT | wall time: 50.0% [40.0%, 60.0%] (t interval) | ", index);
        Assert.Contains(" | wall time: 34.6% |", index);
        Assert.Contains("| bert2BERT + small model's cost | wall time: ", index);
        Assert.Contains(" | the paper does not charge the small model |", index);
    }

    /// <summary>A scale's profile never mixes its definitions: over the reports planned now when there are any, else over all (all earlier).</summary>
    [Fact]
    public void The_profile_is_drawn_over_the_reports_planned_now_when_there_are_any()
    {
        ApolloBench.Experiments.ArtifactResults Read(string id) => ApolloBench.Experiments.ArtifactResults.FromJson(File.ReadAllText(Path.Combine(Repo.Root, "reports", id, "cpu", "results.json")));
        var reports = new[] { Read("fig6a"), Read("fig6c"), Read("table1") };
        var (over, leftOut) = ApolloBench.Cli.Harness.ProfileReports(reports, r => r.Id == "fig6c");
        Assert.Equal(["fig6c"], over.Select(r => r.Id));
        Assert.Equal(["fig6a"], leftOut.Select(r => r.Id));   // table1 is pure math: in no profile
        (over, leftOut) = ApolloBench.Cli.Harness.ProfileReports(reports, _ => false);
        Assert.Equal(["fig6a", "fig6c"], over.Select(r => r.Id));
        Assert.Empty(leftOut);
    }
}
