//! The ONNX importer against published cost figures of real architectures.
//!
//! The fixtures in `tests/fixtures/` are the project's copies of
//! `light_*.onnx` models: real graphs whose weights are `ConstantOfShape`
//! placeholders, so shapes (and hence costs) are real while files are small.

use std::path::{Path, PathBuf};

use edgesplit::onnx::{import, import_to_yaml, Granularity};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn assert_close(what: &str, got: f64, want: f64, tol: f64) {
    let rel = (got - want).abs() / want;
    assert!(
        rel <= tol,
        "{what}: got {got:.4e}, expected {want:.4e} within {:.0}% (off by {:.2}%)",
        tol * 100.0,
        rel * 100.0
    );
}

// AlexNet (the BVLC/Caffe variant, with grouped convolutions) on Caffe's
// 227x227 crop (the ONNX file declares 224x224): 0.72 GMAC
// and 61.0 M parameters. Source: S. Albanie, "convnet-burden" (estimates of
// memory and compute of common CNNs, github.com/albanie/convnet-burden),
// row "alexnet": 727 MFLOPs counted as multiply-adds, 233 MB of f32
// parameters = 61.0 M; the parameter count also matches Krizhevsky et al.,
// NIPS 2012 ("60 million parameters").
#[test]
fn alexnet_costs() {
    let imp = import(&fixture("light_bvlc_alexnet.onnx"), Some(&[1, 3, 227, 227])).unwrap();
    assert_close("AlexNet MAC", imp.total_macs(), 0.72e9, 0.05);
    assert_close("AlexNet parameters", imp.total_params(), 60.97e6, 0.01);
}

// VGG-19: 19.63 GMAC ("GFLOPS" column, which counts multiply-adds) and
// 143,667,240 parameters. Source: torchvision model documentation,
// VGG19_Weights.IMAGENET1K_V1 (pytorch.org/vision/stable/models.html).
#[test]
fn vgg19_costs() {
    let imp = import(&fixture("light_vgg19.onnx"), Some(&[1, 3, 224, 224])).unwrap();
    assert_close("VGG-19 MAC", imp.total_macs(), 19.63e9, 0.05);
    assert_close("VGG-19 parameters", imp.total_params(), 143_667_240.0, 0.01);
}

// ResNet-50: 4.09 GMAC and 25,557,032 parameters. Source: torchvision
// model documentation, ResNet50_Weights.IMAGENET1K_V1; He et al., CVPR 2016,
// Table 1, gives 3.8e9 "FLOPs" (multiply-adds) for the same network.
#[test]
fn resnet50_costs() {
    let imp = import(&fixture("light_resnet50.onnx"), Some(&[1, 3, 224, 224])).unwrap();
    assert_close("ResNet-50 MAC", imp.total_macs(), 4.09e9, 0.05);
    assert_close(
        "ResNet-50 parameters",
        imp.total_params(),
        25_557_032.0,
        0.01,
    );
    // Skip connections are kept: some layer has more than one input.
    assert!(imp.layers.iter().any(|l| l.inputs.len() > 1));
}

fn load_through_instance(yaml: &str) -> edgesplit::Instance {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("net.yaml"), yaml).unwrap();
    let inst = "version: 1\n\
        name: onnx-import-test\n\
        dnn: {file: net.yaml}\n\
        network:\n  nodes:\n    - {name: device, speed: 1.0e12, memory: 1.0e12}\n\
        tasks:\n  - {name: t, rate: 1, source: device}\n";
    let path = dir.path().join("inst.yaml");
    std::fs::write(&path, inst).unwrap();
    edgesplit::load(&path).unwrap_or_else(|e| panic!("imported DNN does not load: {e}\n{yaml}"))
}

#[test]
fn imported_yaml_loads_as_dag() {
    for (file, gran) in [
        ("light_resnet50.onnx", Granularity::Layer),
        ("light_squeezenet.onnx", Granularity::Layer),
        ("light_bvlc_alexnet.onnx", Granularity::Filter),
    ] {
        let (yaml, imp) =
            import_to_yaml(&fixture(file), gran, Some(&[1, 3, 224, 224]), "net", "test").unwrap();
        let inst = load_through_instance(&yaml);
        let want_atoms: u64 = imp
            .layers
            .iter()
            .map(|l| match (gran, l.out_channels) {
                (Granularity::Filter, Some(c)) if c > 1 => c,
                _ => 1,
            })
            .sum();
        assert!(
            inst.dnn.atoms.len() as u64 >= want_atoms,
            "{file}: {} atoms, expected at least {want_atoms}",
            inst.dnn.atoms.len()
        );
        // Filter granularity divides costs but keeps the totals.
        let flops: f64 = inst.dnn.atoms.iter().map(|a| a.flops).sum();
        assert_close(&format!("{file} FLOP"), flops, 2.0 * imp.total_macs(), 1e-6);
    }
}

#[test]
fn corrupt_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("light_vgg19.onnx")).unwrap();
    let truncated = dir.path().join("truncated.onnx");
    std::fs::write(&truncated, &good[..good.len() / 3]).unwrap();
    let garbage = dir.path().join("garbage.onnx");
    std::fs::write(&garbage, b"this is not a protobuf \xff\xfe\x00\x01").unwrap();
    let missing = dir.path().join("missing.onnx");
    for p in [&truncated, &garbage, &missing] {
        let r = std::panic::catch_unwind(|| import(p, Some(&[1, 3, 224, 224])));
        let r = r.unwrap_or_else(|_| panic!("{} made the importer panic", p.display()));
        let e = r.expect_err("a corrupt file must be an error");
        let msg = format!("{e:#}");
        assert!(
            msg.contains(&*p.file_name().unwrap().to_string_lossy()),
            "error does not name the file: {msg}"
        );
    }
}

/// Minimal protobuf writer, enough for a one-node ONNX model.
fn field(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    varint(out, number << 3 | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn int_field(out: &mut Vec<u8>, number: u64, v: u64) {
    varint(out, number << 3);
    varint(out, v);
}

/// ModelProto { ir_version 7, opset 13, graph { node FrobnicateNd "weird" x -> y } }.
fn model_with_unknown_op() -> Vec<u8> {
    let mut node = Vec::new();
    field(&mut node, 1, b"x"); // input
    field(&mut node, 2, b"y"); // output
    field(&mut node, 3, b"weird"); // name
    field(&mut node, 4, b"FrobnicateNd"); // op_type
    let value_info = |name: &[u8]| {
        let mut dim = Vec::new();
        int_field(&mut dim, 1, 4); // dim_value
        let mut shape = Vec::new();
        field(&mut shape, 1, &dim);
        let mut tensor = Vec::new();
        int_field(&mut tensor, 1, 1); // elem_type FLOAT
        field(&mut tensor, 2, &shape);
        let mut ty = Vec::new();
        field(&mut ty, 1, &tensor);
        let mut vi = Vec::new();
        field(&mut vi, 1, name);
        field(&mut vi, 2, &ty);
        vi
    };
    let mut graph = Vec::new();
    field(&mut graph, 1, &node);
    field(&mut graph, 2, b"g"); // name
    field(&mut graph, 11, &value_info(b"x"));
    field(&mut graph, 12, &value_info(b"y"));
    let mut opset = Vec::new();
    int_field(&mut opset, 2, 13);
    let mut model = Vec::new();
    int_field(&mut model, 1, 7);
    field(&mut model, 7, &graph);
    field(&mut model, 8, &opset);
    model
}

#[test]
fn unsupported_operator_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("unknown_op.onnx");
    std::fs::write(&p, model_with_unknown_op()).unwrap();
    let e = import(&p, None).expect_err("an unknown operator must be an error");
    let msg = format!("{e:#}");
    assert!(
        msg.contains("FrobnicateNd") && msg.contains("weird"),
        "error does not name the operator and node: {msg}"
    );
}

#[test]
fn annotations_mark_layers_mandatory_and_quantize_the_costliest() {
    use edgesplit::onnx::{annotate, to_raw, Annotations};
    let imp = import(&fixture("light_bvlc_alexnet.onnx"), Some(&[1, 3, 224, 224])).unwrap();
    let mut raw = to_raw(&imp, Granularity::Layer, "alexnet", "test");
    annotate(
        &mut raw,
        Annotations {
            mandatory: true,
            quant_groups: 3,
        },
    )
    .unwrap();
    assert!(raw.layers.iter().all(|l| l.mandatory == Some(true)));
    let flops = |l: &edgesplit::instance::raw::RawLayer| l.flops.unwrap();
    let mut all: Vec<f64> = raw.layers.iter().map(flops).collect();
    all.sort_by(|a, b| b.total_cmp(a));
    let grouped: Vec<&edgesplit::instance::raw::RawLayer> =
        raw.layers.iter().filter(|l| l.group.is_some()).collect();
    assert_eq!(grouped.len(), 3);
    for l in &grouped {
        assert!(
            flops(l) >= all[2],
            "{} is not among the 3 costliest",
            l.name
        );
        assert_eq!(l.group.as_deref(), Some(format!("q_{}", l.name).as_str()));
    }
    // A tie at the last rank is refused with both layers named.
    let mut tied = to_raw(&imp, Granularity::Layer, "alexnet", "test");
    let (a, b) = (tied.layers[0].name.clone(), tied.layers[1].name.clone());
    for l in &mut tied.layers {
        l.flops = Some(if l.name == a || l.name == b { 9e9 } else { 1.0 });
    }
    let err = annotate(
        &mut tied,
        Annotations {
            mandatory: false,
            quant_groups: 1,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains(&a) && err.contains(&b), "{err}");
    let err = annotate(
        &mut tied,
        Annotations {
            mandatory: false,
            quant_groups: 99,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("--quant-groups 99"), "{err}");
}
