//! The project's own benchmark command (`edgesplit bench`): model building
//! on the TIDE-sized instance, and solve times of every backend on
//! generated instances of growing size. Numbers go to docs/benchmarks.md
//! with the command that produced them.

use crate::generate::{generate_yaml, GenFamily, GenParams};
use crate::instance::{load_str, Instance};
use crate::milp::{build, ObjectiveSpec};
use crate::solve::{solve_instance, BackendKind, SolveOptions};
use std::time::Instant;

/// The TIDE-sized instance of the benchmarks: 448 filter atoms in 5 conv
/// layers plus 3 dense layers, 10 tasks, 4 nodes, 8 quantization groups.
pub fn tide_sized_params() -> GenParams {
    GenParams {
        family: GenFamily::Tide,
        seed: 7,
        widths: Some(vec![32, 64, 96, 128, 128]),
        dense_layers: 3,
        tasks: 10,
        nodes: 4,
        groups: 8,
        zipf: 2.0,
        ..GenParams::default()
    }
}

/// Loads a generated instance.
pub fn generated(p: &GenParams) -> Instance {
    load_str(&generate_yaml(p), None).expect("generated instances are valid")
}

/// Model building: sizes, rows per family and the best of `repeats` build
/// times, as a Markdown report.
pub fn bench_build(repeats: usize) -> String {
    let inst = generated(&tide_sized_params());
    let mut best = f64::INFINITY;
    let mut built = None;
    for _ in 0..repeats.max(1) {
        let t0 = Instant::now();
        let b = build(&inst, ObjectiveSpec::Instance, None);
        best = best.min(t0.elapsed().as_secs_f64());
        built = Some(b);
    }
    let b = built.expect("built at least once");
    let s = b.model.size();
    let mut out = format!(
        "TIDE-sized instance: {} atoms ({} edges, {} fan-out classes), {} tasks, {} nodes, {} groups\n\n",
        inst.dnn.len(),
        inst.dnn.edge_count(),
        inst.dnn.classes.len(),
        inst.tasks.len(),
        inst.network.len(),
        inst.group_count()
    );
    out += "| rows | columns | binaries | nonzeros | build time (best of ";
    out += &format!("{}) |\n|---:|---:|---:|---:|---:|\n", repeats.max(1));
    out += &format!(
        "| {} | {} | {} | {} | {:.3} s |\n\n",
        s.rows, s.columns, s.binaries, s.nonzeros, best
    );
    out += "| family | rows |\n|---|---:|\n";
    for (f, r) in &b.family_rows {
        out += &format!("| {f} | {r} |\n");
    }
    out
}

/// One row of the solve benchmark.
pub struct SolveRow {
    /// Instance label.
    pub label: String,
    /// Markdown cells.
    pub cells: Vec<String>,
}

/// Solve times of `kinds` on generated TIDE-family instances of growing
/// size, each with `time_limit` seconds, as a Markdown table. `progress` is
/// called before each solve.
pub fn bench_solve(
    kinds: &[BackendKind],
    time_limit: f64,
    mut progress: impl FnMut(&str),
) -> String {
    let sizes: &[(usize, usize, usize, usize)] = &[
        // (atoms per conv layer, conv layers, tasks, nodes)
        (2, 2, 2, 3),
        (4, 3, 3, 3),
        (8, 3, 4, 3),
        (16, 4, 5, 4),
        (32, 5, 10, 4),
    ];
    let mut out = String::from("| instance | atoms | tasks | nodes | rows | binaries |");
    for k in kinds {
        out += &format!(" {k} |");
    }
    out += "\n|---|---:|---:|---:|---:|---:|";
    for _ in kinds {
        out += "---|";
    }
    out += "\n";
    let mut instances: Vec<(String, Instance)> = sizes
        .iter()
        .map(|&(w, l, t, n)| {
            let p = GenParams {
                family: GenFamily::Tide,
                seed: 11,
                layers: l,
                atoms_per_layer: w,
                widths: Some(vec![w; l]),
                dense_layers: 1,
                tasks: t,
                nodes: n,
                groups: 2,
                zipf: 1.0,
                ..GenParams::default()
            };
            (format!("tide {l}x{w}, {t} tasks, {n} nodes"), generated(&p))
        })
        .collect();
    let tide = tide_sized_params();
    instances.push(("TIDE-sized (448 filters)".into(), generated(&tide)));
    for (label, inst) in &instances {
        let size = build(inst, ObjectiveSpec::Instance, None).model.size();
        out += &format!(
            "| {label} | {} | {} | {} | {} | {} |",
            inst.dnn.len(),
            inst.tasks.len(),
            inst.network.len(),
            size.rows,
            size.binaries
        );
        for &k in kinds {
            progress(&format!("{label}: {k}"));
            let opts = SolveOptions {
                time_limit: Some(time_limit),
                threads: Some(1),
                ..SolveOptions::default()
            };
            let r = solve_instance(inst, k, &opts);
            let cell = match (r.status, r.gap) {
                (crate::solve::Status::Optimal, _) => format!("optimal in {:.2} s", r.solve_time_s),
                (crate::solve::Status::Feasible, Some(g)) => {
                    format!("gap {:.1}% at {:.0} s", 100.0 * g, r.solve_time_s)
                }
                (st, _) => format!("{st} after {:.1} s", r.solve_time_s),
            };
            out += &format!(" {cell} |");
        }
        out += "\n";
    }
    out
}

/// The sweep benchmark: 10 noise limits on a generated chain of 60 layer
/// atoms, 3 nodes, 12 quantization groups and a degree-3 regressor fitted
/// to synthetic samples; the sweep should cost under 10 single solves,
/// since it builds the model once and only changes the bound.
pub fn bench_sweep(kind: BackendKind, time_limit: f64) -> String {
    use crate::noise::{fit, parse_samples, synthetic_samples};
    let p = GenParams {
        family: GenFamily::Chain,
        seed: 3,
        layers: 60,
        tasks: 3,
        nodes: 3,
        groups: 12,
        ..GenParams::default()
    };
    let mut inst = generated(&p);
    let groups = inst.quantization.groups.clone();
    let csv = synthetic_samples(&groups, 3, 3, Some(600), 0.02, &Default::default())
        .expect("12 groups at degree 3 are within the limits");
    let samples =
        parse_samples(&csv, std::path::Path::new("synthetic")).expect("synthetic samples parse");
    let f = fit(&samples, 3, 0.0).expect("600 samples determine 299 terms");
    inst.quantization.noise = crate::instance::NoiseModel {
        intercept: f.intercept,
        terms: f.terms.clone(),
    };
    let max_eta = f.predict(&vec![true; groups.len()]).max(1e-3);
    let limits: Vec<f64> = (0..10).map(|i| max_eta * i as f64 / 9.0).collect();
    let opts = SolveOptions {
        time_limit: Some(time_limit),
        threads: Some(1),
        ..SolveOptions::default()
    };
    let mut single = inst.clone();
    single.quantization.max_noise = Some(limits[5]);
    let t0 = Instant::now();
    let one = solve_instance(&single, kind, &opts);
    let single_s = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let points = crate::solve::sweep::noise_sweep(&inst, &limits, &[], kind, &opts, |_| {})
        .expect("the instance has groups");
    let sweep_s = t0.elapsed().as_secs_f64();
    let mut out = format!(
        "chain of {} atoms, {} tasks, {} nodes, {} groups, degree-3 regressor with {} terms; solver {kind}\n\n",
        inst.dnn.len(),
        inst.tasks.len(),
        inst.network.len(),
        groups.len(),
        f.terms.len() + 1
    );
    out += &format!(
        "| single solve (max_noise {:.4}) | sweep of {} limits | ratio |\n|---:|---:|---:|\n| {:.2} s ({}) | {:.2} s | {:.2}× |\n\n",
        limits[5],
        limits.len(),
        single_s,
        one.status,
        sweep_s,
        sweep_s / single_s
    );
    out += "| max_noise | status | T (s) | noise | groups quantized |\n|---:|---|---:|---:|---:|\n";
    for p in &points {
        out += &format!(
            "| {:.4} | {} | {} | {} | {} |\n",
            p.limit,
            p.status,
            p.time
                .map(|t| format!("{t:.6}"))
                .unwrap_or_else(|| "-".into()),
            p.noise
                .map(|t| format!("{t:.4}"))
                .unwrap_or_else(|| "-".into()),
            p.quantized.len()
        );
    }
    out
}
