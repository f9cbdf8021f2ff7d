//! Noise (docs/formulation.md §5): `η(q) ≤ max_noise`, with η built by
//! [`Builder::noise_terms`] (each monomial linearized only on the side its
//! sign needs; the intercept through any_q so that η(0) = 0).

use super::Family;
use crate::instance::Instance;
use crate::milp::model::Sense;
use crate::milp::Builder;

pub struct Noise;

impl Family for Noise {
    fn name(&self) -> &'static str {
        "noise"
    }
    fn enabled(&self, inst: &Instance) -> bool {
        inst.families.on("noise")
            && inst.quantization.max_noise.is_some()
            && !inst.quantization.groups.is_empty()
    }
    fn diagnose(&self, inst: &Instance) -> bool {
        self.enabled(inst)
    }
    fn add(&self, b: &mut Builder) {
        let max = b.inst.quantization.max_noise.expect("checked by enabled");
        let terms = b.noise_terms();
        b.row("max_noise".into(), terms, Sense::Le, max);
    }
}
