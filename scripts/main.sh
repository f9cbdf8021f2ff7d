#!/usr/bin/env bash
# Sets everything up, then runs the main job on the bundled default
# instance: validate it, solve it exactly with HiGHS (plan and report in
# target/), and compare with the centralized reference plan.
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
echo "for comparison, the centralized reference plan:"
$bin plan "$inst" --method centralized -o target/default-centralized.yaml
