//! The `edgesplit` command line: the commands and their arguments, one
//! module per group of commands; `run` hands each command to its module.

mod args;
mod bench;
mod check;
mod heuristic;
mod make;
mod noise;
mod progress;
mod report;
mod solve;
mod sweep;
mod worker;

use crate::help_examples;
use anyhow::Result;
use clap::{Parser, Subcommand};
use edgesplit::Instance;
use std::path::Path;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "edgesplit",
    version,
    about = "Split, place and quantize DNNs across device, edge and cloud"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Size limits checked before an instance is expanded, as
    /// `key=N,...`: max_atoms, max_edges, max_nodes, max_instance_size,
    /// max_noise_terms, max_fit_bytes, max_routing_work (see docs/instance-format.md, "Size
    /// limits"); unnamed limits keep their defaults.
    #[arg(long, global = true, value_name = "KEY=N,...")]
    limits: Option<edgesplit::instance::Limits>,
}

/// The options every command loads instances with (set once in `main`).
static LOAD_OPTIONS: std::sync::OnceLock<edgesplit::instance::LoadOptions> =
    std::sync::OnceLock::new();

fn load_options() -> &'static edgesplit::instance::LoadOptions {
    LOAD_OPTIONS.get_or_init(Default::default)
}

fn limits() -> &'static edgesplit::instance::Limits {
    &load_options().limits
}

#[derive(Subcommand)]
enum Command {
    /// Check instance files; list every problem found (exit 1 if any).
    #[command(after_help = help_examples::VALIDATE)]
    Validate(check::ValidateArgs),
    /// Score a plan on an instance: metrics per task, node and link, the
    /// totals, the objective, and every violated constraint (exit 1 if the
    /// plan is infeasible).
    #[command(after_help = help_examples::EVALUATE)]
    Evaluate(check::EvaluateArgs),
    /// Write a reference plan that needs no solver.
    #[command(after_help = help_examples::PLAN)]
    Plan(check::PlanArgs),
    /// Generate a synthetic instance (deterministic for a seed).
    #[command(after_help = help_examples::GENERATE)]
    Generate(make::GenerateArgs),
    /// Solve an instance exactly with a MILP backend; the plan is re-scored
    /// by the evaluator (exit 0 optimal or feasible at a limit, 1 infeasible
    /// or no solution, 2 error or evaluator disagreement).
    #[command(after_help = help_examples::SOLVE)]
    Solve(solve::SolveArgs),
    /// Internal: solve in a child process for `solve` and the server, and
    /// write the report as JSON to `--out`; with INSTANCE and `--out` both
    /// `-`, a standby server worker that reads its job as JSON from
    /// standard input.
    #[command(hide = true)]
    Worker(worker::WorkerArgs),
    /// Run the HTTP model server (see docs/server.md): jobs are stored in
    /// SQLite (or PostgreSQL, shared by several servers) and solved in
    /// worker processes.
    #[cfg(feature = "server")]
    #[command(after_help = help_examples::SERVE)]
    Serve(worker::ServeArgs),
    /// Run worker processes on a PostgreSQL job store without HTTP: the
    /// back of API-only servers (`serve --no-workers`).
    #[cfg(feature = "server")]
    #[command(after_help = help_examples::WORKER_POOL)]
    WorkerPool(worker::WorkerPoolArgs),
    /// Explain an infeasible instance: which families, switched off one at a
    /// time, make it feasible, and the smallest uniform relaxation of the
    /// delay and memory limits that would.
    #[command(after_help = help_examples::DIAGNOSE)]
    Diagnose(solve::DiagnoseArgs),
    /// Solve once per noise limit (and per set of allowed nodes) and write
    /// a CSV and an SVG plot of latency against the noise limit.
    #[command(after_help = help_examples::SWEEP)]
    Sweep(sweep::SweepArgs),
    /// The exact Pareto front of two objectives by the ε-constraint method,
    /// as CSV and SVG.
    #[command(after_help = help_examples::PARETO)]
    Pareto(sweep::ParetoArgs),
    /// Fit the quantization noise regressor to samples (one 0/1 column per
    /// group and a `noise` column) and write the `quantization.noise` block.
    #[command(after_help = help_examples::FIT_NOISE)]
    FitNoise(noise::FitNoiseArgs),
    /// Generate demo noise samples (synthetic, for tests and examples only).
    #[command(after_help = help_examples::SAMPLE_NOISE)]
    SampleNoise(noise::SampleNoiseArgs),
    /// Write the MILP of an instance as LP or MPS (by the output's extension).
    #[command(after_help = help_examples::EXPORT)]
    Export(solve::ExportArgs),
    /// List the MILP backends: which this build has and what each supports.
    #[command(after_help = help_examples::SOLVERS)]
    Solvers,
    /// For a `kind: pipeline` instance: every Fig. 3 pipeline's latency,
    /// data exchanged and device energy and the optimal choice for each Q,
    /// as CSV and SVG plots; prints the crossover points.
    #[command(after_help = help_examples::SWEEP_Q)]
    SweepQ(sweep::SweepQArgs),
    /// Benchmarks: `build` (model building on the TIDE-sized instance),
    /// `solve` (every backend on generated instances of growing size) or
    /// `sweep` (a 10-limit noise sweep against a single solve).
    #[command(after_help = help_examples::BENCH)]
    Bench(bench::BenchArgs),
    /// Describe an instance: sizes, levels, fan-out classes, effective links.
    /// Draw a plan as SVG: the DNN by level, one band per task, each atom
    /// coloured by its node, quantized layers and transfers marked, beside
    /// the network's memory, utilization and link loads (`--diff`: what
    /// differs between two plans).
    #[command(after_help = help_examples::DRAW)]
    Draw(edgesplit::draw::DrawArgs),
    #[command(after_help = help_examples::INFO)]
    Info(check::InfoArgs),
    /// Run a heuristic or benchmark (TIDE, TIDE+Q, the paper's baselines)
    /// and print the evaluator's verdict (exit 1 if no feasible plan).
    #[command(after_help = help_examples::HEURISTIC)]
    Heuristic(heuristic::HeuristicArgs),
    /// Every method on every instance, scored by the evaluator, with the gap
    /// to the MILP: a Markdown table on stdout, optionally CSV and JSON.
    #[command(after_help = help_examples::COMPARE)]
    Compare(heuristic::CompareArgs),
    /// Import an ONNX model as a DNN atom graph (YAML in the instance format).
    #[command(after_help = help_examples::IMPORT_ONNX)]
    ImportOnnx(make::ImportOnnxArgs),
    /// Write an instance with a profiler's CSV of measured compute times
    /// (layer,node,time_s[,time_q_s]) inline under `profiles.times`,
    /// every row checked against the instance first.
    #[command(after_help = help_examples::IMPORT_PROFILE)]
    ImportProfile(make::ImportProfileArgs),
    /// Write a paper's evaluation scenario around a DNN file (instances
    /// plus their data files); what the paper does not give is assumed by
    /// documented, seeded rules.
    #[command(after_help = help_examples::SCENARIO)]
    Scenario(make::ScenarioArgs),
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let _ = LOAD_OPTIONS.set(edgesplit::instance::LoadOptions {
        limits: cli.limits.unwrap_or_default(),
        ..Default::default()
    });
    match cli.command {
        Command::Solve(_) | Command::Sweep(_) | Command::Pareto(_) => {
            progress::init_cli_progress(true)
        }
        // --lns solves MILPs: progress, and Ctrl-C keeps the best plan.
        Command::Heuristic(ref a) if a.lns.is_some() => progress::init_cli_progress(true),
        // compare draws its own progress bar: signals only.
        Command::Compare(_) => progress::init_cli_progress(false),
        _ => {}
    }
    match cli.command {
        Command::Validate(a) => check::validate(a),
        Command::Evaluate(a) => check::evaluate(a),
        Command::Plan(a) => check::plan(a),
        Command::Generate(a) => make::generate(a),
        Command::Solve(a) => solve::solve(a),
        Command::Worker(a) => worker::worker(a),
        #[cfg(feature = "server")]
        Command::Serve(a) => worker::serve(a),
        #[cfg(feature = "server")]
        Command::WorkerPool(a) => worker::worker_pool(a),
        Command::Diagnose(a) => solve::diagnose(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Pareto(a) => sweep::pareto(a),
        Command::FitNoise(a) => noise::fit_noise(a),
        Command::SampleNoise(a) => noise::sample_noise(a),
        Command::Export(a) => solve::export(a),
        Command::Solvers => solve::solvers(),
        Command::SweepQ(a) => sweep::sweep_q(a),
        Command::Bench(a) => bench::bench(a),
        Command::Draw(a) => edgesplit::draw::run(&a, load_options())
            .map(|()| ExitCode::SUCCESS)
            .map_err(|e| anyhow::anyhow!("{e}")),
        Command::Info(a) => check::info(a),
        Command::Heuristic(a) => heuristic::heuristic(a),
        Command::Compare(a) => heuristic::compare(a),
        Command::ImportOnnx(a) => make::import_onnx(a),
        Command::ImportProfile(a) => make::import_profile(a),
        Command::Scenario(a) => make::scenario(a),
    }
}

/// Standard input can be read once: `-` may stand for one file argument
/// of a command, not two.
fn at_most_one_stdin<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    let n = paths
        .into_iter()
        .filter(|p| edgesplit::instance::source::is_stdin(p))
        .count();
    if n > 1 {
        anyhow::bail!("`-` (standard input) is given {n} times: it can stand for one file only");
    }
    Ok(())
}

fn load(path: &Path) -> Result<Instance> {
    edgesplit::instance::load_with(path, load_options()).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Writes `bytes` to `path` through a temporary file beside it and a
/// rename, so that a reader, or an interrupt in the middle of the write,
/// sees the previous complete file or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use anyhow::Context;
    // A pipe or a device (`--csv /dev/stdout`) is written as it is.
    if is_stream(path) {
        return std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()));
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{}.part", name.unwrap_or_default()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", path.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Whether `path` is a pipe or a device rather than a file: rewriting it
/// appends instead, so it should be written once.
fn is_stream(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file())
}
