//! Hostile but small inputs: each declares far more work than its size
//! (ten million atoms, 10¹⁰ edges, a noise fit over 760,098 monomials),
//! overflows a product (1e308 rates and FLOP), or makes a dependency panic
//! (huge or negative ONNX shapes, a 1e308 time limit). Each must come back
//! as an error naming the field or file, the limit and how to raise it,
//! without allocating what it declares.

use edgesplit::error::Error;
use edgesplit::instance::{load_str, load_str_with, Limits, LoadOptions};
use edgesplit::noise::{fit, parse_samples, Samples};
use std::path::Path;
use std::process::Command;

/// An instance with an inline DNN made of `layers` (YAML list items).
fn instance(layers: &str, tasks: usize, nodes: usize) -> String {
    let node_list: String = (0..nodes)
        .map(|i| format!("    - {{name: n{i}, speed: 1.0e9, memory: 1.0e9}}\n"))
        .collect();
    let task_list: String = (0..tasks)
        .map(|i| format!("  - {{name: t{i}, rate: 1, source: n0}}\n"))
        .collect();
    format!(
        "version: 1\ndnn:\n  input: {{name: x, out_bytes: 100}}\n  layers:\n{layers}  output: {{name: y}}\n\
         network:\n  nodes:\n{node_list}tasks:\n{task_list}"
    )
}

/// The problems of a refused load, one per line.
fn problems(r: edgesplit::Result<edgesplit::Instance>) -> String {
    match r {
        Ok(_) => panic!("the instance was accepted"),
        Err(Error::Invalid { diagnostics }) => diagnostics
            .problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => panic!("expected validation problems, got {e}"),
    }
}

fn default_text() -> String {
    std::fs::read_to_string("instances/default.yaml").unwrap()
}

fn load_default(text: &str) -> edgesplit::Result<edgesplit::Instance> {
    load_str(text, Some(Path::new("instances/default.yaml")))
}

#[test]
fn ten_million_atoms_are_refused_before_they_are_made() {
    let text = instance("    - {name: big, count: 10000000, flops: 1}\n", 1, 1);
    let msg = problems(load_str(&text, None));
    assert!(msg.contains("dnn.layers[0].count"), "{msg}");
    assert!(msg.contains("10000002"), "declared value: {msg}");
    assert!(msg.contains("max_atoms = 200000"), "the limit: {msg}");
    assert!(
        msg.contains("--limits max_atoms=N"),
        "how to raise it: {msg}"
    );
}

#[test]
fn dense_edges_between_wide_layers_are_refused_from_the_counts() {
    // 2 × 60,000 atoms are within the atom limit; their all-to-all
    // connection is 3.6·10⁹ edges.
    let layers = "    - {name: a, count: 60000}\n    - {name: b, count: 60000}\n";
    let msg = problems(load_str(&instance(layers, 1, 1), None));
    assert!(msg.contains("dnn.layers[1].inputs"), "{msg}");
    assert!(
        msg.contains("max_edges") && msg.contains("3600060000"),
        "{msg}"
    );
}

#[test]
fn explicit_edges_between_layers_count_too() {
    let layers = "    - {name: a, count: 3000}\n    - {name: b, count: 3000}\n";
    let text = instance(layers, 1, 1) + "";
    let text = text.replace(
        "  output: {name: y}\n",
        "  output: {name: y}\n  edges: [[a, b], [a, b]]\n",
    );
    let msg = problems(load_str_with(
        &text,
        None,
        &LoadOptions {
            limits: Limits {
                max_edges: 20_000_000,
                ..Limits::default()
            },
            ..LoadOptions::default()
        },
    ));
    assert!(msg.contains("dnn.edges[1]"), "{msg}");
}

#[test]
fn tasks_times_atoms_times_nodes_is_bounded() {
    let msg = problems(load_str(
        &instance("    - {name: a, count: 100000}\n", 600, 1),
        None,
    ));
    assert!(
        msg.contains("tasks × atoms × nodes (600 × 100002 × 1)"),
        "{msg}"
    );
    assert!(msg.contains("max_instance_size"), "{msg}");
}

#[test]
fn too_many_nodes_are_refused() {
    let msg = problems(load_str(&instance("    - {name: a}\n", 1, 1001), None));
    assert!(
        msg.contains("network.nodes") && msg.contains("max_nodes"),
        "{msg}"
    );
}

#[test]
fn limits_can_be_lowered_and_raised() {
    let tight = LoadOptions {
        limits: "max_atoms=5".parse().unwrap(),
        ..LoadOptions::default()
    };
    let text = default_text();
    let msg = problems(load_str_with(
        &text,
        Some(Path::new("instances/default.yaml")),
        &tight,
    ));
    assert!(
        msg.contains("tiny-cnn.yaml") && msg.contains("max_atoms = 5"),
        "{msg}"
    );
    load_default(&text).expect("the default limits take the default instance");
}

fn samples(groups: usize, rows: usize) -> Samples {
    Samples {
        groups: (0..groups).map(|g| format!("g{g}")).collect(),
        q: (0..rows)
            .map(|r| (0..groups).map(|g| (r >> (g % 16)) & 1 == 1).collect())
            .collect(),
        noise: vec![0.01; rows],
    }
}

#[test]
fn a_degree_5_fit_over_40_groups_is_refused_by_the_term_limit() {
    let e = fit(&samples(40, 50), 5, 0.0).unwrap_err();
    assert!(e.contains("760098") && e.contains("max_noise_terms"), "{e}");
}

#[test]
fn a_degree_40_fit_is_refused_by_the_term_limit() {
    let e = fit(&samples(40, 50), 40, 1.0).unwrap_err();
    assert!(
        e.contains("1099511627775") && e.contains("max_noise_terms"),
        "{e}"
    );
}

#[test]
fn the_fit_matrix_bytes_are_bounded() {
    // 3,000 samples over 20 groups at degree 3: 1,350 terms, 47 MB.
    let limits = Limits {
        max_fit_bytes: 1 << 20,
        ..Limits::default()
    };
    let e = edgesplit::noise::fit_with(&samples(20, 3000), 3, 1.0, &limits).unwrap_err();
    assert!(
        e.contains("max_fit_bytes") && e.contains("1350 terms"),
        "{e}"
    );
}

#[test]
fn a_noise_fit_at_load_is_bounded_too() {
    let dir = tempfile::tempdir().unwrap();
    let header: Vec<String> = (0..40).map(|g| format!("g{g}")).collect();
    let csv = format!(
        "{},noise\n{},0.1\n",
        header.join(","),
        vec!["1"; 40].join(",")
    );
    std::fs::write(dir.path().join("noise.csv"), csv).unwrap();
    let layers: String = (0..40)
        .map(|g| format!("    - {{name: l{g}, flops: 1, group: g{g}}}\n"))
        .collect();
    let text = instance(&layers, 1, 1)
        + "quantization:\n  noise:\n    fit: {samples: noise.csv, degree: 5, ridge: 1}\n";
    let msg = problems(load_str(&text, Some(&dir.path().join("i.yaml"))));
    assert!(
        msg.contains("quantization.noise.fit") && msg.contains("max_noise_terms"),
        "{msg}"
    );
}

#[test]
fn duplicate_group_columns_are_refused_by_name() {
    let e = parse_samples("conv1,conv2,conv1,noise\n1,0,1,0.1\n", Path::new("s.csv")).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("s.csv") && msg.contains("column 'conv1' appears twice"),
        "{msg}"
    );
}

#[test]
fn a_1e308_rate_is_refused_with_its_field_path() {
    let text = default_text().replace("rate: 10\n", "rate: 1e308\n");
    let msg = problems(load_default(&text));
    assert!(msg.contains("tasks[0].rate: value 1e308"), "{msg}");
    assert!(msg.contains("more than 1e15"), "{msg}");
}

#[test]
fn tiny_speeds_and_bandwidths_are_refused_with_their_field_paths() {
    let text = default_text()
        .replace("speed: 2.0e9,", "speed: 1e-300,")
        .replace("bandwidth: 5.0e6,", "bandwidth: 1e-300,");
    let msg = problems(load_default(&text));
    assert!(
        msg.contains("network.nodes[0].speed: value 1e-300"),
        "{msg}"
    );
    assert!(
        msg.contains("network.links[0].bandwidth: value 1e-300"),
        "{msg}"
    );
}

#[test]
fn huge_flops_and_weights_are_refused_with_their_field_paths() {
    let dnn = std::fs::read_to_string("models/tiny-cnn.yaml").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tiny.yaml"),
        dnn.replace("flops: 2621440", "flops: 1e308"),
    )
    .unwrap();
    let text = default_text()
        .replace("../models/tiny-cnn.yaml", "tiny.yaml")
        .replace("weights: {time: 1.0,", "weights: {time: 1e300,");
    let msg = problems(load_str(&text, Some(&dir.path().join("i.yaml"))));
    assert!(
        msg.contains("tiny.yaml: layers[2].flops: value 1e308"),
        "{msg}"
    );
    assert!(msg.contains("objective.weights.time: value 1e300"), "{msg}");
}

#[test]
fn a_pipeline_with_a_vanishing_data_rate_is_refused() {
    let text = std::fs::read_to_string("instances/pipeline/mobilenet-unloaded.yaml")
        .unwrap()
        .replace("data_rate: 17.355e6", "data_rate: 1e-300");
    let e = edgesplit::pipeline::load_str(&text, Some(Path::new("p.yaml"))).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("data_rate: value 1e-300"), "{msg}");
    assert!(msg.contains("more than 1e15"), "{msg}");
}

fn edgesplit(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_edgesplit"))
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn a_1e308_time_limit_is_refused_by_the_cli() {
    for args in [
        &["solve", "instances/default.yaml", "--time-limit", "1e308"][..],
        &["compare", "instances/default.yaml", "--time-limit", "1e308"],
        &["solve", "instances/default.yaml", "--time-limit", "inf"],
        &["serve", "--max-time-limit", "1e308"],
    ] {
        let (code, out) = edgesplit(args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(
            out.contains("time-limit") && out.contains("at most 1e7"),
            "{args:?}: {out}"
        );
        assert!(!out.contains("panicked"), "{args:?}: {out}");
    }
}

#[test]
fn zero_threads_and_bad_gaps_are_refused_by_the_cli() {
    let (code, out) = edgesplit(&["solve", "instances/default.yaml", "--threads", "0"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("--threads") && out.contains("from 1 to 256"),
        "{out}"
    );
    let (code, out) = edgesplit(&["solve", "instances/default.yaml", "--gap", "NaN"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("--gap") && out.contains("finite number ≥ 0"),
        "{out}"
    );
}

#[test]
fn the_cli_refuses_oversized_instances_and_takes_raised_limits() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.yaml");
    std::fs::write(&p, instance("    - {name: big, count: 10000000}\n", 1, 1)).unwrap();
    let path = p.to_str().unwrap();
    let (code, out) = edgesplit(&["validate", path]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("--limits max_atoms=N"), "{out}");
    let (code, out) = edgesplit(&["validate", path, "--limits", "max_atoms=20"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("max_atoms = 20"), "{out}");
    let (code, out) = edgesplit(&["validate", path, "--limits", "atoms=20"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("unknown limit 'atoms'"), "{out}");
}

#[test]
fn fit_noise_refuses_duplicate_columns_and_oversized_fits() {
    let dir = tempfile::tempdir().unwrap();
    let dup = dir.path().join("dup.csv");
    std::fs::write(&dup, "a,b,a,noise\n1,0,1,0.1\n0,1,0,0.2\n").unwrap();
    let (code, out) = edgesplit(&["fit-noise", dup.to_str().unwrap(), "--degree", "1"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("column 'a' appears twice"), "{out}");
    let wide = dir.path().join("wide.csv");
    let header: Vec<String> = (0..40).map(|g| format!("g{g}")).collect();
    std::fs::write(
        &wide,
        format!(
            "{},noise\n{},0.1\n",
            header.join(","),
            vec!["0"; 40].join(",")
        ),
    )
    .unwrap();
    let (code, out) = edgesplit(&["fit-noise", wide.to_str().unwrap(), "--degree", "5"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("760098") && out.contains("--limits max_noise_terms=N"),
        "{out}"
    );
    let (code, out) = edgesplit(&[
        "sample-noise",
        "--synthetic",
        "--groups",
        &header.join(","),
        "--degree",
        "2",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("max_fit_bytes"), "2^40 rows: {out}");
}

/// An ONNX model: input x [1, 4] float, `ConstantOfShape(shape)` → c, and
/// `Add(x, c)` → y, with `shape` an int64 initializer.
fn constant_of_shape_model(shape: &[i64]) -> Vec<u8> {
    use prost::Message;
    use tract_onnx::pb;
    let value_info = |name: &str, dims: &[i64]| pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: pb::tensor_proto::DataType::Float as i32,
                shape: Some(pb::TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| pb::tensor_shape_proto::Dimension {
                            value: Some(pb::tensor_shape_proto::dimension::Value::DimValue(d)),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    };
    let node = |op: &str, inputs: &[&str], output: &str| pb::NodeProto {
        name: format!("{op}_node"),
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        ..Default::default()
    };
    let model = pb::ModelProto {
        ir_version: 7,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        graph: Some(pb::GraphProto {
            name: "g".into(),
            node: vec![
                node("ConstantOfShape", &["shape"], "c"),
                node("Add", &["x", "c"], "y"),
            ],
            initializer: vec![pb::TensorProto {
                name: "shape".into(),
                dims: vec![shape.len() as i64],
                data_type: pb::tensor_proto::DataType::Int64 as i32,
                int64_data: shape.to_vec(),
                ..Default::default()
            }],
            input: vec![value_info("x", &[1, 4])],
            output: vec![value_info("y", &[1, 4])],
            ..Default::default()
        }),
        ..Default::default()
    };
    model.encode_to_vec()
}

#[test]
fn onnx_constant_of_shape_with_huge_or_negative_dims_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (name, shape, want) in [
        (
            "huge.onnx",
            &[1_000_000_000i64, 1_000_000_000][..],
            "more than 268435456 elements",
        ),
        ("negative.onnx", &[-3, 4], "negative dimension -3"),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, constant_of_shape_model(shape)).unwrap();
        let r = std::panic::catch_unwind(|| edgesplit::onnx::import(&p, None));
        let e = r
            .unwrap_or_else(|_| panic!("{name} made the importer panic"))
            .expect_err("a huge or negative shape must be an error");
        let msg = format!("{e:#}");
        assert!(
            msg.contains(name) && msg.contains("ConstantOfShape") && msg.contains(want),
            "{msg}"
        );
    }
    // The same model with a small shape imports as far as the missing
    // compute layer: the check does not refuse sane shapes.
    let p = dir.path().join("small.onnx");
    std::fs::write(&p, constant_of_shape_model(&[1, 4])).unwrap();
    let msg = format!("{:#}", edgesplit::onnx::import(&p, None).unwrap_err());
    assert!(msg.contains("no compute operator"), "{msg}");
}

/// A complete network of `n` nodes as an instance (every ordered pair
/// linked, latencies that break the triangle inequality).
fn complete_network(n: usize, routing: &str) -> String {
    let mut s = format!(
        "version: 1\ndnn: {{input: {{name: in}}, layers: [], output: {{name: out}}}}\ntasks: [{{name: t, rate: 1, source: n0}}]\nnetwork:\n  routing: {routing}\n  nodes:\n"
    );
    for i in 0..n {
        s += &format!("    - {{name: n{i}, speed: 1e9, memory: 1e9}}\n");
    }
    s += "  links:\n";
    for k in 0..n {
        for h in (0..n).filter(|&h| h != k) {
            let lat = 0.001 * ((k * 7 + h * 13) % 50) as f64;
            let bw = 1e6 * (1 + (k * 3 + h * 5) % 1000) as f64;
            s += &format!("    - {{from: n{k}, to: n{h}, bandwidth: {bw}, latency: {lat}}}\n");
        }
    }
    s
}

/// The `min_time` route search needs searches per node pair whose
/// lowest-latency path is not the fastest per byte: on a complete network
/// of 120 nodes (17 s of searches, docs/benchmarks.md) that work, pairs ×
/// links, is refused at `network.links` in well under a second, naming
/// the limit and the work; `min_latency` loads it; a 30-node complete
/// network is inside the default; a lower limit refuses it, and the
/// server's refusal names its own option.
#[test]
fn a_dense_network_under_min_time_is_refused_before_the_route_search() {
    let t0 = std::time::Instant::now();
    let e = load_str(
        &complete_network(120, "min_time"),
        Some(Path::new("net.yaml")),
    )
    .unwrap_err()
    .to_string();
    assert!(t0.elapsed().as_secs_f64() < 2.0, "{:?}", t0.elapsed());
    assert!(
        e.contains(
            "net.yaml: network.links: the route search of `routing: min_time` over 14280 links"
        ) && e.contains("more than the limit max_routing_work = 25000000")
            && e.contains("`--limits max_routing_work=N`"),
        "{e}"
    );
    assert!(load_str(&complete_network(120, "min_latency"), None).is_ok());
    let small = complete_network(30, "min_time");
    assert!(load_str(&small, None).is_ok());
    let low = Limits {
        max_routing_work: 1000,
        for_server: true,
        ..Limits::default()
    };
    let opts = LoadOptions {
        limits: low,
        ..Default::default()
    };
    let e = load_str_with(&small, None, &opts).unwrap_err().to_string();
    assert!(
        e.contains("more than the limit max_routing_work = 1000")
            && e.contains("`edgesplit serve --limits max_routing_work=N`"),
        "{e}"
    );
    // A sparse network of many nodes is not refused: a chain of 400
    // nodes has one path per pair.
    let mut chain = complete_network(1, "min_time").replace("  links:\n", "");
    for i in 1..400 {
        chain += &format!("    - {{name: n{i}, speed: 1e9, memory: 1e9}}\n");
    }
    chain += "  links:\n";
    for i in 1..400 {
        chain += &format!(
            "    - {{from: n{}, to: n{i}, bandwidth: 1e6, latency: 0.001, symmetric: true}}\n",
            i - 1
        );
    }
    assert!(load_str(&chain, None).is_ok());
}
