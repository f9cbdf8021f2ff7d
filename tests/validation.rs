//! Instance validation: every bad input is an `Error::Invalid` whose
//! problems name the file, the field path, the bad value and what was
//! expected, never a panic. Bad variants are built from the default
//! instance (`instances/default.yaml` + `models/tiny-cnn.yaml`) by string
//! edits and written to a temporary directory.

use edgesplit::{Error, Problem};
use rand::{RngCore, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tempfile::TempDir;

const MODEL_REF: &str = "../models/tiny-cnn.yaml";

fn repo_file(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

fn default_instance() -> String {
    repo_file("instances/default.yaml")
}

fn default_model() -> String {
    repo_file("models/tiny-cnn.yaml")
}

/// Replaces the single occurrence of `from` (asserting it is there exactly
/// once, so a change to the example files cannot silently void a test).
fn edit(text: &str, from: &str, to: &str) -> String {
    let n = text.matches(from).count();
    assert_eq!(n, 1, "expected exactly one {from:?} in the text, found {n}");
    text.replacen(from, to, 1)
}

/// A temporary directory holding one instance and the model it refers to
/// (as `tiny-cnn.yaml` next to it).
struct Case {
    dir: TempDir,
    instance: PathBuf,
    model: PathBuf,
}

impl Case {
    fn new(instance: &str, model: &str) -> Case {
        let dir = TempDir::new().expect("temp dir");
        let instance_path = dir.path().join("instance.yaml");
        let model_path = dir.path().join("tiny-cnn.yaml");
        let instance = instance.replace(MODEL_REF, "tiny-cnn.yaml");
        std::fs::write(&instance_path, instance).expect("write instance");
        std::fs::write(&model_path, model).expect("write model");
        Case {
            dir,
            instance: instance_path,
            model: model_path,
        }
    }

    /// The default model with a bad instance.
    fn instance(instance: &str) -> Case {
        Case::new(instance, &default_model())
    }

    /// The default instance with a bad model.
    fn model(model: &str) -> Case {
        Case::new(&default_instance(), model)
    }

    /// Writes another file into the case's directory.
    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).expect("write file");
        p
    }

    fn problems(&self) -> Vec<Problem> {
        problems_of(&self.instance)
    }
}

/// Loads `path` and returns the problems; fails the test unless loading
/// returns `Error::Invalid` with at least one problem.
fn problems_of(path: &Path) -> Vec<Problem> {
    match edgesplit::load(path) {
        Ok(_) => panic!("{} loaded, but it is invalid", path.display()),
        Err(Error::Invalid { diagnostics }) => {
            assert!(!diagnostics.is_empty(), "Error::Invalid without problems");
            for p in &diagnostics.problems {
                assert!(!p.message.is_empty(), "empty message in {p:?}");
            }
            diagnostics.problems
        }
        Err(e) => panic!("expected Error::Invalid, got {e:?}"),
    }
}

/// Asserts that some problem is in `file` at `path` and its message
/// contains every one of `needles`; returns it.
fn expect_problem<'a>(
    problems: &'a [Problem],
    file: &Path,
    path: &str,
    needles: &[&str],
) -> &'a Problem {
    let found = problems.iter().find(|p| {
        p.file == file && p.path == path && needles.iter().all(|n| p.message.contains(n))
    });
    match found {
        Some(p) => p,
        None => panic!(
            "no problem in {} at `{path}` mentioning {needles:?}; problems:\n{}",
            file.display(),
            problems
                .iter()
                .map(|p| format!("  {} | {} | {}", p.file.display(), p.path, p.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

#[test]
fn default_instance_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("instances/default.yaml");
    let inst = edgesplit::load(&path).expect("the default instance is valid");
    assert_eq!(inst.tasks.len(), 3);
    // The copy in a temp dir (used by every test below) loads too.
    let case = Case::new(&default_instance(), &default_model());
    edgesplit::load(&case.instance).expect("the copied default instance is valid");
}

// --- 1. cycles in the DNN ---

#[test]
fn dnn_cycle_through_layer_inputs() {
    // conv1 takes conv2's output, conv2 (by default) takes conv1's.
    let model = edit(
        &default_model(),
        "  - name: conv1\n",
        "  - name: conv1\n    inputs: [conv2]\n",
    );
    let case = Case::model(&model);
    let problems = case.problems();
    let p = expect_problem(
        &problems,
        &case.model,
        "layers[0].inputs[0]",
        &["conv2", "cycle", "acyclic"],
    );
    assert!(p.message.contains("conv1.0"), "{p}");
}

#[test]
fn dnn_cycle_through_inline_edges() {
    // The DNN written inline, with an explicit edge back from fc to conv1.
    let model: String = default_model()
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect();
    let model = format!("{model}  edges: [[conv2, fc], [fc, conv1]]\n");
    let inst = edit(
        &default_instance(),
        &format!("dnn: {{file: {MODEL_REF}}}\n"),
        &format!("dnn:\n{model}"),
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "dnn.edges[1]",
        &["fc", "conv1", "cycle", "acyclic"],
    );
}

#[test]
fn dnn_layer_feeding_itself() {
    let model = edit(
        &default_model(),
        "  - name: conv2\n",
        "  - name: conv2\n    inputs: [conv1, conv2]\n",
    );
    let case = Case::model(&model);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.model,
        "layers[1].inputs[1]",
        &["conv2", "acyclic"],
    );
}

// --- 2. unknown nodes ---

#[test]
fn unknown_node_in_link() {
    let inst = edit(
        &default_instance(),
        "{from: device, to: edge,  bandwidth: 5.0e6",
        "{from: dvice, to: edge,  bandwidth: 5.0e6",
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "network.links[0].from",
        &["'dvice'", "expected one of", "device", "edge", "cloud"],
    );
}

#[test]
fn unknown_node_as_task_source() {
    let inst = edit(
        &default_instance(),
        "  - name: dogs\n    rate: 5\n    source: device\n",
        "  - name: dogs\n    rate: 5\n    source: laptop\n",
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "tasks[1].source",
        &["'laptop'", "expected one of", "device, edge, cloud"],
    );
}

// --- 3. accuracy curves ---

#[test]
fn non_concave_accuracy_curve() {
    // Slopes 0.6 then 1.27: convex at the second breakpoint.
    let inst = edit(
        &default_instance(),
        "curve: [[0, 0], [0.5, 0.55], [0.8, 0.68], [1, 0.72]]",
        "curve: [[0, 0], [0.5, 0.3], [0.8, 0.68], [1, 0.72]]",
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "tasks[0].quality.curve[2]",
        &["[0.8, 0.68]", "1.266667", "0.6", "concave"],
    );
}

#[test]
fn decreasing_accuracy_curve() {
    // Concave, but the last piece goes down.
    let inst = edit(
        &default_instance(),
        "curve: [[0, 0], [0.5, 0.5], [0.8, 0.64], [1, 0.7]]",
        "curve: [[0, 0], [0.5, 0.5], [0.8, 0.64], [1, 0.6]]",
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "tasks[1].quality.curve[3]",
        &["0.6", "0.64", "non-decreasing"],
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
}

// --- 4. rates ---

#[test]
fn negative_rate() {
    let inst = edit(&default_instance(), "rate: 10\n", "rate: -10\n");
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "tasks[0].rate",
        &["-10", "expected", "> 0"],
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
}

#[test]
fn nan_rate() {
    let inst = edit(&default_instance(), "rate: 5\n", "rate: .nan\n");
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "tasks[1].rate",
        &["NaN", "expected a finite", "> 0"],
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
}

// --- 5. missing referenced files ---

#[test]
fn missing_dnn_file() {
    let inst = edit(&default_instance(), MODEL_REF, "models/nope.yaml");
    let case = Case::instance(&inst);
    let problems = case.problems();
    let p = expect_problem(
        &problems,
        &case.instance,
        "dnn.file",
        &["nope.yaml", "cannot read"],
    );
    // The message shows where the relative path was looked for.
    let resolved = case.dir.path().join("models/nope.yaml");
    assert!(p.message.contains(&resolved.display().to_string()), "{p}");
    assert!(p.message.contains("relative to"), "{p}");
}

#[test]
fn missing_relevance_file() {
    let inst = edit(
        &default_instance(),
        "quantization:\n",
        "relevance_file: scores/relevance.csv\nquantization:\n",
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "relevance_file",
        &["scores/relevance.csv", "cannot read"],
    );
}

// --- 6. relevance ---

#[test]
fn relevance_for_unknown_atom() {
    let inst = edit(&default_instance(), "conv1.3: 0.05,", "conv9.3: 0.05,");
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "tasks[0].relevance.conv9.3",
        &["'conv9.3'", "expected", "atom"],
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
}

#[test]
fn relevance_csv_for_unknown_task() {
    let inst = edit(
        &default_instance(),
        "quantization:\n",
        "relevance_file: relevance.csv\nquantization:\n",
    );
    let case = Case::instance(&inst);
    let csv = case.write(
        "relevance.csv",
        "atom,task,score\nconv1.0,cats,0.5\nconv1.1,cows,0.4\nfc,dogs,1\n",
    );
    let problems = case.problems();
    expect_problem(
        &problems,
        &csv,
        "line 3",
        &["'cows'", "expected one of", "cats, dogs, birds"],
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
}

#[test]
fn relevance_csv_with_short_rows() {
    let inst = edit(
        &default_instance(),
        "quantization:\n",
        "relevance_file: relevance.csv\nquantization:\n",
    );
    let case = Case::instance(&inst);
    let csv = case.write(
        "relevance.csv",
        "atom,task,score\nconv1.0,cats\nconv1.1,dogs,0.4\nfc\n",
    );
    let problems = case.problems();
    expect_problem(&problems, &csv, "line 2", &["2 field(s)", "expected 3"]);
    expect_problem(&problems, &csv, "line 4", &["1 field(s)", "expected 3"]);
    assert_eq!(problems.len(), 2, "{problems:#?}");
}

#[test]
fn relevance_csv_for_unknown_atom() {
    let inst = edit(
        &default_instance(),
        "quantization:\n",
        "relevance_file: relevance.csv\nquantization:\n",
    );
    let case = Case::instance(&inst);
    let csv = case.write("relevance.csv", "atom,task,score\nconv7,cats,0.5\n");
    let problems = case.problems();
    expect_problem(&problems, &csv, "line 2", &["'conv7'", "expected"]);
}

// --- 7. zero tasks ---

#[test]
fn zero_tasks() {
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&default_instance()).unwrap();
    doc["tasks"] = serde_yaml::Value::Sequence(Vec::new());
    let case = Case::instance(&serde_yaml::to_string(&doc).unwrap());
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "tasks",
        &["no tasks", "expected at least one task"],
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
}

// --- 8. node speed ---

#[test]
fn node_with_zero_speed() {
    let inst = edit(&default_instance(), "speed: 2.0e10,", "speed: 0,");
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "network.nodes[1].speed",
        &["value 0 ", "expected a finite FLOP/s > 0"],
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
}

// --- 9. wrong YAML types ---

#[test]
fn string_where_rate_expected() {
    let inst = edit(&default_instance(), "rate: 2\n", "rate: fast\n");
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "tasks[2].rate",
        &["\"fast\"", "expected a number", "line 39"],
    );
}

#[test]
fn number_where_node_list_expected() {
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&default_instance()).unwrap();
    doc["network"]["nodes"] = serde_yaml::Value::from(5);
    let case = Case::instance(&serde_yaml::to_string(&doc).unwrap());
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "network.nodes",
        &["5", "expected a sequence"],
    );
}

#[test]
fn wrong_type_inside_inline_dnn() {
    // An inline DNN goes through the `file`-or-inline choice; the message
    // must still name the field, not just "did not match any variant".
    let model = edit(
        &default_model(),
        "    count: 4                  # atoms",
        "    count: four                  # atoms",
    );
    let model: String = model.lines().map(|l| format!("  {l}\n")).collect();
    let inst = edit(
        &default_instance(),
        &format!("dnn: {{file: {MODEL_REF}}}\n"),
        &format!("dnn:\n{model}"),
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "dnn.layers[0].count",
        &["\"four\"", "expected a whole number", "line 7"],
    );
}

#[test]
fn dnn_neither_file_nor_inline() {
    let inst = edit(
        &default_instance(),
        &format!("dnn: {{file: {MODEL_REF}}}\n"),
        "dnn: 5\n",
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "dnn",
        &["`5`", "expected `{file: path}` or an inline DNN"],
    );
}

#[test]
fn dnn_file_reference_with_unknown_key() {
    let inst = edit(
        &default_instance(),
        &format!("dnn: {{file: {MODEL_REF}}}\n"),
        &format!("dnn: {{file: {MODEL_REF}, format: onnx}}\n"),
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "dnn.format",
        &["unknown field `format`", "expected `file`"],
    );
}

#[test]
fn bad_normalization_scales() {
    let inst = edit(
        &default_instance(),
        "normalization: none",
        "normalization: {scales: {time: fast}}",
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "objective.normalization",
        &["expected 'none', 'payoff' or {scales"],
    );
}

#[test]
fn misspelt_field() {
    let inst = edit(
        &default_instance(),
        "max_delay: 0.06\n",
        "max_dealy: 0.06\n",
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "tasks[0].max_dealy",
        &[
            "unknown field `max_dealy`",
            "expected one of",
            "max_delay",
            "line 21",
        ],
    );
    // The path is not repeated inside the message.
    assert!(!problems[0].message.contains("tasks[0]"), "{}", problems[0]);
}

// --- 10. empty files ---

#[test]
fn empty_instance_file() {
    let case = Case::instance("");
    let problems = case.problems();
    expect_problem(&problems, &case.instance, "", &["empty", "expected"]);
}

#[test]
fn comment_only_instance_file() {
    let case = Case::instance("# nothing here yet\n\n");
    let problems = case.problems();
    expect_problem(&problems, &case.instance, "", &["empty", "expected"]);
}

#[test]
fn empty_model_file() {
    let case = Case::model("\n");
    let problems = case.problems();
    expect_problem(&problems, &case.model, "", &["empty", "expected"]);
}

// --- 11. 50 MB of garbage ---

const GARBAGE_BYTES: usize = 50 << 20;

fn garbage(seed: u64, printable: bool) -> Vec<u8> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut bytes = vec![0u8; GARBAGE_BYTES];
    rng.fill_bytes(&mut bytes);
    if printable {
        for b in &mut bytes {
            *b = b' ' + *b % 95;
        }
    }
    bytes
}

#[test]
fn fifty_megabytes_of_random_bytes() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("garbage.yaml");
    std::fs::write(&path, garbage(0x5eed, false)).unwrap();
    let start = Instant::now();
    let problems = problems_of(&path);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    expect_problem(&problems, &path, "", &["not UTF-8", "expected a YAML file"]);
    assert_eq!(problems.len(), 1);
}

#[test]
fn fifty_megabytes_of_printable_garbage() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("garbage.yaml");
    std::fs::write(&path, garbage(0x5eed, true)).unwrap();
    let start = Instant::now();
    let problems = problems_of(&path);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert_eq!(p.file, path);
    assert!(p.message.contains("line"), "{p}");
}

#[test]
fn fifty_megabytes_of_open_brackets() {
    // The YAML parser would read the whole nest (minutes, gigabytes) before
    // serde's recursion limit applies.
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("brackets.yaml");
    std::fs::write(&path, vec![b'['; GARBAGE_BYTES]).unwrap();
    let start = Instant::now();
    let problems = problems_of(&path);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    expect_problem(
        &problems,
        &path,
        "line 1",
        &["nested more than", "expected"],
    );
}

#[test]
fn deeply_nested_block_sequence() {
    let case = Case::instance(&"- ".repeat(1 << 20));
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "line 1",
        &["indentation", "expected"],
    );
}

#[test]
fn huge_value_is_not_quoted_in_full() {
    let case = Case::instance(&"a".repeat(5 << 20));
    let problems = case.problems();
    let p = expect_problem(
        &problems,
        &case.instance,
        "",
        &[
            "invalid type: string \"aaa",
            "[…]",
            "expected an instance mapping",
        ],
    );
    assert!(p.message.len() < 1000, "{} bytes", p.message.len());
}

// --- 12. duplicate atom ids ---

#[test]
fn duplicate_atom_in_explicit_list() {
    let model = edit(
        &default_model(),
        "    count: 4                  # atoms conv1.0 .. conv1.3\n",
        "    atoms: [{name: a}, {name: b}, {name: a}]\n",
    );
    let case = Case::model(&model);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.model,
        "layers[0].atoms[2].name",
        &["'a'", "layers[0].atoms[0].name", "expected"],
    );
}

#[test]
fn two_layers_producing_the_same_atom_id() {
    // A single-atom layer named `conv1.2` collides with conv1's third atom.
    let model = edit(
        &default_model(),
        "  - name: conv2\n",
        "  - name: conv1.2\n    flops: 1\n  - name: conv2\n",
    );
    let case = Case::model(&model);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.model,
        "layers[1].name",
        &["'conv1.2'", "layers[0].name", "expected"],
    );
}

// --- all problems at once ---

#[test]
fn independent_problems_are_all_reported() {
    let mut inst = default_instance();
    for (from, to) in [
        ("rate: 10\n", "rate: -10\n"),
        (
            "  - name: dogs\n    rate: 5\n    source: device\n",
            "  - name: dogs\n    rate: 5\n    source: laptop\n",
        ),
        ("speed: 2.0e11,", "speed: 0,"),
        ("{from: edge,   to: cloud,", "{from: edge,   to: clod,"),
        (
            "curve: [[0, 0], [0.6, 0.55], [1, 0.66]]",
            "curve: [[0, 0], [0.6, 0.55], [1, 0.5]]",
        ),
        ("conv2.3: 0.9, fc: 1.0}", "conv2.9: 0.9, fc: 1.0}"),
        ("weight_factor: 0.25", "weight_factor: 2"),
    ] {
        inst = edit(&inst, from, to);
    }
    // And a problem in the model file, which is reported alongside.
    let model = edit(&default_model(), "param_bytes: 148", "param_bytes: -148");
    let case = Case::new(&inst, &model);
    let problems = case.problems();
    let f = &case.instance;
    expect_problem(&problems, f, "tasks[0].rate", &["-10"]);
    expect_problem(&problems, f, "tasks[1].source", &["laptop"]);
    expect_problem(&problems, f, "network.nodes[2].speed", &["value 0 "]);
    expect_problem(&problems, f, "network.links[2].to", &["clod"]);
    expect_problem(&problems, f, "tasks[2].quality.curve[2]", &["0.5"]);
    expect_problem(&problems, f, "quantization.weight_factor", &["2"]);
    expect_problem(&problems, &case.model, "layers[1].param_bytes", &["-148"]);
    // The relevance of tasks[2] is only checked with a valid DNN; the rest
    // is independent of it.
    assert!(problems.len() >= 7, "{problems:#?}");
}

#[test]
fn independent_problems_with_a_valid_dnn_are_all_reported() {
    let mut inst = default_instance();
    for (from, to) in [
        ("rate: 10\n", "rate: .inf\n"),
        ("conv2.3: 0.9, fc: 1.0}", "conv2.9: 0.9, fc: 1.0}"),
        ("max_delay: 0.08", "max_delay: 0"),
        ("memory: 4.0e6,", "memory: -1,"),
        ("delay_model: sequential", "delay_model: parallel"),
    ] {
        inst = edit(&inst, from, to);
    }
    let case = Case::instance(&inst);
    let problems = case.problems();
    let f = &case.instance;
    expect_problem(&problems, f, "tasks[0].rate", &["inf"]);
    expect_problem(&problems, f, "tasks[2].relevance.conv2.9", &["conv2.9"]);
    expect_problem(&problems, f, "tasks[1].max_delay", &["value 0 "]);
    expect_problem(&problems, f, "network.nodes[1].memory", &["-1"]);
    expect_problem(&problems, f, "delay_model", &["parallel", "sequential"]);
    assert_eq!(problems.len(), 5, "{problems:#?}");
}

// --- non-finite numbers anywhere: errors, never panics ---

#[test]
fn non_finite_numbers_never_panic() {
    // Every number of the default instance in turn becomes NaN, ∞, -∞, -1
    // and 0; loading either succeeds or reports a problem in this file.
    let text = default_instance();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut paths = Vec::new();
    number_paths(&doc, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 50, "found only {} numbers", paths.len());
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("tiny-cnn.yaml"), default_model()).unwrap();
    let file = dir.path().join("instance.yaml");
    for path in &paths {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 0.0] {
            let mut d = doc.clone();
            *get_mut(&mut d, path) = serde_yaml::Value::from(bad);
            let t = serde_yaml::to_string(&d)
                .unwrap()
                .replace(MODEL_REF, "tiny-cnn.yaml");
            std::fs::write(&file, t).unwrap();
            let r = std::panic::catch_unwind(|| edgesplit::load(&file));
            match r {
                Err(_) => panic!("panic loading with {path:?} = {bad}"),
                Ok(Ok(_)) => {}
                Ok(Err(Error::Invalid { diagnostics })) => {
                    assert!(diagnostics.problems.iter().all(|p| p.file == file));
                }
                Ok(Err(e)) => panic!("{path:?} = {bad}: unexpected error {e}"),
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Key {
    Field(serde_yaml::Value),
    Index(usize),
}

fn number_paths(v: &serde_yaml::Value, at: &mut Vec<Key>, out: &mut Vec<Vec<Key>>) {
    match v {
        serde_yaml::Value::Number(_) => out.push(at.clone()),
        serde_yaml::Value::Sequence(s) => {
            for (i, x) in s.iter().enumerate() {
                at.push(Key::Index(i));
                number_paths(x, at, out);
                at.pop();
            }
        }
        serde_yaml::Value::Mapping(m) => {
            for (k, x) in m {
                at.push(Key::Field(k.clone()));
                number_paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut serde_yaml::Value, path: &[Key]) -> &'a mut serde_yaml::Value {
    path.iter().fold(v, |v, k| match k {
        Key::Field(f) => v.get_mut(f).expect("field"),
        Key::Index(i) => v.get_mut(*i).expect("index"),
    })
}

// --- the command line ---

#[test]
fn cli_validate_lists_problems_and_exits_1() {
    let inst = edit(&default_instance(), "rate: 10\n", "rate: -10\n");
    let inst = edit(&inst, "speed: 2.0e10,", "speed: 0,");
    let case = Case::instance(&inst);
    let out = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .arg("validate")
        .arg(&case.instance)
        .output()
        .expect("run edgesplit");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}");
    let f = case.instance.display().to_string();
    assert!(
        stdout.contains(&format!("{f}: tasks[0].rate: value -10 ")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{f}: network.nodes[1].speed: value 0 ")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("{f}: 2 problem(s)")), "{stdout}");
}

#[test]
fn cli_validate_reports_garbage_and_missing_files() {
    let dir = TempDir::new().unwrap();
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "").unwrap();
    let missing = dir.path().join("missing.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .arg("validate")
        .arg(&empty)
        .arg(&missing)
        .output()
        .expect("run edgesplit");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}");
    assert!(
        stdout.contains(&format!("{}: the file is empty", empty.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}: cannot read file", missing.display())),
        "{stdout}"
    );
}

#[test]
fn cli_validate_default_instance_exits_0() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("instances/default.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .arg("validate")
        .arg(&path)
        .output()
        .expect("run edgesplit");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}");
    assert!(stdout.contains(": ok ("), "{stdout}");
}

#[test]
fn unknown_routing() {
    let inst = edit(
        &default_instance(),
        "\ntasks:",
        "\n  routing: fastest\ntasks:",
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "network.routing",
        &["'fastest'", "min_time", "min_latency", "direct"],
    );
}

#[test]
fn latency_energy_not_a_boolean() {
    let inst = edit(
        &default_instance(),
        "\ntasks:",
        "\n  latency_energy: sometimes\ntasks:",
    );
    let case = Case::instance(&inst);
    let problems = case.problems();
    expect_problem(
        &problems,
        &case.instance,
        "network.latency_energy",
        &["sometimes"],
    );
}
