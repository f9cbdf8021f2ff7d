//! Scale checks: the quantities the evaluator and the MILP derive from an
//! instance's numbers (compute time = FLOP / speed, transfer time = bytes /
//! bandwidth, utilization = rate × time, power = rate × time × W, cost
//! rate, objective weight / scale, …) must stay at most [`MAX_DERIVED`].
//!
//! Each number is finite on its own, but 1e308 FLOP on a 1 FLOP/s node
//! overflows to `inf` and then `NaN` metrics, and far smaller values
//! already give coefficients a MILP solver refuses (HiGHS rejects matrix
//! entries of 10¹⁵ or more). The loader checks the worst case of every
//! product from the declared numbers and blames the field that contributes
//! most to an out-of-scale product.

use super::{Instance, Normalization};
use crate::error::Diagnostics;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The largest magnitude a derived quantity may have (10¹⁵: HiGHS refuses
/// larger matrix coefficients, and sums of many such terms stay finite).
pub const MAX_DERIVED: f64 = 1e15;

/// A number as people write it: `1e308` and `1e-300` rather than the
/// hundreds of digits of `{}`; ordinary magnitudes as they are.
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && a.is_finite() && !(1e-6..1e15).contains(&a) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

/// One number a derived quantity is made of: `value^exp`.
struct Factor {
    file: PathBuf,
    path: String,
    name: String,
    value: f64,
    exp: f64,
}

/// Where the problems go; each field is blamed once.
pub(crate) struct Scale<'a> {
    d: &'a mut Diagnostics,
    blamed: HashSet<(PathBuf, String)>,
    file: PathBuf,
    /// Each DNN's file and field prefix, by component.
    places: Vec<(PathBuf, String)>,
}

impl<'a> Scale<'a> {
    /// `file` is the instance, `places` where each DNN's fields are (its
    /// file, and the prefix `dnn.` or `dnns[i].` inline, empty in a DNN
    /// file), in component order.
    pub(crate) fn new(d: &'a mut Diagnostics, file: &Path, places: Vec<(PathBuf, String)>) -> Self {
        Scale {
            d,
            blamed: HashSet::new(),
            file: file.to_path_buf(),
            places,
        }
    }

    fn f(&self, path: String, name: String, value: f64, exp: f64) -> Factor {
        Factor {
            file: self.file.clone(),
            path,
            name,
            value,
            exp,
        }
    }

    /// A factor from the DNN: field `field` of the layer of atom `a`.
    fn atom(&self, inst: &Instance, a: usize, field: &str, value: f64) -> Factor {
        let atom = &inst.dnn.atoms[a];
        let comp = inst.dnn.component_of[a];
        let layers = inst.dnn.components[comp].layers.clone();
        // A DNN's layers have its input first: raw layer i is entry i + 1.
        let li = inst.dnn.layers[layers]
            .iter()
            .position(|(n, _)| *n == atom.layer)
            .unwrap_or(1);
        let (dnn_file, prefix) = &self.places[comp];
        Factor {
            file: dnn_file.clone(),
            path: format!("{prefix}layers[{}].{field}", li.saturating_sub(1)),
            name: format!("{field} of atom '{}'", atom.id),
            value,
            exp: 1.0,
        }
    }

    /// Reports `quantity` (in `unit`) = Π value^exp when it exceeds
    /// [`MAX_DERIVED`], at the factor that contributes most.
    fn product(&mut self, quantity: &str, unit: &str, factors: Vec<Factor>) {
        if factors.iter().any(|f| f.value == 0.0) {
            return;
        }
        let log = |f: &Factor| f.exp * f.value.abs().log10();
        let total: f64 = factors.iter().map(log).sum();
        if total <= MAX_DERIVED.log10() {
            return;
        }
        let worst = factors
            .iter()
            .max_by(|a, b| log(a).total_cmp(&log(b)))
            .expect("at least one factor");
        if !self.blamed.insert((worst.file.clone(), worst.path.clone())) {
            return;
        }
        let formula = factors
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let op = match (i, f.exp > 0.0) {
                    (0, true) => "",
                    (0, false) => "1 / ",
                    (_, true) => " × ",
                    (_, false) => " / ",
                };
                format!("{op}{} {}", f.name, fmt_num(f.value))
            })
            .collect::<String>();
        self.d.push(
            &worst.file,
            worst.path.clone(),
            format!(
                "value {} makes the {quantity} {formula} ≈ 1e{total:.0} {unit}, more than {MAX_DERIVED:e}: \
                 expected numbers in the documented units (FLOP, FLOP/s, B, B/s, s, W)",
                fmt_num(worst.value)
            ),
        );
    }
}

/// The index of the largest value of `v(i)` over `0..n` (None when n = 0).
fn argmax(n: usize, v: impl Fn(usize) -> f64) -> Option<usize> {
    (0..n).max_by(|&a, &b| v(a).total_cmp(&v(b)))
}

/// Checks every derived quantity of `inst` (whose numbers are each valid).
pub(crate) fn check(inst: &Instance, s: &mut Scale) {
    let Some(rt) = argmax(inst.tasks.len(), |t| inst.tasks[t].rate) else {
        return;
    };
    let task = &inst.tasks[rt];
    let rate = s.f(
        format!("tasks[{rt}].rate"),
        format!("rate of task '{}'", task.name),
        task.rate,
        1.0,
    );
    let weight = |s: &Scale, key: &str, w: f64, scale: f64| -> Vec<Factor> {
        let mut v = vec![s.f(
            format!("objective.weights.{key}"),
            format!("weight {key}"),
            w,
            1.0,
        )];
        if let Normalization::Scales(_) = inst.objective.normalization {
            v.push(s.f(
                format!("objective.normalization.scales.{key}"),
                format!("scale {key}"),
                scale,
                -1.0,
            ));
        }
        v
    };
    let scales = match inst.objective.normalization {
        Normalization::Scales(t) => t,
        _ => super::Tec {
            time: 1.0,
            energy: 1.0,
            cost: 1.0,
        },
    };
    let w = inst.objective.weights;
    let (w_time, w_energy, w_cost) = (
        weight(&*s, "time", w.time, scales.time),
        weight(&*s, "energy", w.energy, scales.energy),
        weight(&*s, "cost", w.cost, scales.cost),
    );
    s.product("objective coefficient of T", "per s", w_time);
    check_compute(inst, s, &rate, &w_energy, &w_cost);
    check_profiles(inst, s, &rate, &w_energy, &w_cost);
    check_links(inst, s, &rate, &w_energy, &w_cost);
    check_quality(inst, s);
}

fn dup(f: &Factor) -> Factor {
    Factor {
        file: f.file.clone(),
        path: f.path.clone(),
        name: f.name.clone(),
        value: f.value,
        exp: f.exp,
    }
}

/// `base` alone and with each factor list of `extra` appended.
fn with(base: &[&Factor], extra: &[Factor]) -> Vec<Factor> {
    base.iter()
        .map(|f| dup(f))
        .chain(extra.iter().map(dup))
        .collect()
}

fn check_compute(inst: &Instance, s: &mut Scale, rate: &Factor, w_e: &[Factor], w_c: &[Factor]) {
    let dnn = &inst.dnn;
    if let Some(a) = argmax(dnn.len(), |a| dnn.atoms[a].param_bytes) {
        let p = s.atom(inst, a, "param_bytes", dnn.atoms[a].param_bytes);
        s.product("parameter size", "B", vec![p]);
    }
    let Some(a) = argmax(dnn.len(), |a| dnn.atoms[a].flops) else {
        return;
    };
    let flops = s.atom(inst, a, "flops", dnn.atoms[a].flops);
    for (n, node) in inst.network.nodes.iter().enumerate() {
        let speed = s.f(
            format!("network.nodes[{n}].speed"),
            format!("speed of node '{}'", node.name),
            node.speed,
            -1.0,
        );
        let power = s.f(
            format!("network.nodes[{n}].power"),
            format!("power of node '{}'", node.name),
            node.power,
            1.0,
        );
        let price = s.f(
            format!("network.nodes[{n}].price"),
            format!("price of node '{}'", node.name),
            node.price,
            1.0,
        );
        s.product("compute time", "s", with(&[&flops, &speed], &[]));
        s.product("utilization", "", with(&[rate, &flops, &speed], &[]));
        s.product(
            "average power",
            "W",
            with(&[rate, &flops, &speed, &power], &[]),
        );
        s.product(
            "objective coefficient of E",
            "",
            with(&[rate, &flops, &speed, &power], w_e),
        );
        s.product(
            "cost rate",
            "per s",
            with(&[rate, &flops, &speed, &price], &[]),
        );
        s.product(
            "objective coefficient of C",
            "",
            with(&[rate, &flops, &speed, &price], w_c),
        );
    }
}

/// The compute products of the largest profiled time on each node (an
/// atom's share of a layer's time is at most the layer's).
fn check_profiles(inst: &Instance, s: &mut Scale, rate: &Factor, w_e: &[Factor], w_c: &[Factor]) {
    let p = &inst.profiles;
    let net = &inst.network;
    // The largest time (fp32 or quantized) of an entry, with its field.
    let largest = |i: usize| -> (f64, &'static str) {
        let e = &p.entries[i];
        match e.time_q_s {
            Some(q) if q > e.time_s => (q, "time_q_s"),
            _ => (e.time_s, "time_s"),
        }
    };
    let mut best: Vec<Option<usize>> = vec![None; net.len()];
    for i in 0..p.entries.len() {
        for &n in p.nodes_of(p.entries[i].key) {
            if best[n].is_none_or(|j| largest(i).0 > largest(j).0) {
                best[n] = Some(i);
            }
        }
    }
    for (n, node) in net.nodes.iter().enumerate() {
        let Some(i) = best[n] else { continue };
        let e = &p.entries[i];
        let (value, field) = largest(i);
        let time = Factor {
            file: e.file.clone(),
            path: e.field(field),
            name: format!("profiled {field} of '{}' on '{}'", e.layer, node.name),
            value,
            exp: 1.0,
        };
        let power = s.f(
            format!("network.nodes[{n}].power"),
            format!("power of node '{}'", node.name),
            node.power,
            1.0,
        );
        let price = s.f(
            format!("network.nodes[{n}].price"),
            format!("price of node '{}'", node.name),
            node.price,
            1.0,
        );
        s.product("compute time", "s", with(&[&time], &[]));
        s.product("utilization", "", with(&[rate, &time], &[]));
        s.product("average power", "W", with(&[rate, &time, &power], &[]));
        s.product(
            "objective coefficient of E",
            "",
            with(&[rate, &time, &power], w_e),
        );
        s.product("cost rate", "per s", with(&[rate, &time, &price], &[]));
        s.product(
            "objective coefficient of C",
            "",
            with(&[rate, &time, &price], w_c),
        );
    }
}

fn check_links(inst: &Instance, s: &mut Scale, rate: &Factor, w_e: &[Factor], w_c: &[Factor]) {
    let dnn = &inst.dnn;
    let Some(a) = argmax(dnn.len(), |a| dnn.atoms[a].out_bytes) else {
        return;
    };
    let bytes = if dnn.is_input(a) {
        let (dnn_file, prefix) = &s.places[dnn.component_of[a]];
        Factor {
            file: dnn_file.clone(),
            path: format!("{prefix}input.out_bytes"),
            name: "out_bytes of the input".into(),
            value: dnn.atoms[a].out_bytes,
            exp: 1.0,
        }
    } else {
        s.atom(inst, a, "out_bytes", dnn.atoms[a].out_bytes)
    };
    for (i, l) in inst.network.links.iter().enumerate() {
        let at = |field: &str| format!("network.links[{i}].{field}");
        let name = |what: &str| {
            let n = &inst.network.nodes;
            format!("{what} of link {} -> {}", n[l.from].name, n[l.to].name)
        };
        let bw = s.f(at("bandwidth"), name("bandwidth"), l.bandwidth, -1.0);
        let power = s.f(at("power"), name("power"), l.power, 1.0);
        let price = s.f(at("price"), name("price"), l.price, 1.0);
        let latency = s.f(at("latency"), name("latency"), l.latency, 1.0);
        s.product("latency", "s", vec![latency]);
        s.product("transfer time", "s", with(&[&bytes, &bw], &[]));
        s.product("link load", "", with(&[rate, &bytes, &bw], &[]));
        s.product("link power", "W", with(&[rate, &bytes, &bw, &power], &[]));
        s.product(
            "objective coefficient of E",
            "",
            with(&[rate, &bytes, &bw, &power], w_e),
        );
        s.product(
            "link cost rate",
            "per s",
            with(&[rate, &bytes, &price], &[]),
        );
        s.product(
            "objective coefficient of C",
            "",
            with(&[rate, &bytes, &price], w_c),
        );
    }
}

fn check_quality(inst: &Instance, s: &mut Scale) {
    let noise = &inst.quantization.noise;
    let coef = noise
        .terms
        .iter()
        .enumerate()
        .map(|(i, (_, c))| (format!("quantization.noise.terms[{i}].coef"), *c))
        .chain([("quantization.noise.intercept".to_string(), noise.intercept)])
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
    for (t, task) in inst.tasks.iter().enumerate() {
        if !task.total_relevance().is_finite() {
            let (file, path) = (s.file.clone(), format!("tasks[{t}].relevance"));
            if s.blamed.insert((file.clone(), path.clone())) {
                s.d.push(
                    &file,
                    path,
                    "the relevance scores of the task add up to more than the largest number: expected scores of a sensible scale (they only count relative to each other)",
                );
            }
        }
        if let Some((path, c)) = &coef {
            let beta = s.f(path.clone(), "noise coefficient".into(), *c, 1.0);
            let gamma = s.f(
                format!("tasks[{t}].quality.noise_sensitivity"),
                format!("noise_sensitivity of task '{}'", task.name),
                task.noise_sensitivity,
                1.0,
            );
            s.product("noise coefficient", "", vec![dup(&beta)]);
            s.product("accuracy penalty coefficient", "", vec![beta, gamma]);
        }
        for (i, (x0, y0, x1, y1)) in task
            .curve
            .points
            .windows(2)
            .map(|w| (w[0].0, w[0].1, w[1].0, w[1].1))
            .enumerate()
        {
            let path = format!("tasks[{t}].quality.curve[{}]", i + 1);
            let rise = s.f(path.clone(), "accuracy step".into(), y1 - y0, 1.0);
            let run = s.f(path, "x step".into(), x1 - x0, -1.0);
            s.product("curve slope", "", vec![rise, run]);
        }
    }
}
