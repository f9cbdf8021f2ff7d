//! The instance file as written (serde), before validation.
//!
//! Nothing outside `instance` sees these types: [`super::load`] turns them
//! into the typed [`super::Instance`]. Unknown fields are rejected so that a
//! misspelt key is an error, not a silently ignored constraint.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Top level of an instance file. The sections of families that read
/// their own (`Family::section`) are not fields: the loader sets them
/// aside before reading this. [`Default`] is the empty version-1
/// instance, so that code building one names only what it sets.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstance {
    /// Format version; only `1` exists.
    pub version: u32,
    /// Short name.
    #[serde(default)]
    pub name: Option<String>,
    /// Free text; generated instances say they are synthetic here.
    #[serde(default)]
    pub description: Option<String>,
    /// The parent DNN, inline or `{file: path}`; absent when `dnns`
    /// lists several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnn: Option<RawDnnRef>,
    /// Several parent DNNs, each inline or `{file: path}` and each with
    /// its own `name`; instead of `dnn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnns: Option<Vec<RawDnnRef>>,
    /// Physical network.
    pub network: RawNetwork,
    /// Inference tasks.
    pub tasks: Vec<RawTask>,
    /// CSV file `atom,task,score` with relevance scores, relative to the
    /// instance file; a score given there overrides the task's inline score
    /// for the same atom.
    #[serde(default)]
    pub relevance_file: Option<String>,
    /// Quantization groups, factors and noise model.
    #[serde(default)]
    pub quantization: Option<RawQuantization>,
    /// Objective weights and normalization.
    #[serde(default)]
    pub objective: Option<RawObjective>,
    /// Constraint families switched on or off, by name (the names of
    /// [`crate::milp::families::ALL`]; an unset family is on).
    #[serde(default)]
    pub constraints: Option<IndexMap<String, bool>>,
    /// `sequential` (default) or `layered`.
    #[serde(default)]
    pub delay_model: Option<String>,
    /// Placement rules: atoms pinned to or forbidden on nodes.
    #[serde(default)]
    pub placement_rules: Vec<super::rules::RawRule>,
    /// Per-layer minimum widths: chosen layers keep at least k atoms (or a
    /// fraction) in every chosen task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub min_width: Vec<super::width::RawMinWidth>,
    /// User constraints: named linear rows over y, z, u and q.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_constraints: Vec<super::custom::RawCustom>,
    /// Measured compute times per atom or layer and node (or node kind),
    /// used instead of `flops / speed` where given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiles: Option<RawProfiles>,
}

impl Default for RawInstance {
    fn default() -> Self {
        RawInstance {
            version: 1,
            name: None,
            description: None,
            dnn: Some(RawDnnRef::Inline(RawDnn::default())),
            dnns: None,
            network: RawNetwork::default(),
            tasks: Vec::new(),
            relevance_file: None,
            quantization: None,
            objective: None,
            constraints: None,
            delay_model: None,
            placement_rules: Vec::new(),
            min_width: Vec::new(),
            custom_constraints: Vec::new(),
            profiles: None,
        }
    }
}

/// The DNN inline or by reference.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum RawDnnRef {
    /// `dnn: {file: ../models/x.yaml}`.
    File {
        /// Path relative to the instance file.
        file: String,
    },
    /// The DNN written out in the instance.
    Inline(RawDnn),
}

/// A DNN atom graph: input, layers, output, optional atom-level edges.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawDnn {
    /// Model name.
    #[serde(default)]
    pub name: Option<String>,
    /// Free text (source, command that produced it).
    #[serde(default)]
    pub description: Option<String>,
    /// The input data atom.
    pub input: RawEndpoint,
    /// Compute layers in order.
    pub layers: Vec<RawLayer>,
    /// The output data atom.
    pub output: RawEndpoint,
    /// Extra atom-to-atom edges `[from, to]`; a layer name stands for all of
    /// its atoms.
    #[serde(default)]
    pub edges: Vec<(String, String)>,
}

/// The input or output data atom.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawEndpoint {
    /// Atom id.
    pub name: String,
    /// Size of the tensor it emits (input) in bytes.
    #[serde(default)]
    pub out_bytes: Option<f64>,
    /// Layers feeding it (output only); default: the last layer.
    #[serde(default)]
    pub inputs: Option<Vec<String>>,
}

/// A layer: `count` identical atoms (compact filter layer) or an explicit
/// list of atoms.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLayer {
    /// Layer name; atoms are `name.0 .. name.{count-1}`, or `name` when
    /// count is 1.
    pub name: String,
    /// Number of identical atoms (default 1).
    #[serde(default)]
    pub count: Option<u64>,
    /// FLOP per atom.
    #[serde(default)]
    pub flops: Option<f64>,
    /// Parameter bytes per atom.
    #[serde(default)]
    pub param_bytes: Option<f64>,
    /// Output bytes per atom.
    #[serde(default)]
    pub out_bytes: Option<f64>,
    /// Quantization group of every atom of the layer.
    #[serde(default)]
    pub group: Option<String>,
    /// Every task must use every atom of the layer.
    #[serde(default)]
    pub mandatory: Option<bool>,
    /// Layers whose atoms all feed every atom of this one (dense edges);
    /// default: the previous layer (the input for the first).
    #[serde(default)]
    pub inputs: Option<Vec<String>>,
    /// Explicit atoms instead of `count` identical ones.
    #[serde(default)]
    pub atoms: Option<Vec<RawAtom>>,
}

/// One explicitly written atom; unset numbers come from the layer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAtom {
    /// Atom id, unique in the DNN.
    pub name: String,
    /// FLOP.
    #[serde(default)]
    pub flops: Option<f64>,
    /// Parameter bytes.
    #[serde(default)]
    pub param_bytes: Option<f64>,
    /// Output bytes.
    #[serde(default)]
    pub out_bytes: Option<f64>,
    /// Quantization group.
    #[serde(default)]
    pub group: Option<String>,
    /// Mandatory for every task.
    #[serde(default)]
    pub mandatory: Option<bool>,
}

/// Nodes and directed links.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    /// Compute nodes.
    pub nodes: Vec<RawNode>,
    /// Directed links.
    #[serde(default)]
    pub links: Vec<RawLink>,
    /// `min_time` (default), `min_latency` or `direct`: the path a transfer
    /// takes between two nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<String>,
    /// Charge the sender's power during each transfer latency (default
    /// false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_energy: Option<bool>,
}

/// A compute node.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    /// Node name.
    pub name: String,
    /// The node's kind, which profiles may name instead of the node
    /// (default: the node's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// FLOP/s.
    pub speed: f64,
    /// Bytes available for parameters.
    pub memory: f64,
    /// Watts while computing.
    #[serde(default)]
    pub power: Option<f64>,
    /// Price per second of compute.
    #[serde(default)]
    pub price: Option<f64>,
    /// Speed-up of quantized atoms (≥ 1, default 1).
    #[serde(default)]
    pub quant_speedup: Option<f64>,
    /// Optional bound on utilization (capacity family).
    #[serde(default)]
    pub max_utilization: Option<f64>,
    /// Optional bound on average power in W (energy family).
    #[serde(default)]
    pub max_power: Option<f64>,
}

/// `profiles:`: measured compute times, inline and/or from a CSV file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfiles {
    /// CSV file `layer,node,time_s[,time_q_s]` (columns in any order),
    /// relative to the instance file; its rows come after `times`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<String>,
    /// Inline entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<RawProfileTime>,
}

/// One measured time: seconds per inference of an atom or a whole layer
/// on a node or on every node of a kind.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfileTime {
    /// An atom id, or a layer name (its time is split over its atoms).
    pub layer: String,
    /// A node kind (every node of that kind) or a node name.
    pub node: String,
    /// Seconds per inference, not quantized.
    pub time_s: f64,
    /// Seconds per inference when quantized (default: `time_s /
    /// quant_speedup` of the node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_q_s: Option<f64>,
}

/// A directed link; `symmetric: true` adds the reverse link too.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    /// Sending node.
    pub from: String,
    /// Receiving node.
    pub to: String,
    /// Bytes per second.
    pub bandwidth: f64,
    /// Seconds per transfer.
    #[serde(default)]
    pub latency: Option<f64>,
    /// Watts while transferring.
    #[serde(default)]
    pub power: Option<f64>,
    /// Price per byte.
    #[serde(default)]
    pub price: Option<f64>,
    /// Also add the link `to -> from` with the same numbers.
    #[serde(default)]
    pub symmetric: Option<bool>,
}

/// An inference task.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTask {
    /// Task name.
    pub name: String,
    /// Requests per second.
    pub rate: f64,
    /// The name of its DNN; required when the instance lists several
    /// (`dnns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnn: Option<String>,
    /// Node where the input appears.
    pub source: String,
    /// Node where the output is delivered (default: source).
    #[serde(default)]
    pub sink: Option<String>,
    /// Seconds; omitted = no delay limit.
    #[serde(default)]
    pub max_delay: Option<f64>,
    /// Minimum quality (default 0).
    #[serde(default)]
    pub min_quality: Option<f64>,
    /// Accuracy curve and noise sensitivity.
    #[serde(default)]
    pub quality: Option<RawQuality>,
    /// Relevance σ(a,t): atom id (or layer name, for all its atoms) → score.
    #[serde(default)]
    pub relevance: Option<IndexMap<String, f64>>,
}

/// Quality model of one task.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuality {
    /// Points `[retained_fraction, accuracy]` of a concave non-decreasing
    /// piecewise-linear curve from 0 to 1; default `[[0,0],[1,1]]`.
    #[serde(default)]
    pub curve: Option<Vec<(f64, f64)>>,
    /// Accuracy lost per unit of quantization noise (default 0).
    #[serde(default)]
    pub noise_sensitivity: Option<f64>,
}

/// Quantization data.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuantization {
    /// Groups that may be quantized; default: every group the DNN names.
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    /// Multiplies `param_bytes` of a quantized atom (default 1).
    #[serde(default)]
    pub weight_factor: Option<f64>,
    /// Multiplies `out_bytes` of a quantized atom (default 1).
    #[serde(default)]
    pub activation_factor: Option<f64>,
    /// Noise regressor.
    #[serde(default)]
    pub noise: Option<RawNoise>,
    /// Upper bound on the noise (noise family).
    #[serde(default)]
    pub max_noise: Option<f64>,
}

/// Noise regressor coefficients.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawNoise {
    /// β_0, counted only when some group is quantized.
    #[serde(default)]
    pub intercept: Option<f64>,
    /// Monomials.
    #[serde(default)]
    pub terms: Vec<RawNoiseTerm>,
    /// Fit the coefficients at load from measured samples instead.
    #[serde(default)]
    pub fit: Option<RawNoiseFit>,
}

/// `fit: {samples: noise.csv, degree: 2, ridge: 0}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawNoiseFit {
    /// Samples CSV, relative to the instance file.
    pub samples: String,
    /// Highest monomial degree.
    pub degree: usize,
    /// Ridge λ (default 0).
    #[serde(default)]
    pub ridge: Option<f64>,
}

/// One monomial `coef · Π_{g ∈ groups} q_g`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawNoiseTerm {
    /// The groups of the monomial (distinct).
    pub groups: Vec<String>,
    /// β_S.
    pub coef: f64,
}

/// Objective weights and normalization.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawObjective {
    /// Weights on time, energy and cost.
    #[serde(default)]
    pub weights: Option<RawWeights>,
    /// `none`, `payoff`, or `{scales: {time, energy, cost}}`.
    #[serde(default)]
    pub normalization: Option<RawNormalization>,
}

/// Objective weights.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeights {
    /// w_T.
    #[serde(default)]
    pub time: Option<f64>,
    /// w_E.
    #[serde(default)]
    pub energy: Option<f64>,
    /// w_C.
    #[serde(default)]
    pub cost: Option<f64>,
}

/// Normalization as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawNormalization {
    /// `none` or `payoff`.
    Named(String),
    /// Fixed scales.
    Scales {
        /// X_norm = X / scale.
        scales: RawWeights,
    },
}
