//! The tables and plan files that the commands print and write.

use anyhow::Result;
use edgesplit::eval::{sig, Evaluation};
use edgesplit::solve::SolveReport;
use edgesplit::{Instance, Plan};
use std::path::Path;

pub(super) fn write_plan(
    plan: &Plan,
    inst: &Instance,
    method: &str,
    output: Option<&Path>,
) -> Result<()> {
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

pub(super) fn print_evaluation(inst: &Instance, ev: &Evaluation) {
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

pub(super) fn print_report(inst: &Instance, r: &SolveReport) {
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
        print_payoff_table(r, p);
    }
    for row in &r.payoff_rows {
        println!(
            "payoff row {}: status {}, MILP {}, evaluator {}, bound {}, gap {}{}",
            row.total.name(),
            row.status,
            opt(row.milp_objective),
            opt(row.evaluated_objective),
            opt(row.best_bound),
            opt(row.gap),
            row.second_stage
                .as_ref()
                .map(|s| format!(
                    "; then the others: status {}, evaluator {}, gap {}",
                    s.status,
                    opt(s.evaluated_objective),
                    opt(s.gap)
                ))
                .unwrap_or_else(|| if row.at_every_ideal {
                    "; the other objectives are at their ideals there already".into()
                } else {
                    String::new()
                })
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

/// The payoff table: one line per lexicographic row (T, E and C at its
/// plan), then the ideal and the nadir.
fn print_payoff_table(r: &SolveReport, p: &edgesplit::instance::PayoffTable) {
    println!(
        "payoff table ({} s; one lexicographic row per objective of positive weight):",
        sig(r.payoff_time_s)
    );
    println!(
        "  {:<14} {:>12} {:>12} {:>12}",
        "", "T (s)", "E (W)", "C (/s)"
    );
    for row in &r.payoff_rows {
        if let Some(t) = row.totals {
            println!(
                "  {:<14} {:>12} {:>12} {:>12}",
                format!("min {}", row.total.name()),
                sig(t.time),
                sig(t.energy),
                sig(t.cost)
            );
        }
    }
    for (label, t) in [("ideal", p.ideal), ("nadir", p.nadir)] {
        println!(
            "  {:<14} {:>12} {:>12} {:>12}",
            label,
            sig(t.time),
            sig(t.energy),
            sig(t.cost)
        );
    }
}
