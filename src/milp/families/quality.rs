//! Quality (docs/formulation.md §5, TIDE eq. 3):
//! `ret(t) = Σ_a σ(a,t)·y(a,t) / Σ_a σ(a,t)`,
//! `α(t) ≤ slope_k·ret(t) + icpt_k` for every piece k of the concave F_t
//! (so α(t) ≤ F_t(ret(t))), and `α(t) − γ(t)·η(q) ≥ min_quality(t)`.

use super::Family;
use crate::instance::Instance;
use crate::milp::model::Sense;
use crate::milp::Builder;

pub struct Quality;

impl Family for Quality {
    fn name(&self) -> &'static str {
        "quality"
    }
    fn diagnose(&self, inst: &Instance) -> bool {
        self.enabled(inst)
    }
    fn add(&self, b: &mut Builder) {
        let inst = b.inst;
        for (t, task) in inst.tasks.iter().enumerate() {
            let tn = &task.name;
            let alpha =
                b.model
                    .continuous(format!("alpha({tn})"), f64::NEG_INFINITY, f64::INFINITY);
            let total = task.total_relevance();
            for (k, (slope, icpt)) in task.curve.pieces().enumerate() {
                let mut row = vec![(alpha, 1.0)];
                let mut rhs = icpt;
                if total > 0.0 {
                    for (a, &s) in task.relevance.iter().enumerate() {
                        if s > 0.0 {
                            row.push((b.y[t][a], -slope * s / total));
                        }
                    }
                } else {
                    rhs += slope; // nothing to lose: ret(t) = 1
                }
                b.row(format!("accuracy({tn},{k})"), row, Sense::Le, rhs);
            }
            let mut row = vec![(alpha, 1.0)];
            if task.noise_sensitivity > 0.0 {
                for (v, c) in b.noise_terms() {
                    row.push((v, -task.noise_sensitivity * c));
                }
            }
            b.row(
                format!("min_quality({tn})"),
                row,
                Sense::Ge,
                task.min_quality,
            );
        }
    }
}
