//! The `dnn:` section: atoms, layers, edges and the graph checks.

use super::Check;
use crate::dnn::Atom;
use crate::instance::raw::*;
use crate::instance::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Builds the DNN; returns it with each atom's group name (resolved to an
/// index once the quantization section is read).
pub(super) fn build_dnn(
    raw: RawDnn,
    prefix: &str,
    c: &mut Check,
) -> Option<(Dnn, Vec<Option<String>>)> {
    let before = c.d.len();
    let mut d = Declared::default();
    d.declare_input(&raw, prefix, c);
    for (li, l) in raw.layers.iter().enumerate() {
        d.declare_layer(l, li, prefix, c);
    }
    d.declare_output(&raw, prefix, c);
    if c.d.len() > before {
        return None;
    }
    let (edges, origin) = d.edges(&raw, prefix, c);
    if c.d.len() > before {
        return None;
    }
    check_graph(&d, &edges, &origin, prefix, c);
    if c.d.len() > before {
        return None;
    }
    let name = raw.name.unwrap_or_else(|| "dnn".to_string());
    let component = crate::dnn::Component {
        name: name.clone(),
        input: d.input,
        output: d.output,
        atoms: 0..d.atoms.len(),
        layers: 0..d.layers.len(),
    };
    Some((
        Dnn::from_parts(name, d.atoms, &edges, vec![component], d.layers),
        d.groups,
    ))
}

/// The atoms and layers as declared: input, compute layers, output.
#[derive(Default)]
struct Declared {
    atoms: Vec<Atom>,
    /// Each atom's quantization group name.
    groups: Vec<Option<String>>,
    /// Atom id -> the field that declared it.
    ids: HashMap<String, String>,
    /// Each layer's name and atoms, in declaration order.
    layers: Vec<(String, Vec<usize>)>,
    layer_ix: HashMap<String, usize>,
    input: usize,
    output: usize,
}

/// An atom of `layer` at level 0 and in no group (both are set later).
fn atom(
    id: String,
    layer: &str,
    flops: f64,
    param_bytes: f64,
    out_bytes: f64,
    mandatory: bool,
) -> Atom {
    Atom {
        id,
        layer: layer.to_string(),
        flops,
        param_bytes,
        out_bytes,
        level: 0,
        group: None,
        mandatory,
    }
}

impl Declared {
    /// Adds an atom declared at `where_`; a duplicate id is an error.
    fn add(&mut self, c: &mut Check, where_: String, atom: Atom, group: Option<String>) -> usize {
        if let Some(prev) = self.ids.get(&atom.id) {
            c.err(
                where_.clone(),
                format!(
                    "duplicate atom id '{}' (already declared at {prev}): expected ids unique in the DNN",
                    atom.id
                ),
            );
        } else {
            self.ids.insert(atom.id.clone(), where_);
        }
        self.atoms.push(atom);
        self.groups.push(group);
        self.atoms.len() - 1
    }

    /// The input atom, layer 0.
    fn declare_input(&mut self, raw: &RawDnn, prefix: &str, c: &mut Check) {
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
        self.input = self.add(
            c,
            p_in.clone(),
            atom(
                raw.input.name.clone(),
                &raw.input.name,
                0.0,
                0.0,
                in_bytes,
                true,
            ),
            None,
        );
        self.layers.push((raw.input.name.clone(), vec![self.input]));
        self.layer_ix.insert(raw.input.name.clone(), 0);
    }

    /// Compute layer `li`: `count` copies of one atom, or a list of atoms.
    fn declare_layer(&mut self, l: &RawLayer, li: usize, prefix: &str, c: &mut Check) {
        let p = format!("{prefix}layers[{li}]");
        if self.layer_ix.contains_key(&l.name) {
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
                    let atom = atom(
                        ra.name.clone(),
                        &l.name,
                        v(c, "flops", ra.flops, flops),
                        v(c, "param_bytes", ra.param_bytes, param_bytes),
                        v(c, "out_bytes", ra.out_bytes, out_bytes),
                        ra.mandatory.unwrap_or(mandatory),
                    );
                    let g = ra.group.clone().or_else(|| l.group.clone());
                    members.push(self.add(c, format!("{pa}.name"), atom, g));
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
                    let atom = atom(id, &l.name, flops, param_bytes, out_bytes, mandatory);
                    members.push(self.add(c, format!("{p}.name"), atom, l.group.clone()));
                }
            }
        }
        self.layer_ix.insert(l.name.clone(), self.layers.len());
        self.layers.push((l.name.clone(), members));
    }

    /// The output atom, the last layer.
    fn declare_output(&mut self, raw: &RawDnn, prefix: &str, c: &mut Check) {
        // Output atom.
        let p_out = format!("{prefix}output");
        if raw.output.out_bytes.is_some_and(|b| b != 0.0) {
            c.err(
                format!("{p_out}.out_bytes"),
                "the output atom sends nothing on: remove this field",
            );
        }
        self.output = self.add(
            c,
            p_out.clone(),
            atom(
                raw.output.name.clone(),
                &raw.output.name,
                0.0,
                0.0,
                0.0,
                true,
            ),
            None,
        );
        if self.layer_ix.contains_key(&raw.output.name) {
            c.err(
                format!("{p_out}.name"),
                format!("duplicate layer name '{}'", raw.output.name),
            );
        }
        self.layer_ix
            .insert(raw.output.name.clone(), self.layers.len());
        self.layers
            .push((raw.output.name.clone(), vec![self.output]));
    }

    /// The edges, dense between layers (`inputs`, default the previous
    /// layer) and listed (`edges:`), with the field that first wrote each.
    #[allow(clippy::type_complexity)]
    fn edges(
        &self,
        raw: &RawDnn,
        prefix: &str,
        c: &mut Check,
    ) -> (Vec<(usize, usize)>, HashMap<(usize, usize), String>) {
        // Edges: dense from each `inputs` layer (default: the previous one).
        // `origin` keeps the field that first wrote each edge, for messages.
        let mut edges: Vec<(usize, usize)> = Vec::new();
        let mut origin: HashMap<(usize, usize), String> = HashMap::new();
        let mut dense = |c: &mut Check, field: String, inputs: &Option<Vec<String>>, li: usize| {
            let names: Vec<String> = match inputs {
                Some(v) => v.clone(),
                None => vec![self.layers[li - 1].0.clone()],
            };
            for (k, name) in names.iter().enumerate() {
                // The implicit default input is attributed to the layer's name.
                let at = if inputs.is_some() {
                    format!("{field}[{k}]")
                } else {
                    field.trim_end_matches(".inputs").to_string() + ".name"
                };
                match self.layer_ix.get(name) {
                    None => c.err(
                        format!("{field}[{k}]"),
                        format!(
                            "unknown layer '{name}': expected the name of the input or a layer"
                        ),
                    ),
                    Some(&src) if src == self.layers.len() - 1 => c.err(
                        format!("{field}[{k}]"),
                        format!("'{name}' is the output atom, which feeds nothing"),
                    ),
                    Some(&src) => {
                        for &a in &self.layers[src].1 {
                            for &b in &self.layers[li].1 {
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
            format!("{prefix}output.inputs"),
            &raw.output.inputs,
            self.layers.len() - 1,
        );
        let atom_ix: HashMap<&str, usize> = self
            .atoms
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i))
            .collect();
        let resolve = |name: &str| -> Option<Vec<usize>> {
            if let Some(&a) = atom_ix.get(name) {
                Some(vec![a])
            } else {
                self.layer_ix.get(name).map(|&l| self.layers[l].1.clone())
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
                        self.atoms[a].id
                    ),
                );
            }
            if b == self.input {
                c.err(
                    origin[&(a, b)].clone(),
                    format!(
                        "edge '{}' -> '{}' enters the input atom, which has no predecessors",
                        self.atoms[a].id, self.atoms[b].id
                    ),
                );
            }
        }
        (edges, origin)
    }
}

/// The graph checks: no cycle, and every atom on a path from the input to
/// the output.
fn check_graph(
    d: &Declared,
    edges: &[(usize, usize)],
    origin: &HashMap<(usize, usize), String>,
    prefix: &str,
    c: &mut Check,
) {
    // Graph checks: acyclic, everything between input and output.
    let (atoms, input, output) = (&d.atoms, d.input, d.output);
    let n = atoms.len();
    let mut g: petgraph::graph::DiGraph<(), ()> = petgraph::graph::DiGraph::new();
    for _ in 0..n {
        g.add_node(());
    }
    for &(a, b) in edges {
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
        return;
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
}

/// Builds every DNN, each checked in its own file, and with several their
/// disjoint union ([`Dnn::union`]): each then needs a `name`, unique and
/// without `/`, and together they stay within the `max_atoms` limit and
/// the instance size. Returns the DNN with each atom's group name.
pub(super) fn build_dnns(
    raws: Vec<(RawDnn, PathBuf, String)>,
    limits: &crate::instance::Limits,
    tasks: usize,
    nodes: usize,
    file: &Path,
    c: &mut Check,
) -> Option<(Dnn, Vec<Option<String>>)> {
    let several = raws.len() > 1;
    let mut names: HashMap<String, String> = HashMap::new();
    let mut parts = Vec::new();
    let mut ok = true;
    for (raw, dnn_file, prefix) in raws {
        let mut dc = Check {
            d: c.d,
            file: dnn_file,
        };
        if several {
            ok &= check_name(raw.name.as_deref(), &prefix, &mut names, &mut dc);
        }
        match build_dnn(raw, &prefix, &mut dc) {
            Some(b) => parts.push(b),
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    if !several {
        return parts.pop();
    }
    let total: usize = parts.iter().map(|(d, _)| d.len()).sum();
    let size = (tasks as u128) * (total as u128) * (nodes as u128);
    let checked = limits
        .check(
            "max_atoms",
            "the number of atoms the DNNs declare together",
            total as u128,
        )
        .map_err(|m| ("dnns".to_string(), m))
        .and_then(|()| {
            limits
                .check(
                    "max_instance_size",
                    &format!("tasks × atoms × nodes ({tasks} × {total} × {nodes})"),
                    size,
                )
                .map_err(|m| ("tasks".to_string(), m))
        });
    if let Err((path, msg)) = checked {
        c.d.push(file, path, msg);
        return None;
    }
    let groups = parts.iter().flat_map(|(_, g)| g.iter().cloned()).collect();
    let name = parts
        .iter()
        .map(|(d, _)| d.name.as_str())
        .collect::<Vec<_>>()
        .join("+");
    Some((
        Dnn::union(name, parts.into_iter().map(|p| p.0).collect()),
        groups,
    ))
}

/// The `name` of one of several DNNs: given, not empty, without `/` (the
/// separator of the prefixed ids) and unique; records it in `seen`.
fn check_name(
    name: Option<&str>,
    prefix: &str,
    seen: &mut HashMap<String, String>,
    c: &mut Check,
) -> bool {
    let at = format!("{prefix}name");
    let where_ = format!("{} {at}", c.file.display());
    let problem = match name {
        None => Some("missing: with several DNNs (`dnns`) each needs a `name`, the prefix of its atom ids".to_string()),
        Some("") => Some("empty name: expected a non-empty DNN name".to_string()),
        Some(n) if n.contains('/') => Some(format!(
            "name '{n}' contains '/': expected a name without '/', which separates the DNN's name from its atom ids"
        )),
        Some(n) => seen
            .insert(n.to_string(), where_.clone())
            .map(|prev| format!("duplicate DNN name '{n}' (also at {prev}): expected names unique among the DNNs")),
    };
    match problem {
        Some(msg) => {
            c.err(at, msg);
            false
        }
        None => true,
    }
}
