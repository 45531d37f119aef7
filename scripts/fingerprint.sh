#!/usr/bin/env bash
# Reproducibility fingerprint: trains every preset and runs a short bench on generated data, all with
# fixed seeds and step counts (no wall-clock budgets), and prints one SHA-256 per bundle file and the
# bench scores — with the fields that record time (manifest "created", training "seconds", bench
# "seconds") taken out. Run it before and after a refactoring that must not change behaviour: the
# outputs must be identical. Each bundle is then used: predict, explain and evaluate --report on the
# same rows, their outputs hashed with the work directory's path and the report's times (trained,
# generated) taken out. Usage: scripts/fingerprint.sh [--use-only] [WORKDIR]
# (--use-only skips training and uses the bundles already in WORKDIR: to run this build on bundles
# another build wrote.)
set -euo pipefail
cd "$(dirname "$0")/.."
use_only=0
if [[ ${1:-} == --use-only ]]; then use_only=1; shift; fi
work=${1:-$(mktemp -d)}
mkdir -p "$work"
dotnet build src/Jianwei.Cli -c Release --nologo -v q >/dev/null
jw() { dotnet src/Jianwei.Cli/bin/Release/net10.0/jianwei.dll "$@"; }
export JIANWEI_THREADS=2
if (( ! use_only )); then
rm -rf "$work/data" "$work/fast" "$work/balanced" "$work/best" "$work/bench.json"
jw generate --out "$work/data" --rows 1500 --unlabeled 400 --seed 3 >/dev/null
for preset in fast balanced; do
  jw train "$work/data/labeled.csv" --label default --preset "$preset" --seed 5 --out "$work/$preset" >/dev/null 2>&1
done
# best without a time limit or a co-pretraining budget: every candidate runs, fine-tuning runs its epochs.
jw train "$work/data/labeled.csv" --label default --preset best --time-limit 0 --budget 0 --seed 5 --out "$work/best" >/dev/null 2>&1
jw bench "$work/data/labeled.csv" --label default --unlabeled "$work/data/unlabeled.csv" --folds 2 --seed 5 \
  --modes lr,xgb,stack,tabnet,text-pretrained,late-fusion,multimodal-scratch,multimodal --pretrain-steps 20 --json "$work/bench.json" >/dev/null 2>&1
fi
rm -rf "$work/use"; mkdir -p "$work/use"
head -301 "$work/data/labeled.csv" > "$work/use/rows.csv"
for preset in fast balanced best; do
  jw predict "$work/$preset" "$work/use/rows.csv" --out "$work/use/$preset.scores.csv" >/dev/null 2>&1
  jw explain "$work/$preset" "$work/use/rows.csv" --rows 30 > "$work/use/$preset.explain.txt" 2>&1
  jw evaluate "$work/$preset" "$work/use/rows.csv" --report "$work/use/$preset.report.html" > "$work/use/$preset.evaluate.txt" 2>&1
done
python3 - "$work" <<'PY'
import hashlib, json, os, sys
work = sys.argv[1]
for preset in ("fast", "balanced", "best"):
    root = os.path.join(work, preset)
    for dirpath, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            path = os.path.join(dirpath, f)
            data = open(path, "rb").read()
            if f == "manifest.json":
                m = json.loads(data)
                m.pop("created", None); m.get("training", {}).pop("seconds", None)
                data = json.dumps(m, sort_keys=True).encode()
            print(hashlib.sha256(data).hexdigest()[:16], os.path.relpath(path, work))
import re
for preset in ("fast", "balanced", "best"):
    for kind in ("scores.csv", "explain.txt", "evaluate.txt", "report.html"):
        path = os.path.join(work, "use", f"{preset}.{kind}")
        text = open(path, encoding="utf-8").read().replace(work, "WORK")
        text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "TIME", text)   # when trained, when generated
        print(hashlib.sha256(text.encode()).hexdigest()[:16], "use", preset, kind)
b = json.load(open(os.path.join(work, "bench.json")))
for mode, r in sorted(b["modes"].items()):
    r.pop("seconds", None)
    print("bench", mode, json.dumps(r, sort_keys=True))
PY
