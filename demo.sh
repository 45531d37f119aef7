#!/usr/bin/env bash
# The demo: `jianwei demo` on the embedded small-enterprise data (pass --quick for the one-minute version).
set -euo pipefail
cd "$(dirname "$0")"
scripts/deps.sh
exec dotnet run -c Release --project src/Jianwei.Cli -- demo "$@"
