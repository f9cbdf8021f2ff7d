//! The MILP's warm start: `--warm-start none|METHOD|PLAN`. By default
//! `solve`, `compare` and the server's MILP jobs start from
//! [`DEFAULT_START`]'s plan when the evaluator finds it feasible, so the
//! backend has a good incumbent from its first node; the report names the
//! start and its objective.

use super::{run, Method};
use crate::eval::evaluate;
use crate::instance::Instance;
use crate::plan::Plan;
use serde::Serialize;
use std::path::PathBuf;

/// The default start: `cost-greedy-q` (the same as `cost-greedy` on an
/// instance without quantization groups).
pub const DEFAULT_START: Method = Method::CostGreedyQ;

/// Where the MILP's starting incumbent comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum WarmStart {
    /// No start.
    None,
    /// A heuristic's plan (used only when the evaluator finds it feasible).
    Method(Method),
    /// A plan file.
    Plan(PathBuf),
}

impl Default for WarmStart {
    fn default() -> Self {
        WarmStart::Method(DEFAULT_START)
    }
}

impl std::str::FromStr for WarmStart {
    type Err = String;
    /// `none`, a method name (`tide`, `cost-greedy`, …) or a plan file.
    fn from_str(s: &str) -> Result<WarmStart, String> {
        if s == "none" {
            return Ok(WarmStart::None);
        }
        if let Ok(m) = s.parse::<Method>() {
            return Ok(WarmStart::Method(m));
        }
        let p = PathBuf::from(s);
        if p.is_file() {
            Ok(WarmStart::Plan(p))
        } else {
            Err(format!(
                "--warm-start '{s}': expected none, a method ({}) or an existing plan file",
                Method::ALL.map(|m| m.name()).join(", ")
            ))
        }
    }
}

/// The start used, as the reports show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StartInfo {
    /// `none`, the method's name, or `plan FILE`.
    pub source: String,
    /// Whether a plan was passed to the backend.
    pub used: bool,
    /// The start's objective per the evaluator.
    pub objective: Option<f64>,
    /// Why a start was not used, or the heuristic's note.
    pub message: Option<String>,
}

impl StartInfo {
    /// `cost-greedy-q (0.6034)`, `none`, `tide (not used: …)`.
    pub fn label(&self) -> String {
        match (self.used, self.objective, &self.message) {
            (true, Some(o), _) => format!("{} ({})", self.source, crate::eval::sig(o)),
            (true, None, _) => self.source.clone(),
            (false, _, Some(m)) if self.source != "none" => {
                format!("{} (not used: {m})", self.source)
            }
            _ => self.source.clone(),
        }
    }
}

/// The plan to start from, and what the report says about it. A method's
/// plan the evaluator rejects is not used (the message says why); a plan
/// file that does not match the instance is an error.
pub fn resolve(inst: &Instance, ws: &WarmStart) -> crate::Result<(Option<Plan>, StartInfo)> {
    match ws {
        WarmStart::None => Ok((
            None,
            StartInfo {
                source: "none".into(),
                used: false,
                objective: None,
                message: None,
            },
        )),
        WarmStart::Method(m) => {
            let out = run(inst, *m, None);
            let feasible = out.feasible();
            let objective = out.evaluation.as_ref().and_then(|e| e.objective);
            let message = if feasible {
                None
            } else {
                Some(
                    out.message
                        .clone()
                        .unwrap_or_else(|| "no feasible plan".into()),
                )
            };
            Ok((
                out.plan.filter(|_| feasible),
                StartInfo {
                    source: m.name().into(),
                    used: feasible,
                    objective: objective.filter(|_| feasible),
                    message,
                },
            ))
        }
        WarmStart::Plan(p) => {
            let plan = Plan::load(p, inst)?;
            let ev = evaluate(inst, &plan, None);
            let message = (!ev.feasible())
                .then(|| format!("infeasible per the evaluator: {}", ev.violations[0].message));
            Ok((
                Some(plan),
                StartInfo {
                    source: format!("plan {}", p.display()),
                    used: true,
                    objective: ev.objective,
                    message,
                },
            ))
        }
    }
}
