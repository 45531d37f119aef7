#!/usr/bin/env bash
# Runs every test. Installs what a fresh Debian machine lacks first (see scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")"
scripts/deps.sh --tests
log=$(mktemp)
set +e
dotnet test Jianwei.sln -c Release --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain summary line over all test assemblies: "N passed, N failed, N skipped".
awk '/(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) { k = $i; v = $(i+1); gsub(",", "", v);
         if (k == "Failed:") f += v; if (k == "Passed:") p += v; if (k == "Skipped:") s += v } }
     END { if (p + f + s > 0) printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
