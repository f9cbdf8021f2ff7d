//! Flow conservation of transfers (switch `flow`, needs `selection` and
//! `traffic`). Three rows per task, all valid at the true (0/1) values of
//! r, x and z of any plan:
//!
//! ```text
//! r<=sum_z(C,h,t):  r(C,h,t) ≤ Σ_{b∈S(C)} z(b,h,t)
//! inflow(C,h,t):    r(C,h,t) ≤ Σ_{p∈P(S(C))} [ z(p,h,t) + Σ_{k≠h} x(p,k,h,t) ]
//! outflow(a,k,t):   z(a,k,t) ≤ r(C(a),k,t) + Σ_{h≠k} x(a,k,h,t)      a ≠ a_out
//! ```
//!
//! - `r` is the maximum of the z's of C's consumers on h, so at most their
//!   sum.
//! - Inflow: if some consumer b ∈ S(C) runs on h, b has a used predecessor
//!   p (selection), which runs on h or, on k ≠ h, ships to h: b is a
//!   consumer of p's own class, so x(p,k,h,t) = 1. P(S(C)) is the union of
//!   the consumers' predecessors (C itself for a dense layer).
//! - Outflow: a used atom on k has a used successor (selection), on k
//!   (then r(C(a),k,t) = 1) or on some h ≠ k (then x(a,k,h,t) = 1).
//!
//! Classes that are mandatory chain edges (see the traffic family) get no
//! rows: their transportation rows already conserve the flow.
//!
//! Together, r ≤ Σ z and outflow give the form
//! `z(a,k,t) ≤ Σ_{b∈S(a)} z(b,k,t) + Σ_{h≠k} x(a,k,h,t)` with one short
//! row per atom instead of |S(a)| terms. In the LP relaxation these rows
//! stop an atom from "running half on a node" with nothing entering or
//! leaving it, which the `x ≥ z + r − 1` rows alone allow.

use crate::instance::Instance;
use crate::milp::families::traffic::transport_edge;
use crate::milp::families::Family;
use crate::milp::model::Sense;
use crate::milp::{Builder, Terms};

pub struct Flow;

impl Family for Flow {
    fn name(&self) -> &'static str {
        "flow"
    }
    fn enabled(&self, inst: &Instance) -> bool {
        let f = inst.families;
        f.on("flow") && f.on("selection") && f.on("traffic")
    }
    fn add(&self, b: &mut Builder) {
        for t in 0..b.inst.tasks.len() {
            inflow(b, t);
            outflow(b, t);
        }
    }
}

fn can(b: &Builder, t: usize, a: usize, n: usize) -> bool {
    b.model.columns[b.z[t][a][n].0].ub > 0.0
}

/// `r<=sum_z` and `inflow` rows of task t.
fn inflow(b: &mut Builder, t: usize) {
    let inst = b.inst;
    let dnn = &inst.dnn;
    let net = &inst.network;
    let tn = &inst.tasks[t].name;
    for (c, class) in dnn.classes.iter().enumerate() {
        let mut feeders: Vec<usize> = class
            .successors
            .iter()
            .flat_map(|&s| dnn.preds[s].iter().copied())
            .collect();
        feeders.sort_unstable();
        feeders.dedup();
        for h in 0..net.len() {
            let Some(&r) = b.r.get(&(c, h, t)) else {
                continue;
            };
            let hn = &net.nodes[h].name;
            let mut row = vec![(r, 1.0)];
            for &s in class.successors.iter().filter(|&&s| can(b, t, s, h)) {
                row.push((b.z[t][s][h], -1.0));
            }
            b.row(format!("r<=sum_z({c},{hn},{tn})"), row, Sense::Le, 0.0);
            let mut row: Terms = vec![(r, 1.0)];
            for &p in &feeders {
                if can(b, t, p, h) {
                    row.push((b.z[t][p][h], -1.0));
                }
                for k in (0..net.len()).filter(|&k| k != h) {
                    if let Some(&x) = b.x.get(&(p, k, h, t)) {
                        row.push((x, -1.0));
                    }
                }
            }
            b.row(format!("inflow({c},{hn},{tn})"), row, Sense::Le, 0.0);
        }
    }
}

/// `outflow` rows of task t.
fn outflow(b: &mut Builder, t: usize) {
    let inst = b.inst;
    let dnn = &inst.dnn;
    let net = &inst.network;
    let tn = &inst.tasks[t].name;
    for a in 0..dnn.len() {
        // Chain edges' transportation rows already conserve their flow
        // (and have no r to write this row with).
        let Some(c) = dnn.class_of[a].filter(|&c| transport_edge(inst, c).is_none()) else {
            continue;
        };
        let nodes: Vec<usize> = (0..net.len()).filter(|&k| can(b, t, a, k)).collect();
        for k in nodes {
            let mut row = vec![(b.z[t][a][k], 1.0)];
            if let Some(&r) = b.r.get(&(c, k, t)) {
                row.push((r, -1.0));
            }
            for h in (0..net.len()).filter(|&h| h != k) {
                if let Some(&x) = b.x.get(&(a, k, h, t)) {
                    row.push((x, -1.0));
                }
            }
            let name = format!("outflow({},{},{tn})", dnn.atoms[a].id, net.nodes[k].name);
            b.row(name, row, Sense::Le, 0.0);
        }
    }
}
