"""edgesplit from Python: load instances, solve the MILP, run the
heuristics, compare them, evaluate plans.

Every function calls the same Rust library functions as the ``edgesplit``
command line, so the numbers are the CLI's. See docs/python.md.

>>> import edgesplit
>>> inst = edgesplit.load("instances/default.yaml")
>>> res = inst.solve(solver="highs")
>>> res.status, res.objective
"""

from __future__ import annotations

import csv
import errno
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

from . import _native
from .errors import EdgesplitError, Problem, ValidationError

__all__ = [
    "EdgesplitError",
    "HeuristicResult",
    "Instance",
    "NoiseFit",
    "Problem",
    "Result",
    "ValidationError",
    "compare",
    "fit_noise",
    "generate",
    "generate_yaml",
    "interrupt",
    "load",
    "load_plan",
    "methods",
    "plan_to_json",
    "plan_to_yaml",
    "sample_noise",
    "save_plan",
    "solvers",
]

__version__: str = _native.__version__

PathLike = Union[str, "os.PathLike[str]"]
#: A plan: a dict in the plan file form (``instance``, ``method``,
#: ``quantized``, ``tasks``: task → atom id or layer name → node), or the
#: path of a plan file (YAML or JSON).
PlanLike = Union[Dict[str, Any], PathLike]
ProgressCallback = Callable[[Dict[str, Any]], Any]


def _is_text(source: Union[str, bytes]) -> bool:
    """A string that is YAML text rather than a file name."""
    if isinstance(source, bytes):
        return True
    s = source.lstrip()
    return "\n" in source or s.startswith("{") or s.startswith("version:")


def solvers() -> List[str]:
    """The MILP backends built in (``highs``, ``cbc``, ``scip``, ``microlp``)."""
    return list(_native.solvers())


def methods() -> List[str]:
    """The heuristic method names (``tide``, ``tide-q``, ``cost-greedy``, …)."""
    return list(_native.methods())


def interrupt() -> int:
    """Asks every solve running in this process (in any thread) to stop;
    each returns its best plan with the status ``interrupted``. Returns the
    number of calls asked."""
    return int(_native.interrupt())


# ---------------------------------------------------------------------------
# Plans


def load_plan(source: Union[PathLike, Dict[str, Any]], instance: Optional["Instance"] = None) -> Dict[str, Any]:
    """Reads a plan file (YAML or JSON), or parses plan text, into a dict
    of the plan file form. With ``instance``, the plan is checked against it
    (ValidationError listing every unknown task, atom, layer, node or group)
    and returned in the writer's form (whole layers by name)."""
    if isinstance(source, dict):
        plan = dict(source)
    elif isinstance(source, (str, bytes)) and _is_text(source):
        text = source.decode() if isinstance(source, bytes) else source
        plan = _native.parse_plan(text)
    else:
        path = Path(os.fspath(source))
        plan = _native.parse_plan(path.read_text(), str(path))
    if instance is not None:
        plan = instance.check_plan(plan)
    return plan


def plan_to_yaml(plan: Dict[str, Any]) -> str:
    """The plan as YAML text, byte for byte what ``edgesplit … -o plan.yaml``
    writes for it."""
    return str(_native.plan_to_yaml(plan))


def plan_to_json(plan: Dict[str, Any]) -> str:
    """The plan as JSON text, as ``-o plan.json`` writes it."""
    return str(_native.plan_to_json(plan))


def save_plan(plan: Dict[str, Any], path: PathLike) -> None:
    """Writes the plan as JSON (``.json``) or YAML (anything else), as the
    command line does; ``edgesplit evaluate INSTANCE PATH`` reads it."""
    p = Path(os.fspath(path))
    p.write_text(plan_to_json(plan) if p.suffix == ".json" else plan_to_yaml(plan))


def _plan_dict(plan: PlanLike) -> Dict[str, Any]:
    if isinstance(plan, dict):
        return plan
    return load_plan(plan)


# ---------------------------------------------------------------------------
# Results


@dataclass
class Result:
    """A MILP solve, as ``edgesplit solve --json`` reports it.

    ``objective`` is the evaluator's objective of the returned plan (the
    number the CLI prints), ``milp_objective`` the solver's; ``bound`` the
    best proven lower bound; ``gap`` the relative gap from the bound to
    ``objective``. ``status`` is one of optimal, feasible, no_solution,
    infeasible, unbounded, error, interrupted."""

    status: str
    objective: Optional[float]
    milp_objective: Optional[float]
    bound: Optional[float]
    gap: Optional[float]
    gap_limit: float
    solver: str
    instance: str
    limit: Optional[str]
    message: Optional[str]
    build_time_s: float
    solve_time_s: float
    payoff_time_s: float
    plan: Optional[Dict[str, Any]] = field(repr=False)
    evaluation: Optional[Dict[str, Any]] = field(repr=False)
    warm_start: Dict[str, Any] = field(repr=False)
    #: The whole report, as ``edgesplit solve --json`` prints it.
    report: Dict[str, Any] = field(repr=False)
    #: True when a KeyboardInterrupt (Ctrl-C) stopped the solve.
    keyboard_interrupt: bool = False
    #: Options the backend does not use (ignored, as the CLI warns).
    ignored_options: List[str] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        """Whether a stop request ended the solve (Ctrl-C, :func:`interrupt`)."""
        return self.status == "interrupted" or self.limit == "interrupt"

    @property
    def feasible(self) -> bool:
        """Whether there is a plan the evaluator finds feasible."""
        ev = self.evaluation
        return ev is not None and not ev.get("violations")

    @property
    def totals(self) -> Optional[Dict[str, float]]:
        """T (s), E (W), C (per s) of the plan."""
        return None if self.evaluation is None else self.evaluation["totals"]

    @classmethod
    def _from_native(cls, d: Dict[str, Any]) -> "Result":
        r = d["report"]
        full = dict(r)
        full["warm_start"] = d["warm_start"]
        return cls(
            status=r["status"],
            objective=r.get("evaluated_objective"),
            milp_objective=r.get("milp_objective"),
            bound=r.get("best_bound"),
            gap=r.get("gap"),
            gap_limit=r["gap_limit"],
            solver=r["solver"],
            instance=r["instance"],
            limit=r.get("limit"),
            message=r.get("message"),
            build_time_s=r["build_time_s"],
            solve_time_s=r["solve_time_s"],
            payoff_time_s=r["payoff_time_s"],
            plan=d["plan"],
            evaluation=r.get("evaluation"),
            warm_start=d["warm_start"],
            report=full,
            keyboard_interrupt=bool(d["keyboard_interrupt"]),
            ignored_options=list(d["ignored_options"]),
        )


@dataclass
class HeuristicResult:
    """A heuristic run, as ``edgesplit heuristic --json`` reports it."""

    method: str
    feasible: bool
    plan: Optional[Dict[str, Any]] = field(repr=False)
    evaluation: Optional[Dict[str, Any]] = field(repr=False)
    message: Optional[str] = None
    wall_time_s: float = 0.0

    @property
    def objective(self) -> Optional[float]:
        """The evaluator's objective of the plan."""
        return None if self.evaluation is None else self.evaluation.get("objective")


@dataclass
class NoiseFit:
    """A fitted noise regressor (``edgesplit fit-noise``)."""

    groups: List[str]
    samples: int
    degree: int
    ridge: float
    intercept: float
    #: Monomials: ``{"groups": [...], "coefficient": c}``.
    terms: List[Dict[str, Any]]
    #: The instance's ``quantization.noise`` block, as fit-noise writes it.
    yaml: str
    #: K-fold cross-validation: folds, r2, rmse, mae (None when not possible).
    cv: Optional[Dict[str, float]]
    cv_message: Optional[str] = None

    def predict(self, quantized: Union[Iterable[str], Dict[str, Any]]) -> float:
        """η(q) for a set of quantized groups (names, or a 0/1 mapping)."""
        if isinstance(quantized, dict):
            on = {g for g, v in quantized.items() if v}
        else:
            on = set(quantized)
        if not on:
            return 0.0
        total = self.intercept
        for t in self.terms:
            if all(g in on for g in t["groups"]):
                total += t["coefficient"]
        return total


# ---------------------------------------------------------------------------
# Instances


class Instance:
    """A loaded, validated instance (see :func:`load`)."""

    __slots__ = ("_native",)

    def __init__(self, native: Any) -> None:
        self._native = native

    def __repr__(self) -> str:
        return str(self._native.__repr__())

    @property
    def name(self) -> str:
        return str(self._native.name)

    @property
    def description(self) -> str:
        return str(self._native.description)

    @property
    def path(self) -> Optional[str]:
        """The file it was loaded from (None when loaded from text)."""
        p = self._native.path
        return None if p is None else str(p)

    @property
    def sizes(self) -> Dict[str, int]:
        """Numbers of atoms, edges, layers, tasks, nodes, links, groups."""
        return dict(self._native.sizes)

    @property
    def atoms(self) -> List[Dict[str, Any]]:
        """One dict per atom: id, layer, flops, param_bytes, out_bytes, level, group, mandatory."""
        return list(self._native.atoms)

    @property
    def nodes(self) -> List[Dict[str, Any]]:
        """One dict per node: name, speed, memory, power, price, quant_speedup, …"""
        return list(self._native.nodes)

    @property
    def tasks(self) -> List[Dict[str, Any]]:
        """One dict per task: name, rate, source, sink, max_delay, min_quality, curve, relevance, …"""
        return list(self._native.tasks)

    @property
    def groups(self) -> List[str]:
        """Quantization group names."""
        return list(self._native.groups)

    def info(self) -> Dict[str, Any]:
        """What ``edgesplit info --json`` prints."""
        return dict(self._native.info())

    def with_min_quality(self, q: float) -> "Instance":
        """The same instance with every task's q_min set to ``q``."""
        return Instance(self._native.with_min_quality(float(q)))

    def with_name(self, name: str) -> "Instance":
        """The same instance under another name (its rows' name in :func:`compare`)."""
        return Instance(self._native.with_name(name))

    def with_strengthen(self, strengthen: str) -> "Instance":
        """The same instance with the MILP strengthenings of ``strengthen``
        (``all``, ``none`` or a comma-separated list of memory_fit,
        cut_sets, flow), as ``--strengthen``."""
        return Instance(self._native.with_strengthen(strengthen))

    def check_plan(self, plan: PlanLike) -> Dict[str, Any]:
        """The plan checked against this instance (ValidationError listing
        every unknown name), in the writer's form."""
        return dict(self._native.check_plan(_plan_dict(plan)))

    def evaluate(self, plan: PlanLike) -> Dict[str, Any]:
        """Every metric of a plan and every violated constraint (what
        ``edgesplit evaluate --json`` prints). The plan is feasible when
        ``violations`` is empty."""
        return dict(self._native.evaluate(_plan_dict(plan)))

    def reference_plan(self, method: str = "centralized") -> Dict[str, Any]:
        """A plan that needs no solver: ``centralized`` or ``all-on-source``."""
        return dict(self._native.reference_plan(method))

    def heuristic(self, method: str = "tide") -> HeuristicResult:
        """Runs a heuristic (``tide``, ``tide-q``, ``cost-greedy``,
        ``cost-greedy-q``, ``prune``, ``multi-prune``, ``orthogonalize``,
        ``centralized``) and evaluates its plan, as ``edgesplit heuristic``."""
        return HeuristicResult(**self._native.heuristic(method))

    def solve(
        self,
        solver: str = "highs",
        time_limit: Optional[float] = None,
        gap: Optional[float] = None,
        warm_start: Optional[PlanLike] = None,
        *,
        threads: Optional[int] = None,
        seed: Optional[int] = None,
        verbose: bool = False,
        strengthen: Optional[str] = None,
        progress: Optional[ProgressCallback] = None,
    ) -> Result:
        """Solves the MILP, as ``edgesplit solve`` (in process).

        ``warm_start``: None for the CLI's default (the cost-greedy-q plan
        when the evaluator finds it feasible), ``"none"``, a heuristic's
        name, a plan dict or a plan file. ``progress`` is called with a dict
        per event (kind start/update/end, solver, stage, elapsed_s,
        incumbent, bound, gap, nodes) from the solving thread; an exception
        it raises stops the solve and is raised here.

        The GIL is released while solving. Ctrl-C (KeyboardInterrupt) or
        :func:`interrupt` stops the solve: the best plan found is returned
        with the status ``interrupted`` (``result.keyboard_interrupt`` says
        a Ctrl-C did it)."""
        inst = self if strengthen is None else self.with_strengthen(strengthen)
        ws_name: Optional[str] = None
        ws_plan: Optional[Dict[str, Any]] = None
        if isinstance(warm_start, dict):
            ws_plan = warm_start
        elif warm_start is not None:
            s = os.fspath(warm_start)
            if s == "none" or s in methods() or os.path.isfile(s):
                # A plan file is read by the library, as `--warm-start FILE`.
                ws_name = s
            else:
                raise ValueError(
                    f"warm_start {s!r}: expected None, 'none', a method ({', '.join(methods())}), "
                    "a plan dict or an existing plan file"
                )
        d = inst._native.solve(
            solver=solver,
            time_limit=None if time_limit is None else float(time_limit),
            gap=None if gap is None else float(gap),
            threads=threads,
            seed=seed,
            verbose=verbose,
            warm_start=ws_name,
            warm_start_plan=ws_plan,
            progress=progress,
        )
        return Result._from_native(d)

    def export(self, path: PathLike) -> Dict[str, int]:
        """Writes the MILP as ``.lp`` or ``.mps`` (as ``edgesplit export``);
        returns its size (rows, columns, binaries, nonzeros, …)."""
        return dict(self._native.export(os.fspath(path)))


def load(source: Union[PathLike, bytes], *, name: Optional[PathLike] = None) -> Instance:
    """Loads and validates an instance: a file path, or YAML text (a string
    with a newline, or starting with ``version:``). For text, ``name`` is
    the file name used in messages and to resolve relative references
    (``dnn: {file: ...}``); the working directory otherwise.

    Raises ValidationError carrying every problem found, each with its field
    path, and OSError for a file that cannot be read."""
    if isinstance(source, (str, bytes)) and _is_text(source):
        text = source.decode() if isinstance(source, bytes) else source
        return Instance(_native.load_text(text, None if name is None else os.fspath(name)))
    path = os.fsdecode(source)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    return Instance(_native.load_path(path))


# ---------------------------------------------------------------------------
# Several instances, generators, noise


def _frame(rows: List[Dict[str, Any]], as_frame: Optional[bool]) -> Any:
    if as_frame is False:
        return rows
    try:
        import pandas as pd
    except ImportError:
        if as_frame:
            raise
        return rows
    return pd.DataFrame(rows)


def compare(
    instances: Union[Instance, PathLike, Sequence[Union[Instance, PathLike]]],
    methods: Sequence[str] = ("tide", "tide-q", "cost-greedy-q", "centralized", "milp:highs"),
    *,
    time_limit: Optional[float] = None,
    threads: Optional[int] = None,
    min_quality: Optional[Sequence[float]] = None,
    warm_start: Optional[str] = None,
    as_frame: Optional[bool] = None,
) -> Any:
    """Every method on every instance (and every q_min of ``min_quality``),
    as ``edgesplit compare``: one row per method with status, objective, T,
    E, C, atoms, wall time, the gap to the MILP (``gap``, with
    ``reference`` and ``reference_kind``) and to the best row.

    Returns a pandas DataFrame when pandas is importable (``as_frame=False``
    for a list of dicts). Heuristics that cannot quantize are compared with
    the MILP with quantization off (its row ``milp:highs (q off)``).
    Ctrl-C or :func:`interrupt` stops it: the rows finished are returned."""
    if isinstance(instances, (Instance, str, os.PathLike)):
        instances = [instances]
    insts = [i if isinstance(i, Instance) else load(i) for i in instances]
    # As the CLI: files that share an instance name are told apart by
    # their file names.
    names = [i.name for i in insts]
    insts = [
        i.with_name(Path(i.path).stem) if names.count(i.name) > 1 and i.path else i for i in insts
    ]
    rows = _native.compare(
        [i._native for i in insts],
        list(methods),
        time_limit=None if time_limit is None else float(time_limit),
        threads=threads,
        min_quality=None if min_quality is None else [float(q) for q in min_quality],
        warm_start=warm_start,
    )
    return _frame(list(rows), as_frame)


def generate_yaml(
    family: str = "tide",
    seed: int = 1,
    layers: int = 3,
    atoms_per_layer: int = 4,
    widths: Optional[Sequence[int]] = None,
    dense_layers: int = 1,
    tasks: int = 3,
    nodes: int = 3,
    groups: int = 2,
    zipf: float = 1.0,
    delay_model: str = "sequential",
) -> str:
    """A synthetic instance as YAML text, exactly as ``edgesplit generate``
    writes it for the same parameters (same seed, same file)."""
    return str(
        _native.generate(
            family=family,
            seed=seed,
            layers=layers,
            atoms_per_layer=atoms_per_layer,
            widths=None if widths is None else list(widths),
            dense_layers=dense_layers,
            tasks=tasks,
            nodes=nodes,
            groups=groups,
            zipf=float(zipf),
            delay_model=delay_model,
        )
    )


def generate(
    family: str = "tide",
    seed: int = 1,
    layers: int = 3,
    atoms_per_layer: int = 4,
    widths: Optional[Sequence[int]] = None,
    dense_layers: int = 1,
    tasks: int = 3,
    nodes: int = 3,
    groups: int = 2,
    zipf: float = 1.0,
    delay_model: str = "sequential",
) -> Instance:
    """A synthetic instance (``edgesplit generate``), loaded."""
    return load(
        generate_yaml(
            family, seed, layers, atoms_per_layer, widths, dense_layers, tasks, nodes, groups, zipf, delay_model
        )
    )


def _samples_csv(samples: Any) -> str:
    if hasattr(samples, "to_csv"):
        return str(samples.to_csv(index=False))
    if isinstance(samples, (str, bytes)):
        text = samples.decode() if isinstance(samples, bytes) else samples
        if "\n" in text or "," in text:
            return text
        return Path(text).read_text()
    if isinstance(samples, os.PathLike):
        return Path(os.fspath(samples)).read_text()
    if isinstance(samples, dict):
        cols = list(samples)
        n = len(samples[cols[0]]) if cols else 0
        samples = [{c: samples[c][i] for c in cols} for i in range(n)]
    rows = list(samples)
    if not rows:
        raise ValueError("samples: expected at least one row")
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def fit_noise(samples: Any, degree: int, ridge: float = 0.0, folds: int = 5) -> NoiseFit:
    """Fits the noise regressor η(q) (``edgesplit fit-noise``) to samples:
    a DataFrame, a list of dicts, a dict of columns, CSV text or a CSV file,
    with one 0/1 column per quantization group and a ``noise`` column."""
    d = _native.fit_noise(_samples_csv(samples), int(degree), ridge=float(ridge), folds=int(folds))
    return NoiseFit(**d)


def sample_noise(
    groups: Sequence[str],
    seed: int = 1,
    degree: int = 2,
    samples: Optional[int] = None,
    jitter: float = 0.05,
    as_frame: Optional[bool] = None,
) -> Any:
    """Made-up demo noise samples (``edgesplit sample-noise --synthetic``):
    a DataFrame when pandas is importable, else a list of dicts."""
    text = _native.sample_noise(list(groups), seed=seed, degree=degree, samples=samples, jitter=float(jitter))
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    rows: List[Dict[str, Any]] = []
    for r in csv.DictReader(lines):
        rows.append({k: (float(v) if k == "noise" else int(v)) for k, v in r.items()})
    return _frame(rows, as_frame)

