//! The papers' scenarios built around a real DNN file (`edgesplit scenario`).
//!
//! `tide` writes the evaluation setting of the TIDE paper (Malandrino et al.,
//! 2026, §IV-A) for a filter-level network: tasks with Zipf popularity, a
//! centralized node that runs the whole network in a given time, a common
//! delay limit and one instance per quality target. What the paper does not
//! give (node speeds besides the central one, memories, prices, relevance
//! scores, accuracy curves) follows documented, seeded rules; every file
//! says so in its description.
//!
//! `mtl-split` writes the MTL-Split setting (Capogrosso et al., 2024, Sec. 4.2): an
//! EfficientNet-B0 backbone and one MLP head per FACES task, on a Jetson
//! Nano and a remote server, for two and three tasks, with and without the
//! heads-on-server rule. `split-quant` writes the quantization-aware split
//! setting (Nicosanti, 2025) around a layer-level DNN with quantization groups:
//! device, edge and cloud, one instance per noise-regressor degree, the
//! regressor fitted at load to a samples file. Their fixed numbers are
//! explained in instances/mtl-split/README.md and
//! instances/split-quant/README.md.

use crate::error::{Error, Result};
use crate::generate::round3;
use crate::instance::raw::*;
use crate::instance::Instance;
use indexmap::IndexMap;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

/// Parameters of the TIDE scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct TideParams {
    /// The DNN file (filter granularity), e.g. models/tide-alexnet-cifar100.yaml.
    #[arg(long)]
    pub dnn: PathBuf,
    /// Quality targets q_min, one instance each.
    #[arg(long, value_delimiter = ',', default_value = "0.5,0.6,0.7")]
    pub q_min: Vec<f64>,
    /// Tasks.
    #[arg(long, default_value_t = 10)]
    pub tasks: usize,
    /// Zipf shape of task popularity.
    #[arg(long, default_value_t = 2.0)]
    pub zipf: f64,
    /// Requests per second over all tasks.
    #[arg(long, default_value_t = 10.0)]
    pub total_rate: f64,
    /// Seconds the central node takes for one inference of the whole DNN.
    #[arg(long, default_value_t = 0.05)]
    pub central_time: f64,
    /// Delay limit of every task, seconds.
    #[arg(long, default_value_t = 0.2)]
    pub max_delay: f64,
    /// Random seed of the relevance scores, accuracy curves and popularity ranks.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder: `relevance.csv` and one `tide-q<q_min>.yaml` per target.
    #[arg(long)]
    pub out_dir: PathBuf,
}

/// The four nodes: (name, speed relative to the central node, memory
/// relative to the DNN's parameter bytes, compute price per FLOP relative to
/// the central node, watts).
const NODES: [(&str, f64, f64, f64, f64); 4] = [
    ("device", 0.2, 0.25, 0.5, 3.0),
    ("edge1", 0.5, 0.75, 0.8, 30.0),
    ("edge2", 0.5, 0.75, 0.8, 30.0),
    ("cloud", 1.0, 16.0, 1.0, 250.0),
];

/// Price of a byte sent over any link, in cost units (one unit = one
/// inference of the whole DNN on the central node).
const LINK_PRICE_PER_BYTE: f64 = 1e-6;

/// Writes the TIDE instances and their shared relevance file; returns the
/// paths written.
pub fn write_tide(p: &TideParams) -> Result<Vec<PathBuf>> {
    let dnn = load_dnn(&p.dnn)?;
    check_tide_params(p)?;
    std::fs::create_dir_all(&p.out_dir)
        .map_err(|e| Error::Other(format!("creating {}: {e}", p.out_dir.display())))?;
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let task_names: Vec<String> = (1..=p.tasks).map(|t| format!("t{t}")).collect();
    let csv = tide_relevance_csv(&dnn.dnn, &task_names, &mut rng);
    let csv_path = p.out_dir.join("relevance.csv");
    std::fs::write(&csv_path, csv)
        .map_err(|e| Error::Other(format!("writing {}: {e}", csv_path.display())))?;
    let (rates, tops) = tide_popularity(p, &mut rng);
    let kit = TideKit {
        p,
        dnn_name: &dnn.dnn_name,
        dnn_ref: relative_path(&p.dnn, &p.out_dir)?,
        network: tide_network(&dnn.dnn, p.central_time),
        task_names,
        rates,
        tops,
    };
    let mut written = vec![csv_path];
    for &q in &p.q_min {
        written.push(kit.write_instance(q)?);
    }
    Ok(written)
}

/// Checks the counts, times and quality targets of the TIDE scenario.
fn check_tide_params(p: &TideParams) -> Result<()> {
    if p.tasks == 0
        || p.central_time.is_nan()
        || p.central_time <= 0.0
        || p.max_delay.is_nan()
        || p.max_delay <= 0.0
    {
        return Err(Error::Other(
            "scenario tide: --tasks, --central-time and --max-delay must be positive".into(),
        ));
    }
    for &q in &p.q_min {
        if !(0.0..=1.0).contains(&q) {
            return Err(Error::Other(format!(
                "scenario tide: --q-min {q} is not in [0, 1]"
            )));
        }
    }
    Ok(())
}

/// The relevance file of the TIDE scenario (shared filters early,
/// task-specific ones deeper); returns its CSV text.
fn tide_relevance_csv(
    dnn: &crate::dnn::Dnn,
    task_names: &[String],
    rng: &mut ChaCha8Rng,
) -> String {
    let atoms = &dnn.atoms;
    let compute: Vec<usize> = (0..atoms.len()).filter(|&a| !dnn.is_endpoint(a)).collect();
    let mut layer_width: IndexMap<&str, usize> = IndexMap::new();
    for &a in &compute {
        *layer_width.entry(atoms[a].layer.as_str()).or_default() += 1;
    }
    // Depth runs over the multi-atom (filter) layers only: the first is
    // the most generic, the last the most task-specific.
    let filter_levels = || {
        compute
            .iter()
            .filter(|&&a| layer_width[atoms[a].layer.as_str()] > 1)
            .map(|&a| atoms[a].level)
    };
    let min_level = filter_levels().min().unwrap_or(1);
    let max_level = filter_levels().max().unwrap_or(1);
    let mut csv = String::from("atom,task,score\n");
    for &a in &compute {
        let atom = &atoms[a];
        if layer_width[atom.layer.as_str()] == 1 {
            // A single-atom (dense) layer serves every task.
            for t in task_names {
                csv.push_str(&format!("{},{t},1\n", atom.id));
            }
            continue;
        }
        let base: f64 = rng.gen_range(0.2..1.0);
        let depth = if max_level > min_level {
            (atom.level - min_level) as f64 / (max_level - min_level) as f64
        } else {
            0.0
        };
        let shared_p = (0.9 - 0.7 * depth.min(1.0)).clamp(0.0, 1.0);
        let owner = (!rng.gen_bool(shared_p)).then(|| rng.gen_range(0..task_names.len()));
        for (t, name) in task_names.iter().enumerate() {
            let s = match owner {
                Some(o) if o != t => 0.02 * base,
                _ => base,
            };
            csv.push_str(&format!("{},{name},{:.4}\n", atom.id, s));
        }
    }
    csv
}

/// Task popularity, Zipf over a seeded random ranking, and the best
/// accuracy of each task (around AlexNet's ≈ 0.70 on CIFAR-100); returns
/// (rates, best accuracies).
fn tide_popularity(p: &TideParams, rng: &mut ChaCha8Rng) -> (Vec<f64>, Vec<f64>) {
    let mut ranks: Vec<usize> = (1..=p.tasks).collect();
    ranks.shuffle(rng);
    let norm: f64 = (1..=p.tasks).map(|k| (k as f64).powf(-p.zipf)).sum();
    let rates: Vec<f64> = ranks
        .iter()
        .map(|&k| sig4(p.total_rate * (k as f64).powf(-p.zipf) / norm))
        .collect();
    let tops: Vec<f64> = (0..p.tasks)
        .map(|_| round3(rng.gen_range(0.70..0.74)))
        .collect();
    (rates, tops)
}

/// The TIDE network, where the central node runs the whole DNN in
/// `central_time`; returns its nodes and links.
fn tide_network(dnn: &crate::dnn::Dnn, central_time: f64) -> RawNetwork {
    let total_flops = dnn.total_flops();
    let total_params = dnn.total_param_bytes();
    let central_speed = total_flops / central_time;
    let flop_price = 1.0 / total_flops;
    let nodes: Vec<RawNode> = NODES
        .iter()
        .map(|&(name, speed, memory, price, power)| RawNode {
            kind: None,
            name: name.into(),
            speed: sig4(central_speed * speed),
            memory: (total_params * memory).ceil(),
            power: Some(power),
            // price per second = price per FLOP × FLOP per second
            price: Some(sig4(flop_price * price * central_speed * speed)),
            quant_speedup: None,
            max_utilization: None,
            max_power: None,
        })
        .collect();
    let link = |from: &str, to: &str, bw: f64, lat: f64, power: f64| RawLink {
        from: from.into(),
        to: to.into(),
        bandwidth: bw,
        latency: Some(lat),
        power: Some(power),
        price: Some(LINK_PRICE_PER_BYTE),
        symmetric: Some(true),
    };
    let links = vec![
        link("device", "edge1", 12.5e6, 0.005, 0.5),
        link("device", "edge2", 12.5e6, 0.005, 0.5),
        link("edge1", "edge2", 125e6, 0.002, 1.0),
        link("edge1", "cloud", 125e6, 0.02, 1.0),
        link("edge2", "cloud", 125e6, 0.02, 1.0),
    ];
    RawNetwork {
        nodes,
        links,
        routing: None,
        latency_energy: None,
    }
}

/// What the TIDE instances share: everything but the quality target.
struct TideKit<'a> {
    p: &'a TideParams,
    dnn_name: &'a str,
    /// The DNN file relative to the output folder.
    dnn_ref: String,
    network: RawNetwork,
    task_names: Vec<String>,
    rates: Vec<f64>,
    tops: Vec<f64>,
}

impl TideKit<'_> {
    /// The tasks, each with quality target `q`.
    fn tasks(&self, q: f64) -> Vec<RawTask> {
        let tops = &self.tops;
        self.task_names
            .iter()
            .enumerate()
            .map(|(t, name)| RawTask {
                name: name.clone(),
                rate: self.rates[t],
                dnn: None,
                source: "device".into(),
                sink: None,
                max_delay: Some(self.p.max_delay),
                min_quality: Some(q),
                quality: Some(RawQuality {
                    curve: Some(vec![
                        (0.0, 0.0),
                        (0.4, round3(0.85 * tops[t])),
                        (0.7, round3(0.97 * tops[t])),
                        (1.0, tops[t]),
                    ]),
                    noise_sensitivity: None,
                }),
                relevance: None,
            })
            .collect()
    }

    /// Writes and checks the instance of quality target `q`; returns its
    /// path.
    fn write_instance(&self, q: f64) -> Result<PathBuf> {
        let p = self.p;
        let name = format!("tide-q{q:.2}").replace('.', "");
        let raw = RawInstance {
            name: Some(name.clone()),
            description: Some(format!(
                "TIDE scenario (Malandrino et al., 2026, section IV-A) on {}: {} tasks, Zipf {} popularity, \
                 central node {} s per inference, delay limit {} s, q_min {q}. Relevance scores, \
                 accuracy curves and the non-central nodes are ASSUMED (edgesplit scenario tide, \
                 seed {}), not measured.",
                self.dnn_name, p.tasks, p.zipf, p.central_time, p.max_delay, p.seed
            )),
            dnn: Some(RawDnnRef::File {
                file: self.dnn_ref.clone(),
            }),
            network: self.network.clone(),
            tasks: self.tasks(q),
            relevance_file: Some("relevance.csv".into()),
            objective: Some(RawObjective {
                weights: Some(RawWeights {
                    time: Some(0.0),
                    energy: Some(0.0),
                    cost: Some(1.0),
                }),
                normalization: None,
            }),
            delay_model: Some("sequential".into()),
            ..RawInstance::default()
        };
        let path = p.out_dir.join(format!("{name}.yaml"));
        write_yaml(&raw, &path)?;
        // Every written instance must load.
        crate::instance::load(&path)?;
        Ok(path)
    }
}

/// The DNN of a file, loaded through a throw-away instance so that it is
/// validated exactly as an instance's `dnn.file` would be (with an empty
/// `quantization` section, so that every group the DNN names is listed).
pub struct LoadedDnn {
    /// The DNN.
    pub dnn: crate::dnn::Dnn,
    /// Its name.
    pub dnn_name: String,
    /// The quantization groups the DNN names.
    pub groups: Vec<String>,
}

/// Loads and validates a DNN file on its own (see [`LoadedDnn`]).
pub fn load_dnn(path: &Path) -> Result<LoadedDnn> {
    let abs = std::fs::canonicalize(path)
        .map_err(|e| Error::Other(format!("--dnn {}: {e}", path.display())))?;
    let text = format!(
        "version: 1\ndnn: {{file: {:?}}}\nnetwork: {{nodes: [{{name: n, speed: 1, memory: 1}}]}}\ntasks: [{{name: t, rate: 1, source: n}}]\nquantization: {{}}\n",
        abs.display().to_string()
    );
    let inst: Instance = crate::instance::load_str(&text, None)?;
    Ok(LoadedDnn {
        dnn_name: inst.dnn.name.clone(),
        groups: inst.quantization.groups,
        dnn: inst.dnn,
    })
}

/// `target` relative to the folder `from` (both made absolute first).
fn relative_path(target: &Path, from: &Path) -> Result<String> {
    let t = std::fs::canonicalize(target)
        .map_err(|e| Error::Other(format!("{}: {e}", target.display())))?;
    let f = std::fs::canonicalize(from)
        .map_err(|e| Error::Other(format!("{}: {e}", from.display())))?;
    let tc: Vec<_> = t.components().collect();
    let fc: Vec<_> = f.components().collect();
    let common = tc.iter().zip(&fc).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..fc.len() {
        rel.push("..");
    }
    for c in &tc[common..] {
        rel.push(c);
    }
    Ok(rel.to_string_lossy().replace('\\', "/"))
}

/// Four significant digits.
fn sig4(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    // Through the decimal form, so that the YAML shows the short number.
    format!("{x:.3e}")
        .parse()
        .expect("a formatted float parses")
}

/// The backbones of MTL-Split's Table 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MtlBackbone {
    /// EfficientNet-B0 (Table 4, second row; the backbone of the latency claim).
    #[value(name = "efficientnet-b0")]
    EfficientNetB0,
    /// MobileNetV3-Small (Table 4, first row).
    #[value(name = "mobilenet-v3-small")]
    MobileNetV3Small,
}

/// What the scenario takes from one Table 4 row and from Table 3.
struct BackboneSpec {
    /// Name in descriptions.
    label: &'static str,
    /// File-name stem of the DNN files.
    stem: &'static str,
    /// Prefix of the instance names after `mtl-split` ("" for the default).
    name_prefix: &'static str,
    /// The README that explains the numbers.
    readme: &'static str,
    /// Default FLOP, memory and `Z_b` bytes.
    flops: f64,
    bytes: f64,
    zb_bytes: f64,
    /// Table 3, FACES: single-task accuracy of T1, T2, T3.
    stl: [f64; 3],
    /// Table 3, FACES: multi-task accuracy of each task of each set of
    /// [`MTL_TASK_SETS`], in the set's order.
    mtl: [&'static [f64]; 2],
}

impl MtlBackbone {
    fn spec(self) -> BackboneSpec {
        match self {
            MtlBackbone::EfficientNetB0 => BackboneSpec {
                label: "EfficientNet-B0",
                stem: "efficientnet-b0",
                name_prefix: "",
                readme: "instances/mtl-split/README.md",
                flops: 7.8e8,
                bytes: 3_635_979_223.0,
                zb_bytes: 1_635_779.0,
                stl: [0.9976, 0.9976, 0.9463],
                mtl: [&[1.0, 0.9561], &[1.0, 1.0, 0.9561]],
            },
            MtlBackbone::MobileNetV3Small => BackboneSpec {
                label: "MobileNetV3-Small",
                stem: "mobilenet-v3-small",
                name_prefix: "-mobilenet-v3-small",
                readme: "instances/mtl-split-mobilenetv3/README.md",
                flops: 1.12e8,
                bytes: 763_006_812.0,
                zb_bytes: 220_201.0,
                stl: [0.9707, 0.9951, 0.9512],
                mtl: [&[0.9951, 0.9512], &[0.9927, 0.9951, 0.9585]],
            },
        }
    }
}

/// Parameters of the MTL-Split scenario (Capogrosso et al., 2024, Capogrosso et al.,
/// DAC'24, Sec. 4.2). The defaults are the paper's numbers and the
/// documented assumptions of instances/mtl-split/README.md (EfficientNet-B0)
/// and instances/mtl-split-mobilenetv3/README.md (MobileNetV3-Small).
#[derive(Debug, Clone, clap::Args)]
pub struct MtlSplitParams {
    /// The backbone: its Table 4 sizes and Table 3 accuracies are the defaults.
    #[arg(long, value_enum, default_value = "efficientnet-b0")]
    pub backbone: MtlBackbone,
    /// Bytes of the input image: 2835 x 3543 x 3 float32 (paper: "≈ 115 MB").
    #[arg(long, default_value_t = 120_532_860.0)]
    pub image_bytes: f64,
    /// FLOP of the backbone, one atom (assumed; default: 2 x 0.39 GMAC for
    /// EfficientNet-B0, 2 x 56 MMAC for MobileNetV3-Small).
    #[arg(long)]
    pub backbone_flops: Option<f64>,
    /// Memory of the backbone in bytes (Table 4, "M_b estimated size";
    /// default: 3467.54 MiB for EfficientNet-B0, 727.66 MiB for MobileNetV3-Small).
    #[arg(long)]
    pub backbone_bytes: Option<f64>,
    /// Bytes of the backbone's output Z_b (Table 4, "Z_b size"; default:
    /// 1.56 MiB for EfficientNet-B0, 0.21 MiB for MobileNetV3-Small).
    #[arg(long)]
    pub zb_bytes: Option<f64>,
    /// Hidden width of every head's Linear-ReLU-Linear (assumed: the authors' code default).
    #[arg(long, default_value_t = 256)]
    pub hidden: u64,
    /// Device speed, FLOP/s (Jetson Nano FP32 peak).
    #[arg(long, default_value_t = 2.359296e11)]
    pub device_speed: f64,
    /// Device memory, bytes (Jetson Nano, 4 GiB).
    #[arg(long, default_value_t = 4_294_967_296.0)]
    pub device_memory: f64,
    /// Server speed, FLOP/s (one RTX 3090, FP32 peak; assumed).
    #[arg(long, default_value_t = 3.558e13)]
    pub server_speed: f64,
    /// Server memory, bytes (24 GiB; assumed).
    #[arg(long, default_value_t = 25_769_803_776.0)]
    pub server_memory: f64,
    /// Bandwidth of the device-server link, both ways, bytes/s (1 Gbit/s).
    #[arg(long, default_value_t = 1.25e8)]
    pub bandwidth: f64,
    /// Latency of the device-server link, seconds per transfer.
    #[arg(long, default_value_t = 0.0)]
    pub latency: f64,
    /// Requests per second of every task (assumed: one image every 4 s).
    #[arg(long, default_value_t = 0.25)]
    pub rate: f64,
    /// Output folder: the four DNN files and the six instances.
    #[arg(long)]
    pub out_dir: PathBuf,
}

/// The FACES tasks (paper, Sec. 4 "Datasets"): (name, paper label,
/// classes). Their accuracies (Table 3) are in [`BackboneSpec`].
const FACES_TASKS: [(&str, &str, u64); 3] = [
    ("ages", "T1", 3),
    ("genders", "T2", 2),
    ("expressions", "T3", 3),
];

/// The task sets of the paper's FACES experiments, as indices into
/// [`FACES_TASKS`]: T1+T3 and T1+T2+T3.
const MTL_TASK_SETS: [&[usize]; 2] = [&[0, 2], &[0, 1, 2]];

/// Bytes per float32 element.
const F32: f64 = 4.0;

/// Serializes `value` without nulls to `path`.
fn write_yaml<T: serde::Serialize>(value: &T, path: &Path) -> Result<()> {
    let mut value = serde_yaml::to_value(value).expect("raw data serializes");
    crate::onnx::drop_nulls(&mut value);
    let text = serde_yaml::to_string(&value).expect("a YAML value serializes");
    std::fs::write(path, text).map_err(|e| Error::Other(format!("writing {}: {e}", path.display())))
}

fn check_positive(scenario: &str, flag: &str, x: f64) -> Result<()> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(Error::Other(format!(
            "scenario {scenario}: {flag} {x} is not allowed: expected a finite number > 0"
        )))
    }
}

fn check_non_negative(scenario: &str, flag: &str, x: f64) -> Result<()> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(Error::Other(format!(
            "scenario {scenario}: {flag} {x} is not allowed: expected a finite number ≥ 0"
        )))
    }
}

fn create_out_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Other(format!("creating {}: {e}", dir.display())))
}

/// Writes the MTL-Split DNN files (`<backbone>-{2,3}heads.yaml`, and
/// `<backbone>-{2,3}tasks-loc.yaml` for local-only computing) and instances
/// (`{2,3}tasks.yaml`, the `*-free-heads.yaml` variants without the
/// heads-on-server rule, and `{2,3}tasks-loc.yaml`); returns the paths
/// written.
pub fn write_mtl_split(p: &MtlSplitParams) -> Result<Vec<PathBuf>> {
    let kit = MtlKit::new(p)?;
    create_out_dir(&p.out_dir)?;
    let mut written = Vec::new();
    for (set, mtl) in MTL_TASK_SETS.iter().zip(kit.bb.mtl) {
        let set = MtlSet::new(&kit.bb, set, mtl);
        written.push(kit.write_heads_dnn(&set)?);
        written.extend(kit.write_heads_instances(&set)?);
        written.extend(kit.write_loc(&set)?);
    }
    Ok(written)
}

/// What every file of the MTL-Split scenario shares: the checked sizes,
/// the network, the input image and the objective.
struct MtlKit<'a> {
    p: &'a MtlSplitParams,
    bb: BackboneSpec,
    backbone_flops: f64,
    backbone_bytes: f64,
    zb_bytes: f64,
    /// Elements of the flattened `Z_b`, the heads' input width.
    width: f64,
    hidden: f64,
    nodes: Vec<RawNode>,
    links: Vec<RawLink>,
    image: RawEndpoint,
    objective: RawObjective,
}

/// One FACES task set: its tasks with their single-task accuracy, their
/// paper labels joined by `+` and their multi-task accuracies.
struct MtlSet {
    n: usize,
    tasks: Vec<((&'static str, &'static str, u64), f64)>,
    labels: String,
    mtl: &'static [f64],
}

impl MtlSet {
    /// The set of task indices `set` of backbone `bb`.
    fn new(bb: &BackboneSpec, set: &[usize], mtl: &'static [f64]) -> MtlSet {
        let tasks: Vec<_> = set.iter().map(|&i| (FACES_TASKS[i], bb.stl[i])).collect();
        let labels = tasks.iter().map(|t| t.0 .1).collect::<Vec<_>>().join("+");
        MtlSet {
            n: set.len(),
            tasks,
            labels,
            mtl,
        }
    }

    /// The DNN output: the logits of every head.
    fn logits(&self) -> RawEndpoint {
        RawEndpoint {
            name: "logits".into(),
            out_bytes: None,
            inputs: Some(
                self.tasks
                    .iter()
                    .map(|t| format!("{}_fc2", t.0 .0))
                    .collect(),
            ),
        }
    }
}

impl<'a> MtlKit<'a> {
    /// Checks the parameters; returns the shared parts.
    fn new(p: &'a MtlSplitParams) -> Result<MtlKit<'a>> {
        let s = "mtl-split";
        let bb = p.backbone.spec();
        let backbone_flops = p.backbone_flops.unwrap_or(bb.flops);
        let backbone_bytes = p.backbone_bytes.unwrap_or(bb.bytes);
        let zb_bytes = p.zb_bytes.unwrap_or(bb.zb_bytes);
        check_positive(s, "--image-bytes", p.image_bytes)?;
        check_positive(s, "--backbone-flops", backbone_flops)?;
        check_non_negative(s, "--backbone-bytes", backbone_bytes)?;
        check_positive(s, "--zb-bytes", zb_bytes)?;
        check_positive(s, "--hidden", p.hidden as f64)?;
        check_positive(s, "--device-speed", p.device_speed)?;
        check_positive(s, "--device-memory", p.device_memory)?;
        check_positive(s, "--server-speed", p.server_speed)?;
        check_positive(s, "--server-memory", p.server_memory)?;
        check_positive(s, "--bandwidth", p.bandwidth)?;
        check_non_negative(s, "--latency", p.latency)?;
        check_positive(s, "--rate", p.rate)?;
        Ok(MtlKit {
            p,
            bb,
            backbone_flops,
            backbone_bytes,
            zb_bytes,
            width: (zb_bytes / F32).round(),
            hidden: p.hidden as f64,
            nodes: mtl_nodes(p),
            links: vec![RawLink {
                from: "device".into(),
                to: "server".into(),
                bandwidth: p.bandwidth,
                latency: Some(p.latency),
                power: None,
                price: None,
                symmetric: Some(true),
            }],
            image: RawEndpoint {
                name: "image".into(),
                out_bytes: Some(p.image_bytes),
                inputs: None,
            },
            objective: RawObjective {
                weights: Some(RawWeights {
                    time: Some(1.0),
                    energy: None,
                    cost: None,
                }),
                normalization: Some(RawNormalization::Named("none".into())),
            },
        })
    }

    /// The first layer of a head: Linear(Z_b flattened -> hidden), fed by
    /// `from`, float32 weights and tensors.
    fn fc1(&self, task: &str, from: &str) -> RawLayer {
        let (width, hidden) = (self.width, self.hidden);
        RawLayer {
            name: format!("{task}_fc1"),
            count: None,
            flops: Some(2.0 * width * hidden),
            param_bytes: Some((width * hidden + hidden) * F32),
            out_bytes: Some(hidden * F32),
            group: None,
            mandatory: None,
            inputs: Some(vec![from.into()]),
            atoms: None,
        }
    }

    /// The second layer of a head: ReLU - Linear(hidden -> classes).
    fn fc2(&self, task: &str, classes: u64) -> RawLayer {
        let hidden = self.hidden;
        let c = classes as f64;
        RawLayer {
            name: format!("{task}_fc2"),
            count: None,
            flops: Some(2.0 * hidden * c),
            param_bytes: Some((hidden * c + c) * F32),
            out_bytes: Some(c * F32),
            group: None,
            mandatory: None,
            inputs: None,
            atoms: None,
        }
    }

    /// The backbone: one atom; `inputs` names the image for the per-task
    /// copies of the local-only network, which follow other layers.
    fn backbone(&self, name: String, mandatory: bool, from_image: bool) -> RawLayer {
        RawLayer {
            name,
            count: None,
            flops: Some(self.backbone_flops),
            param_bytes: Some(self.backbone_bytes),
            out_bytes: Some(self.zb_bytes),
            group: None,
            mandatory: mandatory.then_some(true),
            inputs: from_image.then(|| vec!["image".into()]),
            atoms: None,
        }
    }

    /// A task reaching accuracy `end` when all of `relevance` runs, with
    /// quality target `stl`.
    fn task(&self, name: &str, relevance: [String; 3], stl: f64, end: f64) -> RawTask {
        RawTask {
            name: name.into(),
            rate: self.p.rate,
            dnn: None,
            source: "device".into(),
            sink: None,
            max_delay: None,
            min_quality: Some(stl),
            quality: Some(RawQuality {
                curve: Some(vec![(0.0, 0.0), (1.0, end)]),
                noise_sensitivity: None,
            }),
            relevance: Some(relevance.into_iter().map(|a| (a, 1.0)).collect()),
        }
    }

    /// An instance of the scenario on DNN file `dnn_file`, without
    /// constraints or placement rules.
    fn instance(
        &self,
        name: String,
        description: String,
        dnn_file: String,
        tasks: Vec<RawTask>,
    ) -> RawInstance {
        RawInstance {
            name: Some(name),
            description: Some(description),
            dnn: Some(RawDnnRef::File { file: dnn_file }),
            network: RawNetwork {
                nodes: self.nodes.clone(),
                links: self.links.clone(),
                routing: None,
                latency_energy: None,
            },
            tasks,
            objective: Some(self.objective.clone()),
            delay_model: Some("sequential".into()),
            ..RawInstance::default()
        }
    }

    /// Writes and checks the DNN of `set`: image -> backbone -> one
    /// two-layer head per task -> logits; returns its path.
    fn write_heads_dnn(&self, set: &MtlSet) -> Result<PathBuf> {
        let (label, stem, readme) = (self.bb.label, self.bb.stem, self.bb.readme);
        let (n, labels) = (set.n, &set.labels);
        let mut layers = vec![self.backbone("backbone".into(), true, false)];
        for &((name, _, classes), _) in &set.tasks {
            layers.push(self.fc1(name, "backbone"));
            layers.push(self.fc2(name, classes));
        }
        let dnn = RawDnn {
            name: Some(format!("mtl-split-{stem}-{n}heads")),
            description: Some(format!(
                "{label} backbone (one atom) + {n} MLP heads (Linear-ReLU-Linear), \
                 FACES {labels}. Written by edgesplit scenario mtl-split (MTL-Split, Capogrosso et al., \
                 DAC'24); where every number comes from: {readme}."
            )),
            input: self.image.clone(),
            layers,
            output: set.logits(),
            edges: Vec::new(),
        };
        let dnn_path = self.p.out_dir.join(format!("{stem}-{n}heads.yaml"));
        write_yaml(&dnn, &dnn_path)?;
        load_dnn(&dnn_path)?;
        Ok(dnn_path)
    }

    /// Writes and checks the instances of `set` on its multi-task DNN, with
    /// and without the heads-on-server rule; returns their paths.
    fn write_heads_instances(&self, set: &MtlSet) -> Result<Vec<PathBuf>> {
        let (label, stem, prefix, readme) = (
            self.bb.label,
            self.bb.stem,
            self.bb.name_prefix,
            self.bb.readme,
        );
        let (n, labels) = (set.n, &set.labels);
        let gbit = self.p.bandwidth * 8.0 / 1e9;
        let raw_tasks: Vec<RawTask> = set
            .tasks
            .iter()
            .zip(set.mtl.iter())
            .map(|(&((name, _, _), stl), &end)| {
                self.task(
                    name,
                    [
                        "backbone".to_string(),
                        format!("{name}_fc1"),
                        format!("{name}_fc2"),
                    ],
                    stl,
                    end,
                )
            })
            .collect();
        let mut written = Vec::new();
        for free_heads in [false, true] {
            let suffix = if free_heads { "-free-heads" } else { "" };
            let mut raw = self.instance(
                format!("mtl-split{prefix}-{n}tasks{suffix}"),
                format!(
                    "MTL-Split (Capogrosso et al., DAC'24, Sec. 4.2), FACES {labels}: \
                     {label} backbone, a device (by default the paper's Jetson Nano, \
                     4 GB) and a remote server joined by a {gbit} Gbit/s link.{} Written by edgesplit \
                     scenario mtl-split; what comes from the paper and what is assumed: \
                     {readme}.",
                    if free_heads {
                        " Variant: the heads-on-server rule is switched off."
                    } else {
                        ""
                    }
                ),
                format!("{stem}-{n}heads.yaml"),
                raw_tasks.clone(),
            );
            raw.constraints = free_heads.then(|| [("rules".to_string(), false)].into());
            // MTL-Split's design (Sec. 3, Sec. 4 "Models details"): the
            // task-solving heads run on the remote server.
            raw.placement_rules = vec![crate::instance::rules::RawRule {
                name: Some("heads-on-server".into()),
                tasks: None,
                atoms: Some("*_fc*".into()),
                level: None,
                group: None,
                only_on: None,
                never_on: Some(vec!["device".into()]),
            }];
            let path = self.p.out_dir.join(format!("{n}tasks{suffix}.yaml"));
            write_yaml(&raw, &path)?;
            crate::instance::load(&path)?;
            written.push(path);
        }
        Ok(written)
    }

    /// Writes and checks local-only computing (LoC, Sec. 4.2) for `set`:
    /// one single-task network per task (its own backbone copy and head),
    /// everything on the device, each task reaching its single-task
    /// accuracy; returns the paths of the DNN file and the instance.
    fn write_loc(&self, set: &MtlSet) -> Result<Vec<PathBuf>> {
        let (label, stem, prefix, readme) = (
            self.bb.label,
            self.bb.stem,
            self.bb.name_prefix,
            self.bb.readme,
        );
        let (n, labels) = (set.n, &set.labels);
        let mut layers = Vec::new();
        for &((name, _, classes), _) in &set.tasks {
            let own = format!("{name}_backbone");
            layers.push(self.backbone(own.clone(), false, true));
            layers.push(self.fc1(name, &own));
            layers.push(self.fc2(name, classes));
        }
        let dnn = RawDnn {
            name: Some(format!("mtl-split-{stem}-{n}tasks-loc")),
            description: Some(format!(
                "Local-only computing for FACES {labels}: {n} single-task networks, each a \
                 {label} backbone (one atom) + its MLP head (Linear-ReLU-Linear). Written by \
                 edgesplit scenario mtl-split (MTL-Split, Capogrosso et al., DAC'24); where \
                 every number comes from: {readme}."
            )),
            input: self.image.clone(),
            layers,
            output: set.logits(),
            edges: Vec::new(),
        };
        let dnn_file = format!("{stem}-{n}tasks-loc.yaml");
        let dnn_path = self.p.out_dir.join(&dnn_file);
        write_yaml(&dnn, &dnn_path)?;
        load_dnn(&dnn_path)?;
        let tasks = set
            .tasks
            .iter()
            .map(|&((name, _, _), stl)| {
                self.task(
                    name,
                    [
                        format!("{name}_backbone"),
                        format!("{name}_fc1"),
                        format!("{name}_fc2"),
                    ],
                    stl,
                    stl,
                )
            })
            .collect();
        let mut raw = self.instance(
            format!("mtl-split{prefix}-{n}tasks-loc"),
            format!(
                "MTL-Split (Capogrosso et al., DAC'24, Sec. 4.2), FACES {labels}, local-only \
                 computing: one single-task network ({label} backbone + head) per task, all on \
                 the device (by default the paper's Jetson Nano, 4 GB), rule local-only. Written \
                 by edgesplit scenario mtl-split; what comes from the paper and what is \
                 assumed: {readme}."
            ),
            dnn_file,
            tasks,
        );
        raw.placement_rules = vec![crate::instance::rules::RawRule {
            name: Some("local-only".into()),
            tasks: None,
            atoms: Some("*".into()),
            level: None,
            group: None,
            only_on: None,
            never_on: Some(vec!["server".into()]),
        }];
        let path = self.p.out_dir.join(format!("{n}tasks-loc.yaml"));
        write_yaml(&raw, &path)?;
        crate::instance::load(&path)?;
        Ok(vec![dnn_path, path])
    }
}

/// The Jetson-Nano-like device and the remote server.
fn mtl_nodes(p: &MtlSplitParams) -> Vec<RawNode> {
    let node = |name: &str, speed: f64, memory: f64| RawNode {
        kind: None,
        name: name.into(),
        speed,
        memory,
        power: None,
        price: None,
        quant_speedup: None,
        max_utilization: None,
        max_power: None,
    };
    vec![
        node("device", p.device_speed, p.device_memory),
        node("server", p.server_speed, p.server_memory),
    ]
}

/// Parameters of the quantization-aware splitting scenario
/// (Nicosanti 2025).
#[derive(Debug, Clone, clap::Args)]
pub struct SplitQuantParams {
    /// The layer-level DNN with quantization groups, e.g. models/densenet121-q12.yaml.
    #[arg(long)]
    pub dnn: PathBuf,
    /// Noise samples CSV (one 0/1 column per group, then `noise`); the
    /// instances fit their regressor to it at load.
    #[arg(long)]
    pub samples: PathBuf,
    /// Degrees of the noise regressor, one instance each.
    #[arg(long, value_delimiter = ',', default_value = "2,3")]
    pub degrees: Vec<usize>,
    /// Ridge λ of the fit.
    #[arg(long, default_value_t = 0.0)]
    pub ridge: f64,
    /// Bound on the predicted noise η(q) (`sweep` replaces it).
    #[arg(long, default_value_t = 0.05)]
    pub max_noise: f64,
    /// File names are `<prefix>-deg<degree>.yaml`.
    #[arg(long, default_value = "densenet121")]
    pub prefix: String,
    /// Output folder.
    #[arg(long)]
    pub out_dir: PathBuf,
}

/// Writes one split-quant instance per regressor degree; returns the paths
/// written.
pub fn write_split_quant(p: &SplitQuantParams) -> Result<Vec<PathBuf>> {
    let s = "split-quant";
    let dnn = load_dnn(&p.dnn)?;
    let samples = crate::noise::read_samples(&p.samples)
        .map_err(|e| Error::Other(format!("scenario {s}: --samples: {e}")))?;
    check_split_quant(p, &dnn, &samples)?;
    create_out_dir(&p.out_dir)?;
    let dnn_ref = relative_path(&p.dnn, &p.out_dir)?;
    let samples_ref = relative_path(&p.samples, &p.out_dir)?;

    let network = split_quant_network();
    let mut written = Vec::new();
    for &d in &p.degrees {
        let raw = RawInstance {
            name: Some(format!("split-quant-deg{d}")),
            description: Some(format!(
                "Quantization-aware splitting (Nicosanti 2025): one layer-level DNN \
                 ({}) split across device (0.5 CPU), edge (1 CPU) and cloud (T4 GPU), {} \
                 quantizable layer groups, degree-{d} noise regressor fitted at load. \
                 DenseNet-121 stands in for YOLO11; node speeds, the edge-cloud link, memory and power are assumptions; the noise samples are SYNTHETIC. Written by \
                 edgesplit scenario split-quant; sources and assumptions: \
                 instances/split-quant/README.md.",
                dnn.dnn_name,
                samples.groups.len()
            )),
            dnn: Some(RawDnnRef::File {
                file: dnn_ref.clone(),
            }),
            network: network.clone(),
            tasks: vec![RawTask {
                name: "detect".into(),
                rate: 1.0,
                dnn: None,
                source: "device".into(),
                sink: Some("device".into()),
                max_delay: None,
                min_quality: None,
                quality: None,
                relevance: None,
            }],
            quantization: Some(RawQuantization {
                groups: Some(samples.groups.clone()),
                weight_factor: Some(0.25),
                activation_factor: Some(0.25),
                noise: Some(RawNoise {
                    intercept: None,
                    terms: Vec::new(),
                    fit: Some(RawNoiseFit {
                        samples: samples_ref.clone(),
                        degree: d,
                        ridge: Some(p.ridge),
                    }),
                }),
                max_noise: Some(p.max_noise),
            }),
            objective: Some(RawObjective {
                weights: Some(RawWeights {
                    time: Some(1.0),
                    energy: None,
                    cost: None,
                }),
                normalization: Some(RawNormalization::Named("none".into())),
            }),
            delay_model: Some("sequential".into()),
            ..RawInstance::default()
        };
        let path = p.out_dir.join(format!("{}-deg{d}.yaml", p.prefix));
        write_yaml(&raw, &path)?;
        crate::instance::load(&path)?;
        written.push(path);
    }
    Ok(written)
}

/// Checks the degrees, ridge, noise limit and prefix of the
/// quantization-aware splitting scenario, and that the samples' groups are
/// the DNN's.
fn check_split_quant(
    p: &SplitQuantParams,
    dnn: &LoadedDnn,
    samples: &crate::noise::Samples,
) -> Result<()> {
    let s = "split-quant";
    if p.degrees.is_empty() {
        return Err(Error::Other(format!(
            "scenario {s}: --degrees is empty: give at least one degree"
        )));
    }
    for &d in &p.degrees {
        if d == 0 || d > samples.groups.len() {
            return Err(Error::Other(format!(
                "scenario {s}: --degrees {d} is not allowed: expected 1 to {} (the groups in --samples)",
                samples.groups.len()
            )));
        }
    }
    check_non_negative(s, "--ridge", p.ridge)?;
    check_non_negative(s, "--max-noise", p.max_noise)?;
    if p.prefix.is_empty() || p.prefix.contains(['/', '\\']) {
        return Err(Error::Other(format!(
            "scenario {s}: --prefix '{}' is not allowed: expected a non-empty file name part",
            p.prefix
        )));
    }
    // The groups, in the samples' column order; they must be the DNN's.
    for g in &samples.groups {
        if !dnn.groups.contains(g) {
            return Err(Error::Other(format!(
                "scenario {s}: --samples {}: column '{g}' is not a quantization group of --dnn {} (its groups: {})",
                p.samples.display(),
                p.dnn.display(),
                dnn.groups.join(", ")
            )));
        }
    }
    for g in &dnn.groups {
        if !samples.groups.contains(g) {
            return Err(Error::Other(format!(
                "scenario {s}: --dnn {}: group '{g}' has no column in --samples {}",
                p.dnn.display(),
                p.samples.display()
            )));
        }
    }
    Ok(())
}

/// The quantization-aware splitting network: device, edge and cloud and
/// their links.
fn split_quant_network() -> RawNetwork {
    // The paper's three machines (speeds, memories, powers and int8
    // speed-ups assumed: instances/split-quant/README.md):
    // (name, FLOP/s, bytes, W, quant_speedup).
    let nodes: Vec<RawNode> = [
        ("device", 2.0e10, 2.0e9, 5.0, 2.0), // c3-standard-4, docker --cpus 0.5
        ("edge", 4.0e10, 4.0e9, 10.0, 2.0),  // c3-standard-4, docker --cpus 1.0
        ("cloud", 1.0e12, 1.6e10, 70.0, 1.0), // n1-standard-4 + Tesla T4
    ]
    .iter()
    .map(|&(name, speed, memory, power, q)| RawNode {
        kind: None,
        name: name.into(),
        speed,
        memory,
        power: Some(power),
        price: None,
        quant_speedup: Some(q),
        max_utilization: None,
        max_power: None,
    })
    .collect();
    let link = |from: &str, to: &str, bw: f64, lat: f64, symmetric: Option<bool>| RawLink {
        from: from.into(),
        to: to.into(),
        bandwidth: bw,
        latency: Some(lat),
        power: Some(1.0),
        price: None,
        symmetric,
    };
    let links = vec![
        link("device", "edge", 5.0e6, 0.005, None), // paper: 5 MB/s, 5 ms
        link("edge", "device", 2.0e7, 0.005, None), // paper: 20 MB/s, 5 ms
        link("edge", "cloud", 5.0e7, 0.010, Some(true)), // assumed: 50 MB/s, 10 ms
    ];

    RawNetwork {
        nodes,
        links,
        routing: None,
        latency_energy: None,
    }
}
