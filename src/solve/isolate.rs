//! Solving in a child process (`edgesplit worker`), so that a native solver
//! that aborts, crashes or ignores its time limit cannot take the caller
//! down: the caller gets a report saying what happened.

use super::run::{attach_plan, SolveReport};
use super::{BackendKind, SolveOptions, Status};
use crate::instance::{Instance, Normalization};
use crate::plan::{Plan, PlanFile};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a worker writes back: the report and the plan in file form.
#[derive(Debug, Serialize, Deserialize)]
pub struct WorkerOutput {
    /// The worker's report (its `plan` field is not serialized).
    pub report: SolveReport,
    /// The plan, if any.
    pub plan: Option<PlanFile>,
}

/// Seconds a worker may overrun its time limits before it is killed.
pub const GRACE_S: f64 = 10.0;

/// The longest time limit accepted anywhere, in seconds (10⁷ s, about 116
/// days): every deadline derived from a limit (times the solves of a
/// payoff table, plus [`GRACE_S`]) stays far inside what a `Duration` holds.
pub const MAX_TIME_LIMIT_S: f64 = 1e7;

/// Checks a time limit in seconds: finite, > 0 and at most
/// [`MAX_TIME_LIMIT_S`]; the error says what was expected.
pub fn check_time_limit(t: f64) -> Result<f64, String> {
    if t.is_finite() && t > 0.0 && t <= MAX_TIME_LIMIT_S {
        Ok(t)
    } else {
        Err(format!(
            "{}: expected a number of seconds > 0 and at most {MAX_TIME_LIMIT_S:e} (about 116 days)",
            crate::instance::scale::fmt_num(t)
        ))
    }
}

/// Solves the instance at `path` (already loaded as `inst`) in a child
/// process running `exe worker`. The child is killed if it outlives its
/// time limits (one per backend solve) plus [`GRACE_S`].
pub fn solve_isolated(
    exe: &Path,
    path: &Path,
    inst: &Instance,
    kind: BackendKind,
    opts: &SolveOptions,
) -> SolveReport {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            return failed(
                inst,
                kind,
                format!("cannot create a temporary directory: {e}"),
                0.0,
            )
        }
    };
    let out = dir.path().join("report.json");
    let mut cmd = match worker_command(exe, path, inst, kind, opts, dir.path(), &out) {
        Ok(c) => c,
        Err(e) => return failed(inst, kind, e, 0.0),
    };
    let start = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return failed(
                inst,
                kind,
                format!("cannot start the worker {}: {e}", exe.display()),
                0.0,
            )
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let text =
            crate::instance::source::stdin_bytes(crate::instance::source::DEFAULT_MAX_FILE_BYTES)
                .unwrap_or_default();
        // A worker that died at once shows in its exit status below.
        let _ = stdin.write_all(text);
    }
    let pid = child.id();
    crate::interrupt::register_child(pid, Some(dir.path().to_path_buf()));
    let _registered = Registered(pid, dir.path().to_path_buf());
    let relay = child.stderr.take().map(|err| {
        let progress = opts.progress.clone();
        std::thread::spawn(move || relay_stderr(err, &progress))
    });
    // A payoff table adds up to two solves (a lexicographic row) per
    // objective of positive weight.
    let solves = if inst.objective.normalization == Normalization::Payoff {
        7.0
    } else {
        1.0
    };
    // A limit past what a Duration holds means no deadline, never a panic.
    let deadline = opts
        .time_limit
        .and_then(|t| Duration::try_from_secs_f64(t * solves + GRACE_S).ok());
    let status = match wait_worker(&mut child, start, deadline) {
        Ok(s) => s,
        Err((message, secs)) => return failed(inst, kind, message, secs),
    };
    if let Some(r) = relay {
        let _ = r.join();
    }
    let secs = start.elapsed().as_secs_f64();
    if !status.success() {
        use std::os::unix::process::ExitStatusExt;
        let how = match status.signal() {
            Some(sig) => format!("was killed by signal {sig}{}", signal_name(sig)),
            None => format!("exited with code {}", status.code().unwrap_or(-1)),
        };
        return failed(
            inst,
            kind,
            format!("the solver process {how} after {secs:.1} s"),
            secs,
        );
    }
    read_worker_report(inst, kind, &out, secs)
}

/// The `worker` command for solving `path` with `kind` and `opts`, writing
/// its report to `out`; a warm start goes to a plan file in `dir`.
/// Returns the command, or why the warm start could not be written.
fn worker_command(
    exe: &Path,
    path: &Path,
    inst: &Instance,
    kind: BackendKind,
    opts: &SolveOptions,
    dir: &Path,
    out: &Path,
) -> Result<Command, String> {
    let mut cmd = Command::new(exe);
    cmd.arg("worker")
        .arg(path)
        .arg("--solver")
        .arg(kind.name())
        .arg("--out")
        .arg(out);
    if let Some(t) = opts.time_limit {
        cmd.arg("--time-limit").arg(t.to_string());
    }
    if let Some(g) = opts.rel_gap {
        cmd.arg("--gap").arg(g.to_string());
    }
    if let Some(t) = opts.threads {
        cmd.arg("--threads").arg(t.to_string());
    }
    if let Some(s) = opts.seed {
        cmd.arg("--seed").arg(s.to_string());
    }
    if opts.verbose {
        cmd.arg("--verbose");
    }
    // The worker reloads the file: hand it the strengthenings in force.
    cmd.arg("--strengthen").arg(inst.families.strengthen_list());
    // The worker reads the warm start back from a plan file.
    if let Some(plan) = &opts.initial {
        let p = dir.join("start.yaml");
        if let Err(e) = plan.save(&p, inst, Some("warm start")) {
            return Err(format!("cannot write the warm start: {e}"));
        }
        cmd.arg("--warm-start").arg(p);
    }
    // Progress comes back as lines on the worker's standard error.
    cmd.arg("--progress-lines");
    // An instance read from standard input (`-`) is handed on the same
    // way: the worker reads it from its own standard input.
    let piped = crate::instance::source::is_stdin(path);
    cmd.stdin(if piped { Stdio::piped() } else { Stdio::null() });
    cmd.stderr(Stdio::piped());
    // The worker leads its own process group (a terminal's Ctrl-C reaches
    // this process only, which passes it on: see crate::interrupt). If
    // this process dies, even by SIGKILL, the worker removes the temporary
    // folder and exits (crate::interrupt::watch_parent).
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        cmd.env(crate::interrupt::PARENT_ENV, std::process::id().to_string());
        cmd.env(crate::interrupt::OWNED_DIR_ENV, dir);
    }
    Ok(cmd)
}

/// Waits for the worker started at `start`, killing its process group
/// once it passes `deadline`; returns its exit status, or what went wrong
/// and the seconds elapsed.
fn wait_worker(
    child: &mut std::process::Child,
    start: Instant,
    deadline: Option<Duration>,
) -> Result<std::process::ExitStatus, (String, f64)> {
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Ok(st),
            Ok(None) => {}
            Err(e) => {
                return Err((
                    format!("lost the worker: {e}"),
                    start.elapsed().as_secs_f64(),
                ))
            }
        }
        if deadline.is_some_and(|d| start.elapsed() > d) {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            let secs = start.elapsed().as_secs_f64();
            return Err((
                format!("the solver overran its time limit by more than {GRACE_S} s and was killed after {secs:.1} s"),
                secs,
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The report the worker wrote to `out` after `secs` seconds, with its plan
/// attached to `inst`; a failed report if it is unreadable.
fn read_worker_report(inst: &Instance, kind: BackendKind, out: &Path, secs: f64) -> SolveReport {
    let parsed: Result<WorkerOutput, String> = std::fs::read_to_string(out)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()));
    let w = match parsed {
        Ok(w) => w,
        Err(e) => return failed(inst, kind, format!("unreadable worker report: {e}"), secs),
    };
    let mut report = w.report;
    report.evaluation = None;
    report.evaluated_objective = None;
    if let Some(pf) = w.plan {
        match Plan::from_file(&pf, inst, out) {
            Ok(plan) => attach_plan(inst, &mut report, plan),
            Err(e) => {
                report.status = Status::Error;
                report.message = Some(format!("the worker's plan does not fit the instance: {e}"));
            }
        }
    }
    report
}

/// Forgets the worker when the solve returns, however it returns.
struct Registered(u32, std::path::PathBuf);

impl Drop for Registered {
    fn drop(&mut self) {
        crate::interrupt::forget_child(self.0, Some(&self.1));
    }
}

fn kill_group(pid: u32) {
    // SAFETY: killing the worker's own process group.
    unsafe {
        libc::kill(-(pid as i32), libc::SIGKILL);
    }
}

/// Reads the worker's standard error: progress lines go to `progress`,
/// the rest (the solver's log with --verbose, errors) to this process's
/// standard error.
fn relay_stderr(err: std::process::ChildStderr, progress: &super::Progress) {
    use std::io::{BufRead, Write};
    let mut r = std::io::BufReader::new(err);
    let mut line = Vec::new();
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        match super::progress::parse_line(&String::from_utf8_lossy(&line)) {
            Some(e) => progress.send(e),
            None => {
                let _ = std::io::stderr().write_all(&line);
            }
        }
    }
}

fn failed(inst: &Instance, kind: BackendKind, message: String, secs: f64) -> SolveReport {
    SolveReport::failed(inst, kind, message, secs)
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        6 => " (SIGABRT: the native solver aborted)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV: the native solver crashed)",
        _ => "",
    }
}
