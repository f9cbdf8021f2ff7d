//! The `network:` section: nodes and links.

use super::Check;
use crate::instance::raw::*;
use crate::instance::*;
use crate::network::{Link, Node, Routing};
use std::collections::HashMap;

/// The nodes and the links between them.
pub(super) fn build_network(
    raw: &RawNetwork,
    limits: &crate::instance::Limits,
    c: &mut Check,
) -> Network {
    let (nodes, names) = build_nodes(raw, c);
    let links = build_links(raw, &nodes, &names, c);
    let routing = match raw.routing.as_deref() {
        None => Routing::default(),
        Some(s) => Routing::parse(s).unwrap_or_else(|| {
            c.err(
                "network.routing",
                format!("unknown routing '{s}': expected 'min_time', 'min_latency' or 'direct'"),
            );
            Routing::default()
        }),
    };
    let max = u128::from(limits.max_routing_work);
    let mut net = match Network::with_routing_within(nodes.clone(), links.clone(), routing, max) {
        Ok(net) => net,
        Err(work) => {
            let what = format!(
                "the route search of `routing: min_time` over {} links, at least pairs × links \
                 for the pairs whose lowest-latency path is not the fastest per byte \
                 (`routing: min_latency` or `direct` need none of it),",
                links.len()
            );
            c.err(
                "network.links",
                limits.refusal("max_routing_work", &what, work),
            );
            // The other checks go on over the lowest-latency paths.
            Network::with_routing(nodes, links, Routing::MinLatency)
        }
    };
    net.latency_energy = raw.latency_energy.unwrap_or(false);
    net
}

/// The nodes, with each name's index.
fn build_nodes<'a>(raw: &'a RawNetwork, c: &mut Check) -> (Vec<Node>, HashMap<&'a str, usize>) {
    let mut nodes = Vec::new();
    let mut names: HashMap<&str, usize> = HashMap::new();
    if raw.nodes.is_empty() {
        c.err("network.nodes", "no nodes: expected at least one node");
    }
    for (i, rn) in raw.nodes.iter().enumerate() {
        let p = format!("network.nodes[{i}]");
        if let Some(j) = names.insert(&rn.name, i) {
            c.err(
                format!("{p}.name"),
                format!(
                    "duplicate node name '{}' (also network.nodes[{j}])",
                    rn.name
                ),
            );
        }
        let speed = c.num(&format!("{p}.speed"), rn.speed, 0.0, true, "FLOP/s");
        let memory = c.num(
            &format!("{p}.memory"),
            rn.memory,
            0.0,
            false,
            "number of bytes",
        );
        let power = c.num(
            &format!("{p}.power"),
            rn.power.unwrap_or(0.0),
            0.0,
            false,
            "power in W",
        );
        let price = c.num(
            &format!("{p}.price"),
            rn.price.unwrap_or(0.0),
            0.0,
            false,
            "price per second",
        );
        let qs = c.num(
            &format!("{p}.quant_speedup"),
            rn.quant_speedup.unwrap_or(1.0),
            1.0,
            false,
            "speed-up",
        );
        let mu = rn
            .max_utilization
            .map(|v| c.num(&format!("{p}.max_utilization"), v, 0.0, true, "utilization"));
        let mp = rn
            .max_power
            .map(|v| c.num(&format!("{p}.max_power"), v, 0.0, false, "power in W"));
        if rn.kind.as_deref().is_some_and(|k| k.trim().is_empty()) {
            c.err(
                format!("{p}.kind"),
                "empty kind: expected a name (or no `kind`, which means the node's name)",
            );
        }
        nodes.push(Node {
            name: rn.name.clone(),
            kind: rn.kind.clone().unwrap_or_else(|| rn.name.clone()),
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            memory,
            power,
            price,
            quant_speedup: qs,
            max_utilization: mu,
            max_power: mp,
        });
    }
    check_kinds(raw, &nodes, &names, c);
    (nodes, names)
}

/// A kind that is another node's name must be that node's kind too:
/// profiles name a kind or a node, and `node: x` must not mean two
/// different sets of nodes.
fn check_kinds(raw: &RawNetwork, nodes: &[Node], names: &HashMap<&str, usize>, c: &mut Check) {
    for (i, n) in nodes.iter().enumerate() {
        if raw.nodes[i].kind.is_none() {
            continue;
        }
        if let Some(&j) = names.get(n.kind.as_str()) {
            if j != i && nodes[j].kind != n.kind {
                c.err(
                    format!("network.nodes[{i}].kind"),
                    format!(
                        "kind '{}' is the name of node '{}' (network.nodes[{j}]), whose kind is '{}': \
                         expected a kind that is no other node's name, or give that node this kind too",
                        n.kind, nodes[j].name, nodes[j].kind
                    ),
                );
            }
        }
    }
}

/// The links (a symmetric one in both directions), checked against the
/// nodes.
fn build_links(
    raw: &RawNetwork,
    nodes: &[Node],
    names: &HashMap<&str, usize>,
    c: &mut Check,
) -> Vec<Link> {
    let mut links = Vec::new();
    let mut pairs: HashMap<(usize, usize), String> = HashMap::new();
    for (i, rl) in raw.links.iter().enumerate() {
        let p = format!("network.links[{i}]");
        let from = names.get(rl.from.as_str()).copied();
        let to = names.get(rl.to.as_str()).copied();
        let known = names.keys().copied().collect::<Vec<_>>().join(", ");
        if from.is_none() {
            c.err(
                format!("{p}.from"),
                format!("unknown node '{}': expected one of {known}", rl.from),
            );
        }
        if to.is_none() {
            c.err(
                format!("{p}.to"),
                format!("unknown node '{}': expected one of {known}", rl.to),
            );
        }
        let bw = c.num(
            &format!("{p}.bandwidth"),
            rl.bandwidth,
            0.0,
            true,
            "bandwidth in B/s",
        );
        let lat = c.num(
            &format!("{p}.latency"),
            rl.latency.unwrap_or(0.0),
            0.0,
            false,
            "latency in s",
        );
        let pw = c.num(
            &format!("{p}.power"),
            rl.power.unwrap_or(0.0),
            0.0,
            false,
            "power in W",
        );
        let pr = c.num(
            &format!("{p}.price"),
            rl.price.unwrap_or(0.0),
            0.0,
            false,
            "price per byte",
        );
        let (Some(f), Some(t)) = (from, to) else {
            continue;
        };
        if f == t {
            c.err(
                p.clone(),
                format!(
                    "link from '{}' to itself: transfers within a node are free",
                    rl.from
                ),
            );
            continue;
        }
        let mut dirs = vec![(f, t)];
        if rl.symmetric.unwrap_or(false) {
            dirs.push((t, f));
        }
        for (f, t) in dirs {
            if let Some(prev) = pairs.insert((f, t), p.clone()) {
                c.err(
                    p.clone(),
                    format!(
                        "duplicate link {} -> {} (also {prev})",
                        nodes[f].name, nodes[t].name
                    ),
                );
            }
            // Invalid numbers are already reported; stand-ins keep the
            // shortest paths of `Network::new` well defined meanwhile.
            let ok = |v: f64| v.is_finite() && v >= 0.0;
            links.push(Link {
                from: f,
                to: t,
                bandwidth: if bw > 0.0 && bw.is_finite() { bw } else { 1.0 },
                latency: if ok(lat) { lat } else { 0.0 },
                power: if ok(pw) { pw } else { 0.0 },
                price: if ok(pr) { pr } else { 0.0 },
            });
        }
    }
    links
}
