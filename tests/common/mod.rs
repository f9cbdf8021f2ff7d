//! Test helpers: random tiny instances and a brute-force optimizer that
//! enumerates every plan (test code only; exponential by design).
#![allow(dead_code)]

use edgesplit::eval::evaluate;
use edgesplit::instance::{Instance, PayoffTable};
use edgesplit::Plan;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;

/// A random valid instance small enough to enumerate: ≤ 3 compute atoms,
/// ≤ 3 nodes, ≤ 2 tasks, ≤ 2 quantization groups. Limits are drawn so that
/// a fair share of instances are infeasible or have binding constraints.
/// One in five DNNs is a join of branches of different depth (a fan-out
/// class on two levels); one in five objectives is cost only with tiny
/// prices (optimum 1e-11 to 1e-6), one in ten has tiny weights (×1e-7) and
/// one in five huge ones (×1e8); the noise pair term's coefficient may be
/// negative.
///
/// The routing (`min_time` half the time, `min_latency` and `direct` a
/// quarter each) and the waiting energy (`latency_energy`, three in ten)
/// are drawn from a second generator, so that the rest of the instance is
/// what it was before those options existed.
pub fn tiny_instance(seed: u64) -> String {
    let mut o = ChaCha8Rng::seed_from_u64(seed ^ 0x7a3d_91c5_0b2e_6f48);
    let routing = match o.gen_range(0..4u32) {
        0 => "min_latency",
        1 => "direct",
        _ => "min_time",
    };
    let latency_energy = o.gen_bool(0.3);
    let triangle = o.gen_bool(0.6);
    tiny_instance_with(seed, routing, latency_energy, triangle)
}

/// [`tiny_instance`] with the given routing and waiting-energy switch;
/// `triangle` gives the links n0 ↔ n2 (where drawn) 0.005 s more latency and
/// 50 times the bandwidth, so that on three nodes the latencies break the
/// triangle inequality and a tensor's size can pick its path.
pub fn tiny_instance_with(
    seed: u64,
    routing: &str,
    latency_energy: bool,
    triangle: bool,
) -> String {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let nodes = r.gen_range(1..=3usize);
    let tasks = r.gen_range(1..=2usize);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "version: 1\nname: tiny-{seed}\ndescription: random tiny test instance"
    );
    // Objective size: 0–1 cost only with tiny prices (objective 1e-11 to
    // 1e-6), 2 tiny weights (×1e-7), 3–4 huge weights (×1e8), else plain.
    let magnitude = r.gen_range(0..10u32);
    let price_scale = if magnitude <= 1 { 1e-5 } else { 1.0 };
    // DNN: one or two layers, at most 3 compute atoms in all; or (one in
    // five) the join `in → {p, a}`, `p → b`, `{a, b} → out`, whose fan-out
    // class {a, b} spans levels 1 and 2.
    let join = r.gen_bool(0.2);
    let layer1 = if join { 1 } else { r.gen_range(1..=2usize) };
    let layer2 = if join {
        1
    } else if r.gen_bool(0.6) {
        r.gen_range(1..=(3 - layer1))
    } else {
        0
    };
    let groups: Vec<&str> = ["g1", "g2"][..r.gen_range(0..=2usize)].to_vec();
    let in_bytes = r.gen_range(1e3..1e5f64).round();
    let _ = writeln!(
        s,
        "dnn:\n  input: {{name: in, out_bytes: {in_bytes}}}\n  layers:"
    );
    let layer = |s: &mut String,
                 r: &mut ChaCha8Rng,
                 name: &str,
                 count: usize,
                 group: Option<&str>,
                 inputs: Option<&str>| {
        let _ = write!(
            s,
            "    - {{name: {name}, count: {count}, flops: {}, param_bytes: {}, out_bytes: {}",
            r.gen_range(1e6..1e8f64).round(),
            r.gen_range(1e3..1e5f64).round(),
            r.gen_range(1e2..1e5f64).round()
        );
        if let Some(g) = group {
            let _ = write!(s, ", group: {g}");
        }
        if r.gen_bool(0.2) {
            let _ = write!(s, ", mandatory: true");
        }
        if let Some(i) = inputs {
            let _ = write!(s, ", inputs: [{i}]");
        }
        let _ = writeln!(s, "}}");
    };
    let g1 = groups.first().copied().filter(|_| r.gen_bool(0.8));
    if join {
        layer(&mut s, &mut r, "p", 1, g1, Some("in"));
        layer(&mut s, &mut r, "a", 1, None, Some("in"));
    } else {
        layer(&mut s, &mut r, "a", layer1, g1, None);
    }
    if layer2 > 0 {
        let g2 = groups
            .get(1)
            .copied()
            .or(groups.first().copied())
            .filter(|_| r.gen_bool(0.8));
        let inputs = if join {
            Some("p")
        } else {
            r.gen_bool(0.3).then_some("in, a")
        };
        layer(&mut s, &mut r, "b", layer2, g2, inputs);
    }
    let out_inputs = if join || (layer2 > 0 && r.gen_bool(0.3)) {
        "\n    inputs: [a, b]"
    } else {
        ""
    };
    let _ = writeln!(s, "  output:\n    name: out{out_inputs}");
    // Network.
    let _ = writeln!(s, "network:\n  nodes:");
    for n in 0..nodes {
        let _ = write!(
            s,
            "    - {{name: n{n}, speed: {}, memory: {}, power: {}, price: {}, quant_speedup: {}",
            r.gen_range(1e8..1e10f64).round(),
            r.gen_range(5e3..4e5f64).round(),
            r.gen_range(0.0..50.0f64),
            r.gen_range(0.0..0.01f64) * price_scale,
            r.gen_range(1.0..3.0f64)
        );
        if r.gen_bool(0.25) {
            let _ = write!(s, ", max_utilization: {}", r.gen_range(0.05..1.0f64));
        }
        if r.gen_bool(0.25) {
            let _ = write!(s, ", max_power: {}", r.gen_range(1.0..200.0f64));
        }
        let _ = writeln!(s, "}}");
    }
    let _ = writeln!(s, "  links:");
    let mut any_link = false;
    for k in 0..nodes {
        for h in 0..nodes {
            if k != h && r.gen_bool(0.75) {
                any_link = true;
                let mut bandwidth = r.gen_range(1e5..1e8f64).round();
                let mut latency = r.gen_range(0.0..0.01f64);
                if triangle && k + h == 2 && k != 1 {
                    bandwidth *= 50.0;
                    latency += 0.005;
                }
                let _ = writeln!(
                    s,
                    "    - {{from: n{k}, to: n{h}, bandwidth: {bandwidth}, latency: {latency}, power: {}, price: {}}}",
                    r.gen_range(0.0..2.0f64),
                    r.gen_range(0.0..1e-8f64) * price_scale
                );
            }
        }
    }
    if !any_link {
        s = s.replace("  links:\n", "  links: []\n");
    }
    let _ = writeln!(
        s,
        "  routing: {routing}\n  latency_energy: {latency_energy}"
    );
    // Tasks.
    let _ = writeln!(s, "tasks:");
    let atoms: Vec<String> = if join {
        vec!["p".into(), "a".into(), "b".into()]
    } else {
        (0..layer1)
            .map(|k| {
                if layer1 == 1 {
                    "a".to_string()
                } else {
                    format!("a.{k}")
                }
            })
            .chain((0..layer2).map(|k| {
                if layer2 == 1 {
                    "b".to_string()
                } else {
                    format!("b.{k}")
                }
            }))
            .collect()
    };
    for t in 0..tasks {
        let src = r.gen_range(0..nodes);
        let sink = r.gen_range(0..nodes);
        // Concave: the middle point lies above the chord (λ ≥ mid).
        let top = r.gen_range(0.4..0.9f64);
        let mid = r.gen_range(0.2..0.8f64);
        let lambda = r.gen_range(mid..1.0);
        let _ = writeln!(
            s,
            "  - name: t{t}\n    rate: {}\n    source: n{src}\n    sink: n{sink}\n    max_delay: {}\n    min_quality: {}\n    quality:\n      curve: [[0, 0], [{mid}, {}], [1, {}]]\n      noise_sensitivity: {}",
            r.gen_range(0.5..10.0f64),
            r.gen_range(0.002..0.2f64),
            r.gen_range(0.0..0.8f64),
            top * lambda,
            top,
            r.gen_range(0.0..3.0f64)
        );
        let _ = write!(s, "    relevance: {{");
        for (i, a) in atoms.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(
                s,
                "{sep}{a}: {}",
                if r.gen_bool(0.2) {
                    0.0
                } else {
                    r.gen_range(0.0..1.0f64)
                }
            );
        }
        let _ = writeln!(s, "}}");
    }
    if !groups.is_empty() {
        // Only groups that some layer uses may be listed.
        let _ = writeln!(
            s,
            "quantization:\n  weight_factor: {}\n  activation_factor: {}\n  noise:\n    intercept: {}\n    terms:",
            r.gen_range(0.2..1.0f64),
            r.gen_range(0.2..1.0f64),
            r.gen_range(-0.01..0.03f64)
        );
        let _ = writeln!(
            s,
            "      - {{groups: [GROUP0], coef: {}}}",
            r.gen_range(-0.02..0.05f64)
        );
        let _ = writeln!(
            s,
            "      - {{groups: [GROUP1], coef: {}}}",
            r.gen_range(-0.02..0.05f64)
        );
        let _ = writeln!(
            s,
            "      - {{groups: [GROUP0, GROUP1], coef: {}}}",
            r.gen_range(-0.04..0.04f64)
        );
        if r.gen_bool(0.5) {
            let _ = writeln!(s, "  max_noise: {}", r.gen_range(0.0..0.06f64));
        }
    }
    let w = |r: &mut ChaCha8Rng| {
        if r.gen_bool(0.3) {
            0.0
        } else {
            r.gen_range(0.0..2.0f64)
        }
    };
    let (wt, we, wc) = (w(&mut r), w(&mut r), w(&mut r));
    let wt = if wt + we + wc == 0.0 { 1.0 } else { wt };
    let (wt, we, wc) = match magnitude {
        0 | 1 => (0.0, 0.0, 1.0),
        2 => (wt * 1e-7, we * 1e-7, wc * 1e-7),
        3 | 4 => (wt * 1e8, we * 1e8, wc * 1e8),
        _ => (wt, we, wc),
    };
    let _ = writeln!(
        s,
        "objective:\n  weights: {{time: {wt}, energy: {we}, cost: {wc}}}"
    );
    if r.gen_bool(0.4) {
        let _ = writeln!(
            s,
            "  normalization: {{scales: {{time: {}, energy: {}, cost: {}}}}}",
            r.gen_range(0.01..1.0f64),
            r.gen_range(0.1..100.0f64),
            r.gen_range(1e-4..1.0f64)
        );
    }
    let _ = writeln!(
        s,
        "constraints: {{capacity: {}, energy: {}, selection: {}, traffic: {}}}",
        r.gen_bool(0.7),
        r.gen_bool(0.7),
        r.gen_bool(0.9),
        r.gen_bool(0.9)
    );
    let _ = writeln!(
        s,
        "delay_model: {}",
        if r.gen_bool(0.5) {
            "sequential"
        } else {
            "layered"
        }
    );
    if r.gen_bool(0.25) {
        let node = r.gen_range(0..nodes);
        let kind = if r.gen_bool(0.5) {
            "only_on"
        } else {
            "never_on"
        };
        let _ = writeln!(
            s,
            "placement_rules:\n  - {{name: rule, tasks: [t0], atoms: \"a*\", {kind}: [n{node}]}}"
        );
    }
    fix_groups(s)
}

/// Drops quantization groups no layer uses and names the noise terms'
/// groups after those that remain.
fn fix_groups(s: String) -> String {
    let used: Vec<&str> = ["g1", "g2"]
        .into_iter()
        .filter(|g| s.contains(&format!("group: {g}")))
        .collect();
    if !s.contains("quantization:") {
        return s;
    }
    if used.is_empty() {
        // Cut the quantization section: no group to quantize.
        let start = s.find("quantization:").unwrap();
        let end = s.find("objective:").unwrap();
        return format!("{}{}", &s[..start], &s[end..]);
    }
    let g0 = used[0];
    let g1 = used.get(1).copied();
    let mut out = String::new();
    for line in s.lines() {
        if line.contains("GROUP0, GROUP1") && g1.is_none() {
            continue;
        }
        if line.contains("[GROUP1]") && g1.is_none() {
            continue;
        }
        let l = line
            .replace("GROUP0", g0)
            .replace("GROUP1", g1.unwrap_or(g0));
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// Every plan of `inst`: for every task, each atom of its own DNN unused
/// or on any node (input and output at their fixed nodes), another DNN's
/// atoms unused, times every quantization.
pub fn for_each_plan(inst: &Instance, mut f: impl FnMut(&Plan)) {
    let dnn = &inst.dnn;
    let n = inst.network.len();
    let free: Vec<Vec<usize>> = inst
        .tasks
        .iter()
        .map(|task| {
            dnn.atoms_of(task.dnn)
                .filter(|&a| !dnn.is_endpoint(a))
                .collect()
        })
        .collect();
    let total: usize = free.iter().map(|f| (n + 1).pow(f.len() as u32)).product();
    let groups = inst.group_count();
    let mut plan = Plan::empty(inst);
    for (t, task) in inst.tasks.iter().enumerate() {
        plan.placement[t][inst.input_of(t)] = Some(task.source);
        plan.placement[t][inst.output_of(t)] = Some(task.sink);
    }
    for code in 0..total {
        let mut c = code;
        for (t, own) in free.iter().enumerate() {
            for &a in own {
                let d = c % (n + 1);
                c /= n + 1;
                plan.placement[t][a] = if d == n { None } else { Some(d) };
            }
        }
        for qmask in 0..(1usize << groups) {
            for g in 0..groups {
                plan.quantized[g] = qmask >> g & 1 == 1;
            }
            f(&plan);
        }
    }
}

/// The optimum by enumeration: `None` when no plan is feasible.
pub fn brute_force(inst: &Instance, payoff: Option<&PayoffTable>) -> Option<(f64, Plan)> {
    let mut best: Option<(f64, Plan)> = None;
    for_each_plan(inst, |p| {
        let ev = evaluate(inst, p, payoff);
        if ev.feasible() {
            let o = ev.objective.expect("objective defined");
            if best.as_ref().is_none_or(|(b, _)| o < *b) {
                best = Some((o, p.clone()));
            }
        }
    });
    best
}

/// Solves `inst` (the text `text`, drawn from `seed`) on every built-in
/// backend and checks each against [`brute_force`]: `infeasible` when no
/// plan is feasible, otherwise `optimal` at the enumerated optimum. The
/// reports in backend order, or what disagreed.
pub fn every_backend_matches_brute_force(
    inst: &Instance,
    seed: u64,
    text: &str,
) -> Result<Vec<edgesplit::solve::SolveReport>, String> {
    use edgesplit::solve::{solve_instance, BackendKind, SolveOptions, Status};
    let bf = brute_force(inst, None).map(|b| b.0);
    let mut reports = Vec::new();
    for kind in BackendKind::built_in() {
        let rep = solve_instance(inst, kind, &SolveOptions::default());
        let ok = match (bf, rep.status) {
            (None, Status::Infeasible) => true,
            (Some(opt), Status::Optimal) => close(rep.evaluated_objective.unwrap(), opt),
            _ => false,
        };
        if !ok {
            return Err(format!(
                "seed {seed}: {kind} says {} {:?} ({:?}), brute force {bf:?}\n{text}",
                rep.status, rep.evaluated_objective, rep.message
            ));
        }
        reports.push(rep);
    }
    Ok(reports)
}

/// |a − b| within the tolerance used to compare optima: 1e-6 relative,
/// with an absolute floor (1e-15) far below the tiniest objective the
/// tests generate (about 1e-11), so that a tiny optimum is compared
/// relatively too.
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + 1e-15
}

/// The model's objective with every y, z and q fixed to `plan` (what is
/// left is an LP over the continuous columns): the value the MILP gives
/// that plan. `None` when the fixed model has no solution.
pub fn fixed_plan_objective(
    inst: &Instance,
    plan: &Plan,
    payoff: Option<&PayoffTable>,
    kind: edgesplit::solve::BackendKind,
) -> Option<f64> {
    use edgesplit::milp::{build, ObjectiveSpec};
    use edgesplit::solve::{SolveOptions, Status};
    let mut built = build(inst, ObjectiveSpec::Instance, payoff);
    for (col, v) in built.start_values(plan) {
        let c = &mut built.model.columns[col];
        if v < c.lb || v > c.ub {
            return None;
        }
        (c.lb, c.ub) = (v, v);
    }
    let backend = kind.backend().expect("backend built in");
    let o = backend.solve(&built.model, &SolveOptions::default(), &[]);
    match o.status {
        Status::Optimal => o.objective,
        Status::Infeasible => None,
        st => panic!("fixed-plan solve ended {st}: {:?}", o.message),
    }
}

/// A network whose latencies break the triangle inequality, as the
/// thesis' does: n0 → n2 directly has ten times the latency of n0 → n1 →
/// n2 but twenty times its bandwidth, so under `min_time` a tensor above
/// about 460 kB goes directly and a smaller one through n1. Atom `p` sends
/// 1 MB (100 kB quantized: the quantization changes its path), as does the
/// input, and the
/// fan-out class {a, b} holds a 1 MB and a 10 kB tensor (one path each).
pub fn triangle_instance(routing: &str, delay_model: &str, latency_energy: bool) -> String {
    format!(
        r#"version: 1
name: triangle
dnn:
  input: {{name: in, out_bytes: 1e6}}
  layers:
    - {{name: p, flops: 4e7, param_bytes: 1000, out_bytes: 1e6, group: g1, inputs: [in]}}
    - {{name: a, flops: 2e7, param_bytes: 1000, out_bytes: 1e6, inputs: [in]}}
    - {{name: b, flops: 3e7, param_bytes: 1000, out_bytes: 1e4, group: g1, inputs: [p]}}
  output:
    name: out
    inputs: [a, b]
network:
  nodes:
    - {{name: n0, speed: 1e9, memory: 1e9, power: 5, price: 0.001}}
    - {{name: n1, speed: 3e9, memory: 1e9, power: 20, price: 0.002}}
    - {{name: n2, speed: 1e10, memory: 1e9, power: 50, price: 0.004}}
  links:
    - {{from: n0, to: n1, bandwidth: 1e8, latency: 0.0005, power: 1, price: 1e-9, symmetric: true}}
    - {{from: n1, to: n2, bandwidth: 1e8, latency: 0.0005, power: 1, price: 1e-9, symmetric: true}}
    - {{from: n0, to: n2, bandwidth: 2e9, latency: 0.01, power: 3, price: 2e-9, symmetric: true}}
  routing: {routing}
  latency_energy: {latency_energy}
tasks:
  - name: t0
    rate: 2
    source: n0
    sink: n2
    relevance: {{p: 1, a: 1, b: 1}}
    min_quality: 0
quantization:
  weight_factor: 0.5
  activation_factor: 0.1
  noise:
    intercept: 0.001
    terms:
      - {{groups: [g1], coef: 0.01}}
objective:
  weights: {{time: 1, energy: 0.01, cost: 10}}
delay_model: {delay_model}
"#
    )
}

/// A generated instance HiGHS needs well over a minute to prove (TIDE
/// family, 4 conv layers of 16 filters, 5 tasks, 4 nodes), as a request.
pub fn long_job(method: &str) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args([
            "generate",
            "--family",
            "tide",
            "--seed",
            "11",
            "--layers",
            "4",
            "--atoms-per-layer",
            "16",
            "--tasks",
            "5",
            "--nodes",
            "4",
            "--groups",
            "2",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::json!({
        "instance": String::from_utf8(out.stdout).unwrap(),
        "method": method,
        "options": {"time_limit_s": 300},
    })
}
