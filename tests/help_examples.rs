//! Every example at the end of a command's `--help` runs and succeeds
//! (or, for `diagnose` on an infeasible instance, ends with its
//! documented exit code), from a folder that sees the repository's
//! `instances/` and `models/`. `serve` and `bench solve` run for long and
//! are only checked to parse.

use std::path::Path;
use std::process::Command;

const COMMANDS: [&str; 22] = [
    "validate",
    "evaluate",
    "plan",
    "generate",
    "solve",
    "serve",
    "diagnose",
    "sweep",
    "pareto",
    "fit-noise",
    "sample-noise",
    "export",
    "solvers",
    "sweep-q",
    "bench",
    "info",
    "draw",
    "heuristic",
    "compare",
    "import-onnx",
    "import-profile",
    "scenario",
];

fn examples(command: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args([command, "--help"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{command} --help");
    let help = String::from_utf8(out.stdout).unwrap();
    let tail = help
        .split("Examples:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("`{command} --help` ends without examples:\n{help}"));
    let lines: Vec<String> = tail
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| l.starts_with("edgesplit "))
        .map(str::to_string)
        .collect();
    assert!(!lines.is_empty(), "{command}: no example lines");
    lines
}

#[test]
fn every_commands_help_ends_with_examples_that_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for d in ["instances", "models"] {
        std::os::unix::fs::symlink(root.join(d), dir.path().join(d)).unwrap();
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_edgesplit")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for command in COMMANDS {
        for line in examples(command) {
            assert!(
                line.split_whitespace().nth(1) == Some(command)
                    || (command == "evaluate" || command == "fit-noise" || command == "draw")
                    || line.contains(&format!("| edgesplit {command} ")),
                "`{command} --help` shows an example of another command: {line}"
            );
            let long =
                line.starts_with("edgesplit serve") || line.starts_with("edgesplit bench solve");
            let script = if long {
                // Parsing only: the same flags with --help.
                format!("{line} --help > /dev/null")
            } else {
                line.clone()
            };
            let out = Command::new("bash")
                .args(["-c", &format!("set -o pipefail; {script}")])
                .current_dir(dir.path())
                .env("PATH", &path)
                .output()
                .unwrap();
            // An infeasible instance's diagnosis exits 1 by design.
            let ok = matches!(
                (command, out.status.code()),
                ("diagnose", Some(0 | 1)) | (_, Some(0))
            );
            assert!(
                ok,
                "`{line}` failed ({:?}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 30, "{ran} examples");
}
