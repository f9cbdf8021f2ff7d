#!/usr/bin/env bash
# The cost-greedy benchmark of docs/benchmarks.md: 20 generated instances
# (8 `tide`, 8 `dag`, 4 `chain`, several seeds), each compared under the
# evaluator: TIDE, cost-greedy, and a cold HiGHS run (no warm start, one
# thread, LIMIT seconds). Writes the instances, compare's Markdown, CSV and
# JSON under OUT, and prints the summary table (one row per instance).
#
#   scripts/bench-heuristic.sh                 # LIMIT=60: about 20 minutes
#   LIMIT=5 OUT=target/quick scripts/bench-heuristic.sh
set -euo pipefail
cd "$(dirname "$0")/.."
EDGESPLIT=${EDGESPLIT:-target/release/edgesplit}
LIMIT=${LIMIT:-60}
OUT=${OUT:-target/bench-heuristic}
mkdir -p "$OUT/instances"
files=()
gen() {
    local name=$1
    shift
    "$EDGESPLIT" generate "$@" --groups 0 -o "$OUT/instances/$name.yaml"
    files+=("$OUT/instances/$name.yaml")
}
for seed in 1 2 3 4 5 6 7 8; do
    gen "tide-s$seed" --family tide --seed "$seed" --layers 4 --atoms-per-layer 12 \
        --tasks 6 --nodes 4 --zipf 1.5
done
for seed in 1 2 3 4 5 6 7 8; do
    model=sequential
    [ $((seed % 2)) -eq 0 ] && model=layered
    gen "dag-s$seed" --family dag --seed "$seed" --layers 5 --atoms-per-layer 6 \
        --tasks 4 --nodes 4 --delay-model "$model"
done
for seed in 1 2 3 4; do
    gen "chain-s$seed" --family chain --seed "$seed" --layers 8 --tasks 4 --nodes 3
done
"$EDGESPLIT" compare "${files[@]}" --methods tide,cost-greedy,milp:highs \
    --warm-start none --time-limit "$LIMIT" --threads 1 \
    --csv "$OUT/compare.csv" --json "$OUT/compare.json" >"$OUT/compare.md"
python3 - "$OUT/compare.json" "$LIMIT" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
limit = sys.argv[2]
by = {}
for r in rows:
    by.setdefault(r["instance"], {})[r["method"]] = r
def obj(r):
    return r["objective"] if r and r["feasible"] else None
def f(x):
    return "–" if x is None else f"{x:.6g}"
def pct(a, b):
    return "–" if a is None or b is None or b == 0 else f"{100 * (a - b) / abs(b):+.2f}%"
print(f"| instance | TIDE | cost-greedy | vs TIDE | MILP {limit} s incumbent | MILP status | cost-greedy vs MILP | cost-greedy (s) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
never_worse = as_good = n = 0
for name, m in by.items():
    t, g, milp = obj(m.get("tide")), obj(m.get("cost-greedy")), m.get("milp:highs")
    mo = obj(milp)
    status = milp["status"] if milp else "–"
    if milp and milp.get("gap") is not None:
        status += f" ({100 * milp['gap']:.2f}% to bound)"
    n += 1
    never_worse += t is None or (g is not None and g <= t * (1 + 1e-9))
    as_good += g is not None and (mo is None or g <= mo * (1 + 1e-9))
    print(f"| {name} | {f(t)} | {f(g)} | {pct(g, t)} | {f(mo)} | {status} | {pct(g, mo)} | {m['cost-greedy']['wall_time_s']:.3f} |")
print()
print(f"cost-greedy never worse than TIDE on {never_worse}/{n}; at least as good as the {limit} s MILP incumbent on {as_good}/{n}.")
PY
