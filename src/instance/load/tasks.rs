//! The `tasks:` section and the relevance CSV.

use super::{Check, Refs};
use crate::instance::raw::*;
use crate::instance::*;

pub(super) fn build_task(
    rt: &RawTask,
    p: &str,
    dnn: Option<&Dnn>,
    net: &Network,
    c: &mut Check,
) -> Task {
    let rate = c.num(
        &format!("{p}.rate"),
        rt.rate,
        0.0,
        true,
        "rate in requests/s",
    );
    let node = |c: &mut Check, field: &str, name: &str| -> usize {
        net.node_by_name(name).unwrap_or_else(|| {
            let known = net
                .nodes
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            c.err(
                format!("{p}.{field}"),
                format!("unknown node '{name}': expected one of {known}"),
            );
            0
        })
    };
    let own = dnn.map_or(0, |d| task_dnn(rt, p, d, c));
    let source = node(c, "source", &rt.source);
    let sink = match &rt.sink {
        Some(s) => node(c, "sink", s),
        None => source,
    };
    let max_delay = match rt.max_delay {
        Some(v) => c.num(&format!("{p}.max_delay"), v, 0.0, true, "delay in s"),
        None => f64::INFINITY,
    };
    let min_quality = rt.min_quality.unwrap_or(0.0);
    if !min_quality.is_finite() {
        c.err(
            format!("{p}.min_quality"),
            format!("value {min_quality} is not allowed: expected a finite number"),
        );
    }
    let q = rt.quality.as_ref();
    let curve = match q.and_then(|q| q.curve.as_ref()) {
        None => AccuracyCurve::identity(),
        Some(pts) => check_curve(pts, &format!("{p}.quality.curve"), c),
    };
    let noise_sensitivity = c.num(
        &format!("{p}.quality.noise_sensitivity"),
        q.and_then(|q| q.noise_sensitivity).unwrap_or(0.0),
        0.0,
        false,
        "sensitivity",
    );
    let mut relevance = vec![0.0; dnn.map_or(0, Dnn::len)];
    if let (Some(map), Some(dnn)) = (&rt.relevance, dnn) {
        for (key, &v) in map {
            let path = format!("{p}.relevance.{key}");
            c.num(&path, v, 0.0, false, "relevance score");
            set_relevance(dnn, own, key, v, &mut relevance, || {
                c.err(path.clone(), unknown_atom(dnn, own, key))
            });
        }
    }
    Task {
        name: rt.name.clone(),
        rate,
        dnn: own,
        source,
        sink,
        max_delay,
        min_quality,
        relevance,
        curve,
        noise_sensitivity,
    }
}

/// The index of the task's DNN: the one its `dnn` names; with a single
/// DNN, that one (a `dnn` given must name it). A missing or unknown name
/// is a problem at `{p}.dnn` (the index is then 0).
fn task_dnn(rt: &RawTask, p: &str, dnn: &Dnn, c: &mut Check) -> usize {
    let names = || {
        dnn.components
            .iter()
            .map(|k| format!("'{}'", k.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &rt.dnn {
        None if dnn.components.len() > 1 => {
            c.err(
                format!("{p}.dnn"),
                format!(
                    "missing: the instance has several DNNs: expected `dnn:` naming one of {}",
                    names()
                ),
            );
            0
        }
        None => 0,
        Some(name) => match dnn.components.iter().position(|k| &k.name == name) {
            Some(k) => k,
            None => {
                c.err(
                    format!("{p}.dnn"),
                    format!("unknown DNN '{name}': expected one of {}", names()),
                );
                0
            }
        },
    }
}

pub(super) fn unknown_atom(dnn: &Dnn, own: usize, key: &str) -> String {
    if dnn.components.len() > 1 {
        format!(
            "unknown atom or layer '{key}': expected an atom id or a layer name of the task's DNN '{}' (without the '{}/' prefix)",
            dnn.components[own].name, dnn.components[own].name
        )
    } else {
        format!("unknown atom or layer '{key}': expected an atom id or a layer name of the DNN")
    }
}

/// Sets σ for an atom id, or for every atom of a layer name, of DNN
/// `own` (the task's; its names are written without the DNN's prefix).
pub(super) fn set_relevance(
    dnn: &Dnn,
    own: usize,
    key: &str,
    v: f64,
    rel: &mut [f64],
    unknown: impl FnOnce(),
) {
    match dnn.resolve_in(own, key) {
        Some(atoms) => atoms.into_iter().for_each(|a| rel[a] = v),
        None => unknown(),
    }
}

pub(super) fn check_curve(pts: &[(f64, f64)], p: &str, c: &mut Check) -> AccuracyCurve {
    let before = c.d.len();
    if pts.len() < 2 {
        c.err(
            p,
            format!(
                "{} point(s): expected at least 2 points [x, accuracy] from x = 0 to x = 1",
                pts.len()
            ),
        );
        return AccuracyCurve::identity();
    }
    for (i, &(x, y)) in pts.iter().enumerate() {
        if !x.is_finite() || !y.is_finite() {
            c.err(
                format!("{p}[{i}]"),
                format!("[{x}, {y}] is not allowed: expected finite numbers"),
            );
        }
    }
    if c.d.len() > before {
        return AccuracyCurve::identity();
    }
    if pts[0].0 != 0.0 {
        c.err(
            format!("{p}[0]"),
            format!("x = {}: the curve must start at x = 0", pts[0].0),
        );
    }
    if pts[pts.len() - 1].0 != 1.0 {
        c.err(
            format!("{p}[{}]", pts.len() - 1),
            format!("x = {}: the curve must end at x = 1", pts[pts.len() - 1].0),
        );
    }
    let mut prev_slope = f64::INFINITY;
    for i in 1..pts.len() {
        let (x0, y0) = pts[i - 1];
        let (x1, y1) = pts[i];
        if x1 <= x0 {
            c.err(
                format!("{p}[{i}]"),
                format!("x = {x1} after x = {x0}: x must increase strictly"),
            );
            continue;
        }
        if y1 < y0 {
            c.err(
                format!("{p}[{i}]"),
                format!("accuracy {y1} after {y0}: expected a non-decreasing curve"),
            );
        }
        let s = (y1 - y0) / (x1 - x0);
        if s > prev_slope * (1.0 + 1e-9) + 1e-12 {
            c.err(
                format!("{p}[{i}]"),
                format!("point [{x1}, {y1}] makes slope {s:.6} after slope {prev_slope:.6}: expected a concave curve (slopes non-increasing)"),
            );
        }
        prev_slope = s;
    }
    if c.d.len() > before {
        return AccuracyCurve::identity();
    }
    AccuracyCurve {
        points: pts.to_vec(),
    }
}

pub(super) fn read_relevance_csv(
    refs: &Refs,
    rel: &str,
    dnn: &Dnn,
    tasks: &mut [Task],
    c: &mut Check,
) {
    let (path, text) = match refs.read(rel, "relevance_file") {
        Ok(x) => x,
        Err(e) => {
            c.d.extend(e.diagnostics().cloned().unwrap_or_default());
            return;
        }
    };
    let mut rc = Check {
        d: c.d,
        file: path.to_path_buf(),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    match rdr.headers() {
        Ok(h) if h.iter().collect::<Vec<_>>() == ["atom", "task", "score"] => {}
        Ok(h) => {
            rc.err(
                "line 1",
                format!(
                    "header '{}': expected 'atom,task,score'",
                    h.iter().collect::<Vec<_>>().join(",")
                ),
            );
            return;
        }
        Err(e) => {
            rc.err("line 1", format!("unreadable CSV header: {e}"));
            return;
        }
    }
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    pos: Some(pos),
                    len,
                    ..
                } => {
                    rc.err(
                        format!("line {}", pos.line()),
                        format!("{len} field(s): expected 3 (atom,task,score)"),
                    );
                    continue;
                }
                _ => {
                    rc.err("", format!("malformed CSV: {e}"));
                    return;
                }
            },
        };
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let at = format!("line {line}");
        let (atom, task, score) = (&rec[0], &rec[1], &rec[2]);
        let Some(t) = tasks.iter().position(|t| t.name == task) else {
            let known = tasks
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            rc.err(
                at,
                format!("unknown task '{task}': expected one of {known}"),
            );
            continue;
        };
        let Ok(v) = score.parse::<f64>() else {
            rc.err(
                at,
                format!("score '{score}' is not a number: expected a number ≥ 0"),
            );
            continue;
        };
        rc.num(&at, v, 0.0, false, "relevance score");
        let own = tasks[t].dnn;
        set_relevance(dnn, own, atom, v, &mut tasks[t].relevance, || {
            rc.err(at.clone(), unknown_atom(dnn, own, atom))
        });
    }
}
