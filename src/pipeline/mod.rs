//! The second instance kind, `kind: pipeline`: where to prune, fine-tune
//! and run a DNN for Q inference requests of one mobile device served by
//! one edge server (Singh et al., 2024).
//!
//! The decision is a single choice among a handful of options: the full
//! model or one pruned variant (a pruning factor), with or without
//! fine-tuning, and one of the pipelines
//!
//! | pipeline     | fine-tuning | inference | latency / device energy |
//! |--------------|-------------|-----------|-------------------------|
//! | `E-Inf`      | none        | edge      | eq. (1) / (4) without the dataset terms |
//! | `D-Inf`      | none        | device    | eq. (5) / (7) without the dataset terms |
//! | `E-FT/E-Inf` | edge        | edge      | eq. (1) / (4) |
//! | `E-FT/D-Inf` | edge        | device    | eq. (5) / (7) |
//! | `D-FT/D-Inf` | device      | device    | eq. (8) / (9) |
//!
//! The full model is never pruned nor fine-tuned, so only `E-Inf` and
//! `D-Inf` apply to it. Data flows as in the joint kind: [`load`] validates
//! a file into a [`PipelineInstance`] (every problem with its field path),
//! [`eval::evaluate`] is the single source of truth for latency, device
//! energy and data of a [`Choice`], [`milp`] states the choice as a MILP for
//! the common backends and checks it against enumeration, and [`sweep`]
//! varies Q.

pub mod cli;
pub mod eval;
mod load;
pub mod milp;
pub mod sweep;

pub use load::{load, load_plan, load_plan_str, load_str};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// True when the YAML text is a mapping whose `kind` is `pipeline`.
pub fn is_pipeline_text(text: &str) -> bool {
    // Text nested too deep for the parser is left to the joint loader,
    // which says so.
    if crate::instance::load::too_deep(text).is_some() {
        return false;
    }
    serde_yaml::from_str::<serde_yaml::Value>(text)
        .ok()
        .and_then(|v| {
            v.get("kind")
                .and_then(|k| k.as_str().map(|s| s == "pipeline"))
        })
        .unwrap_or(false)
}

/// True when the file at `path` can be read and declares `kind: pipeline`;
/// anything else (including unreadable files) is left to the joint loader,
/// which reports it.
pub fn is_pipeline_file(path: &Path) -> bool {
    crate::instance::source::read_arg(path).is_ok_and(|t| is_pipeline_text(&t))
}

/// Which timings of the edge server apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeLoad {
    /// The edge runs nothing else (the seed's "edge, no load").
    Unloaded,
    /// The edge is busy with other work (the seed's "edge, loaded").
    Loaded,
}

impl EdgeLoad {
    /// Both states.
    pub const ALL: [EdgeLoad; 2] = [EdgeLoad::Unloaded, EdgeLoad::Loaded];

    /// Name in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            EdgeLoad::Unloaded => "unloaded",
            EdgeLoad::Loaded => "loaded",
        }
    }
}

/// Seconds a step takes on the edge server (unloaded and, when known,
/// loaded) and on the device (when the step can run there).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Times {
    /// On the edge without load.
    pub edge: f64,
    /// On the loaded edge, if measured.
    pub edge_loaded: Option<f64>,
    /// On the device, if the step can run there.
    pub device: Option<f64>,
}

impl Times {
    /// The edge time in the given load state. Loading guarantees that the
    /// loaded time exists when the instance uses it; otherwise NaN.
    pub fn at_edge(&self, load: EdgeLoad) -> f64 {
        match load {
            EdgeLoad::Unloaded => self.edge,
            EdgeLoad::Loaded => self.edge_loaded.unwrap_or(f64::NAN),
        }
    }

    /// The device time (NaN where the step cannot run on the device).
    pub fn at_device(&self) -> f64 {
        self.device.unwrap_or(f64::NAN)
    }
}

/// The full model or one pruned variant of it (a configuration option k of
/// the seed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    /// `full` or `pf70` (pruning factor in percent).
    pub name: String,
    /// Fraction of the weights removed; 0 for the full model.
    pub pruning_factor: f64,
    /// Top-1 accuracy without fine-tuning, in [0, 1].
    pub accuracy: f64,
    /// Top-1 accuracy after fine-tuning; `None` for the full model.
    pub accuracy_fine_tuned: Option<f64>,
    /// l^model_{m,k}: bytes sent when the device downloads this model.
    pub model_bytes: f64,
    /// T^pr_{m,k}: pruning at the edge; `None` for the full model.
    pub pruning_s: Option<Times>,
    /// T^ft,e_{m,k} and T^ft,d_{m,k}; `None` for the full model.
    pub fine_tuning_s: Option<Times>,
    /// T^inf,e_{m,k} and T^inf,d_{m,k}.
    pub inference_s: Times,
}

impl Variant {
    /// True for the unpruned model.
    pub fn is_full(&self) -> bool {
        self.pruning_s.is_none()
    }
}

/// Message sizes in bytes (the l's of eqs. (2), (3) and (6)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sizes {
    /// l^req,res: one input sample sent to the edge with an inference request.
    pub sample_bytes: f64,
    /// l^res_{m,k}: one inference result sent back.
    pub result_bytes: f64,
    /// The fine-tuning dataset before encryption.
    pub dataset_bytes: f64,
    /// Bytes encryption adds to the dataset; l^dataset = dataset + overhead.
    pub encryption_overhead_bytes: f64,
    /// l^req,dataset: the edge's request for the dataset.
    pub dataset_request_bytes: f64,
    /// l^req,model: the device's request for a model.
    pub model_request_bytes: f64,
}

impl Sizes {
    /// l^dataset: the encrypted dataset as sent.
    pub fn encrypted_dataset_bytes(&self) -> f64 {
        self.dataset_bytes + self.encryption_overhead_bytes
    }
}

/// Device powers in watts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Powers {
    /// P^E: baseband circuit, counted while receiving.
    pub baseband: f64,
    /// P^tx: transmitting.
    pub tx: f64,
    /// P^rx: receiving.
    pub rx: f64,
    /// P^inf: running inference.
    pub inference: f64,
    /// P^ft: fine-tuning.
    pub fine_tuning: f64,
    /// P^enc: encrypting the dataset.
    pub encryption: f64,
}

/// Limits a choice must meet.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Requirements {
    /// Lowest acceptable accuracy, in [0, 1].
    pub min_accuracy: f64,
    /// Largest ML pipeline latency for all Q requests, seconds.
    pub max_latency_s: Option<f64>,
    /// Device energy budget for all Q requests, joules (3.7 Wh = 13 320 J).
    pub max_device_energy_j: Option<f64>,
    /// Largest amount of data exchanged, bytes.
    pub max_data_bytes: Option<f64>,
}

/// Weights of the linear objective (per second, per joule, per byte).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Weights {
    /// On the ML pipeline latency.
    pub latency: f64,
    /// On the device energy.
    pub device_energy: f64,
    /// On the data exchanged.
    pub data: f64,
}

/// A validated pipeline instance; every number is finite and in range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineInstance {
    /// Instance name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Name of the DNN (e.g. MobileNet).
    pub model: String,
    /// Q: inference requests served by one model before it must be updated.
    pub requests: u64,
    /// Which edge timings apply.
    pub edge_load: EdgeLoad,
    /// D: data rate of the device–edge link, bytes per second.
    pub data_rate: f64,
    /// Message sizes.
    pub sizes: Sizes,
    /// T^enc: encrypting the dataset on the device, seconds.
    pub encryption_s: f64,
    /// Device powers.
    pub power: Powers,
    /// `variants[0]` is the full model, then the pruned variants by
    /// increasing pruning factor.
    pub variants: Vec<Variant>,
    /// Limits.
    pub requirements: Requirements,
    /// Objective weights.
    pub objective: Weights,
}

impl PipelineInstance {
    /// The same instance with Q requests.
    pub fn with_requests(&self, q: u64) -> PipelineInstance {
        PipelineInstance {
            requests: q,
            ..self.clone()
        }
    }

    /// The same instance in another edge load state (the caller checks
    /// [`PipelineInstance::has_loaded_times`] before asking for `Loaded`).
    pub fn with_edge_load(&self, load: EdgeLoad) -> PipelineInstance {
        PipelineInstance {
            edge_load: load,
            ..self.clone()
        }
    }

    /// True when every edge timing has a loaded value.
    pub fn has_loaded_times(&self) -> bool {
        self.variants.iter().all(|v| {
            v.inference_s.edge_loaded.is_some()
                && v.pruning_s.is_none_or(|t| t.edge_loaded.is_some())
                && v.fine_tuning_s.is_none_or(|t| t.edge_loaded.is_some())
        })
    }

    /// Every choice this instance allows: for the full model `E-Inf` and
    /// `D-Inf`, for each pruned variant all five pipelines.
    pub fn choices(&self) -> Vec<Choice> {
        let mut out = Vec::new();
        for (vi, v) in self.variants.iter().enumerate() {
            for p in Pipeline::ALL {
                if !v.is_full() || !p.fine_tunes() {
                    out.push(Choice {
                        variant: vi,
                        pipeline: p,
                    });
                }
            }
        }
        out
    }

    /// Index of the variant with this pruning factor (0 = the full model).
    pub fn variant_index(&self, pruning_factor: f64) -> Option<usize> {
        self.variants
            .iter()
            .position(|v| (v.pruning_factor - pruning_factor).abs() < 1e-9)
    }

    /// Human-readable name of a choice, e.g. `E-FT/D-Inf pf70`.
    pub fn label(&self, c: Choice) -> String {
        let v = &self.variants[c.variant];
        if v.is_full() {
            format!("{} full", c.pipeline)
        } else {
            format!("{} {}", c.pipeline, v.name)
        }
    }
}

/// Where fine-tuning (if any) and inference run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Pipeline {
    /// No fine-tuning, inference at the edge.
    EInf,
    /// No fine-tuning, inference on the device.
    DInf,
    /// Fine-tuning and inference at the edge.
    EFtEInf,
    /// Fine-tuning at the edge, inference on the device.
    EFtDInf,
    /// Fine-tuning and inference on the device.
    DFtDInf,
}

impl Pipeline {
    /// All pipelines, in table order.
    pub const ALL: [Pipeline; 5] = [
        Pipeline::EInf,
        Pipeline::DInf,
        Pipeline::EFtEInf,
        Pipeline::EFtDInf,
        Pipeline::DFtDInf,
    ];

    /// Name in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            Pipeline::EInf => "E-Inf",
            Pipeline::DInf => "D-Inf",
            Pipeline::EFtEInf => "E-FT/E-Inf",
            Pipeline::EFtDInf => "E-FT/D-Inf",
            Pipeline::DFtDInf => "D-FT/D-Inf",
        }
    }

    /// Parses a name, case-insensitively, with `/` or `,` between the parts.
    pub fn parse(s: &str) -> Option<Pipeline> {
        let norm: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| {
                if c == ',' {
                    '/'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        Self::ALL
            .into_iter()
            .find(|p| p.name().to_ascii_lowercase() == norm)
    }

    /// True when the pipeline fine-tunes.
    pub fn fine_tunes(self) -> bool {
        matches!(
            self,
            Pipeline::EFtEInf | Pipeline::EFtDInf | Pipeline::DFtDInf
        )
    }

    /// True when inference runs on the device.
    pub fn infers_on_device(self) -> bool {
        matches!(self, Pipeline::DInf | Pipeline::EFtDInf | Pipeline::DFtDInf)
    }
}

impl fmt::Display for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One decision: a model variant and a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Choice {
    /// Index into [`PipelineInstance::variants`] (0 = the full model).
    pub variant: usize,
    /// The pipeline.
    pub pipeline: Pipeline,
}

/// A plan file of the pipeline kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelinePlanFile {
    /// Always `pipeline`.
    pub kind: String,
    /// Instance the plan is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// What produced it (`milp:highs`, `enumeration`, a person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// 0 for the full model, else the pruning factor of a variant.
    pub pruning_factor: f64,
    /// `E-Inf`, `D-Inf`, `E-FT/E-Inf`, `E-FT/D-Inf` or `D-FT/D-Inf`.
    pub pipeline: String,
}

impl PipelinePlanFile {
    /// The file form of a choice.
    pub fn of(inst: &PipelineInstance, c: Choice, method: Option<&str>) -> PipelinePlanFile {
        PipelinePlanFile {
            kind: "pipeline".into(),
            instance: Some(inst.name.clone()),
            method: method.map(str::to_string),
            pruning_factor: inst.variants[c.variant].pruning_factor,
            pipeline: c.pipeline.name().into(),
        }
    }
}
