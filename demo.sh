#!/usr/bin/env bash
# The demo. Until the `jianwei demo` command exists, this runs the engine benchmark in its quick mode.
set -euo pipefail
cd "$(dirname "$0")"
scripts/deps.sh
exec dotnet run -c Release --project bench -- engine quick
