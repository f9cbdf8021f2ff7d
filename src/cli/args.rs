//! Argument parsers and the options shared by the commands that solve.

use super::load;
use super::progress::progress_handle;
use anyhow::Result;
use edgesplit::heuristic::warm::{StartInfo, WarmStart};
use edgesplit::solve::{BackendKind, SolveOptions};
use edgesplit::Instance;
use std::path::Path;

/// `--time-limit`: seconds, finite, > 0, at most 10⁷.
pub(super) fn time_limit_arg(s: &str) -> std::result::Result<f64, String> {
    let t: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number: expected seconds, e.g. 60"))?;
    edgesplit::solve::isolate::check_time_limit(t)
}

/// A finite number ≥ 0 (`--gap`, `--ridge`, `--jitter`, noise limits).
pub(super) fn nonneg_arg(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}': expected a finite number ≥ 0")),
    }
}

/// A finite number (`--min-quality`).
pub(super) fn finite_arg(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("'{s}': expected a finite number")),
    }
}

/// The most threads `--threads` takes.
const MAX_THREADS: u32 = 256;

/// `--threads`: 1 to [`MAX_THREADS`]; 0 is refused rather than read as
/// "all cores" by some backends and "one" by others.
fn threads_arg(s: &str) -> std::result::Result<u32, String> {
    match s.parse::<u32>() {
        Ok(t) if (1..=MAX_THREADS).contains(&t) => Ok(t),
        _ => Err(format!(
            "'{s}': expected a whole number of threads from 1 to {MAX_THREADS} (leave it out for the backend's default)"
        )),
    }
}

#[derive(clap::Args, Debug, Clone)]
pub(super) struct SolverArgs {
    /// Backend: highs, cbc, scip or microlp (see `edgesplit solvers`).
    #[arg(long, default_value = "highs")]
    pub(super) solver: String,
    /// Time limit in seconds per backend solve (> 0, at most 1e7).
    #[arg(long, value_parser = time_limit_arg)]
    pub(super) time_limit: Option<f64>,
    /// Relative MIP gap at which to stop (default 1e-9: prove optimality).
    #[arg(long, value_parser = nonneg_arg)]
    pub(super) gap: Option<f64>,
    /// Threads for backends that use several (1 to 256, as the server takes; default: the
    /// backend's own choice).
    #[arg(long, value_parser = threads_arg)]
    pub(super) threads: Option<u32>,
    /// Random seed for the backend.
    #[arg(long)]
    pub(super) seed: Option<u64>,
    /// Show the backend's log.
    #[arg(long)]
    pub(super) verbose: bool,
    /// The MILP's starting incumbent, where the backend takes one: `none`,
    /// a heuristic's plan (`tide`, `cost-greedy`, `cost-greedy-q`, …; used
    /// when the evaluator finds it feasible) or a plan file. `solve`
    /// defaults to cost-greedy-q; other commands to none.
    #[arg(long, value_name = "none|METHOD|PLAN")]
    pub(super) warm_start: Option<String>,
    /// Strengthenings of the MILP (valid inequalities, see
    /// docs/formulation.md): `all`, `none`, or a comma-separated list of
    /// memory_fit, cut_sets, flow (exactly those on). Default: the
    /// instance's `constraints:` switches (all on unless switched off).
    #[arg(long)]
    pub(super) strengthen: Option<String>,
}

impl SolverArgs {
    /// Loads the instance and applies `--strengthen`.
    pub(super) fn load(&self, path: &Path) -> Result<Instance> {
        let mut inst = load(path)?;
        if let Some(list) = &self.strengthen {
            inst.families
                .apply_strengthen_list(list)
                .map_err(|e| anyhow::anyhow!("--strengthen {e}"))?;
        }
        Ok(inst)
    }

    pub(super) fn kind(&self) -> Result<BackendKind> {
        self.solver
            .parse::<BackendKind>()
            .map_err(|e| anyhow::anyhow!(e))
    }

    /// The backend, which must be built in; a warning on standard error
    /// for each given flag it does not use.
    pub(super) fn usable_kind(&self) -> Result<BackendKind> {
        let kind = self.kind()?;
        if !kind.available() {
            anyhow::bail!("{}", kind.backend().err().unwrap_or_default());
        }
        for w in kind.ignored_options(&self.plain_options()?) {
            eprintln!("warning: {w}; the flag is ignored");
        }
        Ok(kind)
    }
    /// The options (checked by their value parsers), without a warm start.
    pub(super) fn plain_options(&self) -> Result<SolveOptions> {
        Ok(SolveOptions {
            time_limit: self.time_limit,
            rel_gap: self.gap,
            threads: self.threads,
            verbose: self.verbose,
            seed: self.seed,
            initial: None,
            progress: progress_handle(),
        })
    }

    /// The options with the warm start given by `--warm-start` (none
    /// without the flag).
    pub(super) fn options(&self, inst: &Instance) -> Result<SolveOptions> {
        Ok(self.options_with_start(inst, WarmStart::None)?.0)
    }

    /// The options with the warm start of `--warm-start`, or `default`
    /// without the flag, and what the report says about it.
    pub(super) fn options_with_start(
        &self,
        inst: &Instance,
        default: WarmStart,
    ) -> Result<(SolveOptions, StartInfo)> {
        let mut o = self.plain_options()?;
        let ws = match &self.warm_start {
            Some(s) => s.parse::<WarmStart>().map_err(|e| anyhow::anyhow!(e))?,
            None => default,
        };
        let (plan, info) =
            edgesplit::heuristic::warm::resolve(inst, &ws).map_err(|e| anyhow::anyhow!("{e}"))?;
        o.initial = plan;
        Ok((o, info))
    }
}

pub(super) fn available(solver: &SolverArgs) -> Result<BackendKind> {
    solver.usable_kind()
}

/// Solver options for a `kind: pipeline` instance (a warm start is a joint
/// plan, which this kind has no use for).
pub(super) fn pipeline_options(a: &SolverArgs) -> Result<SolveOptions> {
    if a.warm_start.is_some() {
        anyhow::bail!("--warm-start takes a joint plan: pipeline instances do not use it");
    }
    a.plain_options()
}
