//! The `profiles:` section: inline entries and the profile CSV, checked
//! against the DNN, the nodes and their kinds, and the quantization groups.

use super::{Check, Refs};
use crate::dnn::Dnn;
use crate::instance::profile::{Key, ProfileEntry, Profiles, Target, CSV_COLUMNS};
use crate::instance::raw::{RawProfileTime, RawProfiles};
use crate::network::Network;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One entry as written, with where it was written.
struct Row {
    time: RawProfileTime,
    file: PathBuf,
    /// `profiles.times[i]` or `line N`.
    at: String,
    from_csv: bool,
}

impl Row {
    fn field(&self, column: &str) -> String {
        if self.from_csv {
            format!("{}, column {column}", self.at)
        } else {
            format!("{}.{column}", self.at)
        }
    }
}

/// Where an entry is, for a message about another one: `profiles.times[0]`
/// in the same file, `prof.csv line 3` in another.
fn elsewhere(e: &ProfileEntry, here: &Path) -> String {
    if e.file == here {
        e.at.clone()
    } else {
        format!("{} {}", e.file.display(), e.at)
    }
}

/// The validated profile table (empty without `profiles:`).
pub(super) fn build_profiles(
    raw: Option<&RawProfiles>,
    refs: &Refs,
    dnn: &Dnn,
    network: &Network,
    groups: &[String],
    c: &mut Check,
) -> Profiles {
    let mut out = Profiles::new(network);
    let Some(raw) = raw else {
        return out;
    };
    let mut rows: Vec<Row> = raw
        .times
        .iter()
        .enumerate()
        .map(|(i, t)| Row {
            time: t.clone(),
            file: c.file.clone(),
            at: format!("profiles.times[{i}]"),
            from_csv: false,
        })
        .collect();
    if let Some(rel) = &raw.csv {
        match refs.read(rel, "profiles.csv") {
            Ok((path, text)) => {
                let mut cc = Check {
                    d: c.d,
                    file: path.clone(),
                };
                rows.extend(read_csv(&text, &path, &mut cc));
            }
            Err(e) => c.d.extend(e.diagnostics().cloned().unwrap_or_default()),
        }
    }
    let atom_ix: HashMap<&str, usize> = dnn
        .atoms
        .iter()
        .enumerate()
        .map(|(a, x)| (x.id.as_str(), a))
        .collect();
    let layer_ix: HashMap<&str, usize> = dnn
        .layers
        .iter()
        .enumerate()
        .map(|(l, (n, _))| (n.as_str(), l))
        .collect();
    // What a `node` value means: a kind first, else a node's name.
    let mut keys: HashMap<&str, Key> = network
        .nodes
        .iter()
        .enumerate()
        .map(|(n, x)| (x.name.as_str(), Key::Node(n)))
        .collect();
    let kinds = out.kinds.clone();
    for (k, name) in kinds.iter().enumerate() {
        keys.insert(name.as_str(), Key::Kind(k));
    }
    let names = Names {
        atoms: &atom_ix,
        layers: &layer_ix,
        keys: &keys,
    };
    for row in rows {
        let mut rc = Check {
            d: c.d,
            file: row.file.clone(),
        };
        if let Some(e) = check_row(&row, &names, dnn, network, groups, &out, &mut rc) {
            if let Err(i) = out.insert(e) {
                let first = &out.entries[i];
                rc.err(
                    row.at.clone(),
                    format!(
                        "'{}' on '{}' is profiled twice (also {}): expected one entry per atom or layer and node or kind",
                        row.time.layer,
                        row.time.node,
                        elsewhere(first, &row.file)
                    ),
                );
            }
        }
    }
    check_overlaps(&out, dnn, c);
    out.finish(dnn);
    out
}

/// The names a row may use: atom ids, layer names, node kinds and names.
struct Names<'a> {
    atoms: &'a HashMap<&'a str, usize>,
    layers: &'a HashMap<&'a str, usize>,
    keys: &'a HashMap<&'a str, Key>,
}

/// One row checked: known atom or layer (not the input or output), known
/// node or kind, times finite and ≥ 0, a quantized time only for atoms
/// that can be quantized. `None` after any problem.
fn check_row(
    row: &Row,
    names: &Names,
    dnn: &Dnn,
    network: &Network,
    groups: &[String],
    profiles: &Profiles,
    c: &mut Check,
) -> Option<ProfileEntry> {
    let before = c.d.len();
    let t = &row.time;
    let what = "time in seconds per inference";
    c.num(&row.field("time_s"), t.time_s, 0.0, false, what);
    if let Some(q) = t.time_q_s {
        c.num(&row.field("time_q_s"), q, 0.0, false, what);
    }
    // An atom id first, then a layer name (as relevance keys); a layer of
    // one atom is that atom.
    let target = match (
        names.atoms.get(t.layer.as_str()),
        names.layers.get(t.layer.as_str()),
    ) {
        (Some(&a), _) => Some(Target::Atom(a)),
        (None, Some(&l)) if dnn.layers[l].1.len() == 1 => Some(Target::Atom(dnn.layers[l].1[0])),
        (None, Some(&l)) => Some(Target::Layer(l)),
        (None, None) => {
            c.err(
                row.field("layer"),
                format!(
                    "unknown atom or layer '{}': expected an atom id or a layer name of the DNN",
                    t.layer
                ),
            );
            None
        }
    };
    if let Some(Target::Atom(a)) = target {
        if dnn.is_endpoint(a) {
            let which = if dnn.is_input(a) { "input" } else { "output" };
            c.err(
                row.field("layer"),
                format!(
                    "'{}' is the DNN's {which} atom, which computes nothing: expected a compute atom or layer",
                    t.layer
                ),
            );
        }
    }
    let key = names.keys.get(t.node.as_str()).copied();
    if key.is_none() {
        let kinds = profiles.kinds.join(", ");
        let named: Vec<&str> = network
            .nodes
            .iter()
            .filter(|n| n.kind != n.name)
            .map(|n| n.name.as_str())
            .collect();
        let also = if named.is_empty() {
            String::new()
        } else {
            format!(", or one of the nodes {}", named.join(", "))
        };
        c.err(
            row.field("node"),
            format!(
                "unknown node or node kind '{}': expected one of the kinds {kinds}{also}",
                t.node
            ),
        );
    }
    if let (Some(_), Some(target)) = (t.time_q_s, target) {
        let atoms = Profiles::atoms_of(dnn, target);
        if let Some(&a) = atoms.iter().find(|&&a| dnn.atoms[a].group.is_none()) {
            let why = if groups.is_empty() {
                "the instance quantizes nothing (no quantization groups)".to_string()
            } else {
                format!(
                    "atom '{}' is in none of the quantization groups {}",
                    dnn.atoms[a].id,
                    groups.join(", ")
                )
            };
            c.err(
                row.field("time_q_s"),
                format!(
                    "a quantized time for '{}', which cannot be quantized: {why}: expected no time_q_s",
                    t.layer
                ),
            );
        }
    }
    if c.d.len() > before {
        return None;
    }
    Some(ProfileEntry {
        target: target?,
        key: key?,
        layer: t.layer.clone(),
        node: t.node.clone(),
        time_s: t.time_s,
        time_q_s: t.time_q_s,
        file: row.file.clone(),
        at: row.at.clone(),
        from_csv: row.from_csv,
    })
}

/// An atom entry under the same node or kind as an entry of its layer
/// gives the atom two times: refused at the atom entry.
fn check_overlaps(p: &Profiles, dnn: &Dnn, c: &mut Check) {
    let layer_of: HashMap<&str, usize> = dnn
        .layers
        .iter()
        .enumerate()
        .map(|(l, (n, _))| (n.as_str(), l))
        .collect();
    for e in &p.entries {
        let Target::Atom(a) = e.target else { continue };
        let Some(&l) = layer_of.get(dnn.atoms[a].layer.as_str()) else {
            continue;
        };
        if let Some(layer) = p.get(Target::Layer(l), e.key) {
            c.d.push(
                &e.file,
                e.at.clone(),
                format!(
                    "atom '{}' on '{}' is profiled twice: here and by its layer '{}' ({}): expected one time per atom and node (drop one, or profile every atom of the layer instead)",
                    dnn.atoms[a].id,
                    e.node,
                    layer.layer,
                    elsewhere(layer, &e.file)
                ),
            );
        }
    }
}

/// The rows of a profile CSV: a header naming the columns `layer`, `node`,
/// `time_s` and optionally `time_q_s` in any order, then one row per
/// entry (`time_q_s` may be empty); `#` lines are comments, fields are
/// trimmed. Problems are reported at `line N` or `line N, column C`.
fn read_csv(text: &str, path: &Path, c: &mut Check) -> Vec<Row> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(true)
        .from_reader(text.as_bytes());
    let expected = "expected the columns layer, node, time_s and optionally time_q_s, in any order";
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            c.err("line 1", format!("unreadable CSV header: {e}"));
            return Vec::new();
        }
    };
    let header_line = rdr
        .headers()
        .ok()
        .and_then(|h| h.position().map(|p| p.line()))
        .unwrap_or(1);
    let hl = format!("line {header_line}");
    let mut col: HashMap<&str, usize> = HashMap::new();
    let mut bad = false;
    for (i, name) in header.iter().enumerate() {
        if !CSV_COLUMNS.contains(&name.as_str()) {
            c.err(
                format!("{hl}, column {}", i + 1),
                format!("unknown column '{name}': {expected}"),
            );
            bad = true;
        } else if col.insert(name.as_str(), i).is_some() {
            c.err(
                format!("{hl}, column {}", i + 1),
                format!("column '{name}' appears twice: {expected}"),
            );
            bad = true;
        }
    }
    for need in &CSV_COLUMNS[..3] {
        if !col.contains_key(need) {
            c.err(hl.clone(), format!("no column '{need}': {expected}"));
            bad = true;
        }
    }
    if bad {
        return Vec::new();
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let at = e
                    .position()
                    .map(|p| format!("line {}", p.line()))
                    .unwrap_or_default();
                c.err(at, format!("malformed CSV: {e}"));
                return rows;
            }
        };
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let at = format!("line {line}");
        if rec.len() != header.len() {
            c.err(
                at,
                format!(
                    "{} field(s): expected {} (the header's columns {})",
                    rec.len(),
                    header.len(),
                    header.join(",")
                ),
            );
            continue;
        }
        let get = |name: &str| col.get(name).map(|&i| &rec[i]);
        let mut ok = true;
        let mut text = |name: &str, c: &mut Check| -> String {
            let v = get(name).unwrap_or_default();
            if v.is_empty() {
                let what = if name == "layer" {
                    "an atom id or a layer name"
                } else {
                    "a node kind or a node name"
                };
                c.err(
                    format!("{at}, column {name}"),
                    format!("empty: expected {what}"),
                );
                ok = false;
            }
            v.to_string()
        };
        let layer = text("layer", c);
        let node = text("node", c);
        let mut number = |name: &str, c: &mut Check| -> Option<f64> {
            let v = get(name)?;
            if v.is_empty() && name == "time_q_s" {
                return None;
            }
            match v.parse::<f64>() {
                Ok(x) => Some(x),
                Err(_) => {
                    let shown = if v.is_empty() {
                        "empty".to_string()
                    } else {
                        format!("value '{v}' is not a number")
                    };
                    c.err(
                        format!("{at}, column {name}"),
                        format!("{shown}: expected a time in seconds per inference, a finite number ≥ 0{}",
                            if name == "time_q_s" { " (or an empty cell: time_s / quant_speedup)" } else { "" }),
                    );
                    ok = false;
                    None
                }
            }
        };
        let time_s = number("time_s", c);
        let time_q_s = number("time_q_s", c);
        if !ok {
            continue;
        }
        rows.push(Row {
            time: RawProfileTime {
                layer,
                node,
                time_s: time_s.unwrap_or(0.0),
                time_q_s,
            },
            file: path.to_path_buf(),
            at,
            from_csv: true,
        });
    }
    rows
}
