//! The tables and plan files that the commands print and write.

use anyhow::Result;
use edgesplit::eval::{sig, Evaluation};
use edgesplit::solve::SolveReport;
use edgesplit::table::{self, Column};
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
    // Minimum widths keep the columns of every report in the same place.
    let task_cols = [
        Column::left("task").width(12),
        Column::right("atoms").width(6),
        Column::right("delay_s").width(11),
        Column::right("compute_s").width(11),
        Column::right("transfer_s").width(11),
        Column::right("energy_J").width(11),
        Column::right("cost").width(11),
        Column::right("retained").width(9),
        Column::right("accuracy").width(9),
        Column::right("quality").width(9),
    ];
    let task_rows = ev.tasks.iter().map(|t| {
        let mut r = vec![t.name.clone(), t.atoms_used.to_string()];
        r.extend(
            [
                t.delay_s,
                t.compute_s,
                t.transfer_s,
                t.energy_j,
                t.cost,
                t.retained,
                t.accuracy,
                t.quality,
            ]
            .map(sig),
        );
        r
    });
    print!("{}", table::text(&task_cols, task_rows, 1));
    println!();
    let node_cols = [
        Column::left("node").width(12),
        Column::right("atoms").width(6),
        Column::right("memory_B").width(12),
        Column::right("limit_B").width(12),
        Column::right("utilization").width(11),
        Column::right("power_W").width(11),
    ];
    let node_rows = ev.nodes.iter().map(|n| {
        let mut r = vec![n.name.clone(), n.atoms_deployed.to_string()];
        r.extend([n.memory_bytes, n.memory_limit, n.utilization, n.power_w].map(sig));
        r
    });
    print!("{}", table::text(&node_cols, node_rows, 1));
    if ev.links.iter().any(|l| l.load_bytes_per_s > 0.0) {
        println!();
        let link_cols = [
            Column::left("link").width(20),
            Column::right("load_B/s").width(14),
            Column::right("bandwidth_B/s").width(14),
        ];
        let link_rows = ev
            .links
            .iter()
            .filter(|l| l.load_bytes_per_s > 0.0)
            .map(|l| {
                vec![
                    format!("{}->{}", l.from, l.to),
                    sig(l.load_bytes_per_s),
                    sig(l.bandwidth),
                ]
            });
        print!("{}", table::text(&link_cols, link_rows, 1));
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
