//! Heuristics and the TIDE paper's benchmarks (docs/heuristics.md), all
//! returning a [`Plan`] that [`crate::eval::evaluate`] judges: a method
//! reports a plan as feasible only when the evaluator does.
//!
//! * [`cost_greedy`]: `cost-greedy` and `cost-greedy-q`, cost-aware
//!   selection by drops and swaps alternated with Step 2.2's placer;
//! * [`entropy`]: the entropy rate H(Y) with O(1) updates;
//! * [`tide`]: TIDE Steps 2.1–2.3 and TIDE+Q's greedy quantization;
//! * [`place`]: Step 2.2, delay-constrained VNF-chain placement;
//! * [`baselines`]: `centralized`, `prune`, `multi-prune`, `orthogonalize`;
//! * [`compare`]: every method and the MILP on a set of instances.

pub mod baselines;
pub mod compare;
pub mod cost_greedy;
pub mod entropy;
pub mod lns;
pub mod place;
pub mod tide;
pub mod warm;

use crate::eval::{evaluate, Evaluation};
use crate::instance::{Instance, PayoffTable};
use crate::plan::Plan;
use serde::Serialize;
use std::time::Instant;

/// A heuristic or benchmark method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// TIDE Steps 2.1–2.3, nothing quantized.
    Tide,
    /// TIDE, then greedy quantization.
    TideQ,
    /// Cost-aware drops and swaps per task, alternated with placement,
    /// nothing quantized.
    CostGreedy,
    /// `cost-greedy`, then greedy quantization and another improvement.
    CostGreedyQ,
    /// One pruning fraction (50%–95%) for all tasks, cheapest feasible.
    Prune,
    /// Like `prune`, but each task pruned and deployed on its own.
    MultiPrune,
    /// The full parent DNN for every task, split placement.
    Orthogonalize,
    /// The full parent DNN on the most capable node.
    Centralized,
}

impl Method {
    /// Every method, in the order of the comparison tables.
    pub const ALL: [Method; 8] = [
        Method::Tide,
        Method::TideQ,
        Method::CostGreedy,
        Method::CostGreedyQ,
        Method::Prune,
        Method::MultiPrune,
        Method::Orthogonalize,
        Method::Centralized,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::Tide => "tide",
            Method::TideQ => "tide-q",
            Method::CostGreedy => "cost-greedy",
            Method::CostGreedyQ => "cost-greedy-q",
            Method::Prune => "prune",
            Method::MultiPrune => "multi-prune",
            Method::Orthogonalize => "orthogonalize",
            Method::Centralized => "centralized",
        }
    }

    /// Whether the method may quantize (otherwise it is compared with the
    /// MILP with quantization off).
    pub fn quantizes(self) -> bool {
        matches!(self, Method::TideQ | Method::CostGreedyQ)
    }

    /// The decisions the method makes: y (atoms per task), z (placement),
    /// q (quantization).
    pub fn decisions(self) -> &'static str {
        match self {
            Method::Tide | Method::CostGreedy => "y, z",
            Method::TideQ | Method::CostGreedyQ => "y, z, q",
            Method::Prune | Method::MultiPrune => "y by one fraction, z",
            Method::Orthogonalize => "z",
            Method::Centralized => "none",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Method, String> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
                format!("unknown method '{s}': expected one of {}", names.join(", "))
            })
    }
}

/// What a heuristic run gives.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The method.
    pub method: Method,
    /// The plan, if the method produced one.
    pub plan: Option<Plan>,
    /// The evaluator's verdict on it.
    pub evaluation: Option<Evaluation>,
    /// Why there is no feasible plan, or a note (the prune fraction).
    pub message: Option<String>,
    /// Wall-clock seconds.
    pub wall_time_s: f64,
}

impl Outcome {
    /// True only when the evaluator finds the plan feasible.
    pub fn feasible(&self) -> bool {
        self.evaluation.as_ref().is_some_and(Evaluation::feasible)
    }
}

/// Runs `method` on `inst` and evaluates its plan; `payoff` is needed for
/// payoff normalization (without it the heuristics normalize by the
/// centralized plan and the objective is left undefined).
pub fn run(inst: &Instance, method: Method, payoff: Option<&PayoffTable>) -> Outcome {
    let t0 = Instant::now();
    let mut message = None;
    let plan = match method {
        Method::Centralized => Some(baselines::centralized(inst)),
        Method::Orthogonalize => baselines::orthogonalize(inst, payoff),
        Method::Tide => tide::tide(inst, payoff).plan,
        Method::TideQ => tide::tide_q(inst, payoff),
        Method::CostGreedy | Method::CostGreedyQ => {
            let r = if method == Method::CostGreedy {
                cost_greedy::cost_greedy(inst, payoff)
            } else {
                cost_greedy::cost_greedy_q(inst, payoff)
            };
            message = r.reason;
            r.plan
        }
        Method::Prune | Method::MultiPrune => {
            match baselines::prune(inst, payoff, method == Method::MultiPrune) {
                Some((f, p)) => {
                    message = Some(format!("pruning fraction {:.0}%", 100.0 * f));
                    Some(p)
                }
                None => {
                    message =
                        Some("no pruning fraction from 50% to 95% meets the constraints".into());
                    None
                }
            }
        }
    };
    let evaluation = plan.as_ref().map(|p| evaluate(inst, p, payoff));
    let wall_time_s = t0.elapsed().as_secs_f64();
    if plan.is_none() && message.is_none() {
        message = Some("no placement meets the constraints".into());
    }
    if let Some(ev) = evaluation.as_ref().filter(|e| !e.feasible()) {
        message = Some(format!(
            "the plan found violates {} constraint(s): {}",
            ev.violations.len(),
            ev.violations[0].message
        ));
    }
    Outcome {
        method,
        plan,
        evaluation,
        message,
        wall_time_s,
    }
}
