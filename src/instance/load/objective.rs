//! The `objective:` section.

use super::Check;
use crate::instance::raw::*;
use crate::instance::*;

pub(super) fn build_objective(raw: Option<&RawObjective>, c: &mut Check) -> Objective {
    let weights = raw.and_then(|o| o.weights.as_ref());
    let w = |c: &mut Check, f: &str, v: Option<f64>, d: f64| {
        c.num(
            &format!("objective.weights.{f}"),
            v.unwrap_or(d),
            0.0,
            false,
            "weight",
        )
    };
    // Default: time only, the quantity every paper optimizes.
    let weights = Tec {
        time: w(
            c,
            "time",
            weights.and_then(|x| x.time),
            if weights.is_some() { 0.0 } else { 1.0 },
        ),
        energy: w(c, "energy", weights.and_then(|x| x.energy), 0.0),
        cost: w(c, "cost", weights.and_then(|x| x.cost), 0.0),
    };
    if weights.time + weights.energy + weights.cost <= 0.0 {
        c.err(
            "objective.weights",
            "all weights are 0: expected at least one positive weight",
        );
    }
    let normalization = match raw.and_then(|o| o.normalization.as_ref()) {
        None => Normalization::None,
        Some(RawNormalization::Named(s)) if s == "none" => Normalization::None,
        Some(RawNormalization::Named(s)) if s == "payoff" => Normalization::Payoff,
        Some(RawNormalization::Named(s)) => {
            c.err(
                "objective.normalization",
                format!("unknown normalization '{s}': expected 'none', 'payoff' or {{scales: {{time, energy, cost}}}}"),
            );
            Normalization::None
        }
        Some(RawNormalization::Scales { scales }) => {
            let s = |c: &mut Check, f: &str, v: Option<f64>| {
                c.num(
                    &format!("objective.normalization.scales.{f}"),
                    v.unwrap_or(1.0),
                    0.0,
                    true,
                    "scale",
                )
            };
            Normalization::Scales(Tec {
                time: s(c, "time", scales.time),
                energy: s(c, "energy", scales.energy),
                cost: s(c, "cost", scales.cost),
            })
        }
    };
    Objective {
        weights,
        normalization,
    }
}
