#!/usr/bin/env bash
# Sets everything up, then runs the main job on the bundled default instance.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --quiet
bin=target/release/edgesplit
inst=instances/default.yaml
$bin validate "$inst"
$bin plan "$inst" --method centralized -o target/default-centralized.yaml
$bin evaluate "$inst" target/default-centralized.yaml
