//! COIN-OR CBC through its C interface (`coin_cbc_sys`, Debian's libcbc),
//! with a small C++ event handler (cbc_stop.cpp) that stops the search
//! when the stop flag is set. CBC is not thread-safe within one process,
//! so solves are serialized.

use super::progress::{Raw, Reporter};
use super::{guarded, outcome, stopped, Backend, Scaling, SolveOptions, SolveOutcome, Status};
use crate::milp::model::{Model, Sense, VarKind};
use coin_cbc_sys as sys;
use std::ffi::CString;
use std::os::raw::c_int;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::Instant;

pub struct Cbc;

static CBC_LOCK: Mutex<()> = Mutex::new(());

extern "C" {
    /// Installs on `model` an event handler that answers "stop" once
    /// `flag` is true (cbc_stop.cpp). Returns 0 when installed.
    fn edgesplit_cbc_stop_on_flag(model: *mut sys::Cbc_Model, flag: *const bool) -> c_int;
}

impl Backend for Cbc {
    fn solve(
        &self,
        model: &Model,
        opts: &SolveOptions,
        start_cols: &[(usize, f64)],
    ) -> SolveOutcome {
        let start = Instant::now();
        let _guard = CBC_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        guarded(start, || solve(model, opts, start_cols, start))
    }
}

/// CBC's primary status (`Cbc_status`).
const STATUS_STOPPED: c_int = 1;
const STATUS_ABANDONED: c_int = 2;
/// CBC's secondary status (`Cbc_secondaryStatus`).
const SECONDARY_HAS_SOLUTION: c_int = 0;
const SECONDARY_LP_INFEASIBLE: c_int = 1;
const SECONDARY_STOPPED_ON_GAP: c_int = 2;
const SECONDARY_STOPPED_ON_TIME: c_int = 4;
const SECONDARY_USER_EVENT: c_int = 5;
const SECONDARY_LP_UNBOUNDED: c_int = 7;

/// One CBC model, deleted on drop.
struct CbcModel(*mut sys::Cbc_Model);

impl Drop for CbcModel {
    fn drop(&mut self) {
        // SAFETY: the pointer came from Cbc_newModel and is deleted once.
        unsafe { sys::Cbc_deleteModel(self.0) }
    }
}

impl CbcModel {
    /// Loads `model` (scaled) as a minimization.
    fn load(model: &Model, scaling: &Scaling) -> CbcModel {
        let n = model.columns.len();
        // Column-major matrix: the rows hold their terms, merged by column.
        let mut count = vec![0usize; n + 1];
        for r in &model.rows {
            for &(v, _) in &r.terms {
                count[v.0 + 1] += 1;
            }
        }
        for j in 0..n {
            count[j + 1] += count[j];
        }
        let mut next = count.clone();
        let mut index = vec![0 as c_int; count[n]];
        let mut value = vec![0.0; count[n]];
        let (mut row_lb, mut row_ub) = (Vec::new(), Vec::new());
        for (i, r) in model.rows.iter().enumerate() {
            let (terms, rhs) = scaling.row(model, i);
            for (v, c) in terms {
                index[next[v]] = i as c_int;
                value[next[v]] = c;
                next[v] += 1;
            }
            let (lo, hi) = match r.sense {
                Sense::Le => (-f64::MAX, rhs),
                Sense::Ge => (rhs, f64::MAX),
                Sense::Eq => (rhs, rhs),
            };
            row_lb.push(lo);
            row_ub.push(hi);
        }
        let start: Vec<c_int> = count.iter().map(|&k| k as c_int).collect();
        let col_lb: Vec<f64> = model.columns.iter().map(|c| c.lb).collect();
        let col_ub: Vec<f64> = model.columns.iter().map(|c| c.ub).collect();
        let obj: Vec<f64> = (0..n).map(|j| scaling.cost(model, j)).collect();
        // SAFETY: every array has the length the call expects (n + 1
        // starts, count[n] entries, n columns, one bound per row); CBC
        // copies them.
        unsafe {
            let m = CbcModel(sys::Cbc_newModel());
            sys::Cbc_loadProblem(
                m.0,
                n as c_int,
                model.rows.len() as c_int,
                start.as_ptr(),
                index.as_ptr(),
                value.as_ptr(),
                col_lb.as_ptr(),
                col_ub.as_ptr(),
                obj.as_ptr(),
                row_lb.as_ptr(),
                row_ub.as_ptr(),
            );
            for (j, c) in model.columns.iter().enumerate() {
                if c.kind == VarKind::Binary {
                    sys::Cbc_setInteger(m.0, j as c_int);
                }
            }
            sys::Cbc_setObjSense(m.0, 1.0);
            m
        }
    }

    fn set(&mut self, name: &str, value: &str) {
        let (name, value) = (cstring(name), cstring(value));
        // SAFETY: both strings live through the call; CBC copies them.
        unsafe { sys::Cbc_setParameter(self.0, name.as_ptr(), value.as_ptr()) }
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s).expect("CBC parameter names and values have no NUL")
}

fn solve(
    model: &Model,
    opts: &SolveOptions,
    start_cols: &[(usize, f64)],
    start: Instant,
) -> SolveOutcome {
    let scaling = Scaling::of(model);
    let mut m = CbcModel::load(model, &scaling);
    // The log is read for progress (CbcLog), and shown only with --verbose.
    m.set("log", "1");
    m.set("slogLevel", if opts.verbose { "1" } else { "0" });
    m.set("primalTolerance", "1e-9");
    m.set("integerTolerance", "1e-9");
    m.set("ratioGap", &opts.rel_gap.unwrap_or(1e-9).to_string());
    m.set("allowableGap", "1e-12");
    // CBC only accepts a new incumbent that improves on the last by its
    // cutoff increment (1e-5 by default), which would prune plans better by
    // less than that in the scaled objective.
    m.set("increment", "1e-12");
    if let Some(t) = opts.time_limit {
        m.set("seconds", &t.to_string());
    }
    if let Some(s) = opts.seed {
        m.set("randomCbcSeed", &(s % i32::MAX as u64).to_string());
    }
    // CBC prints its log on stdout: it is read from a pipe for progress
    // and passed to stderr with --verbose; stdout stays clean for reports.
    let reporter = Reporter::new(&opts.progress, model, &scaling, "cbc", start);
    reporter.start();
    let log = CbcLog::capture(opts.verbose, reporter.clone());
    if !start_cols.is_empty() {
        let mut initial = vec![0.0; model.columns.len()];
        for &(i, v) in start_cols {
            initial[i] = v;
        }
        // SAFETY: one value per column; CBC copies them (and
        // prints what it makes of them, hence after the capture).
        unsafe { sys::Cbc_setInitialSolution(m.0, initial.as_ptr()) }
    }
    // The stop flag outlives the solve: this function holds an Arc on it.
    let stop: std::sync::Arc<AtomicBool> = opts.progress.stop_flag();
    // SAFETY: `m` is a live model and the flag outlives the solve.
    let watching = unsafe { edgesplit_cbc_stop_on_flag(m.0, stop.as_ptr()) } == 0;
    debug_assert!(watching, "a fresh CBC model has a CbcModel inside");
    // SAFETY: a loaded model; the solve returns when CBC is done.
    unsafe { sys::Cbc_solve(m.0) };
    drop(log);
    let elapsed = start.elapsed().as_secs_f64();
    let result = CbcResult::read(&m, model.columns.len());
    let (status, limit) = result.status();
    // Keep the bound only when CBC reports one (it answers ~1e50 otherwise).
    let bound = Some(result.bound).filter(|b| b.abs() < 1e50);
    let message = (status == Status::Error).then(|| {
        format!(
            "CBC ended with status {}/{}",
            result.primary, result.secondary
        )
    });
    let has_sol = result.has_solution();
    let o = outcome(
        model,
        &scaling,
        opts,
        status,
        limit,
        has_sol.then_some(result.values),
        bound,
        elapsed,
        message,
    );
    reporter.end(&o);
    o
}

/// What a finished CBC solve says.
struct CbcResult {
    primary: c_int,
    secondary: c_int,
    optimal: bool,
    infeasible: bool,
    unbounded: bool,
    objective: f64,
    bound: f64,
    values: Vec<f64>,
}

impl CbcResult {
    fn read(m: &CbcModel, n: usize) -> CbcResult {
        // SAFETY: a solved model; the solution array has one value per
        // column and is copied before the model is dropped.
        unsafe {
            let sol = sys::Cbc_getColSolution(m.0);
            let values = if sol.is_null() {
                vec![0.0; n]
            } else {
                std::slice::from_raw_parts(sol, n).to_vec()
            };
            CbcResult {
                primary: sys::Cbc_status(m.0),
                secondary: sys::Cbc_secondaryStatus(m.0),
                optimal: sys::Cbc_isProvenOptimal(m.0) != 0,
                infeasible: sys::Cbc_isProvenInfeasible(m.0) != 0,
                unbounded: sys::Cbc_isContinuousUnbounded(m.0) != 0,
                objective: sys::Cbc_getObjValue(m.0),
                bound: sys::Cbc_getBestPossibleObjValue(m.0),
                values,
            }
        }
    }

    /// Whether CBC holds a feasible plan.
    fn has_solution(&self) -> bool {
        // Secondary statuses 2..=8 other than 7 are limits that may leave
        // an incumbent (gap, nodes, time, user event, solutions, iterations).
        self.secondary == SECONDARY_HAS_SOLUTION
            || (matches!(self.secondary, 2..=6 | 8) && self.objective < 1e50)
    }

    fn status(&self) -> (Status, Option<String>) {
        let has_sol = self.has_solution();
        if self.optimal {
            (Status::Optimal, None)
        } else if self.infeasible || self.secondary == SECONDARY_LP_INFEASIBLE {
            (Status::Infeasible, None)
        } else if self.unbounded || self.secondary == SECONDARY_LP_UNBOUNDED {
            (Status::Unbounded, None)
        } else if self.secondary == SECONDARY_STOPPED_ON_GAP && has_sol {
            (Status::Optimal, Some("gap".to_string()))
        } else if self.secondary == SECONDARY_USER_EVENT {
            super::interrupted(has_sol)
        } else if self.primary == STATUS_STOPPED || self.secondary == SECONDARY_STOPPED_ON_TIME {
            (
                stopped(has_sol, Status::NoSolution),
                Some("time".to_string()),
            )
        } else if self.primary == STATUS_ABANDONED {
            (Status::Error, None)
        } else {
            (
                stopped(has_sol, Status::Error),
                Some(format!("CBC secondary status {}", self.secondary)),
            )
        }
    }
}

/// CBC's stdout while alive: file descriptor 1 goes to a pipe whose
/// reader parses the log for progress (CBC has no progress callback in
/// its C API) and, with `verbose`, passes it on to stderr.
struct CbcLog {
    saved: i32,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl CbcLog {
    fn capture(verbose: bool, reporter: Reporter) -> CbcLog {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let mut fds = [0i32; 2];
        // SAFETY: plain POSIX descriptor calls; drop restores fd 1.
        unsafe {
            libc::fflush(std::ptr::null_mut());
            if libc::pipe(fds.as_mut_ptr()) != 0 {
                return CbcLog {
                    saved: -1,
                    reader: None,
                };
            }
            let saved = libc::dup(1);
            libc::dup2(fds[1], 1);
            libc::close(fds[1]);
            let read_fd = fds[0];
            let reader = std::thread::spawn(move || {
                use std::io::BufRead;
                use std::os::fd::FromRawFd;
                // SAFETY: the read end is owned by this thread alone.
                let f = std::fs::File::from_raw_fd(read_fd);
                let mut r = std::io::BufReader::new(f);
                let mut state = LogState::default();
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match r.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    let text = String::from_utf8_lossy(&line);
                    if verbose {
                        let _ = std::io::stderr().write_all(text.as_bytes());
                    }
                    if state.read(&text) {
                        reporter.report(state.raw);
                    }
                }
            });
            CbcLog {
                saved,
                reader: Some(reader),
            }
        }
    }
}

impl Drop for CbcLog {
    fn drop(&mut self) {
        // SAFETY: restores the descriptor saved in `capture`; the pipe's
        // write end then closes and the reader ends.
        unsafe {
            libc::fflush(std::ptr::null_mut());
            if self.saved >= 0 {
                libc::dup2(self.saved, 1);
                libc::close(self.saved);
            }
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// What the CBC log has said so far (in the solver's scaled units).
#[derive(Default)]
struct LogState {
    raw: Raw,
}

/// The number after `key` in `line`.
fn number_after(line: &str, key: &str) -> Option<f64> {
    let rest = &line[line.find(key)? + key.len()..];
    rest.split_whitespace()
        .next()?
        .trim_end_matches([',', ')'])
        .parse()
        .ok()
}

impl LogState {
    /// Reads one log line; true when it changed the state.
    fn read(&mut self, line: &str) -> bool {
        let before = (self.raw.incumbent, self.raw.bound, self.raw.nodes);
        if line.starts_with("Cbc0010I") {
            // After N nodes, M on tree, X best solution, best possible Y (T seconds)
            self.raw.nodes = number_after(line, "After").map(|n| n as u64);
            if let Some(x) = line
                .split(", ")
                .find(|p| p.ends_with("best solution"))
                .and_then(|p| p.split_whitespace().next()?.parse::<f64>().ok())
            {
                self.raw.incumbent = Some(x).filter(|v| v.abs() < 1e20);
            }
            if let Some(b) = number_after(line, "best possible") {
                self.raw.bound = Some(b);
            }
        } else if line.starts_with("Cbc0012I") || line.starts_with("Cbc0004I") {
            // Integer solution of X found ...
            if let Some(x) = number_after(line, "Integer solution of") {
                let better = self.raw.incumbent.is_none_or(|i| x < i);
                if better {
                    self.raw.incumbent = Some(x);
                }
            }
            if let Some(n) = number_after(line, "iterations and") {
                self.raw.nodes = Some(n as u64);
            }
        } else if line.starts_with("Continuous objective value is") {
            if let Some(b) = number_after(line, "value is") {
                self.raw.bound = Some(b);
            }
        } else {
            return false;
        }
        (self.raw.incumbent, self.raw.bound, self.raw.nodes) != before
    }
}

#[cfg(test)]
mod tests {
    use super::LogState;

    #[test]
    fn reads_the_progress_lines_of_the_cbc_log() {
        let mut s = LogState::default();
        assert!(s.read("Continuous objective value is 0.5 - 0.01 seconds\n"));
        assert_eq!(s.raw.bound, Some(0.5));
        assert!(s.read(
            "Cbc0012I Integer solution of 2.25 found by feasibility pump after 0 iterations and 0 nodes (0.10 seconds)\n"
        ));
        assert_eq!(s.raw.incumbent, Some(2.25));
        assert!(s.read(
            "Cbc0010I After 100 nodes, 27 on tree, 2 best solution, best possible 0.75 (2.34 seconds)\n"
        ));
        assert_eq!(s.raw.incumbent, Some(2.0));
        assert_eq!(s.raw.bound, Some(0.75));
        assert_eq!(s.raw.nodes, Some(100));
        assert!(!s.read("Cbc0038I Full problem 10 rows 20 columns\n"));
    }
}
