//! The progress channel every backend reports to, and the request to stop.
//!
//! A backend solve sends [`ProgressEvent`]s (incumbent, bound, gap, nodes,
//! elapsed time; every value in the instance's units) to the
//! [`ProgressSink`] of its [`SolveOptions::progress`](super::SolveOptions)
//! while it runs: a `start` event, an `update` whenever the solver reports
//! (through its callback API or its log), and an `end` event. The same
//! handle carries a stop flag: once [`Progress::interrupt`] is called the
//! backend stops at its next chance and returns its best incumbent with
//! the status `interrupted`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressKind {
    /// A backend solve started.
    Start,
    /// The solver reported its state (a new incumbent, a log line, a poll).
    Update,
    /// The backend solve ended.
    End,
}

/// One report of a running solve; values are in the instance's units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressEvent {
    /// What happened.
    pub kind: ProgressKind,
    /// Backend name.
    pub solver: String,
    /// Which solve of a run (`main`, or `payoff Time` and so on), when the
    /// caller named it.
    pub stage: Option<String>,
    /// Seconds since this backend solve started.
    pub elapsed_s: f64,
    /// Objective of the best plan found so far.
    pub incumbent: Option<f64>,
    /// Best proven lower bound.
    pub bound: Option<f64>,
    /// Relative gap, computed as for reports ([`super::rel_gap`]).
    pub gap: Option<f64>,
    /// Branch-and-bound nodes so far, when the solver says.
    pub nodes: Option<u64>,
}

impl fmt::Display for ProgressEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::eval::sig;
        let o = |x: Option<f64>| x.map(sig).unwrap_or_else(|| "-".into());
        write!(f, "{}", self.solver)?;
        if let Some(s) = &self.stage {
            write!(f, " [{s}]")?;
        }
        write!(
            f,
            " {:>7.1} s  incumbent {}  bound {}  gap {}",
            self.elapsed_s,
            o(self.incumbent),
            o(self.bound),
            self.gap
                .map(|g| format!("{:.2}%", 100.0 * g))
                .unwrap_or_else(|| "-".into())
        )?;
        if let Some(n) = self.nodes {
            write!(f, "  nodes {n}")?;
        }
        Ok(())
    }
}

/// Where progress events go.
pub trait ProgressSink: Send + Sync {
    /// Called from the solving thread (possibly inside the solver's
    /// callback): must be quick and must not panic.
    fn event(&self, e: &ProgressEvent);
}

impl<F: Fn(&ProgressEvent) + Send + Sync> ProgressSink for F {
    fn event(&self, e: &ProgressEvent) {
        self(e)
    }
}

/// The progress channel and stop flag of a solve; cheap to clone (clones
/// share both). The default has no sink and is never interrupted unless
/// [`Progress::interrupt`] is called on it or a clone.
#[derive(Clone, Default)]
pub struct Progress {
    sink: Option<Arc<dyn ProgressSink>>,
    stop: Arc<AtomicBool>,
    stage: Option<String>,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("sink", &self.sink.is_some())
            .field("interrupted", &self.interrupted())
            .field("stage", &self.stage)
            .finish()
    }
}

impl Progress {
    /// A channel to `sink`.
    pub fn to(sink: Arc<dyn ProgressSink>) -> Progress {
        Progress {
            sink: Some(sink),
            ..Progress::default()
        }
    }

    /// The same stop flag, sending events to `sink`.
    pub fn with_sink(mut self, sink: Arc<dyn ProgressSink>) -> Progress {
        self.sink = Some(sink);
        self
    }

    /// The same channel and stop flag, sending `stage` with each event.
    pub fn stage(&self, stage: impl Into<String>) -> Progress {
        Progress {
            stage: Some(stage.into()),
            ..self.clone()
        }
    }

    /// The same channel, sharing `stop` as its stop flag.
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Progress {
        self.stop = stop;
        self
    }

    /// Asks every solve on this handle (and its clones) to stop.
    pub fn interrupt(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn interrupted(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The stop flag itself, for a backend that polls it from native code.
    pub(crate) fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Whether events go anywhere.
    pub fn has_sink(&self) -> bool {
        self.sink.is_some()
    }

    /// Sends an event (filling in the stage).
    pub fn send(&self, mut e: ProgressEvent) {
        if let Some(s) = &self.sink {
            if e.stage.is_none() {
                e.stage = self.stage.clone();
            }
            s.event(&e);
        }
    }
}

/// What a backend knows of its state, in the solver's (scaled) units;
/// [`Reporter::report`] converts it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Raw {
    pub incumbent: Option<f64>,
    pub bound: Option<f64>,
    pub nodes: Option<u64>,
}

/// The per-solve helper a backend reports through: it unscales the
/// solver's values, computes the gap the same way for every backend, and
/// times the solve. Owns what it needs (solver callbacks may want
/// `'static` data).
#[derive(Clone)]
pub(crate) struct Reporter {
    pub progress: Progress,
    constant: f64,
    divisor: f64,
    largest_cost: f64,
    solver: &'static str,
    start: std::time::Instant,
}

impl Reporter {
    /// A reporter for one solve of `model`, scaled by `scaling`.
    pub fn new(
        progress: &Progress,
        model: &crate::milp::model::Model,
        scaling: &super::Scaling,
        solver: &'static str,
        start: std::time::Instant,
    ) -> Reporter {
        Reporter {
            progress: progress.clone(),
            constant: model.obj_constant,
            divisor: scaling.objective,
            largest_cost: scaling.largest_cost,
            solver,
            start,
        }
    }

    /// Whether a stop was asked for.
    pub fn interrupted(&self) -> bool {
        self.progress.interrupted()
    }

    fn event(&self, kind: ProgressKind, raw: Raw) -> ProgressEvent {
        let ok = |v: Option<f64>| v.filter(|x| x.is_finite() && x.abs() < 1e20);
        let unscale = |v: f64| v * self.divisor + self.constant;
        let incumbent = ok(raw.incumbent).map(unscale);
        let bound = ok(raw.bound).map(unscale);
        let bound = match (bound, incumbent) {
            (Some(b), Some(i)) => Some(b.min(i)),
            (b, _) => b,
        };
        let gap = incumbent.zip(bound).map(|(i, b)| {
            super::rel_gap(i, b, super::magnitude(i, self.constant, self.largest_cost))
        });
        ProgressEvent {
            kind,
            solver: self.solver.to_string(),
            stage: None,
            elapsed_s: self.start.elapsed().as_secs_f64(),
            incumbent,
            bound,
            gap,
            nodes: raw.nodes,
        }
    }

    /// Sends a `start` event.
    pub fn start(&self) {
        self.progress
            .send(self.event(ProgressKind::Start, Raw::default()));
    }

    /// Sends an `update` event.
    pub fn report(&self, raw: Raw) {
        self.progress.send(self.event(ProgressKind::Update, raw));
    }

    /// Sends the `end` event of `outcome` (already in the instance's
    /// units).
    pub fn end(&self, outcome: &super::SolveOutcome) {
        self.progress.send(ProgressEvent {
            kind: ProgressKind::End,
            solver: self.solver.to_string(),
            stage: None,
            elapsed_s: self.start.elapsed().as_secs_f64(),
            incumbent: outcome.objective,
            bound: outcome.best_bound,
            gap: outcome.gap,
            nodes: None,
        });
    }
}

/// Redirects file descriptor 1 while alive: to standard error (a solver's
/// log goes to stderr, never stdout) or to /dev/null (a solver that prints
/// whatever its log level). Process-wide: only around a native call.
pub(crate) struct StdoutRedirect {
    saved: i32,
}

impl StdoutRedirect {
    /// fd 1 to fd 2 (`verbose`) or to /dev/null.
    pub fn new(verbose: bool) -> StdoutRedirect {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: plain POSIX descriptor calls; the saved descriptor is
        // restored and closed in drop.
        unsafe {
            libc::fflush(std::ptr::null_mut());
            let saved = libc::dup(1);
            if saved >= 0 {
                if verbose {
                    libc::dup2(2, 1);
                } else {
                    let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
                    if null >= 0 {
                        libc::dup2(null, 1);
                        libc::close(null);
                    }
                }
            }
            StdoutRedirect { saved }
        }
    }
}

impl Drop for StdoutRedirect {
    fn drop(&mut self) {
        // SAFETY: restores the descriptor saved in `new`.
        unsafe {
            libc::fflush(std::ptr::null_mut());
            if self.saved >= 0 {
                libc::dup2(self.saved, 1);
                libc::close(self.saved);
            }
        }
    }
}

/// The prefix of a progress line a worker process writes on its standard
/// error (the rest of the line is the event as JSON); its parent reads
/// these lines back with [`parse_line`] and passes the others on.
pub const LINE_PREFIX: &str = "@edgesplit-progress ";

/// A sink that writes each event as a progress line on standard error.
pub fn line_sink() -> Arc<dyn ProgressSink> {
    Arc::new(|e: &ProgressEvent| {
        use std::io::Write;
        if let Ok(j) = serde_json::to_string(e) {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{LINE_PREFIX}{j}");
            let _ = err.flush();
        }
    })
}

/// The event of a progress line, if `line` is one.
pub fn parse_line(line: &str) -> Option<ProgressEvent> {
    serde_json::from_str(line.strip_prefix(LINE_PREFIX)?.trim_end()).ok()
}
