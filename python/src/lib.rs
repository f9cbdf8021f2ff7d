//! `edgesplit._native`: the Rust side of the `edgesplit` Python package.
//!
//! Every function here calls the same library functions as the command
//! line (src/main.rs), so a number computed from Python equals the one the
//! CLI prints. Structured results cross the boundary as JSON (serde on this
//! side, `json.loads` on the other); the Python layer (python/edgesplit/)
//! turns them into dataclasses, dicts and DataFrames.
//!
//! Long calls (solves, comparisons, heuristics) run on a worker thread with
//! the GIL released; the calling thread wakes every few milliseconds to let
//! Python handle its signals (`Python::check_signals`). A KeyboardInterrupt
//! (Ctrl-C) or a call to `interrupt()` sets the solve's stop flag: the
//! backend stops at its next chance and returns its best plan with the
//! status `interrupted`.

use edgesplit::eval::evaluate;
use edgesplit::generate::{generate_yaml, GenFamily, GenParams};
use edgesplit::heuristic::compare::{compare_instance, with_min_quality, CompareMethod, Row};
use edgesplit::heuristic::warm::{resolve, WarmStart};
use edgesplit::heuristic::Method;
use edgesplit::instance::{Instance, LoadOptions, Normalization};
use edgesplit::milp::ObjectiveSpec;
use edgesplit::plan::{Plan, PlanFile};
use edgesplit::solve::{
    solve_instance, BackendKind, Progress, ProgressEvent, ProgressSink, SolveOptions,
};
use edgesplit::Error;
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the waiting thread checks for signals and for the end of the
/// work, in milliseconds.
const POLL_MS: u64 = 25;

// ---------------------------------------------------------------------------
// Conversions

/// A serializable value as a Python object (through JSON).
fn to_py<T: Serialize + ?Sized>(py: Python<'_>, value: &T) -> PyResult<PyObject> {
    let text = serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// A Python object (dicts, lists, numbers, strings) as a Rust value.
fn from_py<T: serde::de::DeserializeOwned>(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<T> {
    let text: String = py
        .import("json")?
        .call_method1("dumps", (obj,))?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

/// The library's error as a Python exception: `ValidationError` (with
/// every problem and its field path) for an invalid input, `OSError` for a
/// file that cannot be read or written, `EdgesplitError` otherwise.
fn py_err(e: Error) -> PyErr {
    Python::with_gil(|py| match make_err(py, &e) {
        Ok(err) => err,
        Err(err) => err,
    })
}

fn make_err(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let errors = py.import("edgesplit.errors")?;
    match e {
        Error::Invalid { diagnostics } => {
            let problems = PyList::empty(py);
            for p in &diagnostics.problems {
                let d = PyDict::new(py);
                d.set_item("file", p.file.display().to_string())?;
                d.set_item("path", &p.path)?;
                d.set_item("message", &p.message)?;
                problems.append(d)?;
            }
            let exc = errors
                .getattr("ValidationError")?
                .call1((e.to_string(), problems))?;
            Ok(PyErr::from_value(exc))
        }
        Error::Io { path, source } => Ok(PyOSError::new_err((
            source.raw_os_error().unwrap_or(0),
            source.to_string(),
            path.display().to_string(),
        ))),
        Error::Other(m) => {
            let exc = errors.getattr("EdgesplitError")?.call1((m.clone(),))?;
            Ok(PyErr::from_value(exc))
        }
    }
}

/// A plain message as `EdgesplitError`.
fn other_err(msg: impl Into<String>) -> PyErr {
    py_err(Error::Other(msg.into()))
}

// ---------------------------------------------------------------------------
// Interruptible work

/// Stop flags of the calls running now, for `interrupt()`.
static RUNNING: Mutex<Vec<(u64, Progress)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Removes a handle from [`RUNNING`] when dropped.
struct Registered(u64);

impl Registered {
    fn new(p: &Progress) -> Registered {
        let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
        RUNNING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, p.clone()));
        Registered(id)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        RUNNING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(id, _)| *id != self.0);
    }
}

/// Sends progress events to a Python callable; the first exception it
/// raises stops the solve and is raised again when the solve returns.
struct PySink {
    callback: PyObject,
    error: Mutex<Option<PyErr>>,
    progress: Mutex<Option<Progress>>,
}

impl ProgressSink for PySink {
    fn event(&self, e: &ProgressEvent) {
        if self
            .error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
        {
            return;
        }
        let res = Python::with_gil(|py| -> PyResult<()> {
            let ev = to_py(py, e)?;
            self.callback.call1(py, (ev,))?;
            Ok(())
        });
        if let Err(err) = res {
            *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(err);
            if let Some(p) = &*self.progress.lock().unwrap_or_else(|e| e.into_inner()) {
                p.interrupt();
            }
        }
    }
}

/// A fresh stop flag (registered for `interrupt()`), sending events to
/// `callback` when given.
fn progress_for(callback: Option<PyObject>) -> (Progress, Option<Arc<PySink>>) {
    let base = Progress::default();
    match callback {
        Some(cb) => {
            let sink = Arc::new(PySink {
                callback: cb,
                error: Mutex::new(None),
                progress: Mutex::new(None),
            });
            let p = base.with_sink(sink.clone());
            *sink.progress.lock().unwrap_or_else(|e| e.into_inner()) = Some(p.clone());
            (p, Some(sink))
        }
        None => (base, None),
    }
}

/// Runs `work` on a worker thread with the GIL released (the caller
/// registers `progress` for `interrupt()`, once for all its steps). Meanwhile the
/// calling thread checks Python's signals: a KeyboardInterrupt (or any
/// exception a signal handler raises) sets the stop flag of `progress`,
/// and the work is waited for (a solve returns its best result). Returns
/// the work's value and the exception the signal raised, if any.
fn interruptible<T: Send>(
    py: Python<'_>,
    progress: &Progress,
    work: impl FnOnce() -> T + Send,
) -> PyResult<(T, Option<PyErr>)> {
    let out = py.allow_threads(|| {
        std::thread::scope(|s| {
            let handle = std::thread::Builder::new()
                .name("edgesplit".into())
                .spawn_scoped(s, work)
                .expect("a worker thread");
            let mut signal: Option<PyErr> = None;
            while !handle.is_finished() {
                std::thread::sleep(Duration::from_millis(POLL_MS));
                if signal.is_none() {
                    if let Err(e) = Python::with_gil(|py| py.check_signals()) {
                        signal = Some(e);
                        progress.interrupt();
                    }
                }
            }
            (handle.join(), signal)
        })
    });
    match out {
        (Ok(v), signal) => Ok((v, signal)),
        (Err(_), _) => Err(PyRuntimeError::new_err(
            "the solve panicked (a bug in edgesplit: please report it)",
        )),
    }
}

/// The first exception the progress callback raised, if any.
fn callback_error(sink: &Option<Arc<PySink>>) -> Option<PyErr> {
    sink.as_ref()
        .and_then(|s| s.error.lock().unwrap_or_else(|e| e.into_inner()).take())
}

/// Asks every solve running in this process to stop; each returns its best
/// plan with the status `interrupted`.
#[pyfunction]
fn interrupt() -> usize {
    let running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    for (_, p) in running.iter() {
        p.interrupt();
    }
    running.len()
}

// ---------------------------------------------------------------------------
// Loading

/// A loaded, validated instance.
#[pyclass(module = "edgesplit._native", name = "Instance", frozen)]
struct PyInstance {
    inst: Arc<Instance>,
}

fn wrap(inst: Instance) -> PyInstance {
    PyInstance {
        inst: Arc::new(inst),
    }
}

/// Loads and validates the instance file at `path`.
#[pyfunction]
fn load_path(py: Python<'_>, path: PathBuf) -> PyResult<PyInstance> {
    let inst = py
        .allow_threads(|| edgesplit::instance::load_with(&path, &LoadOptions::default()))
        .map_err(py_err)?;
    Ok(wrap(inst))
}

/// Loads and validates an instance from YAML text; `name` is the file name
/// used in messages and to resolve relative references (`dnn: {file}`),
/// the working directory when not given.
#[pyfunction]
#[pyo3(signature = (text, name=None))]
fn load_text(py: Python<'_>, text: &str, name: Option<PathBuf>) -> PyResult<PyInstance> {
    let inst = py
        .allow_threads(|| {
            edgesplit::instance::load_str_with(text, name.as_deref(), &LoadOptions::default())
        })
        .map_err(py_err)?;
    Ok(wrap(inst))
}

/// The plan file form of `plan` (a dict: instance, method, quantized,
/// tasks).
fn plan_file(py: Python<'_>, plan: &Bound<'_, PyAny>) -> PyResult<PlanFile> {
    from_py(py, plan, "a plan (instance, method, quantized, tasks)")
}

/// Parses a plan from YAML or JSON text (YAML is a superset of JSON).
#[pyfunction]
#[pyo3(signature = (text, name=None))]
fn parse_plan(py: Python<'_>, text: &str, name: Option<PathBuf>) -> PyResult<PyObject> {
    let file = name.unwrap_or_else(|| PathBuf::from("<plan>"));
    let f: PlanFile = serde_yaml::from_str(text).map_err(|e| {
        py_err(Error::invalid(
            &file,
            e.location()
                .map(|l| format!("line {}", l.line()))
                .unwrap_or_default(),
            format!("{e}: expected a plan mapping with `tasks`"),
        ))
    })?;
    to_py(py, &f)
}

/// A plan dict as YAML text, exactly as `edgesplit ... -o plan.yaml`
/// writes it.
#[pyfunction]
fn plan_to_yaml(py: Python<'_>, plan: &Bound<'_, PyAny>) -> PyResult<String> {
    let f = plan_file(py, plan)?;
    serde_yaml::to_string(&f).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A plan dict as JSON text, exactly as `-o plan.json` writes it.
#[pyfunction]
fn plan_to_json(py: Python<'_>, plan: &Bound<'_, PyAny>) -> PyResult<String> {
    let f = plan_file(py, plan)?;
    serde_json::to_string_pretty(&f).map_err(|e| PyValueError::new_err(e.to_string()))
}

// ---------------------------------------------------------------------------
// Instances

impl PyInstance {
    /// A plan dict resolved against this instance (every unknown name is a
    /// problem of the ValidationError).
    fn plan(&self, py: Python<'_>, plan: &Bound<'_, PyAny>) -> PyResult<Plan> {
        let f = plan_file(py, plan)?;
        Plan::from_file(&f, &self.inst, Path::new("<plan>")).map_err(py_err)
    }

    fn plan_dict(&self, py: Python<'_>, plan: &Plan, method: Option<&str>) -> PyResult<PyObject> {
        to_py(py, &plan.to_file(&self.inst, method))
    }
}

#[derive(Serialize)]
struct AtomView<'a> {
    id: &'a str,
    layer: &'a str,
    flops: f64,
    param_bytes: f64,
    out_bytes: f64,
    level: usize,
    group: Option<&'a str>,
    mandatory: bool,
}

#[derive(Serialize)]
struct NodeView<'a> {
    name: &'a str,
    speed: f64,
    memory: f64,
    power: f64,
    price: f64,
    quant_speedup: f64,
    max_utilization: Option<f64>,
    max_power: Option<f64>,
}

#[derive(Serialize)]
struct TaskView<'a> {
    name: &'a str,
    rate: f64,
    source: &'a str,
    sink: &'a str,
    max_delay: Option<f64>,
    min_quality: f64,
    noise_sensitivity: f64,
    curve: &'a [(f64, f64)],
    relevance: indexmap::IndexMap<&'a str, f64>,
}

#[pymethods]
impl PyInstance {
    /// Short name.
    #[getter]
    fn name(&self) -> &str {
        &self.inst.name
    }

    /// Free text.
    #[getter]
    fn description(&self) -> &str {
        &self.inst.description
    }

    /// The file it was loaded from (None for text).
    #[getter]
    fn path(&self) -> Option<String> {
        self.inst.path.as_ref().map(|p| p.display().to_string())
    }

    /// Numbers of atoms, edges, layers, tasks, nodes, links and
    /// quantization groups.
    #[getter]
    fn sizes(&self, py: Python<'_>) -> PyResult<PyObject> {
        let i = &self.inst;
        let d = PyDict::new(py);
        d.set_item("atoms", i.dnn.len())?;
        d.set_item("edges", i.dnn.edge_count())?;
        d.set_item("layers", i.dnn.layers.len())?;
        d.set_item("tasks", i.tasks.len())?;
        d.set_item("nodes", i.network.len())?;
        d.set_item("links", i.network.links.len())?;
        d.set_item("groups", i.group_count())?;
        Ok(d.into_any().unbind())
    }

    /// One dict per atom.
    #[getter]
    fn atoms(&self, py: Python<'_>) -> PyResult<PyObject> {
        let i = &self.inst;
        let v: Vec<AtomView> = i
            .dnn
            .atoms
            .iter()
            .map(|a| AtomView {
                id: &a.id,
                layer: &a.layer,
                flops: a.flops,
                param_bytes: a.param_bytes,
                out_bytes: a.out_bytes,
                level: a.level,
                group: a.group.map(|g| i.quantization.groups[g].as_str()),
                mandatory: a.mandatory,
            })
            .collect();
        to_py(py, &v)
    }

    /// One dict per node.
    #[getter]
    fn nodes(&self, py: Python<'_>) -> PyResult<PyObject> {
        let v: Vec<NodeView> = self
            .inst
            .network
            .nodes
            .iter()
            .map(|n| NodeView {
                name: &n.name,
                speed: n.speed,
                memory: n.memory,
                power: n.power,
                price: n.price,
                quant_speedup: n.quant_speedup,
                max_utilization: n.max_utilization,
                max_power: n.max_power,
            })
            .collect();
        to_py(py, &v)
    }

    /// One dict per task (max_delay None when unlimited; relevance by atom
    /// id).
    #[getter]
    fn tasks(&self, py: Python<'_>) -> PyResult<PyObject> {
        let i = &self.inst;
        let node = |n: usize| i.network.nodes[n].name.as_str();
        let v: Vec<TaskView> = i
            .tasks
            .iter()
            .map(|t| TaskView {
                name: &t.name,
                rate: t.rate,
                source: node(t.source),
                sink: node(t.sink),
                max_delay: t.max_delay.is_finite().then_some(t.max_delay),
                min_quality: t.min_quality,
                noise_sensitivity: t.noise_sensitivity,
                curve: &t.curve.points,
                relevance: i
                    .dnn
                    .atoms
                    .iter()
                    .zip(&t.relevance)
                    .map(|(a, &r)| (a.id.as_str(), r))
                    .collect(),
            })
            .collect();
        to_py(py, &v)
    }

    /// Quantization group names.
    #[getter]
    fn groups(&self) -> Vec<String> {
        self.inst.quantization.groups.clone()
    }

    /// What `edgesplit info --json` prints.
    fn info(&self, py: Python<'_>) -> PyResult<PyObject> {
        to_py(py, &edgesplit::info::InstanceInfo::of(&self.inst))
    }

    /// The same instance with every task's q_min set to `q`.
    fn with_min_quality(&self, q: f64) -> PyResult<PyInstance> {
        if !q.is_finite() {
            return Err(PyValueError::new_err("q_min: expected a finite number"));
        }
        Ok(wrap(with_min_quality(&self.inst, q)))
    }

    /// The same instance under another name (the name of its rows in
    /// `compare`).
    fn with_name(&self, name: &str) -> PyInstance {
        let mut i = (*self.inst).clone();
        i.name = name.to_string();
        wrap(i)
    }

    /// The same instance with the strengthenings of `list` (`all`, `none`,
    /// or a comma-separated list of memory_fit, cut_sets, flow).
    fn with_strengthen(&self, list: &str) -> PyResult<PyInstance> {
        let mut i = (*self.inst).clone();
        i.families
            .apply_strengthen_list(list)
            .map_err(|e| PyValueError::new_err(format!("strengthen {e}")))?;
        Ok(wrap(i))
    }

    /// A plan dict checked against the instance, in the writer's form
    /// (whole layers by name); ValidationError on unknown names.
    #[pyo3(signature = (plan, method=None))]
    fn check_plan(
        &self,
        py: Python<'_>,
        plan: &Bound<'_, PyAny>,
        method: Option<&str>,
    ) -> PyResult<PyObject> {
        let p = self.plan(py, plan)?;
        let method = match method {
            Some(m) => Some(m.to_string()),
            None => plan_file(py, plan)?.method,
        };
        self.plan_dict(py, &p, method.as_deref())
    }

    /// The evaluator's view of a plan (what `edgesplit evaluate --json`
    /// prints).
    fn evaluate(&self, py: Python<'_>, plan: &Bound<'_, PyAny>) -> PyResult<PyObject> {
        let p = self.plan(py, plan)?;
        let ev = evaluate(&self.inst, &p, None);
        to_py(py, &ev)
    }

    /// A reference plan that needs no solver (`centralized`,
    /// `all-on-source`), as `edgesplit plan` writes it.
    fn reference_plan(&self, py: Python<'_>, method: &str) -> PyResult<PyObject> {
        use edgesplit::reference::ReferenceMethod;
        let m = [ReferenceMethod::Centralized, ReferenceMethod::AllOnSource]
            .into_iter()
            .find(|m| m.name() == method)
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "unknown reference method '{method}': expected centralized or all-on-source"
                ))
            })?;
        let p = edgesplit::reference::reference_plan(&self.inst, m);
        self.plan_dict(py, &p, Some(m.name()))
    }

    /// Runs a heuristic (what `edgesplit heuristic` does): method, plan,
    /// evaluation, feasible, message, wall_time_s.
    fn heuristic(&self, py: Python<'_>, method: &str) -> PyResult<PyObject> {
        let m: Method = method.parse().map_err(PyValueError::new_err)?;
        let inst = self.inst.clone();
        // A heuristic cannot stop early: a Ctrl-C is raised once it ends.
        let (out, signal) = interruptible(py, &Progress::default(), move || {
            edgesplit::heuristic::run(&inst, m, None)
        })?;
        if let Some(e) = signal {
            return Err(e);
        }
        let d = PyDict::new(py);
        d.set_item("method", m.name())?;
        d.set_item("feasible", out.feasible())?;
        match &out.plan {
            Some(p) => d.set_item("plan", self.plan_dict(py, p, Some(m.name()))?)?,
            None => d.set_item("plan", py.None())?,
        }
        d.set_item("evaluation", to_py(py, &out.evaluation)?)?;
        d.set_item("message", &out.message)?;
        d.set_item("wall_time_s", out.wall_time_s)?;
        Ok(d.into_any().unbind())
    }

    /// Solves the MILP (what `edgesplit solve --json` reports, plus the
    /// plan): see the Python `Instance.solve`.
    #[pyo3(signature = (solver="highs", time_limit=None, gap=None, threads=None, seed=None, verbose=false, warm_start=None, warm_start_plan=None, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn solve(
        &self,
        py: Python<'_>,
        solver: &str,
        time_limit: Option<f64>,
        gap: Option<f64>,
        threads: Option<u32>,
        seed: Option<u64>,
        verbose: bool,
        warm_start: Option<&str>,
        warm_start_plan: Option<&Bound<'_, PyAny>>,
        progress: Option<PyObject>,
    ) -> PyResult<PyObject> {
        let kind = usable_kind(solver)?;
        let time_limit = check_time_limit(time_limit)?;
        let gap = check_gap(gap)?;
        if let Some(t) = threads {
            if !(1..=256).contains(&t) {
                return Err(PyValueError::new_err(format!(
                    "threads {t}: expected a whole number from 1 to 256 (None for the backend's default)"
                )));
            }
        }
        let inst = self.inst.clone();
        // One stop flag for the warm start and the solve: a Ctrl-C while
        // the warm start's heuristic runs stops the solve at once.
        let (handle, sink) = progress_for(progress);
        let _reg = Registered::new(&handle);
        let mut signal = None;
        let (initial, start) = match warm_start_plan {
            Some(p) => {
                let plan = self.plan(py, p)?;
                let ev = evaluate(&inst, &plan, None);
                let info = edgesplit::heuristic::warm::StartInfo {
                    source: "plan".into(),
                    used: true,
                    objective: ev.objective,
                    message: (!ev.feasible()).then(|| {
                        format!("infeasible per the evaluator: {}", ev.violations[0].message)
                    }),
                };
                (Some(plan), info)
            }
            None => {
                let ws = parse_warm_start(warm_start)?;
                let inst = inst.clone();
                let (r, sig) = interruptible(py, &handle, move || resolve(&inst, &ws))?;
                signal = sig;
                r.map_err(py_err)?
            }
        };
        let opts = SolveOptions {
            time_limit,
            rel_gap: gap,
            threads,
            verbose,
            seed,
            initial,
            progress: handle.clone(),
        };
        let ignored = kind.ignored_options(&opts);
        let (rep, sig) = interruptible(py, &handle, move || solve_instance(&inst, kind, &opts))?;
        // A KeyboardInterrupt stopped the solve, which returns its best
        // plan; any other exception from a signal handler is raised.
        let signalled = match signal.or(sig) {
            Some(e) if e.is_instance_of::<PyKeyboardInterrupt>(py) => true,
            Some(e) => return Err(e),
            None => false,
        };
        if let Some(e) = callback_error(&sink) {
            return Err(e);
        }
        let report = to_py(py, &rep)?;
        let d = PyDict::new(py);
        d.set_item("report", report)?;
        d.set_item("warm_start", to_py(py, &start)?)?;
        d.set_item("warm_start_label", start.label())?;
        d.set_item("ignored_options", ignored)?;
        d.set_item("keyboard_interrupt", signalled)?;
        let method = format!("milp:{}", kind.name());
        match &rep.plan {
            Some(p) => d.set_item("plan", self.plan_dict(py, p, Some(&method))?)?,
            None => d.set_item("plan", py.None())?,
        }
        Ok(d.into_any().unbind())
    }

    /// Writes the MILP as an LP or MPS file (by extension), as `edgesplit
    /// export` does; returns its size.
    fn export(&self, py: Python<'_>, path: PathBuf) -> PyResult<PyObject> {
        if self.inst.objective.normalization == Normalization::Payoff {
            return Err(other_err("payoff normalization needs single-objective solves first: export with `normalization: none` or fixed scales"));
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_string);
        let inst = self.inst.clone();
        let (text, size) = py.allow_threads(|| -> PyResult<(String, _)> {
            let built = edgesplit::milp::build(&inst, ObjectiveSpec::Instance, None);
            let text = match ext.as_deref() {
                Some("lp") => built.model.to_lp(),
                Some("mps") => built.model.to_mps(),
                _ => {
                    return Err(PyValueError::new_err(format!(
                        "{}: expected a .lp or .mps file name",
                        path.display()
                    )))
                }
            };
            Ok((text, built.model.size()))
        })?;
        std::fs::write(&path, text).map_err(|source| py_err(Error::Io { path, source }))?;
        to_py(py, &size)
    }

    fn __repr__(&self) -> String {
        let i = &self.inst;
        format!(
            "<edgesplit.Instance '{}': {} atoms, {} tasks, {} nodes, {} quantization groups>",
            i.name,
            i.dnn.len(),
            i.tasks.len(),
            i.network.len(),
            i.group_count()
        )
    }
}

fn usable_kind(solver: &str) -> PyResult<BackendKind> {
    let kind: BackendKind = solver.parse().map_err(PyValueError::new_err)?;
    if !kind.available() {
        return Err(other_err(kind.backend().err().unwrap_or_default()));
    }
    Ok(kind)
}

fn check_time_limit(t: Option<f64>) -> PyResult<Option<f64>> {
    t.map(|t| {
        edgesplit::solve::isolate::check_time_limit(t)
            .map_err(|e| PyValueError::new_err(format!("time_limit {e}")))
    })
    .transpose()
}

fn check_gap(g: Option<f64>) -> PyResult<Option<f64>> {
    match g {
        Some(g) if !(g.is_finite() && g >= 0.0) => Err(PyValueError::new_err(format!(
            "gap {g}: expected a finite number ≥ 0"
        ))),
        g => Ok(g),
    }
}

/// `None` (the CLI's default, cost-greedy-q), `none`, a method name or a
/// plan file.
fn parse_warm_start(s: Option<&str>) -> PyResult<WarmStart> {
    match s {
        None => Ok(WarmStart::default()),
        Some(s) => s
            .parse::<WarmStart>()
            .map_err(|e| PyValueError::new_err(e.replacen("--warm-start", "warm_start", 1))),
    }
}

/// The names of the MILP backends built in.
#[pyfunction]
fn solvers() -> Vec<&'static str> {
    ["highs", "cbc", "scip", "microlp"]
        .into_iter()
        .filter(|s| s.parse::<BackendKind>().is_ok_and(|k| k.available()))
        .collect()
}

/// The heuristic method names.
#[pyfunction]
fn methods() -> Vec<&'static str> {
    Method::ALL.iter().map(|m| m.name()).collect()
}

/// `edgesplit compare`: every method on every instance (and q_min level);
/// rows as dicts. `names`: the row name of each instance.
#[pyfunction]
#[pyo3(signature = (instances, methods, time_limit=None, threads=None, min_quality=None, warm_start=None))]
fn compare(
    py: Python<'_>,
    instances: Vec<PyRef<'_, PyInstance>>,
    methods: Vec<String>,
    time_limit: Option<f64>,
    threads: Option<u32>,
    min_quality: Option<Vec<f64>>,
    warm_start: Option<&str>,
) -> PyResult<PyObject> {
    let methods: Vec<CompareMethod> = methods
        .iter()
        .map(|m| m.parse::<CompareMethod>().map_err(PyValueError::new_err))
        .collect::<PyResult<_>>()?;
    for m in &methods {
        if let CompareMethod::Milp(k) = m {
            if !k.available() {
                return Err(other_err(k.backend().err().unwrap_or_default()));
            }
        }
    }
    let time_limit = check_time_limit(time_limit)?;
    let ws = parse_warm_start(warm_start)?;
    let insts: Vec<Arc<Instance>> = instances.iter().map(|i| i.inst.clone()).collect();
    let levels: Vec<Option<f64>> = match min_quality {
        Some(v) if !v.is_empty() => v.into_iter().map(Some).collect(),
        _ => vec![None],
    };
    let (handle, _) = progress_for(None);
    let _reg = Registered::new(&handle);
    let base = SolveOptions {
        time_limit,
        threads,
        progress: handle.clone(),
        ..SolveOptions::default()
    };
    let stop = handle.clone();
    let (rows, _) = interruptible(py, &handle, move || {
        let mut rows: Vec<Row> = Vec::new();
        'all: for inst in &insts {
            for &q in &levels {
                if stop.interrupted() {
                    break 'all;
                }
                let variant = match q {
                    Some(q) => with_min_quality(inst, q),
                    None => (**inst).clone(),
                };
                rows.extend(compare_instance(
                    &variant,
                    q,
                    &methods,
                    &base,
                    &ws,
                    |_, _| {},
                ));
            }
        }
        rows
    })?;
    to_py(py, &rows)
}

/// `edgesplit generate`: a synthetic instance as YAML text.
#[pyfunction]
#[pyo3(signature = (family="tide", seed=1, layers=3, atoms_per_layer=4, widths=None, dense_layers=1, tasks=3, nodes=3, groups=2, zipf=1.0, delay_model="sequential"))]
#[allow(clippy::too_many_arguments)]
fn generate(
    family: &str,
    seed: u64,
    layers: usize,
    atoms_per_layer: usize,
    widths: Option<Vec<usize>>,
    dense_layers: usize,
    tasks: usize,
    nodes: usize,
    groups: usize,
    zipf: f64,
    delay_model: &str,
) -> PyResult<String> {
    let family = match family {
        "tide" => GenFamily::Tide,
        "chain" => GenFamily::Chain,
        "dag" => GenFamily::Dag,
        f => {
            return Err(PyValueError::new_err(format!(
                "family '{f}': expected tide, chain or dag"
            )))
        }
    };
    if !matches!(delay_model, "sequential" | "layered") {
        return Err(PyValueError::new_err(format!(
            "delay_model '{delay_model}': expected sequential or layered"
        )));
    }
    Ok(generate_yaml(&GenParams {
        family,
        seed,
        layers,
        atoms_per_layer,
        widths,
        dense_layers,
        tasks,
        nodes,
        groups,
        zipf,
        delay_model: delay_model.into(),
    }))
}

#[derive(Serialize)]
struct Term<'a> {
    groups: Vec<&'a str>,
    coefficient: f64,
}

/// `edgesplit fit-noise`: fits the noise regressor to samples given as CSV
/// text (one 0/1 column per group and a `noise` column).
#[pyfunction]
#[pyo3(signature = (csv, degree, ridge=0.0, folds=5, name=None))]
fn fit_noise(
    py: Python<'_>,
    csv: &str,
    degree: usize,
    ridge: f64,
    folds: usize,
    name: Option<PathBuf>,
) -> PyResult<PyObject> {
    if !(ridge.is_finite() && ridge >= 0.0) {
        return Err(PyValueError::new_err(format!(
            "ridge {ridge}: expected a finite number ≥ 0"
        )));
    }
    let file = name.unwrap_or_else(|| PathBuf::from("<samples>"));
    let limits = edgesplit::instance::Limits::default();
    let s = edgesplit::noise::parse_samples(csv, &file).map_err(py_err)?;
    let fit = edgesplit::noise::fit_with(&s, degree, ridge, &limits)
        .map_err(|e| other_err(format!("{}: {e}", file.display())))?;
    let d = PyDict::new(py);
    d.set_item("groups", &fit.groups)?;
    d.set_item("samples", s.q.len())?;
    d.set_item("degree", degree)?;
    d.set_item("ridge", ridge)?;
    d.set_item("intercept", fit.intercept)?;
    let terms: Vec<Term> = fit
        .terms
        .iter()
        .map(|(m, c)| Term {
            groups: m.iter().map(|&g| fit.groups[g].as_str()).collect(),
            coefficient: *c,
        })
        .collect();
    d.set_item("terms", to_py(py, &terms)?)?;
    d.set_item("yaml", fit.to_yaml())?;
    match edgesplit::noise::cross_validate_with(&s, degree, ridge, folds, &limits) {
        Ok(cv) => {
            let c = PyDict::new(py);
            c.set_item("folds", folds)?;
            c.set_item("r2", cv.r2)?;
            c.set_item("rmse", cv.rmse)?;
            c.set_item("mae", cv.mae)?;
            d.set_item("cv", c)?;
            d.set_item("cv_message", py.None())?;
        }
        Err(e) => {
            d.set_item("cv", py.None())?;
            d.set_item("cv_message", e.to_string())?;
        }
    }
    Ok(d.into_any().unbind())
}

/// Made-up demo noise samples as CSV text (`edgesplit sample-noise
/// --synthetic`).
#[pyfunction]
#[pyo3(signature = (groups, seed=1, degree=2, samples=None, jitter=0.05))]
fn sample_noise(
    groups: Vec<String>,
    seed: u64,
    degree: usize,
    samples: Option<usize>,
    jitter: f64,
) -> PyResult<String> {
    edgesplit::noise::synthetic_samples(
        &groups,
        seed,
        degree,
        samples,
        jitter,
        &edgesplit::instance::Limits::default(),
    )
    .map_err(|e| other_err(format!("groups, degree, samples: {e}")))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyInstance>()?;
    m.add_function(wrap_pyfunction!(load_path, m)?)?;
    m.add_function(wrap_pyfunction!(load_text, m)?)?;
    m.add_function(wrap_pyfunction!(parse_plan, m)?)?;
    m.add_function(wrap_pyfunction!(plan_to_yaml, m)?)?;
    m.add_function(wrap_pyfunction!(plan_to_json, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    m.add_function(wrap_pyfunction!(fit_noise, m)?)?;
    m.add_function(wrap_pyfunction!(sample_noise, m)?)?;
    m.add_function(wrap_pyfunction!(solvers, m)?)?;
    m.add_function(wrap_pyfunction!(methods, m)?)?;
    m.add_function(wrap_pyfunction!(interrupt, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
