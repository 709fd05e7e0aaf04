using System.Runtime.CompilerServices;

namespace ApolloBench.Tests;

static class TorchInit
{
#pragma warning disable CA2255 // the shim must be patched before the first torch call in this assembly
    [ModuleInitializer]
    internal static void Init() => ApolloBench.Runtime.TorchNativeFix.EnsureLoadable();
#pragma warning restore CA2255
}
