//! Profiled compute times (`profiles:`): measured seconds per inference of
//! an atom or a whole layer on a node or on every node of a kind, fp32 and
//! optionally quantized. Where an entry applies it replaces
//! `flops / speed` (and `quant_speedup`); [`crate::Instance::compute_s`]
//! is the one place every consumer (evaluator, MILP, heuristics, scale
//! checks, `info`) reads a compute time from.
//!
//! Which entry applies to atom `a` on node `n`: one naming the node itself
//! before one naming its kind; under the same name, one naming the atom or
//! one naming its layer (never both: the loader refuses that as a
//! duplicate). A layer's time is split over its atoms in proportion to
//! their FLOP, or equally when the layer has 0 FLOP.

use crate::dnn::{AtomIx, Dnn};
use crate::network::{Network, NodeIx};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The columns of a profile CSV (`time_q_s` may be left out).
pub const CSV_COLUMNS: [&str; 4] = ["layer", "node", "time_s", "time_q_s"];

/// What an entry times: one atom, or every atom of a layer (index into
/// [`Dnn::layers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// One atom.
    Atom(AtomIx),
    /// Every atom of a layer, its time split over them.
    Layer(usize),
}

/// Where an entry applies: one node, or every node of a kind (index into
/// [`Profiles::kinds`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// One node (named by its name, when it has a kind of another name).
    Node(NodeIx),
    /// Every node of a kind.
    Kind(usize),
}

/// One validated profile entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileEntry {
    /// The atom or layer.
    pub target: Target,
    /// The node or kind.
    pub key: Key,
    /// The atom or layer name as written.
    pub layer: String,
    /// The node or kind name as written.
    pub node: String,
    /// Seconds per inference of the whole target, fp32.
    pub time_s: f64,
    /// Seconds per inference of the whole target, quantized (`None`:
    /// `time_s / quant_speedup` of the node).
    pub time_q_s: Option<f64>,
    /// The file the entry is written in (the instance or the CSV).
    pub file: PathBuf,
    /// Where in it: `profiles.times[3]` or `line 4`.
    pub at: String,
    /// Whether it came from a CSV (then fields are `line N, column C`).
    pub from_csv: bool,
}

impl ProfileEntry {
    /// The path of one of its fields (`time_s`, `layer`, ...) in its file.
    pub fn field(&self, column: &str) -> String {
        if self.from_csv {
            format!("{}, column {column}", self.at)
        } else {
            format!("{}.{column}", self.at)
        }
    }
}

/// The profile table of an instance (empty: every time is
/// `flops / speed`).
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    /// The entries, inline ones first, then the CSV's, in file order.
    pub entries: Vec<ProfileEntry>,
    /// Node kinds, in order of first appearance among the nodes.
    pub kinds: Vec<String>,
    /// The kind of each node (index into `kinds`).
    pub kind_of: Vec<usize>,
    /// The nodes of each kind.
    kind_nodes: Vec<Vec<NodeIx>>,
    /// `0..nodes`, for [`Profiles::nodes_of`] of one node.
    node_ixs: Vec<NodeIx>,
    index: HashMap<(Target, Key), usize>,
    /// Per atom: its layer (index into `Dnn::layers`); empty without entries.
    layer_of: Vec<usize>,
    /// Per atom: its share of its layer's time; empty without entries.
    share: Vec<f64>,
}

impl Profiles {
    /// An empty table for `network`'s nodes and kinds.
    pub fn new(network: &Network) -> Profiles {
        let mut kinds: Vec<String> = Vec::new();
        let mut kind_of = Vec::with_capacity(network.len());
        for node in &network.nodes {
            let k = match kinds.iter().position(|k| *k == node.kind) {
                Some(k) => k,
                None => {
                    kinds.push(node.kind.clone());
                    kinds.len() - 1
                }
            };
            kind_of.push(k);
        }
        let mut kind_nodes = vec![Vec::new(); kinds.len()];
        for (n, &k) in kind_of.iter().enumerate() {
            kind_nodes[k].push(n);
        }
        Profiles {
            kinds,
            kind_of,
            kind_nodes,
            node_ixs: (0..network.len()).collect(),
            ..Profiles::default()
        }
    }

    /// True when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The key `name` means in a profile: a kind (every node of it), else
    /// the node of that name.
    pub fn key_of(&self, network: &Network, name: &str) -> Option<Key> {
        if let Some(k) = self.kinds.iter().position(|k| k == name) {
            return Some(Key::Kind(k));
        }
        network.node_by_name(name).map(Key::Node)
    }

    /// The nodes an entry's key applies to (before precedence).
    pub fn nodes_of(&self, key: Key) -> &[NodeIx] {
        match key {
            Key::Node(n) => &self.node_ixs[n..=n],
            Key::Kind(k) => &self.kind_nodes[k],
        }
    }

    /// The entry already stored under `(target, key)`, if any.
    pub fn get(&self, target: Target, key: Key) -> Option<&ProfileEntry> {
        self.index.get(&(target, key)).map(|&i| &self.entries[i])
    }

    /// Adds an entry; the index of the one already under its target and
    /// key when there is one (then nothing is added).
    pub(crate) fn insert(&mut self, e: ProfileEntry) -> Result<(), usize> {
        let k = (e.target, e.key);
        if let Some(&i) = self.index.get(&k) {
            return Err(i);
        }
        self.index.insert(k, self.entries.len());
        self.entries.push(e);
        Ok(())
    }

    /// Precomputes each atom's layer and share of its layer's time; called
    /// once the entries are in.
    pub(crate) fn finish(&mut self, dnn: &Dnn) {
        if self.entries.is_empty() {
            return;
        }
        self.layer_of = vec![0; dnn.len()];
        self.share = vec![1.0; dnn.len()];
        for (l, (_, atoms)) in dnn.layers.iter().enumerate() {
            let flops: f64 = atoms.iter().map(|&a| dnn.atoms[a].flops).sum();
            for &a in atoms {
                self.layer_of[a] = l;
                self.share[a] = if flops > 0.0 {
                    dnn.atoms[a].flops / flops
                } else {
                    1.0 / atoms.len() as f64
                };
            }
        }
    }

    /// The entry that times atom `a` on node `n`, with `a`'s share of its
    /// time (1 for an atom entry), or `None` (then `flops / speed`).
    pub fn lookup(&self, a: AtomIx, n: NodeIx) -> Option<(&ProfileEntry, f64)> {
        if self.entries.is_empty() {
            return None;
        }
        for key in [Key::Node(n), Key::Kind(self.kind_of[n])] {
            if let Some(&i) = self.index.get(&(Target::Atom(a), key)) {
                return Some((&self.entries[i], 1.0));
            }
            if let Some(&i) = self.index.get(&(Target::Layer(self.layer_of[a]), key)) {
                return Some((&self.entries[i], self.share[a]));
            }
        }
        None
    }

    /// Atom `a`'s profiled seconds on node `n`: fp32, and quantized when
    /// the entry gives it.
    pub fn times(&self, a: AtomIx, n: NodeIx) -> Option<(f64, Option<f64>)> {
        self.lookup(a, n)
            .map(|(e, share)| (e.time_s * share, e.time_q_s.map(|q| q * share)))
    }

    /// The atoms an entry's target covers.
    pub fn atoms_of(dnn: &Dnn, target: Target) -> Vec<AtomIx> {
        match target {
            Target::Atom(a) => vec![a],
            Target::Layer(l) => dnn.layers[l].1.clone(),
        }
    }
}

/// What [`import_csv`] made: the instance text with the profile inline,
/// and how many rows it took from the CSV.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The instance as YAML, `profiles.times` holding the CSV's rows after
    /// any inline entries it had.
    pub text: String,
    /// Rows taken from the CSV.
    pub rows: usize,
    /// The `profiles.csv` reference it replaced, if it had one.
    pub replaced: Option<String>,
}

/// `edgesplit import-profile`: the instance at `instance` with the
/// profile CSV at `csv` checked by the loader (every problem named at the
/// CSV's line and column) and written inline as `profiles.times`, after
/// the entries it had; a `profiles.csv` it had is replaced. The output is
/// the instance re-serialized (comments are not kept), for a file in the
/// folder `out_dir`: relative references (`dnn.file`, `dnns[i].file`, `relevance_file`,
/// `quantization.noise.fit.samples`) are rewritten to be relative to it
/// when it is not the instance's folder. The result loads again, to the
/// same compute times.
pub fn import_csv(
    instance: &Path,
    csv: &Path,
    out_dir: Option<&Path>,
    opts: &super::LoadOptions,
) -> crate::Result<Imported> {
    use serde_yaml::Value;
    let text = super::source::read_arg(instance)?;
    let mut doc: Value = serde_yaml::from_str(&text)
        .map_err(|e| crate::Error::invalid(instance, "", format!("not YAML: {e}")))?;
    if doc.get("kind").is_some() {
        return Err(crate::Error::invalid(
            instance,
            "kind",
            "a `kind: pipeline` instance has no compute times to profile: expected a joint instance",
        ));
    }
    let Value::Mapping(top) = &mut doc else {
        return Err(crate::Error::invalid(
            instance,
            "",
            "expected an instance mapping with `version: 1`",
        ));
    };
    // The loader reads the CSV where the command line names it; its
    // problems name it as given.
    let abs = std::path::absolute(csv).map_err(|e| crate::Error::Io {
        path: csv.to_path_buf(),
        source: e,
    })?;
    let profiles = top
        .entry(Value::from("profiles"))
        .or_insert_with(|| Value::Mapping(Default::default()));
    let Value::Mapping(pm) = profiles else {
        return Err(crate::Error::invalid(
            instance,
            "profiles",
            "expected a mapping with `csv` and/or `times`",
        ));
    };
    let replaced = pm
        .insert(Value::from("csv"), Value::from(abs.display().to_string()))
        .and_then(|v| v.as_str().map(str::to_string));
    let probe = serde_yaml::to_string(&doc).expect("a YAML value serializes");
    let inst = super::load_str_with(&probe, Some(instance), opts).map_err(|e| match e {
        crate::Error::Invalid { mut diagnostics } => {
            for p in &mut diagnostics.problems {
                if p.file == abs {
                    p.file = csv.to_path_buf();
                }
            }
            crate::Error::Invalid { diagnostics }
        }
        e => e,
    })?;
    let from_csv: Vec<super::raw::RawProfileTime> = inst
        .profiles
        .entries
        .iter()
        .filter(|e| e.from_csv)
        .map(|e| super::raw::RawProfileTime {
            layer: e.layer.clone(),
            node: e.node.clone(),
            time_s: e.time_s,
            time_q_s: e.time_q_s,
        })
        .collect();
    let Some(Value::Mapping(pm)) = doc.get_mut("profiles") else {
        unreachable!("set above")
    };
    pm.remove("csv");
    let times = pm
        .entry(Value::from("times"))
        .or_insert_with(|| Value::Sequence(Vec::new()));
    let Value::Sequence(times) = times else {
        return Err(crate::Error::invalid(
            instance,
            "profiles.times",
            "expected a list of entries",
        ));
    };
    for r in &from_csv {
        times.push(serde_yaml::to_value(r).expect("an entry serializes"));
    }
    if let Some(out_dir) = out_dir {
        rebase(&mut doc, instance, out_dir)?;
    }
    let mut out = format!(
        "# {} with the profile {} written inline by `edgesplit import-profile`\n",
        instance.display(),
        csv.display()
    );
    out.push_str(&serde_yaml::to_string(&doc).expect("a YAML value serializes"));
    Ok(Imported {
        text: out,
        rows: from_csv.len(),
        replaced,
    })
}

/// Rewrites the relative file references of an instance at `instance` so
/// that they name the same files from the folder `out_dir`.
fn rebase(doc: &mut serde_yaml::Value, instance: &Path, out_dir: &Path) -> crate::Result<()> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e| crate::Error::Io { path, source: e }
    };
    let from = if super::source::is_stdin(instance) {
        std::env::current_dir().map_err(io(instance))?
    } else {
        instance.parent().unwrap_or(Path::new("")).to_path_buf()
    };
    let from = std::fs::canonicalize(if from.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &from
    })
    .map_err(io(&from))?;
    let to_dir = if out_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        out_dir
    };
    let to = std::fs::canonicalize(to_dir).map_err(io(to_dir))?;
    if from == to {
        return Ok(());
    }
    let slots: [&[&str]; 3] = [
        &["dnn", "file"],
        &["relevance_file"],
        &["quantization", "noise", "fit", "samples"],
    ];
    let fix = |v: &mut serde_yaml::Value| -> crate::Result<()> {
        let Some(rel) = v.as_str() else { return Ok(()) };
        if Path::new(rel).is_absolute() {
            return Ok(());
        }
        let target = std::fs::canonicalize(from.join(rel)).map_err(io(&from.join(rel)))?;
        *v = serde_yaml::Value::from(relative(&target, &to).display().to_string());
        Ok(())
    };
    for slot in slots {
        if let Some(v) = slot.iter().try_fold(&mut *doc, |v, key| v.get_mut(*key)) {
            fix(v)?;
        }
    }
    // Each `dnns` entry given by file.
    if let Some(serde_yaml::Value::Sequence(list)) = doc.get_mut("dnns") {
        for v in list.iter_mut().filter_map(|d| d.get_mut("file")) {
            fix(v)?;
        }
    }
    Ok(())
}

/// The path of `target` relative to the folder `base` (both canonical).
fn relative(target: &Path, base: &Path) -> PathBuf {
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}
