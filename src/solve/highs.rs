//! HiGHS through the `highs` crate; the best bound and gap come from the
//! HiGHS info values the crate does not wrap.

use super::progress::{Raw, Reporter, StdoutRedirect};
use super::{
    guarded, interrupted, outcome, stopped, Backend, Scaling, SolveOptions, SolveOutcome, Status,
};
use crate::milp::model::{Model, Sense, VarKind};
use highs::{HighsModelStatus, RowProblem};
use std::ffi::CString;
use std::time::Instant;

pub struct Highs;

impl Backend for Highs {
    fn solve(
        &self,
        model: &Model,
        opts: &SolveOptions,
        start_cols: &[(usize, f64)],
    ) -> SolveOutcome {
        let start = Instant::now();
        guarded(start, || solve(model, opts, start_cols, start))
    }
}

/// The scaled model as a HiGHS row problem (the objective constant stays
/// out; [`Scaling::unscale`] puts it back).
fn row_problem(model: &Model, scaling: &Scaling) -> RowProblem {
    let mut pb = RowProblem::default();
    let cols: Vec<_> = model
        .columns
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let int = c.kind == VarKind::Binary;
            pb.add_column_with_integrality(scaling.cost(model, j), c.lb..=c.ub, int)
        })
        .collect();
    for (i, r) in model.rows.iter().enumerate() {
        let (terms, rhs) = scaling.row(model, i);
        let terms = terms.map(|(v, c)| (cols[v], c));
        match r.sense {
            Sense::Le => pb.add_row(..=rhs, terms),
            Sense::Ge => pb.add_row(rhs.., terms),
            Sense::Eq => pb.add_row(rhs..=rhs, terms),
        }
    }
    pb
}

/// The bound HiGHS proves at the root node (presolve, root LP, cut rounds
/// and restarts; no branching), on one thread within `time_limit`
/// seconds, in the model's units; `None` if HiGHS fails or reports no bound.
pub fn root_bound(model: &Model, time_limit: f64) -> Option<f64> {
    let scaling = Scaling::of(model);
    let mut m = row_problem(model, &scaling)
        .try_optimise(highs::Sense::Minimise)
        .ok()?;
    m.make_quiet();
    m.set_option("threads", 1);
    m.set_option("time_limit", time_limit);
    m.set_option("mip_max_nodes", 1);
    m.set_option("mip_rel_gap", 1e-9);
    m.set_option("mip_abs_gap", 1e-12);
    let solved = m.try_solve().ok()?;
    let c = CString::new("mip_dual_bound").expect("no NUL");
    let b = solved.double_info_value(&c).ok()?;
    b.is_finite().then(|| scaling.unscale(model, b))
}

fn solve(
    model: &Model,
    opts: &SolveOptions,
    start_cols: &[(usize, f64)],
    start: Instant,
) -> SolveOutcome {
    let scaling = Scaling::of(model);
    let pb = row_problem(model, &scaling);
    let mut m = match pb.try_optimise(highs::Sense::Minimise) {
        Ok(m) => m,
        Err(e) => {
            return SolveOutcome::error(
                format!("HiGHS rejected the model: {e:?}"),
                start.elapsed().as_secs_f64(),
            )
        }
    };
    // The highs crate makes every model quiet: --verbose turns the log
    // back on (it goes to stderr, see below).
    if opts.verbose {
        m.set_option("output_flag", true);
        m.set_option("log_to_console", true);
    }
    m.set_option("primal_feasibility_tolerance", 1e-9);
    m.set_option("mip_feasibility_tolerance", 1e-9);
    if let Some(t) = opts.time_limit {
        m.set_option("time_limit", t);
    }
    m.set_option("mip_rel_gap", opts.rel_gap.unwrap_or(1e-9));
    m.set_option("mip_abs_gap", 1e-12);
    if let Some(t) = opts.threads {
        m.set_option("threads", t as i32);
    }
    if let Some(s) = opts.seed {
        m.set_option("random_seed", (s % i32::MAX as u64) as i32);
    }
    // Progress and interrupt through the MIP callback: the state the
    // callback reads lives until the solve returns (`solved` is dropped
    // before `state`).
    let state = Box::new(CallbackState {
        reporter: Reporter::new(&opts.progress, model, &scaling, "highs", start),
        last: std::sync::Mutex::new((None, None)),
    });
    // SAFETY: `m` is a live Highs instance; the pointer handed over is to
    // the boxed state, which outlives the solve (declared before `m`'s
    // solved form and never moved).
    unsafe {
        let h = m.as_mut_ptr();
        highs_sys::Highs_setCallback(
            h,
            Some(callback),
            &*state as *const CallbackState as *mut std::ffi::c_void,
        );
        for t in [
            highs_sys::kHighsCallbackMipImprovingSolution,
            highs_sys::kHighsCallbackMipLogging,
            highs_sys::kHighsCallbackMipInterrupt,
            highs_sys::kHighsCallbackSimplexInterrupt,
            highs_sys::kHighsCallbackIpmInterrupt,
        ] {
            highs_sys::Highs_startCallback(h, t);
        }
    }
    state.reporter.start();
    if !start_cols.is_empty() {
        // Unset columns start at 0; HiGHS fixes the integer columns of an
        // infeasible start and solves an LP for the rest.
        let mut init = vec![0.0; model.columns.len()];
        for &(i, v) in start_cols {
            init[i] = v;
        }
        // A rejected start is not fatal: HiGHS then solves without it.
        let _ = m.try_set_solution(Some(&init), None, None, None);
    }
    // With --verbose the HiGHS log goes to stderr, never stdout.
    let redirect = opts.verbose.then(|| StdoutRedirect::new(true));
    let solved = m.try_solve();
    drop(redirect);
    let solved = match solved {
        Ok(s) => s,
        Err(e) => {
            return SolveOutcome::error(
                format!("HiGHS failed: {e:?}"),
                start.elapsed().as_secs_f64(),
            )
        }
    };
    let elapsed = start.elapsed().as_secs_f64();
    let info = |name: &str| {
        let c = CString::new(name).expect("no NUL");
        solved.double_info_value(&c).ok()
    };
    let status = solved.status();
    let values: Vec<f64> = solved.get_solution().columns().to_vec();
    let has_sol = values.len() == model.columns.len()
        && solved.primal_solution_status() == highs::HighsSolutionStatus::Feasible;
    // A pure LP has no MIP dual bound (HiGHS reports a meaningless value):
    // its optimum is its bound.
    let is_mip = model.columns.iter().any(|c| c.kind == VarKind::Binary);
    let bound = if is_mip { info("mip_dual_bound") } else { None };
    let (st, limit) = match status {
        HighsModelStatus::Optimal => (Status::Optimal, None),
        // Every edgesplit model is bounded below, so "unbounded or
        // infeasible" means infeasible.
        HighsModelStatus::Infeasible | HighsModelStatus::UnboundedOrInfeasible => {
            (Status::Infeasible, None)
        }
        HighsModelStatus::Unbounded => (Status::Unbounded, None),
        HighsModelStatus::ReachedTimeLimit => (
            stopped(has_sol, Status::NoSolution),
            Some("time".to_string()),
        ),
        HighsModelStatus::ReachedInterrupt => interrupted(has_sol),
        HighsModelStatus::ReachedIterationLimit => (
            stopped(has_sol, Status::NoSolution),
            Some("iterations".to_string()),
        ),
        other => (stopped(has_sol, Status::Error), Some(format!("{other:?}"))),
    };
    // The objective constant is kept outside the HiGHS model: `outcome`
    // unscales the bound and adds it; the incumbent's value comes from the
    // model.
    let message = (st == Status::Error).then(|| format!("HiGHS ended with {status:?}"));
    let o = outcome(
        model,
        &scaling,
        opts,
        st,
        limit,
        Some(values),
        bound,
        elapsed,
        message,
    );
    drop(solved);
    state.reporter.end(&o);
    o
}

/// What the HiGHS callback reads: where to report, and the last state
/// sent (to send logging events only when something changed).
struct CallbackState {
    reporter: Reporter,
    #[allow(clippy::type_complexity)]
    last: std::sync::Mutex<(Option<(f64, f64, i64)>, Option<Instant>)>,
}

/// The HiGHS callback: reports improving solutions and the MIP log's
/// state, and answers the interrupt checks with the stop flag.
unsafe extern "C" fn callback(
    kind: std::os::raw::c_int,
    _message: *const std::os::raw::c_char,
    out: *const highs_sys::HighsCallbackDataOut,
    data_in: *mut highs_sys::HighsCallbackDataIn,
    user: *mut std::ffi::c_void,
) {
    // A panic must not unwind into C.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if user.is_null() {
            return;
        }
        // SAFETY: `user` is the CallbackState handed to Highs_setCallback,
        // alive for the whole solve; `out` and `data_in` are HiGHS's.
        let state = unsafe { &*(user as *const CallbackState) };
        let stop = state.reporter.interrupted();
        if stop && !data_in.is_null() {
            unsafe { (*data_in).user_interrupt = 1 };
        }
        if out.is_null() {
            return;
        }
        let out = unsafe { &*out };
        if kind == highs_sys::kHighsCallbackMipImprovingSolution
            || kind == highs_sys::kHighsCallbackMipLogging
            || kind == highs_sys::kHighsCallbackMipInterrupt
        {
            let key = (out.mip_primal_bound, out.mip_dual_bound, out.mip_node_count);
            let mut last = state.last.lock().unwrap_or_else(|e| e.into_inner());
            let changed = last.0 != Some(key);
            // The interrupt check runs very often: report from it only
            // when the state moved, at most twice a second.
            let due = kind == highs_sys::kHighsCallbackMipImprovingSolution
                || last.1.is_none_or(|t| t.elapsed().as_secs_f64() >= 0.5);
            if changed && due {
                *last = (Some(key), Some(Instant::now()));
                drop(last);
                state.reporter.report(Raw {
                    incumbent: Some(out.mip_primal_bound),
                    bound: Some(out.mip_dual_bound),
                    nodes: u64::try_from(out.mip_node_count).ok(),
                });
            }
        }
    }));
}
