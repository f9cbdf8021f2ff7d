//! User constraints (`custom_constraints:`): the MILP optimum with them
//! equals brute-force enumeration judged by the evaluator on random tiny
//! instances, on every backend; bad entries are refused with field paths;
//! evaluate, export and diagnose name them.

mod common;

use common::{every_backend_matches_brute_force, tiny_instance};
use edgesplit::instance::load_str;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write;

/// Random custom constraints over the names of `text`'s instance.
fn with_custom(text: &str, seed: u64) -> String {
    let inst = load_str(text, None).unwrap();
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let compute: Vec<&edgesplit::dnn::Atom> =
        inst.dnn.atoms[1..inst.dnn.len() - 1].iter().collect();
    let nodes: Vec<&str> = inst.network.nodes.iter().map(|n| n.name.as_str()).collect();
    let groups = &inst.quantization.groups;
    let mut s = String::from(text);
    s.push_str("custom_constraints:\n");
    for i in 0..r.gen_range(1..=3) {
        let for_each = ["", "task", "node", "[task, node]"][r.gen_range(0..4)];
        let _ = writeln!(s, "  - name: c{i}");
        if !for_each.is_empty() {
            let _ = writeln!(s, "    for_each: {for_each}");
        }
        s.push_str("    terms:\n");
        for _ in 0..r.gen_range(1..=2) {
            let vars: &[&str] = if groups.is_empty() {
                &["y", "z", "u"]
            } else {
                &["y", "z", "u", "q"]
            };
            let var = vars[r.gen_range(0..vars.len())];
            let coef = [1.0, -1.0, 2.0][r.gen_range(0..3)];
            if var == "q" {
                let g = &groups[r.gen_range(0..groups.len())];
                let _ = writeln!(s, "      - {{var: q, groups: {g}, coef: {coef}}}");
                continue;
            }
            let a = compute[r.gen_range(0..compute.len())];
            // One atom, or its whole layer.
            let sel = if r.gen_bool(0.5) { &a.id } else { &a.layer };
            let _ = write!(s, "      - {{var: {var}, atoms: \"{sel}\", coef: {coef}");
            let node_free = !for_each.contains("node");
            if var != "y" && node_free && r.gen_bool(0.7) {
                let _ = write!(s, ", nodes: [{}]", nodes[r.gen_range(0..nodes.len())]);
            }
            s.push_str("}\n");
        }
        let sense = ["<=", ">=", "=="][r.gen_range(0..3)];
        let _ = writeln!(s, "    sense: \"{sense}\"\n    rhs: {}", r.gen_range(0..=2));
    }
    s
}

fn check(seed: u64) -> Result<(), TestCaseError> {
    let text = with_custom(&tiny_instance(seed), seed);
    let inst = load_str(&text, None)
        .map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}\n{text}")))?;
    prop_assert!(!inst.custom.is_empty());
    every_backend_matches_brute_force(&inst, seed, &text).map_err(TestCaseError::fail)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    /// 60 random tiny instances with 1–3 random custom constraints over
    /// y, z, u and q (all senses, for_each task/node), every backend.
    #[test]
    fn custom_constraints_match_brute_force(seed in 0u64..1_000_000) {
        check(seed)?;
    }
}

fn default_with(custom: &str) -> String {
    std::fs::read_to_string("instances/default.yaml")
        .unwrap()
        .replace("../models/", "models/")
        + custom
}

fn problems(text: &str) -> String {
    match load_str(text, Some(std::path::Path::new("x.yaml"))) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_custom_constraints_are_refused_with_field_paths() {
    let cases = [
        ("[{name: a, terms: [{var: w, atoms: conv1}], sense: '<=', rhs: 1}]", "custom_constraints[0].terms[0].var"),
        ("[{name: a, terms: [{var: z, atoms: conv1, nodes: [moon]}], sense: '<=', rhs: 1}]", "custom_constraints[0].terms[0].nodes[0]"),
        ("[{name: a, for_each: task, terms: [{var: y, atoms: conv1, tasks: [cats]}], sense: '<=', rhs: 1}]", "custom_constraints[0].terms[0].tasks"),
        ("[{name: a, terms: [], sense: '<=', rhs: 1}]", "custom_constraints[0].terms"),
        ("[{name: a, terms: [{var: y, atoms: conv1}], sense: '<', rhs: 1}]", "custom_constraints[0].sense"),
        ("[{name: a, terms: [{var: y, atoms: conv1}], sense: '<=', rhs: 1}, {name: a, terms: [{var: y, atoms: fc}], sense: '<=', rhs: 1}]", "custom_constraints[1].name"),
        ("[{name: 'a b', terms: [{var: y, atoms: conv1}], sense: '<=', rhs: 1}]", "custom_constraints[0].name"),
        ("[{name: a, terms: [{var: q, atoms: conv1}], sense: '<=', rhs: 1}]", "custom_constraints[0].terms[0].var"),
        ("[{name: a, terms: [{var: q, groups: nope}], sense: '<=', rhs: 1}]", "custom_constraints[0].terms[0].groups"),
        ("[{name: a, terms: [{var: u, atoms: conv1, tasks: [cats]}], sense: '<=', rhs: 1}]", "custom_constraints[0].terms[0].tasks"),
        ("[{name: a, terms: [{var: y, atoms: nothing*}], sense: '<=', rhs: 1}]", "custom_constraints[0].terms[0]"),
        ("[{name: a, terms: [{var: y, atoms: conv1, coef: .inf}], sense: '<=', rhs: 1}]", "custom_constraints[0].terms[0].coef"),
        ("[{name: a, for_each: [task, task], terms: [{var: y, atoms: conv1}], sense: '<=', rhs: 1}]", "custom_constraints[0].for_each"),
    ];
    for (yaml, field) in cases {
        let msg = problems(&default_with(&format!("custom_constraints: {yaml}\n")));
        assert!(msg.contains(&format!("{field}:")), "{field} not in: {msg}");
    }
}

#[test]
fn evaluate_export_and_diagnose_name_the_custom_rows() {
    let dir = tempfile::tempdir().unwrap();
    let inst_path = dir.path().join("inst.yaml");
    // conv1 may not run on the cloud for any task, and at least one fc
    // must run on the device: with the cloud-only plan both break.
    let text = std::fs::read_to_string("instances/default.yaml")
        .unwrap()
        .replace("../models/", &format!("{}/models/", env!("CARGO_MANIFEST_DIR")))
        + "custom_constraints:\n  - {name: no_conv1_in_cloud, for_each: task, terms: [{var: z, atoms: conv1, nodes: [cloud]}], sense: '==', rhs: 0}\n";
    std::fs::write(&inst_path, &text).unwrap();
    let bin = env!("CARGO_BIN_EXE_edgesplit");
    let run = |args: &[&str]| std::process::Command::new(bin).args(args).output().unwrap();
    let inst = inst_path.to_str().unwrap();
    let plan = dir.path().join("central.yaml");
    assert!(run(&[
        "plan",
        inst,
        "--method",
        "centralized",
        "-o",
        plan.to_str().unwrap()
    ])
    .status
    .success());
    let ev = run(&["evaluate", inst, plan.to_str().unwrap()]);
    assert_eq!(ev.status.code(), Some(1));
    let out = String::from_utf8_lossy(&ev.stdout);
    assert!(
        out.contains("custom constraint no_conv1_in_cloud[task=cats]"),
        "{out}"
    );
    // The optimum keeps every conv1 filter off the cloud.
    let solved = dir.path().join("opt.yaml");
    let s = run(&["solve", inst, "-o", solved.to_str().unwrap()]);
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    assert!(run(&["evaluate", inst, solved.to_str().unwrap()])
        .status
        .success());
    let lp = dir.path().join("m.lp");
    assert!(run(&["export", inst, "-o", lp.to_str().unwrap()])
        .status
        .success());
    let lp = std::fs::read_to_string(lp).unwrap();
    assert!(
        lp.contains("custom(no_conv1_in_cloud"),
        "row names in the export"
    );
    // An impossible custom row: diagnose names the custom family.
    let bad =
        text + "  - {name: impossible, terms: [{var: y, atoms: conv1}], sense: '>=', rhs: 99}\n";
    std::fs::write(&inst_path, bad).unwrap();
    let d = run(&["diagnose", inst]);
    let out = String::from_utf8_lossy(&d.stdout);
    assert!(out.contains("custom"), "{out}");
}
