//! Latency cut-sets (switch `cut_sets`, needs `selection` and `traffic`).
//!
//! A used atom a has a used path from the input atom (on the task's source
//! s) to itself, and one from itself to the output atom (on the sink d):
//! the `pred`/`succ` rows of the selection family guarantee both. If a runs
//! outside a node set S that contains s, some edge b → c of the first path
//! leaves S, so class C(b) crosses some k ∈ S → h ∉ S; b is an ancestor of
//! a, so its level is below a's. Hence, with
//! `out(S,l,t) = Σ_{C: minlevel(C) < l} Σ_{k∈S, h∉S} v(C,k,h,t)`,
//!
//! ```text
//! cut_src(a,S,t):  out(S,level(a),t) ≥ Σ_{n∉S} z(a,n,t)
//! ```
//!
//! and symmetrically, for S ∋ d and the classes with an atom at a level at
//! least a's (b on a's path to the output is a or a descendant),
//!
//! ```text
//! cut_snk(a,S,t):  in(S,level(a),t) ≥ Σ_{n∉S} z(a,n,t),
//! in(S,l,t) = Σ_{C: maxlevel(C) ≥ l} Σ_{k∉S, h∈S} v(C,k,h,t).
//! ```
//!
//! `out` and `in` are prefix (suffix) sums over levels, one continuous
//! column per level, each bounded above by the previous one plus the v's
//! of its level, so every atom row has only |N∖S| + 1 terms. At an integer
//! plan, setting them to their sums satisfies every row, so no plan is cut
//! off. The node sets are S = {s} and S = {d}, plus every larger set that
//! contains s (or d) when the network has at most [`MAX_NODES_FOR_SETS`]
//! nodes.

use crate::instance::Instance;
use crate::milp::families::Family;
use crate::milp::model::{Sense, Var};
use crate::milp::{Builder, Terms};
use crate::network::NodeIx;

pub struct CutSets;

/// Networks up to this many nodes get every node set around the source
/// and the sink (2^(|N|−1) − 1 sets each), larger ones only the singletons.
pub const MAX_NODES_FOR_SETS: usize = 4;

impl Family for CutSets {
    fn name(&self) -> &'static str {
        "cut_sets"
    }
    fn enabled(&self, inst: &Instance) -> bool {
        let f = inst.families;
        f.on("cut_sets") && f.on("selection") && f.on("traffic")
    }
    fn add(&self, b: &mut Builder) {
        let inst = b.inst;
        let n = inst.network.len();
        if n < 2 {
            return;
        }
        let (min_level, max_level) = class_levels(inst);
        for (t, task) in inst.tasks.iter().enumerate() {
            for set in node_sets(n, task.source) {
                let side = Side::Source { levels: &min_level };
                cut(b, t, &set, side);
            }
            for set in node_sets(n, task.sink) {
                let side = Side::Sink { levels: &max_level };
                cut(b, t, &set, side);
            }
        }
    }
}

/// The lowest and the highest level of each fan-out class's atoms.
fn class_levels(inst: &Instance) -> (Vec<usize>, Vec<usize>) {
    let dnn = &inst.dnn;
    let lv = |a: usize| dnn.atoms[a].level;
    let lo = dnn
        .classes
        .iter()
        .map(|c| c.atoms.iter().map(|&a| lv(a)).min().unwrap_or(0))
        .collect();
    let hi = dnn
        .classes
        .iter()
        .map(|c| c.atoms.iter().map(|&a| lv(a)).max().unwrap_or(0))
        .collect();
    (lo, hi)
}

/// The node sets around `anchor`: {anchor}, and on small networks every
/// proper superset as well. Each set as a membership vector.
fn node_sets(n: usize, anchor: NodeIx) -> Vec<Vec<bool>> {
    let others: Vec<NodeIx> = (0..n).filter(|&k| k != anchor).collect();
    let masks: Vec<u32> = if n <= MAX_NODES_FOR_SETS {
        (0..(1u32 << others.len()) - 1).collect()
    } else {
        vec![0]
    };
    masks
        .into_iter()
        .map(|m| {
            let mut set = vec![false; n];
            set[anchor] = true;
            for (i, &k) in others.iter().enumerate() {
                set[k] = m & (1 << i) != 0;
            }
            set
        })
        .collect()
}

/// Which side of the task a cut-set guards, with the class levels that
/// decide which classes count for an atom.
#[derive(Clone, Copy)]
enum Side<'a> {
    /// Leaving a set that holds the source; `levels` are the classes'
    /// lowest levels.
    Source { levels: &'a [usize] },
    /// Entering a set that holds the sink; `levels` are the highest.
    Sink { levels: &'a [usize] },
}

/// The crossing variables of class c for the set: v(C,k,h,t) with k ∈ S,
/// h ∉ S (leaving) or k ∉ S, h ∈ S (entering).
fn crossings(b: &Builder, t: usize, c: usize, set: &[bool], leaving: bool) -> Terms {
    let n = set.len();
    let mut terms = Vec::new();
    for k in 0..n {
        for h in 0..n {
            let crosses = if leaving {
                set[k] && !set[h]
            } else {
                !set[k] && set[h]
            };
            if let (true, Some(&v)) = (crosses, b.v.get(&(c, k, h, t))) {
                terms.push((v, 1.0));
            }
        }
    }
    terms
}

/// Adds the level sums and the per-atom rows of one node set.
fn cut(b: &mut Builder, t: usize, set: &[bool], side: Side) {
    let inst = b.inst;
    let dnn = &inst.dnn;
    let levels = dnn.levels.len();
    let (leaving, class_level, tag) = match side {
        Side::Source { levels } => (true, levels, "src"),
        Side::Sink { levels } => (false, levels, "snk"),
    };
    let label: Vec<&str> = (0..set.len())
        .filter(|&k| set[k])
        .map(|k| inst.network.nodes[k].name.as_str())
        .collect();
    let label = format!("{{{}}},{}", label.join("+"), inst.tasks[t].name);
    // v's per class level.
    let mut per_level: Vec<Terms> = vec![Vec::new(); levels];
    for (c, &l) in class_level.iter().enumerate() {
        per_level[l].extend(crossings(b, t, c, set, leaving));
    }
    // sum[l]: out(S,l) (classes below l) or in(S,l) (classes at l or above).
    let mut sum: Vec<Option<Var>> = vec![None; levels + 1];
    let order: Vec<usize> = if leaving {
        (1..levels).collect()
    } else {
        (0..levels).rev().collect()
    };
    for l in order {
        let (prev, new) = if leaving {
            (sum[l - 1], &per_level[l - 1])
        } else {
            (sum[l + 1], &per_level[l])
        };
        if prev.is_none() && new.is_empty() {
            continue;
        }
        let s = b
            .model
            .continuous(format!("cut_{tag}({l},{label})"), 0.0, f64::INFINITY);
        let mut row = vec![(s, 1.0)];
        row.extend(prev.map(|p| (p, -1.0)));
        row.extend(new.iter().map(|&(v, _)| (v, -1.0)));
        b.row(format!("cut_{tag}_sum({l},{label})"), row, Sense::Le, 0.0);
        sum[l] = Some(s);
    }
    for a in 0..dnn.len() {
        if dnn.is_endpoint(a) {
            continue;
        }
        let outside: Terms = (0..set.len())
            .filter(|&k| !set[k])
            .map(|k| b.z[t][a][k])
            .filter(|z| b.model.columns[z.0].ub > 0.0)
            .map(|z| (z, -1.0))
            .collect();
        if outside.is_empty() {
            continue;
        }
        let mut row = outside;
        if let Some(s) = sum[dnn.atoms[a].level] {
            row.push((s, 1.0));
        }
        let name = format!("cut_{tag}({},{label})", dnn.atoms[a].id);
        b.row(name, row, Sense::Ge, 0.0);
    }
}
