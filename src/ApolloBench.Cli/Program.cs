using TorchSharp;
ApolloBench.Runtime.TorchNativeFix.EnsureLoadable();
Console.WriteLine(ApolloBench.Runtime.TorchNativeFix.Outcome);
var x = torch.randn(4, 4);
Console.WriteLine(x.sum().item<float>());
