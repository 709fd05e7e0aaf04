using System.Text;
using System.Text.RegularExpressions;

namespace ApolloBench.Downstream;

/// <summary>
/// The metrics GLUE defines (Wang et al. 2019, as its reference tooling computes them), as fractions in
/// [0, 1] (correlations in [-1, 1]); reports multiply by 100 as the paper prints them.
/// </summary>
public static class Metrics
{
    public static double Accuracy(IReadOnlyList<int> predicted, IReadOnlyList<int> gold)
    {
        CheckLengths(predicted.Count, gold.Count);
        int hit = 0;
        for (int i = 0; i < gold.Count; i++) if (predicted[i] == gold[i]) hit++;
        return (double)hit / gold.Count;
    }

    /// <summary>F1 of the positive class (label 1), as GLUE scores MRPC and QQP. 0 when there is no true positive
    /// (precision or recall is then 0 or undefined; scikit-learn's zero_division default gives the same).</summary>
    public static double BinaryF1(IReadOnlyList<int> predicted, IReadOnlyList<int> gold, int positive = 1)
    {
        var (tp, fp, fn, _) = Confusion(predicted, gold, positive);
        return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
    }

    /// <summary>
    /// Matthews correlation for binary labels (CoLA): (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)).
    /// When a factor of the denominator is 0 (e.g. one class is never predicted) the coefficient is 0,
    /// as scikit-learn's matthews_corrcoef defines it.
    /// </summary>
    public static double MatthewsCorrelation(IReadOnlyList<int> predicted, IReadOnlyList<int> gold, int positive = 1)
    {
        var (tp, fp, fn, tn) = Confusion(predicted, gold, positive);
        double denom = (double)(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn);
        return denom == 0 ? 0 : ((double)tp * tn - (double)fp * fn) / Math.Sqrt(denom);
    }

    /// <summary>Pearson's r. A constant series has no defined correlation; it scores 0 here (SciPy would give NaN,
    /// which would poison an average).</summary>
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        CheckLengths(x.Count, y.Count);
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Count; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
        }
        return sxx == 0 || syy == 0 ? 0 : Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1);
    }

    /// <summary>Spearman's rho: Pearson's r of the ranks, tied values sharing their average rank (as scipy.stats.spearmanr).</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        CheckLengths(x.Count, y.Count);
        return Pearson(Ranks(x), Ranks(y));
    }

    /// <summary>1-based ranks; a run of equal values gets the mean of the ranks it spans.</summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            double rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++) ranks[order[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }

    static (long Tp, long Fp, long Fn, long Tn) Confusion(IReadOnlyList<int> predicted, IReadOnlyList<int> gold, int positive)
    {
        CheckLengths(predicted.Count, gold.Count);
        long tp = 0, fp = 0, fn = 0, tn = 0;
        for (int i = 0; i < gold.Count; i++)
        {
            bool p = predicted[i] == positive, g = gold[i] == positive;
            if (p && g) tp++; else if (p) fp++; else if (g) fn++; else tn++;
        }
        return (tp, fp, fn, tn);
    }

    static void CheckLengths(int a, int b)
    {
        if (a != b) throw new ArgumentException($"predictions ({a}) and gold labels ({b}) differ in length");
        if (a == 0) throw new ArgumentException("a metric needs at least one example");
    }
}

/// <summary>
/// SQuAD's exact match and F1 as its official evaluation scripts (v1.1 and v2.0) define them. Answers are
/// normalised by: lower-casing, removing ASCII punctuation (Python's <c>string.punctuation</c>), replacing the
/// whole words "a", "an", "the" by a space, and collapsing whitespace. F1 is over whitespace tokens of the
/// normalised strings (bag of tokens: a shared token counts min(count in prediction, count in gold) times).
/// A question's score is the maximum over its gold answers. Following the v2.0 script: gold answers that
/// normalise to "" are dropped, a question left with none is unanswerable and its only gold answer is "",
/// and when either side has no token F1 is 1 if both are empty and 0 otherwise. For answerable questions
/// this agrees with the v1.1 script.
/// </summary>
public static class SquadMetrics
{
    const string Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    static readonly Regex Articles = new(@"\b(a|an|the)\b", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    public static string Normalize(string s)
    {
        var lower = s.ToLowerInvariant();
        var sb = new StringBuilder(lower.Length);
        foreach (var ch in lower) if (!Punctuation.Contains(ch)) sb.Append(ch);
        var noArticles = Articles.Replace(sb.ToString(), " ");
        return string.Join(' ', Tokens(noArticles));
    }

    /// <summary>Python's str.split(): runs of whitespace separate, no empty tokens.</summary>
    static string[] Tokens(string s) => s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    public static double ExactMatch(string prediction, string gold) => Normalize(prediction) == Normalize(gold) ? 1 : 0;

    public static double F1(string prediction, string gold)
    {
        var p = Tokens(Normalize(prediction));
        var g = Tokens(Normalize(gold));
        if (p.Length == 0 || g.Length == 0) return p.Length == g.Length ? 1 : 0;
        var counts = g.GroupBy(t => t).ToDictionary(x => x.Key, x => x.Count());
        int same = 0;
        foreach (var t in p)
            if (counts.TryGetValue(t, out var c) && c > 0) { same++; counts[t] = c - 1; }
        if (same == 0) return 0;
        double precision = (double)same / p.Length, recall = (double)same / g.Length;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>The gold answers a question is scored against ("" alone for an unanswerable question).</summary>
    public static IReadOnlyList<string> GoldAnswers(IEnumerable<string> answers)
    {
        var kept = answers.Where(a => Normalize(a).Length > 0).ToList();
        return kept.Count == 0 ? [""] : kept;
    }

    /// <summary>(exact match, F1) of one question: the best over its gold answers.</summary>
    public static (double Exact, double F1) Score(string prediction, IEnumerable<string> answers)
    {
        var gold = GoldAnswers(answers);
        return (gold.Max(g => ExactMatch(prediction, g)), gold.Max(g => F1(prediction, g)));
    }

    /// <summary>Mean exact match and F1 over questions; with a split into answerable ("HasAns") and
    /// unanswerable ("NoAns") questions as the v2.0 script reports them (NaN where a group is empty).</summary>
    public static SquadScore Evaluate(IReadOnlyList<(string Prediction, IReadOnlyList<string> Answers)> questions)
    {
        if (questions.Count == 0) throw new ArgumentException("SQuAD evaluation needs at least one question");
        double em = 0, f1 = 0, hasEm = 0, hasF1 = 0, noEm = 0, noF1 = 0;
        int has = 0, no = 0;
        foreach (var (pred, answers) in questions)
        {
            var (e, f) = Score(pred, answers);
            em += e; f1 += f;
            if (GoldAnswers(answers) is [""]) { no++; noEm += e; noF1 += f; }
            else { has++; hasEm += e; hasF1 += f; }
        }
        int n = questions.Count;
        return new SquadScore(em / n, f1 / n, has, has == 0 ? double.NaN : hasEm / has, has == 0 ? double.NaN : hasF1 / has,
            no, no == 0 ? double.NaN : noEm / no, no == 0 ? double.NaN : noF1 / no);
    }
}

public sealed record SquadScore(double ExactMatch, double F1, int HasAnswer, double HasAnswerExact, double HasAnswerF1,
    int NoAnswer, double NoAnswerExact, double NoAnswerF1);
