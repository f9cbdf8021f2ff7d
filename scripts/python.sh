#!/usr/bin/env bash
# Builds the Python package's wheel into target/wheels and installs it
# (`bash scripts/python.sh`); with `test`, first lints the bindings' Rust
# code with clippy, and after the install runs the package's tests. The
# wheel is built with --release and the root's features, so that it reuses
# what `cargo test --release --all-targets` built in target/ (only pyo3 and
# the bindings are compiled). Run scripts/setup.sh first (test.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
PIP=("$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore)
if [ "${1:-}" = "test" ] && cargo clippy --version >/dev/null 2>&1; then
  # Reuses the release build's metadata of every dependency. maturin sets
  # pyo3's environment variables, clippy does not: pyo3 is built once for
  # each (about a minute), so the lint comes first and the wheel last.
  cargo clippy --release -p edgesplit-py --all-targets --quiet -- -D warnings
fi
rm -f target/wheels/edgesplit-*.whl
(cd python && "$PY" -m maturin build --release --interpreter "$PY" -o ../target/wheels 2>&1)
"${PIP[@]}" --force-reinstall --no-deps target/wheels/edgesplit-*.whl
if [ "${1:-}" = "test" ]; then
  "$PY" -m pytest python/tests -q -p no:cacheprovider
fi
