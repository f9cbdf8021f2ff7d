//! SVG line charts for sweeps and fronts (plotters, SVG backend only).
//!
//! Curves that lie on top of each other stay distinguishable: each series
//! has its own marker shape and dash pattern, and earlier series are drawn
//! wider, so a later one running along it shows inside it. Points a series
//! has no value for (an infeasible limit) are drawn as crosses on the
//! bottom of the plot, and a point may carry a label (which plan it is).

use plotters::prelude::*;
use std::path::Path;

/// One named series of points.
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points in x order.
    pub points: Vec<(f64, f64)>,
    /// A label per point (empty: none), drawn beside it.
    pub labels: Vec<String>,
    /// x values where the series has no point (e.g. infeasible), marked
    /// with a cross on the bottom of the plot.
    pub missing: Vec<f64>,
}

impl Series {
    /// A series without labels or missing points.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            labels: Vec::new(),
            missing: Vec::new(),
        }
    }
}

/// Draws `series` as lines with point markers into an SVG file; the axis
/// labels should carry their units.
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), String> {
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let missing_x: Vec<f64> = series
        .iter()
        .flat_map(|s| s.missing.iter().copied())
        .filter(|x| x.is_finite())
        .collect();
    if all.is_empty() && missing_x.is_empty() {
        return Err("nothing to plot: no point has finite coordinates".into());
    }
    let span = |v: Vec<f64>| {
        if v.is_empty() {
            return 0.0..1.0;
        }
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let pad = if hi > lo {
            0.08 * (hi - lo)
        } else {
            lo.abs().max(1e-9) * 0.1
        };
        (lo - pad)..(hi + pad)
    };
    let xr = span(
        all.iter()
            .map(|p| p.0)
            .chain(missing_x.iter().copied())
            .collect(),
    );
    let yr = span(all.iter().map(|p| p.1).collect());
    let y_floor = yr.start;
    let root = SVGBackend::new(path, (860, 540)).into_drawing_area();
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(xr, yr)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(|e| err(&e))?;
    let n = series.len();
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        // Earlier series wider and lighter: one drawn on top stays visible.
        let width = 2 + 2 * (n - 1 - i) as u32;
        let line = color.mix(if i + 1 == n { 1.0 } else { 0.55 });
        let dash = match i % 3 {
            0 => None,
            1 => Some((10, 5)),
            _ => Some((3, 4)),
        };
        let anno = match dash {
            None => chart
                .draw_series(LineSeries::new(pts.clone(), line.stroke_width(width)))
                .map_err(|e| err(&e))?,
            Some((d, g)) => chart
                .draw_series(DashedLineSeries::new(
                    pts.clone(),
                    d,
                    g,
                    line.stroke_width(width),
                ))
                .map_err(|e| err(&e))?,
        };
        let legend_line = line.stroke_width(width);
        // The same marker on the points and in the legend.
        macro_rules! with_marker {
            ($shape:expr) => {{
                let shape = $shape;
                anno.label(s.name.clone()).legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (24, 0)], legend_line)
                        + shape(color, 12)
                });
                chart
                    .draw_series(pts.iter().map(|&p| EmptyElement::at(p) + shape(color, 0)))
                    .map_err(|e| err(&e))?;
            }};
        }
        match i % 4 {
            0 => with_marker!(|c: RGBAColor, dx: i32| Circle::new((dx, 0), 4, c.filled())),
            1 => with_marker!(|c: RGBAColor, dx: i32| TriangleMarker::new((dx, 0), 6, c.filled())),
            2 => with_marker!(|c: RGBAColor, dx: i32| Rectangle::new(
                [(dx - 4, -4), (dx + 4, 4)],
                c.filled()
            )),
            _ => with_marker!(|c: RGBAColor, dx: i32| Circle::new((dx, 0), 5, c.stroke_width(2))),
        }
        for (p, l) in pts.iter().zip(&s.labels).filter(|(_, l)| !l.is_empty()) {
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at(*p)
                        + Text::new(l.clone(), (6, -14), ("sans-serif", 11).into_font()),
                ))
                .map_err(|e| err(&e))?;
        }
        if !s.missing.is_empty() {
            chart
                .draw_series(
                    s.missing
                        .iter()
                        .map(|&x| Cross::new((x, y_floor), 6, color.stroke_width(2))),
                )
                .map_err(|e| err(&e))?
                .label(format!("{}: infeasible (no plan)", s.name))
                .legend(move |(x, y)| Cross::new((x + 12, y), 6, color.stroke_width(2)));
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}
