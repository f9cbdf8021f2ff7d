//! The project's own benchmark command (`edgesplit bench`): model building
//! on the TIDE-sized instance, and solve times of every backend on
//! generated instances of growing size. Numbers go to docs/benchmarks.md
//! with the command that produced them.

use crate::generate::{generate_yaml, GenFamily, GenParams};
use crate::instance::{load_str, Instance, Normalization, PayoffTable, STRENGTHENINGS};
use crate::milp::model::{Model, VarKind};
use crate::milp::{build, ObjectiveSpec};
use crate::solve::run::payoff_table;
use crate::solve::{solve_instance, BackendKind, SolveOptions, Status};
use crate::table::{self, Column};
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
    let build_head = format!("build time (best of {})", repeats.max(1));
    let (l, r) = (Column::left, Column::right);
    out += &table::markdown(
        &[
            r("rows"),
            r("columns"),
            r("binaries"),
            r("nonzeros"),
            r(&build_head),
        ],
        [vec![
            s.rows.to_string(),
            s.columns.to_string(),
            s.binaries.to_string(),
            s.nonzeros.to_string(),
            format!("{best:.3} s"),
        ]],
    );
    out += "\n";
    out += &table::markdown(
        &[l("family"), r("rows")],
        b.family_rows
            .iter()
            .map(|(f, n)| vec![f.to_string(), n.to_string()]),
    );
    out
}

/// One instance of the solve benchmark.
pub struct Case {
    /// Label in the tables.
    pub label: String,
    /// The instance, with its own strengthening switches.
    pub inst: Instance,
}

/// Instance files of the solve benchmark, relative to the repository root:
/// TIDE's q_min 0.5 evaluation instance and the thesis' 502-layer chain.
pub const BENCH_FILES: [(&str, &str); 2] = [
    (
        "tide-q050 (instances/tide)",
        "instances/tide/tide-q050.yaml",
    ),
    (
        "thesis-chain502 (benches/data)",
        "benches/data/thesis-chain502.json",
    ),
];

/// The cases of `bench solve`: generated TIDE-family instances of growing
/// size (seed 11, one dense layer, 2 groups; the "tide 4x16" row is
/// `generate --family tide --widths 16,16,16,16 --dense-layers 1 --tasks 5
/// --nodes 4 --groups 2 --seed 11`), the TIDE-sized instance of `bench
/// build`, and [`BENCH_FILES`] (an error if one cannot be loaded).
pub fn solve_cases() -> Result<Vec<Case>, String> {
    let sizes: &[(usize, usize, usize, usize)] = &[
        // (atoms per conv layer, conv layers, tasks, nodes)
        (2, 2, 2, 3),
        (4, 3, 3, 3),
        (8, 3, 4, 3),
        (16, 4, 5, 4),
        (32, 5, 10, 4),
    ];
    let mut cases: Vec<Case> = sizes
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
            Case {
                label: format!("tide {l}x{w}, {t} tasks, {n} nodes"),
                inst: generated(&p),
            }
        })
        .collect();
    cases.push(Case {
        label: "TIDE-sized (448 filters)".into(),
        inst: generated(&tide_sized_params()),
    });
    for (label, path) in BENCH_FILES {
        let inst = crate::load(std::path::Path::new(path)).map_err(|e| e.to_string())?;
        cases.push(Case {
            label: label.into(),
            inst,
        });
    }
    Ok(cases)
}

/// The LP relaxation value of a model (every binary made continuous),
/// solved by HiGHS on one thread; `None` without HiGHS or if the LP fails.
pub fn lp_value(model: &Model) -> Option<f64> {
    lp_value_within(model, None)
}

/// [`lp_value`] within `time_limit` s (`None` when the LP is not solved
/// by then).
pub fn lp_value_within(model: &Model, time_limit: Option<f64>) -> Option<f64> {
    let mut lp = model.clone();
    for c in &mut lp.columns {
        c.kind = VarKind::Continuous;
    }
    let opts = SolveOptions {
        threads: Some(1),
        time_limit,
        ..SolveOptions::default()
    };
    let o = BackendKind::Highs.backend().ok()?.solve(&lp, &opts, &[]);
    (o.status == Status::Optimal).then_some(o.objective?)
}

/// The root bound of a model: HiGHS's bound after the root node, within
/// `time_limit` s; the LP value when HiGHS is not built in.
pub fn root_value(model: &Model, time_limit: f64) -> Option<f64> {
    #[cfg(feature = "highs")]
    {
        crate::solve::root_bound(model, time_limit)
    }
    #[cfg(not(feature = "highs"))]
    {
        let _ = time_limit;
        lp_value(model)
    }
}

/// Size and relaxation bounds of the model of `inst` (its own objective;
/// `payoff` for payoff normalization).
pub struct Relaxation {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub columns: usize,
    /// Rows added by the strengthenings.
    pub strengthening_rows: usize,
    /// LP relaxation value (`None`: not solved within the time limit).
    pub lp: Option<f64>,
    /// Root bound (`None`: none within the time limit).
    pub root: Option<f64>,
}

/// Measures [`Relaxation`] for `inst`.
pub fn relaxation(inst: &Instance, payoff: Option<&PayoffTable>, root_limit: f64) -> Relaxation {
    let b = build(inst, ObjectiveSpec::Instance, payoff);
    let size = b.model.size();
    let strengthening_rows = b
        .family_rows
        .iter()
        .filter(|(f, _)| STRENGTHENINGS.contains(f))
        .map(|(_, r)| r)
        .sum();
    Relaxation {
        rows: size.rows,
        columns: size.columns,
        strengthening_rows,
        lp: lp_value_within(&b.model, Some(root_limit)),
        root: root_value(&b.model, root_limit),
    }
}

fn num(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.6}")).unwrap_or_else(|| "-".into())
}

/// One solve of the benchmark as a Markdown cell: status, gap, seconds.
fn solve_cell(r: &crate::solve::SolveReport, wall: f64) -> String {
    match (r.status, r.gap) {
        (Status::Optimal, _) => format!("optimal in {wall:.2} s"),
        (Status::Feasible, Some(g)) => format!("gap {:.2}% at {wall:.0} s", 100.0 * g),
        (st, _) => format!("{st} after {wall:.1} s"),
    }
}

/// The solve benchmark: for each case whose label contains `only` (all if
/// `None`), the model with the strengthenings off ("before") and as the
/// instance switches them ("after", all on by default; `strengthen`
/// overrides, as `--strengthen` does): rows, columns, LP relaxation value
/// and root bound; then each backend's solve of the "after" model within
/// `time_limit` s on one thread (wall time including the payoff solves of
/// payoff normalization). `progress` is called before each step.
pub fn bench_solve(
    kinds: &[BackendKind],
    time_limit: f64,
    strengthen: Option<&str>,
    only: Option<&str>,
    mut progress: impl FnMut(&str),
) -> Result<String, String> {
    let mut cases = solve_cases()?;
    cases.retain(|c| only.is_none_or(|o| c.label.contains(o)));
    if let Some(list) = strengthen {
        for c in &mut cases {
            c.inst.families.apply_strengthen_list(list)?;
        }
    }
    let mut relax: Vec<Vec<String>> = Vec::new();
    let mut solves: Vec<Vec<String>> = Vec::new();
    for case in &cases {
        let inst = &case.inst;
        let mut payoff = None;
        for &k in kinds {
            progress(&format!("{}: {k}", case.label));
            let opts = SolveOptions {
                time_limit: Some(time_limit),
                threads: Some(1),
                ..SolveOptions::default()
            };
            let t0 = Instant::now();
            let r = solve_instance(inst, k, &opts);
            let wall = t0.elapsed().as_secs_f64();
            solves.push(vec![
                case.label.clone(),
                k.to_string(),
                solve_cell(&r, wall),
                num(r.evaluated_objective),
                num(r.best_bound),
            ]);
            payoff = payoff.or(r.payoff);
        }
        if inst.objective.normalization == Normalization::Payoff && payoff.is_none() {
            progress(&format!("{}: payoff table", case.label));
            let opts = SolveOptions {
                threads: Some(1),
                ..SolveOptions::default()
            };
            payoff = payoff_table(inst, BackendKind::Highs, &opts)
                .ok()
                .map(|p| p.0);
        }
        progress(&format!("{}: relaxations", case.label));
        let mut plain = inst.clone();
        plain.families.apply_strengthen_list("none")?;
        let before = relaxation(&plain, payoff.as_ref(), time_limit);
        let after = relaxation(inst, payoff.as_ref(), time_limit);
        relax.push(vec![
            case.label.clone(),
            inst.dnn.len().to_string(),
            inst.tasks.len().to_string(),
            inst.network.len().to_string(),
            format!(
                "{} → {} ({})",
                before.rows, after.rows, after.strengthening_rows
            ),
            format!("{} → {}", before.columns, after.columns),
            num(before.lp),
            num(after.lp),
            num(before.root),
            num(after.root),
        ]);
    }
    let (l, r) = (Column::left, Column::right);
    let relax = table::markdown(
        &[
            l("instance"),
            r("atoms"),
            r("tasks"),
            r("nodes"),
            r("rows before → after (strengthening rows)"),
            r("columns before → after"),
            r("LP before"),
            r("LP after"),
            r("root before"),
            r("root after"),
        ],
        relax,
    );
    let solves = table::markdown(
        &[
            l("instance"),
            l("solver"),
            l("result"),
            r("objective"),
            r("best bound"),
        ],
        solves,
    );
    Ok(format!(
        "Strengthenings in force: {}\n\n{relax}\n{solves}",
        cases
            .first()
            .map(|c| c.inst.families.strengthen_list())
            .unwrap_or_default()
    ))
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

/// `bench routing`: loading complete networks of growing size (every
/// ordered pair linked, seeded random latencies of 0–50 ms and bandwidths
/// of 1 MB/s–1 GB/s, so that latencies break the triangle inequality):
/// the seconds of [`crate::network::Network::with_routing`] under each
/// routing rule, and what
/// loading the same network as an instance file does with the default
/// limits (refused before the route search, or loaded) and how long it
/// takes.
pub fn bench_routing(sizes: &[usize]) -> String {
    use crate::network::{Link, Network, Node, Routing};
    use rand::{Rng, SeedableRng};
    let mut rows = Vec::new();
    for &n in sizes {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(n as u64);
        let nodes: Vec<Node> = (0..n)
            .map(|i| Node {
                name: format!("n{i}"),
                kind: format!("n{i}"),
                speed: 1e9,
                memory: 1e9,
                power: 0.0,
                price: 0.0,
                quant_speedup: 1.0,
                max_utilization: None,
                max_power: None,
            })
            .collect();
        let mut links = Vec::new();
        for k in 0..n {
            for h in (0..n).filter(|&h| h != k) {
                links.push(Link {
                    from: k,
                    to: h,
                    bandwidth: 10f64.powf(r.gen_range(6.0..9.0)),
                    latency: r.gen_range(0.0..0.05),
                    power: 0.0,
                    price: 0.0,
                });
            }
        }
        let mut secs = Vec::new();
        for routing in [Routing::MinTime, Routing::MinLatency] {
            let t0 = Instant::now();
            let net = Network::with_routing(nodes.clone(), links.clone(), routing);
            secs.push(t0.elapsed().as_secs_f64());
            std::hint::black_box(net);
        }
        // The same network as an instance file, loaded with the default
        // limits: refused (`max_routing_work`) before the searches per
        // pair, or loaded.
        let mut text = String::from(
            "version: 1\ndnn: {input: {name: in}, layers: [], output: {name: out}}\n\
             tasks: [{name: t, rate: 1, source: n0}]\nnetwork:\n  nodes:\n",
        );
        for i in 0..n {
            text += &format!("    - {{name: n{i}, speed: 1e9, memory: 1e9}}\n");
        }
        text += "  links:\n";
        for l in &links {
            text += &format!(
                "    - {{from: n{}, to: n{}, bandwidth: {}, latency: {}}}\n",
                l.from, l.to, l.bandwidth, l.latency
            );
        }
        let t0 = Instant::now();
        let loaded = crate::instance::load_str(&text, None);
        let load_s = t0.elapsed().as_secs_f64();
        let verdict = match loaded {
            Ok(_) => "loaded",
            Err(e) if e.to_string().contains("max_routing_work") => "refused",
            Err(_) => "invalid",
        };
        rows.push(vec![
            n.to_string(),
            links.len().to_string(),
            format!("{:.3}", secs[0]),
            format!("{:.3}", secs[1]),
            format!("{verdict} in {load_s:.3}"),
        ]);
    }
    let r = Column::right;
    table::markdown(
        &[
            r("nodes"),
            r("links"),
            r("min_time (s)"),
            r("min_latency (s)"),
            r("instance load, default limits (s)"),
        ],
        rows,
    )
}
