//! Traffic (FORMULATION §3.3), aggregated by fan-out class so the model is
//! O(|A|·|N|²·|T|), not O(|E|·|N|²·|T|):
//! `r(C,h,t) ≥ z(b,h,t)` for b ∈ S(C) (some consumer of C is on h);
//! `x(a,k,h,t) ≥ z(a,k,t) + r(C(a),h,t) − 1` (a's output crosses k → h);
//! `v(C,k,h,t) ≥ x(a,k,h,t)` (class C pays the latency of k → h once).
//!
//! Under the layered delay model a latency is charged per level, for that
//! level's own outputs. A class whose members sit on several levels (two
//! branches of different depth joining) then gets one column per level it
//! touches, `v(C@l,k,h,t) ≥ x(a,k,h,t)` for its members a on level l, and
//! `v(C,k,h,t) ≥ v(C@l,k,h,t)`; a class on one level uses v(C) itself.
//! [`Builder::v_level`] maps (class, level) to the column the delay rows use.
//! Where the routing sends the class's tensors over several paths k → h
//! (byte-aware routing, members or quantized sizes on different paths),
//! the class waits once per path: [`latency_columns`].
//! x, r, v are continuous in [0, 1]: they only appear with non-negative
//! costs, so at an optimum they equal the max of binaries. A pair with no
//! path gets x ≤ 0, which forbids the placement.
//!
//! Mandatory chain edges: when a mandatory atom a feeds only one atom s,
//! also mandatory (a layer-level model is all such edges), both are used
//! by every task, so the pair's placements form a transportation problem:
//! `f(a,k,h,t) ≥ 0` with `Σ_h f = z(a,k,t)` and `Σ_k f = z(s,h,t)`. For
//! binary z the only solution is f = z(a,k)·z(s,h), so these rows cut off
//! no plan, but they make the LP relaxation of such edges exact. When a is
//! alone in its class (the usual case), f(a,k,h,t) for k ≠ h *is* the
//! transfer: it serves as x(a,k,h,t) and v(C(a),k,h,t), and the class gets
//! no r, x or v columns and no rows of the max form (an unreachable pair
//! gets f ≤ 0). Otherwise the class keeps its r, x, v and gets
//! `x(a,k,h,t) ≥ f(a,k,h,t)` for each mandatory member.

use super::Family;
use crate::instance::{DelayModel, Instance};
use crate::milp::model::{Sense, Var};
use crate::milp::{Builder, Terms};
use std::collections::BTreeMap;

pub struct Traffic;

impl Family for Traffic {
    fn name(&self) -> &'static str {
        "traffic"
    }
    fn diagnose(&self, inst: &Instance) -> bool {
        self.enabled(inst)
    }
    fn add(&self, b: &mut Builder) {
        let inst = b.inst;
        let dnn = &inst.dnn;
        let net = &inst.network;
        let can =
            |b: &Builder, t: usize, a: usize, n: usize| b.model.columns[b.z[t][a][n].0].ub > 0.0;
        // Classes that need one latency column per level.
        let split: Vec<bool> = dnn
            .classes
            .iter()
            .map(|c| inst.delay_model == DelayModel::Layered && spans_levels(inst, &c.atoms))
            .collect();
        for (t, task) in inst.tasks.iter().enumerate() {
            let tn = &task.name;
            for (c, class) in dnn.classes.iter().enumerate() {
                if dnn.component_of[class.atoms[0]] != task.dnn {
                    continue; // another DNN's class: never used by t
                }
                if let Some((a, s)) = transport_edge(inst, c) {
                    chain_edge(b, t, c, a, s, Link::Replace);
                    continue;
                }
                for h in 0..net.len() {
                    let consumers: Vec<usize> = class
                        .successors
                        .iter()
                        .copied()
                        .filter(|&s| can(b, t, s, h))
                        .collect();
                    if consumers.is_empty() {
                        continue;
                    }
                    let hn = &net.nodes[h].name;
                    let r = b.model.continuous(format!("r({c},{hn},{tn})"), 0.0, 1.0);
                    b.r.insert((c, h, t), r);
                    for s in consumers {
                        let z = b.z[t][s][h];
                        b.row(
                            format!("r>=z({c},{},{hn},{tn})", dnn.atoms[s].id),
                            vec![(r, 1.0), (z, -1.0)],
                            Sense::Ge,
                            0.0,
                        );
                    }
                    for k in (0..net.len()).filter(|&k| k != h) {
                        let senders: Vec<usize> = class
                            .atoms
                            .iter()
                            .copied()
                            .filter(|&a| can(b, t, a, k))
                            .collect();
                        if senders.is_empty() {
                            continue;
                        }
                        let kn = &net.nodes[k].name;
                        let reachable = net.effective(k, h).is_some();
                        let v = b
                            .model
                            .continuous(format!("v({c},{kn},{hn},{tn})"), 0.0, 1.0);
                        let mut pieces: BTreeMap<usize, Var> = BTreeMap::new();
                        for a in senders {
                            let id = &dnn.atoms[a].id;
                            let ub = if reachable { 1.0 } else { 0.0 };
                            let x = b
                                .model
                                .continuous(format!("x({id},{kn},{hn},{tn})"), 0.0, ub);
                            let z = b.z[t][a][k];
                            b.row(
                                format!("x>=z+r-1({id},{kn},{hn},{tn})"),
                                vec![(x, 1.0), (z, -1.0), (r, -1.0)],
                                Sense::Ge,
                                -1.0,
                            );
                            let level = dnn.atoms[a].level;
                            let (target, label) = if split[c] {
                                let vl = *pieces.entry(level).or_insert_with(|| {
                                    b.model.continuous(
                                        format!("v({c}@{level},{kn},{hn},{tn})"),
                                        0.0,
                                        1.0,
                                    )
                                });
                                (vl, "vl")
                            } else {
                                b.v_level.insert((c, level, k, h, t), v);
                                (v, "v")
                            };
                            b.row(
                                format!("{label}>=x({id},{kn},{hn},{tn})"),
                                vec![(target, 1.0), (x, -1.0)],
                                Sense::Ge,
                                0.0,
                            );
                            b.x.insert((a, k, h, t), x);
                        }
                        for (level, vl) in pieces {
                            b.row(
                                format!("v>=vl({c},{level},{kn},{hn},{tn})"),
                                vec![(v, 1.0), (vl, -1.0)],
                                Sense::Ge,
                                0.0,
                            );
                            b.v_level.insert((c, level, k, h, t), vl);
                        }
                        b.v.insert((c, k, h, t), v);
                    }
                }
            }
            for (c, class) in dnn.classes.iter().enumerate() {
                let [succ] = class.successors[..] else {
                    continue;
                };
                if !dnn.atoms[succ].mandatory || transport_edge(inst, c).is_some() {
                    continue;
                }
                for &a in class.atoms.iter().filter(|&&a| dnn.atoms[a].mandatory) {
                    chain_edge(b, t, c, a, succ, Link::Bound);
                }
            }
            for c in 0..dnn.classes.len() {
                for k in 0..net.len() {
                    for h in (0..net.len()).filter(|&h| h != k) {
                        latency_columns(b, t, c, k, h);
                    }
                }
            }
        }
    }
}

/// The latency columns of class c crossing k → h for t (`lat_class`,
/// `lat_level`). When every tensor of the class takes one path p there,
/// they are v and the per-level columns themselves, with p. Otherwise
/// (byte-aware routing, members of different sizes) the class waits once
/// per path its tensors take: one column `vp(C#p,k,h,t) ≥` "member a
/// crosses on p" for each path p, and `v ≤ Σ_p vp` keeps v tied to them;
/// under the layered model a class on several levels gets such columns
/// per level as well.
fn latency_columns(b: &mut Builder, t: usize, c: usize, k: usize, h: usize) {
    let inst = b.inst;
    let dnn = &inst.dnn;
    let Some(&v) = b.v.get(&(c, k, h, t)) else {
        return;
    };
    let mut inds: Vec<(usize, Vec<(usize, Terms)>)> = Vec::new();
    for &a in &dnn.classes[c].atoms {
        let ind = b.path_indicator(a, k, h, t);
        if !ind.is_empty() {
            inds.push((a, ind));
        }
    }
    let paths: std::collections::BTreeSet<usize> = inds
        .iter()
        .flat_map(|(_, ind)| ind.iter().map(|&(p, _)| p))
        .collect();
    let levels: std::collections::BTreeSet<usize> =
        inds.iter().map(|&(a, _)| dnn.atoms[a].level).collect();
    let Some(&p) = paths.first() else {
        // Unreachable: x ≤ 0, nothing crosses.
        return;
    };
    if paths.len() == 1 {
        b.lat_class.insert((c, k, h, t), vec![(v, p)]);
        for l in levels {
            if let Some(&vl) = b.v_level.get(&(c, l, k, h, t)) {
                b.lat_level.insert((c, l, k, h, t), vec![(vl, p)]);
            }
        }
        return;
    }
    let names = |b: &Builder| {
        let net = &b.inst.network;
        (
            net.nodes[k].name.clone(),
            net.nodes[h].name.clone(),
            b.inst.tasks[t].name.clone(),
        )
    };
    let (kn, hn, tn) = names(b);
    // One column per path over the members `on`, each bounded below by
    // their indicators for that path.
    let columns = |b: &mut Builder, label: &str, on: &dyn Fn(usize) -> bool| {
        let mut cols = Vec::new();
        for &p in &paths {
            let col = b
                .model
                .continuous(format!("vp({label}#{p},{kn},{hn},{tn})"), 0.0, 1.0);
            for (a, ind) in inds.iter().filter(|(a, _)| on(*a)) {
                for (_, terms) in ind.iter().filter(|(q, _)| *q == p) {
                    let mut row = vec![(col, 1.0)];
                    row.extend(terms.iter().map(|&(x, w)| (x, -w)));
                    let id = &b.inst.dnn.atoms[*a].id;
                    b.row(
                        format!("vp>=x({label}#{p},{id},{kn},{hn},{tn})"),
                        row,
                        Sense::Ge,
                        0.0,
                    );
                }
            }
            cols.push((col, p));
        }
        cols
    };
    let class_cols = columns(b, &c.to_string(), &|_| true);
    let mut tie = vec![(v, 1.0)];
    tie.extend(class_cols.iter().map(|&(col, _)| (col, -1.0)));
    b.row(
        format!("v<=sum_vp({c},{kn},{hn},{tn})"),
        tie,
        Sense::Le,
        0.0,
    );
    b.lat_class.insert((c, k, h, t), class_cols.clone());
    if inst.delay_model != DelayModel::Layered {
        return;
    }
    if levels.len() == 1 {
        let l = *levels.first().expect("one level");
        b.lat_level.insert((c, l, k, h, t), class_cols);
        return;
    }
    for l in levels {
        let cols = columns(b, &format!("{c}@{l}"), &|a| dnn.atoms[a].level == l);
        b.lat_level.insert((c, l, k, h, t), cols);
    }
}

/// Whether the atoms lie on more than one level.
fn spans_levels(inst: &Instance, atoms: &[usize]) -> bool {
    let level = |a: &usize| inst.dnn.atoms[*a].level;
    atoms.iter().map(level).min() != atoms.iter().map(level).max()
}

/// The edge a → s of class c if c = {a}, S(c) = {s} and both are
/// mandatory: its transportation columns replace r, x and v.
pub(crate) fn transport_edge(inst: &Instance, c: usize) -> Option<(usize, usize)> {
    let dnn = &inst.dnn;
    let class = &dnn.classes[c];
    match (&class.atoms[..], &class.successors[..]) {
        (&[a], &[s]) if dnn.atoms[a].mandatory && dnn.atoms[s].mandatory => Some((a, s)),
        _ => None,
    }
}

/// How a chain edge's f columns tie in with the transfers.
#[derive(Clone, Copy, PartialEq)]
enum Link {
    /// f is x and v (a alone in its class).
    Replace,
    /// `x ≥ f` rows (the class has r, x, v of its own).
    Bound,
}

/// The transportation rows of a mandatory chain edge a → s for task t.
fn chain_edge(b: &mut Builder, t: usize, class: usize, a: usize, s: usize, link: Link) {
    let inst = b.inst;
    let net = &inst.network;
    let n = net.len();
    let id = format!("{}>{}", inst.dnn.atoms[a].id, inst.dnn.atoms[s].id);
    let tn = &inst.tasks[t].name;
    let mut f = vec![vec![None; n]; n];
    for (k, row) in f.iter_mut().enumerate() {
        for (h, cell) in row.iter_mut().enumerate() {
            let possible = b.model.columns[b.z[t][a][k].0].ub > 0.0
                && b.model.columns[b.z[t][s][h].0].ub > 0.0;
            if possible {
                let name = format!("f({id},{},{},{tn})", net.nodes[k].name, net.nodes[h].name);
                *cell = Some(b.model.continuous(name, 0.0, 1.0));
            }
        }
    }
    for (k, fk) in f.iter().enumerate() {
        let mut row: Vec<_> = fk.iter().flatten().map(|&v| (v, 1.0)).collect();
        row.push((b.z[t][a][k], -1.0));
        b.row(
            format!("f_out({id},{},{tn})", net.nodes[k].name),
            row,
            Sense::Eq,
            0.0,
        );
    }
    for h in 0..n {
        let mut row: Vec<_> = f.iter().filter_map(|fk| fk[h]).map(|v| (v, 1.0)).collect();
        row.push((b.z[t][s][h], -1.0));
        b.row(
            format!("f_in({id},{},{tn})", net.nodes[h].name),
            row,
            Sense::Eq,
            0.0,
        );
    }
    for (k, fk) in f.iter().enumerate() {
        for (h, cell) in fk.iter().enumerate().filter(|&(h, _)| h != k) {
            let Some(fv) = *cell else { continue };
            if link == Link::Replace {
                if net.effective(k, h).is_some() {
                    b.x.insert((a, k, h, t), fv);
                    b.v.insert((class, k, h, t), fv);
                    // A one-atom class lies on one level.
                    b.v_level
                        .insert((class, inst.dnn.atoms[a].level, k, h, t), fv);
                } else {
                    b.model.columns[fv.0].ub = 0.0;
                }
                continue;
            }
            match b.x.get(&(a, k, h, t)) {
                Some(&x) => b.row(
                    format!(
                        "x>=f({id},{},{},{tn})",
                        net.nodes[k].name, net.nodes[h].name
                    ),
                    vec![(x, 1.0), (fv, -1.0)],
                    Sense::Ge,
                    0.0,
                ),
                // No transfer variable: the pair cannot be used at all.
                None => b.model.columns[fv.0].ub = 0.0,
            }
        }
    }
}
