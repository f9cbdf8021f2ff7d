//! Deterministic synthetic instances (`edgesplit generate`).
//!
//! Every generated instance is labelled synthetic in its name and
//! description, loads without problems, and is built so that the
//! centralized plan meets the delay limits (limits are set from it), so
//! later benchmarks start from feasible instances.

use crate::instance::raw::*;
use indexmap::IndexMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Shape of the generated DNN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GenFamily {
    /// Conv filter layers (one atom per filter) then dense layers, tasks
    /// sharing some filters and owning others, as in TIDE.
    Tide,
    /// A chain of single-atom layers, all mandatory (layer-level split and
    /// quantization, as in the quantization-aware splitting seed).
    Chain,
    /// A few atoms per layer with random skip connections.
    Dag,
}

/// Generator parameters.
#[derive(Debug, Clone, clap::Args)]
pub struct GenParams {
    /// DNN shape.
    #[arg(long, value_enum, default_value = "tide")]
    pub family: GenFamily,
    /// Random seed; the same parameters and seed give the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Compute layers (conv layers for `tide`).
    #[arg(long, default_value_t = 3)]
    pub layers: usize,
    /// Atoms per compute layer (filters for `tide`; ignored by `chain`).
    #[arg(long, default_value_t = 4)]
    pub atoms_per_layer: usize,
    /// Exact atoms per compute layer, e.g. `32,64,96,128,128` (overrides
    /// `--layers` and `--atoms-per-layer`).
    #[arg(long, value_delimiter = ',')]
    pub widths: Option<Vec<usize>>,
    /// Dense single-atom layers after the conv layers (`tide` only).
    #[arg(long, default_value_t = 1)]
    pub dense_layers: usize,
    /// Tasks.
    #[arg(long, default_value_t = 3)]
    pub tasks: usize,
    /// Nodes: device(s), edge, cloud (1: device; 2: device, edge).
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Quantization groups (the highest-FLOP layers).
    #[arg(long, default_value_t = 2)]
    pub groups: usize,
    /// Zipf exponent of task popularity (rates ∝ rank^-zipf).
    #[arg(long, default_value_t = 1.0)]
    pub zipf: f64,
    /// `sequential` or `layered`.
    #[arg(long, default_value = "sequential")]
    pub delay_model: String,
}

impl Default for GenParams {
    fn default() -> Self {
        GenParams {
            family: GenFamily::Tide,
            seed: 1,
            layers: 3,
            atoms_per_layer: 4,
            widths: None,
            dense_layers: 1,
            tasks: 3,
            nodes: 3,
            groups: 2,
            zipf: 1.0,
            delay_model: "sequential".into(),
        }
    }
}

const F32: f64 = 4.0;

/// Generates an instance; the result always loads.
pub fn generate(p: &GenParams) -> RawInstance {
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let layers_n = p.widths.as_ref().map_or(p.layers, Vec::len).max(1);
    let tasks_n = p.tasks.max(1);
    let nodes_n = p.nodes.max(1);

    let (side, channels) = (32.0_f64, 3.0_f64);
    let input = RawEndpoint {
        name: "input".into(),
        out_bytes: Some(side * side * channels * F32),
        inputs: None,
    };
    let (mut layers, widths) = gen_layers(p, layers_n, side, channels, &mut rng);
    let group_names = assign_groups(&mut layers, p.groups);
    let groups_n = group_names.len();
    let total = |f: fn(&RawLayer) -> f64| -> f64 {
        layers
            .iter()
            .map(|l| f(l) * l.count.unwrap_or(1) as f64)
            .sum()
    };
    let total_flops = total(|l| l.flops.unwrap());
    let total_params = total(|l| l.param_bytes.unwrap());
    let dnn = RawDnn {
        name: Some(format!("synthetic-{:?}", p.family).to_lowercase()),
        description: None,
        input,
        layers,
        output: RawEndpoint {
            name: "output".into(),
            out_bytes: None,
            inputs: None,
        },
        edges: Vec::new(),
    };
    let (network, device_n) = gen_network(nodes_n, total_params, &mut rng);
    let tasks = gen_tasks(p.zipf, &dnn, &network.nodes[..device_n], tasks_n, &mut rng);
    let quantization = gen_quantization(&group_names, &mut rng);

    let mut raw = RawInstance {
        name: Some(format!("synthetic-{:?}-s{}", p.family, p.seed).to_lowercase()),
        description: Some(format!(
            "SYNTHETIC instance from `edgesplit generate` (family {:?}, seed {}, {} layers of widths {:?}, {} tasks, {} nodes, {} groups, zipf {}); total {:.3e} FLOP. Not measured data.",
            p.family, p.seed, layers_n, widths, tasks_n, nodes_n, groups_n, p.zipf, total_flops
        )),
        dnn: Some(RawDnnRef::Inline(dnn)),
        network,
        tasks,
        quantization,
        objective: Some(RawObjective {
            weights: Some(RawWeights { time: Some(1.0), energy: Some(0.0), cost: Some(0.0) }),
            normalization: None,
        }),
        delay_model: Some(p.delay_model.clone()),
        ..RawInstance::default()
    };
    set_delay_limits(&mut raw);
    raw
}

/// The DNN's layers on a `side`×`side` input of `channels` channels: the
/// compute layers, then for `tide` the dense layers; returns them and the
/// widths of the compute layers.
fn gen_layers(
    p: &GenParams,
    layers_n: usize,
    side: f64,
    channels: f64,
    rng: &mut ChaCha8Rng,
) -> (Vec<RawLayer>, Vec<usize>) {
    let mut layers: Vec<RawLayer> = Vec::new();
    let mut cin = channels;
    let mut hw = side;
    let mut widths = Vec::new();
    for i in 0..layers_n {
        let width = match (p.family, &p.widths) {
            (GenFamily::Chain, _) => 1,
            (_, Some(w)) => w[i].max(1),
            _ => p.atoms_per_layer.max(1) + rng.gen_range(0..=p.atoms_per_layer / 4),
        };
        widths.push(width);
        let name = match p.family {
            GenFamily::Tide => format!("conv{}", i + 1),
            GenFamily::Chain | GenFamily::Dag => format!("l{}", i + 1),
        };
        // A 3×3 convolution per atom: 2·9·cin·hw² FLOP; spatial size halves
        // every other layer.
        let per_atom_cin = if matches!(p.family, GenFamily::Chain) {
            16.0 * (i + 1) as f64
        } else {
            cin
        };
        let flops = 2.0 * 9.0 * per_atom_cin * hw * hw * rng.gen_range(0.8..1.2);
        let params = (9.0 * per_atom_cin + 1.0) * F32;
        let out = hw
            * hw
            * F32
            * if matches!(p.family, GenFamily::Chain) {
                16.0
            } else {
                1.0
            };
        let mut inputs = None;
        if matches!(p.family, GenFamily::Dag) && i >= 2 && rng.gen_bool(0.5) {
            let skip = rng.gen_range(0..i - 1);
            inputs = Some(vec![layers[i - 1].name.clone(), layers[skip].name.clone()]);
        }
        layers.push(RawLayer {
            name,
            count: Some(width as u64),
            flops: Some(flops.round()),
            param_bytes: Some(params),
            out_bytes: Some(out),
            group: None,
            mandatory: Some(matches!(p.family, GenFamily::Chain)),
            inputs,
            atoms: None,
        });
        cin = width as f64;
        if i % 2 == 1 {
            hw = (hw / 2.0).max(1.0);
        }
    }
    if matches!(p.family, GenFamily::Tide) {
        push_dense_layers(&mut layers, p.dense_layers, cin * hw * hw);
    }
    (layers, widths)
}

/// Appends `count` mandatory dense layers, the first fed by `fan_in` units.
fn push_dense_layers(layers: &mut Vec<RawLayer>, count: usize, mut fan_in: f64) {
    for i in 0..count {
        let out_units = (256.0 / 2f64.powi(i as i32)).max(10.0);
        layers.push(RawLayer {
            name: format!("fc{}", i + 1),
            count: None,
            flops: Some(2.0 * fan_in * out_units),
            param_bytes: Some((fan_in + 1.0) * out_units * F32),
            out_bytes: Some(out_units * F32),
            group: None,
            mandatory: Some(true),
            inputs: None,
            atoms: None,
        });
        fan_in = out_units;
    }
}

/// Puts the `groups` highest-FLOP layers in a quantization group each;
/// returns the group names in layer order.
fn assign_groups(layers: &mut [RawLayer], groups: usize) -> Vec<String> {
    let groups_n = groups.min(layers.len());
    let mut by_flops: Vec<usize> = (0..layers.len()).collect();
    by_flops.sort_by(|&a, &b| {
        let fa = layers[a].flops.unwrap() * layers[a].count.unwrap_or(1) as f64;
        let fb = layers[b].flops.unwrap() * layers[b].count.unwrap_or(1) as f64;
        fb.partial_cmp(&fa).unwrap().then(a.cmp(&b))
    });
    for &l in by_flops.iter().take(groups_n) {
        layers[l].group = Some(format!("q_{}", layers[l].name));
    }
    layers.iter().filter_map(|l| l.group.clone()).collect()
}

/// The network of `nodes_n` nodes: devices, then an edge and a cloud when
/// there are enough; returns it and the number of devices (its first nodes).
fn gen_network(nodes_n: usize, total_params: f64, rng: &mut ChaCha8Rng) -> (RawNetwork, usize) {
    let device_n = nodes_n.saturating_sub(2).max(1);
    let mut nodes = Vec::new();
    for i in 0..device_n {
        let name = if device_n == 1 {
            "device".to_string()
        } else {
            format!("device{i}")
        };
        nodes.push(RawNode {
            kind: None,
            name,
            speed: 2e9 * rng.gen_range(0.8..1.25),
            memory: (0.5 * total_params).ceil(),
            power: Some(3.0),
            price: Some(0.0),
            quant_speedup: Some(2.0),
            max_utilization: None,
            max_power: None,
        });
    }
    let mut links = Vec::new();
    if nodes_n >= 2 {
        nodes.push(RawNode {
            kind: None,
            name: "edge".into(),
            speed: 2e10,
            memory: (2.0 * total_params).ceil(),
            power: Some(30.0),
            price: Some(1e-3),
            quant_speedup: Some(1.5),
            max_utilization: Some(0.9),
            max_power: None,
        });
        for d in nodes
            .iter()
            .take(device_n)
            .map(|n| n.name.clone())
            .collect::<Vec<_>>()
        {
            links.push(link(&d, "edge", 5e6, 0.005, 0.5, 0.0));
            links.push(link("edge", &d, 20e6, 0.005, 0.1, 0.0));
        }
    }
    if nodes_n >= 3 {
        nodes.push(RawNode {
            kind: None,
            name: "cloud".into(),
            speed: 2e11,
            memory: (100.0 * total_params).ceil(),
            power: Some(250.0),
            price: Some(1e-2),
            quant_speedup: Some(1.2),
            max_utilization: None,
            max_power: None,
        });
        links.push(link("edge", "cloud", 1.25e8, 0.02, 1.0, 1e-9));
        links.push(link("cloud", "edge", 1.25e8, 0.02, 1.0, 1e-9));
    }
    (
        RawNetwork {
            nodes,
            links,
            routing: None,
            latency_energy: None,
        },
        device_n,
    )
}

/// The tasks, sharing some atoms and owning others, with Zipf rates and
/// sources among `devices`; returns them without delay limits.
fn gen_tasks(
    zipf: f64,
    dnn: &RawDnn,
    devices: &[RawNode],
    tasks_n: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<RawTask> {
    let owner_of: Vec<Vec<Option<usize>>> = dnn
        .layers
        .iter()
        .map(|l| {
            (0..l.count.unwrap_or(1))
                .map(|_| {
                    if rng.gen_bool(0.4) {
                        None
                    } else {
                        Some(rng.gen_range(0..tasks_n))
                    }
                })
                .collect()
        })
        .collect();
    let rel_values: Vec<Vec<f64>> = owner_of
        .iter()
        .map(|l| l.iter().map(|_| rng.gen_range(0.5..1.0)).collect())
        .collect();
    let mut tasks = Vec::new();
    for t in 0..tasks_n {
        let relevance = task_relevance(dnn, &owner_of, &rel_values, t);
        let source = devices[rng.gen_range(0..devices.len())].name.clone();
        let top = rng.gen_range(0.65..0.8);
        tasks.push(RawTask {
            name: format!("t{}", t + 1),
            rate: sig_round(10.0 / ((t + 1) as f64).powf(zipf)),
            dnn: None,
            source: source.clone(),
            sink: Some(source),
            max_delay: None,
            min_quality: Some(round3(top * 0.85)),
            quality: Some(RawQuality {
                curve: Some(vec![
                    (0.0, 0.0),
                    (0.5, round3(top * 0.8)),
                    (0.8, round3(top * 0.95)),
                    (1.0, round3(top)),
                ]),
                noise_sensitivity: Some(round3(rng.gen_range(0.5..2.0))),
            }),
            relevance: Some(relevance),
        });
    }
    tasks
}

/// Task `t`'s relevance of every atom: the atom's value when it is shared
/// or owned by `t`, a twentieth of it otherwise.
fn task_relevance(
    dnn: &RawDnn,
    owner_of: &[Vec<Option<usize>>],
    rel_values: &[Vec<f64>],
    t: usize,
) -> IndexMap<String, f64> {
    let mut relevance = IndexMap::new();
    for (li, l) in dnn.layers.iter().enumerate() {
        let n = l.count.unwrap_or(1);
        for k in 0..n as usize {
            let id = if n == 1 {
                l.name.clone()
            } else {
                format!("{}.{k}", l.name)
            };
            let base = rel_values[li][k];
            let v = match owner_of[li][k] {
                None => base,
                Some(o) if o == t => base,
                Some(_) => (0.05 * base * 1000.0).round() / 1000.0,
            };
            relevance.insert(id, (v * 1000.0).round() / 1000.0);
        }
    }
    relevance
}

/// The quantization section: a noise term per group and per pair of
/// groups; returns `None` without groups.
fn gen_quantization(group_names: &[String], rng: &mut ChaCha8Rng) -> Option<RawQuantization> {
    let mut terms = Vec::new();
    for g in group_names {
        terms.push(RawNoiseTerm {
            groups: vec![g.clone()],
            coef: round3(rng.gen_range(0.005..0.02)),
        });
    }
    for i in 0..group_names.len() {
        for j in i + 1..group_names.len() {
            terms.push(RawNoiseTerm {
                groups: vec![group_names[i].clone(), group_names[j].clone()],
                coef: round3(rng.gen_range(-0.004..0.006)),
            });
        }
    }
    (!group_names.is_empty()).then(|| RawQuantization {
        groups: Some(group_names.to_vec()),
        weight_factor: Some(0.25),
        activation_factor: Some(0.25),
        noise: Some(RawNoise {
            intercept: Some(0.002),
            terms,
            fit: None,
        }),
        max_noise: Some(0.05),
    })
}

/// Sets each task's max_delay to 1.5× its delay under the centralized
/// plan, so that the centralized plan is delay-feasible.
fn set_delay_limits(raw: &mut RawInstance) {
    let text = serde_yaml::to_string(raw).expect("raw instance serializes");
    let inst = crate::instance::load_str(&text, None).expect("generated instance is valid");
    let plan =
        crate::reference::reference_plan(&inst, crate::reference::ReferenceMethod::Centralized);
    let ev = crate::eval::evaluate(&inst, &plan, None);
    for (t, r) in raw.tasks.iter_mut().zip(&ev.tasks) {
        t.max_delay = Some(sig_round(1.5 * r.delay_s));
    }
}

fn link(from: &str, to: &str, bw: f64, lat: f64, power: f64, price: f64) -> RawLink {
    RawLink {
        from: from.into(),
        to: to.into(),
        bandwidth: bw,
        latency: Some(lat),
        power: Some(power),
        price: Some(price),
        symmetric: None,
    }
}

/// Rounds to 3 decimals.
pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Rounds up to 3 significant digits (so a limit stays above its value).
fn sig_round(x: f64) -> f64 {
    if x <= 0.0 {
        return x;
    }
    let p = 10f64.powi(x.log10().floor() as i32 - 2);
    (x / p).ceil() * p
}

/// Generates and serializes to YAML.
pub fn generate_yaml(p: &GenParams) -> String {
    serde_yaml::to_string(&generate(p)).expect("raw instance serializes")
}
