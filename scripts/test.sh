#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --release --all-targets 2>&1
# The HTTP API against its own OpenAPI document, on a live server: no 5xx.
bash scripts/schemathesis.sh
