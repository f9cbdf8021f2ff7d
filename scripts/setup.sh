#!/usr/bin/env bash
# Installs what edgesplit needs and is missing; safe to run again.
# Native MILP backends (see docs/solvers.md): cmake builds HiGHS from the
# sources highs-sys ships; CBC links Debian's coinor-libcbc-dev; SCIP links
# the libscip shipped in the pyscipopt wheel; highspy is the independent
# HiGHS used by the tests to cross-check exported models; maturin, pytest,
# pandas and matplotlib are for the Python package (docs/python.md).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
dpkg -s coinor-libcbc-dev >/dev/null 2>&1 || missing+=(coinor-libcbc-dev)
# highs-sys generates its bindings with bindgen, which loads libclang.
dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
# tests/browser.rs drives the web page of `edgesplit serve` in a headless
# browser (it skips itself where none is found).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The PostgreSQL job store (docs/server.md, "Scaling out"): its tests start
# a throw-away cluster with the server's initdb and pg_ctl.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} with apt-get" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
pip_missing=()
"$PY" -c "import pyscipopt" >/dev/null 2>&1 || pip_missing+=("pyscipopt==6.3.0")
"$PY" -c "import highspy" >/dev/null 2>&1 || pip_missing+=("highspy")
# The Python package (python/): maturin builds its wheel, pytest and pandas
# run its tests, matplotlib draws the example's figure.
"$PY" -c "import maturin" >/dev/null 2>&1 || pip_missing+=("maturin>=1.5,<2")
"$PY" -c "import pytest" >/dev/null 2>&1 || pip_missing+=("pytest")
"$PY" -c "import pandas" >/dev/null 2>&1 || pip_missing+=("pandas")
"$PY" -c "import matplotlib" >/dev/null 2>&1 || pip_missing+=("matplotlib")
if [ ${#pip_missing[@]} -gt 0 ]; then
  echo "setup: installing ${pip_missing[*]} with pip" >&2
  "$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore "${pip_missing[@]}"
fi

command -v cargo >/dev/null 2>&1 || { echo "setup: cargo not found: install Rust (rustup) first" >&2; exit 1; }
