//! The `edgesplit` command line.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use edgesplit::eval::{evaluate, sig, Evaluation};
use edgesplit::generate::{generate_yaml, GenParams};
use edgesplit::heuristic::warm::{StartInfo, WarmStart};
use edgesplit::milp::{ObjectiveSpec, Total};
use edgesplit::reference::{reference_plan, ReferenceMethod};
use edgesplit::solve::{
    solve_instance, BackendKind, Progress, ProgressEvent, ProgressKind, ProgressSink, SolveOptions,
    SolveReport, Status,
};
use edgesplit::{Error, Instance, Plan};
use std::path::{Path, PathBuf};

mod help_examples;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "edgesplit",
    version,
    about = "Split, place and quantize DNNs across device, edge and cloud"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Size limits checked before an instance is expanded, as
    /// `key=N,...`: max_atoms, max_edges, max_nodes, max_instance_size,
    /// max_noise_terms, max_fit_bytes (see docs/instance-format.md, "Size
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

/// `--time-limit`: seconds, finite, > 0, at most 10⁷.
fn time_limit_arg(s: &str) -> std::result::Result<f64, String> {
    let t: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number: expected seconds, e.g. 60"))?;
    edgesplit::solve::isolate::check_time_limit(t)
}

/// A finite number ≥ 0 (`--gap`, `--ridge`, `--jitter`, noise limits).
fn nonneg_arg(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}': expected a finite number ≥ 0")),
    }
}

/// A finite number (`--min-quality`).
fn finite_arg(s: &str) -> std::result::Result<f64, String> {
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

#[derive(Subcommand)]
enum Command {
    /// Check instance files; list every problem found (exit 1 if any).
    #[command(after_help = help_examples::VALIDATE)]
    Validate {
        /// Instance files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Score a plan on an instance: metrics per task, node and link, the
    /// totals, the objective, and every violated constraint (exit 1 if the
    /// plan is infeasible).
    #[command(after_help = help_examples::EVALUATE)]
    Evaluate {
        /// Instance file.
        instance: PathBuf,
        /// Plan file (YAML, or JSON by extension).
        plan: PathBuf,
        /// Print the evaluation as JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Write a reference plan that needs no solver.
    #[command(after_help = help_examples::PLAN)]
    Plan {
        /// Instance file.
        instance: PathBuf,
        /// Which reference plan.
        #[arg(long, value_enum)]
        method: ReferenceMethod,
        /// Output plan file (YAML, or JSON by extension); default: stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Generate a synthetic instance (deterministic for a seed).
    #[command(after_help = help_examples::GENERATE)]
    Generate {
        #[command(flatten)]
        params: GenParams,
        /// Output file; default: stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Solve an instance exactly with a MILP backend; the plan is re-scored
    /// by the evaluator (exit 0 optimal or feasible at a limit, 1 infeasible
    /// or no solution, 2 error or evaluator disagreement).
    #[command(after_help = help_examples::SOLVE)]
    Solve {
        /// Instance file.
        instance: PathBuf,
        #[command(flatten)]
        solver: SolverArgs,
        /// Write the plan here (YAML, or JSON by extension).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Write the full report here as JSON.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Print the report as JSON on stdout instead of tables.
        #[arg(long)]
        json: bool,
        /// With a time limit the backend runs in a child process, so that a
        /// native crash or an overrun cannot take this process down; this
        /// flag keeps it in-process.
        #[arg(long)]
        in_process: bool,
    },
    /// Internal: solve in a child process for `solve` and the server, and
    /// write the report as JSON to `--out`; with INSTANCE and `--out` both
    /// `-`, a standby server worker that reads its job as JSON from
    /// standard input.
    #[command(hide = true)]
    Worker {
        /// Instance file.
        instance: PathBuf,
        #[command(flatten)]
        solver: SolverArgs,
        /// Where to write the report.
        #[arg(long)]
        out: PathBuf,
        /// Server jobs: a backend, a heuristic or `compare:M1,M2,...`; the
        /// result is written in the server's form.
        #[arg(long)]
        method: Option<String>,
        /// Write progress events as lines on standard error for the parent.
        #[arg(long)]
        progress_lines: bool,
    },
    /// Run the HTTP model server (see docs/server.md): jobs are stored in
    /// SQLite and solved in worker processes.
    #[cfg(feature = "server")]
    #[command(after_help = help_examples::SERVE)]
    Serve {
        /// Address to listen on (port 0: any free port). Without tokens only
        /// a loopback address is allowed.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// SQLite job store; job folders go to `<db>.jobs/` beside it.
        #[arg(long, default_value = "edgesplit.db")]
        db: PathBuf,
        /// Worker processes at a time.
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// File of bearer tokens, one per line (also: EDGESPLIT_TOKENS,
        /// comma-separated).
        #[arg(long)]
        tokens_file: Option<PathBuf>,
        /// Largest request body, bytes.
        #[arg(long, default_value_t = 8 << 20)]
        max_body: usize,
        /// Largest instance: atoms × tasks × nodes.
        #[arg(long, default_value_t = 5_000_000)]
        max_instance_size: u128,
        /// Most jobs waiting at once (then 429).
        #[arg(long, default_value_t = 1000)]
        max_queue: i64,
        /// Largest per-job time limit, seconds (also the default; at most 1e7).
        #[arg(long, default_value_t = 300.0, value_parser = time_limit_arg)]
        max_time_limit: f64,
        /// Seconds a client may take to send a request's headers (also
        /// how long an idle connection stays open) and then its body.
        #[arg(long, default_value_t = 30.0)]
        read_timeout: f64,
        /// Largest job store, bytes (then 507); default: the disk's size.
        #[arg(long)]
        max_db_size: Option<u64>,
        /// Log lines on standard error: `text` or `json` (one object per
        /// line).
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        log_format: String,
    },
    /// Explain an infeasible instance: which families, switched off one at a
    /// time, make it feasible, and the smallest uniform relaxation of the
    /// delay and memory limits that would.
    #[command(after_help = help_examples::DIAGNOSE)]
    Diagnose {
        /// Instance file.
        instance: PathBuf,
        #[command(flatten)]
        solver: SolverArgs,
        /// Print the diagnosis as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Solve once per noise limit (and per set of allowed nodes) and write
    /// a CSV and an SVG plot of latency against the noise limit.
    #[command(after_help = help_examples::SWEEP)]
    Sweep {
        /// Instance file.
        instance: PathBuf,
        /// The max_noise values, e.g. 0,0.01,0.02,0.05.
        #[arg(long, value_delimiter = ',', required = true, value_parser = nonneg_arg)]
        noise_limits: Vec<f64>,
        /// Nodes that may host compute atoms, e.g. `--nodes device,edge`;
        /// repeat for one curve per set (default: one curve, all nodes).
        #[arg(long)]
        nodes: Vec<String>,
        #[command(flatten)]
        solver: SolverArgs,
        /// CSV output.
        #[arg(short, long, default_value = "sweep.csv")]
        output: PathBuf,
        /// SVG output (default: the CSV's name with .svg).
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// The exact Pareto front of two objectives by the ε-constraint method,
    /// as CSV and SVG.
    #[command(after_help = help_examples::PARETO)]
    Pareto {
        /// Instance file.
        instance: PathBuf,
        /// Two of time, energy, cost: the first is minimized, the second
        /// bounded by ε.
        #[arg(long, value_delimiter = ',', required = true)]
        objectives: Vec<String>,
        /// At most this many points.
        #[arg(long, default_value_t = 20)]
        points: usize,
        #[command(flatten)]
        solver: SolverArgs,
        /// CSV output.
        #[arg(short, long, default_value = "pareto.csv")]
        output: PathBuf,
        /// SVG output (default: the CSV's name with .svg).
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Fit the quantization noise regressor to samples (one 0/1 column per
    /// group and a `noise` column) and write the `quantization.noise` block.
    #[command(after_help = help_examples::FIT_NOISE)]
    FitNoise {
        /// Samples CSV.
        samples: PathBuf,
        /// Highest monomial degree.
        #[arg(long)]
        degree: usize,
        /// Ridge λ (λ‖β‖²), for samples that cannot determine every term.
        #[arg(long, default_value_t = 0.0, value_parser = nonneg_arg)]
        ridge: f64,
        /// Cross-validation folds (sample i in fold i mod K).
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Output YAML (default: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Generate demo noise samples (synthetic, for tests and examples only).
    #[command(after_help = help_examples::SAMPLE_NOISE)]
    SampleNoise {
        /// Required: these samples are made up, not measured.
        #[arg(long, required = true)]
        synthetic: bool,
        /// Group names, e.g. conv1,conv2,fc.
        #[arg(long, value_delimiter = ',', required = true)]
        groups: Vec<String>,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Degree of the hidden polynomial.
        #[arg(long, default_value_t = 2)]
        degree: usize,
        /// Number of random samples (default: every q in {0,1}^G).
        #[arg(long)]
        samples: Option<usize>,
        /// Relative jitter added to each sample.
        #[arg(long, default_value_t = 0.05, value_parser = nonneg_arg)]
        jitter: f64,
        /// Output CSV (default: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Write the MILP of an instance as LP or MPS (by the output's extension).
    #[command(after_help = help_examples::EXPORT)]
    Export {
        /// Instance file.
        instance: PathBuf,
        /// Output file: `.lp` or `.mps`.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// List the MILP backends: which this build has and what each supports.
    #[command(after_help = help_examples::SOLVERS)]
    Solvers,
    /// For a `kind: pipeline` instance: every Fig. 3 pipeline's latency,
    /// data exchanged and device energy and the optimal choice for each Q,
    /// as CSV and SVG plots; prints the crossover points.
    #[command(after_help = help_examples::SWEEP_Q)]
    SweepQ {
        /// Pipeline instance file.
        instance: PathBuf,
        /// Range of Q, inclusive: FROM..TO.
        #[arg(long, default_value = "1..5000")]
        q: String,
        /// Pruned variant of the Fig. 3 curves (default: the most pruned one
        /// meeting min_accuracy after fine-tuning).
        #[arg(long, value_parser = finite_arg)]
        pruning_factor: Option<f64>,
        /// Output folder for sweep.csv and the SVG plots.
        #[arg(short, long, default_value = "target/sweep-q")]
        out_dir: PathBuf,
        /// Find the optimum at each Q with this MILP backend (checked
        /// against enumeration) instead of enumeration alone.
        #[arg(long)]
        solver: Option<String>,
    },
    /// Benchmarks: `build` (model building on the TIDE-sized instance),
    /// `solve` (every backend on generated instances of growing size) or
    /// `sweep` (a 10-limit noise sweep against a single solve).
    #[command(after_help = help_examples::BENCH)]
    Bench {
        /// `build`, `solve`, `sweep` or `server`.
        #[arg(value_parser = ["build", "solve", "sweep", "server"])]
        what: String,
        /// Backends for `solve` (default: every one built in but microlp).
        #[arg(long, value_delimiter = ',')]
        solvers: Option<Vec<String>>,
        /// Time limit per solve, seconds.
        #[arg(long, default_value_t = 60.0, value_parser = time_limit_arg)]
        time_limit: f64,
        /// Build repetitions for `build`.
        #[arg(long, default_value_t = 5)]
        repeats: usize,
        /// `server`: jobs in sequence (overhead) and per client (throughput).
        #[arg(long, default_value_t = 50)]
        jobs: usize,
        /// `server`: concurrent clients for the throughput.
        #[arg(long, default_value_t = 4)]
        clients: usize,
        /// `server`: worker processes.
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// `server`: the method of every job.
        #[arg(long, default_value = "tide")]
        method: String,
        /// `server`: the instance.
        #[arg(long, default_value = "instances/default.yaml")]
        instance: PathBuf,
        /// `server`: pause before each sequential job, milliseconds.
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
        /// `solve`: strengthenings of the solved ("after") models: `all`,
        /// `none` or names (see `solve --strengthen`).
        #[arg(long)]
        strengthen: Option<String>,
        /// `solve`: only the instances whose label contains this text.
        #[arg(long)]
        only: Option<String>,
    },
    /// Draw a plan as SVG: the DNN by level, one band per task, each atom
    /// coloured by its node, quantized layers and transfers marked, beside
    /// the network's memory, utilization and link loads (`--diff`: what
    /// differs between two plans).
    #[command(after_help = help_examples::DRAW)]
    Draw(edgesplit::draw::DrawArgs),
    /// Describe an instance: sizes, levels, fan-out classes, effective links.
    #[command(after_help = help_examples::INFO)]
    Info {
        /// Instance file.
        instance: PathBuf,
        /// Print the description as JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Run a heuristic or benchmark (TIDE, TIDE+Q, the paper's baselines)
    /// and print the evaluator's verdict (exit 1 if no feasible plan).
    #[command(after_help = help_examples::HEURISTIC)]
    Heuristic {
        /// Instance file.
        instance: PathBuf,
        /// Which method.
        #[arg(long, value_enum)]
        method: edgesplit::heuristic::Method,
        /// Write the plan here (YAML, or JSON by extension).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Print the evaluation as JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Every method on every instance, scored by the evaluator, with the gap
    /// to the MILP: a Markdown table on stdout, optionally CSV and JSON.
    #[command(after_help = help_examples::COMPARE)]
    Compare {
        /// Instance files.
        #[arg(required = true)]
        instances: Vec<PathBuf>,
        /// Methods: tide, tide-q, prune, multi-prune, orthogonalize,
        /// centralized, milp:BACKEND.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "tide,tide-q,prune,multi-prune,orthogonalize,centralized,milp:highs"
        )]
        methods: Vec<String>,
        /// Time limit per MILP solve, seconds.
        #[arg(long, value_parser = time_limit_arg)]
        time_limit: Option<f64>,
        /// Threads for each MILP solve (default: the backend's).
        #[arg(long)]
        threads: Option<u32>,
        /// Run each instance once per common q_min (every task's), e.g. 0.5,0.6,0.7.
        #[arg(long, value_delimiter = ',', value_parser = finite_arg)]
        min_quality: Vec<f64>,
        /// Every MILP's starting incumbent: `none`, a heuristic's plan
        /// (used when the evaluator finds it feasible) or a plan file;
        /// default cost-greedy-q.
        #[arg(
            long,
            value_name = "none|METHOD|PLAN",
            conflicts_with = "warm_start_from"
        )]
        warm_start: Option<String>,
        /// The same as `--warm-start METHOD` (kept for older scripts).
        #[arg(long, value_name = "METHOD")]
        warm_start_from: Option<edgesplit::heuristic::Method>,
        /// Write the rows as CSV here.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Write the rows as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Import an ONNX model as a DNN atom graph (YAML in the instance format).
    #[command(after_help = help_examples::IMPORT_ONNX)]
    ImportOnnx {
        /// ONNX model file.
        model: PathBuf,
        /// layer: one atom per compute layer; filter: one atom per
        /// convolution output channel.
        #[arg(long, default_value = "layer")]
        granularity: String,
        /// Input shape, e.g. 1x3x224x224; default: the model's own.
        #[arg(long)]
        input_shape: Option<String>,
        /// DNN name; default: the model file's stem.
        #[arg(long)]
        name: Option<String>,
        /// Mark every layer mandatory (layer-level split: tasks run the
        /// whole network).
        #[arg(long)]
        mandatory: bool,
        /// Give the K highest-FLOP layers their own quantization group
        /// `q_<layer>`.
        #[arg(long, value_name = "K", default_value_t = 0)]
        quant_groups: usize,
        /// Output YAML file; default: stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Write a paper's evaluation scenario around a DNN file (instances
    /// plus their data files); what the paper does not give is assumed by
    /// documented, seeded rules.
    #[command(after_help = help_examples::SCENARIO)]
    Scenario {
        #[command(subcommand)]
        which: ScenarioCommand,
    },
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// TIDE (Malandrino et al., 2026, section IV-A): Zipf tasks, a central node, one
    /// instance per q_min, a shared relevance.csv.
    Tide(edgesplit::scenario::TideParams),
    /// MTL-Split (Capogrosso et al., 2024, DAC'24): an EfficientNet-B0 (or MobileNetV3-Small)
    /// backbone + MLP heads on a Jetson Nano and a server; the 2- and 3-task DNN files and
    /// instances, and their local-only (one network per task) counterparts.
    MtlSplit(edgesplit::scenario::MtlSplitParams),
    /// Quantization-aware splitting (Nicosanti, 2025): a layer-level DNN on device,
    /// edge and cloud, one instance per noise-regressor degree.
    SplitQuant(edgesplit::scenario::SplitQuantParams),
}

/// Options shared by every command that runs a MILP backend.
#[derive(clap::Args, Debug, Clone)]
struct SolverArgs {
    /// Backend: highs, cbc, scip or microlp (see `edgesplit solvers`).
    #[arg(long, default_value = "highs")]
    solver: String,
    /// Time limit in seconds per backend solve (> 0, at most 1e7).
    #[arg(long, value_parser = time_limit_arg)]
    time_limit: Option<f64>,
    /// Relative MIP gap at which to stop (default 1e-9: prove optimality).
    #[arg(long, value_parser = nonneg_arg)]
    gap: Option<f64>,
    /// Threads for backends that use several (1 to 256, as the server takes; default: the
    /// backend's own choice).
    #[arg(long, value_parser = threads_arg)]
    threads: Option<u32>,
    /// Random seed for the backend.
    #[arg(long)]
    seed: Option<u64>,
    /// Show the backend's log.
    #[arg(long)]
    verbose: bool,
    /// The MILP's starting incumbent, where the backend takes one: `none`,
    /// a heuristic's plan (`tide`, `cost-greedy`, `cost-greedy-q`, …; used
    /// when the evaluator finds it feasible) or a plan file. `solve`
    /// defaults to cost-greedy-q; other commands to none.
    #[arg(long, value_name = "none|METHOD|PLAN")]
    warm_start: Option<String>,
    /// Strengthenings of the MILP (valid inequalities, see
    /// docs/formulation.md): `all`, `none`, or a comma-separated list of
    /// memory_fit, cut_sets, flow (exactly those on). Default: the
    /// instance's `constraints:` switches (all on unless switched off).
    #[arg(long)]
    strengthen: Option<String>,
}

impl SolverArgs {
    /// Loads the instance and applies `--strengthen`.
    fn load(&self, path: &Path) -> Result<Instance> {
        let mut inst = load(path)?;
        if let Some(list) = &self.strengthen {
            inst.families
                .apply_strengthen_list(list)
                .map_err(|e| anyhow::anyhow!("--strengthen {e}"))?;
        }
        Ok(inst)
    }

    fn kind(&self) -> Result<BackendKind> {
        self.solver
            .parse::<BackendKind>()
            .map_err(|e| anyhow::anyhow!(e))
    }

    /// The backend, which must be built in; a warning on standard error
    /// for each given flag it does not use.
    fn usable_kind(&self) -> Result<BackendKind> {
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
    fn plain_options(&self) -> Result<SolveOptions> {
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
    fn options(&self, inst: &Instance) -> Result<SolveOptions> {
        Ok(self.options_with_start(inst, WarmStart::None)?.0)
    }

    /// The options with the warm start of `--warm-start`, or `default`
    /// without the flag, and what the report says about it.
    fn options_with_start(
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

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`edgesplit ... | head`), like other
    // command-line tools, instead of panicking inside println!.
    // SAFETY: resetting a signal disposition at startup, before any thread.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let _ = LOAD_OPTIONS.set(edgesplit::instance::LoadOptions {
        limits: cli.limits.unwrap_or_default(),
        ..Default::default()
    });
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
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

/// The progress handle of this process's solves: set by `main` for the
/// commands that solve (the CLI's progress line and its signal handling),
/// by `worker` for a worker process.
static PROGRESS: std::sync::OnceLock<Progress> = std::sync::OnceLock::new();

fn progress_handle() -> Progress {
    PROGRESS.get_or_init(Progress::default).clone()
}

/// The exit code of a command that ran to its end: 0, or
/// [`edgesplit::interrupt::EXIT_INTERRUPTED`] when a signal stopped it
/// early (after it wrote what it had).
fn finished() -> ExitCode {
    if edgesplit::interrupt::requested() {
        eprintln!("stopped by a signal: the rows above are those finished");
        ExitCode::from(edgesplit::interrupt::EXIT_INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    }
}

/// The progress display on standard error: a line redrawn in place on a
/// terminal, else a plain line every few seconds (and at each solve's end).
struct CliSink {
    terminal: bool,
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

/// Seconds between two plain progress lines.
const PLAIN_EVERY_S: f64 = 5.0;

impl ProgressSink for CliSink {
    fn event(&self, e: &ProgressEvent) {
        if self.terminal {
            let mut bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
            match e.kind {
                ProgressKind::End => {
                    if let Some(b) = bar.take() {
                        b.finish_and_clear();
                    }
                }
                _ => {
                    let b = bar.get_or_insert_with(|| {
                        let b = indicatif::ProgressBar::new_spinner();
                        b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                        b.enable_steady_tick(std::time::Duration::from_millis(200));
                        b
                    });
                    b.set_message(e.to_string());
                }
            }
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let due = match e.kind {
            ProgressKind::Start => false,
            ProgressKind::End => true,
            ProgressKind::Update => last.is_none_or(|t| t.elapsed().as_secs_f64() >= PLAIN_EVERY_S),
        };
        if due {
            *last = Some(std::time::Instant::now());
            let tag = if e.kind == ProgressKind::End {
                "done"
            } else {
                "progress"
            };
            eprintln!("{tag}: {e}");
        }
        if e.kind == ProgressKind::End {
            *last = None;
        }
    }
}

static CLI_SINK: std::sync::OnceLock<std::sync::Arc<CliSink>> = std::sync::OnceLock::new();

/// Sets up the progress display and signal handling of a command that
/// solves.
fn init_cli_progress(show: bool) {
    use std::io::IsTerminal;
    edgesplit::interrupt::install(false);
    if !show {
        let _ = PROGRESS.set(edgesplit::interrupt::progress());
        return;
    }
    let sink = CLI_SINK
        .get_or_init(|| {
            std::sync::Arc::new(CliSink {
                terminal: std::io::stderr().is_terminal(),
                bar: std::sync::Mutex::new(None),
                last: std::sync::Mutex::new(None),
            })
        })
        .clone();
    let _ = PROGRESS.set(edgesplit::interrupt::progress().with_sink(sink));
}

/// Clears the progress line before a command prints its results.
fn clear_progress() {
    if let Some(s) = CLI_SINK.get() {
        if let Some(b) = s.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}

fn load(path: &Path) -> Result<Instance> {
    edgesplit::instance::load_with(path, load_options()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Solve { .. } | Command::Sweep { .. } | Command::Pareto { .. } => {
            init_cli_progress(true)
        }
        // compare draws its own progress bar: signals only.
        Command::Compare { .. } => init_cli_progress(false),
        _ => {}
    }
    match cli.command {
        Command::Validate { files } => {
            at_most_one_stdin(files.iter().map(PathBuf::as_path))?;
            let mut bad = 0;
            for f in &files {
                if edgesplit::pipeline::is_pipeline_file(f) {
                    if !edgesplit::pipeline::cli::validate(f, &mut std::io::stdout())? {
                        bad += 1;
                    }
                    continue;
                }
                match edgesplit::instance::load_with(f, load_options()) {
                    Ok(inst) => println!(
                        "{}: ok ({} atoms, {} edges, {} tasks, {} nodes, {} quantization groups)",
                        f.display(),
                        inst.dnn.len(),
                        inst.dnn.edge_count(),
                        inst.tasks.len(),
                        inst.network.len(),
                        inst.group_count()
                    ),
                    Err(Error::Invalid { diagnostics }) => {
                        bad += 1;
                        for p in &diagnostics.problems {
                            println!("{p}");
                        }
                        println!("{}: {} problem(s)", f.display(), diagnostics.len());
                    }
                    Err(e) => {
                        bad += 1;
                        println!("{e}");
                    }
                }
            }
            Ok(if bad == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Evaluate {
            instance,
            plan,
            json,
        } => {
            at_most_one_stdin([instance.as_path(), plan.as_path()])?;
            if edgesplit::pipeline::is_pipeline_file(&instance) {
                let code = edgesplit::pipeline::cli::evaluate(
                    &instance,
                    &plan,
                    json,
                    &mut std::io::stdout(),
                )
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                return Ok(ExitCode::from(code));
            }
            let inst = load(&instance)?;
            let plan = Plan::load(&plan, &inst).map_err(|e| anyhow::anyhow!("{e}"))?;
            let ev = evaluate(&inst, &plan, None);
            if json {
                println!("{}", serde_json::to_string_pretty(&ev)?);
            } else {
                print_evaluation(&inst, &ev);
            }
            Ok(if ev.feasible() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Plan {
            instance,
            method,
            output,
        } => {
            let inst = load(&instance)?;
            let plan = reference_plan(&inst, method);
            write_plan(&plan, &inst, method.name(), output.as_deref())?;
            let ev = evaluate(&inst, &plan, None);
            eprintln!(
                "{} plan: T = {} s, E = {} W, C = {}/s, {}",
                method.name(),
                sig(ev.totals.time),
                sig(ev.totals.energy),
                sig(ev.totals.cost),
                if ev.feasible() {
                    "feasible".to_string()
                } else {
                    format!("INFEASIBLE ({} violations)", ev.violations.len())
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Scenario { which } => {
            let written = match which {
                ScenarioCommand::Tide(params) => edgesplit::scenario::write_tide(&params)?,
                ScenarioCommand::MtlSplit(params) => edgesplit::scenario::write_mtl_split(&params)?,
                ScenarioCommand::SplitQuant(params) => {
                    edgesplit::scenario::write_split_quant(&params)?
                }
            };
            for path in written {
                eprintln!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::ImportOnnx {
            model,
            granularity,
            input_shape,
            name,
            mandatory,
            quant_groups,
            output,
        } => {
            let granularity: edgesplit::onnx::Granularity = granularity.parse()?;
            let shape = input_shape
                .as_deref()
                .map(edgesplit::onnx::parse_shape)
                .transpose()?;
            let name = name.unwrap_or_else(|| {
                if edgesplit::instance::source::is_stdin(&model) {
                    return "model".into();
                }
                model
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "model".into())
            });
            let gran = match granularity {
                edgesplit::onnx::Granularity::Layer => "layer",
                edgesplit::onnx::Granularity::Filter => "filter",
            };
            let mut cmd = format!(
                "edgesplit import-onnx {} --granularity {gran} --name {name}",
                model.display()
            );
            if let Some(s) = &input_shape {
                cmd.push_str(&format!(" --input-shape {s}"));
            }
            if mandatory {
                cmd.push_str(" --mandatory");
            }
            if quant_groups > 0 {
                cmd.push_str(&format!(" --quant-groups {quant_groups}"));
            }
            let description = format!("imported from {} by: {cmd}", model.display());
            // A panic inside tract comes back as an error naming the file
            // (see onnx::import): keep its default report off the terminal.
            let hook = std::panic::take_hook();
            std::panic::set_hook(Box::new(|_| {}));
            let imported = edgesplit::onnx::import_annotated(
                &model,
                granularity,
                shape.as_deref(),
                &name,
                &description,
                edgesplit::onnx::Annotations {
                    mandatory,
                    quant_groups,
                },
            );
            std::panic::set_hook(hook);
            let (text, imp) = imported?;
            eprintln!(
                "{name}: input {:?}, {} compute layers, {:.3} GFLOP, {:.0} parameters",
                imp.input_shape,
                imp.layers.len(),
                2.0 * imp.total_macs() / 1e9,
                imp.total_params()
            );
            match output {
                Some(p) => {
                    std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?
                }
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate { params, output } => {
            let text = generate_yaml(&params);
            match output {
                Some(p) => {
                    std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?
                }
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Solve {
            instance,
            solver,
            output,
            report,
            json,
            in_process,
        } => {
            if edgesplit::pipeline::is_pipeline_file(&instance) {
                // The choice MILP is tiny: always solved in-process.
                let _ = in_process;
                let kind = solver.kind()?;
                if !kind.available() {
                    anyhow::bail!("{}", kind.backend().err().unwrap_or_default());
                }
                let code = edgesplit::pipeline::cli::solve(
                    &instance,
                    kind,
                    &pipeline_options(&solver)?,
                    output.as_deref(),
                    report.as_deref(),
                    json,
                    &mut std::io::stdout(),
                )
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                return Ok(ExitCode::from(code));
            }
            let inst = solver.load(&instance)?;
            let kind = solver.usable_kind()?;
            let (opts, start) = solver.options_with_start(&inst, WarmStart::default())?;
            let rep = if opts.time_limit.is_some() && !in_process {
                let exe = std::env::current_exe().context("locating the edgesplit binary")?;
                edgesplit::solve::isolate::solve_isolated(&exe, &instance, &inst, kind, &opts)
            } else {
                solve_instance(&inst, kind, &opts)
            };
            if let (Some(p), Some(plan)) = (&output, &rep.plan) {
                plan.save(p, &inst, Some(&format!("milp:{}", kind.name())))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            let mut full = serde_json::to_value(&rep)?;
            if let Some(o) = full.as_object_mut() {
                o.insert("warm_start".into(), serde_json::to_value(&start)?);
            }
            if let Some(p) = &report {
                std::fs::write(p, serde_json::to_string_pretty(&full)?)
                    .with_context(|| format!("writing {}", p.display()))?;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&full)?);
            } else {
                println!("warm start: {}", start.label());
                print_report(&inst, &rep);
                if rep.status == Status::Infeasible {
                    println!(
                        "the instance is infeasible: `edgesplit diagnose {}` says why",
                        instance.display()
                    );
                }
            }
            clear_progress();
            if rep.status == Status::Interrupted || rep.limit.as_deref() == Some("interrupt") {
                return Ok(ExitCode::from(edgesplit::interrupt::EXIT_INTERRUPTED));
            }
            Ok(match rep.status {
                Status::Optimal | Status::Feasible => ExitCode::SUCCESS,
                Status::Infeasible | Status::NoSolution => ExitCode::from(1),
                _ => ExitCode::from(2),
            })
        }
        Command::Worker {
            instance,
            solver,
            out,
            method,
            progress_lines,
        } => {
            // A signal (passed on by the parent) stops the solve; the
            // report of its best plan is still written.
            edgesplit::interrupt::install(true);
            let _ = PROGRESS.set(if progress_lines {
                edgesplit::interrupt::progress().with_sink(edgesplit::solve::progress::line_sink())
            } else {
                edgesplit::interrupt::progress()
            });
            // Fault injection for the isolation tests.
            match std::env::var("EDGESPLIT_WORKER_FAULT").as_deref() {
                Ok("abort") => std::process::abort(),
                Ok("hang") => loop {
                    std::thread::sleep(std::time::Duration::from_secs(3600));
                },
                _ => {}
            }
            // `worker - --out -`: a standby server worker; `worker -
            // --out FILE`: an instance on standard input (`solve -`).
            if instance.as_os_str() == "-" && out.as_os_str() == "-" {
                return server_standby();
            }
            if let Some(m) = method {
                return server_worker(&instance, &m, &solver, &out);
            }
            let inst = solver.load(&instance)?;
            let rep = solve_instance(&inst, solver.kind()?, &solver.options(&inst)?);
            let plan = rep
                .plan
                .as_ref()
                .map(|p| p.to_file(&inst, Some(&format!("milp:{}", solver.solver))));
            let w = edgesplit::solve::isolate::WorkerOutput { report: rep, plan };
            std::fs::write(&out, serde_json::to_string(&w)?)
                .with_context(|| format!("writing {}", out.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "server")]
        Command::Serve {
            addr,
            db,
            workers,
            tokens_file,
            max_body,
            max_instance_size,
            max_queue,
            max_time_limit,
            read_timeout,
            max_db_size,
            log_format,
        } => {
            let read_timeout = std::time::Duration::try_from_secs_f64(read_timeout)
                .ok()
                .filter(|d| !d.is_zero() && d.as_secs() <= 86_400)
                .ok_or_else(|| {
                    anyhow::anyhow!("--read-timeout {read_timeout}: expected 0 < seconds ≤ 86400")
                })?;
            let tokens = edgesplit::server::read_tokens(
                tokens_file.as_deref(),
                std::env::var("EDGESPLIT_TOKENS").ok().as_deref(),
            )?;
            let exe = std::env::current_exe().context("locating the edgesplit binary")?;
            edgesplit::server::serve(edgesplit::server::Config {
                addr,
                db,
                workers,
                tokens,
                max_body,
                max_instance_size,
                max_queue,
                max_time_limit,
                exe,
                read_timeout,
                max_db_bytes: max_db_size,
                log_format: log_format.parse().map_err(|e: String| anyhow::anyhow!(e))?,
                limits: *limits(),
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diagnose {
            instance,
            solver,
            json,
        } => {
            let inst = solver.load(&instance)?;
            let kind = solver.usable_kind()?;
            let d = edgesplit::solve::diagnose::diagnose(&inst, kind, &solver.options(&inst)?);
            if json {
                println!("{}", serde_json::to_string_pretty(&d)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("instance {} as given: {}", inst.name, d.status);
            for (fam, st) in &d.families_off {
                let verdict = match st {
                    Status::Optimal | Status::Feasible => "feasible",
                    Status::Infeasible => "still infeasible",
                    _ => "undecided",
                };
                println!("  without the {fam} family: {verdict} ({st})");
            }
            for (what, r, unit) in [("max_delay", &d.delay, "s"), ("memory", &d.memory, "B")] {
                match r {
                    None => println!("  relaxing every {what} alone cannot make it feasible"),
                    Some(r) if r.factor <= 1e-9 => println!("  {what}: no relaxation needed"),
                    Some(r) => {
                        println!(
                            "  feasible if every {what} grew by {:.4}%:",
                            100.0 * r.factor
                        );
                        for (name, old, new) in &r.limits {
                            println!(
                                "    {name}: {what} {} {unit} instead of {} {unit}",
                                sig(*new),
                                sig(*old)
                            );
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sweep {
            instance,
            noise_limits,
            nodes,
            solver,
            output,
            svg,
        } => {
            let inst = solver.load(&instance)?;
            let kind = available(&solver)?;
            let mut sets = Vec::new();
            for spec in &nodes {
                let mut set = Vec::new();
                for name in spec.split(',').map(str::trim) {
                    let n = inst.network.node_by_name(name).with_context(|| {
                        let known: Vec<&str> =
                            inst.network.nodes.iter().map(|n| n.name.as_str()).collect();
                        format!(
                            "--nodes {spec}: unknown node '{name}': expected some of {}",
                            known.join(", ")
                        )
                    })?;
                    set.push(n);
                }
                sets.push(set);
            }
            let mut pb = progress_bar((noise_limits.len() * sets.len().max(1)) as u64);
            // Each point goes to the CSV as soon as it is solved, so that an
            // interrupt loses nothing finished.
            let mut w = csv::Writer::from_path(&output)
                .with_context(|| format!("writing {}", output.display()))?;
            w.write_record([
                "curve",
                "limit",
                "status",
                "T",
                "E",
                "C",
                "objective",
                "noise",
                "quantized",
                "gap",
                "solve_time_s",
            ])?;
            w.flush()?;
            let f = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
            let mut write_err: Option<anyhow::Error> = None;
            let points = edgesplit::solve::sweep::noise_sweep_each(
                &inst,
                &noise_limits,
                &sets,
                kind,
                &solver.options(&inst)?,
                |m| pb.inc_msg(m),
                |p| {
                    let r = w
                        .write_record([
                            p.curve.clone(),
                            p.limit.to_string(),
                            p.status.to_string(),
                            f(p.time),
                            f(p.energy),
                            f(p.cost),
                            f(p.objective),
                            f(p.noise),
                            p.quantized.join(";"),
                            f(p.gap),
                            p.solve_time_s.to_string(),
                        ])
                        .and_then(|_| w.flush().map_err(csv::Error::from));
                    if let Err(e) = r {
                        write_err.get_or_insert(e.into());
                    }
                },
            )
            .map_err(|e| anyhow::anyhow!(e))?;
            pb.finish();
            clear_progress();
            if let Some(e) = write_err {
                return Err(e.context(format!("writing {}", output.display())));
            }
            for p in &points {
                println!(
                    "{:<24} max_noise {:<8} {:<12} T {:<10} noise {:<8} quantized [{}]",
                    p.curve,
                    sig(p.limit),
                    p.status.to_string(),
                    p.time.map(sig).unwrap_or_else(|| "-".into()),
                    p.noise.map(sig).unwrap_or_else(|| "-".into()),
                    p.quantized.join(", ")
                );
            }
            w.flush()?;
            let svg = svg.unwrap_or_else(|| output.with_extension("svg"));
            let plans = edgesplit::solve::sweep::write_sweep_outputs(&inst, &points, &output, &svg)
                .map_err(|e| anyhow::anyhow!(e))?;
            eprintln!(
                "wrote {}, {} and {}/",
                output.display(),
                svg.display(),
                plans.display()
            );
            Ok(finished())
        }
        Command::Pareto {
            instance,
            objectives,
            points,
            solver,
            output,
            svg,
        } => {
            let inst = solver.load(&instance)?;
            let kind = available(&solver)?;
            let parse = |s: &str| match s {
                "time" => Ok(Total::Time),
                "energy" => Ok(Total::Energy),
                "cost" => Ok(Total::Cost),
                other => Err(anyhow::anyhow!(
                    "--objectives: unknown objective '{other}': expected time, energy or cost"
                )),
            };
            if objectives.len() != 2 || objectives[0] == objectives[1] {
                anyhow::bail!("--objectives: expected two different objectives, e.g. time,energy");
            }
            let (f1, f2) = (parse(&objectives[0])?, parse(&objectives[1])?);
            let mut pb = progress_bar(points as u64);
            // Each point goes to the CSV as soon as it is found.
            let mut w = csv::Writer::from_path(&output)
                .with_context(|| format!("writing {}", output.display()))?;
            w.write_record([
                objectives[0].as_str(),
                objectives[1].as_str(),
                "T",
                "E",
                "C",
                "quantized",
                "proven",
            ])?;
            w.flush()?;
            let mut write_err: Option<anyhow::Error> = None;
            let front = edgesplit::solve::sweep::pareto_each(
                &inst,
                f1,
                f2,
                points,
                kind,
                &solver.options(&inst)?,
                |m| pb.inc_msg(m),
                |p| {
                    let r = w
                        .write_record([
                            p.first.to_string(),
                            p.second.to_string(),
                            p.time.to_string(),
                            p.energy.to_string(),
                            p.cost.to_string(),
                            p.quantized.join(";"),
                            p.proven.to_string(),
                        ])
                        .and_then(|_| w.flush().map_err(csv::Error::from));
                    if let Err(e) = r {
                        write_err.get_or_insert(e.into());
                    }
                },
            );
            pb.finish();
            clear_progress();
            if let Some(e) = write_err {
                return Err(e.context(format!("writing {}", output.display())));
            }
            for p in &front {
                println!(
                    "{} {:<12} {} {:<12} {}",
                    objectives[0],
                    sig(p.first),
                    objectives[1],
                    sig(p.second),
                    if p.proven {
                        ""
                    } else {
                        "(not proven: a limit stopped a solve)"
                    }
                );
            }
            w.flush()?;
            let svg = svg.unwrap_or_else(|| output.with_extension("svg"));
            let plans =
                edgesplit::solve::sweep::write_pareto_outputs(&inst, &front, f1, f2, &output, &svg)
                    .map_err(|e| anyhow::anyhow!(e))?;
            eprintln!(
                "{} points; wrote {}, {} and {}/",
                front.len(),
                output.display(),
                svg.display(),
                plans.display()
            );
            Ok(finished())
        }
        Command::FitNoise {
            samples,
            degree,
            ridge,
            folds,
            output,
        } => {
            let s = edgesplit::noise::read_samples(&samples).map_err(|e| anyhow::anyhow!("{e}"))?;
            let fit = edgesplit::noise::fit_with(&s, degree, ridge, limits())
                .map_err(|e| anyhow::anyhow!("{}: {e}", samples.display()))?;
            eprintln!(
                "{} samples, {} groups, degree {degree}, ridge {ridge}",
                s.q.len(),
                s.groups.len()
            );
            match edgesplit::noise::cross_validate_with(&s, degree, ridge, folds, limits()) {
                Ok(cv) => eprintln!(
                    "{folds}-fold cross-validation: R² {:.4}, RMSE {}, MAE {}",
                    cv.r2,
                    sig(cv.rmse),
                    sig(cv.mae)
                ),
                Err(e) => eprintln!("{folds}-fold cross-validation not possible: {e}"),
            }
            let mut text = format!(
                "# fitted by `edgesplit fit-noise {} --degree {degree} --ridge {ridge}`\n",
                samples.display()
            );
            text += &fit.to_yaml();
            match output {
                Some(p) => {
                    std::fs::write(&p, &text).with_context(|| format!("writing {}", p.display()))?
                }
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::SampleNoise {
            synthetic: _,
            groups,
            seed,
            degree,
            samples,
            jitter,
            output,
        } => {
            let text = edgesplit::noise::synthetic_samples(
                &groups,
                seed,
                degree,
                samples,
                jitter,
                limits(),
            )
            .map_err(|e| anyhow::anyhow!("--groups, --degree, --samples: {e}"))?;
            match output {
                Some(p) => {
                    std::fs::write(&p, &text).with_context(|| format!("writing {}", p.display()))?
                }
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { instance, output } => {
            let inst = load(&instance)?;
            if inst.objective.normalization == edgesplit::instance::Normalization::Payoff {
                anyhow::bail!("payoff normalization needs single-objective solves first: export with `normalization: none` or fixed scales");
            }
            let built = edgesplit::milp::build(&inst, ObjectiveSpec::Instance, None);
            let text = match output.extension().and_then(|e| e.to_str()) {
                Some("lp") => built.model.to_lp(),
                Some("mps") => built.model.to_mps(),
                _ => anyhow::bail!("{}: expected a .lp or .mps file name", output.display()),
            };
            std::fs::write(&output, text)
                .with_context(|| format!("writing {}", output.display()))?;
            let s = built.model.size();
            eprintln!(
                "{}: {} rows, {} columns ({} binary), {} nonzeros",
                output.display(),
                s.rows,
                s.columns,
                s.binaries,
                s.nonzeros
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            what,
            solvers,
            time_limit,
            repeats,
            jobs,
            clients,
            workers,
            method,
            instance,
            pause_ms,
            strengthen,
            only,
        } => {
            if what == "server" {
                #[cfg(feature = "server")]
                {
                    let exe = std::env::current_exe().context("locating the edgesplit binary")?;
                    let report = edgesplit::server::bench::bench_server(
                        &exe, &instance, &method, jobs, clients, workers, pause_ms,
                    )
                    .map_err(|e| anyhow::anyhow!(e))?;
                    print!("{report}");
                    return Ok(ExitCode::SUCCESS);
                }
                #[cfg(not(feature = "server"))]
                {
                    let _ = (jobs, clients, workers, method, instance, pause_ms);
                    anyhow::bail!("bench server needs the `server` feature");
                }
            }
            if what == "build" {
                print!("{}", edgesplit::bench::bench_build(repeats));
                return Ok(ExitCode::SUCCESS);
            }
            if what == "sweep" {
                let kind = match &solvers {
                    Some(list) if list.len() == 1 => list[0]
                        .parse::<BackendKind>()
                        .map_err(|e| anyhow::anyhow!(e))?,
                    Some(_) => anyhow::bail!("bench sweep takes one solver"),
                    None => BackendKind::Highs,
                };
                print!("{}", edgesplit::bench::bench_sweep(kind, time_limit));
                return Ok(ExitCode::SUCCESS);
            }
            let kinds: Vec<BackendKind> = match solvers {
                Some(list) => list
                    .iter()
                    .map(|s| s.parse::<BackendKind>().map_err(|e| anyhow::anyhow!(e)))
                    .collect::<Result<_>>()?,
                None => BackendKind::built_in()
                    .into_iter()
                    .filter(|&k| k != BackendKind::Microlp)
                    .collect(),
            };
            for k in &kinds {
                if !k.available() {
                    anyhow::bail!("{}", k.backend().err().unwrap_or_default());
                }
            }
            let start = std::time::Instant::now();
            let table = edgesplit::bench::bench_solve(
                &kinds,
                time_limit,
                strengthen.as_deref(),
                only.as_deref(),
                |what| eprintln!("[{:>6.0} s] {what}", start.elapsed().as_secs_f64()),
            )
            .map_err(|e| anyhow::anyhow!(e))?;
            print!("{table}");
            Ok(ExitCode::SUCCESS)
        }
        Command::SweepQ {
            instance,
            q,
            pruning_factor,
            out_dir,
            solver,
        } => {
            let kind = match solver {
                Some(s) => {
                    let k = s.parse::<BackendKind>().map_err(|e| anyhow::anyhow!(e))?;
                    if !k.available() {
                        anyhow::bail!("{}", k.backend().err().unwrap_or_default());
                    }
                    Some(k)
                }
                None => None,
            };
            let code = edgesplit::pipeline::cli::sweep_q(
                &instance,
                &q,
                pruning_factor,
                &out_dir,
                kind,
                &mut std::io::stdout(),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(ExitCode::from(code))
        }
        Command::Solvers => {
            println!(
                "{:<8} {:<9} {:>10} {:>7} {:>7} {:>5} {:>10} {:>6}",
                "solver", "built-in", "time_limit", "gap", "threads", "seed", "warm_start", "bound"
            );
            for k in BackendKind::ALL {
                let c = k.capabilities();
                let yn = |b: bool| if b { "yes" } else { "no" };
                println!(
                    "{:<8} {:<9} {:>10} {:>7} {:>7} {:>5} {:>10} {:>6}",
                    k.name(),
                    yn(k.available()),
                    yn(c.time_limit),
                    yn(c.rel_gap),
                    yn(c.threads),
                    yn(c.seed),
                    yn(c.warm_start),
                    yn(c.bound)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Draw(args) => edgesplit::draw::run(&args, load_options())
            .map(|()| ExitCode::SUCCESS)
            .map_err(|e| anyhow::anyhow!("{e}")),
        Command::Info { instance, json } => {
            let inst = load(&instance)?;
            let info = edgesplit::info::InstanceInfo::of(&inst);
            if json {
                println!("{}", serde_json::to_string_pretty(&info)?);
            } else {
                print!("{}", info.render());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Heuristic {
            instance,
            method,
            output,
            json,
        } => run_heuristic(&instance, method, output.as_deref(), json),
        Command::Compare {
            instances,
            methods,
            time_limit,
            threads,
            min_quality,
            warm_start,
            warm_start_from,
            csv,
            json,
        } => run_compare(
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
        ),
    }
}

/// `worker --method`: a server job, written in the server's form.
#[cfg(feature = "server")]
fn server_worker(
    instance: &Path,
    method: &str,
    solver: &SolverArgs,
    out: &Path,
) -> Result<ExitCode> {
    let m = edgesplit::server::worker::JobMethod::parse(method).map_err(|e| anyhow::anyhow!(e))?;
    let res = edgesplit::server::worker::run_job(instance, &m, &solver.plain_options()?)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(out, serde_json::to_string(&res)?)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// `worker -`: a standby worker for the server, which reads its job from
/// standard input.
#[cfg(feature = "server")]
fn server_standby() -> Result<ExitCode> {
    edgesplit::server::worker::run_standby(progress_handle())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "server"))]
fn server_standby() -> Result<ExitCode> {
    anyhow::bail!("worker - needs the `server` feature")
}

#[cfg(not(feature = "server"))]
fn server_worker(_: &Path, _: &str, _: &SolverArgs, _: &Path) -> Result<ExitCode> {
    anyhow::bail!("worker --method needs the `server` feature")
}

fn run_heuristic(
    instance: &Path,
    method: edgesplit::heuristic::Method,
    output: Option<&Path>,
    json: bool,
) -> Result<ExitCode> {
    let inst = load(instance)?;
    let out = edgesplit::heuristic::run(&inst, method, None);
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
    Ok(if out.feasible() {
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
    // The rows so far go to the CSV and JSON files after each instance (and
    // q_min level), so that an interrupt loses nothing finished.
    let write = |rows: &[edgesplit::heuristic::compare::Row]| -> Result<()> {
        if let Some(p) = csv {
            std::fs::write(p, edgesplit::heuristic::compare::csv(rows))
                .with_context(|| format!("writing {}", p.display()))?;
        }
        if let Some(p) = json {
            std::fs::write(p, serde_json::to_string_pretty(rows)?)
                .with_context(|| format!("writing {}", p.display()))?;
        }
        Ok(())
    };
    'all: for inst in &insts {
        for &q in &levels {
            if edgesplit::interrupt::requested() {
                break 'all;
            }
            let variant = match q {
                Some(q) => with_min_quality(inst, q),
                None => inst.clone(),
            };
            rows.extend(compare_instance(
                &variant,
                q,
                &methods,
                base,
                &warm_start,
                |what| {
                    bar.set_message(what.to_string());
                    bar.inc(1);
                },
            ));
            write(&rows)?;
        }
    }
    bar.finish_and_clear();
    print!("{}", edgesplit::heuristic::compare::markdown(&rows));
    write(&rows)?;
    Ok(finished())
}

fn write_plan(plan: &Plan, inst: &Instance, method: &str, output: Option<&Path>) -> Result<()> {
    match output {
        Some(p) => plan
            .save(p, inst, Some(method))
            .map_err(|e| anyhow::anyhow!("{e}")),
        None => {
            print!(
                "{}",
                serde_yaml::to_string(&plan.to_file(inst, Some(method)))?
            );
            Ok(())
        }
    }
}

fn print_evaluation(inst: &Instance, ev: &Evaluation) {
    println!(
        "instance {} ({} delay model)",
        inst.name,
        inst.delay_model.name()
    );
    println!(
        "{:<12} {:>6} {:>11} {:>11} {:>11} {:>11} {:>11} {:>9} {:>9} {:>9}",
        "task",
        "atoms",
        "delay_s",
        "compute_s",
        "transfer_s",
        "energy_J",
        "cost",
        "retained",
        "accuracy",
        "quality"
    );
    for t in &ev.tasks {
        println!(
            "{:<12} {:>6} {:>11} {:>11} {:>11} {:>11} {:>11} {:>9} {:>9} {:>9}",
            t.name,
            t.atoms_used,
            sig(t.delay_s),
            sig(t.compute_s),
            sig(t.transfer_s),
            sig(t.energy_j),
            sig(t.cost),
            sig(t.retained),
            sig(t.accuracy),
            sig(t.quality)
        );
    }
    println!();
    println!(
        "{:<12} {:>6} {:>12} {:>12} {:>11} {:>11}",
        "node", "atoms", "memory_B", "limit_B", "utilization", "power_W"
    );
    for n in &ev.nodes {
        println!(
            "{:<12} {:>6} {:>12} {:>12} {:>11} {:>11}",
            n.name,
            n.atoms_deployed,
            sig(n.memory_bytes),
            sig(n.memory_limit),
            sig(n.utilization),
            sig(n.power_w)
        );
    }
    if ev.links.iter().any(|l| l.load_bytes_per_s > 0.0) {
        println!();
        println!("{:<20} {:>14} {:>14}", "link", "load_B/s", "bandwidth_B/s");
        for l in ev.links.iter().filter(|l| l.load_bytes_per_s > 0.0) {
            println!(
                "{:<20} {:>14} {:>14}",
                format!("{}->{}", l.from, l.to),
                sig(l.load_bytes_per_s),
                sig(l.bandwidth)
            );
        }
    }
    println!();
    println!(
        "quantized: [{}]  noise: {}",
        ev.quantized.join(", "),
        sig(ev.noise)
    );
    println!(
        "totals: T = {} s (rate-weighted mean delay), E = {} W, C = {} per s",
        sig(ev.totals.time),
        sig(ev.totals.energy),
        sig(ev.totals.cost)
    );
    match ev.objective {
        Some(o) => println!(
            "objective ({} normalization): {}",
            normalization_name(inst),
            sig(o)
        ),
        None => println!("objective: needs the payoff table of a solve (payoff normalization)"),
    }
    if ev.feasible() {
        println!("feasible: every constraint holds");
    } else {
        println!("INFEASIBLE: {} violated constraint(s)", ev.violations.len());
        for v in &ev.violations {
            println!("  [{}] {}", v.family, v.message);
        }
    }
}

fn normalization_name(inst: &Instance) -> &'static str {
    match inst.objective.normalization {
        edgesplit::instance::Normalization::None => "no",
        edgesplit::instance::Normalization::Scales(_) => "fixed-scale",
        edgesplit::instance::Normalization::Payoff => "payoff",
    }
}

fn opt(x: Option<f64>) -> String {
    x.map(sig).unwrap_or_else(|| "-".into())
}

fn print_report(inst: &Instance, r: &SolveReport) {
    println!(
        "solver {}: status {}{}",
        r.solver,
        r.status,
        r.limit
            .as_deref()
            .map(|l| format!(" (limit: {l})"))
            .unwrap_or_default()
    );
    if let Some(m) = &r.message {
        println!("message: {m}");
    }
    println!(
        "model: {} rows, {} columns ({} binary), {} nonzeros; built in {} s",
        r.model.rows,
        r.model.columns,
        r.model.binaries,
        r.model.nonzeros,
        sig(r.build_time_s)
    );
    let fams: Vec<String> = r
        .family_rows
        .iter()
        .map(|(n, k)| format!("{n} {k}"))
        .collect();
    println!("rows by family: {}", fams.join(", "));
    if let Some(p) = &r.payoff {
        println!(
            "payoff table ({} s): ideal T {} E {} C {}; nadir T {} E {} C {}",
            sig(r.payoff_time_s),
            sig(p.ideal.time),
            sig(p.ideal.energy),
            sig(p.ideal.cost),
            sig(p.nadir.time),
            sig(p.nadir.energy),
            sig(p.nadir.cost)
        );
    }
    for row in &r.payoff_rows {
        println!(
            "payoff row {}: status {}, MILP {}, evaluator {}, bound {}, gap {}",
            row.total.name(),
            row.status,
            opt(row.milp_objective),
            opt(row.evaluated_objective),
            opt(row.best_bound),
            opt(row.gap)
        );
    }
    println!(
        "objective: MILP {}, evaluator {}; best bound {}; gap {} (optimal at most {}); solve {} s",
        opt(r.milp_objective),
        opt(r.evaluated_objective),
        opt(r.best_bound),
        opt(r.gap),
        sig(r.gap_limit),
        sig(r.solve_time_s)
    );
    if let Some(sc) = &r.scaling {
        println!(
            "scaling: objective divided by {}, {} rows scaled by factors in [{}, {}]",
            sig(sc.objective),
            sc.rows_scaled,
            sig(sc.row_factor_range[0]),
            sig(sc.row_factor_range[1])
        );
    }
    if let Some(ev) = &r.evaluation {
        println!();
        print_evaluation(inst, ev);
    }
}

fn available(solver: &SolverArgs) -> Result<BackendKind> {
    solver.usable_kind()
}

/// A progress line on stderr: `[k/n] what is running`.
struct Steps {
    done: u64,
    total: u64,
}

fn progress_bar(total: u64) -> Steps {
    Steps { done: 0, total }
}

impl Steps {
    fn inc_msg(&mut self, what: &str) {
        self.done += 1;
        eprintln!("[{}/{}] {what}", self.done, self.total);
    }
    fn finish(self) {}
}

/// Solver options for a `kind: pipeline` instance (a warm start is a joint
/// plan, which this kind has no use for).
fn pipeline_options(a: &SolverArgs) -> Result<SolveOptions> {
    if a.warm_start.is_some() {
        anyhow::bail!("--warm-start takes a joint plan: pipeline instances do not use it");
    }
    a.plain_options()
}
