//! Parse and validate an instance file into an [`Instance`].
//!
//! Every check pushes into one [`Diagnostics`] list and loading goes on, so
//! a user sees all problems of a file at once. Only problems that make the
//! rest meaningless (unparseable YAML, a broken DNN graph) stop early.

use super::limits::check_declared;
use super::raw::*;
use super::scale::Scale;
use super::source::FileSource;
use super::*;
use crate::dnn::Atom;
use crate::error::{Diagnostics, Error, Result};
use crate::network::{Link, Node};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

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

/// Reads a whole file from disk as UTF-8 text, at most
/// [`DEFAULT_MAX_FILE_BYTES`](super::source::DEFAULT_MAX_FILE_BYTES); a
/// missing, empty, binary or oversized file is a diagnostic naming
/// `referrer` and the field (`field`) that referred to it.
pub(crate) fn read_text(path: &Path, referrer: &Path, field: &str) -> Result<String> {
    super::source::read_disk(path, super::source::DEFAULT_MAX_FILE_BYTES, referrer, field)
}

/// Deserializes YAML text, turning serde's error into a diagnostic with the
/// field path and position.
pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &Path,
    expected: &str,
) -> Result<T> {
    if text.trim().is_empty() {
        return Err(Error::invalid(
            file,
            "",
            format!("the file is empty: expected {expected}"),
        ));
    }
    if let Some((line, what)) = too_deep(text) {
        return Err(Error::invalid(
            file,
            format!("line {line}"),
            format!("{what}: expected {expected}, a few levels deep"),
        ));
    }
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let inner = e.into_inner();
        let mut msg = serde_message(inner.to_string(), &path, expected);
        if path.is_empty()
            && (msg.starts_with("missing field") || msg.contains("EOF"))
            && serde_yaml::from_str::<serde_yaml::Value>(text)
                .is_ok_and(|v| v == serde_yaml::Value::Null)
        {
            msg = format!("the file is empty (only comments or null): expected {expected}");
        }
        if let Some(loc) = inner.location() {
            // serde_yaml appends the position itself in most messages.
            let suffix = format!("line {} column {}", loc.line(), loc.column());
            if !msg.contains(&suffix) {
                msg = format!("{msg} at {suffix}");
            }
        }
        Error::invalid(file, path, msg)
    })
}

/// A serde message made readable: without the path serde_yaml puts in
/// front of some (the problem shows it already), with "a mapping" or
/// `expected` for internal type names, and cut short when it quotes a
/// huge value.
fn serde_message(mut msg: String, path: &str, expected: &str) -> String {
    if let Some((head, rest)) = msg.split_once(": ") {
        if !head.is_empty() && !head.contains(' ') && path.starts_with(head) {
            msg = rest.to_string();
        }
    }
    if let Some(at) = msg.find("struct Raw") {
        let name_end = msg[at + 7..]
            .find(|c: char| !c.is_alphanumeric())
            .map_or(msg.len(), |e| at + 7 + e);
        let what = if path.is_empty() {
            expected
        } else {
            "a mapping"
        };
        msg.replace_range(at..name_end, what);
    }
    for (ty, what) in [
        ("expected f64", "expected a number"),
        ("expected u64", "expected a whole number ≥ 0"),
        ("expected u32", "expected a whole number ≥ 0"),
    ] {
        msg = msg.replace(ty, what);
    }
    const MAX: usize = 400;
    if msg.len() > MAX {
        let cut = |i: usize| (i..=msg.len()).find(|&j| msg.is_char_boundary(j));
        let head = cut(MAX / 2).unwrap_or(msg.len());
        let tail = cut(msg.len() - MAX / 2).unwrap_or(msg.len());
        msg = format!("{} […] {}", &msg[..head], &msg[tail..]);
    }
    msg
}

/// Deepest nesting a file may have. serde_yaml gives up after 128 levels
/// anyway, but only once the YAML parser has read the whole document,
/// which takes minutes and gigabytes for megabytes of `[[[[`.
const MAX_NESTING: usize = 1000;

/// Finds nesting deeper than [`MAX_NESTING`]: flow collections (`[`, `{`,
/// outside comments) open across lines, or block indentation (spaces and
/// `- `, `? `, `: ` indicators) at the start of a line. Returns the line
/// and what was found. Brackets inside quoted strings count too, which can
/// only over-count in files no one writes.
pub(crate) fn too_deep(text: &str) -> Option<(usize, String)> {
    let mut depth = 0usize;
    for (i, line) in text.as_bytes().split(|&b| b == b'\n').enumerate() {
        let indent = line
            .iter()
            .take_while(|&&b| matches!(b, b' ' | b'-' | b'?' | b':' | b'\t'))
            .count();
        if indent > MAX_NESTING {
            return Some((
                i + 1,
                format!("indentation of {indent} columns, more than {MAX_NESTING}"),
            ));
        }
        let mut prev = b' ';
        for &b in line {
            match b {
                b'#' if prev == b' ' || prev == b'\t' => break,
                b'[' | b'{' => depth += 1,
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_NESTING {
                return Some((
                    i + 1,
                    format!("brackets nested more than {MAX_NESTING} deep"),
                ));
            }
            prev = b;
        }
    }
    None
}

/// serde says only "did not match any variant of untagged enum" for any
/// mistake inside `dnn` or `objective.normalization`; find the real one.
fn explain_untagged(e: Error, text: &str, file: &Path) -> Error {
    let Some([p]) = e.diagnostics().map(|d| d.problems.as_slice()) else {
        return e;
    };
    if !p.message.contains("untagged enum") {
        return e;
    }
    // serde's position here is that of the enclosing mapping: find the key.
    let key = format!("{}:", p.path.rsplit('.').next().unwrap_or_default());
    let at = text
        .lines()
        .position(|l| l.trim_start().starts_with(&key))
        .map(|i| format!(" at line {}", i + 1))
        .unwrap_or_default();
    if p.path != "dnn" {
        if p.message.contains("RawNormalization") {
            return Error::invalid(
                file,
                p.path.clone(),
                format!("expected 'none', 'payoff' or {{scales: {{time, energy, cost}}}} with numbers{at}"),
            );
        }
        return e;
    }
    let Some(dnn) = serde_yaml::from_str::<serde_yaml::Value>(text)
        .ok()
        .and_then(|doc| doc.get("dnn").cloned())
    else {
        return e;
    };
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct FileRef {
        #[allow(dead_code)]
        file: String,
    }
    let expected = "expected `{file: path}` or an inline DNN mapping (input, layers, output)";
    let found = match &dnn {
        serde_yaml::Value::Mapping(m) if m.contains_key("file") => {
            serde_path_to_error::deserialize::<_, FileRef>(dnn.clone()).map(drop)
        }
        serde_yaml::Value::Mapping(_) => {
            serde_path_to_error::deserialize::<_, RawDnn>(dnn.clone()).map(drop)
        }
        other => {
            let mut shown = serde_yaml::to_string(other).unwrap_or_default();
            shown = shown.trim().chars().take(40).collect();
            return Error::invalid(file, "dnn", format!("found `{shown}`: {expected}{at}"));
        }
    };
    match found {
        Ok(()) => e,
        Err(inner) => {
            let sub = inner.path().to_string();
            let path = if sub == "." {
                "dnn".to_string()
            } else {
                format!("dnn.{sub}")
            };
            let msg = serde_message(inner.into_inner().to_string(), &path, "");
            Error::invalid(file, path, format!("{msg} (in the `dnn` section{at})"))
        }
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
    if raw.tasks.is_empty() {
        c.err("tasks", "no tasks: expected at least one task");
    }
    let mut tasks = Vec::new();
    let mut seen = HashMap::new();
    for (i, rt) in raw.tasks.iter().enumerate() {
        let p = format!("tasks[{i}]");
        if let Some(j) = seen.insert(rt.name.clone(), i) {
            c.err(
                format!("{p}.name"),
                format!("duplicate task name '{}' (also tasks[{j}])", rt.name),
            );
        }
        tasks.push(build_task(rt, &p, dnn.as_ref(), &network, &mut c));
    }
    if let (Some(rel), Some(dnn)) = (&raw.relevance_file, dnn.as_ref()) {
        read_relevance_csv(refs, rel, dnn, &mut tasks, &mut c);
    }

    let objective = build_objective(raw.objective.as_ref(), &mut c);
    let f = raw.constraints.unwrap_or_default();
    let dflt = Families::default();
    let families = Families {
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
    };
    let delay_model = match raw.delay_model.as_deref() {
        None | Some("sequential") => DelayModel::Sequential,
        Some("layered") => DelayModel::Layered,
        Some(other) => {
            c.err(
                "delay_model",
                format!("unknown delay model '{other}': expected 'sequential' or 'layered'"),
            );
            DelayModel::Sequential
        }
    };
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

/// Builds the DNN; returns it with each atom's group name (resolved to an
/// index once the quantization section is read).
fn build_dnn(raw: RawDnn, prefix: &str, c: &mut Check) -> Option<(Dnn, Vec<Option<String>>)> {
    let before = c.d.len();
    let mut atoms: Vec<Atom> = Vec::new();
    let mut groups: Vec<Option<String>> = Vec::new();
    let mut ids: HashMap<String, String> = HashMap::new(); // atom id -> where declared
    let mut layers: Vec<(String, Vec<usize>)> = Vec::new();
    let mut layer_ix: HashMap<String, usize> = HashMap::new();

    let mut add_atom = |c: &mut Check, where_: String, atom: Atom, group: Option<String>| {
        if let Some(prev) = ids.get(&atom.id) {
            c.err(
                where_.clone(),
                format!(
                    "duplicate atom id '{}' (already declared at {prev}): expected ids unique in the DNN",
                    atom.id
                ),
            );
        } else {
            ids.insert(atom.id.clone(), where_);
        }
        atoms.push(atom);
        groups.push(group);
        atoms.len() - 1
    };
    let mk = |id: String, layer: &str, flops, param_bytes, out_bytes, mandatory| Atom {
        id,
        layer: layer.to_string(),
        flops,
        param_bytes,
        out_bytes,
        level: 0,
        group: None,
        mandatory,
    };

    // Input atom.
    let p_in = format!("{prefix}input");
    let in_bytes = c.num(
        &format!("{p_in}.out_bytes"),
        raw.input.out_bytes.unwrap_or(0.0),
        0.0,
        false,
        "number of bytes",
    );
    if raw.input.inputs.is_some() {
        c.err(
            format!("{p_in}.inputs"),
            "the input atom has no inputs: remove this field",
        );
    }
    let input = add_atom(
        c,
        p_in.clone(),
        mk(
            raw.input.name.clone(),
            &raw.input.name,
            0.0,
            0.0,
            in_bytes,
            true,
        ),
        None,
    );
    layers.push((raw.input.name.clone(), vec![input]));
    layer_ix.insert(raw.input.name.clone(), 0);

    // Compute layers.
    for (li, l) in raw.layers.iter().enumerate() {
        let p = format!("{prefix}layers[{li}]");
        if layer_ix.contains_key(&l.name) {
            c.err(
                format!("{p}.name"),
                format!("duplicate layer name '{}'", l.name),
            );
        }
        let num = |c: &mut Check, field: &str, v: Option<f64>| {
            c.num(
                &format!("{p}.{field}"),
                v.unwrap_or(0.0),
                0.0,
                false,
                "number",
            )
        };
        let flops = num(c, "flops", l.flops);
        let param_bytes = num(c, "param_bytes", l.param_bytes);
        let out_bytes = num(c, "out_bytes", l.out_bytes);
        let mandatory = l.mandatory.unwrap_or(false);
        let mut members = Vec::new();
        match (&l.atoms, l.count) {
            (Some(_), Some(_)) => c.err(
                format!("{p}.count"),
                "a layer has either `count` or `atoms`, not both",
            ),
            (Some(list), None) => {
                if list.is_empty() {
                    c.err(
                        format!("{p}.atoms"),
                        "empty atom list: expected at least one atom",
                    );
                }
                for (ai, ra) in list.iter().enumerate() {
                    let pa = format!("{p}.atoms[{ai}]");
                    let v = |c: &mut Check, f: &str, x: Option<f64>, d: f64| {
                        c.num(&format!("{pa}.{f}"), x.unwrap_or(d), 0.0, false, "number")
                    };
                    let atom = mk(
                        ra.name.clone(),
                        &l.name,
                        v(c, "flops", ra.flops, flops),
                        v(c, "param_bytes", ra.param_bytes, param_bytes),
                        v(c, "out_bytes", ra.out_bytes, out_bytes),
                        ra.mandatory.unwrap_or(mandatory),
                    );
                    let g = ra.group.clone().or_else(|| l.group.clone());
                    members.push(add_atom(c, format!("{pa}.name"), atom, g));
                }
            }
            (None, count) => {
                let n = count.unwrap_or(1);
                if n == 0 {
                    c.err(format!("{p}.count"), "count 0: expected at least 1 atom");
                }
                for k in 0..n {
                    let id = if n == 1 {
                        l.name.clone()
                    } else {
                        format!("{}.{k}", l.name)
                    };
                    let atom = mk(id, &l.name, flops, param_bytes, out_bytes, mandatory);
                    members.push(add_atom(c, format!("{p}.name"), atom, l.group.clone()));
                }
            }
        }
        layer_ix.insert(l.name.clone(), layers.len());
        layers.push((l.name.clone(), members));
    }

    // Output atom.
    let p_out = format!("{prefix}output");
    if raw.output.out_bytes.is_some_and(|b| b != 0.0) {
        c.err(
            format!("{p_out}.out_bytes"),
            "the output atom sends nothing on: remove this field",
        );
    }
    let output = add_atom(
        c,
        p_out.clone(),
        mk(
            raw.output.name.clone(),
            &raw.output.name,
            0.0,
            0.0,
            0.0,
            true,
        ),
        None,
    );
    if layer_ix.contains_key(&raw.output.name) {
        c.err(
            format!("{p_out}.name"),
            format!("duplicate layer name '{}'", raw.output.name),
        );
    }
    layer_ix.insert(raw.output.name.clone(), layers.len());
    layers.push((raw.output.name.clone(), vec![output]));

    if c.d.len() > before {
        return None;
    }

    // Edges: dense from each `inputs` layer (default: the previous one).
    // `origin` keeps the field that first wrote each edge, for messages.
    let mut edges: Vec<(usize, usize)> = Vec::new();
    let mut origin: HashMap<(usize, usize), String> = HashMap::new();
    let mut dense = |c: &mut Check, field: String, inputs: &Option<Vec<String>>, li: usize| {
        let names: Vec<String> = match inputs {
            Some(v) => v.clone(),
            None => vec![layers[li - 1].0.clone()],
        };
        for (k, name) in names.iter().enumerate() {
            // The implicit default input is attributed to the layer's name.
            let at = if inputs.is_some() {
                format!("{field}[{k}]")
            } else {
                field.trim_end_matches(".inputs").to_string() + ".name"
            };
            match layer_ix.get(name) {
                None => c.err(
                    format!("{field}[{k}]"),
                    format!("unknown layer '{name}': expected the name of the input or a layer"),
                ),
                Some(&src) if src == layers.len() - 1 => c.err(
                    format!("{field}[{k}]"),
                    format!("'{name}' is the output atom, which feeds nothing"),
                ),
                Some(&src) => {
                    for &a in &layers[src].1 {
                        for &b in &layers[li].1 {
                            edges.push((a, b));
                            origin.entry((a, b)).or_insert_with(|| at.clone());
                        }
                    }
                }
            }
        }
    };
    for (li, l) in raw.layers.iter().enumerate() {
        dense(c, format!("{prefix}layers[{li}].inputs"), &l.inputs, li + 1);
    }
    dense(
        c,
        format!("{p_out}.inputs"),
        &raw.output.inputs,
        layers.len() - 1,
    );
    let atom_ix: HashMap<&str, usize> = atoms
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let resolve = |name: &str| -> Option<Vec<usize>> {
        if let Some(&a) = atom_ix.get(name) {
            Some(vec![a])
        } else {
            layer_ix.get(name).map(|&l| layers[l].1.clone())
        }
    };
    for (ei, (from, to)) in raw.edges.iter().enumerate() {
        let p = format!("{prefix}edges[{ei}]");
        let f = resolve(from);
        let t = resolve(to);
        if f.is_none() {
            c.err(format!("{p}[0]"), format!("unknown atom or layer '{from}'"));
        }
        if t.is_none() {
            c.err(format!("{p}[1]"), format!("unknown atom or layer '{to}'"));
        }
        if let (Some(f), Some(t)) = (f, t) {
            for &a in &f {
                for &b in &t {
                    edges.push((a, b));
                    origin.entry((a, b)).or_insert_with(|| p.clone());
                }
            }
        }
    }
    edges.sort_unstable();
    edges.dedup();
    for &(a, b) in &edges {
        if a == b {
            c.err(
                origin[&(a, b)].clone(),
                format!(
                    "self-loop on atom '{}': expected an acyclic DNN (a layer cannot feed itself)",
                    atoms[a].id
                ),
            );
        }
        if b == input {
            c.err(
                origin[&(a, b)].clone(),
                format!(
                    "edge '{}' -> '{}' enters the input atom, which has no predecessors",
                    atoms[a].id, atoms[b].id
                ),
            );
        }
    }
    if c.d.len() > before {
        return None;
    }

    // Graph checks: acyclic, everything between input and output.
    let n = atoms.len();
    let mut g: petgraph::graph::DiGraph<(), ()> = petgraph::graph::DiGraph::new();
    for _ in 0..n {
        g.add_node(());
    }
    for &(a, b) in &edges {
        g.add_edge(
            petgraph::graph::NodeIndex::new(a),
            petgraph::graph::NodeIndex::new(b),
            (),
        );
    }
    let mut cyclic = false;
    for scc in petgraph::algo::tarjan_scc(&g) {
        if scc.len() > 1 {
            cyclic = true;
            // Atoms are numbered in declaration order, so every cycle has
            // an edge back to an earlier atom: blame the field that wrote
            // the first such edge.
            let inside: HashSet<usize> = scc.iter().map(|v| v.index()).collect();
            let back = edges
                .iter()
                .find(|&&(a, b)| b < a && inside.contains(&a) && inside.contains(&b));
            let (field, via) = match back {
                Some(&(a, b)) => (
                    origin[&(a, b)].clone(),
                    format!(
                        "edge '{}' -> '{}' goes back to an earlier atom, and ",
                        atoms[a].id, atoms[b].id
                    ),
                ),
                None => (format!("{prefix}layers"), String::new()),
            };
            let mut names: Vec<&str> = scc.iter().map(|v| atoms[v.index()].id.as_str()).collect();
            names.sort_unstable();
            let shown = names.iter().take(8).copied().collect::<Vec<_>>().join(", ");
            let more = if names.len() > 8 {
                format!(" and {} more", names.len() - 8)
            } else {
                String::new()
            };
            c.err(
                field,
                format!(
                    "{via}the edges form a cycle through atoms {shown}{more}: expected an acyclic DNN"
                ),
            );
        }
    }
    if cyclic {
        return None;
    }
    let reach = |start: usize, rev: bool| -> Vec<bool> {
        let mut seen = vec![false; n];
        let dir = if rev {
            petgraph::Direction::Incoming
        } else {
            petgraph::Direction::Outgoing
        };
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(v) = stack.pop() {
            for w in g.neighbors_directed(petgraph::graph::NodeIndex::new(v), dir) {
                if !seen[w.index()] {
                    seen[w.index()] = true;
                    stack.push(w.index());
                }
            }
        }
        seen
    };
    let from_in = reach(input, false);
    let to_out = reach(output, true);
    let mut report = |what: &str, bad: Vec<&str>| {
        if !bad.is_empty() {
            let shown = bad.iter().take(8).copied().collect::<Vec<_>>().join(", ");
            let more = if bad.len() > 8 {
                format!(" and {} more", bad.len() - 8)
            } else {
                String::new()
            };
            c.err(
                format!("{prefix}layers"),
                format!("atoms {shown}{more} {what}"),
            );
        }
    };
    report(
        "cannot be reached from the input atom: every atom must lie on a path from input to output",
        (0..n)
            .filter(|&a| !from_in[a])
            .map(|a| atoms[a].id.as_str())
            .collect(),
    );
    report(
        "do not reach the output atom: every atom must lie on a path from input to output",
        (0..n)
            .filter(|&a| !to_out[a])
            .map(|a| atoms[a].id.as_str())
            .collect(),
    );
    if c.d.len() > before {
        return None;
    }
    let name = raw.name.unwrap_or_else(|| "dnn".to_string());
    Some((
        Dnn::from_parts(name, atoms, &edges, input, output, layers),
        groups,
    ))
}

fn build_network(raw: &RawNetwork, c: &mut Check) -> Network {
    let mut nodes = Vec::new();
    let mut names: HashMap<&str, usize> = HashMap::new();
    if raw.nodes.is_empty() {
        c.err("network.nodes", "no nodes: expected at least one node");
    }
    for (i, rn) in raw.nodes.iter().enumerate() {
        let p = format!("network.nodes[{i}]");
        if let Some(j) = names.insert(&rn.name, i) {
            c.err(
                format!("{p}.name"),
                format!(
                    "duplicate node name '{}' (also network.nodes[{j}])",
                    rn.name
                ),
            );
        }
        let speed = c.num(&format!("{p}.speed"), rn.speed, 0.0, true, "FLOP/s");
        let memory = c.num(
            &format!("{p}.memory"),
            rn.memory,
            0.0,
            false,
            "number of bytes",
        );
        let power = c.num(
            &format!("{p}.power"),
            rn.power.unwrap_or(0.0),
            0.0,
            false,
            "power in W",
        );
        let price = c.num(
            &format!("{p}.price"),
            rn.price.unwrap_or(0.0),
            0.0,
            false,
            "price per second",
        );
        let qs = c.num(
            &format!("{p}.quant_speedup"),
            rn.quant_speedup.unwrap_or(1.0),
            1.0,
            false,
            "speed-up",
        );
        let mu = rn
            .max_utilization
            .map(|v| c.num(&format!("{p}.max_utilization"), v, 0.0, true, "utilization"));
        let mp = rn
            .max_power
            .map(|v| c.num(&format!("{p}.max_power"), v, 0.0, false, "power in W"));
        nodes.push(Node {
            name: rn.name.clone(),
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            memory,
            power,
            price,
            quant_speedup: qs,
            max_utilization: mu,
            max_power: mp,
        });
    }
    let mut links = Vec::new();
    let mut pairs: HashMap<(usize, usize), String> = HashMap::new();
    for (i, rl) in raw.links.iter().enumerate() {
        let p = format!("network.links[{i}]");
        let from = names.get(rl.from.as_str()).copied();
        let to = names.get(rl.to.as_str()).copied();
        let known = names.keys().copied().collect::<Vec<_>>().join(", ");
        if from.is_none() {
            c.err(
                format!("{p}.from"),
                format!("unknown node '{}': expected one of {known}", rl.from),
            );
        }
        if to.is_none() {
            c.err(
                format!("{p}.to"),
                format!("unknown node '{}': expected one of {known}", rl.to),
            );
        }
        let bw = c.num(
            &format!("{p}.bandwidth"),
            rl.bandwidth,
            0.0,
            true,
            "bandwidth in B/s",
        );
        let lat = c.num(
            &format!("{p}.latency"),
            rl.latency.unwrap_or(0.0),
            0.0,
            false,
            "latency in s",
        );
        let pw = c.num(
            &format!("{p}.power"),
            rl.power.unwrap_or(0.0),
            0.0,
            false,
            "power in W",
        );
        let pr = c.num(
            &format!("{p}.price"),
            rl.price.unwrap_or(0.0),
            0.0,
            false,
            "price per byte",
        );
        let (Some(f), Some(t)) = (from, to) else {
            continue;
        };
        if f == t {
            c.err(
                p.clone(),
                format!(
                    "link from '{}' to itself: transfers within a node are free",
                    rl.from
                ),
            );
            continue;
        }
        let mut dirs = vec![(f, t)];
        if rl.symmetric.unwrap_or(false) {
            dirs.push((t, f));
        }
        for (f, t) in dirs {
            if let Some(prev) = pairs.insert((f, t), p.clone()) {
                c.err(
                    p.clone(),
                    format!(
                        "duplicate link {} -> {} (also {prev})",
                        nodes[f].name, nodes[t].name
                    ),
                );
            }
            // Invalid numbers are already reported; stand-ins keep the
            // shortest paths of `Network::new` well defined meanwhile.
            let ok = |v: f64| v.is_finite() && v >= 0.0;
            links.push(Link {
                from: f,
                to: t,
                bandwidth: if bw > 0.0 && bw.is_finite() { bw } else { 1.0 },
                latency: if ok(lat) { lat } else { 0.0 },
                power: if ok(pw) { pw } else { 0.0 },
                price: if ok(pr) { pr } else { 0.0 },
            });
        }
    }
    Network::new(nodes, links)
}

/// `atom_groups` is `None` when the DNN is broken: the groups its atoms
/// name are then unknown, and are not checked.
fn build_quantization(
    raw: Option<&RawQuantization>,
    atom_groups: Option<&[Option<String>]>,
    refs: &Refs,
    limits: &Limits,
    c: &mut Check,
) -> Quantization {
    let dnn_known = atom_groups.is_some();
    let mut used: Vec<String> = Vec::new();
    for g in atom_groups.unwrap_or_default().iter().flatten() {
        if !used.contains(g) {
            used.push(g.clone());
        }
    }
    let Some(raw) = raw else {
        // No quantization section: the DNN's groups cannot be quantized
        // (no noise model, factors 1), so they are dropped.
        return Quantization {
            groups: Vec::new(),
            weight_factor: 1.0,
            activation_factor: 1.0,
            noise: NoiseModel::default(),
            max_noise: None,
        };
    };
    let groups = match &raw.groups {
        None => used.clone(),
        Some(list) => {
            let mut seen = HashSet::new();
            for (i, g) in list.iter().enumerate() {
                if !seen.insert(g) {
                    c.err(
                        format!("quantization.groups[{i}]"),
                        format!("duplicate group '{g}'"),
                    );
                }
                if dnn_known && !used.contains(g) {
                    c.err(
                        format!("quantization.groups[{i}]"),
                        format!("group '{g}' has no atoms: no layer or atom of the DNN names it"),
                    );
                }
            }
            for g in &used {
                if !list.contains(g) {
                    c.err(
                        "quantization.groups",
                        format!("the DNN puts atoms in group '{g}', which is not listed here"),
                    );
                }
            }
            list.clone()
        }
    };
    let factor = |c: &mut Check, f: &str, v: Option<f64>| {
        let v = v.unwrap_or(1.0);
        if !(v.is_finite() && v > 0.0 && v <= 1.0) {
            c.err(
                format!("quantization.{f}"),
                format!("value {v} is not allowed: expected a factor in (0, 1]"),
            );
        }
        v
    };
    let weight_factor = factor(c, "weight_factor", raw.weight_factor);
    let activation_factor = factor(c, "activation_factor", raw.activation_factor);
    let mut noise = NoiseModel::default();
    if let Some(rn) = &raw.noise {
        noise.intercept = rn.intercept.unwrap_or(0.0);
        if !noise.intercept.is_finite() {
            c.err(
                "quantization.noise.intercept",
                format!(
                    "value {} is not allowed: expected a finite number",
                    noise.intercept
                ),
            );
        }
        for (i, t) in rn.terms.iter().enumerate() {
            let p = format!("quantization.noise.terms[{i}]");
            if !t.coef.is_finite() {
                c.err(
                    format!("{p}.coef"),
                    format!("value {} is not allowed: expected a finite number", t.coef),
                );
            }
            if t.groups.is_empty() {
                c.err(
                    format!("{p}.groups"),
                    "empty monomial: the constant term is `intercept`",
                );
            }
            let mut s = Vec::new();
            for (k, g) in t.groups.iter().enumerate() {
                match groups.iter().position(|x| x == g) {
                    // Groups of a broken DNN are unknown: nothing to check.
                    None if !dnn_known && raw.groups.is_none() => {}
                    None => c.err(
                        format!("{p}.groups[{k}]"),
                        format!("unknown group '{g}': expected one of {}", groups.join(", ")),
                    ),
                    Some(gi) if s.contains(&gi) => c.err(
                        format!("{p}.groups[{k}]"),
                        format!(
                            "group '{g}' repeated: q² = q, so a monomial lists each group once"
                        ),
                    ),
                    Some(gi) => s.push(gi),
                }
            }
            s.sort_unstable();
            noise.terms.push((s, t.coef));
        }
        if let Some(f) = &rn.fit {
            if rn.intercept.is_some() || !rn.terms.is_empty() {
                c.err(
                    "quantization.noise.fit",
                    "give either `fit` or `intercept` and `terms`, not both",
                );
            } else if let Some(fitted) = fit_at_load(f, &groups, refs, limits, c) {
                noise = fitted;
            }
        }
    }
    let max_noise = raw
        .max_noise
        .map(|v| c.num("quantization.max_noise", v, 0.0, false, "noise bound"));
    Quantization {
        groups,
        weight_factor,
        activation_factor,
        noise,
        max_noise,
    }
}

fn build_task(rt: &RawTask, p: &str, dnn: Option<&Dnn>, net: &Network, c: &mut Check) -> Task {
    let rate = c.num(
        &format!("{p}.rate"),
        rt.rate,
        0.0,
        true,
        "rate in requests/s",
    );
    let node = |c: &mut Check, field: &str, name: &str| -> usize {
        net.node_by_name(name).unwrap_or_else(|| {
            let known = net
                .nodes
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            c.err(
                format!("{p}.{field}"),
                format!("unknown node '{name}': expected one of {known}"),
            );
            0
        })
    };
    let source = node(c, "source", &rt.source);
    let sink = match &rt.sink {
        Some(s) => node(c, "sink", s),
        None => source,
    };
    let max_delay = match rt.max_delay {
        Some(v) => c.num(&format!("{p}.max_delay"), v, 0.0, true, "delay in s"),
        None => f64::INFINITY,
    };
    let min_quality = rt.min_quality.unwrap_or(0.0);
    if !min_quality.is_finite() {
        c.err(
            format!("{p}.min_quality"),
            format!("value {min_quality} is not allowed: expected a finite number"),
        );
    }
    let q = rt.quality.as_ref();
    let curve = match q.and_then(|q| q.curve.as_ref()) {
        None => AccuracyCurve::identity(),
        Some(pts) => check_curve(pts, &format!("{p}.quality.curve"), c),
    };
    let noise_sensitivity = c.num(
        &format!("{p}.quality.noise_sensitivity"),
        q.and_then(|q| q.noise_sensitivity).unwrap_or(0.0),
        0.0,
        false,
        "sensitivity",
    );
    let mut relevance = vec![0.0; dnn.map_or(0, Dnn::len)];
    if let (Some(map), Some(dnn)) = (&rt.relevance, dnn) {
        for (key, &v) in map {
            let path = format!("{p}.relevance.{key}");
            c.num(&path, v, 0.0, false, "relevance score");
            set_relevance(dnn, key, v, &mut relevance, || {
                c.err(path.clone(), unknown_atom(key))
            });
        }
    }
    Task {
        name: rt.name.clone(),
        rate,
        source,
        sink,
        max_delay,
        min_quality,
        relevance,
        curve,
        noise_sensitivity,
    }
}

fn unknown_atom(key: &str) -> String {
    format!("unknown atom or layer '{key}': expected an atom id or a layer name of the DNN")
}

/// Sets σ for an atom id, or for every atom of a layer name.
fn set_relevance(dnn: &Dnn, key: &str, v: f64, rel: &mut [f64], unknown: impl FnOnce()) {
    if let Some(a) = dnn.atom_by_id(key) {
        rel[a] = v;
    } else if let Some((_, atoms)) = dnn.layers.iter().find(|(n, _)| n == key) {
        for &a in atoms {
            rel[a] = v;
        }
    } else {
        unknown();
    }
}

fn check_curve(pts: &[(f64, f64)], p: &str, c: &mut Check) -> AccuracyCurve {
    let before = c.d.len();
    if pts.len() < 2 {
        c.err(
            p,
            format!(
                "{} point(s): expected at least 2 points [x, accuracy] from x = 0 to x = 1",
                pts.len()
            ),
        );
        return AccuracyCurve::identity();
    }
    for (i, &(x, y)) in pts.iter().enumerate() {
        if !x.is_finite() || !y.is_finite() {
            c.err(
                format!("{p}[{i}]"),
                format!("[{x}, {y}] is not allowed: expected finite numbers"),
            );
        }
    }
    if c.d.len() > before {
        return AccuracyCurve::identity();
    }
    if pts[0].0 != 0.0 {
        c.err(
            format!("{p}[0]"),
            format!("x = {}: the curve must start at x = 0", pts[0].0),
        );
    }
    if pts[pts.len() - 1].0 != 1.0 {
        c.err(
            format!("{p}[{}]", pts.len() - 1),
            format!("x = {}: the curve must end at x = 1", pts[pts.len() - 1].0),
        );
    }
    let mut prev_slope = f64::INFINITY;
    for i in 1..pts.len() {
        let (x0, y0) = pts[i - 1];
        let (x1, y1) = pts[i];
        if x1 <= x0 {
            c.err(
                format!("{p}[{i}]"),
                format!("x = {x1} after x = {x0}: x must increase strictly"),
            );
            continue;
        }
        if y1 < y0 {
            c.err(
                format!("{p}[{i}]"),
                format!("accuracy {y1} after {y0}: expected a non-decreasing curve"),
            );
        }
        let s = (y1 - y0) / (x1 - x0);
        if s > prev_slope * (1.0 + 1e-9) + 1e-12 {
            c.err(
                format!("{p}[{i}]"),
                format!("point [{x1}, {y1}] makes slope {s:.6} after slope {prev_slope:.6}: expected a concave curve (slopes non-increasing)"),
            );
        }
        prev_slope = s;
    }
    if c.d.len() > before {
        return AccuracyCurve::identity();
    }
    AccuracyCurve {
        points: pts.to_vec(),
    }
}

fn read_relevance_csv(refs: &Refs, rel: &str, dnn: &Dnn, tasks: &mut [Task], c: &mut Check) {
    let (path, text) = match refs.read(rel, "relevance_file") {
        Ok(x) => x,
        Err(e) => {
            c.d.extend(e.diagnostics().cloned().unwrap_or_default());
            return;
        }
    };
    let mut rc = Check {
        d: c.d,
        file: path.to_path_buf(),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    match rdr.headers() {
        Ok(h) if h.iter().collect::<Vec<_>>() == ["atom", "task", "score"] => {}
        Ok(h) => {
            rc.err(
                "line 1",
                format!(
                    "header '{}': expected 'atom,task,score'",
                    h.iter().collect::<Vec<_>>().join(",")
                ),
            );
            return;
        }
        Err(e) => {
            rc.err("line 1", format!("unreadable CSV header: {e}"));
            return;
        }
    }
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    pos: Some(pos),
                    len,
                    ..
                } => {
                    rc.err(
                        format!("line {}", pos.line()),
                        format!("{len} field(s): expected 3 (atom,task,score)"),
                    );
                    continue;
                }
                _ => {
                    rc.err("", format!("malformed CSV: {e}"));
                    return;
                }
            },
        };
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let at = format!("line {line}");
        let (atom, task, score) = (&rec[0], &rec[1], &rec[2]);
        let Some(t) = tasks.iter().position(|t| t.name == task) else {
            let known = tasks
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            rc.err(
                at,
                format!("unknown task '{task}': expected one of {known}"),
            );
            continue;
        };
        let Ok(v) = score.parse::<f64>() else {
            rc.err(
                at,
                format!("score '{score}' is not a number: expected a number ≥ 0"),
            );
            continue;
        };
        rc.num(&at, v, 0.0, false, "relevance score");
        set_relevance(dnn, atom, v, &mut tasks[t].relevance, || {
            rc.err(at.clone(), unknown_atom(atom))
        });
    }
}

fn build_objective(raw: Option<&RawObjective>, c: &mut Check) -> Objective {
    let weights = raw.and_then(|o| o.weights.as_ref());
    let w = |c: &mut Check, f: &str, v: Option<f64>, d: f64| {
        c.num(
            &format!("objective.weights.{f}"),
            v.unwrap_or(d),
            0.0,
            false,
            "weight",
        )
    };
    // Default: time only, the quantity every paper optimizes.
    let weights = Tec {
        time: w(
            c,
            "time",
            weights.and_then(|x| x.time),
            if weights.is_some() { 0.0 } else { 1.0 },
        ),
        energy: w(c, "energy", weights.and_then(|x| x.energy), 0.0),
        cost: w(c, "cost", weights.and_then(|x| x.cost), 0.0),
    };
    if weights.time + weights.energy + weights.cost <= 0.0 {
        c.err(
            "objective.weights",
            "all weights are 0: expected at least one positive weight",
        );
    }
    let normalization = match raw.and_then(|o| o.normalization.as_ref()) {
        None => Normalization::None,
        Some(RawNormalization::Named(s)) if s == "none" => Normalization::None,
        Some(RawNormalization::Named(s)) if s == "payoff" => Normalization::Payoff,
        Some(RawNormalization::Named(s)) => {
            c.err(
                "objective.normalization",
                format!("unknown normalization '{s}': expected 'none', 'payoff' or {{scales: {{time, energy, cost}}}}"),
            );
            Normalization::None
        }
        Some(RawNormalization::Scales { scales }) => {
            let s = |c: &mut Check, f: &str, v: Option<f64>| {
                c.num(
                    &format!("objective.normalization.scales.{f}"),
                    v.unwrap_or(1.0),
                    0.0,
                    true,
                    "scale",
                )
            };
            Normalization::Scales(Tec {
                time: s(c, "time", scales.time),
                energy: s(c, "energy", scales.energy),
                cost: s(c, "cost", scales.cost),
            })
        }
    };
    Objective {
        weights,
        normalization,
    }
}

/// Fits the noise regressor named by `quantization.noise.fit` (samples
/// relative to the instance file), reproducibly: the same samples, degree
/// and ridge always give the same coefficients.
fn fit_at_load(
    f: &RawNoiseFit,
    groups: &[String],
    refs: &Refs,
    limits: &Limits,
    c: &mut Check,
) -> Option<NoiseModel> {
    let (path, text) = match refs.read(&f.samples, "quantization.noise.fit.samples") {
        Ok(x) => x,
        Err(e) => {
            c.d.extend(e.diagnostics().cloned().unwrap_or_default());
            return None;
        }
    };
    let samples = match crate::noise::parse_samples(&text, &path) {
        Ok(s) => s,
        Err(e) => {
            c.err(
                "quantization.noise.fit.samples",
                format!("{}", e).replace('\n', "; "),
            );
            return None;
        }
    };
    let mut column_group = Vec::new();
    for name in &samples.groups {
        match groups.iter().position(|g| g == name) {
            Some(g) => column_group.push(g),
            None => {
                c.err(
                    "quantization.noise.fit.samples",
                    format!(
                        "{}: column '{name}' is not a quantization group (expected some of {})",
                        path.display(),
                        groups.join(", ")
                    ),
                );
                return None;
            }
        }
    }
    let ridge = f.ridge.unwrap_or(0.0);
    if !(ridge.is_finite() && ridge >= 0.0) {
        c.err(
            "quantization.noise.fit.ridge",
            format!("value {ridge} is not allowed: expected a finite λ ≥ 0"),
        );
        return None;
    }
    match crate::noise::fit_with(&samples, f.degree, ridge, limits) {
        Ok(fit) => Some(NoiseModel {
            intercept: fit.intercept,
            terms: fit
                .terms
                .into_iter()
                .map(|(m, coef)| {
                    let mut s: Vec<usize> = m.into_iter().map(|k| column_group[k]).collect();
                    s.sort_unstable();
                    (s, coef)
                })
                .collect(),
        }),
        Err(e) => {
            c.err("quantization.noise.fit", format!("{}: {e}", path.display()));
            None
        }
    }
}
