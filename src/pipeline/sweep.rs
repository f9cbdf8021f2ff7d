//! `edgesplit sweep-q`: every metric of the seed's Fig. 3 pipelines and the
//! optimal choice as Q varies, as CSV, SVG plots and crossover points.
//!
//! The curves are those of Fig. 3: the full model at the edge and on the
//! device, and the three fine-tuned pipelines of one pruned variant (by
//! default the most pruned variant whose fine-tuned accuracy meets
//! `min_accuracy`: pf = 70% in the seed's scenario). Since every metric is
//! affine in Q ([`Affine`]), the crossover of two curves is computed
//! exactly; the first whole Q on the other side is checked by evaluation.

use super::eval::{self, Affine, ChoiceEval};
use super::milp;
use super::{Choice, EdgeLoad, Pipeline, PipelineInstance};
use crate::error::{Error, Result};
use crate::solve::{BackendKind, SolveOptions, Status};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Parses `A..B` (inclusive, 1 ≤ A ≤ B) or a single `A`.
pub fn parse_range(s: &str) -> std::result::Result<(u64, u64), String> {
    let bad = || {
        format!("--q {s}: expected FROM..TO with whole numbers 1 ≤ FROM ≤ TO (e.g. 1..5000), or one number")
    };
    let (a, b) = match s.split_once("..") {
        Some((a, b)) => (a.trim(), b.trim().trim_start_matches('=')),
        None => (s.trim(), s.trim()),
    };
    let a: u64 = a.parse().map_err(|_| bad())?;
    let b: u64 = b.parse().map_err(|_| bad())?;
    if a == 0 || a > b {
        return Err(bad());
    }
    Ok((a, b))
}

/// The pruned variant Fig. 3 shows by default: the most pruned one whose
/// fine-tuned accuracy meets `min_accuracy`, else the most accurate one
/// after fine-tuning.
pub fn default_variant(inst: &PipelineInstance) -> usize {
    let ok = |i: &usize| {
        inst.variants[*i]
            .accuracy_fine_tuned
            .is_some_and(|a| a + 1e-9 >= inst.requirements.min_accuracy)
    };
    (1..inst.variants.len()).rev().find(ok).unwrap_or_else(|| {
        (1..inst.variants.len())
            .max_by(|&a, &b| {
                let acc = |i: usize| inst.variants[i].accuracy_fine_tuned.unwrap_or(0.0);
                acc(a).total_cmp(&acc(b)).then(b.cmp(&a))
            })
            .unwrap_or(0)
    })
}

/// The five curves of Fig. 3 for pruned variant `k`.
pub fn figure_curves(inst: &PipelineInstance, k: usize) -> Vec<(String, Choice)> {
    let name = &inst.variants[k].name;
    let c = |variant, pipeline| Choice { variant, pipeline };
    vec![
        ("E-Inf full".into(), c(0, Pipeline::EInf)),
        ("D-Inf full".into(), c(0, Pipeline::DInf)),
        (format!("E-FT/E-Inf {name}"), c(k, Pipeline::EFtEInf)),
        (format!("E-FT/D-Inf {name}"), c(k, Pipeline::EFtDInf)),
        (format!("D-FT/D-Inf {name}"), c(k, Pipeline::DFtDInf)),
    ]
}

/// Where two curves of one metric cross.
#[derive(Debug, Clone, Serialize)]
pub struct Crossover {
    /// `latency`, `data` or `device_energy`.
    pub metric: &'static str,
    /// Edge load state (latency only).
    pub edge_load: Option<EdgeLoad>,
    /// The curve that is lower before the crossing.
    pub lower_before: String,
    /// The curve that is lower after it.
    pub lower_after: String,
    /// The real Q at which they are equal.
    pub q: f64,
    /// The first whole Q at which `lower_after` is strictly lower.
    pub first_q_after: u64,
}

/// A change of the optimal choice along Q.
#[derive(Debug, Clone, Serialize)]
pub struct Switch {
    /// First Q of the new optimum.
    pub q: u64,
    /// The optimum before (`none`: no feasible choice).
    pub from: String,
    /// The optimum from `q` on.
    pub to: String,
}

/// Everything `sweep-q` computes.
#[derive(Debug, Clone, Serialize)]
pub struct Sweep {
    /// Instance name.
    pub instance: String,
    /// DNN name for the plot titles (the instance name if none).
    pub model: String,
    /// Range of Q.
    pub q_from: u64,
    /// Range of Q (inclusive).
    pub q_to: u64,
    /// The Fig. 3 curves.
    pub curves: Vec<(String, Choice)>,
    /// Load states with latency curves (loaded only if the instance has
    /// loaded timings).
    pub loads: Vec<EdgeLoad>,
    /// Latency of each curve, per load state.
    pub latency: Vec<Vec<Affine>>,
    /// Data exchanged of each curve.
    pub data: Vec<Affine>,
    /// Device energy of each curve.
    pub device_energy: Vec<Affine>,
    /// Device energy budget, if any.
    pub energy_budget_j: Option<f64>,
    /// Optimal choice per Q (index `q - q_from`), for the instance's load.
    #[serde(skip)]
    pub optimal: Vec<Option<ChoiceEval>>,
    /// Crossovers of the curves inside the range.
    pub crossovers: Vec<Crossover>,
    /// Changes of the optimal choice.
    pub switches: Vec<Switch>,
    /// How the optimum was found (`enumeration` or `milp:<solver>`).
    pub method: String,
}

/// Sweeps Q over `[q_from, q_to]`. With `solver`, the optimum at every Q
/// comes from the MILP (checked against enumeration; a disagreement is an
/// error); without, from enumeration.
pub fn sweep(
    inst: &PipelineInstance,
    q_from: u64,
    q_to: u64,
    variant: Option<usize>,
    solver: Option<BackendKind>,
) -> Result<Sweep> {
    let k = variant.unwrap_or_else(|| default_variant(inst));
    if k == 0 || k >= inst.variants.len() {
        return Err(Error::Other(
            "the Fig. 3 curves need a pruned variant".into(),
        ));
    }
    let curves = figure_curves(inst, k);
    let mut loads = vec![EdgeLoad::Unloaded];
    if inst.has_loaded_times() {
        loads.push(EdgeLoad::Loaded);
    }
    let latency: Vec<Vec<Affine>> = loads
        .iter()
        .map(|&l| {
            let il = inst.with_edge_load(l);
            curves
                .iter()
                .map(|(_, c)| eval::metrics(&il, *c).1)
                .collect()
        })
        .collect();
    let data: Vec<Affine> = curves
        .iter()
        .map(|(_, c)| eval::metrics(inst, *c).3)
        .collect();
    let device_energy: Vec<Affine> = curves
        .iter()
        .map(|(_, c)| eval::metrics(inst, *c).2)
        .collect();

    let mut optimal = Vec::with_capacity((q_to - q_from + 1) as usize);
    let opts = SolveOptions::default();
    for q in q_from..=q_to {
        let iq = inst.with_requests(q);
        let best = match solver {
            None => eval::enumerate_best(&iq),
            Some(kind) => {
                let rep = milp::solve(&iq, kind, &opts);
                match rep.status {
                    Status::Optimal => rep.evaluation,
                    Status::Infeasible => None,
                    s => {
                        return Err(Error::Other(format!(
                            "Q = {q}: solver {} ended with status {s}: {}",
                            kind.name(),
                            rep.message.unwrap_or_default()
                        )))
                    }
                }
            }
        };
        optimal.push(best);
    }

    let mut crossovers = Vec::new();
    let names: Vec<&str> = curves.iter().map(|(n, _)| n.as_str()).collect();
    for (li, &l) in loads.iter().enumerate() {
        crossovers.extend(crossings(
            "latency",
            Some(l),
            &names,
            &latency[li],
            q_from,
            q_to,
        ));
    }
    crossovers.extend(crossings("data", None, &names, &data, q_from, q_to));
    crossovers.extend(crossings(
        "device_energy",
        None,
        &names,
        &device_energy,
        q_from,
        q_to,
    ));

    let label = |o: &Option<ChoiceEval>| o.as_ref().map_or("none".to_string(), |e| e.label.clone());
    let mut switches = Vec::new();
    for (i, w) in optimal.windows(2).enumerate() {
        let (a, b) = (label(&w[0]), label(&w[1]));
        if a != b {
            switches.push(Switch {
                q: q_from + i as u64 + 1,
                from: a,
                to: b,
            });
        }
    }
    Ok(Sweep {
        instance: inst.name.clone(),
        model: if inst.model.is_empty() {
            inst.name.clone()
        } else {
            inst.model.clone()
        },
        q_from,
        q_to,
        curves,
        loads,
        latency,
        data,
        device_energy,
        energy_budget_j: inst.requirements.max_device_energy_j,
        optimal,
        crossovers,
        switches,
        method: solver.map_or("enumeration".into(), |k| format!("milp:{}", k.name())),
    })
}

/// Pairwise crossings of affine curves inside `(q_from, q_to]`.
fn crossings(
    metric: &'static str,
    load: Option<EdgeLoad>,
    names: &[&str],
    f: &[Affine],
    q_from: u64,
    q_to: u64,
) -> Vec<Crossover> {
    let mut out = Vec::new();
    for i in 0..f.len() {
        for j in i + 1..f.len() {
            let Some(q) = f[i].crossing(&f[j]) else {
                continue;
            };
            if !(q >= q_from as f64 && q < q_to as f64) {
                continue;
            }
            // Before the crossing the steeper curve is lower.
            let (lo, hi) = if f[i].per_request > f[j].per_request {
                (i, j)
            } else {
                (j, i)
            };
            let mut n = q.floor().max(q_from as f64) as u64;
            while n <= q_to && f[hi].at(n as f64) >= f[lo].at(n as f64) {
                n += 1;
            }
            if n > q_to {
                continue;
            }
            out.push(Crossover {
                metric,
                edge_load: load,
                lower_before: names[lo].to_string(),
                lower_after: names[hi].to_string(),
                q,
                first_q_after: n,
            });
        }
    }
    out.sort_by(|a, b| a.q.total_cmp(&b.q));
    out
}

impl Sweep {
    /// The CSV: one row per Q with every curve's latency (per load state),
    /// data exchanged and device energy, then the optimal choice.
    pub fn to_csv(&self) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut head = vec!["q".to_string()];
        for l in &self.loads {
            for (n, _) in &self.curves {
                head.push(format!("latency_{}_s({n})", l.name()));
            }
        }
        for (n, _) in &self.curves {
            head.push(format!("data_bytes({n})"));
        }
        for (n, _) in &self.curves {
            head.push(format!("device_energy_j({n})"));
        }
        for h in [
            "optimal",
            "optimal_pruning_factor",
            "optimal_pipeline",
            "optimal_latency_s",
            "optimal_device_energy_j",
            "optimal_data_bytes",
            "optimal_accuracy",
            "optimal_objective",
        ] {
            head.push(h.to_string());
        }
        let csv_err = |e: csv::Error| Error::Other(format!("writing CSV: {e}"));
        w.write_record(&head).map_err(csv_err)?;
        for (i, q) in (self.q_from..=self.q_to).enumerate() {
            let qf = q as f64;
            let mut row = vec![q.to_string()];
            for lat in &self.latency {
                row.extend(lat.iter().map(|a| num(a.at(qf))));
            }
            row.extend(self.data.iter().map(|a| num(a.at(qf))));
            row.extend(self.device_energy.iter().map(|a| num(a.at(qf))));
            match &self.optimal[i] {
                Some(e) => row.extend([
                    e.label.clone(),
                    num(e.pruning_factor),
                    e.pipeline.to_string(),
                    num(e.latency_s),
                    num(e.device_energy_j),
                    num(e.data_bytes),
                    num(e.accuracy),
                    num(e.objective),
                ]),
                None => {
                    row.push("none".into());
                    row.extend(std::iter::repeat_n(String::new(), 7));
                }
            }
            w.write_record(&row).map_err(csv_err)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| Error::Other(format!("writing CSV: {e}")))?;
        String::from_utf8(bytes).map_err(|e| Error::Other(e.to_string()))
    }

    /// Writes `sweep.csv` and the SVG plots into `dir`; returns the files.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files = Vec::new();
        let csv = dir.join("sweep.csv");
        std::fs::write(&csv, self.to_csv()?).map_err(|source| Error::Io {
            path: csv.clone(),
            source,
        })?;
        files.push(csv);
        let names: Vec<String> = self.curves.iter().map(|(n, _)| n.clone()).collect();
        for (li, l) in self.loads.iter().enumerate() {
            let (file, fig) = match l {
                EdgeLoad::Unloaded => ("fig3a_latency_unloaded.svg", "(a)"),
                EdgeLoad::Loaded => ("fig3b_latency_loaded.svg", "(b)"),
            };
            let p = dir.join(file);
            let title = format!(
                "{fig} ML pipeline latency, edge {} — {}",
                l.name(),
                self.model
            );
            plot(
                &p,
                &title,
                "latency [s]",
                self.q_from,
                self.q_to,
                &names,
                &self.latency[li],
                None,
            )?;
            files.push(p);
        }
        let p = dir.join("fig3c_data.svg");
        let title = format!("(c) data exchanged — {}", self.model);
        plot(
            &p,
            &title,
            "data exchanged [MB]",
            self.q_from,
            self.q_to,
            &names,
            &scale(&self.data, 1e-6),
            None,
        )?;
        files.push(p);
        let p = dir.join("fig3d_energy.svg");
        let title = format!("(d) device energy — {}", self.model);
        let budget = self.energy_budget_j.map(|b| {
            (
                format!("budget {} Wh", crate::eval::sig(b / 3600.0)),
                b / 3600.0,
            )
        });
        plot(
            &p,
            &title,
            "device energy [Wh]",
            self.q_from,
            self.q_to,
            &names,
            &scale(&self.device_energy, 1.0 / 3600.0),
            budget,
        )?;
        files.push(p);
        Ok(files)
    }
}

fn scale(f: &[Affine], s: f64) -> Vec<Affine> {
    f.iter()
        .map(|a| Affine {
            once: a.once * s,
            per_request: a.per_request * s,
        })
        .collect()
}

/// Shortest text that reads back as the same f64.
fn num(x: f64) -> String {
    format!("{x}")
}

const COLORS: [plotters::style::RGBColor; 6] = [
    plotters::style::RGBColor(31, 119, 180),
    plotters::style::RGBColor(255, 127, 14),
    plotters::style::RGBColor(44, 160, 44),
    plotters::style::RGBColor(214, 39, 40),
    plotters::style::RGBColor(148, 103, 189),
    plotters::style::RGBColor(140, 86, 75),
];

/// One log–log plot of affine curves over Q, optionally with a horizontal
/// limit line.
#[allow(clippy::too_many_arguments)]
fn plot(
    path: &Path,
    title: &str,
    ylabel: &str,
    q_from: u64,
    q_to: u64,
    names: &[String],
    f: &[Affine],
    hline: Option<(String, f64)>,
) -> Result<()> {
    use plotters::prelude::*;
    let err = |e: String| Error::Other(format!("{}: plotting: {e}", path.display()));
    let (x0, x1) = (q_from as f64, (q_to as f64).max(q_from as f64 + 1.0));
    // Log-spaced samples (the curves are straight on linear axes only).
    let n = 400;
    let xs: Vec<f64> = (0..=n)
        .map(|i| x0 * (x1 / x0).powf(i as f64 / n as f64))
        .collect();
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for a in f {
        for &x in &xs {
            let y = a.at(x);
            if y > 0.0 {
                lo = lo.min(y);
            }
            hi = hi.max(y);
        }
    }
    if let Some((_, y)) = &hline {
        lo = lo.min(*y);
        hi = hi.max(*y);
    }
    if !(lo.is_finite() && hi.is_finite() && hi > 0.0) {
        lo = 1e-3;
        hi = 1.0;
    }
    let (y0, y1) = (lo / 1.5, hi * 1.5);
    let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("Q (inference requests with the same model)")
        .y_desc(ylabel)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| crate::eval::sig(*y))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (i, (name, a)) in names.iter().zip(f).enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                xs.iter().map(|&x| (x, a.at(x).max(y0))),
                color.stroke_width(2),
            ))
            .map_err(|e| err(e.to_string()))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    if let Some((label, y)) = hline {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x0, y), (x1, y)],
                8,
                6,
                BLACK.stroke_width(1),
            ))
            .map_err(|e| err(e.to_string()))?
            .label(label)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}
