//! Capacity (docs/formulation.md §5): node utilization
//! `Σ_t rate(t)·Σ_a ct(a,n,t) ≤ max_utilization(n)` where set, and the load
//! of each physical link, `Σ_t rate(t)·(bytes of every transfer whose path
//! uses the link, each tensor on the path its size takes) ≤ bandwidth`.

use super::Family;
use crate::instance::Instance;
use crate::milp::model::Sense;
use crate::milp::Builder;

pub struct Capacity;

impl Family for Capacity {
    fn name(&self) -> &'static str {
        "capacity"
    }
    fn diagnose(&self, inst: &Instance) -> bool {
        self.enabled(inst)
    }
    fn add(&self, b: &mut Builder) {
        let inst = b.inst;
        let net = &inst.network;
        for (n, node) in net.nodes.iter().enumerate() {
            let Some(max) = node.max_utilization else {
                continue;
            };
            let mut row = Vec::new();
            for (t, task) in inst.tasks.iter().enumerate() {
                for a in 0..inst.dnn.len() {
                    for (v, c) in b.compute_time(a, n, t) {
                        row.push((v, c * task.rate));
                    }
                }
            }
            b.row(format!("utilization({})", node.name), row, Sense::Le, max);
        }
        if !inst.families.on("traffic") {
            return;
        }
        let mut rows = vec![Vec::new(); net.links.len()];
        for k in 0..net.len() {
            for h in (0..net.len()).filter(|&h| h != k) {
                let routes = net.routes(k, h);
                for (t, task) in inst.tasks.iter().enumerate() {
                    for a in 0..inst.dnn.len() {
                        for (p, bytes) in b.path_bytes(a, k, h, t) {
                            for &l in &routes[p].path {
                                rows[l].extend(bytes.iter().map(|&(v, c)| (v, c * task.rate)));
                            }
                        }
                    }
                }
            }
        }
        for (l, row) in rows.into_iter().enumerate() {
            if row.is_empty() {
                continue;
            }
            let link = &net.links[l];
            let name = format!(
                "link_load({},{})",
                net.nodes[link.from].name, net.nodes[link.to].name
            );
            b.row(name, row, Sense::Le, link.bandwidth);
        }
    }
}
