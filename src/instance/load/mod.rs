//! Parse and validate an instance file into an [`Instance`].
//!
//! Every check pushes into one [`Diagnostics`] list and loading goes on, so
//! a user sees all problems of a file at once. Only problems that make the
//! rest meaningless (unparseable YAML, a broken DNN graph) stop early.

mod dnn;
mod network;
mod objective;
mod parse;
mod quantization;
mod tasks;

use super::limits::check_declared;
use super::raw::*;
use super::scale::Scale;
use super::source::FileSource;
use super::*;
use crate::error::{Diagnostics, Error, Result};
use dnn::build_dnn;
use network::build_network;
use objective::build_objective;
use parse::*;
pub(crate) use parse::{parse_yaml, read_text, too_deep};
use quantization::build_quantization;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tasks::{build_task, read_relevance_csv};

/// How [`load_with`] and [`load_str_with`] find what an instance refers
/// to.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Where referenced files (`dnn: {file}`, `relevance_file`, noise
    /// samples) are read: the disk (the default) or the files given with
    /// the instance.
    pub files: FileSource,
    /// Size limits, checked from the declared numbers before anything is
    /// expanded.
    pub limits: Limits,
}

impl LoadOptions {
    /// The defaults, with referenced files from `files`.
    pub fn with_files(files: FileSource) -> LoadOptions {
        LoadOptions {
            files,
            limits: Limits::default(),
        }
    }
}

/// Loads and validates the instance at `path`, reading referenced files
/// from disk.
pub fn load(path: &Path) -> Result<Instance> {
    load_with(path, &LoadOptions::default())
}

/// Loads and validates an instance from text, reading referenced files
/// from disk; `path` (when given) is used in messages and to resolve
/// referenced files (otherwise the working directory is used).
pub fn load_str(text: &str, path: Option<&Path>) -> Result<Instance> {
    load_str_with(text, path, &LoadOptions::default())
}

/// [`load`] with options. The instance file itself is read from disk.
pub fn load_with(path: &Path, opts: &LoadOptions) -> Result<Instance> {
    let text = read_text(path, path, "")?;
    load_str_with(&text, Some(path), opts)
}

/// [`load_str`] with options: referenced files come from `opts.files`.
pub fn load_str_with(text: &str, path: Option<&Path>, opts: &LoadOptions) -> Result<Instance> {
    let file = path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("<input>"));
    let raw: RawInstance = parse_yaml(text, &file, "an instance mapping with `version: 1`")
        .map_err(|e| explain_untagged(e, text, &file))?;
    let refs = Refs {
        base: path
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        referrer: file.clone(),
        source: &opts.files,
    };
    let mut d = Diagnostics::default();
    let inst = build(raw, &file, &refs, opts, &mut d);
    match inst {
        Some(i) if d.is_empty() => Ok(i),
        _ => Err(Error::Invalid { diagnostics: d }),
    }
}

/// The files an instance refers to: its folder, its name and the source.
struct Refs<'a> {
    base: PathBuf,
    referrer: PathBuf,
    source: &'a FileSource,
}

impl Refs<'_> {
    /// The path (for messages) and text of the file `rel` in `field`.
    fn read(&self, rel: &str, field: &str) -> Result<(PathBuf, String)> {
        self.source.read(&self.base, rel, &self.referrer, field)
    }
}

pub(crate) struct Check<'a> {
    d: &'a mut Diagnostics,
    file: PathBuf,
}

impl Check<'_> {
    pub(crate) fn err(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.d.push(&self.file, path, msg);
    }

    /// A finite number in the given range; returns it or a fallback.
    fn num(&mut self, path: &str, v: f64, min: f64, min_open: bool, what: &str) -> f64 {
        let ok = v.is_finite() && if min_open { v > min } else { v >= min };
        if !ok {
            let bound = if min_open { ">" } else { "≥" };
            self.err(
                path,
                format!(
                    "value {} is not allowed: expected a finite {what} {bound} {min}",
                    super::scale::fmt_num(v)
                ),
            );
        }
        v
    }
}

fn build(
    raw: RawInstance,
    file: &Path,
    refs: &Refs,
    opts: &LoadOptions,
    d: &mut Diagnostics,
) -> Option<Instance> {
    let mut c = Check {
        d,
        file: file.to_path_buf(),
    };
    if raw.version != 1 {
        c.err(
            "version",
            format!("version {} is not supported: expected 1", raw.version),
        );
    }

    // --- DNN (possibly in its own file) ---
    let (raw_dnn, dnn_file, prefix) = match raw.dnn {
        RawDnnRef::Inline(r) => (r, file.to_path_buf(), "dnn.".to_string()),
        RawDnnRef::File { file: rel } => {
            match refs.read(&rel, "dnn.file").and_then(|(p, t)| {
                parse_yaml::<RawDnn>(&t, &p, "a DNN mapping (input, layers, output)")
                    .map(|r| (r, p))
            }) {
                Ok((r, p)) => (r, p, String::new()),
                Err(e) => {
                    c.d.extend(e.diagnostics().cloned().unwrap_or_default());
                    return None;
                }
            }
        }
    };
    // Nothing is expanded before the declared sizes are within the limits.
    let tasks = raw.tasks.len();
    let nodes = raw.network.nodes.len();
    if let Err((path, msg)) = check_declared(&raw_dnn, &prefix, tasks, nodes, &opts.limits) {
        let at = if path.starts_with("network") || path == "tasks" {
            file.to_path_buf()
        } else {
            dnn_file
        };
        c.d.push(&at, path, msg);
        return None;
    }
    // A broken DNN does not stop the checks of the other sections.
    let dnn_path = dnn_file.clone();
    let built = {
        let mut dc = Check {
            d: c.d,
            file: dnn_file,
        };
        build_dnn(raw_dnn, &prefix, &mut dc)
    };

    // --- network ---
    let network = build_network(&raw.network, &mut c);

    // --- quantization ---
    let group_names = built.as_ref().map(|b| b.1.clone()).unwrap_or_default();
    let quantization = build_quantization(
        raw.quantization.as_ref(),
        built.as_ref().map(|b| b.1.as_slice()),
        refs,
        &opts.limits,
        &mut c,
    );
    let mut dnn = built.map(|b| b.0);
    if let Some(dnn) = dnn.as_mut() {
        for (a, g) in group_names.iter().enumerate() {
            dnn.atoms[a].group = g
                .as_ref()
                .and_then(|g| quantization.groups.iter().position(|x| x == g));
        }
    }

    // --- tasks ---
    let mut tasks = build_tasks(&raw.tasks, dnn.as_ref(), &network, &mut c);
    if let (Some(rel), Some(dnn)) = (&raw.relevance_file, dnn.as_ref()) {
        read_relevance_csv(refs, rel, dnn, &mut tasks, &mut c);
    }

    let objective = build_objective(raw.objective.as_ref(), &mut c);
    let families = families_of(raw.constraints.unwrap_or_default());
    let delay_model = delay_model_of(raw.delay_model.as_deref(), &mut c);
    let dnn = dnn?;
    let task_names: Vec<String> = tasks.iter().map(|t| t.name.clone()).collect();
    let rules = super::rules::build_rules(
        &raw.placement_rules,
        &dnn,
        &network,
        &task_names,
        &quantization.groups,
        &mut c,
    );
    let min_width = super::width::build_min_width(
        &raw.min_width,
        &dnn,
        &task_names,
        &quantization.groups,
        &mut c,
    );
    let custom = super::custom::build_custom(
        &raw.custom_constraints,
        &dnn,
        &network,
        &task_names,
        &quantization.groups,
        &mut c,
    );
    let inst = Instance {
        name: raw.name.unwrap_or_else(|| {
            file.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        }),
        description: raw.description.unwrap_or_default(),
        path: Some(file.to_path_buf()),
        dnn,
        network,
        tasks,
        quantization,
        objective,
        families,
        delay_model,
        rules,
        min_width,
        custom,
    };
    // Derived quantities are only meaningful once every number is valid.
    if c.d.is_empty() {
        super::scale::check(&inst, &mut Scale::new(c.d, file, &dnn_path, &prefix));
    }
    Some(inst)
}

/// The tasks, each checked against the DNN and the network; names unique.
fn build_tasks(raw: &[RawTask], dnn: Option<&Dnn>, network: &Network, c: &mut Check) -> Vec<Task> {
    if raw.is_empty() {
        c.err("tasks", "no tasks: expected at least one task");
    }
    let mut tasks = Vec::new();
    let mut seen = HashMap::new();
    for (i, rt) in raw.iter().enumerate() {
        let p = format!("tasks[{i}]");
        if let Some(j) = seen.insert(rt.name.clone(), i) {
            c.err(
                format!("{p}.name"),
                format!("duplicate task name '{}' (also tasks[{j}])", rt.name),
            );
        }
        tasks.push(build_task(rt, &p, dnn, network, c));
    }
    tasks
}

/// The families switched on and off by `constraints:` (unnamed: default).
fn families_of(f: RawFamilies) -> Families {
    let dflt = Families::default();
    Families {
        selection: f.selection.unwrap_or(dflt.selection),
        traffic: f.traffic.unwrap_or(dflt.traffic),
        memory: f.memory.unwrap_or(dflt.memory),
        delay: f.delay.unwrap_or(dflt.delay),
        quality: f.quality.unwrap_or(dflt.quality),
        noise: f.noise.unwrap_or(dflt.noise),
        capacity: f.capacity.unwrap_or(dflt.capacity),
        energy: f.energy.unwrap_or(dflt.energy),
        rules: f.rules.unwrap_or(dflt.rules),
        memory_fit: f.memory_fit.unwrap_or(dflt.memory_fit),
        cut_sets: f.cut_sets.unwrap_or(dflt.cut_sets),
        flow: f.flow.unwrap_or(dflt.flow),
        width: f.width.unwrap_or(dflt.width),
        custom: f.custom.unwrap_or(dflt.custom),
    }
}

/// `delay_model:` (default sequential).
fn delay_model_of(name: Option<&str>, c: &mut Check) -> DelayModel {
    match name {
        None | Some("sequential") => DelayModel::Sequential,
        Some("layered") => DelayModel::Layered,
        Some(other) => {
            c.err(
                "delay_model",
                format!("unknown delay model '{other}': expected 'sequential' or 'layered'"),
            );
            DelayModel::Sequential
        }
    }
}
