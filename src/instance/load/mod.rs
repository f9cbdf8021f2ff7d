//! Parse and validate an instance file into an [`Instance`].
//!
//! Every check pushes into one [`Diagnostics`] list and loading goes on, so
//! a user sees all problems of a file at once. Only problems that make the
//! rest meaningless (unparseable YAML, a broken DNN graph) stop early.

mod dnn;
mod network;
mod objective;
mod parse;
mod profiles;
mod quantization;
mod tasks;

use super::limits::check_declared;
use super::raw::*;
use super::scale::Scale;
use super::source::FileSource;
use super::*;
use crate::error::{Diagnostics, Error, Result};
use dnn::build_dnns;
use network::build_network;
use objective::build_objective;
use parse::*;
pub(crate) use parse::{parse_yaml, read_text, serde_message, too_deep};
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
    let split: super::section::Split =
        parse_yaml(text, &file, "an instance mapping with `version: 1`")
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
    let inst = build(split, &file, &refs, opts, &mut d);
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
    split: super::section::Split,
    file: &Path,
    refs: &Refs,
    opts: &LoadOptions,
    d: &mut Diagnostics,
) -> Option<Instance> {
    let super::section::Split { raw, sections } = split;
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

    // --- DNN(s) (possibly in their own files) ---
    let raws = read_dnns(raw.dnn, raw.dnns, file, refs, &mut c)?;
    // Nothing is expanded before the declared sizes are within the limits.
    let tasks = raw.tasks.len();
    let nodes = raw.network.nodes.len();
    for (raw_dnn, dnn_file, prefix) in &raws {
        if let Err((path, msg)) = check_declared(raw_dnn, prefix, tasks, nodes, &opts.limits) {
            let at = if path.starts_with("network") || path == "tasks" {
                file.to_path_buf()
            } else {
                dnn_file.clone()
            };
            c.d.push(&at, path, msg);
            return None;
        }
    }
    let places: Vec<(PathBuf, String)> = raws
        .iter()
        .map(|(_, f, p)| (f.clone(), p.clone()))
        .collect();
    // A broken DNN does not stop the checks of the other sections.
    let built = build_dnns(raws, &opts.limits, tasks, nodes, file, &mut c);

    // --- network ---
    let network = build_network(&raw.network, &opts.limits, &mut c);

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

    let profiles = match dnn.as_ref() {
        Some(d) => profiles::build_profiles(
            raw.profiles.as_ref(),
            refs,
            d,
            &network,
            &quantization.groups,
            &mut c,
        ),
        None => super::profile::Profiles::new(&network),
    };

    let objective = build_objective(raw.objective.as_ref(), &mut c);
    let families = families_of(raw.constraints.as_ref(), &mut c);
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
    let sections = load_sections(
        &sections,
        &dnn,
        &network,
        &task_names,
        &quantization,
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
        sections,
        profiles,
    };
    // Derived quantities are only meaningful once every number is valid.
    if c.d.is_empty() {
        super::scale::check(&inst, &mut Scale::new(c.d, file, places));
    }
    Some(inst)
}

/// Each DNN as written, the file it is in and the prefix of its field
/// paths (`dnn.` or `dnns[i].` inline, none in its own file): `dnn`
/// alone or the list `dnns`; `None` when neither or both are given, or a
/// file cannot be read or parsed (the problem is recorded).
fn read_dnns(
    one: Option<RawDnnRef>,
    many: Option<Vec<RawDnnRef>>,
    file: &Path,
    refs: &Refs,
    c: &mut Check,
) -> Option<Vec<(RawDnn, PathBuf, String)>> {
    let list: Vec<(RawDnnRef, String)> = match (one, many) {
        (Some(d), None) => vec![(d, "dnn".to_string())],
        (None, Some(list)) if !list.is_empty() => list
            .into_iter()
            .enumerate()
            .map(|(i, d)| (d, format!("dnns[{i}]")))
            .collect(),
        (None, Some(_)) => {
            c.err("dnns", "empty list: expected at least one DNN");
            return None;
        }
        (None, None) => {
            c.err(
                "dnn",
                "missing field `dnn`: expected `dnn` (one parent DNN) or `dnns` (a list of them)",
            );
            return None;
        }
        (Some(_), Some(_)) => {
            c.err(
                "dnns",
                "both `dnn` and `dnns` are given: expected `dnn` for one parent DNN or `dnns` for several",
            );
            return None;
        }
    };
    let mut out = Vec::new();
    let mut failed = false;
    for (d, field) in list {
        match d {
            RawDnnRef::Inline(r) => out.push((r, file.to_path_buf(), format!("{field}."))),
            RawDnnRef::File { file: rel } => {
                match refs
                    .read(&rel, &format!("{field}.file"))
                    .and_then(|(p, t)| {
                        parse_yaml::<RawDnn>(&t, &p, "a DNN mapping (input, layers, output)")
                            .map(|r| (r, p))
                    }) {
                    Ok((r, p)) => out.push((r, p, String::new())),
                    Err(e) => {
                        failed = true;
                        c.d.extend(e.diagnostics().cloned().unwrap_or_default());
                    }
                }
            }
        }
    }
    (!failed).then_some(out)
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

/// The families switched on and off by `constraints:` (unnamed: on);
/// a name that is not a switchable family of the registry is a problem.
fn families_of(raw: Option<&indexmap::IndexMap<String, bool>>, c: &mut Check) -> Families {
    let mut families = Families::default();
    for (name, &on) in raw.into_iter().flatten() {
        if let Err(msg) = families.set(name, on) {
            c.err(format!("constraints.{name}"), msg);
        }
    }
    families
}

/// The families' own sections, each validated by its family.
fn load_sections(
    raw: &[(&'static str, serde_yaml::Value)],
    dnn: &Dnn,
    network: &Network,
    task_names: &[String],
    quantization: &Quantization,
    c: &mut Check,
) -> super::section::Sections {
    let mut out = super::section::Sections::default();
    let mut seen = std::collections::HashSet::new();
    for (key, value) in raw {
        if !seen.insert(*key) {
            c.err(*key, format!("duplicate field `{key}`"));
            continue;
        }
        let Some(fam) = crate::milp::families::all().find(|f| f.section() == Some(*key)) else {
            continue;
        };
        let mut input = super::section::SectionInput {
            key,
            value,
            dnn,
            network,
            tasks: task_names,
            groups: &quantization.groups,
            check: c,
        };
        if let Some(data) = fam.load(&mut input) {
            out.insert(key, data);
        }
    }
    out
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
