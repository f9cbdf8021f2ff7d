//! Series of solves: noise sweeps, Pareto fronts, the pipeline Q sweep.

use super::args::{available, finite_arg, nonneg_arg, SolverArgs};
use super::progress::{clear_progress, finished, progress_bar};
use anyhow::{Context, Result};
use edgesplit::eval::sig;
use edgesplit::milp::Total;
use edgesplit::solve::BackendKind;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct SweepArgs {
    /// Instance file.
    pub instance: PathBuf,
    /// The max_noise values, e.g. 0,0.01,0.02,0.05.
    #[arg(long, value_delimiter = ',', required = true, value_parser = nonneg_arg)]
    pub noise_limits: Vec<f64>,
    /// Nodes that may host compute atoms, e.g. `--nodes device,edge`;
    /// repeat for one curve per set (default: one curve, all nodes).
    #[arg(long)]
    pub nodes: Vec<String>,
    #[command(flatten)]
    pub solver: SolverArgs,
    /// CSV output.
    #[arg(short, long, default_value = "sweep.csv")]
    pub output: PathBuf,
    /// SVG output (default: the CSV's name with .svg).
    #[arg(long)]
    pub svg: Option<PathBuf>,
}

pub fn sweep(args: SweepArgs) -> Result<ExitCode> {
    let SweepArgs {
        instance,
        noise_limits,
        nodes,
        solver,
        output,
        svg,
    } = args;
    let inst = solver.load(&instance)?;
    let kind = available(&solver)?;
    let mut sets = Vec::new();
    for spec in &nodes {
        let mut set = Vec::new();
        for name in spec.split(',').map(str::trim) {
            let n = inst.network.node_by_name(name).with_context(|| {
                let known: Vec<&str> = inst.network.nodes.iter().map(|n| n.name.as_str()).collect();
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
    let mut w =
        csv::Writer::from_path(&output).with_context(|| format!("writing {}", output.display()))?;
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

#[derive(clap::Args)]
pub struct ParetoArgs {
    /// Instance file.
    pub instance: PathBuf,
    /// Two of time, energy, cost: the first is minimized, the second
    /// bounded by ε.
    #[arg(long, value_delimiter = ',', required = true)]
    pub objectives: Vec<String>,
    /// At most this many points.
    #[arg(long, default_value_t = 20)]
    pub points: usize,
    #[command(flatten)]
    pub solver: SolverArgs,
    /// CSV output.
    #[arg(short, long, default_value = "pareto.csv")]
    pub output: PathBuf,
    /// SVG output (default: the CSV's name with .svg).
    #[arg(long)]
    pub svg: Option<PathBuf>,
}

pub fn pareto(args: ParetoArgs) -> Result<ExitCode> {
    let ParetoArgs {
        instance,
        objectives,
        points,
        solver,
        output,
        svg,
    } = args;
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
    let mut w =
        csv::Writer::from_path(&output).with_context(|| format!("writing {}", output.display()))?;
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
    let plans = edgesplit::solve::sweep::write_pareto_outputs(&inst, &front, f1, f2, &output, &svg)
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

#[derive(clap::Args)]
pub struct SweepQArgs {
    /// Pipeline instance file.
    pub instance: PathBuf,
    /// Range of Q, inclusive: FROM..TO.
    #[arg(long, default_value = "1..5000")]
    pub q: String,
    /// Pruned variant of the Fig. 3 curves (default: the most pruned one
    /// meeting min_accuracy after fine-tuning).
    #[arg(long, value_parser = finite_arg)]
    pub pruning_factor: Option<f64>,
    /// Output folder for sweep.csv and the SVG plots.
    #[arg(short, long, default_value = "target/sweep-q")]
    pub out_dir: PathBuf,
    /// Find the optimum at each Q with this MILP backend (checked
    /// against enumeration) instead of enumeration alone.
    #[arg(long)]
    pub solver: Option<String>,
}

pub fn sweep_q(args: SweepQArgs) -> Result<ExitCode> {
    let SweepQArgs {
        instance,
        q,
        pruning_factor,
        out_dir,
        solver,
    } = args;
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
