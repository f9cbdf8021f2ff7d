//! The evaluator of the pipeline kind: ML pipeline latency, device energy
//! and data exchanged of a [`Choice`], exactly as eqs. (1)–(9) of the seed.
//!
//! Every quantity is affine in Q: a part paid once per model (pruning,
//! fine-tuning, dataset and model transfers) plus a part paid per request
//! (sample and result transfers, inference). [`Affine`] keeps both, so the
//! same numbers give Table II's "Q = 1" and "Q > 1" columns, the curves of
//! Fig. 3 and exact crossover points.
//!
//! Names follow the seed, with `D` the data rate:
//!
//! ```text
//! t_req_res     = l^req,res / D        (sample up)            eq. (2)
//! t_res         = l^res / D            (result down)          eq. (2)
//! t_req_dataset = l^req,dataset / D                           eq. (3)
//! t_dataset     = l^dataset / D        (encrypted dataset up) eq. (3)
//! t_req_model   = l^req,model / D                             eq. (6)
//! t_model       = l^model_k / D        (model down)           eq. (6)
//! ```
//!
//! and `t_pr`, `t_enc`, `t_ft_e`, `t_ft_d`, `t_inf_e`, `t_inf_d` measured
//! (edge times in the instance's load state). Latency:
//!
//! ```text
//! E-FT/E-Inf (1): Q t_req_res + t_pr + t_req_dataset + t_enc + t_dataset + t_ft_e + Q t_inf_e + Q t_res
//! E-FT/D-Inf (5): t_req_model + t_pr + t_req_dataset + t_enc + t_dataset + t_ft_e + t_model + Q t_inf_d
//! D-FT/D-Inf (8): t_req_model + t_pr + t_model + t_ft_d + Q t_inf_d
//! E-Inf          (1) without the dataset and fine-tuning terms (and without t_pr for the full model)
//! D-Inf          (5) without the dataset and fine-tuning terms (and without t_pr for the full model)
//! ```
//!
//! Device energy, with `P_rxE = P^rx + P^E`:
//!
//! ```text
//! E-FT/E-Inf (4): Q P^tx t_req_res + P_rxE t_req_dataset + P^enc t_enc + P^tx t_dataset + Q P_rxE t_res
//! E-FT/D-Inf (7): P^tx t_req_model + P_rxE t_req_dataset + P^enc t_enc + P^tx t_dataset + P_rxE t_model + Q P^inf t_inf_d
//! D-FT/D-Inf (9): P^tx t_req_model + P_rxE t_model + P^ft t_ft_d + Q P^inf t_inf_d
//! ```
//!
//! Eq. (9) as printed multiplies the fine-tuning time by P^inf and the
//! inference time by P^ft; the code pairs each time with its own power. The
//! seed uses one value (2.8 W) for both, so the numbers are the same.
//! The edge's own energy is not counted (the seed's metric is the device's).
//!
//! Data exchanged (Fig. 3(c)) is the sum of the bytes behind each transfer
//! term of the latency.

use super::{Choice, EdgeLoad, Pipeline, PipelineInstance};
use serde::Serialize;

/// `once + Q · per_request`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Affine {
    /// Paid once per model (Q-independent).
    pub once: f64,
    /// Paid for each of the Q requests.
    pub per_request: f64,
}

impl Affine {
    /// The value for `q` requests.
    pub fn at(&self, q: f64) -> f64 {
        self.once + q * self.per_request
    }

    fn add_once(&mut self, x: f64) {
        self.once += x;
    }

    fn add_per(&mut self, x: f64) {
        self.per_request += x;
    }

    /// The real Q where `self` and `other` are equal, if their slopes differ.
    pub fn crossing(&self, other: &Affine) -> Option<f64> {
        let ds = self.per_request - other.per_request;
        (ds != 0.0).then(|| (other.once - self.once) / ds)
    }
}

/// One latency contribution as Table II lists them.
#[derive(Debug, Clone, Serialize)]
pub struct Component {
    /// `result exchange`, `model exchange`, `pruning`, `encryption`,
    /// `dataset exchange`, `inference` or `fine-tuning`.
    pub name: &'static str,
    /// Seconds.
    pub seconds: Affine,
}

/// Everything the evaluator says about one choice.
#[derive(Debug, Clone, Serialize)]
pub struct ChoiceEval {
    /// The choice.
    pub choice: Choice,
    /// `E-FT/D-Inf pf70`, `E-Inf full`.
    pub label: String,
    /// Pruning factor (0 for the full model).
    pub pruning_factor: f64,
    /// Pipeline name.
    pub pipeline: &'static str,
    /// Whether the model is fine-tuned.
    pub fine_tuned: bool,
    /// Accuracy of the deployed model.
    pub accuracy: f64,
    /// Q used for the totals.
    pub requests: u64,
    /// Edge load state used.
    pub edge_load: EdgeLoad,
    /// Latency contributions (non-zero ones, in Table II's order).
    pub components: Vec<Component>,
    /// ML pipeline latency, seconds.
    pub latency: Affine,
    /// Device energy, joules.
    pub device_energy: Affine,
    /// Data exchanged, bytes.
    pub data: Affine,
    /// Latency for Q requests.
    pub latency_s: f64,
    /// Device energy for Q requests.
    pub device_energy_j: f64,
    /// Data exchanged for Q requests.
    pub data_bytes: f64,
    /// Objective for Q requests.
    pub objective: f64,
    /// Every requirement the choice misses (empty: feasible).
    pub violations: Vec<String>,
}

impl ChoiceEval {
    /// True when every requirement holds.
    pub fn feasible(&self) -> bool {
        self.violations.is_empty()
    }

    /// Table II's "Q = 1" column: the latency of the first request.
    pub fn latency_first(&self) -> f64 {
        self.latency.at(1.0)
    }

    /// Table II's "Q > 1" column: the latency of each later request.
    pub fn latency_next(&self) -> f64 {
        self.latency.per_request
    }
}

/// Relative slack allowed on limits, the same as the MILP's.
pub fn within(value: f64, limit: f64) -> bool {
    value <= limit + 1e-9 * limit.abs().max(1.0)
}

/// The three metrics of a choice as affine functions of Q, with the latency
/// split as in Table II.
pub fn metrics(inst: &PipelineInstance, c: Choice) -> (Vec<Component>, Affine, Affine, Affine) {
    let v = &inst.variants[c.variant];
    let load = inst.edge_load;
    let d = inst.data_rate;
    let s = &inst.sizes;
    let pw = &inst.power;
    let p_rx_e = pw.rx + pw.baseband;
    // Eqs. (2), (3), (6).
    let t_req_res = s.sample_bytes / d;
    let t_res = s.result_bytes / d;
    let t_req_dataset = s.dataset_request_bytes / d;
    let t_dataset = s.encrypted_dataset_bytes() / d;
    let t_req_model = s.model_request_bytes / d;
    let t_model = v.model_bytes / d;
    let t_enc = inst.encryption_s;
    let t_pr = v.pruning_s.map_or(0.0, |t| t.at_edge(load));
    let t_inf_e = v.inference_s.at_edge(load);
    let t_inf_d = v.inference_s.at_device();

    let mut result_x = Affine::default();
    let mut model_x = Affine::default();
    let mut pruning = Affine::default();
    let mut encryption = Affine::default();
    let mut dataset_x = Affine::default();
    let mut inference = Affine::default();
    let mut fine_tuning = Affine::default();
    let mut energy = Affine::default();
    let mut data = Affine::default();

    pruning.add_once(t_pr);
    // Dataset to the edge: encrypt, send (steps 3-5 of Fig. 1).
    let dataset_to_edge = |dataset_x: &mut Affine,
                           encryption: &mut Affine,
                           energy: &mut Affine,
                           data: &mut Affine| {
        dataset_x.add_once(t_req_dataset + t_dataset);
        encryption.add_once(t_enc);
        energy.add_once(p_rx_e * t_req_dataset + pw.encryption * t_enc + pw.tx * t_dataset);
        data.add_once(s.dataset_request_bytes + s.encrypted_dataset_bytes());
    };
    if c.pipeline.infers_on_device() {
        // Eqs. (5)/(7) and (8)/(9): fetch the model once, infer locally.
        model_x.add_once(t_req_model + t_model);
        energy.add_once(pw.tx * t_req_model + p_rx_e * t_model);
        data.add_once(s.model_request_bytes + v.model_bytes);
        inference.add_per(t_inf_d);
        energy.add_per(pw.inference * t_inf_d);
    } else {
        // Eqs. (1)/(4): a sample up and a result down per request.
        result_x.add_per(t_req_res + t_res);
        energy.add_per(pw.tx * t_req_res + p_rx_e * t_res);
        data.add_per(s.sample_bytes + s.result_bytes);
        inference.add_per(t_inf_e);
    }
    match c.pipeline {
        Pipeline::EInf | Pipeline::DInf => {}
        Pipeline::EFtEInf | Pipeline::EFtDInf => {
            dataset_to_edge(&mut dataset_x, &mut encryption, &mut energy, &mut data);
            fine_tuning.add_once(v.fine_tuning_s.map_or(f64::NAN, |t| t.at_edge(load)));
        }
        Pipeline::DFtDInf => {
            let t_ft_d = v.fine_tuning_s.map_or(f64::NAN, |t| t.at_device());
            fine_tuning.add_once(t_ft_d);
            energy.add_once(pw.fine_tuning * t_ft_d);
        }
    }
    let parts = [
        ("result exchange", result_x),
        ("model exchange", model_x),
        ("pruning", pruning),
        ("encryption", encryption),
        ("dataset exchange", dataset_x),
        ("inference", inference),
        ("fine-tuning", fine_tuning),
    ];
    let mut latency = Affine::default();
    let mut components = Vec::new();
    for (name, a) in parts {
        latency.once += a.once;
        latency.per_request += a.per_request;
        if a.once != 0.0 || a.per_request != 0.0 {
            components.push(Component { name, seconds: a });
        }
    }
    (components, latency, energy, data)
}

/// Evaluates one choice for the instance's Q, load state and requirements.
pub fn evaluate(inst: &PipelineInstance, c: Choice) -> ChoiceEval {
    let v = &inst.variants[c.variant];
    let (components, latency, device_energy, data) = metrics(inst, c);
    let q = inst.requests as f64;
    let fine_tuned = c.pipeline.fine_tunes();
    let accuracy = if fine_tuned {
        v.accuracy_fine_tuned.unwrap_or(f64::NAN)
    } else {
        v.accuracy
    };
    let (latency_s, device_energy_j, data_bytes) = (latency.at(q), device_energy.at(q), data.at(q));
    let w = &inst.objective;
    let objective = w.latency * latency_s + w.device_energy * device_energy_j + w.data * data_bytes;
    let r = &inst.requirements;
    let mut violations = Vec::new();
    if accuracy + 1e-9 < r.min_accuracy || accuracy.is_nan() {
        violations.push(format!(
            "accuracy {accuracy} < min_accuracy {}",
            r.min_accuracy
        ));
    }
    for (what, value, limit, unit) in [
        ("latency", latency_s, r.max_latency_s, "s"),
        ("device energy", device_energy_j, r.max_device_energy_j, "J"),
        ("data exchanged", data_bytes, r.max_data_bytes, "B"),
    ] {
        if let Some(l) = limit {
            if !within(value, l) {
                violations.push(format!("{what} {value} {unit} > limit {l} {unit}"));
            }
        }
    }
    ChoiceEval {
        choice: c,
        label: inst.label(c),
        pruning_factor: v.pruning_factor,
        pipeline: c.pipeline.name(),
        fine_tuned,
        accuracy,
        requests: inst.requests,
        edge_load: inst.edge_load,
        components,
        latency,
        device_energy,
        data,
        latency_s,
        device_energy_j,
        data_bytes,
        objective,
        violations,
    }
}

/// Every choice of the instance, evaluated.
pub fn evaluate_all(inst: &PipelineInstance) -> Vec<ChoiceEval> {
    inst.choices()
        .into_iter()
        .map(|c| evaluate(inst, c))
        .collect()
}

/// The best feasible choice by enumeration (lowest objective; ties go to
/// the first in [`PipelineInstance::choices`] order), or `None` when no
/// choice is feasible.
pub fn enumerate_best(inst: &PipelineInstance) -> Option<ChoiceEval> {
    evaluate_all(inst)
        .into_iter()
        .filter(ChoiceEval::feasible)
        .fold(None, |best: Option<ChoiceEval>, e| match best {
            Some(b) if b.objective <= e.objective => Some(b),
            _ => Some(e),
        })
}
