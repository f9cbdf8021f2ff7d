//! The worked example of docs/extending.md, the `atom_limits` family ("at
//! most k of a task's atoms on a node"): the MILP optimum with it equals
//! brute-force enumeration judged by the evaluator on random tiny
//! instances, on every backend; bad entries are refused with field paths;
//! its rows, violations, switch and diagnosis carry its name; and the
//! whole family is one file of src/ plus one line of the registry.

mod common;

use common::{brute_force, close, every_backend_matches_brute_force, tiny_instance};
use edgesplit::eval::evaluate;
use edgesplit::instance::load_str;
use edgesplit::milp::{build, families, ObjectiveSpec};
use edgesplit::solve::{solve_instance, BackendKind, SolveOptions, Status};
use edgesplit::Plan;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// `text` with 1–2 random atom limits over the names of its instance.
fn with_limits(text: &str, seed: u64) -> String {
    let inst = load_str(text, None).unwrap();
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0xa70);
    let nodes: Vec<&str> = inst.network.nodes.iter().map(|n| n.name.as_str()).collect();
    let tasks: Vec<&str> = inst.tasks.iter().map(|t| t.name.as_str()).collect();
    let layers: Vec<&str> = inst.dnn.atoms[1..inst.dnn.len() - 1]
        .iter()
        .map(|a| a.layer.as_str())
        .collect();
    let mut s = String::from(text);
    s.push_str("atom_limits:\n");
    for i in 0..r.gen_range(1..=2) {
        let _ = writeln!(s, "  - name: l{i}\n    k: {}", r.gen_range(0..=2));
        if r.gen_bool(0.5) {
            let _ = writeln!(s, "    tasks: [{}]", tasks[r.gen_range(0..tasks.len())]);
        }
        if r.gen_bool(0.6) {
            let _ = writeln!(s, "    nodes: [{}]", nodes[r.gen_range(0..nodes.len())]);
        }
        if r.gen_bool(0.5) {
            let _ = writeln!(s, "    atoms: \"{}\"", layers[r.gen_range(0..layers.len())]);
        }
    }
    s
}

fn check(seed: u64) -> Result<(), TestCaseError> {
    let text = with_limits(&tiny_instance(seed), seed);
    let inst = load_str(&text, None)
        .map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}\n{text}")))?;
    every_backend_matches_brute_force(&inst, seed, &text).map_err(TestCaseError::fail)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    /// 60 random tiny instances with 1–2 random atom limits (k 0–2, some
    /// tasks, nodes or layers only), every backend.
    #[test]
    fn atom_limits_match_brute_force(seed in 0u64..1_000_000) {
        check(seed)?;
    }
}

/// The random limits bind: on a good share of the random instances the
/// brute-force optimum with them differs from the one without (otherwise
/// the test above would prove nothing about the rows).
#[test]
fn the_random_limits_bind() {
    let mut changed = 0;
    for seed in 0..40 {
        let plain = tiny_instance(seed);
        let with = load_str(&with_limits(&plain, seed), None).unwrap();
        let plain = load_str(&plain, None).unwrap();
        let a = brute_force(&plain, None).map(|b| b.0);
        let b = brute_force(&with, None).map(|b| b.0);
        let same = match (a, b) {
            (Some(x), Some(y)) => close(x, y),
            (x, y) => x.is_none() && y.is_none(),
        };
        changed += usize::from(!same);
    }
    assert!(changed >= 5, "only {changed} of 40 instances changed");
}

/// The bundled default instance (cats and dogs on device, edge, cloud)
/// with `extra` appended.
fn default_with(extra: &str) -> String {
    std::fs::read_to_string("instances/default.yaml")
        .unwrap()
        .replace("../models/", "models/")
        + extra
}

/// [`default_with`], its `constraints:` switches extended by `switches`.
fn default_switched(switches: &str, extra: &str) -> String {
    let on = "constraints: {capacity: true, energy: true";
    let text = default_with(extra);
    assert!(text.contains(on));
    text.replace(on, &format!("{on}, {switches}"))
}

fn problems(text: &str) -> String {
    match load_str(text, Some(Path::new("x.yaml"))) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_atom_limits_are_refused_with_field_paths() {
    let cases = [
        (
            "[{name: a, k: 1, tasks: [cows]}]",
            "atom_limits[0].tasks[0]",
        ),
        (
            "[{name: a, k: 1, nodes: [moon]}]",
            "atom_limits[0].nodes[0]",
        ),
        ("[{name: a, k: 1, atoms: 'nothing*'}]", "atom_limits[0]"),
        ("[{name: 'a b', k: 1}]", "atom_limits[0].name"),
        ("[{name: a, k: 1}, {name: a, k: 2}]", "atom_limits[1].name"),
        ("[{name: a, k: -1}]", "atom_limits[0].k"),
        ("[{name: a}]", "atom_limits[0]"),
        ("[{name: a, k: 1, node: [edge]}]", "atom_limits[0].node"),
        ("{name: a, k: 1}", "atom_limits"),
    ];
    for (yaml, field) in cases {
        let msg = problems(&default_with(&format!("atom_limits: {yaml}\n")));
        assert!(msg.contains(&format!("{field}:")), "{field} not in: {msg}");
    }
    // A misspelt switch names the known ones.
    let msg = problems(&default_switched("atom_limit: false", ""));
    assert!(msg.contains("constraints.atom_limit:"), "{msg}");
    assert!(
        msg.contains("`atom_limits`") && msg.contains("`custom`"),
        "{msg}"
    );
    // A misspelt section is still an unknown field.
    let msg = problems(&default_with("atom_limit: []\n"));
    assert!(msg.contains("unknown field `atom_limit`"), "{msg}");
}

/// Every atom of every task on the cloud, except input and output.
fn cloud_plan(inst: &edgesplit::instance::Instance) -> Plan {
    let cloud = inst.network.node_by_name("cloud").unwrap();
    let placement = inst
        .tasks
        .iter()
        .map(|t| {
            (0..inst.dnn.len())
                .map(|a| {
                    Some(if a == inst.dnn.input_of(0) {
                        t.source
                    } else if a == inst.dnn.output_of(0) {
                        t.sink
                    } else {
                        cloud
                    })
                })
                .collect()
        })
        .collect();
    Plan {
        placement,
        quantized: vec![false; inst.group_count()],
    }
}

#[test]
fn rows_violations_switch_and_diagnosis_carry_the_name() {
    let limit = "atom_limits:\n  - {name: spread, k: 3, tasks: [cats], nodes: [cloud]}\n";
    let inst = load_str(&default_with(limit), None).unwrap();
    let cats = &inst.tasks[inst.task_by_name("cats").unwrap()];
    let atoms = inst.dnn.len() - 2;
    assert!(atoms > 3);

    // The evaluator: the plan with every compute atom on the cloud has
    // `atoms` of cats's atoms there.
    let ev = evaluate(&inst, &cloud_plan(&inst), None);
    let tagged: Vec<&str> = ev
        .violations
        .iter()
        .filter(|v| v.family == "atom_limits")
        .map(|v| v.message.as_str())
        .collect();
    assert_eq!(
        tagged,
        [format!(
            "task {}: {atoms} atoms of atom limit 'spread' on cloud > k 3",
            cats.name
        )]
    );

    // The MILP: one row, named after the family, counted in its rows.
    let built = build(&inst, ObjectiveSpec::Instance, None);
    assert!(built.family_rows.contains(&("atom_limits", 1)));
    let rows: Vec<&str> = built
        .model
        .rows
        .iter()
        .map(|r| r.name.as_str())
        .filter(|n| n.starts_with("atom_limits"))
        .collect();
    assert_eq!(rows, ["atom_limits(spread,cloud,cats)"]);

    // The optimum keeps at most 3 of cats's atoms on the cloud.
    let rep = solve_instance(&inst, BackendKind::Highs, &SolveOptions::default());
    assert_eq!(rep.status, Status::Optimal, "{:?}", rep.message);
    let plan = rep.plan.expect("a plan");
    let cloud = inst.network.node_by_name("cloud").unwrap();
    let t = inst.task_by_name("cats").unwrap();
    assert!(
        plan.placement[t]
            .iter()
            .filter(|&&n| n == Some(cloud))
            .count()
            <= 3
    );
    assert!(evaluate(&inst, &plan, None).feasible());

    // Switched off: no rows and no violations.
    let off = load_str(&default_switched("atom_limits: false", limit), None).unwrap();
    assert!(!off.families.on("atom_limits"));
    let built = build(&off, ObjectiveSpec::Instance, None);
    assert!(!built.family_rows.iter().any(|(f, _)| *f == "atom_limits"));
    let ev = evaluate(&off, &cloud_plan(&off), None);
    assert!(!ev.violations.iter().any(|v| v.family == "atom_limits"));

    // An impossible limit (the input atom sits on the source): the
    // diagnosis names the family as the one whose removal restores
    // feasibility.
    let none = "atom_limits:\n  - {name: none, k: 0, nodes: [device]}\n";
    let inst = load_str(&default_with(none), None).unwrap();
    let d =
        edgesplit::solve::diagnose::diagnose(&inst, BackendKind::Highs, &SolveOptions::default());
    assert_eq!(d.status, Status::Infeasible);
    let off = d.families_off.iter().find(|(f, _)| f == "atom_limits");
    assert!(
        matches!(off, Some((_, Status::Optimal))),
        "{:?}",
        d.families_off
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The claim of docs/extending.md, checked on the source: outside its own
/// file, the family appears in src/ on exactly one line, its entry in
/// the registry (which declares its module too); and the registry holds it.
#[test]
fn the_family_is_one_file_and_one_registry_line() {
    let own = Path::new("src/milp/families/atom_limits.rs");
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut elsewhere = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let mentions = text.lines().enumerate().filter(|(_, l)| {
            let l = l.to_lowercase().replace('_', "");
            l.contains("atomlimit")
        });
        if f.as_path() != own {
            elsewhere.extend(mentions.map(|(i, l)| format!("{}:{}: {l}", f.display(), i + 1)));
        }
    }
    assert_eq!(elsewhere.len(), 1, "{elsewhere:#?}");
    assert!(
        elsewhere[0].starts_with("src/milp/families/mod.rs:")
            && elsewhere[0].ends_with("mod atom_limits::AtomLimits,"),
        "{elsewhere:?}"
    );
    let own_text = std::fs::read_to_string(own).unwrap();
    assert!(own_text.contains("const NAME: &str = \"atom_limits\";"));
    let fam = families::by_name("atom_limits").expect("registered");
    assert_eq!(fam.section(), Some("atom_limits"));
    assert!(fam.switchable());
}
