"""The Python package against the command line on the bundled instances:
same numbers, same files."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

import edgesplit
from conftest import DEFAULT, ROOT, TIDE, close, rows_by_method


@pytest.fixture(scope="module")
def inst():
    return edgesplit.load(DEFAULT)


# --- loading ---------------------------------------------------------------


def test_load_gives_sizes_atoms_nodes_tasks(inst, cli_json):
    info = cli_json("info", DEFAULT, "--json")
    assert inst.name == "default" == info["name"]
    assert inst.sizes["atoms"] == info["dnn"]["atoms"] == len(inst.atoms)
    assert inst.sizes["edges"] == info["dnn"]["edges"]
    assert inst.sizes["tasks"] == 3 == len(inst.tasks)
    assert [n["name"] for n in inst.nodes] == ["device", "edge", "cloud"]
    assert inst.groups == ["conv1", "conv2", "fc"]
    cats = inst.tasks[0]
    assert cats["name"] == "cats" and cats["rate"] == 10 and cats["source"] == "device"
    assert cats["max_delay"] == 0.06 and cats["relevance"]["conv1.0"] == 0.9
    assert cats["curve"][-1] == [1.0, 0.72]
    assert {a["id"] for a in inst.atoms} >= {"conv1.0", "fc"}
    assert inst.info() == info
    assert "11 atoms" in repr(inst)


def test_load_text_resolves_relative_files_from_name():
    text = DEFAULT.read_text()
    a = edgesplit.load(text, name=DEFAULT)
    assert a.sizes == edgesplit.load(str(DEFAULT)).sizes
    assert a.path == str(DEFAULT)


def test_validation_error_lists_every_problem_with_its_field_path(tmp_path, cli):
    text = DEFAULT.read_text().replace("rate: 10", "rate: -10").replace(
        "    rate: 5\n    source: device", "    rate: 5\n    source: phone"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("../models/", str(ROOT / "models") + "/"))
    with pytest.raises(edgesplit.ValidationError) as e:
        edgesplit.load(bad)
    assert e.value.paths == ["tasks[0].rate", "tasks[1].source"]
    assert "phone" in e.value.problems[1].message
    assert e.value.problems[0].file == str(bad)
    # The same problems, worded the same, as `edgesplit validate`.
    out = cli("validate", bad, ok=False)
    for p in e.value.problems:
        assert str(p) in out
    assert isinstance(e.value, ValueError) and isinstance(e.value, edgesplit.EdgesplitError)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        edgesplit.load(tmp_path / "nothing.yaml")


# --- solving ---------------------------------------------------------------


def test_solve_gives_the_clis_optimum(inst, cli_json):
    rep = cli_json("solve", DEFAULT, "--solver", "highs", "--json")
    res = inst.solve(solver="highs")
    assert res.status == rep["status"] == "optimal"
    assert close(res.objective, rep["evaluated_objective"])
    assert close(res.bound, rep["best_bound"])
    assert res.warm_start == rep["warm_start"]
    assert res.feasible and res.plan is not None and res.plan["method"] == "milp:highs"
    assert res.evaluation["objective"] == res.objective
    assert res.report["model"] == rep["model"]
    assert res.build_time_s >= 0 and res.solve_time_s >= 0 and res.gap is not None
    # The plan is the one the evaluator scores as reported.
    assert close(inst.evaluate(res.plan)["objective"], res.objective)


@pytest.mark.parametrize("solver", [s for s in ("cbc", "scip", "microlp") if s in edgesplit.solvers()])
def test_every_backend_reaches_the_same_optimum(inst, solver):
    ref = inst.solve(solver="highs", warm_start="none")
    res = inst.solve(solver=solver, warm_start="none", time_limit=120)
    assert res.status == "optimal"
    assert abs(res.objective - ref.objective) <= 1e-6 * max(1.0, abs(ref.objective))


def test_solve_reports_progress_to_a_callback(inst):
    events = []
    res = inst.solve(progress=events.append, warm_start="none", gap=0.0)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert all(e["solver"] == "highs" for e in events)
    assert close(events[-1]["incumbent"], res.milp_objective, 1e-6)


def test_an_exception_in_the_callback_stops_the_solve_and_is_raised(inst):
    def boom(e):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        inst.solve(progress=boom)


def test_warm_starts(inst, tmp_path):
    h = inst.heuristic("cost-greedy-q")
    from_dict = inst.solve(warm_start=h.plan)
    assert from_dict.warm_start["used"] and close(from_dict.warm_start["objective"], h.objective)
    path = tmp_path / "start.yaml"
    edgesplit.save_plan(h.plan, path)
    from_file = inst.solve(warm_start=path)
    assert from_file.warm_start["used"] and from_file.warm_start["source"] == f"plan {path}"
    with pytest.raises(ValueError, match="warm_start"):
        inst.solve(warm_start="no-such-method")
    assert inst.solve(warm_start="none").warm_start["source"] == "none"
    assert inst.solve(warm_start="tide").warm_start["source"] == "tide"
    assert close(from_dict.objective, from_file.objective)


def test_bad_arguments_are_refused(inst):
    with pytest.raises(ValueError, match="unknown"):
        inst.solve(solver="gurobi")
    with pytest.raises(ValueError, match="time_limit"):
        inst.solve(time_limit=-1)
    with pytest.raises(ValueError, match="gap"):
        inst.solve(gap=float("nan"))
    with pytest.raises(ValueError, match="unknown method"):
        inst.heuristic("greedy")


# --- interrupting ----------------------------------------------------------


@pytest.fixture(scope="module")
def tide():
    return edgesplit.load(TIDE)


def test_ctrl_c_stops_the_solve_and_keeps_the_best_plan(tide):
    """SIGINT from a timer thread, as Ctrl-C in a notebook: the solve stops
    long before its time limit and returns its incumbent."""
    timer = threading.Timer(2.0, os.kill, (os.getpid(), signal.SIGINT))
    t0 = time.monotonic()
    timer.start()
    try:
        res = tide.solve(time_limit=300)
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 200
    assert res.status == "interrupted" and res.interrupted and res.keyboard_interrupt
    assert res.plan is not None and res.feasible
    assert res.objective is not None and res.objective <= res.warm_start["objective"] + 1e-9


def test_interrupt_from_another_thread(tide):
    timer = threading.Timer(2.0, edgesplit.interrupt)
    t0 = time.monotonic()
    timer.start()
    try:
        res = tide.solve(time_limit=300)
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 200
    assert res.status == "interrupted" and not res.keyboard_interrupt
    assert res.plan is not None and res.objective is not None


def test_solves_in_threads_release_the_gil(inst):
    """Two solves at once from two Python threads (each releases the GIL)."""
    out = {}

    def run(k):
        out[k] = inst.solve(warm_start="none")

    ts = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert close(out[0].objective, out[1].objective)


# --- heuristics, plans, evaluation ----------------------------------------


def test_heuristic_plan_and_numbers_equal_the_clis(inst, cli, tmp_path):
    path = tmp_path / "tide.yaml"
    ev_cli = json.loads(cli("heuristic", DEFAULT, "--method", "tide", "-o", path, "--json"))
    h = inst.heuristic("tide")
    assert h.feasible and h.method == "tide"
    assert h.evaluation == ev_cli
    # Plans round-trip with the CLI's plan files, byte for byte.
    assert edgesplit.plan_to_yaml(h.plan) == path.read_text()
    assert edgesplit.load_plan(path) == h.plan
    assert edgesplit.load_plan(path.read_text()) == h.plan
    js = tmp_path / "tide.json"
    edgesplit.save_plan(h.plan, js)
    assert edgesplit.load_plan(js) == h.plan
    assert json.loads(edgesplit.plan_to_json(h.plan)) == h.plan


def test_evaluate_equals_the_cli(inst, cli):
    plan = inst.reference_plan("centralized")
    path = ROOT / "target" / "pytest-centralized.yaml"
    edgesplit.save_plan(plan, path)
    try:
        ev_cli = json.loads(cli("evaluate", DEFAULT, path, "--json", ok=False))
        assert inst.evaluate(path) == ev_cli == inst.evaluate(plan)
    finally:
        path.unlink()


def test_a_plan_with_unknown_names_is_a_validation_error(inst):
    plan = inst.heuristic("tide").plan
    plan = json.loads(json.dumps(plan))
    plan["tasks"]["cats"]["conv9"] = "edge"
    plan["tasks"]["dogs"]["fc"] = "moon"
    with pytest.raises(edgesplit.ValidationError) as e:
        inst.evaluate(plan)
    assert e.value.paths == ["tasks.cats.conv9", "tasks.dogs.fc"]
    with pytest.raises(edgesplit.ValidationError):
        edgesplit.load_plan(plan, inst)


# --- compare, export, generate, noise -------------------------------------


def test_compare_equals_the_cli(cli, tmp_path):
    methods = ["tide", "cost-greedy-q", "centralized", "milp:highs"]
    out = tmp_path / "c.json"
    cli("compare", DEFAULT, "--methods", ",".join(methods), "--json", out)
    want = rows_by_method(json.loads(out.read_text()))
    df = edgesplit.compare(DEFAULT, methods)
    pd = pytest.importorskip("pandas")
    assert isinstance(df, pd.DataFrame)
    got = rows_by_method(df.to_dict("records"))
    assert set(got) == set(want)
    for m, w in want.items():
        g = got[m]
        assert g["status"] == w["status"] and g["feasible"] == w["feasible"]
        assert close(g["objective"], w["objective"], 1e-7), m
        if w["gap"] is not None:
            assert close(g["gap"], w["gap"], 1e-6), m
    rows = edgesplit.compare([edgesplit.load(DEFAULT)], ["tide"], as_frame=False, min_quality=[0.5, 0.6])
    assert isinstance(rows, list) and [r["q_min"] for r in rows] == [0.5, 0.6]


def test_export_writes_the_clis_file(inst, cli, tmp_path):
    a, b = tmp_path / "py.mps", tmp_path / "cli.mps"
    size = inst.export(a)
    cli("export", DEFAULT, "--output", b)
    assert a.read_text() == b.read_text()
    assert size["rows"] > 0 and size["columns"] > 0
    inst.export(tmp_path / "m.lp")
    with pytest.raises(ValueError, match=".lp or .mps"):
        inst.export(tmp_path / "m.txt")


def test_generate_equals_the_cli(cli):
    text = edgesplit.generate_yaml(family="chain", seed=3, layers=5)
    assert text == cli("generate", "--family", "chain", "--seed", "3", "--layers", "5")
    g = edgesplit.generate(family="tide", seed=2, tasks=4)
    assert g.sizes["tasks"] == 4
    assert g.heuristic("tide").plan is not None


def test_fit_noise_from_a_dataframe_equals_the_cli(cli, tmp_path):
    pd = pytest.importorskip("pandas")
    df = edgesplit.sample_noise(["conv1", "conv2", "fc"], seed=3, degree=2)
    assert isinstance(df, pd.DataFrame) and list(df.columns) == ["conv1", "conv2", "fc", "noise"]
    csv = tmp_path / "s.csv"
    csv.write_text(cli("sample-noise", "--synthetic", "--groups", "conv1,conv2,fc", "--seed", "3"))
    fit = edgesplit.fit_noise(df, degree=2)
    cli_yaml = cli("fit-noise", csv, "--degree", "2")
    assert cli_yaml.split("\n", 1)[1] == fit.yaml
    assert fit.groups == ["conv1", "conv2", "fc"]
    # Cross-validation, or why it is not possible (as the CLI says).
    assert (fit.cv is None) != (fit.cv_message is None)
    assert fit.predict([]) == 0.0
    assert abs(fit.predict({"conv1": 1, "conv2": 0, "fc": 0}) - df["noise"][1]) < 0.01
    same = edgesplit.fit_noise(csv, degree=2)
    assert same.terms == fit.terms
    with pytest.raises(edgesplit.EdgesplitError):
        edgesplit.fit_noise(df.head(2), degree=3)


def test_lists_of_names():
    assert "highs" in edgesplit.solvers()
    assert edgesplit.methods()[:2] == ["tide", "tide-q"]
