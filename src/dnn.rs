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

/// A validated DAG from `input` to `output`.
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
    /// a_in.
    pub input: AtomIx,
    /// a_out.
    pub output: AtomIx,
    /// Atoms per level, level 0 = {input}.
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
    /// already checked to form a DAG from `input` to `output`.
    pub(crate) fn from_parts(
        name: String,
        mut atoms: Vec<Atom>,
        edges: &[(AtomIx, AtomIx)],
        input: AtomIx,
        output: AtomIx,
        layers: Vec<(String, Vec<AtomIx>)>,
    ) -> Dnn {
        let n = atoms.len();
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
            input,
            output,
            levels,
            classes,
            class_of,
            layers,
        }
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

    /// Sum of FLOP over all atoms.
    pub fn total_flops(&self) -> f64 {
        self.atoms.iter().map(|a| a.flops).sum()
    }

    /// Sum of parameter bytes over all atoms.
    pub fn total_param_bytes(&self) -> f64 {
        self.atoms.iter().map(|a| a.param_bytes).sum()
    }
}
