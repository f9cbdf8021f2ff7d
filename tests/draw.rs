//! `edgesplit draw`: the SVG is well-formed, shows every node, aggregates
//! the layers of the TIDE instance, and `--diff` marks what differs and
//! nothing when the plans are equal.

use std::path::Path;
use std::process::Command;

fn edgesplit(args: &[&str], dir: &Path) -> std::process::Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args(args)
        .current_dir(root)
        .env("TMPDIR", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "edgesplit {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every element is closed in order and the document is one `<svg>`.
fn assert_well_formed(svg: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    let mut roots = 0;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("an unclosed tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        assert!(!tag.contains('<'), "a '<' inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(open, name.trim(), "</{name}> closes <{open}>");
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap().to_string();
            if stack.is_empty() {
                roots += 1;
                assert_eq!(name, "svg");
            }
            stack.push(name);
        }
        // Text between tags must not hold a raw '&' that is no entity.
        let text = &rest[..rest.find('<').unwrap_or(rest.len())];
        for (j, _) in text.match_indices('&') {
            let t = &text[j..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;"]
                    .iter()
                    .any(|e| t.starts_with(e)),
                "a raw '&' in text: {text}"
            );
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert_eq!(roots, 1);
}

fn draw(args: &[&str], dir: &Path, name: &str) -> String {
    let out = dir.join(name);
    let out_s = out.to_str().unwrap();
    let mut a = vec!["draw"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", out_s]);
    edgesplit(&a, dir);
    let svg = std::fs::read_to_string(&out).unwrap();
    assert_well_formed(&svg);
    svg
}

#[test]
fn plan_picture_shows_every_node_task_and_transfer() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("c.yaml");
    edgesplit(
        &[
            "plan",
            "instances/default.yaml",
            "--method",
            "centralized",
            "-o",
            plan.to_str().unwrap(),
        ],
        dir.path(),
    );
    let svg = draw(
        &["instances/default.yaml", plan.to_str().unwrap()],
        dir.path(),
        "c.svg",
    );
    for node in ["device", "edge", "cloud"] {
        assert!(
            svg.contains(&format!(r#"data-node="{node}""#)),
            "node {node}"
        );
    }
    for task in ["cats", "dogs", "birds"] {
        assert!(
            svg.contains(&format!(r#"data-task="{task}""#)),
            "task {task}"
        );
    }
    // Centralized: the input goes from the device to the cloud.
    assert!(svg.contains(r#"class="transfer""#));
    assert!(svg.contains("feasible"));
    // A small model is drawn atom by atom.
    assert!(svg.contains(">conv1.0<"));
}

#[test]
fn tide_picture_aggregates_layers_per_node() {
    let dir = tempfile::tempdir().unwrap();
    let svg = draw(
        &[
            "instances/tide/tide-q050.yaml",
            "docs/examples/tide/plan-tide-q050.yaml",
        ],
        dir.path(),
        "tide.svg",
    );
    let aggregated = svg
        .match_indices(">conv3: ")
        .filter(|(i, _)| svg[i + 8..].split(' ').nth(1) == Some("on"))
        .count();
    assert!(
        aggregated >= 10,
        "{aggregated} aggregated conv3 cells on a node"
    );
    assert!(svg.contains("unused<"));
    for node in ["device", "edge1", "edge2", "cloud"] {
        assert!(
            svg.contains(&format!(r#"data-node="{node}""#)),
            "node {node}"
        );
    }
    // Not one cell per filter: far fewer cells than 453 atoms × 10 tasks.
    let cells = svg.matches(r#"<g class="cell"#).count();
    assert!(cells < 300, "{cells} cells");
}

#[test]
fn diff_marks_differences_and_nothing_when_equal() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
    edgesplit(
        &[
            "plan",
            "instances/default.yaml",
            "--method",
            "centralized",
            "-o",
            a.to_str().unwrap(),
        ],
        dir.path(),
    );
    edgesplit(
        &[
            "plan",
            "instances/default.yaml",
            "--method",
            "all-on-source",
            "-o",
            b.to_str().unwrap(),
        ],
        dir.path(),
    );
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let same = draw(
        &["instances/default.yaml", a, "--diff", a],
        dir.path(),
        "same.svg",
    );
    assert!(same.contains("the plans are equal"));
    assert!(!same.contains("cell diff"));
    let differ = draw(
        &["instances/default.yaml", a, "--diff", b],
        dir.path(),
        "diff.svg",
    );
    assert!(differ.contains("cell diff"));
    assert!(differ.contains("atom placement(s) differ"));
    assert!(differ.contains("cloud → device"));

    let tide = draw(
        &[
            "instances/tide/tide-q050.yaml",
            "docs/examples/tide/plan-tide-q050.yaml",
            "--diff",
            "docs/examples/tide/plan-milp-q050.yaml",
        ],
        dir.path(),
        "tide-diff.svg",
    );
    assert!(tide.contains("cell diff"));
}

#[test]
fn only_svg_is_written() {
    let out = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args(["draw", "instances/default.yaml", "x.yaml", "-o", "plan.png"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only SVG"));
}

fn instance_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            instance_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            let text = std::fs::read_to_string(&p).unwrap();
            let joint = text.lines().any(|l| l.starts_with("version:"))
                && !text.lines().any(|l| l.trim() == "kind: pipeline");
            if joint {
                out.push(p);
            }
        }
    }
}

/// Every bundled joint instance, with the plan of every heuristic and
/// reference method (where it finds one) and, on the small ones, the
/// MILP's: a well-formed picture that names every node and every task.
#[test]
fn every_bundled_instance_draws_with_every_method() {
    use edgesplit::heuristic::Method;
    use edgesplit::reference::{reference_plan, ReferenceMethod};
    use edgesplit::solve::{solve_instance, BackendKind, SolveOptions};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    instance_files(&root.join("instances"), &mut files);
    files.sort();
    assert!(files.len() >= 20, "{} instances", files.len());
    let mut pictures = 0;
    for f in &files {
        let inst = edgesplit::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let mut plans = Vec::new();
        for m in Method::ALL {
            if let Some(p) = edgesplit::heuristic::run(&inst, m, None).plan {
                plans.push((m.name().to_string(), p));
            }
        }
        for m in [ReferenceMethod::Centralized, ReferenceMethod::AllOnSource] {
            plans.push((m.name().to_string(), reference_plan(&inst, m)));
        }
        if inst.dnn.len() <= 60 {
            let opts = SolveOptions {
                time_limit: Some(5.0),
                ..SolveOptions::default()
            };
            if let Some(p) = solve_instance(&inst, BackendKind::Highs, &opts).plan {
                plans.push(("milp:highs".to_string(), p));
            }
        }
        for (method, plan) in &plans {
            let svg = edgesplit::draw::plan_svg(&inst, plan, method);
            assert_well_formed(&svg);
            for name in inst.network.nodes.iter().map(|n| &n.name) {
                assert!(
                    svg.contains(&format!(">{name}")),
                    "{} with {method}: node {name} not drawn",
                    f.display()
                );
            }
            for t in &inst.tasks {
                assert!(
                    svg.contains(&t.name),
                    "{} with {method}: task {} not drawn",
                    f.display(),
                    t.name
                );
            }
            pictures += 1;
        }
    }
    println!("{pictures} pictures of {} instances", files.len());
}
