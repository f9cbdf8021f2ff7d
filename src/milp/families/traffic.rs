//! Traffic (FORMULATION §3.3), aggregated by fan-out class so the model is
//! O(|A|·|N|²·|T|), not O(|E|·|N|²·|T|):
//! `r(C,h,t) ≥ z(b,h,t)` for b ∈ S(C) (some consumer of C is on h);
//! `x(a,k,h,t) ≥ z(a,k,t) + r(C(a),h,t) − 1` (a's output crosses k → h);
//! `v(C,k,h,t) ≥ x(a,k,h,t)` (class C pays the latency of k → h once).
//! x, r, v are continuous in [0, 1]: they only appear with non-negative
//! costs, so at an optimum they equal the max of binaries. A pair with no
//! path gets x ≤ 0, which forbids the placement.

use super::Family;
use crate::instance::Instance;
use crate::milp::model::Sense;
use crate::milp::Builder;

pub struct Traffic;

impl Family for Traffic {
    fn name(&self) -> &'static str {
        "traffic"
    }
    fn enabled(&self, inst: &Instance) -> bool {
        inst.families.traffic
    }
    fn add(&self, b: &mut Builder) {
        let inst = b.inst;
        let dnn = &inst.dnn;
        let net = &inst.network;
        let can = |b: &Builder, t: usize, a: usize, n: usize| b.model.columns[b.z[t][a][n].0].ub > 0.0;
        for (t, task) in inst.tasks.iter().enumerate() {
            let tn = &task.name;
            for (c, class) in dnn.classes.iter().enumerate() {
                for h in 0..net.len() {
                    let consumers: Vec<usize> =
                        class.successors.iter().copied().filter(|&s| can(b, t, s, h)).collect();
                    if consumers.is_empty() {
                        continue;
                    }
                    let hn = &net.nodes[h].name;
                    let r = b.model.continuous(format!("r({c},{hn},{tn})"), 0.0, 1.0);
                    for s in consumers {
                        let z = b.z[t][s][h];
                        b.row(format!("r>=z({c},{},{hn},{tn})", dnn.atoms[s].id), vec![(r, 1.0), (z, -1.0)], Sense::Ge, 0.0);
                    }
                    for k in (0..net.len()).filter(|&k| k != h) {
                        let senders: Vec<usize> = class.atoms.iter().copied().filter(|&a| can(b, t, a, k)).collect();
                        if senders.is_empty() {
                            continue;
                        }
                        let kn = &net.nodes[k].name;
                        let reachable = net.effective(k, h).is_some();
                        let v = b.model.continuous(format!("v({c},{kn},{hn},{tn})"), 0.0, 1.0);
                        for a in senders {
                            let id = &dnn.atoms[a].id;
                            let ub = if reachable { 1.0 } else { 0.0 };
                            let x = b.model.continuous(format!("x({id},{kn},{hn},{tn})"), 0.0, ub);
                            let z = b.z[t][a][k];
                            b.row(format!("x>=z+r-1({id},{kn},{hn},{tn})"), vec![(x, 1.0), (z, -1.0), (r, -1.0)], Sense::Ge, -1.0);
                            b.row(format!("v>=x({id},{kn},{hn},{tn})"), vec![(v, 1.0), (x, -1.0)], Sense::Ge, 0.0);
                            b.x.insert((a, k, h, t), x);
                        }
                        b.v.insert((c, k, h, t), v);
                    }
                }
            }
        }
    }
}
