//! Fuzz targets (proptest): the instance loader, the plan loaders, the
//! noise samples reader and the ONNX importer take arbitrary bytes,
//! arbitrary YAML and mutations of real files, and always answer `Ok` or
//! an error, never a panic.
//!
//! Each target runs `PROPTEST_CASES` cases (default 256; the ONNX targets,
//! whose cases run tract, a sixteenth of that, at least 8), so the suite
//! stays within a couple of minutes. A longer run:
//!
//! ```text
//! PROPTEST_CASES=20000 cargo test --release --test fuzz
//! ```
//!
//! The random seed is fixed unless `PROPTEST_RNG_SEED` is set, so that the
//! suite's run is reproducible; explore new inputs with, e.g.,
//! `PROPTEST_RNG_SEED=$RANDOM PROPTEST_CASES=5000 cargo test --release --test fuzz`.
//! A failure prints the shrunk input and stores its seed in
//! `tests/fuzz.proptest-regressions`, which is replayed first next time.

use edgesplit::instance::load_str;
use proptest::prelude::*;
use std::path::Path;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Shrinking a slow ONNX case can take long; a few steps say enough.
        max_shrink_iters: 200,
        rng_seed: match std::env::var("PROPTEST_RNG_SEED") {
            Ok(_) => ProptestConfig::default().rng_seed,
            Err(_) => proptest::test_runner::RngSeed::Fixed(0x00ed_9e5f_11c3),
        },
        ..ProptestConfig::default()
    }
}

const INSTANCE: &str = "instances/default.yaml";

fn default_text() -> String {
    std::fs::read_to_string(INSTANCE).unwrap()
}

/// Numbers a hostile file would write: extremes, negatives, non-finite
/// spellings and plain ones.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1e308".to_string()),
        Just("-1e308".to_string()),
        Just("1e-308".to_string()),
        Just("5e-324".to_string()),
        Just(".nan".to_string()),
        Just(".inf".to_string()),
        Just("-.inf".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551615".to_string()),
        Just("99999999999999999999999".to_string()),
        Just("10000000".to_string()),
        (-1e6f64..1e6).prop_map(|v| v.to_string()),
        any::<u32>().prop_map(|v| v.to_string()),
    ]
}

/// Keys of the instance format (and a few wrong ones), for structured YAML.
const KEYS: &[&str] = &[
    "version",
    "name",
    "dnn",
    "file",
    "input",
    "layers",
    "output",
    "count",
    "flops",
    "param_bytes",
    "out_bytes",
    "group",
    "mandatory",
    "inputs",
    "atoms",
    "edges",
    "network",
    "nodes",
    "links",
    "speed",
    "memory",
    "power",
    "price",
    "from",
    "to",
    "bandwidth",
    "latency",
    "symmetric",
    "tasks",
    "rate",
    "source",
    "sink",
    "max_delay",
    "relevance",
    "quality",
    "curve",
    "quantization",
    "groups",
    "noise",
    "terms",
    "coef",
    "fit",
    "samples",
    "degree",
    "objective",
    "weights",
    "normalization",
    "constraints",
    "delay_model",
    "placement_rules",
    "only_on",
    "bogus",
];

/// Arbitrary YAML values built from the format's keys, numbers and names.
fn yaml_value() -> impl Strategy<Value = serde_yaml::Value> {
    use serde_yaml::Value;
    let leaf = prop_oneof![
        number().prop_map(|n| serde_yaml::from_str(&n).unwrap_or(Value::Null)),
        prop::sample::select(KEYS).prop_map(|k| Value::String(k.to_string())),
        Just(Value::String("../../../../etc/passwd".into())),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Sequence),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Mapping(
                    kv.into_iter()
                        .map(|(k, v)| (Value::String(k.to_string()), v))
                        .collect(),
                )
            }),
        ]
    })
}

/// The default instance with one value replaced by a hostile number.
fn mutated_instance() -> impl Strategy<Value = String> {
    let text = default_text();
    let n = text.matches(':').count();
    (0..n, number()).prop_map(move |(k, num)| {
        let mut out = String::new();
        let mut seen = 0;
        for line in text.split_inclusive('\n') {
            let colons: Vec<usize> = line.match_indices(':').map(|(i, _)| i).collect();
            if k >= seen && k < seen + colons.len() {
                let at = colons[k - seen];
                // Replace the value after this key up to the next , } or end.
                let rest = &line[at + 1..];
                let end = rest.find([',', '}', '\n', '#']).unwrap_or(rest.len());
                out.push_str(&line[..=at]);
                out.push(' ');
                out.push_str(&num);
                out.push_str(&rest[end..]);
            } else {
                out.push_str(line);
            }
            seen += colons.len();
        }
        out
    })
}

proptest! {
    #![proptest_config(config(cases()))]

    #[test]
    fn instance_loader_takes_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = load_str(&text, Some(Path::new(INSTANCE)));
        let _ = edgesplit::pipeline::load_str(&text, Some(Path::new(INSTANCE)));
    }

    #[test]
    fn instance_loader_takes_arbitrary_yaml(v in yaml_value()) {
        let text = serde_yaml::to_string(&v).unwrap();
        let _ = load_str(&text, Some(Path::new(INSTANCE)));
        let _ = load_str(&format!("version: 1\n{text}"), Some(Path::new(INSTANCE)));
    }

    #[test]
    fn instance_loader_takes_hostile_numbers(text in mutated_instance()) {
        if let Ok(inst) = load_str(&text, Some(Path::new(INSTANCE))) {
            // What loads evaluates to finite numbers.
            let plan = edgesplit::reference::reference_plan(
                &inst,
                edgesplit::reference::ReferenceMethod::Centralized,
            );
            let ev = edgesplit::eval::evaluate(&inst, &plan, None);
            prop_assert!(ev.totals.time.is_finite(), "{text}");
            prop_assert!(ev.totals.energy.is_finite(), "{text}");
            prop_assert!(ev.totals.cost.is_finite(), "{text}");
        }
    }

    #[test]
    fn plan_loaders_take_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let inst = edgesplit::load(Path::new(INSTANCE)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for name in ["plan.yaml", "plan.json"] {
            let p = dir.path().join(name);
            std::fs::write(&p, &bytes).unwrap();
            let _ = edgesplit::Plan::load(&p, &inst);
        }
        let pipe = edgesplit::pipeline::load(Path::new("instances/pipeline/mobilenet-unloaded.yaml")).unwrap();
        let _ = edgesplit::pipeline::load_plan_str(&String::from_utf8_lossy(&bytes), None, &pipe);
    }

    #[test]
    fn noise_reader_takes_arbitrary_text(
        text in "([a-c01,.\\-#e ]|noise|\n){0,200}",
        degree in 1usize..4,
    ) {
        if let Ok(s) = edgesplit::noise::parse_samples(&text, Path::new("s.csv")) {
            if s.groups.len() <= 6 {
                let _ = edgesplit::noise::fit(&s, degree, 0.0);
                let _ = edgesplit::noise::fit(&s, degree, 0.1);
                let _ = edgesplit::noise::cross_validate(&s, degree, 0.1, 2);
            }
        }
    }
}

fn onnx_cases() -> u32 {
    (cases() / 16).max(8)
}

fn import_bytes(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("fuzz.onnx");
    std::fs::write(&p, bytes).unwrap();
    if let Err(e) = edgesplit::onnx::import(&p, Some(&[1, 3, 224, 224])) {
        // Every error names the file.
        assert!(format!("{e:#}").contains("fuzz.onnx"), "{e:#}");
    }
}

proptest! {
    #![proptest_config(config(onnx_cases()))]

    #[test]
    fn onnx_importer_takes_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        import_bytes(&bytes);
    }

    #[test]
    fn onnx_importer_takes_mutated_models(
        model in prop::sample::select(&["light_bvlc_alexnet.onnx", "light_squeezenet.onnx"][..]),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = std::fs::read(Path::new("tests/fixtures").join(model)).unwrap();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        import_bytes(&bytes);
    }
}
