//! `-` as a file argument: standard input, read once, wherever a command
//! reads a file (instances, plans, ONNX models), also when `solve` hands
//! the instance to its worker process.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The default instance with its DNN path relative to the crate root
/// (where the tests run): a relative path in standard input is relative
/// to the working directory.
fn default_instance() -> Vec<u8> {
    std::fs::read_to_string("instances/default.yaml")
        .unwrap()
        .replace("../models/", "models/")
        .into_bytes()
}

#[test]
fn validate_and_solve_read_an_instance_from_standard_input() {
    let v = run(&["validate", "-"], &default_instance());
    assert!(v.status.success(), "{}{}", text(&v.stdout), text(&v.stderr));
    assert!(
        text(&v.stdout).contains("-: ok (11 atoms"),
        "{}",
        text(&v.stdout)
    );
    // With a time limit `solve` runs the backend in a worker process: the
    // instance goes down the worker's standard input.
    let from_stdin = run(
        &["solve", "-", "--time-limit", "60", "--json"],
        &default_instance(),
    );
    assert!(from_stdin.status.success(), "{}", text(&from_stdin.stderr));
    let a: serde_json::Value = serde_json::from_slice(&from_stdin.stdout).unwrap();
    let from_file = run(
        &[
            "solve",
            "instances/default.yaml",
            "--time-limit",
            "60",
            "--json",
        ],
        b"",
    );
    let b: serde_json::Value = serde_json::from_slice(&from_file.stdout).unwrap();
    assert_eq!(a["status"], "optimal", "{a}");
    let (oa, ob) = (
        a["evaluated_objective"].as_f64().unwrap(),
        b["evaluated_objective"].as_f64().unwrap(),
    );
    assert!((oa - ob).abs() <= 1e-9 * ob.abs(), "{oa} vs {ob}");
}

#[test]
fn a_relative_reference_in_standard_input_is_resolved_from_the_working_directory() {
    // As written in instances/default.yaml, `../models/` is relative to
    // instances/, not to the crate root where this runs.
    let raw = std::fs::read("instances/default.yaml").unwrap();
    let v = run(&["validate", "-"], &raw);
    assert_eq!(v.status.code(), Some(1));
    let out = text(&v.stdout);
    assert!(out.contains("-: dnn.file"), "{out}");
    assert!(out.contains("relative to the working directory"), "{out}");
}

#[test]
fn evaluate_reads_the_plan_from_standard_input_and_refuses_two_dashes() {
    let plan = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args(["plan", "instances/default.yaml", "--method", "centralized"])
        .output()
        .unwrap();
    assert!(plan.status.success());
    let e = run(
        &["evaluate", "instances/default.yaml", "-", "--json"],
        &plan.stdout,
    );
    assert!(e.status.success(), "{}", text(&e.stderr));
    let v: serde_json::Value = serde_json::from_slice(&e.stdout).unwrap();
    assert_eq!(v["violations"], serde_json::json!([]), "{v}");
    assert!(v["objective"].as_f64().unwrap() > 0.0, "{v}");
    let two = run(&["evaluate", "-", "-"], &plan.stdout);
    assert_eq!(two.status.code(), Some(2));
    assert!(
        text(&two.stderr).contains("given 2 times"),
        "{}",
        text(&two.stderr)
    );
}

#[test]
fn empty_and_binary_standard_input_are_named() {
    let empty = run(&["validate", "-"], b"");
    assert_eq!(empty.status.code(), Some(1));
    assert!(
        text(&empty.stdout).contains("-: the file is empty"),
        "{}",
        text(&empty.stdout)
    );
    let binary = run(&["validate", "-"], &[0xff, 0xfe, 0x00, 0x01]);
    assert_eq!(binary.status.code(), Some(1));
    assert!(
        text(&binary.stdout).contains("not UTF-8"),
        "{}",
        text(&binary.stdout)
    );
}

#[test]
fn import_onnx_reads_the_model_from_standard_input() {
    let bytes = std::fs::read("models/onnx/light_squeezenet.onnx").unwrap();
    let piped = run(&["import-onnx", "-", "--name", "squeezenet"], &bytes);
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    let from_file = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args([
            "import-onnx",
            "models/onnx/light_squeezenet.onnx",
            "--name",
            "squeezenet",
        ])
        .output()
        .unwrap();
    assert!(from_file.status.success());
    // The same graph; only the command recorded in the header names the
    // file differently.
    let body = |o: &[u8]| {
        text(o)
            .lines()
            .filter(|l| !l.starts_with("description:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&piped.stdout), body(&from_file.stdout));
    let garbage = run(&["import-onnx", "-"], b"not a model");
    assert!(!garbage.status.success());
    assert!(
        text(&garbage.stderr).starts_with("error: "),
        "{}",
        text(&garbage.stderr)
    );
}
