#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --release --all-targets 2>&1
# The Python package (docs/python.md): its wheel, built with the same
# profile and features, reuses every dependency built above; its tests run
# against the binary built above.
bash scripts/python.sh test
# The HTTP API against its own OpenAPI document, on a live server: no 5xx.
bash scripts/schemathesis.sh
