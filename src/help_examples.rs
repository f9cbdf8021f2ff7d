//! The examples that end each command's `--help`. Every line that starts
//! with `  edgesplit` is run from the repository root by
//! tests/help_examples.rs (but `serve` and `bench solve`, which run for
//! long), so none of them can go stale.

pub const VALIDATE: &str = "Examples:
  edgesplit validate instances/default.yaml instances/tide/tide-q050.yaml
  edgesplit generate --family dag --seed 4 | edgesplit validate -";

pub const EVALUATE: &str = "Examples:
  edgesplit plan instances/default.yaml --method centralized -o centralized.yaml
  edgesplit evaluate instances/default.yaml centralized.yaml --json";

pub const PLAN: &str = "Examples:
  edgesplit plan instances/default.yaml --method all-on-source";

pub const GENERATE: &str = "Examples:
  edgesplit generate --family tide --widths 16,16 --dense-layers 1 --tasks 3 --nodes 3 --seed 7 -o tide-small.yaml
  edgesplit generate --family chain --seed 3 | edgesplit solve -";

pub const SOLVE: &str = "Examples:
  edgesplit solve instances/default.yaml --time-limit 60 -o plan.yaml --report report.json
  edgesplit solve instances/tide/tide-q050.yaml --solver scip --time-limit 10 --json";

pub const SERVE: &str = "Examples:
  edgesplit serve --addr 127.0.0.1:8080 --db jobs.db --workers 2
  edgesplit serve --limits max_atoms=50000 --max-time-limit 60 --log-format json
  edgesplit serve --db postgres://edgesplit@db.example:5432/jobs --server-id api-1 --no-workers";

pub const WORKER_POOL: &str = "Examples:
  edgesplit worker-pool --db postgres://edgesplit@db.example:5432/jobs --workers 4 --server-id pool-1";

pub const DIAGNOSE: &str = "Examples:
  edgesplit diagnose instances/mtl-split/2tasks-loc.yaml";

pub const SWEEP: &str = "Examples:
  edgesplit sweep instances/default.yaml --noise-limits 0,0.01,0.05 -o sweep.csv";

pub const PARETO: &str = "Examples:
  edgesplit pareto instances/default.yaml --objectives time,energy --points 5 -o pareto.csv";

pub const FIT_NOISE: &str = "Examples:
  edgesplit sample-noise --synthetic --groups conv1,conv2,fc -o samples.csv
  edgesplit fit-noise samples.csv --degree 2 --folds 4";

pub const SAMPLE_NOISE: &str = "Examples:
  edgesplit sample-noise --synthetic --groups conv1,conv2,fc --degree 2 --samples 6";

pub const EXPORT: &str = "Examples:
  edgesplit export instances/default.yaml -o default.lp
  edgesplit export instances/default.yaml -o default.mps";

pub const SOLVERS: &str = "Examples:
  edgesplit solvers";

pub const SWEEP_Q: &str = "Examples:
  edgesplit sweep-q instances/pipeline/mobilenet-unloaded.yaml --q 1..200 -o sweep-q";

pub const BENCH: &str = "Examples:
  edgesplit bench build --repeats 1
  edgesplit bench solve --solvers highs --time-limit 60 --only 4x16";

pub const INFO: &str = "Examples:
  edgesplit info instances/default.yaml
  edgesplit info instances/tide/tide-q050.yaml --json";

pub const HEURISTIC: &str = "Examples:
  edgesplit heuristic instances/tide/tide-q050.yaml --method cost-greedy -o cost-greedy.yaml
  edgesplit heuristic instances/default.yaml --method tide-q";

pub const COMPARE: &str = "Examples:
  edgesplit compare instances/default.yaml --methods tide,cost-greedy-q,milp:highs --time-limit 30 --csv compare.csv";

pub const IMPORT_ONNX: &str = "Examples:
  edgesplit import-onnx models/onnx/light_squeezenet.onnx --granularity layer -o squeezenet.yaml";

pub const IMPORT_PROFILE: &str = "Examples:
  edgesplit import-profile instances/profiled-times.csv --instance instances/profiled.yaml -o profiled-inline.yaml
  edgesplit import-profile instances/profiled-times.csv --instance instances/profiled.yaml | edgesplit validate -";

pub const SCENARIO: &str = "Examples:
  edgesplit scenario mtl-split --out-dir mtl-split";

pub const DRAW: &str = "Examples:
  edgesplit plan instances/default.yaml --method centralized -o centralized.yaml
  edgesplit draw instances/default.yaml centralized.yaml -o centralized.svg
  edgesplit plan instances/default.yaml --method all-on-source -o source.yaml
  edgesplit draw instances/default.yaml centralized.yaml --diff source.yaml -o diff.svg";
