//! Heuristics and the comparison of methods against the MILP.

use super::args::{finite_arg, time_limit_arg};
use super::progress::{finished, progress_handle};
use super::report::print_evaluation;
use super::{at_most_one_stdin, is_stream, load, write_atomically};
use anyhow::Result;
use edgesplit::eval::sig;
use edgesplit::heuristic::warm::WarmStart;
use edgesplit::solve::SolveOptions;
use edgesplit::Instance;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct HeuristicArgs {
    /// Instance file.
    pub instance: PathBuf,
    /// Which method.
    #[arg(long, value_enum)]
    pub method: edgesplit::heuristic::Method,
    /// Write the plan here (YAML, or JSON by extension).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Print the evaluation as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Then improve the plan for this many seconds by re-solving one task,
    /// or the placement, at a time with a MILP backend (docs/heuristics.md).
    #[arg(long, value_name = "SECONDS", value_parser = time_limit_arg)]
    pub lns: Option<f64>,
    /// Seconds at most per re-solved part with --lns.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = time_limit_arg, requires = "lns")]
    pub lns_part: f64,
    /// The backend of --lns (highs, cbc, scip, microlp).
    #[arg(long, default_value = "highs", requires = "lns", value_parser = backend_arg)]
    pub lns_solver: edgesplit::solve::BackendKind,
}

pub fn heuristic(args: HeuristicArgs) -> Result<ExitCode> {
    let lns = args
        .lns
        .map(|budget_s| edgesplit::heuristic::lns::LnsOptions {
            backend: args.lns_solver,
            budget_s,
            per_solve_s: args.lns_part,
            quantize: args.method.quantizes(),
            progress: progress_handle(),
        });
    run_heuristic(
        &args.instance,
        args.method,
        args.output.as_deref(),
        args.json,
        lns,
    )
}

#[derive(clap::Args)]
pub struct CompareArgs {
    /// Instance files.
    #[arg(required = true)]
    pub instances: Vec<PathBuf>,
    /// Methods: tide, tide-q, prune, multi-prune, orthogonalize,
    /// centralized, milp:BACKEND.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "tide,tide-q,prune,multi-prune,orthogonalize,centralized,milp:highs"
    )]
    pub methods: Vec<String>,
    /// Time limit per MILP solve, seconds.
    #[arg(long, value_parser = time_limit_arg)]
    pub time_limit: Option<f64>,
    /// Threads for each MILP solve (default: the backend's).
    #[arg(long)]
    pub threads: Option<u32>,
    /// Run each instance once per common q_min (every task's), e.g. 0.5,0.6,0.7.
    #[arg(long, value_delimiter = ',', value_parser = finite_arg)]
    pub min_quality: Vec<f64>,
    /// Every MILP's starting incumbent: `none`, a heuristic's plan
    /// (used when the evaluator finds it feasible) or a plan file;
    /// default cost-greedy-q.
    #[arg(
        long,
        value_name = "none|METHOD|PLAN",
        conflicts_with = "warm_start_from"
    )]
    pub warm_start: Option<String>,
    /// The same as `--warm-start METHOD` (kept for older scripts).
    #[arg(long, value_name = "METHOD")]
    pub warm_start_from: Option<edgesplit::heuristic::Method>,
    /// Write the rows as CSV here (rewritten after every row).
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Write the rows as JSON here (rewritten after every row).
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn compare(args: CompareArgs) -> Result<ExitCode> {
    let CompareArgs {
        instances,
        methods,
        time_limit,
        threads,
        min_quality,
        warm_start,
        warm_start_from,
        csv,
        json,
    } = args;
    run_compare(
        &instances,
        &methods,
        &SolveOptions {
            time_limit,
            threads,
            progress: progress_handle(),
            ..SolveOptions::default()
        },
        &min_quality,
        match (warm_start, warm_start_from) {
            (Some(s), _) => s.parse::<WarmStart>().map_err(|e| anyhow::anyhow!(e))?,
            (None, Some(m)) => WarmStart::Method(m),
            (None, None) => WarmStart::default(),
        },
        csv.as_deref(),
        json.as_deref(),
    )
}

/// A backend name that this build has.
fn backend_arg(s: &str) -> Result<edgesplit::solve::BackendKind, String> {
    let kind = s.parse::<edgesplit::solve::BackendKind>()?;
    if kind.available() {
        Ok(kind)
    } else {
        Err(format!("{s}: this build has no such backend"))
    }
}

/// `--lns`: the search from the method's plan, one line per part re-solved.
fn polish(
    inst: &Instance,
    method: edgesplit::heuristic::Method,
    out: edgesplit::heuristic::Outcome,
    opts: &edgesplit::heuristic::lns::LnsOptions,
) -> edgesplit::heuristic::Outcome {
    let t0 = std::time::Instant::now();
    let start = out.plan.clone().expect("a feasible outcome has a plan");
    let (plan, log) = edgesplit::heuristic::lns::improve(inst, None, start, opts);
    for h in &log {
        eprintln!(
            "lns: {} {} in {} s, score {}",
            h.hood,
            if h.improved { "improved" } else { "unchanged" },
            sig(h.seconds),
            sig(h.score)
        );
    }
    let evaluation = edgesplit::eval::evaluate(inst, &plan, None);
    let parts = log.iter().filter(|h| h.improved).count();
    edgesplit::heuristic::Outcome {
        method,
        message: Some(format!(
            "{} part(s) of {} re-solved improved the plan; {} s of search",
            parts,
            log.len(),
            sig(t0.elapsed().as_secs_f64())
        )),
        wall_time_s: out.wall_time_s + t0.elapsed().as_secs_f64(),
        plan: Some(plan),
        evaluation: Some(evaluation),
    }
}

fn run_heuristic(
    instance: &Path,
    method: edgesplit::heuristic::Method,
    output: Option<&Path>,
    json: bool,
    lns: Option<edgesplit::heuristic::lns::LnsOptions>,
) -> Result<ExitCode> {
    let inst = load(instance)?;
    let mut out = edgesplit::heuristic::run(&inst, method, None);
    if let Some(opts) = lns.filter(|_| out.feasible()) {
        out = polish(&inst, method, out, &opts);
    }
    if let (Some(p), Some(plan)) = (output, &out.plan) {
        plan.save(p, &inst, Some(method.name()))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    match &out.evaluation {
        Some(ev) if json => println!("{}", serde_json::to_string_pretty(ev)?),
        Some(ev) => print_evaluation(&inst, ev),
        None => {}
    }
    eprintln!(
        "{}: {} in {} s{}",
        method.name(),
        if out.feasible() {
            "feasible plan"
        } else {
            "NO feasible plan"
        },
        sig(out.wall_time_s),
        out.message
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default()
    );
    Ok(if edgesplit::interrupt::requested() {
        ExitCode::from(edgesplit::interrupt::EXIT_INTERRUPTED)
    } else if out.feasible() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_compare(
    instances: &[PathBuf],
    methods: &[String],
    base: &SolveOptions,
    min_quality: &[f64],
    warm_start: WarmStart,
    csv: Option<&Path>,
    json: Option<&Path>,
) -> Result<ExitCode> {
    at_most_one_stdin(instances.iter().map(PathBuf::as_path))?;
    use edgesplit::heuristic::compare::{compare_instance, with_min_quality, CompareMethod};
    let methods: Vec<CompareMethod> = methods
        .iter()
        .map(|m| m.parse::<CompareMethod>().map_err(|e| anyhow::anyhow!(e)))
        .collect::<Result<_>>()?;
    for m in &methods {
        if let CompareMethod::Milp(k) = m {
            if !k.available() {
                anyhow::bail!("{}", k.backend().err().unwrap_or_default());
            }
        }
    }
    if let Some(t) = base.time_limit {
        if !(t.is_finite() && t > 0.0) {
            anyhow::bail!("--time-limit {t}: expected a positive number of seconds");
        }
    }
    let mut insts: Vec<Instance> = instances.iter().map(|p| load(p)).collect::<Result<_>>()?;
    // Rows name instances; files that share an instance name (generated
    // ones with the same seed, say) are told apart by their file names.
    let names: Vec<String> = insts.iter().map(|i| i.name.clone()).collect();
    for (inst, path) in insts.iter_mut().zip(instances) {
        if names.iter().filter(|n| **n == inst.name).count() > 1 {
            if let Some(stem) = path.file_stem() {
                inst.name = stem.to_string_lossy().into_owned();
            }
        }
    }
    let levels: Vec<Option<f64>> = if min_quality.is_empty() {
        vec![None]
    } else {
        min_quality.iter().map(|&q| Some(q)).collect()
    };
    let milps = methods
        .iter()
        .filter(|m| matches!(m, CompareMethod::Milp(_)))
        .count();
    // A MILP is solved twice (quantization on and off) when the instance
    // has groups and a method that cannot quantize is compared.
    let plain = methods
        .iter()
        .any(|m| matches!(m, CompareMethod::Heuristic(h) if !h.quantizes()));
    let steps: usize = insts
        .iter()
        .map(|i| {
            methods.len()
                + if plain && i.group_count() > 0 {
                    milps
                } else {
                    0
                }
        })
        .sum();
    let bar = indicatif::ProgressBar::new((steps * levels.len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template"),
    );
    let mut rows = Vec::new();
    // The rows so far go to the CSV and JSON files after each row, so that
    // an interrupt loses nothing finished; a pipe gets the final rows once.
    let write = |rows: &[edgesplit::heuristic::compare::Row], last: bool| -> Result<()> {
        if let Some(p) = csv.filter(|p| last || !is_stream(p)) {
            write_atomically(p, edgesplit::heuristic::compare::csv(rows).as_bytes())?;
        }
        if let Some(p) = json.filter(|p| last || !is_stream(p)) {
            write_atomically(p, serde_json::to_string_pretty(rows)?.as_bytes())?;
        }
        Ok(())
    };
    let mut failed: Option<anyhow::Error> = None;
    'all: for inst in &insts {
        for &q in &levels {
            if edgesplit::interrupt::requested() {
                break 'all;
            }
            let variant = match q {
                Some(q) => with_min_quality(inst, q),
                None => inst.clone(),
            };
            let done = rows.len();
            let finished_rows =
                compare_instance(&variant, q, &methods, base, &warm_start, |what, so_far| {
                    bar.set_message(what.to_string());
                    bar.inc(1);
                    if failed.is_none() {
                        let mut all = rows[..done].to_vec();
                        all.extend_from_slice(so_far);
                        failed = write(&all, false).err();
                    }
                });
            if let Some(e) = failed.take() {
                return Err(e);
            }
            rows.extend(finished_rows);
            write(&rows, false)?;
        }
    }
    bar.finish_and_clear();
    print!("{}", edgesplit::heuristic::compare::markdown(&rows));
    write(&rows, true)?;
    Ok(finished())
}
