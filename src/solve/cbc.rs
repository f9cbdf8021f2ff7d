//! COIN-OR CBC through the `coin_cbc` crate (Debian's libcbc). CBC is not
//! thread-safe within one process, so solves are serialized.

use super::progress::{Raw, Reporter};
use super::{guarded, outcome, stopped, Backend, Scaling, SolveOptions, SolveOutcome, Status};
use crate::milp::model::{Model, Sense, VarKind};
use coin_cbc::raw::{SecondaryStatus, Status as CbcStatus};
use std::sync::Mutex;
use std::time::Instant;

pub struct Cbc;

static CBC_LOCK: Mutex<()> = Mutex::new(());

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

fn solve(
    model: &Model,
    opts: &SolveOptions,
    start_cols: &[(usize, f64)],
    start: Instant,
) -> SolveOutcome {
    let scaling = Scaling::of(model);
    let mut m = coin_cbc::Model::default();
    let cols: Vec<_> = model
        .columns
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let col = m.add_col();
            if c.kind == VarKind::Binary {
                m.set_integer(col);
            }
            m.set_col_lower(col, c.lb);
            m.set_col_upper(col, c.ub);
            m.set_obj_coeff(col, scaling.cost(model, j));
            col
        })
        .collect();
    for (i, r) in model.rows.iter().enumerate() {
        let row = m.add_row();
        let (terms, rhs) = scaling.row(model, i);
        for (v, c) in terms {
            m.set_weight(row, cols[v], c);
        }
        match r.sense {
            Sense::Le => m.set_row_upper(row, rhs),
            Sense::Ge => m.set_row_lower(row, rhs),
            Sense::Eq => m.set_row_equal(row, rhs),
        }
    }
    m.set_obj_sense(coin_cbc::Sense::Minimize);
    // The log is read for progress (CbcLog), and shown only with --verbose.
    m.set_parameter("log", "1");
    m.set_parameter("slogLevel", if opts.verbose { "1" } else { "0" });
    m.set_parameter("primalTolerance", "1e-9");
    m.set_parameter("integerTolerance", "1e-9");
    m.set_parameter("ratioGap", &opts.rel_gap.unwrap_or(1e-9).to_string());
    m.set_parameter("allowableGap", "1e-12");
    // CBC only accepts a new incumbent that improves on the last by its
    // cutoff increment (1e-5 by default), which would prune plans better by
    // less than that in the scaled objective.
    m.set_parameter("increment", "1e-12");
    if let Some(t) = opts.time_limit {
        m.set_parameter("seconds", &t.to_string());
    }
    if let Some(s) = opts.seed {
        m.set_parameter("randomCbcSeed", &(s % i32::MAX as u64).to_string());
    }
    for &(i, v) in start_cols {
        m.set_col_initial_solution(cols[i], v);
    }
    // CBC prints its log on stdout: it is read from a pipe for progress
    // and passed to stderr with --verbose; stdout stays clean for reports.
    let reporter = Reporter::new(&opts.progress, model, &scaling, "cbc", start);
    reporter.start();
    let log = CbcLog::capture(opts.verbose, reporter.clone());
    let sol = m.solve();
    drop(log);
    let raw = sol.raw();
    let elapsed = start.elapsed().as_secs_f64();
    let values: Vec<f64> = cols.iter().map(|&c| sol.col(c)).collect();
    let primary = raw.status();
    let secondary = raw.secondary_status();
    let has_sol = secondary == SecondaryStatus::HasSolution
        || (matches!(
            secondary,
            SecondaryStatus::StoppedOnTime
                | SecondaryStatus::StoppedOnUserEvent
                | SecondaryStatus::StoppedOnGap
                | SecondaryStatus::StoppedOnNodes
                | SecondaryStatus::StoppedOnSolutions
                | SecondaryStatus::StoppedOnIterationLimit
        ) && raw.obj_value() < 1e50);
    let (status, limit) = if raw.is_proven_optimal() {
        (Status::Optimal, None)
    } else if raw.is_proven_infeasible() || secondary == SecondaryStatus::LinearRelaxationInfeasible
    {
        (Status::Infeasible, None)
    } else if raw.is_continuous_unbounded()
        || secondary == SecondaryStatus::LinearRelaxationUnbounded
    {
        (Status::Unbounded, None)
    } else if secondary == SecondaryStatus::StoppedOnGap && has_sol {
        (Status::Optimal, Some("gap".to_string()))
    } else if secondary == SecondaryStatus::StoppedOnUserEvent {
        super::interrupted(has_sol)
    } else if primary == CbcStatus::Stopped || secondary == SecondaryStatus::StoppedOnTime {
        (
            stopped(has_sol, Status::NoSolution),
            Some("time".to_string()),
        )
    } else if primary == CbcStatus::Abandoned {
        (Status::Error, None)
    } else {
        (
            stopped(has_sol, Status::Error),
            Some(format!("{secondary:?}")),
        )
    };
    // Keep the bound only when CBC reports one (it answers ~1e50 otherwise).
    let bound = Some(raw.best_possible_value()).filter(|b| b.abs() < 1e50);
    let message =
        (status == Status::Error).then(|| format!("CBC ended with {primary:?}/{secondary:?}"));
    let o = outcome(
        model,
        &scaling,
        opts,
        status,
        limit,
        has_sol.then_some(values),
        bound,
        elapsed,
        message,
    );
    reporter.end(&o);
    o
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
