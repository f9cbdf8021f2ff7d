//! The `edgesplit` command line.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use edgesplit::eval::{evaluate, sig, Evaluation};
use edgesplit::generate::{generate_yaml, GenParams};
use edgesplit::reference::{reference_plan, ReferenceMethod};
use edgesplit::{Error, Instance, Plan};
use std::path::{Path, PathBuf};
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
}

#[derive(Subcommand)]
enum Command {
    /// Check instance files; list every problem found (exit 1 if any).
    Validate {
        /// Instance files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Score a plan on an instance: metrics per task, node and link, the
    /// totals, the objective, and every violated constraint (exit 1 if the
    /// plan is infeasible).
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
    Generate {
        #[command(flatten)]
        params: GenParams,
        /// Output file; default: stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Describe an instance: sizes, levels, fan-out classes, effective links.
    Info {
        /// Instance file.
        instance: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load(path: &Path) -> Result<Instance> {
    edgesplit::load(path).map_err(|e| anyhow::anyhow!("{e}"))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Validate { files } => {
            let mut bad = 0;
            for f in &files {
                match edgesplit::load(f) {
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
        Command::Info { instance } => {
            let inst = load(&instance)?;
            print_info(&inst);
            Ok(ExitCode::SUCCESS)
        }
    }
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

fn print_info(inst: &Instance) {
    let d = &inst.dnn;
    println!("instance {}: {}", inst.name, inst.description);
    println!(
        "dnn {}: {} atoms, {} edges, {} levels, {} fan-out classes, {} FLOP, {} parameter bytes",
        d.name,
        d.len(),
        d.edge_count(),
        d.levels.len(),
        d.classes.len(),
        sig(d.total_flops()),
        sig(d.total_param_bytes())
    );
    println!(
        "tasks: {}; nodes: {}; quantization groups: {}",
        inst.tasks.len(),
        inst.network.len(),
        inst.group_count()
    );
    println!(
        "delay model: {:?}; families: {:?}",
        inst.delay_model, inst.families
    );
    println!("effective links (latency s, s/B, J/B, price/B, path):");
    let net = &inst.network;
    for k in 0..net.len() {
        for h in 0..net.len() {
            if k == h {
                continue;
            }
            match net.effective(k, h) {
                None => println!(
                    "  {} -> {}: unreachable",
                    net.nodes[k].name, net.nodes[h].name
                ),
                Some(e) => {
                    let path: Vec<String> = e
                        .path
                        .iter()
                        .map(|&l| {
                            format!(
                                "{}->{}",
                                net.nodes[net.links[l].from].name, net.nodes[net.links[l].to].name
                            )
                        })
                        .collect();
                    println!(
                        "  {} -> {}: {} {} {} {} via {}",
                        net.nodes[k].name,
                        net.nodes[h].name,
                        sig(e.latency),
                        sig(e.time_per_byte),
                        sig(e.energy_per_byte),
                        sig(e.price_per_byte),
                        path.join(", ")
                    );
                }
            }
        }
    }
}

fn print_evaluation(inst: &Instance, ev: &Evaluation) {
    println!(
        "instance {} ({:?} delay model)",
        inst.name, inst.delay_model
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
