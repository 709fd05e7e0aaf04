using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Data;

/// <summary>
/// One micro-batch on the CPU. InputIds and Labels are int64 [B, T]; a label of
/// <see cref="IgnoreIndex"/> is not predicted. GPT: labels are the next tokens. BERT: labels are
/// the original ids at the masked positions only.
/// </summary>
public sealed class Batch : IDisposable
{
    public const long IgnoreIndex = -100;

    public Batch(Tensor inputIds, Tensor labels, int predictedTokens)
    {
        InputIds = inputIds;
        Labels = labels;
        PredictedTokens = predictedTokens;
    }

    public Tensor InputIds { get; }
    public Tensor Labels { get; }
    /// <summary>How many positions carry a label: the positions the LM/MLM head runs on.</summary>
    public int PredictedTokens { get; }
    public int BatchSize => (int)InputIds.shape[0];
    public int SeqLen => (int)InputIds.shape[1];
    public int Tokens => BatchSize * SeqLen;

    public Batch To(Device device)
        => device.type == DeviceType.CPU ? this : new Batch(InputIds.to(device), Labels.to(device), PredictedTokens);

    public void Dispose()
    {
        InputIds.Dispose();
        Labels.Dispose();
    }
}
