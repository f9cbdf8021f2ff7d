#!/usr/bin/env bash
# Sets everything up, then runs the main job on the bundled default
# instance: validate it, solve it exactly with HiGHS (plan and report in
# target/), then compare the TIDE heuristic and the papers' baselines with
# that optimum.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --quiet
bin=target/release/edgesplit
inst=instances/default.yaml
$bin validate "$inst"
echo
$bin solve "$inst" --solver highs -o target/default-plan.yaml --report target/default-report.json
echo
echo "plan: target/default-plan.yaml; report: target/default-report.json"
echo
echo "every method against the exact optimum (heuristics without quantization"
echo "are compared with the MILP without quantization):"
$bin compare "$inst" --methods tide,tide-q,prune,multi-prune,orthogonalize,centralized,milp:highs \
    --csv target/default-compare.csv --json target/default-compare.json
