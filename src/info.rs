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
    /// `min_time`, `min_latency` or `direct`: how a transfer picks its path.
    pub routing: &'static str,
    /// Whether a transfer's energy includes the sender's power during its
    /// latency.
    pub latency_energy: bool,
    /// The profile entries (measured compute times), in file order.
    pub profiles: Vec<ProfileInfo>,
}

/// One profile entry as the loader resolved it.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileInfo {
    /// The atom or layer as written.
    pub layer: String,
    /// The node or node kind as written.
    pub node: String,
    /// How many atoms it times.
    pub atoms: usize,
    /// The nodes it applies to (a node's own entry takes precedence over
    /// its kind's).
    pub nodes: Vec<String>,
    /// Seconds per inference of the whole atom or layer, fp32.
    pub time_s: f64,
    /// Quantized, when given (otherwise time_s / quant_speedup).
    pub time_q_s: Option<f64>,
    /// Where it is written: `profiles.times[0]` or `FILE line N`.
    pub source: String,
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
    /// The parent DNNs whose disjoint union this is (one entry for an
    /// instance with a single DNN).
    pub parts: Vec<DnnPartInfo>,
}

/// One parent DNN of an instance.
#[derive(Debug, Clone, Serialize)]
pub struct DnnPartInfo {
    /// Its name (the prefix of its atom ids when there are several).
    pub name: String,
    /// Its atoms, input and output included.
    pub atoms: usize,
    /// Its input atom's id.
    pub input: String,
    /// Its output atom's id.
    pub output: String,
    /// Its total FLOP.
    pub flops: f64,
    /// Its total parameter bytes.
    pub param_bytes: f64,
    /// The tasks that run it.
    pub tasks: Vec<String>,
}

/// A task.
#[derive(Debug, Clone, Serialize)]
pub struct TaskInfo {
    /// Name.
    pub name: String,
    /// The DNN it runs.
    pub dnn: String,
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
    /// Kind (the name unless `kind:` is set), which profiles may name.
    pub kind: String,
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
    /// Every path the routing may choose for the pair, by increasing
    /// latency (the first is the one above): under `min_time` a tensor
    /// takes the path whose byte range holds its size.
    pub routes: Vec<RouteInfo>,
}

/// One path a pair's transfers may take, and the tensor sizes that take it.
#[derive(Debug, Clone, Serialize)]
pub struct RouteInfo {
    /// Tensors of more than this many bytes take it (0: from the
    /// smallest; the first path also takes exactly 0 bytes).
    pub from_bytes: f64,
    /// Up to this many bytes (`None`: no upper end).
    pub to_bytes: Option<f64>,
    /// Seconds per transfer.
    pub latency_s: f64,
    /// Seconds per byte.
    pub s_per_byte: f64,
    /// Joules per byte.
    pub j_per_byte: f64,
    /// Price per byte.
    pub price_per_byte: f64,
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
        let path_of = |e: &crate::network::EffectiveLink| -> Vec<String> {
            e.path
                .iter()
                .map(|&l| format!("{}->{}", node(net.links[l].from), node(net.links[l].to)))
                .collect()
        };
        for k in 0..net.len() {
            for h in (0..net.len()).filter(|&h| h != k) {
                let e = net.effective(k, h);
                let cands = net.routes(k, h);
                // Path i is taken above the size where its line
                // latency + b·s/B crosses the one before it.
                let from: Vec<f64> = (0..cands.len())
                    .map(|i| {
                        if i == 0 {
                            0.0
                        } else {
                            let (a, b) = (&cands[i - 1], &cands[i]);
                            (b.latency - a.latency) / (a.time_per_byte - b.time_per_byte)
                        }
                    })
                    .collect();
                let routes = cands
                    .iter()
                    .enumerate()
                    .map(|(i, c)| RouteInfo {
                        from_bytes: from[i],
                        to_bytes: from.get(i + 1).copied(),
                        latency_s: c.latency,
                        s_per_byte: c.time_per_byte,
                        j_per_byte: c.energy_per_byte,
                        price_per_byte: c.price_per_byte,
                        path: path_of(c),
                    })
                    .collect();
                links.push(LinkInfo {
                    from: node(k),
                    to: node(h),
                    reachable: e.is_some(),
                    latency_s: e.map(|e| e.latency),
                    s_per_byte: e.map(|e| e.time_per_byte),
                    j_per_byte: e.map(|e| e.energy_per_byte),
                    price_per_byte: e.map(|e| e.price_per_byte),
                    path: e.map(path_of).unwrap_or_default(),
                    routes,
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
                parts: d
                    .components
                    .iter()
                    .enumerate()
                    .map(|(c, comp)| DnnPartInfo {
                        name: comp.name.clone(),
                        atoms: comp.atoms.len(),
                        input: d.atoms[comp.input].id.clone(),
                        output: d.atoms[comp.output].id.clone(),
                        flops: d.atoms[comp.atoms.clone()].iter().map(|a| a.flops).sum(),
                        param_bytes: d.atoms[comp.atoms.clone()]
                            .iter()
                            .map(|a| a.param_bytes)
                            .sum(),
                        tasks: inst
                            .tasks
                            .iter()
                            .filter(|t| t.dnn == c)
                            .map(|t| t.name.clone())
                            .collect(),
                    })
                    .collect(),
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
                    dnn: d.components[t.dnn].name.clone(),
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
                    kind: n.kind.clone(),
                    speed: n.speed,
                    memory_bytes: n.memory,
                    power_w: n.power,
                    price: n.price,
                    quant_speedup: n.quant_speedup,
                })
                .collect(),
            links,
            routing: net.routing.name(),
            latency_energy: net.latency_energy,
            profiles: profile_rows(inst),
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
        if d.parts.len() > 1 {
            for p in &d.parts {
                let _ = writeln!(
                    out,
                    "  dnn {}: {} atoms ({} -> {}), {} FLOP, {} parameter bytes; tasks {}",
                    p.name,
                    p.atoms,
                    p.input,
                    p.output,
                    sig(p.flops),
                    sig(p.param_bytes),
                    p.tasks.join(", ")
                );
            }
        }
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
        let several = d.parts.len() > 1;
        let mut head = vec!["task"];
        if several {
            head.push("dnn");
        }
        head.extend(["rate_1/s", "source", "sink", "max_delay_s", "min_quality"]);
        table(
            &mut out,
            &head,
            self.tasks.iter().map(|t| {
                let mut row = vec![t.name.clone()];
                if several {
                    row.push(t.dnn.clone());
                }
                row.extend([
                    sig(t.rate),
                    t.source.clone(),
                    t.sink.clone(),
                    t.max_delay_s.map_or("none".into(), sig),
                    sig(t.min_quality),
                ]);
                row
            }),
        );
        out.push('\n');
        let kinds = self.nodes.iter().any(|n| n.kind != n.name);
        let mut head = vec!["node"];
        if kinds {
            head.push("kind");
        }
        head.extend(["FLOP/s", "memory_B", "power_W", "price/s", "quant_speedup"]);
        table(
            &mut out,
            &head,
            self.nodes.iter().map(|n| {
                let mut row = vec![n.name.clone()];
                if kinds {
                    row.push(n.kind.clone());
                }
                row.extend([
                    sig(n.speed),
                    sig(n.memory_bytes),
                    sig(n.power_w),
                    sig(n.price),
                    sig(n.quant_speedup),
                ]);
                row
            }),
        );
        self.render_profiles(&mut out);
        self.render_links(&mut out);
        out
    }

    /// The profile entries, when there are any.
    fn render_profiles(&self, out: &mut String) {
        if !self.profiles.is_empty() {
            let _ = writeln!(
                out,
                "\nprofiles: {} measured time(s) replace flops/speed (and quant_speedup where time_q_s is given) for the atoms and nodes they name",
                self.profiles.len()
            );
            table(
                out,
                &[
                    "profile",
                    "node",
                    "atoms",
                    "time_s",
                    "time_q_s",
                    "applies to",
                    "source",
                ],
                self.profiles.iter().map(|p| {
                    vec![
                        p.layer.clone(),
                        p.node.clone(),
                        p.atoms.to_string(),
                        sig(p.time_s),
                        p.time_q_s.map_or("/ quant_speedup".into(), sig),
                        p.nodes.join(", "),
                        p.source.clone(),
                    ]
                }),
            );
        }
    }

    /// The routing rule and every path of every pair.
    fn render_links(&self, out: &mut String) {
        let rule = match self.routing {
            "min_time" => "a tensor of b bytes takes the path of least latency + b·s/B (the tensor_B column: which sizes take which path)",
            "min_latency" => "every tensor takes the path of least latency",
            _ => "only a pair's own physical link",
        };
        let _ = writeln!(
            out,
            "\nrouting {}: {rule}; waiting energy (latency_energy) {}",
            self.routing,
            if self.latency_energy { "on" } else { "off" }
        );
        let opt = |x: Option<f64>| x.map_or("–".into(), sig);
        let mut rows = Vec::new();
        for l in &self.links {
            let pair = format!("{} -> {}", l.from, l.to);
            if !l.reachable {
                rows.push(vec![
                    pair,
                    "–".into(),
                    opt(None),
                    opt(None),
                    opt(None),
                    opt(None),
                    "unreachable".into(),
                ]);
                continue;
            }
            for r in &l.routes {
                let sizes = match (l.routes.len(), r.to_bytes) {
                    (1, _) => "any".to_string(),
                    (_, Some(to)) if r.from_bytes == 0.0 => format!("≤ {}", sig(to)),
                    (_, Some(to)) => format!("{} – {}", sig(r.from_bytes), sig(to)),
                    (_, None) => format!("> {}", sig(r.from_bytes)),
                };
                rows.push(vec![
                    pair.clone(),
                    sizes,
                    sig(r.latency_s),
                    sig(r.s_per_byte),
                    sig(r.j_per_byte),
                    sig(r.price_per_byte),
                    r.path.join(", "),
                ]);
            }
        }
        table(
            out,
            &[
                "link",
                "tensor_B",
                "latency_s",
                "s/B",
                "J/B",
                "price/B",
                "path",
            ],
            rows.into_iter(),
        );
    }
}

/// The profile entries of `inst` as rows.
fn profile_rows(inst: &Instance) -> Vec<ProfileInfo> {
    let p = &inst.profiles;
    p.entries
        .iter()
        .map(|e| ProfileInfo {
            layer: e.layer.clone(),
            node: e.node.clone(),
            atoms: crate::instance::profile::Profiles::atoms_of(&inst.dnn, e.target).len(),
            nodes: p
                .nodes_of(e.key)
                .iter()
                .map(|&n| inst.network.nodes[n].name.clone())
                .collect(),
            time_s: e.time_s,
            time_q_s: e.time_q_s,
            source: if e.from_csv {
                let file = e.file.file_name().map_or_else(
                    || e.file.display().to_string(),
                    |f| f.to_string_lossy().into_owned(),
                );
                format!("{file} {}", e.at)
            } else {
                e.at.clone()
            },
        })
        .collect()
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
