//! What the command line prints for people and for scripts: `info` as
//! tables and as JSON, no Rust debug forms, warnings for flags a backend
//! does not use.

use std::process::Command;

fn edgesplit(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn info_prints_tables_for_people_and_json_for_scripts() {
    let o = edgesplit(&["info", "instances/default.yaml"]);
    assert!(o.status.success());
    let text = stdout(&o);
    // No Rust debug structures.
    for debug in ["Families {", "Sequential", "Some(", "None"] {
        assert!(!text.contains(debug), "{debug} in:\n{text}");
    }
    assert!(text.contains("sequential delay model"), "{text}");
    assert!(
        text.contains("families on: atom_limits, capacity, custom, cut_sets,"),
        "{text}"
    );
    // One header and one row per task, node and ordered pair of nodes.
    let header = |h: &str| text.lines().position(|l| l.starts_with(h)).unwrap();
    let t = header("task ");
    assert!(
        text.lines().nth(t + 1).unwrap().starts_with("cats "),
        "{text}"
    );
    assert!(
        text.lines().nth(t + 3).unwrap().starts_with("birds "),
        "{text}"
    );
    let l = header("link ");
    let links: Vec<&str> = text.lines().skip(l + 1).collect();
    assert_eq!(links.len(), 6, "{text}");
    assert!(
        links[1].contains("device->edge, edge->cloud"),
        "{}",
        links[1]
    );

    let o = edgesplit(&["info", "instances/default.yaml", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["dnn"]["atoms"], 11);
    assert_eq!(v["tasks"].as_array().unwrap().len(), 3);
    assert_eq!(v["tasks"][2]["sink"], "edge");
    assert_eq!(v["links"].as_array().unwrap().len(), 6);
    assert_eq!(v["families"]["flow"], true);
    assert_eq!(v["delay_model"], "sequential");
    assert_eq!(v["objective"]["normalization"], "none");
}

#[test]
fn a_flag_the_backend_does_not_use_is_warned_about() {
    let o = edgesplit(&[
        "solve",
        "instances/default.yaml",
        "--solver",
        "scip",
        "--threads",
        "4",
        "--json",
    ]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: --threads: scip solves on one thread; the flag is ignored"),
        "{err}"
    );
    // The warning is on stderr: stdout stays JSON.
    let _: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // A backend that uses the flag: no warning.
    let o = edgesplit(&[
        "solve",
        "instances/default.yaml",
        "--threads",
        "2",
        "--json",
    ]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("warning"));
}
