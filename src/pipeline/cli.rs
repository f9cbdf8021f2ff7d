//! The commands of the `edgesplit` binary for `kind: pipeline` files:
//! `validate`, `evaluate`, `solve` and `sweep-q`. Each writes its tables
//! to `out` and returns the process exit code, like the joint commands
//! (0 fine, 1 infeasible or invalid, 2 error).

use super::eval::{self, ChoiceEval};
use super::{load, load_plan, milp, sweep, PipelineInstance, PipelinePlanFile};
use crate::error::{Error, Result};
use crate::eval::sig;
use crate::solve::{BackendKind, SolveOptions, Status};
use std::io::Write;
use std::path::Path;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn w(e: std::io::Error) -> Error {
    Error::Other(format!("writing output: {e}"))
}

/// `validate` of one pipeline file: a one-line summary, or every problem.
pub fn validate(path: &Path, out: &mut dyn Write) -> Result<bool> {
    let looks_like_plan = crate::instance::source::read_arg(path)
        .ok()
        .and_then(|t| serde_yaml::from_str::<serde_yaml::Value>(&t).ok())
        .is_some_and(|v| v.get("pipeline").is_some() && v.get("pruned").is_none());
    if looks_like_plan {
        writeln!(
            out,
            "{}: a pipeline plan file (`pruning_factor`, `pipeline`), not an instance: check it with `edgesplit evaluate INSTANCE {}`",
            path.display(),
            path.display()
        )
        .map_err(w)?;
        return Ok(false);
    }
    match load(path) {
        Ok(inst) => {
            writeln!(
                out,
                "{}: ok (pipeline kind: {} pruned variants, {} choices, Q = {}, edge {})",
                path.display(),
                inst.variants.len() - 1,
                inst.choices().len(),
                inst.requests,
                inst.edge_load.name()
            )
            .map_err(w)?;
            Ok(true)
        }
        Err(Error::Invalid { diagnostics }) => {
            for p in &diagnostics.problems {
                writeln!(out, "{p}").map_err(w)?;
            }
            writeln!(out, "{}: {} problem(s)", path.display(), diagnostics.len()).map_err(w)?;
            Ok(false)
        }
        Err(e) => {
            writeln!(out, "{e}").map_err(w)?;
            Ok(false)
        }
    }
}

fn header(inst: &PipelineInstance, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "instance {} (pipeline kind, {}): Q = {}, edge {}, D = {} B/s",
        inst.name,
        if inst.model.is_empty() {
            "unnamed model"
        } else {
            &inst.model
        },
        inst.requests,
        inst.edge_load.name(),
        sig(inst.data_rate)
    )
    .map_err(w)
}

/// Prints one choice as a Table II row: each latency contribution paid once
/// and per request, its share of the first request's latency, then the
/// totals and every violated requirement.
pub fn print_choice(ev: &ChoiceEval, out: &mut dyn Write) -> Result<()> {
    let first = ev.latency_first();
    writeln!(
        out,
        "choice {}: pruning factor {}, {}, accuracy {}",
        ev.label,
        sig(ev.pruning_factor),
        if ev.fine_tuned {
            "fine-tuned"
        } else {
            "not fine-tuned"
        },
        sig(ev.accuracy)
    )
    .map_err(w)?;
    writeln!(
        out,
        "{:<18} {:>12} {:>14} {:>9}",
        "contribution", "once_s", "per_request_s", "%(Q=1)"
    )
    .map_err(w)?;
    for c in &ev.components {
        writeln!(
            out,
            "{:<18} {:>12} {:>14} {:>9}",
            c.name,
            sig(c.seconds.once),
            sig(c.seconds.per_request),
            sig(100.0 * c.seconds.at(1.0) / first)
        )
        .map_err(w)?;
    }
    writeln!(
        out,
        "ML pipeline latency: Q=1 {} s, each later request {} s, all Q={} {} s",
        sig(first),
        sig(ev.latency_next()),
        ev.requests,
        sig(ev.latency_s)
    )
    .map_err(w)?;
    writeln!(
        out,
        "device energy {} J ({} Wh); data exchanged {} B; objective {}",
        sig(ev.device_energy_j),
        sig(ev.device_energy_j / 3600.0),
        sig(ev.data_bytes),
        sig(ev.objective)
    )
    .map_err(w)?;
    if ev.feasible() {
        writeln!(out, "feasible: every requirement holds").map_err(w)?;
    } else {
        writeln!(
            out,
            "INFEASIBLE: {} requirement(s) missed",
            ev.violations.len()
        )
        .map_err(w)?;
        for v in &ev.violations {
            writeln!(out, "  {v}").map_err(w)?;
        }
    }
    Ok(())
}

/// Prints every choice of the instance, one line each.
pub fn print_all(inst: &PipelineInstance, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "{:<18} {:>8} {:>11} {:>11} {:>12} {:>12} {:>12} {:>12}  feasible",
        "choice", "accuracy", "T(Q=1)_s", "T(Q>1)_s", "T(Q)_s", "energy_J", "data_B", "objective"
    )
    .map_err(w)?;
    for e in eval::evaluate_all(inst) {
        writeln!(
            out,
            "{:<18} {:>8} {:>11} {:>11} {:>12} {:>12} {:>12} {:>12}  {}",
            e.label,
            sig(e.accuracy),
            sig(e.latency_first()),
            sig(e.latency_next()),
            sig(e.latency_s),
            sig(e.device_energy_j),
            sig(e.data_bytes),
            sig(e.objective),
            if e.feasible() { "yes" } else { "no" }
        )
        .map_err(w)?;
    }
    Ok(())
}

/// `evaluate INSTANCE PLAN` on a pipeline instance.
pub fn evaluate(instance: &Path, plan: &Path, json: bool, out: &mut dyn Write) -> Result<u8> {
    let inst = load(instance)?;
    let choice = load_plan(plan, &inst)?;
    let ev = eval::evaluate(&inst, choice);
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&ev).map_err(|e| Error::Other(e.to_string()))?
        )
        .map_err(w)?;
    } else {
        header(&inst, out)?;
        print_choice(&ev, out)?;
        writeln!(out).map_err(w)?;
        writeln!(out, "every choice for comparison:").map_err(w)?;
        print_all(&inst, out)?;
    }
    Ok(if ev.feasible() { 0 } else { 1 })
}

/// `solve INSTANCE` on a pipeline instance: the MILP with `kind`, checked
/// by the evaluator and by enumeration; `output` gets the plan, `report`
/// the JSON report.
pub fn solve(
    instance: &Path,
    kind: BackendKind,
    opts: &SolveOptions,
    output: Option<&Path>,
    report: Option<&Path>,
    json: bool,
    out: &mut dyn Write,
) -> Result<u8> {
    let inst = load(instance)?;
    let rep = milp::solve(&inst, kind, opts);
    if let (Some(p), Some(c)) = (output, rep.choice()) {
        let file = PipelinePlanFile::of(&inst, c, Some(&format!("milp:{}", kind.name())));
        let text = if p.extension().is_some_and(|e| e == "json") {
            serde_json::to_string_pretty(&file).map_err(|e| Error::Other(e.to_string()))?
        } else {
            serde_yaml::to_string(&file).map_err(|e| Error::Other(e.to_string()))?
        };
        std::fs::write(p, text).map_err(io(p))?;
    }
    let text = serde_json::to_string_pretty(&rep).map_err(|e| Error::Other(e.to_string()))?;
    if let Some(p) = report {
        std::fs::write(p, &text).map_err(io(p))?;
    }
    if json {
        writeln!(out, "{text}").map_err(w)?;
    } else {
        header(&inst, out)?;
        let opt = |x: Option<f64>| x.map(sig).unwrap_or_else(|| "-".into());
        writeln!(out, "solver {}: status {}", rep.solver, rep.status).map_err(w)?;
        if let Some(m) = &rep.message {
            writeln!(out, "message: {m}").map_err(w)?;
        }
        writeln!(
            out,
            "model: {} rows, {} columns ({} binary), {} nonzeros; solve {} s",
            rep.model.rows,
            rep.model.columns,
            rep.model.binaries,
            rep.model.nonzeros,
            sig(rep.solve_time_s)
        )
        .map_err(w)?;
        writeln!(
            out,
            "objective: MILP {}, evaluator {}, enumeration {}",
            opt(rep.milp_objective),
            opt(rep.evaluated_objective),
            opt(rep.enumerated_objective)
        )
        .map_err(w)?;
        if let Some(ev) = &rep.evaluation {
            writeln!(out).map_err(w)?;
            print_choice(ev, out)?;
        }
        if rep.status == Status::Infeasible {
            writeln!(out, "no choice meets every requirement; every choice:").map_err(w)?;
            print_all(&inst, out)?;
        }
    }
    Ok(match rep.status {
        Status::Optimal | Status::Feasible => 0,
        Status::Infeasible | Status::NoSolution => 1,
        _ => 2,
    })
}

/// `sweep-q INSTANCE --q A..B`: CSV and plots into `dir`, crossovers and
/// changes of the optimum on `out`.
pub fn sweep_q(
    instance: &Path,
    range: &str,
    pruning_factor: Option<f64>,
    dir: &Path,
    solver: Option<BackendKind>,
    out: &mut dyn Write,
) -> Result<u8> {
    let (a, b) = sweep::parse_range(range).map_err(Error::Other)?;
    if !super::is_pipeline_file(instance) && instance.is_file() {
        return Err(Error::invalid(
            instance,
            "kind",
            "sweep-q varies Q of a pipeline instance: expected `kind: pipeline` (see docs/pipeline.md)",
        ));
    }
    let inst = load(instance)?;
    let variant = match pruning_factor {
        None => None,
        Some(pf) => match inst.variant_index(pf) {
            Some(i) if i > 0 => Some(i),
            _ => {
                let known: Vec<String> = inst.variants[1..]
                    .iter()
                    .map(|v| format!("{}", v.pruning_factor))
                    .collect();
                return Err(Error::Other(format!(
                    "--pruning-factor {pf}: not a pruned variant of {}: expected one of {}",
                    inst.name,
                    known.join(", ")
                )));
            }
        },
    };
    let s = sweep::sweep(&inst, a, b, variant, solver)?;
    let files = s.write(dir)?;
    header(&inst, out)?;
    writeln!(out, "swept Q = {a}..{b}; optimum by {}; wrote:", s.method).map_err(w)?;
    for f in &files {
        writeln!(out, "  {}", f.display()).map_err(w)?;
    }
    writeln!(
        out,
        "crossovers of the Fig. 3 curves (lower before -> lower after):"
    )
    .map_err(w)?;
    for c in &s.crossovers {
        let what = match c.edge_load {
            Some(l) => format!("{} (edge {})", c.metric, l.name()),
            None => c.metric.to_string(),
        };
        writeln!(
            out,
            "  {:<26} {:<16} -> {:<16} equal at Q = {:.2}; lower from Q = {}",
            what, c.lower_before, c.lower_after, c.q, c.first_q_after
        )
        .map_err(w)?;
    }
    writeln!(out, "optimal choice (edge {}):", inst.edge_load.name()).map_err(w)?;
    let first = s
        .optimal
        .first()
        .and_then(|o| o.as_ref())
        .map_or("none".to_string(), |e| e.label.clone());
    writeln!(out, "  Q = {a}: {first}").map_err(w)?;
    for sw in &s.switches {
        writeln!(out, "  from Q = {}: {} (was {})", sw.q, sw.to, sw.from).map_err(w)?;
    }
    Ok(0)
}
