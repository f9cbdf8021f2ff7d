//! The parent DNN as a validated atom graph (docs/formulation.md §1).

use petgraph::graph::{DiGraph, NodeIndex};

/// Index of an atom in [`Dnn::atoms`].
pub type AtomIx = usize;

/// An indivisible computational unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Atom {
    /// Unique id (`conv1.3`).
    pub id: String,
    /// The layer it was declared in.
    pub layer: String,
    /// FLOP per inference.
    pub flops: f64,
    /// Bytes of parameters where it is deployed.
    pub param_bytes: f64,
    /// Bytes of the tensor it sends to its consumers.
    pub out_bytes: f64,
    /// Longest-path distance from the input atom.
    pub level: usize,
    /// Quantization group, index into `Quantization::groups`.
    pub group: Option<usize>,
    /// Every task must use it.
    pub mandatory: bool,
}

/// Atoms with the same successor set; transfers are modelled per class.
#[derive(Debug, Clone, PartialEq)]
pub struct FanOutClass {
    /// Members, in atom order.
    pub atoms: Vec<AtomIx>,
    /// Their common successors S(C), in atom order.
    pub successors: Vec<AtomIx>,
}

/// One parent DNN of the instance: a connected part of the atom graph
/// from its own input atom to its own output atom. An instance with one
/// DNN has one component holding every atom; with several (`dnns:`) the
/// atom graph is their disjoint union, and each task only uses the atoms
/// of its own component (docs/formulation.md §1).
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// The DNN's name (the prefix of its atom ids and layer names when the
    /// instance has several DNNs).
    pub name: String,
    /// Its input atom a_in.
    pub input: AtomIx,
    /// Its output atom a_out.
    pub output: AtomIx,
    /// Its atoms, a contiguous range of [`Dnn::atoms`].
    pub atoms: std::ops::Range<AtomIx>,
    /// Its layers, a contiguous range of [`Dnn::layers`] (its input first).
    pub layers: std::ops::Range<usize>,
}

/// A validated DAG from each component's input to its output.
#[derive(Debug, Clone)]
pub struct Dnn {
    /// Model name.
    pub name: String,
    /// Atoms; index = [`AtomIx`].
    pub atoms: Vec<Atom>,
    /// The graph; node weight = atom index, `NodeIndex::new(a)` is atom a.
    pub graph: DiGraph<AtomIx, ()>,
    /// P(a), sorted.
    pub preds: Vec<Vec<AtomIx>>,
    /// S(a), sorted.
    pub succs: Vec<Vec<AtomIx>>,
    /// The parent DNNs, each with its input and output atom; one for an
    /// instance with a single DNN.
    pub components: Vec<Component>,
    /// Index in [`Dnn::components`] of each atom's DNN.
    pub component_of: Vec<usize>,
    /// Atoms per level, level 0 = the input atoms.
    pub levels: Vec<Vec<AtomIx>>,
    /// Fan-out classes (the output atom, with no successors, is in none).
    pub classes: Vec<FanOutClass>,
    /// Class of each atom (`None` for the output atom).
    pub class_of: Vec<Option<usize>>,
    /// Layer names in declaration order with their atoms.
    pub layers: Vec<(String, Vec<AtomIx>)>,
}

impl Dnn {
    /// Builds the derived structure (levels, classes) from atoms and edges
    /// already checked to form, in each component, a DAG from its input
    /// to its output.
    pub(crate) fn from_parts(
        name: String,
        mut atoms: Vec<Atom>,
        edges: &[(AtomIx, AtomIx)],
        components: Vec<Component>,
        layers: Vec<(String, Vec<AtomIx>)>,
    ) -> Dnn {
        let n = atoms.len();
        let mut component_of = vec![0; n];
        for (c, comp) in components.iter().enumerate() {
            for a in comp.atoms.clone() {
                component_of[a] = c;
            }
        }
        let mut graph = DiGraph::with_capacity(n, edges.len());
        for a in 0..n {
            graph.add_node(a);
        }
        let mut preds = vec![Vec::new(); n];
        let mut succs = vec![Vec::new(); n];
        for &(a, b) in edges {
            graph.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
            preds[b].push(a);
            succs[a].push(b);
        }
        for v in preds.iter_mut().chain(succs.iter_mut()) {
            v.sort_unstable();
            v.dedup();
        }
        let order = petgraph::algo::toposort(&graph, None).expect("checked acyclic by the loader");
        let mut level = vec![0usize; n];
        for v in order {
            let a = v.index();
            for &b in &succs[a] {
                level[b] = level[b].max(level[a] + 1);
            }
        }
        let depth = level.iter().copied().max().unwrap_or(0);
        let mut levels = vec![Vec::new(); depth + 1];
        for (a, atom) in atoms.iter_mut().enumerate() {
            atom.level = level[a];
            levels[level[a]].push(a);
        }
        let mut classes: Vec<FanOutClass> = Vec::new();
        let mut class_of = vec![None; n];
        let mut by_succs: std::collections::HashMap<&[AtomIx], usize> = Default::default();
        for a in 0..n {
            if succs[a].is_empty() {
                continue;
            }
            let c = *by_succs.entry(&succs[a]).or_insert_with(|| {
                classes.push(FanOutClass {
                    atoms: Vec::new(),
                    successors: succs[a].clone(),
                });
                classes.len() - 1
            });
            classes[c].atoms.push(a);
            class_of[a] = Some(c);
        }
        Dnn {
            name,
            atoms,
            graph,
            preds,
            succs,
            components,
            component_of,
            levels,
            classes,
            class_of,
            layers,
        }
    }

    /// The disjoint union of several DNNs, each atom id and layer name
    /// prefixed by its DNN's name and `/` (`resnet/conv1.0`). The
    /// components keep their order; `name` is the union's name.
    pub fn union(name: String, parts: Vec<Dnn>) -> Dnn {
        let mut atoms = Vec::new();
        let mut edges = Vec::new();
        let mut layers = Vec::new();
        let mut components = Vec::new();
        for part in parts {
            let (off, loff) = (atoms.len(), layers.len());
            let prefix = format!("{}/", part.name);
            for (a, succs) in part.succs.iter().enumerate() {
                edges.extend(succs.iter().map(|&b| (a + off, b + off)));
            }
            atoms.extend(part.atoms.into_iter().map(|mut atom| {
                atom.id.insert_str(0, &prefix);
                atom.layer.insert_str(0, &prefix);
                atom
            }));
            layers.extend(part.layers.into_iter().map(|(l, members)| {
                (
                    format!("{prefix}{l}"),
                    members.into_iter().map(|a| a + off).collect(),
                )
            }));
            let own = &part.components[0];
            components.push(Component {
                name: part.name,
                input: own.input + off,
                output: own.output + off,
                atoms: off..atoms.len(),
                layers: loff..layers.len(),
            });
        }
        Dnn::from_parts(name, atoms, &edges, components, layers)
    }

    /// True when `a` is the input atom of its DNN.
    pub fn is_input(&self, a: AtomIx) -> bool {
        self.components[self.component_of[a]].input == a
    }

    /// True when `a` is the output atom of its DNN.
    pub fn is_output(&self, a: AtomIx) -> bool {
        self.components[self.component_of[a]].output == a
    }

    /// True when `a` is the input or the output atom of its DNN.
    pub fn is_endpoint(&self, a: AtomIx) -> bool {
        self.is_input(a) || self.is_output(a)
    }

    /// The input atom of component `c`.
    pub fn input_of(&self, c: usize) -> AtomIx {
        self.components[c].input
    }

    /// The output atom of component `c`.
    pub fn output_of(&self, c: usize) -> AtomIx {
        self.components[c].output
    }

    /// The atoms of component `c`.
    pub fn atoms_of(&self, c: usize) -> std::ops::Range<AtomIx> {
        self.components[c].atoms.clone()
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.atoms.len()
    }

    /// True when the DNN has no atoms (never for a validated one).
    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Atom index by id.
    pub fn atom_by_id(&self, id: &str) -> Option<AtomIx> {
        self.atoms.iter().position(|a| a.id == id)
    }

    /// The atoms an atom id or, failing that, a layer name of component
    /// `c` stands for; with several components the name is the DNN's own
    /// (`conv1`), without its `NAME/` prefix.
    pub fn resolve_in(&self, c: usize, key: &str) -> Option<Vec<AtomIx>> {
        let comp = &self.components[c];
        let full;
        let key = if self.components.len() > 1 {
            full = format!("{}/{key}", comp.name);
            full.as_str()
        } else {
            key
        };
        if let Some(a) = self.atoms[comp.atoms.clone()]
            .iter()
            .position(|a| a.id == key)
        {
            return Some(vec![a + comp.atoms.start]);
        }
        self.layers[comp.layers.clone()]
            .iter()
            .find(|(n, _)| n == key)
            .map(|(_, atoms)| atoms.clone())
    }

    /// Sum of FLOP over all atoms.
    pub fn total_flops(&self) -> f64 {
        self.atoms.iter().map(|a| a.flops).sum()
    }

    /// Sum of parameter bytes over all atoms.
    pub fn total_param_bytes(&self) -> f64 {
        self.atoms.iter().map(|a| a.param_bytes).sum()
    }
}
