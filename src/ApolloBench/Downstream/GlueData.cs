using System.Globalization;
using System.Text;
using ApolloBench.Core;

namespace ApolloBench.Downstream;

/// <summary>
/// GLUE's task folders as distributed (Wang et al. 2019): <c>&lt;data-dir&gt;/&lt;Folder&gt;/train.tsv</c> and the dev
/// set(s), which serve as evaluation sets because GLUE's test labels are hidden. Fields are split on tabs
/// only; quotes are ordinary characters (the files are not CSV-quoted). Columns are found by header name
/// where a file has a header; CoLA's files have none (source, label, original label, sentence).
/// A UTF-8 byte-order mark (MRPC has one) is ignored; empty lines are skipped.
/// </summary>
public static class GlueData
{
    public const string Option = "--data-dir";

    /// <summary>How one task's files are read. Column references are header names, or 0-based indices for a file without a header.</summary>
    sealed record Layout(string Folder, string[] EvalFiles, string[] EvalNames, bool Header, string A, string? B, string Label,
        string[]? Classes, int NoHeaderColumns = 0);

    static readonly Dictionary<string, Layout> Layouts = new()
    {
        ["sst2"] = new("SST-2", ["dev.tsv"], ["dev"], true, "sentence", null, "label", ["0", "1"]),
        ["cola"] = new("CoLA", ["dev.tsv"], ["dev"], false, "3", null, "1", ["0", "1"], NoHeaderColumns: 4),
        ["mrpc"] = new("MRPC", ["dev.tsv"], ["dev"], true, "#1 String", "#2 String", "Quality", ["0", "1"]),
        ["qqp"] = new("QQP", ["dev.tsv"], ["dev"], true, "question1", "question2", "is_duplicate", ["0", "1"]),
        ["qnli"] = new("QNLI", ["dev.tsv"], ["dev"], true, "question", "sentence", "label", ["entailment", "not_entailment"]),
        ["mnli"] = new("MNLI", ["dev_matched.tsv", "dev_mismatched.tsv"], ["matched", "mismatched"], true, "sentence1", "sentence2", "gold_label",
            ["contradiction", "entailment", "neutral"]),
        ["stsb"] = new("STS-B", ["dev.tsv"], ["dev"], true, "sentence1", "sentence2", "score", null),
    };

    /// <summary>The folder name a GLUE task has in the distribution (e.g. "SST-2").</summary>
    public static string FolderOf(string task) => Layouts[task].Folder;

    public static TaskData<TextExample> Load(string task, string dataDir)
    {
        if (!Layouts.TryGetValue(task, out var layout)) throw new ArgumentException($"not a GLUE task: {task}", nameof(task));
        if (!Directory.Exists(dataDir)) throw new UsageException($"{Option}: {dataDir} does not exist");
        var folder = Path.Combine(dataDir, layout.Folder);
        if (!Directory.Exists(folder))
            throw new UsageException($"{Option}: no GLUE task folder {folder} (task {task} reads {layout.Folder}/train.tsv and " +
                                     $"{string.Join(", ", layout.EvalFiles.Select(f => layout.Folder + "/" + f))})");
        var train = ReadFile(Path.Combine(folder, "train.tsv"), layout);
        var eval = layout.EvalFiles.Select((f, i) => new EvalSet<TextExample>(layout.EvalNames[i], ReadFile(Path.Combine(folder, f), layout))).ToList();
        return new TaskData<TextExample>(train, eval, Path.GetFullPath(folder));
    }

    static List<TextExample> ReadFile(string file, Layout layout)
    {
        if (!File.Exists(file)) throw new UsageException($"{Option}: {file} is missing");
        var name = Path.GetFileName(file);
        var examples = new List<TextExample>();
        int lineNo = 0;
        int a = -1, b = -1, label = -1, needed = 0;
        bool labelIsLast = false;
        if (!layout.Header)
        {
            a = int.Parse(layout.A, CultureInfo.InvariantCulture);
            label = int.Parse(layout.Label, CultureInfo.InvariantCulture);
            needed = layout.NoHeaderColumns;
        }
        using var reader = new StreamReader(file, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
        for (var line = reader.ReadLine(); line != null; line = reader.ReadLine())
        {
            lineNo++;
            if (line.Length == 0 || line.All(char.IsWhiteSpace)) continue;
            var cols = line.Split('\t');
            if (layout.Header && a < 0)
            {
                int Column(string header) => Array.IndexOf(cols, header) is var i and >= 0 ? i
                    : throw new UsageException($"{Option}: {file} line {lineNo}: header has no column \"{header}\" (columns: {string.Join(", ", cols)})");
                a = Column(layout.A);
                b = layout.B is null ? -1 : Column(layout.B);
                label = Column(layout.Label);
                labelIsLast = label == cols.Length - 1;
                needed = Math.Max(a, Math.Max(b, label)) + 1;
                continue;
            }
            if (cols.Length < needed)
                throw new UsageException($"{Option}: {file} line {lineNo}: expected at least {needed} tab-separated columns, found {cols.Length}");
            // A few STS-B rows carry more fields than the header; where the label is the header's last column
            // (STS-B's score, MNLI's gold_label) it is read from the row's last field, as GLUE's reference readers do.
            var raw = (labelIsLast ? cols[^1] : cols[label]).Trim();
            int cls = 0;
            double target = 0;
            if (layout.Classes is null)
            {
                if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out target) || !(target >= 0 && target <= 5))
                    throw new UsageException($"{Option}: {file} line {lineNo}: score '{raw}' is not a number in [0, 5]");
            }
            else
            {
                cls = Array.IndexOf(layout.Classes, raw);
                if (cls < 0)
                    throw new UsageException($"{Option}: {file} line {lineNo}: label '{raw}' is not one of {string.Join(", ", layout.Classes)}");
            }
            examples.Add(new TextExample($"{name}:{lineNo}", cols[a], b < 0 ? null : cols[b], cls, target));
        }
        if (examples.Count == 0) throw new UsageException($"{Option}: {file} holds no examples");
        return examples;
    }
}
