using System.Runtime.CompilerServices;

// torch's global generator and thread count are process-wide: tests that seed or pin threads must not
// interleave, or 'same seed, same curve' checks race. The suite stays well under a minute serially.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace ApolloBench.Tests;

static class TorchInit
{
#pragma warning disable CA2255 // the shim must be patched before the first torch call in this assembly
    [ModuleInitializer]
    internal static void Init() => ApolloBench.Runtime.TorchNativeFix.EnsureLoadable();
#pragma warning restore CA2255
}
