//! What a server job does inside its worker process (`edgesplit worker
//! INSTANCE --method M --out FILE`): solve with a MILP backend, run a
//! heuristic, or compare methods, and write a [`WorkerResult`] as JSON.
//!
//! This runs in the child process only: a native solver that aborts or
//! hangs there cannot take the server down.

use super::bundle::{Bundle, Loaded};
use crate::heuristic::compare::{compare_instance, CompareMethod};
use crate::heuristic::Method;
use crate::pipeline;
use crate::solve::{solve_instance, BackendKind, SolveOptions};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a job asks the worker to run.
#[derive(Debug, Clone, PartialEq)]
pub enum JobMethod {
    /// An exact solve with a MILP backend.
    Milp(BackendKind),
    /// A heuristic or benchmark.
    Heuristic(Method),
    /// `compare` with these methods.
    Compare(Vec<CompareMethod>),
}

impl JobMethod {
    /// Parses a solve method: a backend name or a heuristic name.
    pub fn parse_solve(s: &str) -> std::result::Result<JobMethod, String> {
        if let Ok(k) = s.parse::<BackendKind>() {
            return Ok(JobMethod::Milp(k));
        }
        if let Ok(m) = s.parse::<Method>() {
            return Ok(JobMethod::Heuristic(m));
        }
        Err(format!(
            "unknown method '{s}': expected a backend ({}) or a heuristic ({})",
            BackendKind::ALL.map(|k| k.name()).join(", "),
            Method::ALL.map(|m| m.name()).join(", ")
        ))
    }

    /// Parses the worker's `--method` argument: a solve method, or
    /// `compare:M1,M2,...` (methods as `edgesplit compare` takes them).
    pub fn parse(s: &str) -> std::result::Result<JobMethod, String> {
        match s.strip_prefix("compare:") {
            Some(list) => list
                .split(',')
                .map(|m| m.parse::<CompareMethod>())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(JobMethod::Compare),
            None => JobMethod::parse_solve(s),
        }
    }

    /// The MILP solves the job may run in sequence (each up to the time
    /// limit), for the hard deadline; heuristics count as one.
    pub fn solves(&self) -> f64 {
        match self {
            // A payoff normalization adds up to six solves (a
            // lexicographic row of two per objective).
            JobMethod::Milp(_) => 7.0,
            JobMethod::Heuristic(_) => 1.0,
            JobMethod::Compare(ms) => {
                let milps = ms
                    .iter()
                    .filter(|m| matches!(m, CompareMethod::Milp(_)))
                    .count();
                // Quantization on and off, each with a payoff table.
                (14 * milps).max(1) as f64
            }
        }
    }
}

/// What the worker writes back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerResult {
    /// The solver status (`optimal`, `feasible`, `infeasible`, ...), or for
    /// heuristics `feasible` / `infeasible`, for a comparison `done`.
    pub status: String,
    /// The full report: a solve report, a heuristic outcome or the rows of
    /// a comparison.
    pub report: serde_json::Value,
    /// The plan in file form, if there is one.
    pub plan: Option<serde_json::Value>,
    /// Seconds spent solving (model building and payoff table included).
    pub solve_time_s: f64,
    /// Objective of the plan per the evaluator (or the MILP's).
    pub incumbent: Option<f64>,
    /// Best proven bound, when the backend gives one.
    pub bound: Option<f64>,
}

fn json<T: Serialize>(x: &T) -> Result<serde_json::Value> {
    serde_json::to_value(x).map_err(|e| Error::Other(e.to_string()))
}

/// The solve report with the warm start it used (`warm_start`).
fn with_start(
    mut report: serde_json::Value,
    start: Option<crate::heuristic::warm::StartInfo>,
) -> Result<serde_json::Value> {
    if let (Some(s), Some(obj)) = (start, report.as_object_mut()) {
        obj.insert("warm_start".into(), json(&s)?);
    }
    Ok(report)
}

/// Runs `method` on the instance file at `path` (read from disk).
pub fn run_job(path: &Path, method: &JobMethod, opts: &SolveOptions) -> Result<WorkerResult> {
    run_loaded(&Loaded::from_path(path)?, method, opts)
}

fn run_pipeline(
    inst: &pipeline::PipelineInstance,
    method: &JobMethod,
    opts: &SolveOptions,
) -> Result<WorkerResult> {
    let JobMethod::Milp(kind) = method else {
        return Err(Error::Other(
            "a `kind: pipeline` instance is solved with a MILP backend only".into(),
        ));
    };
    let rep = pipeline::milp::solve(inst, *kind, opts);
    let plan = match rep.choice() {
        Some(c) => Some(json(&pipeline::PipelinePlanFile::of(
            inst,
            c,
            Some(&format!("milp:{}", kind.name())),
        ))?),
        None => None,
    };
    Ok(WorkerResult {
        status: rep.status.to_string(),
        solve_time_s: rep.build_time_s + rep.solve_time_s,
        incumbent: rep.evaluated_objective.or(rep.milp_objective),
        bound: None,
        plan,
        report: json(&rep)?,
    })
}

/// Runs `method` on a loaded instance.
pub fn run_loaded(
    loaded: &Loaded,
    method: &JobMethod,
    opts: &SolveOptions,
) -> Result<WorkerResult> {
    let inst = match loaded {
        Loaded::Pipeline(inst) => return run_pipeline(inst, method, opts),
        Loaded::Joint(inst) => inst,
    };
    match method {
        JobMethod::Milp(kind) => {
            // The default warm start (cost-greedy-q's plan), named in the report.
            let ws = crate::heuristic::warm::WarmStart::default();
            let (initial, start) = match &opts.initial {
                Some(_) => (opts.initial.clone(), None),
                None => {
                    let (p, info) = crate::heuristic::warm::resolve(inst, &ws)?;
                    (p, Some(info))
                }
            };
            let opts = SolveOptions {
                initial,
                ..opts.clone()
            };
            let rep = solve_instance(inst, *kind, &opts);
            let plan = match &rep.plan {
                Some(p) => Some(json(
                    &p.to_file(inst, Some(&format!("milp:{}", kind.name()))),
                )?),
                None => None,
            };
            Ok(WorkerResult {
                status: rep.status.to_string(),
                solve_time_s: rep.build_time_s + rep.payoff_time_s + rep.solve_time_s,
                incumbent: rep.evaluated_objective.or(rep.milp_objective),
                bound: rep.best_bound,
                plan,
                report: with_start(json(&rep)?, start)?,
            })
        }
        JobMethod::Heuristic(m) => {
            let out = crate::heuristic::run(inst, *m, None);
            let plan = match &out.plan {
                Some(p) => Some(json(&p.to_file(inst, Some(m.name())))?),
                None => None,
            };
            let feasible = out.feasible();
            let report = serde_json::json!({
                "instance": inst.name,
                "method": m.name(),
                "feasible": feasible,
                "message": out.message,
                "wall_time_s": out.wall_time_s,
                "evaluation": out.evaluation,
            });
            Ok(WorkerResult {
                status: if feasible { "feasible" } else { "infeasible" }.into(),
                solve_time_s: out.wall_time_s,
                incumbent: out.evaluation.as_ref().and_then(|e| e.objective),
                bound: None,
                plan,
                report,
            })
        }
        JobMethod::Compare(methods) => {
            let t0 = std::time::Instant::now();
            let start = crate::heuristic::warm::WarmStart::default();
            let rows = compare_instance(inst, None, methods, opts, &start, |_, _| {});
            Ok(WorkerResult {
                status: "done".into(),
                solve_time_s: t0.elapsed().as_secs_f64(),
                incumbent: None,
                bound: None,
                plan: None,
                report: serde_json::json!({ "instance": inst.name, "rows": rows }),
            })
        }
    }
}

/// A job handed to a standby worker (`edgesplit worker - --out -`) on its
/// standard input: the worker process is started ahead of time, so a job
/// does not wait for the process to start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StandbyJob {
    /// The instance with its files (loaded with those files only).
    pub bundle: Bundle,
    /// As [`JobMethod::parse`] takes it.
    pub method: String,
    /// Where to write the [`WorkerResult`].
    pub out: std::path::PathBuf,
    /// Time limit per backend solve, seconds.
    pub time_limit: Option<f64>,
    /// Relative gap.
    pub gap: Option<f64>,
    /// Threads.
    pub threads: Option<u32>,
    /// The server's size limits (the instance was validated against them).
    #[serde(default)]
    pub limits: crate::instance::Limits,
}

/// Reads a [`StandbyJob`] from standard input (until it closes), runs it
/// and writes the result.
pub fn run_standby(progress: crate::solve::Progress) -> Result<()> {
    use std::io::Read;
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::Other(format!("reading the job: {e}")))?;
    let job: StandbyJob = serde_json::from_str(&text)
        .map_err(|e| Error::Other(format!("unreadable job on standard input: {e}")))?;
    let method = JobMethod::parse(&job.method).map_err(Error::Other)?;
    let opts = SolveOptions {
        time_limit: job.time_limit,
        rel_gap: job.gap,
        threads: job.threads,
        progress,
        ..SolveOptions::default()
    };
    let limits = crate::instance::Limits {
        for_server: true,
        ..job.limits
    };
    let loaded = job
        .bundle
        .load(&limits)
        .map_err(|e| Error::Other(e.to_string()))?;
    let res = run_loaded(&loaded, &method, &opts)?;
    let text = serde_json::to_string(&res).map_err(|e| Error::Other(e.to_string()))?;
    std::fs::write(&job.out, text).map_err(|e| Error::Io {
        path: job.out.clone(),
        source: e,
    })?;
    // Tell the server the result is complete: it need not wait for this
    // process to exit.
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{STANDBY_DONE}")
        .and_then(|_| out.flush())
        .map_err(|e| Error::Other(format!("writing to the server: {e}")))
}

/// The line a standby worker prints once its result file is complete.
pub const STANDBY_DONE: &str = "result written";
