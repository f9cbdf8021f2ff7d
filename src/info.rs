//! `edgesplit info`: what an instance is, as data ([`InstanceInfo`], the
//! `--json` form) and as tables for a terminal ([`InstanceInfo::render`]).

use crate::eval::sig;
use crate::instance::{Instance, Normalization};
use crate::table::Column;
use serde::Serialize;
use std::fmt::Write;

/// An instance described: sizes, tasks, nodes, effective links, the
/// objective and which constraint families are on.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceInfo {
    /// Instance name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The DNN.
    pub dnn: DnnInfo,
    /// `sequential` or `layered`.
    pub delay_model: &'static str,
    /// Quantization groups.
    pub quantization_groups: usize,
    /// The objective's weights and normalization.
    pub objective: ObjectiveInfo,
    /// Constraint families and strengthenings: name → on.
    pub families: serde_json::Map<String, serde_json::Value>,
    /// One row per task.
    pub tasks: Vec<TaskInfo>,
    /// One row per node.
    pub nodes: Vec<NodeInfo>,
    /// One row per ordered pair of distinct nodes.
    pub links: Vec<LinkInfo>,
}

/// The DNN's sizes.
#[derive(Debug, Clone, Serialize)]
pub struct DnnInfo {
    /// Name.
    pub name: String,
    /// Atoms, input and output included.
    pub atoms: usize,
    /// Edges.
    pub edges: usize,
    /// Topological levels.
    pub levels: usize,
    /// Fan-out classes (atoms whose outputs travel together).
    pub fanout_classes: usize,
    /// Total FLOP of one inference of every atom.
    pub flops: f64,
    /// Total parameter bytes.
    pub param_bytes: f64,
}

/// A task.
#[derive(Debug, Clone, Serialize)]
pub struct TaskInfo {
    /// Name.
    pub name: String,
    /// Requests per second.
    pub rate: f64,
    /// Node where its input appears.
    pub source: String,
    /// Node where its output is delivered.
    pub sink: String,
    /// Delay limit, seconds (none: no limit).
    pub max_delay_s: Option<f64>,
    /// Least quality.
    pub min_quality: f64,
}

/// A node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeInfo {
    /// Name.
    pub name: String,
    /// FLOP per second.
    pub speed: f64,
    /// Memory, bytes.
    pub memory_bytes: f64,
    /// Power when busy, W.
    pub power_w: f64,
    /// Price per second of compute.
    pub price: f64,
    /// Speed-up of quantized layers.
    pub quant_speedup: f64,
}

/// The effective link from one node to another (the cheapest path).
#[derive(Debug, Clone, Serialize)]
pub struct LinkInfo {
    /// From node.
    pub from: String,
    /// To node.
    pub to: String,
    /// Whether some path exists.
    pub reachable: bool,
    /// Seconds per transfer.
    pub latency_s: Option<f64>,
    /// Seconds per byte.
    pub s_per_byte: Option<f64>,
    /// Joules per byte.
    pub j_per_byte: Option<f64>,
    /// Price per byte.
    pub price_per_byte: Option<f64>,
    /// The physical links of the path, `a->b`.
    pub path: Vec<String>,
}

/// The objective.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectiveInfo {
    /// Weight of the time total T.
    pub w_time: f64,
    /// Weight of the energy total E.
    pub w_energy: f64,
    /// Weight of the cost total C.
    pub w_cost: f64,
    /// `none`, `scales` or `payoff`.
    pub normalization: &'static str,
    /// The scales of `scales` normalization (T, E, C).
    pub scales: Option<[f64; 3]>,
}

impl InstanceInfo {
    /// Describes `inst`.
    pub fn of(inst: &Instance) -> InstanceInfo {
        let d = &inst.dnn;
        let net = &inst.network;
        let node = |i: usize| net.nodes[i].name.clone();
        let mut links = Vec::new();
        for k in 0..net.len() {
            for h in (0..net.len()).filter(|&h| h != k) {
                let e = net.effective(k, h);
                links.push(LinkInfo {
                    from: node(k),
                    to: node(h),
                    reachable: e.is_some(),
                    latency_s: e.map(|e| e.latency),
                    s_per_byte: e.map(|e| e.time_per_byte),
                    j_per_byte: e.map(|e| e.energy_per_byte),
                    price_per_byte: e.map(|e| e.price_per_byte),
                    path: e
                        .map(|e| {
                            e.path
                                .iter()
                                .map(|&l| {
                                    format!(
                                        "{}->{}",
                                        node(net.links[l].from),
                                        node(net.links[l].to)
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                });
            }
        }
        let families = match serde_json::to_value(inst.families) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        let (normalization, scales) = match &inst.objective.normalization {
            Normalization::None => ("none", None),
            Normalization::Scales(s) => ("scales", Some([s.time, s.energy, s.cost])),
            Normalization::Payoff => ("payoff", None),
        };
        InstanceInfo {
            name: inst.name.clone(),
            description: inst.description.clone(),
            dnn: DnnInfo {
                name: d.name.clone(),
                atoms: d.len(),
                edges: d.edge_count(),
                levels: d.levels.len(),
                fanout_classes: d.classes.len(),
                flops: d.total_flops(),
                param_bytes: d.total_param_bytes(),
            },
            delay_model: inst.delay_model.name(),
            quantization_groups: inst.group_count(),
            objective: ObjectiveInfo {
                w_time: inst.objective.weights.time,
                w_energy: inst.objective.weights.energy,
                w_cost: inst.objective.weights.cost,
                normalization,
                scales,
            },
            families,
            tasks: inst
                .tasks
                .iter()
                .map(|t| TaskInfo {
                    name: t.name.clone(),
                    rate: t.rate,
                    source: node(t.source),
                    sink: node(t.sink),
                    max_delay_s: t.max_delay.is_finite().then_some(t.max_delay),
                    min_quality: t.min_quality,
                })
                .collect(),
            nodes: net
                .nodes
                .iter()
                .map(|n| NodeInfo {
                    name: n.name.clone(),
                    speed: n.speed,
                    memory_bytes: n.memory,
                    power_w: n.power,
                    price: n.price,
                    quant_speedup: n.quant_speedup,
                })
                .collect(),
            links,
        }
    }

    /// Plain-text tables, numbers to 4 significant digits.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let d = &self.dnn;
        let _ = writeln!(out, "instance {}: {}", self.name, self.description);
        let _ = writeln!(
            out,
            "dnn {}: {} atoms, {} edges, {} levels, {} fan-out classes, {} FLOP, {} parameter bytes",
            d.name,
            d.atoms,
            d.edges,
            d.levels,
            d.fanout_classes,
            sig(d.flops),
            sig(d.param_bytes)
        );
        let o = &self.objective;
        let scales = o
            .scales
            .map(|s| format!(" (T/{}, E/{}, C/{})", sig(s[0]), sig(s[1]), sig(s[2])))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "objective: {}·T + {}·E + {}·C, {} normalization{scales}; {} delay model; {} quantization groups",
            sig(o.w_time),
            sig(o.w_energy),
            sig(o.w_cost),
            o.normalization,
            self.delay_model,
            self.quantization_groups
        );
        let (on, off): (Vec<_>, Vec<_>) = self
            .families
            .iter()
            .partition(|(_, v)| v.as_bool().unwrap_or(false));
        let names = |v: &[(&String, &serde_json::Value)]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let _ = writeln!(out, "families on: {}; off: {}", names(&on), names(&off));

        out.push('\n');
        table(
            &mut out,
            &[
                "task",
                "rate_1/s",
                "source",
                "sink",
                "max_delay_s",
                "min_quality",
            ],
            self.tasks.iter().map(|t| {
                vec![
                    t.name.clone(),
                    sig(t.rate),
                    t.source.clone(),
                    t.sink.clone(),
                    t.max_delay_s.map_or("none".into(), sig),
                    sig(t.min_quality),
                ]
            }),
        );
        out.push('\n');
        table(
            &mut out,
            &[
                "node",
                "FLOP/s",
                "memory_B",
                "power_W",
                "price/s",
                "quant_speedup",
            ],
            self.nodes.iter().map(|n| {
                vec![
                    n.name.clone(),
                    sig(n.speed),
                    sig(n.memory_bytes),
                    sig(n.power_w),
                    sig(n.price),
                    sig(n.quant_speedup),
                ]
            }),
        );
        out.push('\n');
        let opt = |x: Option<f64>| x.map_or("–".into(), sig);
        table(
            &mut out,
            &["link", "latency_s", "s/B", "J/B", "price/B", "path"],
            self.links.iter().map(|l| {
                vec![
                    format!("{} -> {}", l.from, l.to),
                    opt(l.latency_s),
                    opt(l.s_per_byte),
                    opt(l.j_per_byte),
                    opt(l.price_per_byte),
                    if l.reachable {
                        l.path.join(", ")
                    } else {
                        "unreachable".into()
                    },
                ]
            }),
        );
        out
    }
}

/// A table of `info`: the first and the last column (free text)
/// left-aligned, the others (numbers) right-aligned, two spaces apart.
fn table(out: &mut String, head: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let last = head.len().saturating_sub(1);
    let cols: Vec<Column> = head
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if i == 0 || i == last {
                Column::left(h)
            } else {
                Column::right(h)
            }
        })
        .collect();
    out.push_str(&crate::table::text(&cols, rows, 2));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_their_columns() {
        let mut out = String::new();
        table(
            &mut out,
            &["name", "x", "note"],
            [
                vec!["a".to_string(), "1".into(), "first".into()],
                vec!["longer".to_string(), "22.5".into(), "second".into()],
            ]
            .into_iter(),
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "name       x  note");
        assert_eq!(lines[1], "a          1  first");
        assert_eq!(lines[2], "longer  22.5  second");
    }
}
