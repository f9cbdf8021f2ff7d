//! The bundled data: every model in `models/` and every instance in
//! `instances/` loads, and every file that a README says a command made is
//! made again, byte for byte, by that command.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_edgesplit")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

/// A file is an instance when it has a top-level `version:` key, a DNN
/// file when it has top-level `layers:`; anything else (plans) is skipped.
fn kind(text: &str) -> Option<&'static str> {
    if text.lines().any(|l| l.starts_with("version:")) {
        Some("instance")
    } else if text.lines().any(|l| l.starts_with("layers:")) {
        Some("dnn")
    } else {
        None
    }
}

#[test]
fn every_bundled_instance_and_model_loads() {
    let mut files = Vec::new();
    yaml_files(&repo().join("instances"), &mut files);
    yaml_files(&repo().join("models"), &mut files);
    let (mut instances, mut dnns) = (0, 0);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        match kind(&text) {
            Some("instance") => {
                let out = Command::new(exe()).arg("validate").arg(f).output().unwrap();
                assert!(
                    out.status.success(),
                    "{} does not validate:\n{}{}",
                    f.display(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                instances += 1;
            }
            Some(_) => {
                if let Err(e) = edgesplit::scenario::load_dnn(f) {
                    panic!("{} is not a valid DNN file: {e}", f.display());
                }
                dnns += 1;
            }
            None => {}
        }
    }
    // The folders the README and the issue promise.
    for dir in ["tide", "split-quant", "mtl-split", "scaling", "pipeline"] {
        assert!(
            repo()
                .join("instances")
                .join(dir)
                .join("README.md")
                .is_file(),
            "instances/{dir}/README.md is missing"
        );
    }
    assert!(instances >= 19, "only {instances} instances found");
    assert!(dnns >= 13, "only {dnns} DNN files found");
}

/// The `edgesplit import-onnx|generate|scenario|sample-noise ...` commands
/// written in a README (in code blocks or backticks, `\` continuations
/// joined). `sample-noise` is among them because a scenario reads its
/// samples (instances/split-quant).
fn readme_commands(readme: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(readme).unwrap();
    let mut joined = Vec::new();
    let mut acc = String::new();
    for line in text.lines() {
        let l = line.trim_end();
        if let Some(head) = l.strip_suffix('\\') {
            acc.push_str(head);
            acc.push(' ');
            continue;
        }
        acc.push_str(l);
        joined.push(std::mem::take(&mut acc));
    }
    let mut cmds = Vec::new();
    for line in joined {
        for verb in ["import-onnx", "generate", "scenario", "sample-noise"] {
            let pat = format!("edgesplit {verb} ");
            let mut rest = line.as_str();
            while let Some(i) = rest.find(&pat) {
                let tail = &rest[i + "edgesplit ".len()..];
                let end = tail.find('`').unwrap_or(tail.len());
                let cmd = tail[..end].split('#').next().unwrap();
                let words: Vec<String> = cmd.split_whitespace().map(String::from).collect();
                if words
                    .iter()
                    .any(|w| w == "-o" || w == "--output" || w == "--out-dir")
                {
                    cmds.push(words);
                }
                rest = &tail[end..];
            }
        }
    }
    cmds
}

#[test]
fn readme_commands_remake_the_bundled_files() {
    // A scratch copy of the repository layout: the commands run there with
    // the same relative paths, so descriptions and `dnn.file` references
    // come out the same.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(root.join("models")).unwrap();
    std::os::unix::fs::symlink(repo().join("models/onnx"), root.join("models/onnx")).unwrap();
    let mut readmes = vec![repo().join("models/README.md")];
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("instances"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("README.md").is_file())
        .collect();
    dirs.sort();
    readmes.extend(dirs.iter().map(|d| d.join("README.md")));

    let mut checked = 0;
    for readme in &readmes {
        for words in readme_commands(readme) {
            let mut outputs = Vec::new();
            for (i, w) in words.iter().enumerate() {
                if matches!(w.as_str(), "-o" | "--output" | "--out-dir") {
                    let target = PathBuf::from(&words[i + 1]);
                    let dir = if w == "--out-dir" {
                        target.clone()
                    } else {
                        target.parent().unwrap().to_path_buf()
                    };
                    std::fs::create_dir_all(root.join(dir)).unwrap();
                    outputs.push((w == "--out-dir", target));
                }
            }
            let out = Command::new(exe())
                .args(&words)
                .current_dir(&root)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: `edgesplit {}` failed:\n{}",
                readme.display(),
                words.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
            for (is_dir, target) in outputs {
                let made: Vec<PathBuf> = if is_dir {
                    std::fs::read_dir(root.join(&target))
                        .unwrap()
                        .map(|e| target.join(e.unwrap().file_name()))
                        .collect()
                } else {
                    vec![target]
                };
                for rel in made {
                    let fresh = std::fs::read(root.join(&rel)).unwrap();
                    let bundled = std::fs::read(repo().join(&rel)).unwrap_or_else(|e| {
                        panic!("{} (made by a README command): {e}", rel.display())
                    });
                    assert!(
                        fresh == bundled,
                        "{} differs from what `edgesplit {}` ({}) makes now",
                        rel.display(),
                        words.join(" "),
                        readme.display()
                    );
                    checked += 1;
                }
            }
        }
    }
    // The models, 4 TIDE files, 7 scaling instances, 6 MTL-Split files,
    // the split-quant DNN, samples (twice: its own `-o` and the scenario's
    // `--out-dir`) and 2 instances.
    assert!(checked >= 34, "only {checked} files were checked");
}

#[test]
fn tide_instances_carry_the_papers_numbers() {
    use edgesplit::reference::{reference_plan, ReferenceMethod};
    for (file, q) in [
        ("tide-q050.yaml", 0.5),
        ("tide-q060.yaml", 0.6),
        ("tide-q070.yaml", 0.7),
    ] {
        let inst = edgesplit::load(&repo().join("instances/tide").join(file)).unwrap();
        assert_eq!(inst.tasks.len(), 10);
        assert_eq!(inst.network.len(), 4);
        let filters = inst
            .dnn
            .atoms
            .iter()
            .filter(|a| a.layer.starts_with("conv"))
            .count();
        assert_eq!(filters, 448);
        let mut rates: Vec<f64> = inst.tasks.iter().map(|t| t.rate).collect();
        rates.sort_by(|a, b| b.total_cmp(a));
        // Zipf α = 2: rank k gets k^-2 of the first.
        for (k, r) in rates.iter().enumerate() {
            let want = rates[0] / ((k + 1) as f64).powi(2);
            assert!(
                (r - want).abs() <= 1e-3 * want,
                "rank {}: {r} vs {want}",
                k + 1
            );
        }
        for t in &inst.tasks {
            assert_eq!(t.max_delay, 0.2);
            assert_eq!(t.min_quality, q);
        }
        // The centralized plan computes for 50 ms per inference and costs
        // one unit per inference plus its transfers.
        let plan = reference_plan(&inst, ReferenceMethod::Centralized);
        let ev = edgesplit::eval::evaluate(&inst, &plan, None);
        for t in &ev.tasks {
            assert!((t.compute_s - 0.05).abs() < 1e-4, "compute {}", t.compute_s);
            assert!(t.cost >= 1.0 && t.cost < 1.05, "cost {}", t.cost);
        }
    }
}

#[test]
fn scenario_rejects_bad_parameters_with_the_flag_named() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(exe())
        .args(["scenario", "tide", "--dnn"])
        .arg(repo().join("models/tide-alexnet-cifar100.yaml"))
        .args(["--q-min", "0.5,1.5", "--out-dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--q-min 1.5"), "{err}");
    let out = Command::new(exe())
        .args([
            "scenario",
            "tide",
            "--dnn",
            "no/such/file.yaml",
            "--out-dir",
        ])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no/such/file.yaml"), "{err}");
}

/// `edgesplit scenario ARGS` fails and its error contains every `want`.
fn scenario_fails_with(args: &[&str], want: &[&str]) {
    let out = Command::new(exe())
        .arg("scenario")
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "`scenario {}` succeeded",
        args.join(" ")
    );
    let err = String::from_utf8_lossy(&out.stderr);
    for w in want {
        assert!(err.contains(w), "`scenario {}`: {err}", args.join(" "));
    }
}

#[test]
fn mtl_split_and_split_quant_reject_bad_parameters_with_the_flag_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    scenario_fails_with(
        &["mtl-split", "--bandwidth", "0", "--out-dir", dir],
        &["--bandwidth 0"],
    );
    scenario_fails_with(
        &["mtl-split", "--hidden", "0", "--out-dir", dir],
        &["--hidden 0"],
    );
    scenario_fails_with(
        &["mtl-split", "--latency=-1", "--out-dir", dir],
        &["--latency -1"],
    );
    let q12 = ["--dnn", "models/densenet121-q12.yaml"];
    let samples = ["--samples", "instances/split-quant/noise-samples.csv"];
    let sq = |extra: &[&'static str]| -> Vec<&str> {
        let mut v = vec!["split-quant"];
        v.extend(extra);
        v.extend(["--out-dir", dir]);
        v
    };
    let mut a = q12.to_vec();
    a.extend(samples);
    a.extend(["--degrees", "2,0"]);
    scenario_fails_with(&sq(&a), &["--degrees 0"]);
    let mut a = q12.to_vec();
    a.extend(samples);
    a.push("--max-noise=-0.5");
    scenario_fails_with(&sq(&a), &["--max-noise -0.5"]);
    // A DNN without those quantization groups.
    let mut a = vec!["--dnn", "models/tide-alexnet-cifar100.yaml"];
    a.extend(samples);
    scenario_fails_with(&sq(&a), &["--samples", "q_n0", "--dnn"]);
    let mut a = q12.to_vec();
    a.extend(["--samples", "no/such/samples.csv"]);
    scenario_fails_with(&sq(&a), &["no/such/samples.csv"]);
    // Nothing was written by the failed runs.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn mtl_split_variants_differ_only_in_the_heads_rule() {
    let dir = repo().join("instances/mtl-split");
    for n in [2, 3] {
        let base = edgesplit::load(&dir.join(format!("{n}tasks.yaml"))).unwrap();
        let free = edgesplit::load(&dir.join(format!("{n}tasks-free-heads.yaml"))).unwrap();
        assert_eq!(base.tasks.len(), n);
        assert!(base.families.on("rules") && !free.families.on("rules"));
        assert_eq!(base.rules, free.rules);
        assert_eq!(base.tasks, free.tasks);
        // The rule keeps every head (2 atoms per task) off the device.
        assert_eq!(base.rules.len(), 1);
        assert_eq!(base.rules[0].atoms.len(), 2 * n);
    }
}

/// On every bundled instance (and the examples of docs/) the default
/// `min_time` routing gives every node pair exactly the one path that
/// `min_latency` gives it, whatever the tensor's size: the results and
/// numbers measured before `routing` existed stand. (The thesis scale
/// test, benches/data/, is where they differ: tests/thesis.rs.)
#[test]
fn default_routing_keeps_the_bundled_instances_paths() {
    use edgesplit::network::{Network, Routing};
    let mut files = Vec::new();
    yaml_files(&repo().join("instances"), &mut files);
    yaml_files(&repo().join("docs/examples"), &mut files);
    let mut checked = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        // Pipeline instances (`kind: pipeline`) have no network of paths.
        if kind(&text) != Some("instance") || text.lines().any(|l| l.starts_with("kind:")) {
            continue;
        }
        let inst = edgesplit::load(f).unwrap();
        let net = &inst.network;
        assert_eq!(net.routing, Routing::MinTime, "{}", f.display());
        let old = Network::with_routing(net.nodes.clone(), net.links.clone(), Routing::MinLatency);
        for k in 0..net.len() {
            for h in 0..net.len() {
                let (new, was) = (net.routes(k, h), old.routes(k, h));
                assert!(
                    new.len() <= 1,
                    "{}: {k} -> {h} has {} paths",
                    f.display(),
                    new.len()
                );
                assert_eq!(
                    new.first().map(|e| &e.path),
                    was.first().map(|e| &e.path),
                    "{}: {k} -> {h}",
                    f.display()
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} instances");
}

/// `instances/profiled.yaml` (docs/instance-format.md, "profiles") reads
/// its CSV beside it and its inline entry, and the profile changes what
/// the default instance's flops/speed would give.
#[test]
fn the_profiled_instance_reads_its_csv_and_inline_times() {
    let inst = edgesplit::load(&repo().join("instances/profiled.yaml")).unwrap();
    let plain = edgesplit::load(&repo().join("instances/default.yaml")).unwrap();
    let e = &inst.profiles.entries;
    assert_eq!(e.len(), 9);
    assert_eq!(e.iter().filter(|e| e.from_csv).count(), 8);
    assert!(e[1].file.ends_with("instances/profiled-times.csv"), "{e:?}");
    assert_eq!(inst.profiles.kinds, ["phone", "jetson", "a100"]);
    // Same DNN, network numbers and tasks: only the compute times differ,
    // on every compute atom and node.
    assert_eq!(inst.tasks, plain.tasks);
    for a in 0..inst.dnn.len() {
        for n in 0..inst.network.len() {
            let (p, d) = (inst.compute_s(a, n, false), plain.compute_s(a, n, false));
            assert_eq!(p == d, inst.dnn.atoms[a].flops == 0.0, "{a} {n}");
        }
    }
}

/// `instances/multi-dnn.yaml` (docs/instance-format.md, "dnns") is the
/// disjoint union of `models/tiny-cnn.yaml` and an inline DNN: the first
/// part's atoms are the model file's under the `tiny-cnn/` prefix, its
/// tasks `cats` and `dogs` have the default instance's relevance, and the
/// command line solves it to an optimum the evaluator confirms.
#[test]
fn the_multi_dnn_instance_is_the_union_of_its_dnns_and_solves() {
    let inst = edgesplit::load(&repo().join("instances/multi-dnn.yaml")).unwrap();
    let plain = edgesplit::load(&repo().join("instances/default.yaml")).unwrap();
    let parts = &inst.dnn.components;
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].atoms, 0..plain.dnn.len());
    for (a, atom) in plain.dnn.atoms.iter().enumerate() {
        let u = &inst.dnn.atoms[a];
        assert_eq!(u.id, format!("tiny-cnn/{}", atom.id));
        assert_eq!(
            (u.flops, u.param_bytes, u.out_bytes),
            (atom.flops, atom.param_bytes, atom.out_bytes)
        );
        assert_eq!(inst.dnn.succs[a], plain.dnn.succs[a]);
    }
    for name in ["cats", "dogs"] {
        let (t, p) = (
            inst.task_by_name(name).unwrap(),
            plain.task_by_name(name).unwrap(),
        );
        assert_eq!(inst.tasks[t].dnn, 0);
        assert_eq!(
            inst.tasks[t].relevance[..plain.dnn.len()],
            plain.tasks[p].relevance[..]
        );
        assert!(inst.tasks[t].relevance[plain.dnn.len()..]
            .iter()
            .all(|&r| r == 0.0));
    }
    let out = Command::new(exe())
        .args(["solve"])
        .arg(repo().join("instances/multi-dnn.yaml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("status optimal") && text.contains("feasible: every constraint holds"),
        "{text}"
    );
}
