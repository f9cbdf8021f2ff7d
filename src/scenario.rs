//! The papers' scenarios built around a real DNN file (`edgesplit scenario`).
//!
//! `tide` writes the evaluation setting of the TIDE paper (seed `000_*`,
//! §IV-A) for a filter-level network: tasks with Zipf popularity, a
//! centralized node that runs the whole network in a given time, a common
//! delay limit and one instance per quality target. What the paper does not
//! give (node speeds besides the central one, memories, prices, relevance
//! scores, accuracy curves) follows documented, seeded rules; every file
//! says so in its description.

use crate::error::{Error, Result};
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
    if p.tasks == 0 || !(p.central_time > 0.0) || !(p.max_delay > 0.0) {
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
    std::fs::create_dir_all(&p.out_dir)
        .map_err(|e| Error::Other(format!("creating {}: {e}", p.out_dir.display())))?;
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let total_flops = dnn.dnn.total_flops();
    let total_params = dnn.dnn.total_param_bytes();

    // --- relevance: shared filters early, task-specific ones deeper ---
    let atoms = &dnn.dnn.atoms;
    let compute: Vec<usize> = (0..atoms.len())
        .filter(|&a| a != dnn.dnn.input && a != dnn.dnn.output)
        .collect();
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
    let task_names: Vec<String> = (1..=p.tasks).map(|t| format!("t{t}")).collect();
    let mut csv = String::from("atom,task,score\n");
    for &a in &compute {
        let atom = &atoms[a];
        if layer_width[atom.layer.as_str()] == 1 {
            // A single-atom (dense) layer serves every task.
            for t in &task_names {
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
        let owner = (!rng.gen_bool(shared_p)).then(|| rng.gen_range(0..p.tasks));
        for (t, name) in task_names.iter().enumerate() {
            let s = match owner {
                Some(o) if o != t => 0.02 * base,
                _ => base,
            };
            csv.push_str(&format!("{},{name},{:.4}\n", atom.id, s));
        }
    }
    let csv_path = p.out_dir.join("relevance.csv");
    std::fs::write(&csv_path, csv)
        .map_err(|e| Error::Other(format!("writing {}: {e}", csv_path.display())))?;

    // --- popularity: Zipf over a seeded random ranking ---
    let mut ranks: Vec<usize> = (1..=p.tasks).collect();
    ranks.shuffle(&mut rng);
    let norm: f64 = (1..=p.tasks).map(|k| (k as f64).powf(-p.zipf)).sum();
    let rates: Vec<f64> = ranks
        .iter()
        .map(|&k| sig4(p.total_rate * (k as f64).powf(-p.zipf) / norm))
        .collect();
    // Best accuracy per task, around AlexNet's ≈ 0.70 on CIFAR-100.
    let tops: Vec<f64> = (0..p.tasks)
        .map(|_| round3(rng.gen_range(0.70..0.74)))
        .collect();

    // --- network: the central node runs the whole DNN in central_time ---
    let central_speed = total_flops / p.central_time;
    let flop_price = 1.0 / total_flops;
    let nodes: Vec<RawNode> = NODES
        .iter()
        .map(|&(name, speed, memory, price, power)| RawNode {
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

    let dnn_ref = relative_path(&p.dnn, &p.out_dir)?;
    let mut written = vec![csv_path];
    for &q in &p.q_min {
        let tasks = task_names
            .iter()
            .enumerate()
            .map(|(t, name)| RawTask {
                name: name.clone(),
                rate: rates[t],
                source: "device".into(),
                sink: None,
                max_delay: Some(p.max_delay),
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
            .collect();
        let name = format!("tide-q{q:.2}").replace('.', "");
        let raw = RawInstance {
            version: 1,
            name: Some(name.clone()),
            description: Some(format!(
                "TIDE scenario (seed 000, section IV-A) on {}: {} tasks, Zipf {} popularity, \
                 central node {} s per inference, delay limit {} s, q_min {q}. Relevance scores, \
                 accuracy curves and the non-central nodes are ASSUMED (edgesplit scenario tide, \
                 seed {}), not measured.",
                dnn.dnn_name, p.tasks, p.zipf, p.central_time, p.max_delay, p.seed
            )),
            dnn: RawDnnRef::File {
                file: dnn_ref.clone(),
            },
            network: RawNetwork {
                nodes: nodes.clone(),
                links: links.clone(),
            },
            tasks,
            relevance_file: Some("relevance.csv".into()),
            quantization: None,
            objective: Some(RawObjective {
                weights: Some(RawWeights {
                    time: Some(0.0),
                    energy: Some(0.0),
                    cost: Some(1.0),
                }),
                normalization: None,
            }),
            constraints: None,
            delay_model: Some("sequential".into()),
            placement_rules: Vec::new(),
        };
        let mut value = serde_yaml::to_value(&raw).expect("raw instance serializes");
        crate::onnx::drop_nulls(&mut value);
        let text = serde_yaml::to_string(&value).expect("a YAML value serializes");
        let path = p.out_dir.join(format!("{name}.yaml"));
        std::fs::write(&path, text)
            .map_err(|e| Error::Other(format!("writing {}: {e}", path.display())))?;
        // Every written instance must load.
        crate::instance::load(&path)?;
        written.push(path);
    }
    Ok(written)
}

/// The DNN of a file, loaded through a throw-away instance so that it is
/// validated exactly as an instance's `dnn.file` would be.
struct LoadedDnn {
    dnn: crate::dnn::Dnn,
    dnn_name: String,
}

fn load_dnn(path: &Path) -> Result<LoadedDnn> {
    let abs = std::fs::canonicalize(path)
        .map_err(|e| Error::Other(format!("--dnn {}: {e}", path.display())))?;
    let text = format!(
        "version: 1\ndnn: {{file: {:?}}}\nnetwork: {{nodes: [{{name: n, speed: 1, memory: 1}}]}}\ntasks: [{{name: t, rate: 1, source: n}}]\n",
        abs.display().to_string()
    );
    let inst: Instance = crate::instance::load_str(&text, None)?;
    Ok(LoadedDnn {
        dnn_name: inst.dnn.name.clone(),
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

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
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
