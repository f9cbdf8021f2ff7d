//! COIN-OR CBC through the `coin_cbc` crate (Debian's libcbc). CBC is not
//! thread-safe within one process, so solves are serialized.

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
    m.set_parameter("log", if opts.verbose { "1" } else { "0" });
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
    // CBC prints some messages (e.g. about a start) whatever its log level:
    // keep stdout clean for reports unless the user asked for the log.
    let silence = (!opts.verbose).then(Silence::stdout);
    let sol = m.solve();
    drop(silence);
    let raw = sol.raw();
    let elapsed = start.elapsed().as_secs_f64();
    let values: Vec<f64> = cols.iter().map(|&c| sol.col(c)).collect();
    let primary = raw.status();
    let secondary = raw.secondary_status();
    let has_sol = secondary == SecondaryStatus::HasSolution
        || (matches!(
            secondary,
            SecondaryStatus::StoppedOnTime
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
    outcome(
        model,
        &scaling,
        opts,
        status,
        limit,
        has_sol.then_some(values),
        bound,
        elapsed,
        message,
    )
}

/// Redirects file descriptor 1 to /dev/null while alive.
struct Silence {
    saved: i32,
}

impl Silence {
    fn stdout() -> Silence {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: plain POSIX descriptor calls; the saved descriptor is
        // restored and closed in drop.
        unsafe {
            libc::fflush(std::ptr::null_mut());
            let saved = libc::dup(1);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if saved >= 0 && null >= 0 {
                libc::dup2(null, 1);
            }
            if null >= 0 {
                libc::close(null);
            }
            Silence { saved }
        }
    }
}

impl Drop for Silence {
    fn drop(&mut self) {
        // SAFETY: restores the descriptor saved in `stdout`.
        unsafe {
            libc::fflush(std::ptr::null_mut());
            if self.saved >= 0 {
                libc::dup2(self.saved, 1);
                libc::close(self.saved);
            }
        }
    }
}
