//! The `quantization:` section: groups and the noise regressor (given, or fitted at load time).

use super::{Check, Refs};
use crate::instance::raw::*;
use crate::instance::*;
use std::collections::HashSet;

/// `atom_groups` is `None` when the DNN is broken: the groups its atoms
/// name are then unknown, and are not checked.
pub(super) fn build_quantization(
    raw: Option<&RawQuantization>,
    atom_groups: Option<&[Option<String>]>,
    refs: &Refs,
    limits: &Limits,
    c: &mut Check,
) -> Quantization {
    let dnn_known = atom_groups.is_some();
    let mut used: Vec<String> = Vec::new();
    for g in atom_groups.unwrap_or_default().iter().flatten() {
        if !used.contains(g) {
            used.push(g.clone());
        }
    }
    let Some(raw) = raw else {
        // No quantization section: the DNN's groups cannot be quantized
        // (no noise model, factors 1), so they are dropped.
        return Quantization {
            groups: Vec::new(),
            weight_factor: 1.0,
            activation_factor: 1.0,
            noise: NoiseModel::default(),
            max_noise: None,
        };
    };
    let groups = match &raw.groups {
        None => used.clone(),
        Some(list) => {
            let mut seen = HashSet::new();
            for (i, g) in list.iter().enumerate() {
                if !seen.insert(g) {
                    c.err(
                        format!("quantization.groups[{i}]"),
                        format!("duplicate group '{g}'"),
                    );
                }
                if dnn_known && !used.contains(g) {
                    c.err(
                        format!("quantization.groups[{i}]"),
                        format!("group '{g}' has no atoms: no layer or atom of the DNN names it"),
                    );
                }
            }
            for g in &used {
                if !list.contains(g) {
                    c.err(
                        "quantization.groups",
                        format!("the DNN puts atoms in group '{g}', which is not listed here"),
                    );
                }
            }
            list.clone()
        }
    };
    let factor = |c: &mut Check, f: &str, v: Option<f64>| {
        let v = v.unwrap_or(1.0);
        if !(v.is_finite() && v > 0.0 && v <= 1.0) {
            c.err(
                format!("quantization.{f}"),
                format!("value {v} is not allowed: expected a factor in (0, 1]"),
            );
        }
        v
    };
    let weight_factor = factor(c, "weight_factor", raw.weight_factor);
    let activation_factor = factor(c, "activation_factor", raw.activation_factor);
    let mut noise = NoiseModel::default();
    if let Some(rn) = &raw.noise {
        noise.intercept = rn.intercept.unwrap_or(0.0);
        if !noise.intercept.is_finite() {
            c.err(
                "quantization.noise.intercept",
                format!(
                    "value {} is not allowed: expected a finite number",
                    noise.intercept
                ),
            );
        }
        for (i, t) in rn.terms.iter().enumerate() {
            let p = format!("quantization.noise.terms[{i}]");
            if !t.coef.is_finite() {
                c.err(
                    format!("{p}.coef"),
                    format!("value {} is not allowed: expected a finite number", t.coef),
                );
            }
            if t.groups.is_empty() {
                c.err(
                    format!("{p}.groups"),
                    "empty monomial: the constant term is `intercept`",
                );
            }
            let mut s = Vec::new();
            for (k, g) in t.groups.iter().enumerate() {
                match groups.iter().position(|x| x == g) {
                    // Groups of a broken DNN are unknown: nothing to check.
                    None if !dnn_known && raw.groups.is_none() => {}
                    None => c.err(
                        format!("{p}.groups[{k}]"),
                        format!("unknown group '{g}': expected one of {}", groups.join(", ")),
                    ),
                    Some(gi) if s.contains(&gi) => c.err(
                        format!("{p}.groups[{k}]"),
                        format!(
                            "group '{g}' repeated: q² = q, so a monomial lists each group once"
                        ),
                    ),
                    Some(gi) => s.push(gi),
                }
            }
            s.sort_unstable();
            noise.terms.push((s, t.coef));
        }
        if let Some(f) = &rn.fit {
            if rn.intercept.is_some() || !rn.terms.is_empty() {
                c.err(
                    "quantization.noise.fit",
                    "give either `fit` or `intercept` and `terms`, not both",
                );
            } else if let Some(fitted) = fit_at_load(f, &groups, refs, limits, c) {
                noise = fitted;
            }
        }
    }
    let max_noise = raw
        .max_noise
        .map(|v| c.num("quantization.max_noise", v, 0.0, false, "noise bound"));
    Quantization {
        groups,
        weight_factor,
        activation_factor,
        noise,
        max_noise,
    }
}

/// Fits the noise regressor named by `quantization.noise.fit` (samples
/// relative to the instance file), reproducibly: the same samples, degree
/// and ridge always give the same coefficients.
pub(super) fn fit_at_load(
    f: &RawNoiseFit,
    groups: &[String],
    refs: &Refs,
    limits: &Limits,
    c: &mut Check,
) -> Option<NoiseModel> {
    let (path, text) = match refs.read(&f.samples, "quantization.noise.fit.samples") {
        Ok(x) => x,
        Err(e) => {
            c.d.extend(e.diagnostics().cloned().unwrap_or_default());
            return None;
        }
    };
    let samples = match crate::noise::parse_samples(&text, &path) {
        Ok(s) => s,
        Err(e) => {
            c.err(
                "quantization.noise.fit.samples",
                format!("{}", e).replace('\n', "; "),
            );
            return None;
        }
    };
    let mut column_group = Vec::new();
    for name in &samples.groups {
        match groups.iter().position(|g| g == name) {
            Some(g) => column_group.push(g),
            None => {
                c.err(
                    "quantization.noise.fit.samples",
                    format!(
                        "{}: column '{name}' is not a quantization group (expected some of {})",
                        path.display(),
                        groups.join(", ")
                    ),
                );
                return None;
            }
        }
    }
    let ridge = f.ridge.unwrap_or(0.0);
    if !(ridge.is_finite() && ridge >= 0.0) {
        c.err(
            "quantization.noise.fit.ridge",
            format!("value {ridge} is not allowed: expected a finite λ ≥ 0"),
        );
        return None;
    }
    match crate::noise::fit_with(&samples, f.degree, ridge, limits) {
        Ok(fit) => Some(NoiseModel {
            intercept: fit.intercept,
            terms: fit
                .terms
                .into_iter()
                .map(|(m, coef)| {
                    let mut s: Vec<usize> = m.into_iter().map(|k| column_group[k]).collect();
                    s.sort_unstable();
                    (s, coef)
                })
                .collect(),
        }),
        Err(e) => {
            c.err("quantization.noise.fit", format!("{}: {e}", path.display()));
            None
        }
    }
}
