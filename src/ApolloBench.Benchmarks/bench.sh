#!/usr/bin/env bash
# The suite's bench command: installs the PyTorch to compare against when absent (Debian's
# python3-torch with the pthread OpenBLAS; ENVIRONMENT.md explains why both), then writes
# reports/performance.md. Extra arguments go to the report (--threads N, --quick, --out FILE).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
if ! "$PY" -c "import torch" 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread
  else
    echo "note: PyTorch not found and not root; the report will omit the PyTorch comparison" >&2
  fi
fi
dotnet run --project src/ApolloBench.Benchmarks -c Release -- report "$@"
