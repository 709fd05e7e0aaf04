using ApolloBench.Core;
using ApolloBench.Data;
using Parquet;
using Parquet.Schema;

namespace ApolloBench.Tests.Data;

public class CorpusTests
{
    [Fact]
    public void Folder_gives_one_document_per_txt_file_sorted_by_relative_path()
    {
        using var dir = new TempDir();
        dir.File("b.txt", "second");
        dir.File("a/z.txt", "first");
        dir.File("c/d/e.txt", "third\n\n\nstill third");
        dir.File("ignored.md", "not a txt");
        dir.File("blank.txt", "  \n\t ");

        var docs = Corpus.FromPath(dir.Path);

        Assert.Equal(["a/z.txt", "b.txt", "c/d/e.txt"], docs.Select(d => d.Id));
        Assert.Equal("first", docs[0].Text);
        Assert.Equal("third\n\n\nstill third", docs[2].Text); // a folder file is one document, whatever its blank lines
    }

    [Fact]
    public void Text_file_splits_on_two_empty_lines_and_keeps_paragraphs()
    {
        using var dir = new TempDir();
        var path = dir.File("corpus.txt", "Doc one para one.\n\nDoc one para two.\n\n\nDoc two.\r\n  \r\n\r\nDoc three.\n\n\n\n\n");

        var docs = Corpus.FromPath(path);

        Assert.Equal(["Doc one para one.\n\nDoc one para two.", "Doc two.", "Doc three."], docs.Select(d => d.Text));
        Assert.Equal(["corpus.txt#0", "corpus.txt#1", "corpus.txt#2"], docs.Select(d => d.Id));
    }

    [Fact]
    public void Long_text_blocks_are_cut_at_line_breaks()
    {
        var text = string.Join("\n", Enumerable.Range(0, 100).Select(i => $"line {i:D3} xxxxxxxxxxxx")); // 21 chars + \n per line
        var pieces = Corpus.SplitText(text, maxChars: 100).ToList();

        Assert.All(pieces, p => Assert.True(p.Length <= 100));
        Assert.All(pieces, p => Assert.StartsWith("line ", p));
        Assert.Equal(text.Replace("\n", ""), string.Concat(pieces).Replace("\n", ""));
    }

    [Fact]
    public void Jsonl_reads_the_text_field_and_skips_blank_lines()
    {
        using var dir = new TempDir();
        var path = dir.File("c.jsonl", "{\"text\": \"hello\", \"id\": 7}\n\n{\"text\": \"world\\nagain\"}\n");

        var docs = Corpus.FromPath(path);

        Assert.Equal([new Document("c.jsonl:1", "hello"), new Document("c.jsonl:3", "world\nagain")], docs);
    }

    [Fact]
    public void Json_array_is_accepted_too()
    {
        using var dir = new TempDir();
        var path = dir.File("c.json", "[{\"text\": \"a\"}, {\"text\": \"b\"}]");
        Assert.Equal(["a", "b"], Corpus.FromPath(path).Select(d => d.Text));
    }

    [Theory]
    [InlineData("{\"text\": \"ok\"}\n{\"text\": \"broken\n", "line 2", "not valid JSON")]
    [InlineData("{\"text\": \"ok\"}\n\n{\"body\": \"x\"}\n", "line 3", "no field \"text\"")]
    [InlineData("{\"text\": 5}\n", "line 1", "not a string")]
    [InlineData("[1, 2]\n", "line 1", "expected a JSON object")]
    public void Jsonl_errors_name_the_option_the_file_and_the_line(string content, string line, string reason)
    {
        using var dir = new TempDir();
        var path = dir.File("bad.jsonl", content);

        var e = Assert.Throws<UsageException>(() => Corpus.FromPath(path));

        Assert.StartsWith("--corpus:", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Contains(line, e.Message);
        Assert.Contains(reason, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public async Task Parquet_reads_the_text_column()
    {
        using var dir = new TempDir();
        var path = dir.Sub("train-00000-of-00001.parquet");
        var id = new DataField<int>("id");
        var text = new DataField<string>("text");
        await WriteParquet(path, new ParquetSchema(id, text), async rg =>
        {
            await rg.WriteAsync(id, new ReadOnlyMemory<int>([1, 2, 3]));
            await rg.WriteAsync(text, new[] { "alpha beta", " ", "gamma" });
        });

        var docs = Corpus.FromPath(path);

        Assert.Equal([new Document("train-00000-of-00001.parquet:0", "alpha beta"), new Document("train-00000-of-00001.parquet:2", "gamma")], docs);
    }

    [Fact]
    public async Task Parquet_without_a_text_column_is_a_usage_error_naming_the_file()
    {
        using var dir = new TempDir();
        var path = dir.Sub("data.parquet");
        var content = new DataField<string>("content");
        await WriteParquet(path, new ParquetSchema(content), rg => rg.WriteAsync(content, new[] { "x" }));

        var e = Assert.Throws<UsageException>(() => Corpus.FromPath(path));

        Assert.StartsWith("--corpus:", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Contains("\"text\"", e.Message);
        Assert.Contains("content", e.Message);
    }

    [Fact]
    public void Garbage_parquet_is_a_usage_error()
    {
        using var dir = new TempDir();
        var path = dir.File("bad.parquet", "this is not parquet");
        var e = Assert.Throws<UsageException>(() => Corpus.FromPath(path));
        Assert.Contains(path, e.Message);
    }

    static async Task WriteParquet(string path, ParquetSchema schema, Func<ParquetRowGroupWriter, Task> write)
    {
        using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(schema, stream);
        using var rg = writer.CreateRowGroup();
        await write(rg);
    }

    [Fact]
    public void Missing_path_names_the_option_and_the_path()
    {
        var path = Path.Combine(Path.GetTempPath(), "ab-no-such-" + Guid.NewGuid().ToString("N") + ".txt");
        var e = Assert.Throws<UsageException>(() => Corpus.FromPath(path));
        Assert.Equal($"--corpus: {path} does not exist", e.Message);
    }

    [Fact]
    public void Empty_corpora_are_usage_errors()
    {
        using var dir = new TempDir();
        var blankFile = dir.File("blank.txt", "\n \n\t\n");
        var blankJsonl = dir.File("blank.jsonl", "{\"text\": \"   \"}\n");
        var emptyFolder = dir.Sub("empty");
        Directory.CreateDirectory(emptyFolder);
        var blankFolder = dir.Sub("blankfolder");
        Directory.CreateDirectory(blankFolder);
        File.WriteAllText(Path.Combine(blankFolder, "x.txt"), "   ");

        foreach (var p in new[] { blankFile, blankJsonl, blankFolder })
        {
            var e = Assert.Throws<UsageException>(() => Corpus.FromPath(p));
            Assert.StartsWith("--corpus:", e.Message);
            Assert.Contains("empty", e.Message);
            Assert.Contains(p, e.Message);
        }
        var f = Assert.Throws<UsageException>(() => Corpus.FromPath(emptyFolder));
        Assert.Contains("no .txt files", f.Message);
    }
}
