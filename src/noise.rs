//! The quantization noise regressor (docs/quantization.md): fit
//! η(q) = β_0·any(q) + Σ_S β_S Π_{g∈S} q_g by least squares on measured
//! samples, with K-fold cross-validation, and synthetic demo samples.
//!
//! Features are the multilinear monomials of degree 1..D (q² = q) plus the
//! intercept, which counts only when some group is quantized (η(0) = 0).
//! With D ≥ |G| the monomials already span every function of q, so the
//! intercept is dropped (it would be collinear with them).

use crate::error::{Diagnostics, Error, Result};
use crate::instance::Limits;
use faer::prelude::*;
use faer::Mat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// Noise samples: one 0/1 vector per row and its measured noise.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// Group names (the CSV's columns other than `noise`).
    pub groups: Vec<String>,
    /// Quantization vectors.
    pub q: Vec<Vec<bool>>,
    /// Measured noise per vector.
    pub noise: Vec<f64>,
}

/// A fitted regressor.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseFit {
    /// Group names, in the samples' column order.
    pub groups: Vec<String>,
    /// β_0 (0 when dropped).
    pub intercept: f64,
    /// Monomials (group indices) and their coefficients.
    pub terms: Vec<(Vec<usize>, f64)>,
}

/// Pooled held-out accuracy of a K-fold cross-validation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CvMetrics {
    /// 1 − SS_res / SS_tot over held-out predictions.
    pub r2: f64,
    /// Root mean squared held-out error.
    pub rmse: f64,
    /// Mean absolute held-out error.
    pub mae: f64,
}

/// Reads a samples CSV (`#` lines are comments): one 0/1 column per group
/// and a `noise` column.
pub fn read_samples(path: &Path) -> Result<Samples> {
    let text = crate::instance::load::read_text(path, path, "")?;
    parse_samples(&text, path)
}

/// Parses samples CSV text; `path` is used in messages.
pub fn parse_samples(text: &str, path: &Path) -> Result<Samples> {
    let mut d = Diagnostics::default();
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            return Err(Error::invalid(
                path,
                "header",
                format!("unreadable CSV header: {e}"),
            ))
        }
    };
    let Some(noise_col) = header.iter().position(|h| h == "noise") else {
        return Err(Error::invalid(
            path,
            "header",
            format!(
                "columns [{}]: expected a `noise` column and one 0/1 column per group",
                header.join(", ")
            ),
        ));
    };
    let groups: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != noise_col)
        .map(|(_, h)| h.clone())
        .collect();
    if groups.is_empty() {
        return Err(Error::invalid(
            path,
            "header",
            "no group columns: expected one 0/1 column per quantization group",
        ));
    }
    for (i, g) in groups.iter().enumerate() {
        if groups[..i].contains(g) {
            return Err(Error::invalid(
                path,
                "header",
                format!("column '{g}' appears twice: expected one column per quantization group"),
            ));
        }
    }
    let mut q = Vec::new();
    let mut noise = Vec::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                d.push(path, "", format!("malformed CSV: {e}"));
                continue;
            }
        };
        let line = format!("line {}", rec.position().map_or(0, |p| p.line()));
        let mut row = Vec::new();
        let mut ok = true;
        for (i, field) in rec.iter().enumerate() {
            if i == noise_col {
                match field.parse::<f64>() {
                    Ok(v) if v.is_finite() => noise.push(v),
                    _ => {
                        d.push(
                            path,
                            line.clone(),
                            format!("noise '{field}': expected a finite number"),
                        );
                        ok = false;
                    }
                }
            } else {
                match field {
                    "0" => row.push(false),
                    "1" => row.push(true),
                    _ => {
                        d.push(
                            path,
                            line.clone(),
                            format!("column {}: '{field}': expected 0 or 1", header[i]),
                        );
                        ok = false;
                    }
                }
            }
        }
        if ok {
            q.push(row);
        } else if noise.len() > q.len() {
            noise.pop();
        }
    }
    if q.is_empty() && d.is_empty() {
        d.push(path, "", "no samples: expected at least one row");
    }
    if d.is_empty() {
        Ok(Samples { groups, q, noise })
    } else {
        Err(Error::Invalid { diagnostics: d })
    }
}

/// Every subset of `0..g` of size 1..=degree, by size then lexicographically.
pub fn monomials(g: usize, degree: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    fn rec(start: usize, g: usize, k: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in start..g {
            cur.push(i);
            rec(i + 1, g, k, cur, out);
            cur.pop();
        }
    }
    for k in 1..=degree.min(g) {
        rec(0, g, k, &mut cur, &mut out);
    }
    out
}

fn design(q: &[Vec<bool>], monos: &[Vec<usize>], intercept: bool) -> Mat<f64> {
    let p = monos.len() + intercept as usize;
    Mat::from_fn(q.len(), p, |i, j| {
        let qi = &q[i];
        if intercept && j == 0 {
            return qi.iter().any(|&b| b) as u8 as f64;
        }
        let m = &monos[j - intercept as usize];
        m.iter().all(|&g| qi[g]) as u8 as f64
    })
}

/// Least-squares fit of degree `degree` under the default [`Limits`];
/// `ridge` > 0 adds λ‖β‖². Without a ridge, samples that cannot determine
/// every term are refused.
pub fn fit(s: &Samples, degree: usize, ridge: f64) -> std::result::Result<NoiseFit, String> {
    fit_with(s, degree, ridge, &Limits::default())
}

/// [`fit`] under `limits`: the number of terms and the matrix bytes are
/// checked before anything is allocated.
pub fn fit_with(
    s: &Samples,
    degree: usize,
    ridge: f64,
    limits: &Limits,
) -> std::result::Result<NoiseFit, String> {
    check_fit(s, degree, limits)?;
    fit_rows(s, degree, ridge, &(0..s.q.len()).collect::<Vec<_>>())
}

/// Refuses degree 0 and fits over the limits (from the counts alone).
fn check_fit(s: &Samples, degree: usize, limits: &Limits) -> std::result::Result<(), String> {
    if degree == 0 {
        return Err("--degree 0: expected a degree of at least 1".into());
    }
    limits.check_noise_fit(s.groups.len(), degree, s.q.len())
}

fn fit_rows(
    s: &Samples,
    degree: usize,
    ridge: f64,
    rows: &[usize],
) -> std::result::Result<NoiseFit, String> {
    let g = s.groups.len();
    let monos = monomials(g, degree);
    let intercept = degree < g;
    let q: Vec<Vec<bool>> = rows.iter().map(|&i| s.q[i].clone()).collect();
    let y: Vec<f64> = rows.iter().map(|&i| s.noise[i]).collect();
    let x = design(&q, &monos, intercept);
    let p = x.ncols();
    let (a, b) = if ridge > 0.0 {
        let n = x.nrows();
        let r = ridge.sqrt();
        let a = Mat::from_fn(n + p, p, |i, j| {
            if i < n {
                x[(i, j)]
            } else if i - n == j {
                r
            } else {
                0.0
            }
        });
        let b = Mat::from_fn(n + p, 1, |i, _| if i < n { y[i] } else { 0.0 });
        (a, b)
    } else {
        let sv = x
            .singular_values()
            .map_err(|e| format!("SVD failed: {e:?}"))?;
        let top = sv.iter().copied().fold(0.0, f64::max);
        let tol = top * (x.nrows().max(p) as f64) * f64::EPSILON * 16.0;
        let rank = sv.iter().filter(|&&v| v > tol).count();
        if rank < p {
            return Err(format!(
                "the {} samples determine only {rank} of the {p} terms (rank deficient): \
                 add samples covering more quantization combinations, lower --degree, or pass --ridge",
                x.nrows()
            ));
        }
        (x.clone(), Mat::from_fn(y.len(), 1, |i, _| y[i]))
    };
    let beta = a.qr().solve_lstsq(&b);
    let coef = |j: usize| beta[(j, 0)];
    Ok(NoiseFit {
        groups: s.groups.clone(),
        intercept: if intercept { coef(0) } else { 0.0 },
        terms: monos
            .into_iter()
            .enumerate()
            .map(|(k, m)| (m, coef(k + intercept as usize)))
            .collect(),
    })
}

impl NoiseFit {
    /// η(q).
    pub fn predict(&self, q: &[bool]) -> f64 {
        if !q.iter().any(|&b| b) {
            return 0.0;
        }
        self.intercept
            + self
                .terms
                .iter()
                .filter(|(m, _)| m.iter().all(|&g| q[g]))
                .map(|(_, c)| c)
                .sum::<f64>()
    }

    /// The `quantization.noise` block of an instance, as YAML.
    pub fn to_yaml(&self) -> String {
        let mut s = format!("intercept: {}\nterms:\n", self.intercept);
        for (m, c) in &self.terms {
            let names: Vec<&str> = m.iter().map(|&g| self.groups[g].as_str()).collect();
            s += &format!("  - {{groups: [{}], coef: {c}}}\n", names.join(", "));
        }
        s
    }
}

/// K-fold cross-validation under the default [`Limits`]; sample i is in
/// fold i mod K. Fails when a training fold cannot determine the terms
/// (see [`fit`]).
pub fn cross_validate(
    s: &Samples,
    degree: usize,
    ridge: f64,
    folds: usize,
) -> std::result::Result<CvMetrics, String> {
    cross_validate_with(s, degree, ridge, folds, &Limits::default())
}

/// [`cross_validate`] under `limits`.
pub fn cross_validate_with(
    s: &Samples,
    degree: usize,
    ridge: f64,
    folds: usize,
    limits: &Limits,
) -> std::result::Result<CvMetrics, String> {
    check_fit(s, degree, limits)?;
    let n = s.q.len();
    if folds < 2 || folds > n {
        return Err(format!(
            "--folds {folds}: expected between 2 and the number of samples ({n})"
        ));
    }
    let mut pred = vec![0.0; n];
    for k in 0..folds {
        let train: Vec<usize> = (0..n).filter(|i| i % folds != k).collect();
        let f = fit_rows(s, degree, ridge, &train).map_err(|e| format!("fold {k}: {e}"))?;
        for i in (0..n).filter(|i| i % folds == k) {
            pred[i] = f.predict(&s.q[i]);
        }
    }
    let mean = s.noise.iter().sum::<f64>() / n as f64;
    let ss_res: f64 = s
        .noise
        .iter()
        .zip(&pred)
        .map(|(y, p)| (y - p).powi(2))
        .sum();
    let ss_tot: f64 = s.noise.iter().map(|y| (y - mean).powi(2)).sum();
    Ok(CvMetrics {
        r2: if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            f64::NAN
        },
        rmse: (ss_res / n as f64).sqrt(),
        mae: s
            .noise
            .iter()
            .zip(&pred)
            .map(|(y, p)| (y - p).abs())
            .sum::<f64>()
            / n as f64,
    })
}

/// Synthetic demo samples (for tests and examples only): a random
/// polynomial of degree `degree` over `groups`, evaluated on every q of
/// {0,1}^G (or `samples` random ones), plus Gaussian-like jitter of
/// relative size `jitter`. The CSV says it is synthetic. Refused when
/// fitting the result at `degree` would be over `limits` (the rows, 2^G
/// without `samples`, are counted before any is made).
pub fn synthetic_samples(
    groups: &[String],
    seed: u64,
    degree: usize,
    samples: Option<usize>,
    jitter: f64,
    limits: &Limits,
) -> std::result::Result<String, String> {
    let g = groups.len();
    let rows = match samples {
        Some(n) => n as u128,
        None => 1u128.checked_shl(g as u32).unwrap_or(u128::MAX),
    };
    limits.check_noise_fit(g, degree, usize::try_from(rows).unwrap_or(usize::MAX))?;
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let truth = NoiseFit {
        groups: groups.to_vec(),
        intercept: if degree < g {
            r.gen_range(0.0..0.01)
        } else {
            0.0
        },
        terms: monomials(g, degree)
            .into_iter()
            .map(|m| {
                let c = if m.len() == 1 {
                    r.gen_range(0.002..0.03)
                } else {
                    r.gen_range(-0.006..0.008)
                };
                (m, (c * 1e5f64).round() / 1e5)
            })
            .collect(),
    };
    let rows: Vec<Vec<bool>> = match samples {
        None => (0..1usize << g)
            .map(|mask| (0..g).map(|i| mask >> i & 1 == 1).collect())
            .collect(),
        Some(n) => (0..n)
            .map(|_| (0..g).map(|_| r.gen_bool(0.5)).collect())
            .collect(),
    };
    let mut out = format!(
        "# SYNTHETIC noise samples from `edgesplit sample-noise --synthetic` (seed {seed}, degree {degree}); not measured data\n{},noise\n",
        groups.join(",")
    );
    for q in rows {
        let base = truth.predict(&q);
        // Sum of uniforms: a cheap bell-shaped jitter.
        let e: f64 = (0..4).map(|_| r.gen_range(-0.5..0.5)).sum::<f64>() * jitter * base.abs();
        let cells: Vec<&str> = q.iter().map(|&b| if b { "1" } else { "0" }).collect();
        out += &format!("{},{}\n", cells.join(","), base + e);
    }
    Ok(out)
}
