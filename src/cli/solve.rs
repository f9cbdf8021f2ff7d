//! Commands around one MILP: solve, diagnose, export, solvers.

use super::args::{pipeline_options, SolverArgs};
use super::load;
use super::progress::clear_progress;
use super::report::print_report;
use anyhow::{Context, Result};
use edgesplit::eval::sig;
use edgesplit::heuristic::warm::WarmStart;
use edgesplit::milp::ObjectiveSpec;
use edgesplit::solve::{solve_instance, BackendKind, Status};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct SolveArgs {
    /// Instance file.
    pub instance: PathBuf,
    #[command(flatten)]
    pub solver: SolverArgs,
    /// Write the plan here (YAML, or JSON by extension).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write the full report here as JSON.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Print the report as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
    /// With a time limit the backend runs in a child process, so that a
    /// native crash or an overrun cannot take this process down; this
    /// flag keeps it in-process.
    #[arg(long)]
    pub in_process: bool,
}

pub fn solve(args: SolveArgs) -> Result<ExitCode> {
    let SolveArgs {
        instance,
        solver,
        output,
        report,
        json,
        in_process,
    } = args;
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

#[derive(clap::Args)]
pub struct DiagnoseArgs {
    /// Instance file.
    pub instance: PathBuf,
    #[command(flatten)]
    pub solver: SolverArgs,
    /// Print the diagnosis as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn diagnose(args: DiagnoseArgs) -> Result<ExitCode> {
    let DiagnoseArgs {
        instance,
        solver,
        json,
    } = args;
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

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Instance file.
    pub instance: PathBuf,
    /// Output file: `.lp` or `.mps`.
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn export(args: ExportArgs) -> Result<ExitCode> {
    let ExportArgs { instance, output } = args;
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
    std::fs::write(&output, text).with_context(|| format!("writing {}", output.display()))?;
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

pub fn solvers() -> Result<ExitCode> {
    use edgesplit::table::{self, Column};
    let yn = |b: bool| if b { "yes" } else { "no" }.to_string();
    let cols = [
        Column::left("solver").width(8),
        Column::left("built-in").width(9),
        Column::right("time_limit").width(10),
        Column::right("gap").width(7),
        Column::right("threads").width(7),
        Column::right("seed").width(5),
        Column::right("warm_start").width(10),
        Column::right("bound").width(6),
    ];
    let rows = BackendKind::ALL.iter().map(|k| {
        let c = k.capabilities();
        let mut r = vec![k.name().to_string(), yn(k.available())];
        r.extend(
            [
                c.time_limit,
                c.rel_gap,
                c.threads,
                c.seed,
                c.warm_start,
                c.bound,
            ]
            .map(yn),
        );
        r
    });
    print!("{}", table::text(&cols, rows, 1));
    Ok(ExitCode::SUCCESS)
}
