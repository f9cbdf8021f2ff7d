"""How far is TIDE from the exact MILP, per q_min?

A notebook-style script (each ``# %%`` is a cell): it loads the TIDE
instances (instances/tide/, one per q_min), runs the TIDE heuristic and the
MILP with HiGHS under a short time limit on each, and plots TIDE's gap per
q_min. Run from the repository root, after ``pip install ./python``:

    python3 examples/python/tide_gap.py [--time-limit 30]

It writes target/tide_gap.png and target/tide_gap.csv. Ctrl-C stops the
running solve; the rows finished so far are kept.
"""

# %% Setup
import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed: the figure goes to a file
import matplotlib.pyplot as plt  # noqa: E402

import edgesplit  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per MILP solve (default 30)")
parser.add_argument("--out", default=str(ROOT / "target" / "tide_gap.png"), help="the figure (PNG)")
args = parser.parse_args()

# %% Load the TIDE instances: one file per q_min
files = sorted((ROOT / "instances" / "tide").glob("tide-q*.yaml"))
instances = [edgesplit.load(f) for f in files]
for inst in instances:
    q = {t["min_quality"] for t in inst.tasks}
    print(f"{inst.name}: {inst.sizes['atoms']} atoms, {inst.sizes['tasks']} tasks, q_min {sorted(q)}")

# %% TIDE and the MILP on each instance (what `edgesplit compare` does)
rows = []
for inst in instances:
    q_min = inst.tasks[0]["min_quality"]
    got = edgesplit.compare(inst, ["tide", "milp:highs"], time_limit=args.time_limit, as_frame=False)
    by = {r["method"]: r for r in got}
    tide, milp = by["tide"], by["milp:highs"]
    rows.append(
        {
            "q_min": q_min,
            "tide_objective": tide["objective"],
            "milp_status": milp["status"],
            "milp_objective": milp["objective"],
            # TIDE against the MILP's optimum, or its bound when not proven.
            "tide_gap": tide["gap"],
            "reference_kind": tide["reference_kind"],
            # TIDE against the best plan found (the MILP's, when it is better).
            "tide_gap_to_best": tide["gap_to_best"],
            # The MILP's own gap from its plan to its bound.
            "milp_gap": milp["gap"],
            "milp_wall_s": milp["wall_time_s"],
        }
    )

# %% The table
try:
    import pandas as pd

    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    out_csv = Path(args.out).with_suffix(".csv")
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_csv, index=False)
    print(f"wrote {os.path.relpath(out_csv)}")
except ImportError:
    for r in rows:
        print(r)


# %% The gap per q_min
def pct(x: "float | None") -> float:
    return float("nan") if x is None else 100.0 * x


qs = [r["q_min"] for r in rows]
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(qs, [pct(r["tide_gap"]) for r in rows], "o-", label="TIDE vs MILP optimum or bound")
ax.plot(qs, [pct(r["tide_gap_to_best"]) for r in rows], "s--", label="TIDE vs best plan found")
ax.plot(qs, [pct(r["milp_gap"]) for r in rows], "^:", label=f"MILP's own gap ({args.time_limit:g} s)")
ax.set_xlabel("q_min (every task)")
ax.set_ylabel("gap (%), log scale")
# Gaps to a weak bound can be 100 times those to a plan: a log scale.
ax.set_yscale("symlog", linthresh=0.1)
ax.set_xticks(qs)
ax.set_title("TIDE against the MILP (HiGHS), instances/tide")
ax.grid(True, alpha=0.3)
ax.legend()
fig.tight_layout()
out = Path(args.out)
out.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(out, dpi=120)
print(f"wrote {os.path.relpath(out)}")
