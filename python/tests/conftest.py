"""Shared fixtures: the repository root, the bundled instances and the
built command line, whose numbers the Python package must reproduce."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, List

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "instances" / "default.yaml"
TIDE = ROOT / "instances" / "tide" / "tide-q050.yaml"
BIN = ROOT / "target" / "release" / "edgesplit"


@pytest.fixture(scope="session")
def cli():
    """Runs the built `edgesplit` binary; returns its standard output."""
    if not BIN.exists():
        pytest.fail(f"{BIN} is missing: run `cargo test --release --all-targets` first")

    def run(*args: Any, ok: bool = True) -> str:
        p = subprocess.run(
            [str(BIN), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        if ok and p.returncode != 0:
            raise AssertionError(f"edgesplit {' '.join(map(str, args))} exited {p.returncode}:\n{p.stderr}")
        return p.stdout

    return run


@pytest.fixture(scope="session")
def cli_json(cli):
    def run(*args: Any) -> Any:
        return json.loads(cli(*args))

    return run


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def rows_by_method(rows: List[dict]) -> dict:
    return {r["method"]: r for r in rows}
