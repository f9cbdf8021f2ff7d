//! The physical network and the paths a transfer takes between two nodes.
//!
//! Under [`Routing::MinLatency`] every ordered node pair has one path, the
//! lowest-latency one; under [`Routing::Direct`] the pair's own link; under
//! [`Routing::MinTime`] the pair keeps every path of the lower envelope of
//! `latency + bytes × seconds-per-byte`, and a tensor of b bytes takes the
//! one fastest for b ([`Network::route`]).

use petgraph::graph::{DiGraph, NodeIndex};
use std::ops::Add;

/// Index of a node in [`Network::nodes`].
pub type NodeIx = usize;

/// A compute node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Name.
    pub name: String,
    /// Kind (`kind:`, default the name): what profiles may name instead of
    /// the node.
    pub kind: String,
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

/// How a transfer between two nodes chooses its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Routing {
    /// The lowest-latency path (ties: fewest seconds per byte), whatever the
    /// bytes.
    MinLatency,
    /// For b bytes, the path of least `latency + b × seconds-per-byte`
    /// (ties: the lower latency).
    #[default]
    MinTime,
    /// Only the pair's own physical link; a pair without one is unreachable.
    Direct,
}

impl Routing {
    /// `min_latency`, `min_time` or `direct`, as in the instance file.
    pub fn name(self) -> &'static str {
        match self {
            Routing::MinLatency => "min_latency",
            Routing::MinTime => "min_time",
            Routing::Direct => "direct",
        }
    }

    /// The mode named `s`.
    pub fn parse(s: &str) -> Option<Routing> {
        [Routing::MinLatency, Routing::MinTime, Routing::Direct]
            .into_iter()
            .find(|r| r.name() == s)
    }
}

/// Nodes, physical links, and for every ordered pair the paths a transfer
/// may take (none: unreachable, so any placement needing that transfer is
/// infeasible).
#[derive(Debug, Clone)]
pub struct Network {
    /// Nodes; index = [`NodeIx`].
    pub nodes: Vec<Node>,
    /// Physical links.
    pub links: Vec<Link>,
    /// The routing rule the paths were chosen by.
    pub routing: Routing,
    /// Whether a transfer's energy includes the sending node's power for
    /// the latency of each path it waits on (`network.latency_energy`).
    pub latency_energy: bool,
    /// `routes[k][h]`: the candidate paths, by increasing latency (and so
    /// decreasing seconds per byte); one for k = h.
    routes: Vec<Vec<Vec<EffectiveLink>>>,
}

impl Network {
    /// The network under the default routing ([`Routing::MinTime`]).
    pub fn new(nodes: Vec<Node>, links: Vec<Link>) -> Network {
        Network::with_routing(nodes, links, Routing::default())
    }

    /// The network with the paths of `routing` for every ordered pair.
    pub fn with_routing(nodes: Vec<Node>, links: Vec<Link>, routing: Routing) -> Network {
        Network::with_routing_within(nodes, links, routing, u128::MAX)
            .expect("an unbounded route search always finishes")
    }

    /// [`Network::with_routing`], refusing a `min_time` route search of
    /// more than `max_work`: once the lowest-latency and the fewest
    /// seconds-per-byte paths of every pair are known (one search per
    /// source each), every pair whose two differ needs its own searches
    /// over the links, at least one each, so the work is at least
    /// `pairs × links`; `Err(pairs × links)` when that exceeds `max_work`,
    /// before any of those searches runs.
    pub fn with_routing_within(
        nodes: Vec<Node>,
        links: Vec<Link>,
        routing: Routing,
        max_work: u128,
    ) -> Result<Network, u128> {
        let min_latency = min_latency_paths(&nodes, &links);
        let n = nodes.len();
        let mut routes = vec![vec![Vec::new(); n]; n];
        for (k, row) in routes.iter_mut().enumerate() {
            for (h, cell) in row.iter_mut().enumerate() {
                if h == k {
                    *cell = vec![EffectiveLink::default()];
                    continue;
                }
                *cell = match routing {
                    Routing::MinLatency => min_latency[k][h].iter().cloned().collect(),
                    Routing::Direct => links
                        .iter()
                        .position(|l| l.from == k && l.to == h)
                        .map(|i| along(&links, vec![i]))
                        .into_iter()
                        .collect(),
                    Routing::MinTime => Vec::new(),
                };
            }
        }
        if routing == Routing::MinTime {
            let out = adjacency(n, &links);
            // The pairs whose lowest-latency path is not also the fastest
            // per byte, with both paths.
            let mut open = Vec::new();
            for (k, row) in routes.iter_mut().enumerate() {
                // The paths of fewest seconds per byte from k, in one search.
                let pred = fastest_tree(&out, &links, k, |l| (1.0 / l.bandwidth, l.latency));
                for (h, cell) in row.iter_mut().enumerate().filter(|&(h, _)| h != k) {
                    let Some(first) = &min_latency[k][h] else {
                        continue;
                    };
                    match path_to(&pred, &links, k, h).map(|p| along(&links, p)) {
                        Some(l) if l.time_per_byte < first.time_per_byte => {
                            open.push((k, h, first.clone(), l))
                        }
                        // The lowest-latency path is also the fastest per
                        // byte: it is the whole envelope.
                        _ => *cell = vec![first.clone()],
                    }
                }
            }
            let work = (open.len() as u128).saturating_mul(links.len() as u128);
            if work > max_work {
                return Err(work);
            }
            for (k, h, first, last) in open {
                routes[k][h] = envelope(&out, &links, k, h, first, last);
            }
        }
        Ok(Network {
            nodes,
            links,
            routing,
            latency_energy: false,
            routes,
        })
    }

    /// The path a tensor of `bytes` bytes takes from `k` to `h`, with its
    /// index among [`Network::routes`]: the candidate of least
    /// `latency + bytes × time_per_byte`, the first (lowest latency) on a
    /// tie; `None` when `h` cannot be reached from `k`.
    pub fn route(&self, k: NodeIx, h: NodeIx, bytes: f64) -> Option<(usize, &EffectiveLink)> {
        let cands = &self.routes[k][h];
        let mut best: Option<(usize, &EffectiveLink)> = None;
        for (i, e) in cands.iter().enumerate() {
            let better = match best {
                None => true,
                Some((_, b)) => {
                    e.latency + bytes * e.time_per_byte < b.latency + bytes * b.time_per_byte
                }
            };
            if better {
                best = Some((i, e));
            }
        }
        best
    }

    /// Every path a transfer from `k` to `h` may take (empty: unreachable).
    pub fn routes(&self, k: NodeIx, h: NodeIx) -> &[EffectiveLink] {
        &self.routes[k][h]
    }

    /// The lowest-latency path from `k` to `h` the routing allows (the one
    /// a tensor of 0 bytes takes; `k == h`: all zero), or `None` when `h`
    /// cannot be reached from `k`.
    pub fn effective(&self, k: NodeIx, h: NodeIx) -> Option<&EffectiveLink> {
        self.routes[k][h].first()
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

fn cost_of(l: &Link) -> PathCost {
    PathCost {
        latency: l.latency,
        time_per_byte: 1.0 / l.bandwidth,
        energy_per_byte: l.power / l.bandwidth,
        price_per_byte: l.price,
    }
}

/// The figures of the path `path`, summed along it.
fn along(links: &[Link], path: Vec<usize>) -> EffectiveLink {
    let d = path
        .iter()
        .fold(PathCost::default(), |acc, &i| acc + cost_of(&links[i]));
    EffectiveLink {
        latency: d.latency,
        time_per_byte: d.time_per_byte,
        energy_per_byte: d.energy_per_byte,
        price_per_byte: d.price_per_byte,
        path,
    }
}

/// The paths of the lower envelope of `latency + b × time_per_byte` over
/// b ≥ 0 from `k` to `h`, by increasing latency, starting at `first` (the
/// lowest-latency path, best for b → 0) and ending at `last` (the fewest
/// seconds per byte, best for b → ∞). Between two envelope paths L and
/// R the fastest path at the size where their lines cross either meets
/// both lines there (then the envelope between them is L and R: it is
/// concave and touches each line at two points) or lies below, and is a
/// new envelope path between them.
fn envelope(
    out: &[Vec<usize>],
    links: &[Link],
    k: usize,
    h: usize,
    first: EffectiveLink,
    last: EffectiveLink,
) -> Vec<EffectiveLink> {
    let mut done = vec![first];
    let mut stack = vec![last];
    while let Some(right) = stack.pop() {
        let left = done.last().expect("starts with the first path");
        if right.time_per_byte >= left.time_per_byte || right.latency <= left.latency {
            // The same line, or one that is nowhere better than the left.
            if right.latency <= left.latency && right.time_per_byte < left.time_per_byte {
                // Cannot happen for a lowest-latency left path; keep the
                // faster one defensively.
                *done.last_mut().expect("non-empty") = right;
            }
            continue;
        }
        let b = (right.latency - left.latency) / (left.time_per_byte - right.time_per_byte);
        let line = left.latency + b * left.time_per_byte;
        let pred = fastest_tree(out, links, k, |l| (l.latency + b / l.bandwidth, l.latency));
        let mid = path_to(&pred, links, k, h).map(|p| along(links, p));
        match mid {
            Some(m)
                if m.latency + b * m.time_per_byte < line - 1e-12 * line.abs().max(1e-300)
                    && m.path != left.path
                    && m.path != right.path =>
            {
                stack.push(right);
                stack.push(m);
            }
            _ => done.push(right),
        }
    }
    done
}

/// The links leaving each node.
fn adjacency(n: usize, links: &[Link]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); n];
    for (i, l) in links.iter().enumerate() {
        out[l.from].push(i);
    }
    out
}

/// A distance for the heap: a pair of sums compared lexicographically
/// (total order on f64).
#[derive(PartialEq)]
struct Dist(f64, f64);

impl Eq for Dist {}

impl PartialOrd for Dist {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Dist {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .total_cmp(&other.0)
            .then_with(|| self.1.total_cmp(&other.1))
    }
}

/// The shortest-path tree from `k` under `weight` (a pair compared
/// lexicographically, both summed along the path): Dijkstra with a heap;
/// for every node the link that reaches it (`None`: `k` itself or
/// unreachable).
fn fastest_tree(
    out: &[Vec<usize>],
    links: &[Link],
    k: usize,
    weight: impl Fn(&Link) -> (f64, f64),
) -> Vec<Option<usize>> {
    use std::cmp::Reverse;
    let n = out.len();
    let mut dist: Vec<Option<(f64, f64)>> = vec![None; n];
    let mut pred: Vec<Option<usize>> = vec![None; n];
    let mut done = vec![false; n];
    let mut heap = std::collections::BinaryHeap::new();
    dist[k] = Some((0.0, 0.0));
    heap.push(Reverse((Dist(0.0, 0.0), k)));
    while let Some(Reverse((Dist(d0, d1), u))) = heap.pop() {
        if done[u] {
            continue;
        }
        done[u] = true;
        for &i in &out[u] {
            let l = &links[i];
            if done[l.to] {
                continue;
            }
            let w = weight(l);
            let cand = (d0 + w.0, d1 + w.1);
            let better = dist[l.to].is_none_or(|d| Dist(cand.0, cand.1) < Dist(d.0, d.1));
            if better {
                dist[l.to] = Some(cand);
                pred[l.to] = Some(i);
                heap.push(Reverse((Dist(cand.0, cand.1), l.to)));
            }
        }
    }
    pred
}

/// The path from `k` to `h` in the tree `pred` (`None`: unreachable).
fn path_to(pred: &[Option<usize>], links: &[Link], k: usize, h: usize) -> Option<Vec<usize>> {
    let mut path = Vec::new();
    let mut cur = h;
    while cur != k {
        let i = pred[cur]?;
        path.push(i);
        cur = links[i].from;
        if path.len() > pred.len() {
            return None;
        }
    }
    path.reverse();
    Some(path)
}

/// The lowest-latency path (ties: fewest seconds per byte) of every ordered
/// pair k ≠ h, with one Dijkstra per source node.
fn min_latency_paths(nodes: &[Node], links: &[Link]) -> Vec<Vec<Option<EffectiveLink>>> {
    let n = nodes.len();
    let mut g: DiGraph<(), usize> = DiGraph::new();
    for _ in 0..n {
        g.add_node(());
    }
    for (i, l) in links.iter().enumerate() {
        g.add_edge(NodeIndex::new(l.from), NodeIndex::new(l.to), i);
    }
    // The links entering each node, for the path recovery below.
    let mut incoming = vec![Vec::new(); n];
    for (i, l) in links.iter().enumerate() {
        incoming[l.to].push(i);
    }
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
                    incoming[cur].iter().filter_map(|&i| {
                        let l = &links[i];
                        let df = dist.get(&NodeIndex::new(l.from))?;
                        (!on_path[l.from]).then(|| (i, l, *df + cost_of(l)))
                    })
                };
                // The edge that closes the distance; with extreme numbers
                // (infinite or absorbed costs) the cheapest one instead.
                let edge = into().find(|&(_, _, c)| close(c, dc)).or_else(|| {
                    into().min_by(|x, y| x.2.partial_cmp(&y.2).unwrap_or(std::cmp::Ordering::Equal))
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
    effective
}

fn close(a: PathCost, b: PathCost) -> bool {
    let eq = |x: f64, y: f64| x == y || (x - y).abs() <= 1e-12 * (1.0 + x.abs().max(y.abs()));
    eq(a.latency, b.latency) && eq(a.time_per_byte, b.time_per_byte)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn node(i: usize) -> Node {
        Node {
            name: format!("n{i}"),
            kind: format!("n{i}"),
            speed: 1.0,
            memory: 1.0,
            power: 0.0,
            price: 0.0,
            quant_speedup: 1.0,
            max_utilization: None,
            max_power: None,
        }
    }

    /// Every simple path from k to h.
    fn all_paths(n: usize, links: &[Link], k: usize, h: usize) -> Vec<Vec<usize>> {
        fn walk(
            links: &[Link],
            cur: usize,
            h: usize,
            seen: &mut Vec<bool>,
            path: &mut Vec<usize>,
            out: &mut Vec<Vec<usize>>,
        ) {
            if cur == h {
                out.push(path.clone());
                return;
            }
            for (i, l) in links.iter().enumerate().filter(|(_, l)| l.from == cur) {
                if seen[l.to] {
                    continue;
                }
                seen[l.to] = true;
                path.push(i);
                walk(links, l.to, h, seen, path, out);
                path.pop();
                seen[l.to] = false;
            }
        }
        let mut seen = vec![false; n];
        seen[k] = true;
        let mut out = Vec::new();
        walk(links, k, h, &mut seen, &mut Vec::new(), &mut out);
        out
    }

    /// On random networks of up to 6 nodes, the path `min_time` routing
    /// gives a tensor of b bytes is the fastest of every simple path for
    /// b (over sizes from 1 B to 1 GB), `min_latency` gives the lowest
    /// latency path for every b, and `direct` the pair's own link.
    #[test]
    fn routes_are_the_best_paths() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut several = 0;
        for _ in 0..300 {
            let n = rng.gen_range(2..=6usize);
            let mut links = Vec::new();
            for k in 0..n {
                for h in (0..n).filter(|&h| h != k) {
                    if rng.gen_bool(0.6) {
                        links.push(Link {
                            from: k,
                            to: h,
                            bandwidth: 10f64.powf(rng.gen_range(5.0..9.0)),
                            latency: rng.gen_range(0.0..0.05),
                            power: 0.0,
                            price: 0.0,
                        });
                    }
                }
            }
            let nodes: Vec<Node> = (0..n).map(node).collect();
            let t = Network::with_routing(nodes.clone(), links.clone(), Routing::MinTime);
            let l = Network::with_routing(nodes.clone(), links.clone(), Routing::MinLatency);
            let d = Network::with_routing(nodes, links.clone(), Routing::Direct);
            for k in 0..n {
                for h in (0..n).filter(|&h| h != k) {
                    let paths: Vec<EffectiveLink> = all_paths(n, &links, k, h)
                        .into_iter()
                        .map(|p| along(&links, p))
                        .collect();
                    assert_eq!(paths.is_empty(), t.route(k, h, 1.0).is_none());
                    several += (t.routes(k, h).len() > 1) as usize;
                    let direct = links.iter().any(|x| x.from == k && x.to == h);
                    assert_eq!(d.route(k, h, 1.0).is_some(), direct);
                    if let Some((_, e)) = d.route(k, h, 1.0) {
                        assert_eq!(e.path.len(), 1);
                    }
                    for e in 0..=9 {
                        let b = 10f64.powi(e);
                        let best = paths
                            .iter()
                            .map(|p| p.latency + b * p.time_per_byte)
                            .fold(f64::INFINITY, f64::min);
                        if let Some((_, r)) = t.route(k, h, b) {
                            let got = r.latency + b * r.time_per_byte;
                            assert!(got <= best * (1.0 + 1e-9), "{got} vs {best}");
                        }
                        let min_lat = paths
                            .iter()
                            .map(|p| p.latency)
                            .fold(f64::INFINITY, f64::min);
                        if let Some((_, r)) = l.route(k, h, b) {
                            assert!(r.latency <= min_lat + 1e-12);
                        }
                    }
                }
            }
        }
        assert!(several > 50, "only {several} pairs with several paths");
    }
}
