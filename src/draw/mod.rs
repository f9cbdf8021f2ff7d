//! Pictures of plans (`edgesplit draw`): hand-written SVG.
//!
//! The DNN is laid out by level from left to right, one band per task.
//! Each cell is an atom coloured by the node that runs it, or, on a level
//! with more than [`AGGREGATE_ABOVE`] atoms, the atoms of one layer on one
//! node (`conv3: 47 on device`). Quantized cells carry a `Q` and a thick
//! outline; cross-node transfers are arrows labelled with their bytes per
//! inference. Beside the DNN, the network: each node's memory and
//! utilization, each link's load against its bandwidth. Every number comes
//! from [`crate::eval::evaluate_with_transfers`]; nothing is recomputed
//! here.
//!
//! [`diff_svg`] draws two plans of one instance on the same layout and
//! marks (class `diff`, red outline) every cell whose node or quantization
//! differs.

pub mod cli;

pub use cli::{run, DrawArgs};

use crate::eval::{evaluate_with_transfers, sig, Evaluation, Transfer};
use crate::instance::Instance;
use crate::plan::Plan;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A level with more atoms than this is drawn by layer and node.
pub const AGGREGATE_ABOVE: usize = 4;

const COLORS: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f",
    "#e15759", "#bab0ac",
];
const UNUSED: &str = "#eeeeee";
const DIFF: &str = "#d62728";

const MARGIN: f64 = 20.0;
const TASK_LABEL_W: f64 = 150.0;
const COL_W: f64 = 150.0;
const COL_GAP: f64 = 56.0;
const CELL_H: f64 = 26.0;
const CELL_GAP: f64 = 4.0;
const BAND_HEAD: f64 = 20.0;
const BAND_GAP: f64 = 14.0;
const NET_W: f64 = 420.0;

/// The colour of node `n`.
pub fn node_color(n: usize) -> &'static str {
    COLORS[n % COLORS.len()]
}

/// Escapes text for SVG.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Bytes with a unit (B, kB, MB, GB).
pub fn bytes(x: f64) -> String {
    let (v, u) = if x.abs() >= 1e9 {
        (x / 1e9, "GB")
    } else if x.abs() >= 1e6 {
        (x / 1e6, "MB")
    } else if x.abs() >= 1e3 {
        (x / 1e3, "kB")
    } else {
        (x, "B")
    };
    format!("{} {u}", sig(v))
}

/// One drawn cell: atoms of one task on one level that share a layer and
/// a node in each plan.
struct Cell {
    task: usize,
    layer: String,
    atoms: Vec<usize>,
    /// Node in plan A (`None`: unused).
    a: Option<usize>,
    /// Node in plan B (the same plan when not diffing).
    b: Option<usize>,
    /// Quantized (used atoms of a quantized group) in A and in B.
    qa: bool,
    qb: bool,
    aggregated: bool,
    x: f64,
    y: f64,
}

impl Cell {
    fn differs(&self) -> bool {
        self.a != self.b || self.qa != self.qb
    }
}

fn quantized(inst: &Instance, plan: &Plan, a: usize) -> bool {
    inst.dnn.atoms[a].group.is_some_and(|g| plan.quantized[g])
}

/// The cells of every band, placed; returns them with each band's top and
/// height and the height of the whole DNN panel.
fn layout(
    inst: &Instance,
    pa: &Plan,
    pb: &Plan,
    top: f64,
    min_band_h: f64,
) -> (Vec<Cell>, Vec<(f64, f64)>, f64) {
    let dnn = &inst.dnn;
    let mut cells = Vec::new();
    let mut bands = Vec::new();
    let mut y = top;
    for t in 0..inst.tasks.len() {
        let mut rows = 1;
        let mut band_cells = Vec::new();
        for (l, atoms) in dnn.levels.iter().enumerate() {
            let aggregated = atoms.len() > AGGREGATE_ABOVE;
            let mut level_cells: Vec<Cell> = Vec::new();
            for &a in atoms {
                let (na, nb) = (pa.placement[t][a], pb.placement[t][a]);
                let qa = na.is_some() && quantized(inst, pa, a);
                let qb = nb.is_some() && quantized(inst, pb, a);
                let layer = &dnn.atoms[a].layer;
                if aggregated {
                    if let Some(c) = level_cells.iter_mut().find(|c| {
                        &c.layer == layer && c.a == na && c.b == nb && c.qa == qa && c.qb == qb
                    }) {
                        c.atoms.push(a);
                        continue;
                    }
                }
                level_cells.push(Cell {
                    task: t,
                    layer: layer.clone(),
                    atoms: vec![a],
                    a: na,
                    b: nb,
                    qa,
                    qb,
                    aggregated,
                    x: MARGIN + TASK_LABEL_W + l as f64 * (COL_W + COL_GAP),
                    y: 0.0,
                });
            }
            // Used cells first, by node, then the unused ones.
            level_cells.sort_by_key(|c| (c.b.is_none(), c.b, c.a.is_none(), c.a));
            rows = rows.max(level_cells.len());
            band_cells.push(level_cells);
        }
        let band_h = (BAND_HEAD + rows as f64 * (CELL_H + CELL_GAP)).max(min_band_h);
        for level_cells in band_cells {
            for (i, mut c) in level_cells.into_iter().enumerate() {
                c.y = y + BAND_HEAD + i as f64 * (CELL_H + CELL_GAP);
                cells.push(c);
            }
        }
        bands.push((y, band_h));
        y += band_h + BAND_GAP;
    }
    (cells, bands, y - top)
}

fn node_name(inst: &Instance, n: Option<usize>) -> &str {
    n.map_or("unused", |n| inst.network.nodes[n].name.as_str())
}

fn cell_label(inst: &Instance, c: &Cell, diff: bool) -> (String, String) {
    let where_ = |n: Option<usize>| match n {
        Some(_) => format!("on {}", node_name(inst, n)),
        None => "unused".to_string(),
    };
    let place = if diff && c.a != c.b {
        format!("{} → {}", node_name(inst, c.a), node_name(inst, c.b))
    } else {
        where_(c.b)
    };
    if c.aggregated {
        (
            format!("{}: {} {place}", c.layer, c.atoms.len()),
            String::new(),
        )
    } else {
        (inst.dnn.atoms[c.atoms[0]].id.clone(), place)
    }
}

fn text(out: &mut String, x: f64, y: f64, size: f64, extra: &str, s: &str) {
    let _ = writeln!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" {extra}>{}</text>"#,
        esc(s)
    );
}

fn draw_cell(out: &mut String, inst: &Instance, c: &Cell, diff: bool) {
    let fill = c.b.map_or(UNUSED, node_color);
    let mark = diff && c.differs();
    let faded = diff && !mark;
    let class = if mark { "cell diff" } else { "cell" };
    let (stroke, sw, dash) = if mark {
        (DIFF, 3.0, "")
    } else if c.qb {
        ("#222222", 2.5, "")
    } else if c.b.is_none() {
        ("#999999", 1.0, r#" stroke-dasharray="3,2""#)
    } else {
        ("#555555", 0.8, "")
    };
    let ids: Vec<&str> = c
        .atoms
        .iter()
        .take(12)
        .map(|&a| inst.dnn.atoms[a].id.as_str())
        .collect();
    let more = if c.atoms.len() > 12 {
        format!(" and {} more", c.atoms.len() - 12)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        r#"<g class="{class}" data-task="{}" data-layer="{}"{}>"#,
        esc(&inst.tasks[c.task].name),
        esc(&c.layer),
        if faded { r#" opacity="0.35""# } else { "" }
    );
    let _ = writeln!(
        out,
        r#"<title>{}: {}{more}</title>"#,
        esc(&inst.tasks[c.task].name),
        esc(&ids.join(", "))
    );
    let _ = writeln!(
        out,
        r#"<rect x="{:.1}" y="{:.1}" width="{COL_W}" height="{CELL_H}" rx="3" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"{dash}/>"#,
        c.x, c.y
    );
    if diff && c.a != c.b {
        // A's node as a strip on the left.
        let _ = writeln!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="10" height="{CELL_H}" fill="{}"/>"#,
            c.x + 1.5,
            c.y + 1.5,
            c.a.map_or(UNUSED, node_color)
        );
    }
    let light = c.b.is_none();
    let color = if light { "#333333" } else { "#ffffff" };
    let (l1, l2) = cell_label(inst, c, diff);
    let x = c.x + if diff && c.a != c.b { 14.0 } else { 5.0 };
    let extra = format!(r#"fill="{color}" font-family="sans-serif""#);
    if l2.is_empty() {
        text(out, x, c.y + 17.0, 10.5, &extra, &l1);
    } else {
        text(out, x, c.y + 11.0, 10.0, &extra, &l1);
        text(out, x, c.y + 22.0, 9.0, &extra, &l2);
    }
    if c.qb || (diff && c.qa) {
        let q = match (diff, c.qa, c.qb) {
            (true, true, false) => "Q→",
            (true, false, true) => "→Q",
            _ => "Q",
        };
        let _ = writeln!(
            out,
            r#"<text class="quantized" x="{:.1}" y="{:.1}" font-size="11" font-weight="bold" text-anchor="end" fill="{color}" font-family="sans-serif">{q}</text>"#,
            c.x + COL_W - 4.0,
            c.y + 17.0
        );
    }
    out.push_str("</g>\n");
}

/// Transfers summed per (sending cell, receiving cell): the receiving cell
/// holds the lowest-level successor of the atom on the receiving node.
fn transfer_arrows(
    inst: &Instance,
    plan: &Plan,
    cells: &[Cell],
    transfers: &[Transfer],
) -> BTreeMap<(usize, usize), (f64, usize)> {
    let mut cell_of: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        for &a in &c.atoms {
            cell_of.insert((c.task, a), i);
        }
    }
    let mut arrows: BTreeMap<(usize, usize), (f64, usize)> = BTreeMap::new();
    for tr in transfers {
        let Some(&src) = cell_of.get(&(tr.task, tr.atom)) else {
            continue;
        };
        let dst_atom = inst.dnn.succs[tr.atom]
            .iter()
            .copied()
            .filter(|&b| plan.placement[tr.task][b] == Some(tr.to))
            .min_by_key(|&b| (inst.dnn.atoms[b].level, b));
        let Some(dst) = dst_atom.and_then(|b| cell_of.get(&(tr.task, b))) else {
            continue;
        };
        let e = arrows.entry((src, *dst)).or_default();
        e.0 += tr.bytes;
        e.1 += 1;
    }
    arrows
}

fn draw_arrows(out: &mut String, cells: &[Cell], arrows: &BTreeMap<(usize, usize), (f64, usize)>) {
    for (&(s, d), &(b, n)) in arrows {
        let (cs, cd) = (&cells[s], &cells[d]);
        let (x1, y1) = (cs.x + COL_W, cs.y + CELL_H / 2.0);
        let (x2, y2) = (cd.x - 2.0, cd.y + CELL_H / 2.0);
        let mx = (x1 + x2) / 2.0;
        let _ = writeln!(
            out,
            r##"<g class="transfer"><path d="M{x1:.1},{y1:.1} C{mx:.1},{y1:.1} {mx:.1},{y2:.1} {x2:.1},{y2:.1}" fill="none" stroke="#333333" stroke-width="1.4" marker-end="url(#arrow)"/>"##
        );
        let label = if n > 1 {
            format!("{} ({n})", bytes(b))
        } else {
            bytes(b)
        };
        let _ = writeln!(
            out,
            r##"<text x="{mx:.1}" y="{:.1}" font-size="9" text-anchor="middle" font-family="sans-serif" stroke="#ffffff" stroke-width="3" paint-order="stroke" fill="#111111">{}</text></g>"##,
            (y1 + y2) / 2.0 - 2.0,
            esc(&label)
        );
    }
}

fn bar(out: &mut String, x: f64, y: f64, w: f64, frac: Option<f64>, over: bool) {
    let _ = writeln!(
        out,
        r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="7" fill="#f2f2f2" stroke="#bbbbbb" stroke-width="0.6"/>"##
    );
    if let Some(f) = frac.filter(|f| f.is_finite()) {
        let fill = if over { DIFF } else { "#666666" };
        let _ = writeln!(
            out,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="7" fill="{fill}"/>"#,
            w * f.clamp(0.0, 1.0)
        );
    }
}

fn pct(num: f64, den: f64) -> String {
    if den > 0.0 && den.is_finite() {
        format!(" ({}%)", sig(100.0 * num / den))
    } else {
        String::new()
    }
}

/// The network panel: one card per node, then the links; `evs` are the
/// evaluations shown (one, or A and B).
fn draw_network(
    out: &mut String,
    inst: &Instance,
    evs: &[(&str, &Evaluation)],
    x: f64,
    top: f64,
) -> f64 {
    let net = &inst.network;
    let mut y = top;
    text(
        out,
        x,
        y + 14.0,
        14.0,
        r#"font-weight="bold" font-family="sans-serif""#,
        "Network",
    );
    y += 24.0;
    for n in 0..net.nodes.len() {
        y += draw_node_card(out, inst, evs, n, x, y) + 8.0;
    }
    y += 6.0;
    text(
        out,
        x,
        y + 12.0,
        13.0,
        r#"font-weight="bold" font-family="sans-serif""#,
        "Links (load per second against bandwidth)",
    );
    y += 20.0;
    y = draw_links(out, inst, evs, x, y);
    y - top
}

/// Node `n`'s card at (`x`, `y`): memory and utilization against their
/// limits, per evaluation; returns its height.
fn draw_node_card(
    out: &mut String,
    inst: &Instance,
    evs: &[(&str, &Evaluation)],
    n: usize,
    x: f64,
    y: f64,
) -> f64 {
    let node = &inst.network.nodes[n];
    let bar_w = NET_W - 30.0;
    let _ = writeln!(out, r#"<g class="node" data-node="{}">"#, esc(&node.name));
    let rows = evs.len() * 2;
    let h = 24.0 + rows as f64 * 22.0;
    let _ = writeln!(
        out,
        r##"<rect x="{x:.1}" y="{y:.1}" width="{NET_W}" height="{h:.1}" rx="4" fill="#fafafa" stroke="{}" stroke-width="2"/>"##,
        node_color(n)
    );
    let _ = writeln!(
        out,
        r#"<rect x="{:.1}" y="{:.1}" width="12" height="12" fill="{}"/>"#,
        x + 8.0,
        y + 6.0,
        node_color(n)
    );
    let deployed: Vec<String> = evs
        .iter()
        .map(|(tag, ev)| {
            let r = &ev.nodes[n];
            let p = format!("{} atoms, {} W", r.atoms_deployed, sig(r.power_w));
            if tag.is_empty() {
                p
            } else {
                format!("{tag}: {p}")
            }
        })
        .collect();
    text(
        out,
        x + 26.0,
        y + 16.0,
        12.0,
        r#"font-weight="bold" font-family="sans-serif""#,
        &format!("{}  ·  {}", node.name, deployed.join("  ·  ")),
    );
    let mut yy = y + 24.0;
    for (tag, ev) in evs {
        let r = &ev.nodes[n];
        let pre = if tag.is_empty() {
            String::new()
        } else {
            format!("{tag}: ")
        };
        let mem_over = r.memory_bytes > r.memory_limit * (1.0 + 1e-9);
        text(
            out,
            x + 8.0,
            yy + 9.0,
            10.0,
            r#"font-family="sans-serif""#,
            &format!(
                "{pre}memory {} of {}{}",
                bytes(r.memory_bytes),
                bytes(r.memory_limit),
                pct(r.memory_bytes, r.memory_limit)
            ),
        );
        bar(
            out,
            x + 8.0,
            yy + 12.0,
            bar_w,
            Some(r.memory_bytes / r.memory_limit),
            mem_over,
        );
        yy += 22.0;
        let max = node.max_utilization;
        let util_over = max.is_some_and(|m| r.utilization > m * (1.0 + 1e-9));
        text(
            out,
            x + 8.0,
            yy + 9.0,
            10.0,
            r#"font-family="sans-serif""#,
            &format!(
                "{pre}utilization {}{}",
                sig(r.utilization),
                max.map(|m| format!(" of max {}", sig(m)))
                    .unwrap_or_default()
            ),
        );
        bar(
            out,
            x + 8.0,
            yy + 12.0,
            bar_w,
            Some(r.utilization / max.unwrap_or(1.0)),
            util_over,
        );
        yy += 22.0;
    }
    out.push_str("</g>\n");
    h
}

/// The links from `y` down, each load against its bandwidth per
/// evaluation; returns the `y` below them.
fn draw_links(
    out: &mut String,
    inst: &Instance,
    evs: &[(&str, &Evaluation)],
    x: f64,
    mut y: f64,
) -> f64 {
    let net = &inst.network;
    let bar_w = NET_W - 30.0;
    for (l, link) in net.links.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<g class="link" data-from="{}" data-to="{}">"#,
            esc(&net.nodes[link.from].name),
            esc(&net.nodes[link.to].name)
        );
        for (tag, ev) in evs {
            let r = &ev.links[l];
            let pre = if tag.is_empty() {
                String::new()
            } else {
                format!("{tag}: ")
            };
            let over = r.load_bytes_per_s > r.bandwidth * (1.0 + 1e-9);
            text(
                out,
                x + 8.0,
                y + 9.0,
                10.0,
                r#"font-family="sans-serif""#,
                &format!(
                    "{pre}{} → {}: {}/s of {}/s{}",
                    r.from,
                    r.to,
                    bytes(r.load_bytes_per_s),
                    bytes(r.bandwidth),
                    pct(r.load_bytes_per_s, r.bandwidth)
                ),
            );
            bar(
                out,
                x + 8.0,
                y + 12.0,
                bar_w,
                Some(r.load_bytes_per_s / r.bandwidth),
                over,
            );
            y += 22.0;
        }
        out.push_str("</g>\n");
    }
    y
}

fn summary(ev: &Evaluation) -> String {
    format!(
        "T = {} s, E = {} W, C = {}/s, objective {}",
        sig(ev.totals.time),
        sig(ev.totals.energy),
        sig(ev.totals.cost),
        ev.objective.map(sig).unwrap_or_else(|| "-".into())
    )
}

fn verdict(ev: &Evaluation) -> String {
    if ev.feasible() {
        "feasible".into()
    } else {
        format!("INFEASIBLE: {} violation(s)", ev.violations.len())
    }
}

fn quant_line(ev: &Evaluation) -> String {
    if ev.quantized.is_empty() {
        "nothing quantized".into()
    } else {
        format!(
            "quantized: {} (noise {})",
            ev.quantized.join(", "),
            sig(ev.noise)
        )
    }
}

fn legend(out: &mut String, inst: &Instance, x: f64, y: f64, diff: bool) {
    let mut xx = x;
    let f = r#"font-family="sans-serif""#;
    for (n, node) in inst.network.nodes.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<rect x="{xx:.1}" y="{:.1}" width="12" height="12" fill="{}"/>"#,
            y - 10.0,
            node_color(n)
        );
        text(out, xx + 16.0, y, 11.0, f, &node.name);
        xx += 26.0 + 7.0 * node.name.chars().count() as f64;
    }
    let _ = writeln!(
        out,
        r##"<rect x="{xx:.1}" y="{:.1}" width="12" height="12" fill="{UNUSED}" stroke="#999999" stroke-dasharray="3,2"/>"##,
        y - 10.0
    );
    text(out, xx + 16.0, y, 11.0, f, "unused");
    xx += 70.0;
    let extra = if diff {
        "left strip: node in A, fill: node in B; red outline: differs; faded: the same in both; Q→ / →Q: quantized only in A / B"
    } else {
        "Q, thick outline: quantized; arrows: bytes sent between nodes per inference (n transfers summed)"
    };
    text(out, xx, y, 11.0, f, extra);
}

fn header(out: &mut String, lines: &[(f64, &str, String)], x: f64, mut y: f64) -> f64 {
    for (size, extra, s) in lines {
        y += size + 6.0;
        text(
            out,
            x,
            y,
            *size,
            &format!(r#"font-family="sans-serif" {extra}"#),
            s,
        );
    }
    y + 8.0
}

fn svg_open(w: f64, h: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}">"#
    );
    out.push_str(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333333"/></marker></defs>
"##,
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    out
}

fn level_heads(out: &mut String, inst: &Instance, y: f64) {
    for (l, atoms) in inst.dnn.levels.iter().enumerate() {
        let mut layers: Vec<&str> = Vec::new();
        for &a in atoms {
            let name = inst.dnn.atoms[a].layer.as_str();
            if !layers.contains(&name) {
                layers.push(name);
            }
        }
        let mut s = layers.join(", ");
        if s.chars().count() > 22 {
            s = format!("{}…", s.chars().take(21).collect::<String>());
        }
        text(
            out,
            MARGIN + TASK_LABEL_W + l as f64 * (COL_W + COL_GAP),
            y,
            10.0,
            r##"font-family="sans-serif" fill="#555555""##,
            &format!("level {l}: {s} ({})", atoms.len()),
        );
    }
}

fn band_labels(
    out: &mut String,
    inst: &Instance,
    bands: &[(f64, f64)],
    evs: &[(&str, &Evaluation)],
) {
    for (t, &(y, h)) in bands.iter().enumerate() {
        let task = &inst.tasks[t];
        let _ = writeln!(
            out,
            r##"<rect class="band" x="{MARGIN}" y="{y:.1}" width="{:.1}" height="{h:.1}" fill="#f7f7f7"/>"##,
            TASK_LABEL_W + inst.dnn.levels.len() as f64 * (COL_W + COL_GAP) - COL_GAP
        );
        text(
            out,
            MARGIN + 4.0,
            y + 14.0,
            12.0,
            r#"font-weight="bold" font-family="sans-serif""#,
            &task.name,
        );
        let mut yy = y + 28.0;
        for (tag, ev) in evs {
            let r = &ev.tasks[t];
            let pre = if tag.is_empty() {
                String::new()
            } else {
                format!("{tag}: ")
            };
            for line in [
                format!(
                    "{pre}delay {} s (max {})",
                    sig(r.delay_s),
                    sig(task.max_delay)
                ),
                format!(
                    "{pre}quality {} (min {})",
                    sig(r.quality),
                    sig(task.min_quality)
                ),
                format!("{pre}{} atoms, {} sent", r.atoms_used, bytes(r.bytes_sent)),
            ] {
                if yy < y + h {
                    text(
                        out,
                        MARGIN + 4.0,
                        yy,
                        9.5,
                        r##"font-family="sans-serif" fill="#333333""##,
                        &line,
                    );
                }
                yy += 11.0;
            }
        }
    }
}

/// The SVG picture of `plan` on `inst`, titled `title`.
pub fn plan_svg(inst: &Instance, plan: &Plan, title: &str) -> String {
    let (ev, transfers) = evaluate_with_transfers(inst, plan, None);
    let mut body = String::new();
    let mut lines = vec![
        (16.0, r#"font-weight="bold""#, title.to_string()),
        (
            12.0,
            "",
            format!("{}: {}; {}", verdict(&ev), summary(&ev), quant_line(&ev)),
        ),
    ];
    for v in ev.violations.iter().take(4) {
        lines.push((
            11.0,
            r##"fill="#d62728""##,
            format!("{}: {}", v.family, v.message),
        ));
    }
    if ev.violations.len() > 4 {
        lines.push((
            11.0,
            r##"fill="#d62728""##,
            format!("and {} more", ev.violations.len() - 4),
        ));
    }
    let mut y = header(&mut body, &lines, MARGIN, MARGIN - 6.0);
    legend(&mut body, inst, MARGIN, y + 6.0, false);
    y += 26.0;
    level_heads(&mut body, inst, y);
    y += 8.0;
    let (cells, bands, dnn_h) = layout(inst, plan, plan, y, 64.0);
    band_labels(&mut body, inst, &bands, &[("", &ev)]);
    for c in &cells {
        draw_cell(&mut body, inst, c, false);
    }
    let arrows = transfer_arrows(inst, plan, &cells, &transfers);
    draw_arrows(&mut body, &cells, &arrows);
    let net_x = MARGIN + TASK_LABEL_W + inst.dnn.levels.len() as f64 * (COL_W + COL_GAP) + 10.0;
    let net_h = draw_network(&mut body, inst, &[("", &ev)], net_x, y);
    let w = net_x + NET_W + MARGIN;
    let h = y + dnn_h.max(net_h) + MARGIN;
    let mut out = svg_open(w, h);
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

/// How two plans of one instance differ.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanDiff {
    /// (task, atom) pairs placed differently (or used in only one).
    pub placements: usize,
    /// Groups quantized in A only.
    pub quantized_only_a: Vec<String>,
    /// Groups quantized in B only.
    pub quantized_only_b: Vec<String>,
}

impl PlanDiff {
    /// True when the plans are the same.
    pub fn is_empty(&self) -> bool {
        self.placements == 0 && self.quantized_only_a.is_empty() && self.quantized_only_b.is_empty()
    }
}

/// What differs between plans `a` and `b` of `inst`.
pub fn plan_diff(inst: &Instance, a: &Plan, b: &Plan) -> PlanDiff {
    let mut d = PlanDiff::default();
    for t in 0..inst.tasks.len() {
        d.placements += (0..inst.dnn.len())
            .filter(|&x| a.placement[t][x] != b.placement[t][x])
            .count();
    }
    for (g, name) in inst.quantization.groups.iter().enumerate() {
        match (a.quantized[g], b.quantized[g]) {
            (true, false) => d.quantized_only_a.push(name.clone()),
            (false, true) => d.quantized_only_b.push(name.clone()),
            _ => {}
        }
    }
    d
}

/// The SVG picture of what differs between plans `a` (named `name_a`) and
/// `b` (`name_b`) on `inst`.
pub fn diff_svg(inst: &Instance, a: &Plan, b: &Plan, name_a: &str, name_b: &str) -> String {
    let (ea, _) = evaluate_with_transfers(inst, a, None);
    let (eb, _) = evaluate_with_transfers(inst, b, None);
    let d = plan_diff(inst, a, b);
    let mut body = String::new();
    let what = if d.is_empty() {
        "the plans are equal".to_string()
    } else {
        let mut parts = vec![format!("{} atom placement(s) differ", d.placements)];
        if !d.quantized_only_a.is_empty() {
            parts.push(format!(
                "quantized only in A: {}",
                d.quantized_only_a.join(", ")
            ));
        }
        if !d.quantized_only_b.is_empty() {
            parts.push(format!(
                "quantized only in B: {}",
                d.quantized_only_b.join(", ")
            ));
        }
        parts.join("; ")
    };
    let lines = vec![
        (
            16.0,
            r#"font-weight="bold""#,
            format!("{}: A = {name_a}, B = {name_b}", inst.name),
        ),
        (12.0, "", what),
        (
            12.0,
            "",
            format!("A: {}: {}; {}", verdict(&ea), summary(&ea), quant_line(&ea)),
        ),
        (
            12.0,
            "",
            format!("B: {}: {}; {}", verdict(&eb), summary(&eb), quant_line(&eb)),
        ),
    ];
    let mut y = header(&mut body, &lines, MARGIN, MARGIN - 6.0);
    legend(&mut body, inst, MARGIN, y + 6.0, true);
    y += 26.0;
    level_heads(&mut body, inst, y);
    y += 8.0;
    let (cells, bands, dnn_h) = layout(inst, a, b, y, 98.0);
    let evs = [("A", &ea), ("B", &eb)];
    band_labels(&mut body, inst, &bands, &evs);
    for c in &cells {
        draw_cell(&mut body, inst, c, true);
    }
    let net_x = MARGIN + TASK_LABEL_W + inst.dnn.levels.len() as f64 * (COL_W + COL_GAP) + 10.0;
    let net_h = draw_network(&mut body, inst, &evs, net_x, y);
    let w = net_x + NET_W + MARGIN;
    let h = y + dnn_h.max(net_h) + MARGIN;
    let mut out = svg_open(w, h);
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}
