namespace ApolloBench.Downstream;

/// <summary>One text (B null) or text pair to classify (<see cref="Label"/>) or score (<see cref="Target"/>, STS-B).</summary>
public sealed record TextExample(string Id, string A, string? B, int Label, double Target = 0);

/// <summary>A gold answer of a SQuAD question: its text and the character offset where it starts in the context.</summary>
public sealed record SquadAnswer(string Text, int Start);

/// <summary>One SQuAD question. An unanswerable (v2.0) question has no answers.</summary>
public sealed record SquadExample(string Id, string Question, string Context, IReadOnlyList<SquadAnswer> Answers)
{
    public bool IsImpossible => Answers.Count == 0;
}

/// <summary>A named evaluation set (GLUE dev; MNLI has "matched" and "mismatched").</summary>
public sealed record EvalSet<T>(string Name, IReadOnlyList<T> Examples);

/// <summary>What a loader returns: training examples, one or more evaluation sets, and where they came from.</summary>
public sealed record TaskData<T>(IReadOnlyList<T> Train, IReadOnlyList<EvalSet<T>> Eval, string Source, string Notes = "");
