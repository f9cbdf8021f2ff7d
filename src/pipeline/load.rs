//! Parse and validate a `kind: pipeline` instance or plan file.
//!
//! Same conventions as the joint loader: serde structs that mirror the YAML
//! (unknown keys rejected, type errors with their field path), then one
//! pass of checks that records every problem as `file: field.path: message`.

use super::*;
use crate::error::{Diagnostics, Error, Result};
use crate::instance::load::{parse_yaml, read_text};
use std::path::{Path, PathBuf};

const EXPECTED: &str = "a pipeline instance mapping with `version: 1` and `kind: pipeline`";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstance {
    version: u32,
    kind: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    model: String,
    requests: u64,
    #[serde(default)]
    edge_load: Option<EdgeLoad>,
    data_rate: f64,
    sizes: RawSizes,
    encryption_s: f64,
    power: RawPowers,
    full_model: RawFull,
    pruned: Vec<RawPruned>,
    #[serde(default)]
    requirements: Option<RawRequirements>,
    #[serde(default)]
    objective: Option<RawWeights>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSizes {
    sample_bytes: f64,
    result_bytes: f64,
    dataset_bytes: f64,
    #[serde(default)]
    encryption_overhead_bytes: f64,
    #[serde(default)]
    dataset_request_bytes: f64,
    #[serde(default)]
    model_request_bytes: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPowers {
    baseband: f64,
    tx: f64,
    rx: f64,
    inference: f64,
    fine_tuning: f64,
    encryption: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimes {
    edge: f64,
    #[serde(default)]
    edge_loaded: Option<f64>,
    device: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdgeTimes {
    edge: f64,
    #[serde(default)]
    edge_loaded: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFull {
    accuracy: f64,
    model_bytes: f64,
    inference_s: RawTimes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPruned {
    pruning_factor: f64,
    accuracy: f64,
    accuracy_fine_tuned: f64,
    model_bytes: f64,
    pruning_s: RawEdgeTimes,
    fine_tuning_s: RawTimes,
    inference_s: RawTimes,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRequirements {
    #[serde(default)]
    min_accuracy: f64,
    #[serde(default)]
    max_latency_s: Option<f64>,
    #[serde(default)]
    max_device_energy_j: Option<f64>,
    #[serde(default)]
    max_data_bytes: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeights {
    #[serde(default)]
    latency: f64,
    #[serde(default)]
    device_energy: f64,
    #[serde(default)]
    data: f64,
}

/// Collects problems of one file.
struct Check<'a> {
    d: &'a mut Diagnostics,
    file: PathBuf,
}

impl Check<'_> {
    fn err(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.d.push(&self.file, path, msg);
    }

    /// A finite number ≥ 0 (or > 0 when `positive`).
    fn nonneg(&mut self, path: &str, v: f64, positive: bool, what: &str) -> f64 {
        let ok = v.is_finite() && if positive { v > 0.0 } else { v >= 0.0 };
        if !ok {
            let bound = if positive { "> 0" } else { "≥ 0" };
            self.err(
                path,
                format!("value {v} is not allowed: expected a finite {what} {bound}"),
            );
        }
        v
    }

    /// A fraction in [0, 1].
    fn fraction(&mut self, path: &str, v: f64, what: &str) -> f64 {
        if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
            self.err(
                path,
                format!("value {v} is not allowed: expected {what} as a fraction in [0, 1] (0.85 for 85%)"),
            );
        }
        v
    }

    fn times(&mut self, path: &str, t: &RawTimes, need_loaded: bool) -> Times {
        self.nonneg(&format!("{path}.edge"), t.edge, false, "number of seconds");
        self.nonneg(
            &format!("{path}.device"),
            t.device,
            false,
            "number of seconds",
        );
        self.loaded(path, t.edge_loaded, need_loaded);
        Times {
            edge: t.edge,
            edge_loaded: t.edge_loaded,
            device: Some(t.device),
        }
    }

    fn edge_times(&mut self, path: &str, t: &RawEdgeTimes, need_loaded: bool) -> Times {
        self.nonneg(&format!("{path}.edge"), t.edge, false, "number of seconds");
        self.loaded(path, t.edge_loaded, need_loaded);
        Times {
            edge: t.edge,
            edge_loaded: t.edge_loaded,
            device: None,
        }
    }

    fn loaded(&mut self, path: &str, v: Option<f64>, need: bool) {
        match v {
            Some(x) => {
                self.nonneg(&format!("{path}.edge_loaded"), x, false, "number of seconds");
            }
            None if need => self.err(
                format!("{path}.edge_loaded"),
                "missing: expected the time on the loaded edge, because the instance says `edge_load: loaded`",
            ),
            None => {}
        }
    }
}

/// Loads and validates the pipeline instance at `path`.
pub fn load(path: &Path) -> Result<PipelineInstance> {
    let text = read_text(path, path, "")?;
    load_str(&text, Some(path))
}

/// Loads and validates a pipeline instance from text; `path` names it in
/// messages.
pub fn load_str(text: &str, path: Option<&Path>) -> Result<PipelineInstance> {
    let file = path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("<input>"));
    let raw: RawInstance = parse_yaml(text, &file, EXPECTED)?;
    let numbers = numbers(&raw);
    let mut d = Diagnostics::default();
    let inst = build(raw, &file, &mut d);
    // Derived metrics are only meaningful once every number is valid.
    if d.is_empty() {
        check_scale(&inst, &numbers, &mut Check { d: &mut d, file });
    }
    if d.is_empty() {
        Ok(inst)
    } else {
        Err(Error::Invalid { diagnostics: d })
    }
}

fn build(raw: RawInstance, file: &Path, d: &mut Diagnostics) -> PipelineInstance {
    let mut c = Check {
        d,
        file: file.to_path_buf(),
    };
    check_header(&raw, &mut c);
    let edge_load = raw.edge_load.unwrap_or(EdgeLoad::Unloaded);
    let need_loaded = edge_load == EdgeLoad::Loaded;
    check_sizes_and_powers(&raw, &mut c);
    let s = &raw.sizes;
    let p = &raw.power;
    let variants = build_variants(&raw, need_loaded, &mut c);
    let rq = raw.requirements.unwrap_or_default();
    check_requirements(&rq, &mut c);
    let w = raw.objective.unwrap_or(RawWeights {
        latency: 1.0,
        device_energy: 0.0,
        data: 0.0,
    });
    check_objective(&w, &mut c);

    PipelineInstance {
        name: raw.name,
        description: raw.description,
        model: raw.model,
        requests: raw.requests,
        edge_load,
        data_rate: raw.data_rate,
        sizes: Sizes {
            sample_bytes: s.sample_bytes,
            result_bytes: s.result_bytes,
            dataset_bytes: s.dataset_bytes,
            encryption_overhead_bytes: s.encryption_overhead_bytes,
            dataset_request_bytes: s.dataset_request_bytes,
            model_request_bytes: s.model_request_bytes,
        },
        encryption_s: raw.encryption_s,
        power: Powers {
            baseband: p.baseband,
            tx: p.tx,
            rx: p.rx,
            inference: p.inference,
            fine_tuning: p.fine_tuning,
            encryption: p.encryption,
        },
        variants,
        requirements: Requirements {
            min_accuracy: rq.min_accuracy,
            max_latency_s: rq.max_latency_s,
            max_device_energy_j: rq.max_device_energy_j,
            max_data_bytes: rq.max_data_bytes,
        },
        objective: Weights {
            latency: w.latency,
            device_energy: w.device_energy,
            data: w.data,
        },
    }
}

/// Checks the version, kind, name and request count.
fn check_header(raw: &RawInstance, c: &mut Check) {
    if raw.version != 1 {
        c.err(
            "version",
            format!("version {} is not supported: expected 1", raw.version),
        );
    }
    if raw.kind != "pipeline" {
        c.err(
            "kind",
            format!(
                "found `{}`: expected `pipeline` (joint instances have no `kind`)",
                raw.kind
            ),
        );
    }
    if raw.name.trim().is_empty() {
        c.err("name", "empty: expected a name for the instance");
    }
    if raw.requests == 0 {
        c.err(
            "requests",
            "value 0 is not allowed: expected Q, a whole number of inference requests ≥ 1",
        );
    }
}

/// Checks the data rate, the sizes, the encryption time and the powers.
fn check_sizes_and_powers(raw: &RawInstance, c: &mut Check) {
    c.nonneg(
        "data_rate",
        raw.data_rate,
        true,
        "data rate in bytes per second",
    );
    let s = &raw.sizes;
    for (name, v) in [
        ("sample_bytes", s.sample_bytes),
        ("result_bytes", s.result_bytes),
        ("dataset_bytes", s.dataset_bytes),
        ("encryption_overhead_bytes", s.encryption_overhead_bytes),
        ("dataset_request_bytes", s.dataset_request_bytes),
        ("model_request_bytes", s.model_request_bytes),
    ] {
        c.nonneg(&format!("sizes.{name}"), v, false, "number of bytes");
    }
    c.nonneg("encryption_s", raw.encryption_s, false, "number of seconds");
    let p = &raw.power;
    for (name, v) in [
        ("baseband", p.baseband),
        ("tx", p.tx),
        ("rx", p.rx),
        ("inference", p.inference),
        ("fine_tuning", p.fine_tuning),
        ("encryption", p.encryption),
    ] {
        c.nonneg(&format!("power.{name}"), v, false, "power in watts");
    }
}

/// Checks the full model and the pruned variants; returns the variants,
/// the full model first and the pruned ones by pruning factor.
fn build_variants(raw: &RawInstance, need_loaded: bool, c: &mut Check) -> Vec<Variant> {
    let f = &raw.full_model;
    c.fraction("full_model.accuracy", f.accuracy, "the accuracy");
    c.nonneg(
        "full_model.model_bytes",
        f.model_bytes,
        true,
        "number of bytes",
    );
    let mut variants = vec![Variant {
        name: "full".into(),
        pruning_factor: 0.0,
        accuracy: f.accuracy,
        accuracy_fine_tuned: None,
        model_bytes: f.model_bytes,
        pruning_s: None,
        fine_tuning_s: None,
        inference_s: c.times("full_model.inference_s", &f.inference_s, need_loaded),
    }];

    if raw.pruned.is_empty() {
        c.err("pruned", "empty: expected at least one pruned variant (pruning_factor, accuracies, sizes, times)");
    }
    for (i, r) in raw.pruned.iter().enumerate() {
        let at = format!("pruned[{i}]");
        let pf = r.pruning_factor;
        if !(pf.is_finite() && pf > 0.0 && pf < 1.0) {
            c.err(
                format!("{at}.pruning_factor"),
                format!("value {pf} is not allowed: expected the fraction of weights removed, in (0, 1) (0.7 for 70%)"),
            );
        } else if let Some(j) = raw.pruned[..i]
            .iter()
            .position(|o| (o.pruning_factor - pf).abs() < 1e-9)
        {
            c.err(
                format!("{at}.pruning_factor"),
                format!(
                    "{pf} is already the pruning factor of pruned[{j}]: expected each factor once"
                ),
            );
        }
        c.fraction(&format!("{at}.accuracy"), r.accuracy, "the accuracy");
        c.fraction(
            &format!("{at}.accuracy_fine_tuned"),
            r.accuracy_fine_tuned,
            "the accuracy",
        );
        c.nonneg(
            &format!("{at}.model_bytes"),
            r.model_bytes,
            true,
            "number of bytes",
        );
        variants.push(Variant {
            name: format!("pf{}", fmt_percent(pf)),
            pruning_factor: pf,
            accuracy: r.accuracy,
            accuracy_fine_tuned: Some(r.accuracy_fine_tuned),
            model_bytes: r.model_bytes,
            pruning_s: Some(c.edge_times(&format!("{at}.pruning_s"), &r.pruning_s, need_loaded)),
            fine_tuning_s: Some(c.times(
                &format!("{at}.fine_tuning_s"),
                &r.fine_tuning_s,
                need_loaded,
            )),
            inference_s: c.times(&format!("{at}.inference_s"), &r.inference_s, need_loaded),
        });
    }
    variants[1..].sort_by(|a, b| a.pruning_factor.total_cmp(&b.pruning_factor));

    variants
}

/// Checks the requirements.
fn check_requirements(rq: &RawRequirements, c: &mut Check) {
    c.fraction(
        "requirements.min_accuracy",
        rq.min_accuracy,
        "the lowest accuracy",
    );
    for (name, v) in [
        ("max_latency_s", rq.max_latency_s),
        ("max_device_energy_j", rq.max_device_energy_j),
        ("max_data_bytes", rq.max_data_bytes),
    ] {
        if let Some(v) = v {
            c.nonneg(&format!("requirements.{name}"), v, true, "limit");
        }
    }
}

/// Checks the objective weights.
fn check_objective(w: &RawWeights, c: &mut Check) {
    for (name, v) in [
        ("latency", w.latency),
        ("device_energy", w.device_energy),
        ("data", w.data),
    ] {
        c.nonneg(&format!("objective.{name}"), v, false, "weight");
    }
    if w.latency == 0.0 && w.device_energy == 0.0 && w.data == 0.0 {
        c.err("objective", "every weight is 0: expected at least one positive weight (latency, device_energy, data)");
    }
}

/// Every number of the file with its field path.
fn numbers(raw: &RawInstance) -> Vec<(String, f64)> {
    let s = &raw.sizes;
    let p = &raw.power;
    let mut v: Vec<(String, f64)> = vec![
        ("requests".into(), raw.requests as f64),
        ("data_rate".into(), raw.data_rate),
        ("encryption_s".into(), raw.encryption_s),
    ];
    for (k, x) in [
        ("sample_bytes", s.sample_bytes),
        ("result_bytes", s.result_bytes),
        ("dataset_bytes", s.dataset_bytes),
        ("encryption_overhead_bytes", s.encryption_overhead_bytes),
        ("dataset_request_bytes", s.dataset_request_bytes),
        ("model_request_bytes", s.model_request_bytes),
    ] {
        v.push((format!("sizes.{k}"), x));
    }
    for (k, x) in [
        ("baseband", p.baseband),
        ("tx", p.tx),
        ("rx", p.rx),
        ("inference", p.inference),
        ("fine_tuning", p.fine_tuning),
        ("encryption", p.encryption),
    ] {
        v.push((format!("power.{k}"), x));
    }
    let times = |v: &mut Vec<(String, f64)>, at: &str, t: &RawTimes| {
        v.push((format!("{at}.edge"), t.edge));
        v.push((format!("{at}.device"), t.device));
        v.extend(t.edge_loaded.map(|x| (format!("{at}.edge_loaded"), x)));
    };
    let f = &raw.full_model;
    v.push(("full_model.model_bytes".into(), f.model_bytes));
    times(&mut v, "full_model.inference_s", &f.inference_s);
    for (i, r) in raw.pruned.iter().enumerate() {
        let at = format!("pruned[{i}]");
        v.push((format!("{at}.model_bytes"), r.model_bytes));
        v.push((format!("{at}.pruning_s.edge"), r.pruning_s.edge));
        v.extend(
            r.pruning_s
                .edge_loaded
                .map(|x| (format!("{at}.pruning_s.edge_loaded"), x)),
        );
        times(&mut v, &format!("{at}.fine_tuning_s"), &r.fine_tuning_s);
        times(&mut v, &format!("{at}.inference_s"), &r.inference_s);
    }
    if let Some(w) = &raw.objective {
        v.push(("objective.latency".into(), w.latency));
        v.push(("objective.device_energy".into(), w.device_energy));
        v.push(("objective.data".into(), w.data));
    }
    v
}

/// Every pipeline's latency, device energy, data and weighted objective at
/// the instance's Q must be finite and at most
/// [`crate::instance::scale::MAX_DERIVED`] (the choice MILP's coefficients);
/// otherwise the most extreme number of the file (the largest |log₁₀|) is
/// blamed.
fn check_scale(inst: &PipelineInstance, numbers: &[(String, f64)], c: &mut Check) {
    use crate::instance::scale::{fmt_num, MAX_DERIVED};
    let bad = super::eval::evaluate_all(inst).into_iter().find_map(|e| {
        [
            ("latency", e.latency_s, "s"),
            ("device energy", e.device_energy_j, "J"),
            ("data exchanged", e.data_bytes, "B"),
            ("weighted objective", e.objective, ""),
        ]
        .into_iter()
        .find(|(_, x, _)| {
            !matches!(
                x.abs().partial_cmp(&MAX_DERIVED),
                Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
            )
        })
        .map(|(what, x, unit)| {
            format!(
                "the {what} of {} at Q = {} is {} {unit}",
                e.label,
                e.requests,
                fmt_num(x)
            )
        })
    });
    let Some(bad) = bad else {
        return;
    };
    let (path, value) = numbers
        .iter()
        .filter(|(_, x)| *x > 0.0)
        .max_by(|a, b| a.1.log10().abs().total_cmp(&b.1.log10().abs()))
        .cloned()
        .unwrap_or_else(|| ("requests".into(), inst.requests as f64));
    c.err(
        path,
        format!(
            "value {} is the most extreme number of the instance, and {bad}, more than {MAX_DERIVED:e}: \
             expected numbers in the documented units (B, B/s, s, W)",
            fmt_num(value)
        ),
    );
}

/// A pruning factor in percent without trailing zeros: 0.7 → `70`, 0.125 → `12.5`.
pub(crate) fn fmt_percent(pf: f64) -> String {
    let s = format!("{:.4}", pf * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Reads a pipeline plan file for `inst`.
pub fn load_plan(path: &Path, inst: &PipelineInstance) -> Result<Choice> {
    let text = read_text(path, path, "")?;
    load_plan_str(&text, Some(path), inst)
}

/// Reads a pipeline plan from text: `pruning_factor` (0 for the full model)
/// must name a variant of `inst`, and `pipeline` one of the pipelines that
/// variant allows.
pub fn load_plan_str(text: &str, path: Option<&Path>, inst: &PipelineInstance) -> Result<Choice> {
    let file = path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("<plan>"));
    let raw: PipelinePlanFile = parse_yaml(
        text,
        &file,
        "a pipeline plan mapping (`kind: pipeline`, `pruning_factor`, `pipeline`)",
    )?;
    let mut d = Diagnostics::default();
    if raw.kind != "pipeline" {
        d.push(
            &file,
            "kind",
            format!("found `{}`: expected `pipeline`", raw.kind),
        );
    }
    let variant = inst.variant_index(raw.pruning_factor);
    if variant.is_none() {
        let known: Vec<String> = inst
            .variants
            .iter()
            .map(|v| format!("{}", v.pruning_factor))
            .collect();
        d.push(
            &file,
            "pruning_factor",
            format!(
                "{} is not a variant of instance {}: expected one of {} (0 is the full model)",
                raw.pruning_factor,
                inst.name,
                known.join(", ")
            ),
        );
    }
    let pipeline = Pipeline::parse(&raw.pipeline);
    if pipeline.is_none() {
        d.push(
            &file,
            "pipeline",
            format!(
                "unknown pipeline `{}`: expected one of {}",
                raw.pipeline,
                Pipeline::ALL.map(Pipeline::name).join(", ")
            ),
        );
    }
    if let (Some(v), Some(p)) = (variant, pipeline) {
        if inst.variants[v].is_full() && p.fine_tunes() {
            d.push(
                &file,
                "pipeline",
                format!("{p} fine-tunes, but the full model is never fine-tuned: expected E-Inf or D-Inf with pruning_factor 0"),
            );
        }
    }
    match (variant, pipeline) {
        (Some(variant), Some(pipeline)) if d.is_empty() => Ok(Choice { variant, pipeline }),
        _ => Err(Error::Invalid { diagnostics: d }),
    }
}
