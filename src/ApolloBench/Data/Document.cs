namespace ApolloBench.Data;

/// <summary>
/// One document of a corpus. <see cref="Id"/> is stable across runs and machines (a file name,
/// a relative path, or "file:line"); the train/validation split hashes it.
/// </summary>
public sealed record Document(string Id, string Text);
