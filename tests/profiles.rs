//! Profiled compute times (`profiles:`): the MILP optimum with random
//! profiles equals brute-force enumeration judged by the evaluator on
//! random tiny instances, on every backend (profiles that invert the
//! nodes' speed order, quantized times slower than fp32, node kinds, a
//! node's own entry over its kind's); a profile changes the optimal
//! placement; a layer's time is split by FLOP; bad entries and bad CSV
//! rows are refused with field paths, lines and columns; `solve` and
//! `import-profile` on the command line.

mod common;

use common::{brute_force, close, every_backend_matches_brute_force, tiny_instance};
use edgesplit::instance::{load_str, Instance};
use edgesplit::solve::{solve_instance, BackendKind, SolveOptions, Status};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a random profile does, for the coverage test.
#[derive(Default, Debug, Clone, Copy)]
struct Drawn {
    entries: usize,
    kinds: bool,
    node_over_kind: bool,
    atom_entries: usize,
    slower_quantized: usize,
}

/// `text` with random node kinds and a random `profiles:` table over the
/// names of its instance. A layer's time on the node of speed rank r is
/// its FLOP over the speed of rank N−1−r (times 0.5–2), so profiles tend
/// to invert the speed order.
fn with_profiles(text: &str, seed: u64) -> (String, Drawn) {
    let inst = load_str(text, None).unwrap();
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x9f0f);
    let mut d = Drawn::default();
    let nodes = &inst.network.nodes;
    let mut s = text.to_string();
    // Two nodes of one kind `k`, sometimes.
    let mut kinded = Vec::new();
    if nodes.len() >= 2 && r.gen_bool(0.4) {
        let first = r.gen_range(0..nodes.len());
        let second = (first + 1 + r.gen_range(0..nodes.len() - 1)) % nodes.len();
        for n in [first, second] {
            let from = format!("{{name: {},", nodes[n].name);
            assert!(s.contains(&from), "{from}");
            s = s.replace(&from, &format!("{{name: {}, kind: k,", nodes[n].name));
            kinded.push(n);
        }
        d.kinds = true;
    }
    let mut keys: Vec<(String, Vec<usize>)> = (0..nodes.len())
        .filter(|n| !kinded.contains(n))
        .map(|n| (nodes[n].name.clone(), vec![n]))
        .collect();
    if d.kinds {
        keys.push(("k".into(), kinded.clone()));
        // A node of the kind by its own name: it takes precedence.
        if r.gen_bool(0.5) {
            let n = kinded[r.gen_range(0..2)];
            keys.push((nodes[n].name.clone(), vec![n]));
        }
    }
    let mut by_speed: Vec<usize> = (0..nodes.len()).collect();
    by_speed.sort_by(|&a, &b| nodes[b].speed.total_cmp(&nodes[a].speed));
    let rank = |n: usize| by_speed.iter().position(|&x| x == n).unwrap();
    let swapped = |n: usize| nodes[by_speed[nodes.len() - 1 - rank(n)]].speed;
    let dnn = &inst.dnn;
    let mut lines = String::new();
    let mut node_keyed = vec![false; nodes.len()];
    let mut kind_keyed = false;
    for (layer, atoms) in &dnn.layers {
        if atoms.contains(&dnn.input_of(0)) || atoms.contains(&dnn.output_of(0)) {
            continue;
        }
        for (key, key_nodes) in &keys {
            if !r.gen_bool(0.6) {
                continue;
            }
            let targets: Vec<(String, Vec<usize>)> = if atoms.len() > 1 && r.gen_bool(0.3) {
                // One atom of the layer instead of the layer.
                let a = atoms[r.gen_range(0..atoms.len())];
                d.atom_entries += 1;
                vec![(dnn.atoms[a].id.clone(), vec![a])]
            } else {
                vec![(layer.clone(), atoms.clone())]
            };
            for (name, covered) in targets {
                let flops: f64 = covered.iter().map(|&a| dnn.atoms[a].flops).sum();
                let n = key_nodes[0];
                let t = flops / swapped(n) * r.gen_range(0.5..2.0f64);
                let _ = write!(lines, "    - {{layer: {name}, node: {key}, time_s: {t}");
                let quantizable = covered.iter().all(|&a| dnn.atoms[a].group.is_some());
                if quantizable && r.gen_bool(0.6) {
                    let f = r.gen_range(0.2..1.5f64);
                    d.slower_quantized += usize::from(f > 1.0);
                    let _ = write!(lines, ", time_q_s: {}", t * f);
                }
                lines.push_str("}\n");
                d.entries += 1;
            }
            if key == "k" {
                kind_keyed = true;
            } else if key_nodes.len() == 1 && kinded.contains(&key_nodes[0]) {
                node_keyed[key_nodes[0]] = true;
            }
        }
    }
    d.node_over_kind = kind_keyed && node_keyed.iter().any(|&b| b);
    if !lines.is_empty() {
        s.push_str("profiles:\n  times:\n");
        s.push_str(&lines);
    }
    (s, d)
}

fn check(seed: u64) -> Result<(), TestCaseError> {
    let (text, _) = with_profiles(&tiny_instance(seed), seed);
    let inst = load_str(&text, None)
        .map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}\n{text}")))?;
    every_backend_matches_brute_force(&inst, seed, &text).map_err(TestCaseError::fail)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 80, ..ProptestConfig::default() })]

    /// 80 random tiny instances with random profiles, every backend.
    #[test]
    fn profiles_match_brute_force(seed in 0u64..1_000_000) {
        check(seed)?;
    }
}

/// The random profiles matter: on a good share of the instances the
/// brute-force optimum with them differs from the one without (a MILP that
/// ignored them would then fail the test above), and they draw every case.
#[test]
fn the_random_profiles_bind_and_cover_every_case() {
    let (mut changed, mut inverted) = (0, 0);
    let mut total = Drawn::default();
    let (mut kinds, mut node_over_kind) = (0, 0);
    for seed in 0..60 {
        let plain = tiny_instance(seed);
        let (text, d) = with_profiles(&plain, seed);
        let with = load_str(&text, None).unwrap();
        let plain = load_str(&plain, None).unwrap();
        total.entries += d.entries;
        total.atom_entries += d.atom_entries;
        total.slower_quantized += d.slower_quantized;
        kinds += usize::from(d.kinds);
        node_over_kind += usize::from(d.node_over_kind);
        inverted += usize::from(inverts_speed_order(&with));
        if seed < 40 {
            let a = brute_force(&plain, None).map(|b| b.0);
            let b = brute_force(&with, None).map(|b| b.0);
            let same = match (a, b) {
                (Some(x), Some(y)) => close(x, y),
                (x, y) => x.is_none() && y.is_none(),
            };
            changed += usize::from(!same);
        }
    }
    assert!(changed >= 10, "only {changed} of 40 optima changed");
    assert!(inverted >= 10, "only {inverted} of 60 invert a speed order");
    assert!(
        kinds >= 10 && node_over_kind >= 3,
        "{kinds} {node_over_kind}"
    );
    assert!(
        total.atom_entries >= 5 && total.slower_quantized >= 10,
        "{total:?}"
    );
}

/// Some atom is faster on a slower node (by `speed`) than on a faster one.
fn inverts_speed_order(inst: &Instance) -> bool {
    let net = &inst.network;
    (0..inst.dnn.len()).any(|a| {
        (0..net.len()).any(|k| {
            (0..net.len()).any(|h| {
                net.nodes[k].speed < net.nodes[h].speed
                    && inst.compute_s(a, k, false) < inst.compute_s(a, h, false)
            })
        })
    })
}

/// A device and a server 10 times faster by `speed`; one layer of 1 GFLOP
/// and a big input, so the plan without profiles runs the layer on the
/// server. A profile that says the device's accelerator runs the layer in
/// 1 ms moves it to the device.
const TWO_NODES: &str = r#"version: 1
name: two
dnn:
  input: {name: in, out_bytes: 1e5}
  layers:
    - {name: dw, flops: 1e9, param_bytes: 100, out_bytes: 100, mandatory: true}
  output: {name: out}
network:
  nodes:
    - {name: device, kind: npu-phone, speed: 1e10, memory: 1e6}
    - {name: server, speed: 1e11, memory: 1e9}
  links:
    - {from: device, to: server, bandwidth: 1e8, latency: 0.001, symmetric: true}
tasks:
  - {name: t, rate: 1, source: device}
"#;

fn placement_of(text: &str) -> (String, f64) {
    let inst = load_str(text, None).unwrap();
    let rep = solve_instance(&inst, BackendKind::Highs, &SolveOptions::default());
    assert_eq!(rep.status, Status::Optimal, "{:?}", rep.message);
    let plan = rep.plan.as_ref().expect("an optimal plan");
    let a = inst.dnn.atom_by_id("dw").unwrap();
    let n = plan.placement[0][a].unwrap();
    (
        inst.network.nodes[n].name.clone(),
        rep.evaluated_objective.unwrap(),
    )
}

#[test]
fn a_profile_changes_the_optimal_placement() {
    // flops/speed: 0.1 s on the device, 0.01 s + 3 ms of transfers on the
    // server.
    let (node, t) = placement_of(TWO_NODES);
    assert_eq!(node, "server");
    assert!(
        (t - (0.01 + 2.0 * 0.001 + 1e5 / 1e8 + 100.0 / 1e8)).abs() < 1e-9,
        "{t}"
    );
    let profiled = format!(
        "{TWO_NODES}profiles:\n  times:\n    - {{layer: dw, node: npu-phone, time_s: 0.001}}\n"
    );
    let (node, t) = placement_of(&profiled);
    assert_eq!(node, "device");
    assert!((t - 0.001).abs() < 1e-12, "{t}");
    // A profile that makes the server (10 times faster by `speed`) slower
    // than the device: the layer moves to the device too.
    let server =
        format!("{TWO_NODES}profiles:\n  times:\n    - {{layer: dw, node: server, time_s: 0.2}}\n");
    let (node, t) = placement_of(&server);
    assert_eq!(node, "device");
    assert!((t - 0.1).abs() < 1e-12, "{t}");
}

const SPLIT: &str = r#"version: 1
dnn:
  input: {name: in}
  layers:
    - name: conv
      flops: 1e6
      group: g
      atoms: [{name: c0, flops: 1e6}, {name: c1, flops: 3e6}]
    - {name: zero, count: 2, flops: 0, inputs: [conv]}
    - {name: fc, flops: 1e6, inputs: [zero]}
  output: {name: out}
network:
  nodes:
    - {name: g0, kind: gpu, speed: 1e9, memory: 1e9, quant_speedup: 2}
    - {name: g1, kind: gpu, speed: 1e9, memory: 1e9, quant_speedup: 4}
    - {name: cpu, speed: 1e8, memory: 1e9, quant_speedup: 2}
tasks:
  - {name: t, rate: 1, source: cpu}
quantization: {groups: [g]}
profiles:
  times:
    - {layer: conv, node: gpu, time_s: 0.008}
    - {layer: conv, node: g1, time_s: 0.004, time_q_s: 0.001}
    - {layer: zero, node: gpu, time_s: 0.002}
"#;

#[test]
fn a_layers_time_is_split_by_flop_and_a_nodes_own_entry_beats_its_kinds() {
    let inst = load_str(SPLIT, None).unwrap();
    let a = |id: &str| inst.dnn.atom_by_id(id).unwrap();
    let n = |name: &str| inst.network.node_by_name(name).unwrap();
    let eq = |x: f64, y: f64| assert!((x - y).abs() <= 1e-15, "{x} vs {y}");
    // conv on gpu: 8 ms split 1:3 by FLOP; quantized: / quant_speedup 2.
    eq(inst.compute_s(a("c0"), n("g0"), false), 0.002);
    eq(inst.compute_s(a("c1"), n("g0"), false), 0.006);
    eq(inst.compute_s(a("c1"), n("g0"), true), 0.003);
    // g1's own entry wins over its kind's, with its quantized time.
    eq(inst.compute_s(a("c0"), n("g1"), false), 0.001);
    eq(inst.compute_s(a("c1"), n("g1"), true), 0.00075);
    // A layer of 0 FLOP: split equally.
    eq(inst.compute_s(a("zero.0"), n("g1"), false), 0.001);
    // No entry: flops / speed (/ quant_speedup).
    eq(inst.compute_s(a("c1"), n("cpu"), true), 3e6 / 1e8 / 2.0);
    eq(inst.compute_s(a("fc"), n("g0"), false), 1e6 / 1e9);
    // The evaluator adds these up.
    let mut plan = edgesplit::Plan::empty(&inst);
    for x in 0..inst.dnn.len() {
        plan.placement[0][x] = Some(n("g1"));
    }
    plan.placement[0][inst.dnn.input_of(0)] = Some(n("cpu"));
    plan.placement[0][inst.dnn.output_of(0)] = Some(n("cpu"));
    plan.quantized[0] = true;
    let ev = edgesplit::eval::evaluate(&inst, &plan, None);
    eq(ev.tasks[0].compute_s, 0.001 + 0.002 + 1e6 / 1e9);
}

/// The problems of an invalid instance, one `file: path: message` each.
fn problems(text: &str, path: Option<&Path>) -> Vec<String> {
    match load_str(text, path) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e
            .diagnostics()
            .expect("a validation error")
            .problems
            .iter()
            .map(|p| format!("{}: {}: {}", p.file.display(), p.path, p.message))
            .collect(),
    }
}

fn has(problems: &[String], want: &[&str]) {
    assert!(
        problems.iter().any(|p| want.iter().all(|w| p.contains(w))),
        "no problem with {want:?} in:\n{}",
        problems.join("\n")
    );
}

#[test]
fn bad_entries_are_refused_with_their_field_paths() {
    let bad = SPLIT.replace(
        "    - {layer: zero, node: gpu, time_s: 0.002}\n",
        "    - {layer: zero, node: gpu, time_s: 0.002}
    - {layer: conv9, node: gpu, time_s: 1}
    - {layer: fc, node: moon, time_s: 1}
    - {layer: fc, node: cpu, time_s: -1}
    - {layer: fc, node: g0, time_s: .nan}
    - {layer: c1, node: g0, time_s: 1, time_q_s: .inf}
    - {layer: fc, node: cpu, time_s: 1, time_q_s: 0.5}
    - {layer: conv, node: gpu, time_s: 0.1}
    - {layer: c0, node: gpu, time_s: 0.1}
    - {layer: in, node: gpu, time_s: 0.1}
",
    );
    let p = problems(&bad, Some(Path::new("bad.yaml")));
    has(
        &p,
        &["bad.yaml: profiles.times[3].layer: unknown atom or layer 'conv9'"],
    );
    has(
        &p,
        &["profiles.times[4].node: unknown node or node kind 'moon': expected one of the kinds gpu, cpu, or one of the nodes g0, g1"],
    );
    has(&p, &["profiles.times[5].time_s: value -1 is not allowed: expected a finite time in seconds per inference ≥ 0"]);
    has(&p, &["profiles.times[6].time_s: value NaN is not allowed"]);
    has(
        &p,
        &["profiles.times[7].time_q_s: value inf is not allowed"],
    );
    has(
        &p,
        &["profiles.times[8].time_q_s: a quantized time for 'fc', which cannot be quantized: atom 'fc' is in none of the quantization groups g: expected no time_q_s"],
    );
    has(
        &p,
        &["profiles.times[9]: 'conv' on 'gpu' is profiled twice (also profiles.times[0])"],
    );
    has(
        &p,
        &["profiles.times[10]: atom 'c0' on 'gpu' is profiled twice: here and by its layer 'conv' (profiles.times[0])"],
    );
    has(
        &p,
        &["profiles.times[11].layer: 'in' is the DNN's input atom, which computes nothing"],
    );
    assert_eq!(p.len(), 9, "{}", p.join("\n"));
    // Unknown keys are refused with their path, like everywhere else.
    let p = problems(
        &SPLIT.replace("time_s: 0.002}", "time_s: 0.002, tme_q_s: 1}"),
        None,
    );
    has(&p, &["profiles.times[2]", "unknown field `tme_q_s`"]);
    // Kinds: not empty, not another node's name of another kind.
    let p = problems(
        &SPLIT.replace("{name: g1, kind: gpu,", "{name: g1, kind: g0,"),
        None,
    );
    has(&p, &["network.nodes[1].kind: kind 'g0' is the name of node 'g0' (network.nodes[0]), whose kind is 'gpu'"]);
    // A kind shared with a node of that name and kind is fine.
    assert!(load_str(
        &SPLIT.replace("{name: g1, kind: gpu,", "{name: g1, kind: cpu,"),
        None
    )
    .is_ok());
    let p = problems(
        &SPLIT.replace("{name: g0, kind: gpu,", "{name: g0, kind: '',"),
        None,
    );
    has(&p, &["network.nodes[0].kind: empty kind"]);
    // A time far out of scale is blamed on the profile entry.
    let p = problems(&SPLIT.replace("time_s: 0.008", "time_s: 1e300"), None);
    has(&p, &["profiles.times[0].time_s: value 1e300 makes the compute time profiled time_s of 'conv' on 'g0' 1e300"]);
}

/// A temporary folder with `SPLIT` as `inst.yaml` reading `prof.csv`.
fn with_csv(csv: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let inst = dir.path().join("inst.yaml");
    std::fs::write(
        &inst,
        SPLIT.replace(
            "profiles:\n  times:\n",
            "profiles:\n  csv: prof.csv\n  times:\n",
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("prof.csv"), csv).unwrap();
    (dir, inst)
}

fn csv_problems(csv: &str) -> Vec<String> {
    let (_dir, inst) = with_csv(csv);
    let text = std::fs::read_to_string(&inst).unwrap();
    problems(&text, Some(&inst))
        .into_iter()
        .map(|p| p.replace(&format!("{}/", inst.parent().unwrap().display()), ""))
        .collect()
}

#[test]
fn a_csv_with_columns_in_any_order_comments_and_empty_quantized_times_loads() {
    let (_dir, inst) = with_csv(
        "# measured on the bench\ntime_q_s, node ,layer,time_s\n,cpu,c0,0.5\n0.1,cpu,c1,0.3\n\n# the end\n",
    );
    let inst = edgesplit::load(&inst).unwrap();
    let (c0, c1, cpu) = (
        inst.dnn.atom_by_id("c0").unwrap(),
        inst.dnn.atom_by_id("c1").unwrap(),
        inst.network.node_by_name("cpu").unwrap(),
    );
    assert_eq!(inst.compute_s(c0, cpu, false), 0.5);
    assert_eq!(inst.compute_s(c0, cpu, true), 0.25);
    assert_eq!(inst.compute_s(c1, cpu, true), 0.1);
    // Inline entries first, then the CSV's, each with where it is.
    let e = &inst.profiles.entries;
    assert_eq!(e.len(), 5);
    assert_eq!((e[3].at.as_str(), e[3].from_csv), ("line 3", true));
    // Without the time_q_s column.
    let (_dir, inst) = with_csv("layer,node,time_s\nfc,cpu,0.5\n");
    assert!(edgesplit::load(&inst).is_ok());
}

#[test]
fn bad_csv_rows_are_refused_with_their_line_and_column() {
    let p = csv_problems("layer,node,time_s,time_q_s\nc0,cpu,abc,\nc9,cpu,1,\nc0,cpu,1\n,cpu,1,\nfc,cpu,1,2\nc1,cpu,-3,\nc1,moon,1,x\n");
    has(&p, &["prof.csv: line 2, column time_s: value 'abc' is not a number: expected a time in seconds per inference, a finite number ≥ 0"]);
    has(
        &p,
        &["prof.csv: line 3, column layer: unknown atom or layer 'c9'"],
    );
    has(&p, &["prof.csv: line 4: 3 field(s): expected 4 (the header's columns layer,node,time_s,time_q_s)"]);
    has(
        &p,
        &["prof.csv: line 5, column layer: empty: expected an atom id or a layer name"],
    );
    has(&p, &["prof.csv: line 6, column time_q_s: a quantized time for 'fc', which cannot be quantized"]);
    has(
        &p,
        &["prof.csv: line 7, column time_s: value -3 is not allowed"],
    );
    has(
        &p,
        &[
            "prof.csv: line 8, column time_q_s: value 'x' is not a number",
            "(or an empty cell",
        ],
    );
    // A duplicate names the entry it repeats; across the inline entries
    // and the CSV too.
    let p = csv_problems("layer,node,time_s\nc0,cpu,1\nc0,cpu,2\nconv,gpu,1\n");
    has(
        &p,
        &["prof.csv: line 3: 'c0' on 'cpu' is profiled twice (also line 2)"],
    );
    has(&p, &["prof.csv: line 4: 'conv' on 'gpu' is profiled twice (also inst.yaml profiles.times[0])"]);
    // The header.
    let p = csv_problems("layer,nodes,time_s,time_s\nc0,cpu,1,1\n");
    has(&p, &["prof.csv: line 1, column 2: unknown column 'nodes': expected the columns layer, node, time_s and optionally time_q_s, in any order"]);
    has(
        &p,
        &["prof.csv: line 1, column 4: column 'time_s' appears twice"],
    );
    has(&p, &["prof.csv: line 1: no column 'node'"]);
    // A missing file is named at profiles.csv.
    let (dir, inst) = with_csv("layer,node,time_s\n");
    std::fs::remove_file(dir.path().join("prof.csv")).unwrap();
    let p = problems(&std::fs::read_to_string(&inst).unwrap(), Some(&inst));
    has(
        &p,
        &[
            "inst.yaml: profiles.csv: cannot read referenced file",
            "prof.csv",
        ],
    );
}

fn exe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_edgesplit"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

#[test]
fn the_bundled_profiled_instance_solves_on_the_command_line_and_differs_from_the_default() {
    let out = exe()
        .args(["solve", "instances/profiled.yaml", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "optimal", "{v}");
    let profiled = v["evaluated_objective"].as_f64().unwrap();
    let out = exe()
        .args(["solve", "instances/default.yaml", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let plain = v["evaluated_objective"].as_f64().unwrap();
    assert!(!close(profiled, plain), "{profiled} {plain}");
    // The profile's numbers are what the evaluator uses.
    let inst = edgesplit::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/instances/profiled.yaml"
    )))
    .unwrap();
    let conv1 = inst.dnn.atom_by_id("conv1.0").unwrap();
    let device = inst.network.node_by_name("device").unwrap();
    assert_eq!(inst.compute_s(conv1, device, false), 0.003 / 4.0);
    assert_eq!(inst.compute_s(conv1, device, true), 0.0012 / 4.0);
}

#[test]
fn import_profile_writes_the_csv_inline_and_names_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out_file = dir.path().join("sub/inline.yaml");
    std::fs::create_dir_all(out_file.parent().unwrap()).unwrap();
    let out = exe()
        .args([
            "import-profile",
            "instances/profiled-times.csv",
            "--instance",
            "instances/profiled.yaml",
            "-o",
        ])
        .arg(&out_file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("8 profile row(s) written inline"), "{err}");
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert!(!text.contains("csv:"), "{text}");
    // Written elsewhere, it still finds its DNN; every compute time is
    // the bundled instance's.
    let inline = edgesplit::load(&out_file).unwrap();
    let bundled = edgesplit::load(&root.join("instances/profiled.yaml")).unwrap();
    assert_eq!(inline.profiles.entries.len(), 9);
    for a in 0..bundled.dnn.len() {
        for n in 0..bundled.network.len() {
            for q in [false, true] {
                assert_eq!(
                    inline.compute_s(a, n, q),
                    bundled.compute_s(a, n, q),
                    "{a} {n} {q}"
                );
            }
        }
    }
    // A bad row: exit 2, the CSV as given, the line and the column.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "layer,node,time_s\nconv1,phone,1\nconv1,jetson,fast\n",
    )
    .unwrap();
    let out = exe()
        .arg("import-profile")
        .arg(&bad)
        .args(["--instance", "instances/default.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let b = bad.display();
    assert!(
        err.contains(&format!(
            "{b}: line 2, column node: unknown node or node kind 'phone'"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{b}: line 3, column time_s: value 'fast' is not a number"
        )),
        "{err}"
    );
}
