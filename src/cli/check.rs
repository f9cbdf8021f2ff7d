//! Commands that check and describe: validate, evaluate, plan, info.

use super::report::{print_evaluation, write_plan};
use super::{at_most_one_stdin, load, load_options};
use anyhow::Result;
use edgesplit::eval::sig;
use edgesplit::reference::{reference_plan, ReferenceMethod};
use edgesplit::{Error, Plan};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Instance files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn validate(args: ValidateArgs) -> Result<ExitCode> {
    let ValidateArgs { files } = args;
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

#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// Instance file.
    pub instance: PathBuf,
    /// Plan file (YAML, or JSON by extension).
    pub plan: PathBuf,
    /// Print the evaluation as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn evaluate(args: EvaluateArgs) -> Result<ExitCode> {
    let EvaluateArgs {
        instance,
        plan,
        json,
    } = args;
    at_most_one_stdin([instance.as_path(), plan.as_path()])?;
    if edgesplit::pipeline::is_pipeline_file(&instance) {
        let code =
            edgesplit::pipeline::cli::evaluate(&instance, &plan, json, &mut std::io::stdout())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok(ExitCode::from(code));
    }
    let inst = load(&instance)?;
    let plan = Plan::load(&plan, &inst).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ev = edgesplit::eval::evaluate(&inst, &plan, None);
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

#[derive(clap::Args)]
pub struct PlanArgs {
    /// Instance file.
    pub instance: PathBuf,
    /// Which reference plan.
    #[arg(long, value_enum)]
    pub method: ReferenceMethod,
    /// Output plan file (YAML, or JSON by extension); default: stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn plan(args: PlanArgs) -> Result<ExitCode> {
    let PlanArgs {
        instance,
        method,
        output,
    } = args;
    let inst = load(&instance)?;
    let plan = reference_plan(&inst, method);
    write_plan(&plan, &inst, method.name(), output.as_deref())?;
    let ev = edgesplit::eval::evaluate(&inst, &plan, None);
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

#[derive(clap::Args)]
pub struct InfoArgs {
    /// Instance file.
    pub instance: PathBuf,
    /// Print the description as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn info(args: InfoArgs) -> Result<ExitCode> {
    let InfoArgs { instance, json } = args;
    let inst = load(&instance)?;
    let info = edgesplit::info::InstanceInfo::of(&inst);
    if json {
        println!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        print!("{}", info.render());
    }
    Ok(ExitCode::SUCCESS)
}
