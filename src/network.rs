//! The physical network with effective (minimum-latency path) links.

use petgraph::graph::{DiGraph, NodeIndex};
use std::ops::Add;

/// Index of a node in [`Network::nodes`].
pub type NodeIx = usize;

/// A compute node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Name.
    pub name: String,
    /// FLOP/s, > 0.
    pub speed: f64,
    /// Bytes for parameters.
    pub memory: f64,
    /// Watts while computing.
    pub power: f64,
    /// Price per second of compute.
    pub price: f64,
    /// Speed-up of quantized atoms, ≥ 1.
    pub quant_speedup: f64,
    /// Capacity family: bound on utilization.
    pub max_utilization: Option<f64>,
    /// Energy family: bound on average power (W).
    pub max_power: Option<f64>,
}

/// A directed physical link.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Sender.
    pub from: NodeIx,
    /// Receiver.
    pub to: NodeIx,
    /// Bytes per second, > 0.
    pub bandwidth: f64,
    /// Seconds per transfer.
    pub latency: f64,
    /// Watts while transferring.
    pub power: f64,
    /// Price per byte.
    pub price: f64,
}

/// The path used between two nodes and its per-byte figures, summed along it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EffectiveLink {
    /// lat(k,h): seconds per transfer.
    pub latency: f64,
    /// tb(k,h): seconds per byte.
    pub time_per_byte: f64,
    /// eb(k,h): joules per byte.
    pub energy_per_byte: f64,
    /// cb(k,h): price per byte.
    pub price_per_byte: f64,
    /// Physical links of the path, in order (empty for k = h).
    pub path: Vec<usize>,
}

/// Path length ordered by latency, then seconds per byte (positive on every
/// link, so no zero-cost cycles); the other figures are carried along.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct PathCost {
    latency: f64,
    time_per_byte: f64,
    energy_per_byte: f64,
    price_per_byte: f64,
}

impl PartialOrd for PathCost {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        (self.latency, self.time_per_byte).partial_cmp(&(other.latency, other.time_per_byte))
    }
}

impl Add for PathCost {
    type Output = PathCost;
    fn add(self, o: PathCost) -> PathCost {
        PathCost {
            latency: self.latency + o.latency,
            time_per_byte: self.time_per_byte + o.time_per_byte,
            energy_per_byte: self.energy_per_byte + o.energy_per_byte,
            price_per_byte: self.price_per_byte + o.price_per_byte,
        }
    }
}

/// Nodes, physical links, and for every ordered pair the effective link
/// (`None`: unreachable, so any placement needing that transfer is
/// infeasible).
#[derive(Debug, Clone)]
pub struct Network {
    /// Nodes; index = [`NodeIx`].
    pub nodes: Vec<Node>,
    /// Physical links.
    pub links: Vec<Link>,
    effective: Vec<Vec<Option<EffectiveLink>>>,
}

impl Network {
    /// Computes effective links with one Dijkstra per source node.
    pub fn new(nodes: Vec<Node>, links: Vec<Link>) -> Network {
        let n = nodes.len();
        let mut g: DiGraph<(), usize> = DiGraph::new();
        for _ in 0..n {
            g.add_node(());
        }
        for (i, l) in links.iter().enumerate() {
            g.add_edge(NodeIndex::new(l.from), NodeIndex::new(l.to), i);
        }
        let cost_of = |l: &Link| PathCost {
            latency: l.latency,
            time_per_byte: 1.0 / l.bandwidth,
            energy_per_byte: l.power / l.bandwidth,
            price_per_byte: l.price,
        };
        let mut effective = vec![vec![None; n]; n];
        for (k, row) in effective.iter_mut().enumerate() {
            let dist = petgraph::algo::dijkstra(&g, NodeIndex::new(k), None, |e| {
                cost_of(&links[*e.weight()])
            });
            for (h, cell) in row.iter_mut().enumerate() {
                if h == k {
                    *cell = Some(EffectiveLink::default());
                    continue;
                }
                if !dist.contains_key(&NodeIndex::new(h)) {
                    continue;
                }
                // Recover the path: walk back from h along edges whose cost
                // closes the distance exactly.
                let mut path = Vec::new();
                let mut on_path = vec![false; n];
                let mut cur = h;
                while cur != k {
                    on_path[cur] = true;
                    let dc = dist[&NodeIndex::new(cur)];
                    // Edges into cur from a reached node not yet on the path.
                    let into = || {
                        links.iter().enumerate().filter_map(|(i, l)| {
                            let df = dist.get(&NodeIndex::new(l.from))?;
                            (l.to == cur && !on_path[l.from]).then(|| (i, l, *df + cost_of(l)))
                        })
                    };
                    // The edge that closes the distance; with extreme numbers
                    // (infinite or absorbed costs) the cheapest one instead.
                    let edge = into().find(|&(_, _, c)| close(c, dc)).or_else(|| {
                        into().min_by(|x, y| {
                            x.2.partial_cmp(&y.2).unwrap_or(std::cmp::Ordering::Equal)
                        })
                    });
                    let Some((i, l, _)) = edge else { break };
                    path.push(i);
                    cur = l.from;
                }
                if cur != k {
                    continue;
                }
                path.reverse();
                // Sum along the recovered path itself, so that ties between
                // equally fast paths cannot mix the figures of two paths.
                let d = path
                    .iter()
                    .fold(PathCost::default(), |acc, &i| acc + cost_of(&links[i]));
                *cell = Some(EffectiveLink {
                    latency: d.latency,
                    time_per_byte: d.time_per_byte,
                    energy_per_byte: d.energy_per_byte,
                    price_per_byte: d.price_per_byte,
                    path,
                });
            }
        }
        Network {
            nodes,
            links,
            effective,
        }
    }

    /// The effective link from `k` to `h` (`k == h`: all zero), or `None`
    /// when `h` cannot be reached from `k`.
    pub fn effective(&self, k: NodeIx, h: NodeIx) -> Option<&EffectiveLink> {
        self.effective[k][h].as_ref()
    }

    /// Node index by name.
    pub fn node_by_name(&self, name: &str) -> Option<NodeIx> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when there are no nodes (never for a validated instance).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

fn close(a: PathCost, b: PathCost) -> bool {
    let eq = |x: f64, y: f64| x == y || (x - y).abs() <= 1e-12 * (1.0 + x.abs().max(y.abs()));
    eq(a.latency, b.latency) && eq(a.time_per_byte, b.time_per_byte)
}
