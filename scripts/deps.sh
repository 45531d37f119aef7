#!/usr/bin/env bash
# Installs the native libraries Jianwei uses, when missing. As root it installs them with apt-get;
# otherwise it prints the exact install line and carries on (the engine falls back to managed code).
# Usage: scripts/deps.sh [--tests] [--bench]
#   --tests also installs headless Chromium (the HTML report is rendered and checked by a test);
#   --bench also installs Debian's PyTorch for the anchor benchmark.
set -u

need=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }

have_lib 'libopenblas\.so\.0' || need+=(libopenblas0-pthread)
have_lib 'libxgboost\.so\.0' || need+=(libxgboost0)
have_lib 'libgomp\.so\.1' || need+=(libgomp1)   # LightGBM's OpenMP (XGBoost brings it too)
for flag in "$@"; do
  case "$flag" in
    --bench) /usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch) ;;
    --tests) command -v chromium >/dev/null 2>&1 || need+=(chromium) ;;
  esac
done

if ! command -v dotnet >/dev/null 2>&1; then
  echo "jianwei: the .NET 10 SDK is required (dotnet not found on PATH)." >&2
  exit 1
fi

if [ ${#need[@]} -eq 0 ]; then exit 0; fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "jianwei: installing ${need[*]} ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } >/tmp/jianwei-apt.log 2>&1; then
    echo "jianwei: apt-get failed (see /tmp/jianwei-apt.log); continuing with the managed fallbacks." >&2
  fi
else
  echo "jianwei: missing ${need[*]}; install with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
  echo "jianwei: continuing with the managed fallbacks." >&2
fi
exit 0
