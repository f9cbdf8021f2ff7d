//! Several parent DNNs in one instance (`dnns:`): the MILP optimum equals
//! brute-force enumeration judged by the evaluator on random tiny
//! two-DNN instances, on every backend (shared memory, capacity, energy
//! and quantization groups; each task on its own DNN); a task never uses
//! another DNN's atoms (the evaluator flags it, the MILP cannot pick it);
//! every heuristic's plan keeps to the tasks' own DNNs; bad `dnns`,
//! missing or unknown task DNNs are refused with their field paths; the
//! bundled example solves and goes through the server's validation.

mod common;

use common::{
    brute_force, close, every_backend_matches_brute_force, fixed_plan_objective, tiny_instance,
};
use edgesplit::eval::evaluate;
use edgesplit::instance::{load_str, Instance};
use edgesplit::solve::{solve_instance, BackendKind, SolveOptions, Status};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// The value after `key` on `line` (up to `,` or `}`) times `f`, rounded.
fn scale_field(line: &str, key: &str, f: f64) -> String {
    let Some(i) = line.find(key) else {
        return line.to_string();
    };
    let start = i + key.len();
    let end = line[start..]
        .find([',', '}'])
        .map_or(line.len(), |e| start + e);
    let v: f64 = line[start..end].trim().parse().unwrap();
    format!(
        "{}{}{}",
        &line[..start],
        (v * f).round().max(1.0),
        &line[end..]
    )
}

/// A random tiny instance made two-DNN: its DNN becomes `A`, a copy with
/// other FLOP, parameter and tensor sizes becomes `B` (same layer names
/// and groups, so quantizing a group acts on both), each task runs `A` or
/// `B` (with two tasks, one each), and its placement rule names `A`'s
/// atoms by their prefix.
fn two_dnn_instance(seed: u64) -> String {
    let text = tiny_instance(seed);
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x51d2);
    let start = text.find("dnn:\n").unwrap();
    let end = text.find("network:").unwrap();
    let body: Vec<&str> = text[start..end].lines().skip(1).collect();
    let (ff, fp, fb) = (
        r.gen_range(0.2..5.0f64),
        r.gen_range(0.2..5.0f64),
        r.gen_range(0.2..5.0f64),
    );
    let mut dnns = String::from("dnns:\n");
    for (name, scaled) in [("A", false), ("B", true)] {
        dnns.push_str(&format!("  - name: {name}\n"));
        for line in &body {
            let mut l = line.to_string();
            if scaled {
                l = scale_field(&l, "flops: ", ff);
                l = scale_field(&l, "param_bytes: ", fp);
                l = scale_field(&l, "out_bytes: ", fb);
            }
            dnns.push_str(&format!("  {l}\n"));
        }
    }
    let mut out = format!("{}{}{}", &text[..start], dnns, &text[end..]);
    let tasks = out.matches("\n  - name: t").count();
    let first_b = r.gen_bool(0.5);
    for t in 0..tasks {
        let on_b = if tasks == 1 {
            first_b
        } else {
            (t == 1) != first_b
        };
        let dnn = if on_b { "B" } else { "A" };
        out = out.replace(
            &format!("  - name: t{t}\n"),
            &format!("  - name: t{t}\n    dnn: {dnn}\n"),
        );
    }
    out.replace("atoms: \"a*\"", "atoms: \"A/a*\"")
}

fn check(seed: u64) -> Result<(), TestCaseError> {
    let text = two_dnn_instance(seed);
    let inst = load_str(&text, None)
        .map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}\n{text}")))?;
    prop_assert_eq!(inst.dnn.components.len(), 2);
    let reports =
        every_backend_matches_brute_force(&inst, seed, &text).map_err(TestCaseError::fail)?;
    for rep in reports {
        if let Some(plan) = &rep.plan {
            prop_assert!(keeps_to_own_dnn(&inst, plan), "seed {seed}: {}", rep.solver);
        }
    }
    Ok(())
}

/// No task of `plan` uses an atom of another DNN than its own.
fn keeps_to_own_dnn(inst: &Instance, plan: &edgesplit::Plan) -> bool {
    (0..inst.tasks.len())
        .all(|t| (0..inst.dnn.len()).all(|a| plan.placement[t][a].is_none() || inst.own_atom(t, a)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    /// 60 random tiny two-DNN instances, every backend.
    #[test]
    fn two_dnns_match_brute_force(seed in 0u64..1_000_000) {
        check(seed)?;
    }
}

/// The union is not two separate problems: on a good share of the random
/// instances with two tasks, the joint optimum is not what each DNN with
/// its task alone gives (the shared memory, capacity, energy, noise and
/// quantization choices bind: the joint instance is infeasible though
/// each part is feasible, or, with no time weight, so that the objective
/// adds up over tasks, it costs more than the parts together); and a good
/// share of the instances are infeasible, so both outcomes are compared
/// above.
#[test]
fn the_random_two_dnn_instances_couple_their_dnns() {
    let (mut two_tasks, mut coupled, mut infeasible) = (0, 0, 0);
    for seed in 0..120 {
        let inst = load_str(&two_dnn_instance(seed), None).unwrap();
        let joint = brute_force(&inst, None).map(|b| b.0);
        infeasible += usize::from(joint.is_none());
        if inst.tasks.len() < 2 {
            continue;
        }
        two_tasks += 1;
        let alone: Option<f64> = (0..2)
            .map(|t| {
                let mut one = inst.clone();
                one.tasks = vec![inst.tasks[t].clone()];
                // Rules of task t now bind task 0; the other's go.
                one.rules.retain(|r| r.tasks.contains(&t));
                one.rules.iter_mut().for_each(|r| r.tasks = vec![0]);
                brute_force(&one, None).map(|b| b.0)
            })
            .sum();
        let additive = inst.objective.weights.time == 0.0;
        coupled += usize::from(match (joint, alone) {
            (None, Some(_)) => true,
            (Some(x), Some(y)) => additive && x > y && !close(x, y),
            _ => false,
        });
    }
    assert!(two_tasks >= 40, "{two_tasks}");
    assert!(coupled >= 5, "only {coupled} of {two_tasks} couple");
    assert!(
        (20..100).contains(&infeasible),
        "{infeasible} of 120 infeasible"
    );
}

/// A plan that uses another DNN's atom is refused by the evaluator, and
/// the MILP with that plan fixed has no solution.
#[test]
fn a_task_cannot_use_another_dnns_atoms() {
    let inst = load_bundled();
    let rep = solve_instance(&inst, BackendKind::Highs, &SolveOptions::default());
    assert_eq!(rep.status, Status::Optimal, "{:?}", rep.message);
    let mut plan = rep.plan.clone().unwrap();
    assert!(evaluate(&inst, &plan, None).feasible());
    let cats = inst.task_by_name("cats").unwrap();
    let foreign = inst.dnn.atom_by_id("kws/head").unwrap();
    plan.placement[cats][foreign] = Some(0);
    let ev = evaluate(&inst, &plan, None);
    let msgs: Vec<&str> = ev.violations.iter().map(|v| v.message.as_str()).collect();
    assert!(
        msgs.contains(&"task cats: atoms of another DNN than its own 'tiny-cnn' used: kws/head"),
        "{msgs:?}"
    );
    assert!(fixed_plan_objective(&inst, &plan, None, BackendKind::Highs).is_none());
}

fn load_bundled() -> Instance {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("instances/multi-dnn.yaml");
    edgesplit::instance::load(&path).unwrap()
}

/// Every heuristic's plan on the bundled instance keeps each task on its
/// own DNN, and the feasible ones are no better than the MILP optimum.
#[test]
fn heuristics_keep_each_task_on_its_own_dnn() {
    use edgesplit::heuristic::{run, Method};
    let inst = load_bundled();
    let opt = solve_instance(&inst, BackendKind::Highs, &SolveOptions::default())
        .evaluated_objective
        .unwrap();
    for m in Method::ALL {
        let out = run(&inst, m, None);
        let Some(plan) = out.plan else { continue };
        assert!(keeps_to_own_dnn(&inst, &plan), "{m:?}");
        let ev = evaluate(&inst, &plan, None);
        if ev.feasible() {
            assert!(ev.objective.unwrap() >= opt * (1.0 - 1e-9), "{m:?}");
        }
    }
}

fn problems(text: &str) -> Vec<String> {
    match load_str(text, Some(Path::new("inst.yaml"))) {
        Ok(_) => Vec::new(),
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
    for w in want {
        assert!(
            problems.iter().any(|p| p.contains(w)),
            "no '{w}' in {problems:#?}"
        );
    }
}

const NET: &str = "network:\n  nodes: [{name: n, speed: 1e9, memory: 1e6}]\n";

fn dnn(name: Option<&str>) -> String {
    let name = name.map(|n| format!("name: {n}, ")).unwrap_or_default();
    format!("{{{name}input: {{name: in}}, layers: [{{name: l, flops: 1}}], output: {{name: out}}}}")
}

#[test]
fn bad_dnns_and_task_dnns_are_refused_with_their_field_paths() {
    let two = format!(
        "version: 1\ndnns:\n  - {}\n  - {}\n{NET}",
        dnn(Some("a")),
        dnn(Some("b"))
    );
    has(
        &problems(&format!("{two}tasks:\n  - {{name: t, rate: 1, source: n}}\n")),
        &["inst.yaml: tasks[0].dnn: missing: the instance has several DNNs: expected `dnn:` naming one of 'a', 'b'"],
    );
    has(
        &problems(&format!(
            "{two}tasks:\n  - {{name: t, dnn: c, rate: 1, source: n}}\n"
        )),
        &["inst.yaml: tasks[0].dnn: unknown DNN 'c': expected one of 'a', 'b'"],
    );
    has(
        &problems(&format!(
            "{two}tasks:\n  - {{name: t, dnn: b, rate: 1, source: n, relevance: {{b/l: 1}}}}\n"
        )),
        &["inst.yaml: tasks[0].relevance.b/l: unknown atom or layer 'b/l': expected an atom id or a layer name of the task's DNN 'b' (without the 'b/' prefix)"],
    );
    let tasks = "tasks:\n  - {name: t, dnn: a, rate: 1, source: n}\n";
    has(
        &problems(&format!(
            "version: 1\ndnns:\n  - {}\n  - {}\n{NET}{tasks}",
            dnn(Some("a")),
            dnn(None)
        )),
        &["inst.yaml: dnns[1].name: missing: with several DNNs (`dnns`) each needs a `name`"],
    );
    has(
        &problems(&format!(
            "version: 1\ndnns:\n  - {}\n  - {}\n{NET}{tasks}",
            dnn(Some("a")),
            dnn(Some("a"))
        )),
        &["inst.yaml: dnns[1].name: duplicate DNN name 'a' (also at inst.yaml dnns[0].name)"],
    );
    has(
        &problems(&format!(
            "version: 1\ndnns:\n  - {}\n  - {}\n{NET}{tasks}",
            dnn(Some("a")),
            dnn(Some("x/y"))
        )),
        &["inst.yaml: dnns[1].name: name 'x/y' contains '/'"],
    );
    has(
        &problems(&format!(
            "version: 1\ndnn: {}\ndnns:\n  - {}\n{NET}{tasks}",
            dnn(None),
            dnn(Some("a"))
        )),
        &["inst.yaml: dnns: both `dnn` and `dnns` are given"],
    );
    has(
        &problems(&format!("version: 1\ndnns: []\n{NET}{tasks}")),
        &["inst.yaml: dnns: empty list: expected at least one DNN"],
    );
    has(
        &problems(&format!("version: 1\n{NET}{tasks}")),
        &["inst.yaml: dnn: missing field `dnn`: expected `dnn` (one parent DNN) or `dnns` (a list of them)"],
    );
    // With one DNN, a task's `dnn` must name it.
    has(
        &problems(&format!(
            "version: 1\ndnn: {}\n{NET}{tasks}",
            dnn(Some("m"))
        )),
        &["inst.yaml: tasks[0].dnn: unknown DNN 'a': expected one of 'm'"],
    );
    // Problems inside the second DNN carry its path.
    let bad = "{name: b, input: {name: in}, layers: [{name: l, flops: -1}], output: {name: out}}";
    has(
        &problems(&format!(
            "version: 1\ndnns:\n  - {}\n  - {bad}\n{NET}{tasks}",
            dnn(Some("a"))
        )),
        &["inst.yaml: dnns[1].layers[0].flops: value -1 is not allowed"],
    );
}

#[test]
fn a_single_dnn_in_dnns_keeps_its_names_and_a_task_may_name_it() {
    let text = format!(
        "version: 1\ndnns:\n  - {}\n{NET}tasks:\n  - {{name: t, dnn: m, rate: 1, source: n, relevance: {{l: 1}}}}\n",
        dnn(Some("m"))
    );
    let inst = load_str(&text, None).unwrap();
    assert_eq!(inst.dnn.components.len(), 1);
    assert!(inst.dnn.atom_by_id("l").is_some());
    assert_eq!(
        inst.tasks[0].relevance[inst.dnn.atom_by_id("l").unwrap()],
        1.0
    );
}

/// The bundled instance: its tasks' relevance maps resolve in their own
/// DNN, a rule names atoms with the prefix, and the server validates it.
#[test]
fn the_bundled_example_loads_with_prefixed_names_and_passes_the_server() {
    let inst = load_bundled();
    let names: Vec<&str> = inst
        .dnn
        .components
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["tiny-cnn", "kws"]);
    let ww = inst.task_by_name("wake-word").unwrap();
    let conv0 = inst.dnn.atom_by_id("kws/conv.0").unwrap();
    assert_eq!(inst.tasks[ww].relevance[conv0], 0.9);
    assert_eq!(inst.rules[0].atoms.len(), 3);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("instances/multi-dnn.yaml");
    let files = edgesplit::server::referenced_files(&path).unwrap();
    assert!(files.contains_key("../models/tiny-cnn.yaml"), "{files:?}");
}

/// `import-profile` on a two-DNN instance writes prefixed profile rows
/// inline and rebases the `dnns` entry's file for the output's folder, so
/// the output loads elsewhere to the same DNNs with the profiled times.
#[test]
fn import_profile_rebases_a_dnns_file_entry() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("p.csv");
    std::fs::write(
        &csv,
        "layer,node,time_s\ntiny-cnn/fc,cloud,0.00002\nkws/head,edge,0.0001\n",
    )
    .unwrap();
    let out = dir.path().join("sub").join("md.yaml");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("instances/multi-dnn.yaml");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .arg("import-profile")
        .arg(&csv)
        .arg("--instance")
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("file: ../models/tiny-cnn.yaml"), "{text}");
    let inst = edgesplit::instance::load(&out).unwrap();
    let plain = load_bundled();
    assert_eq!(inst.dnn.len(), plain.dnn.len());
    let fc = inst.dnn.atom_by_id("tiny-cnn/fc").unwrap();
    let cloud = inst.network.node_by_name("cloud").unwrap();
    assert_eq!(inst.compute_s(fc, cloud, false), 0.00002);
    assert_ne!(plain.compute_s(fc, cloud, false), 0.00002);
}
