namespace ApolloBench.Core;

/// <summary>
/// Bad input from the user (an option, a file, a key). The CLI prints the message on one line
/// and exits with code 2, before anything is written. The message names what was wrong and why.
/// </summary>
public sealed class UsageException(string message) : Exception(message);
