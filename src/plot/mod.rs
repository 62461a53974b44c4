//! Charts as SVG with plotters: one style (a colour-blind-safe palette, a shipped font, labelled
//! axes, a caption and a provenance line), and one call per chart type.
//!
//! The font (DejaVu Sans, `assets/fonts`, Bitstream Vera licence) is compiled in and registered
//! with plotters' ab_glyph backend: text is measured the same way on any machine, with no system
//! font lookup.

use crate::error::{Error, Result};
use plotters::prelude::*;
use std::sync::Once;

mod figure;
pub use figure::{figure, Figure, FigureMeta, FIGURE_MIME};

/// Okabe–Ito colours (colour-blind safe): real, synthetic, then the rest.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(230, 159, 0),   // orange
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
];

const FONT: &str = "sans-serif";
static FONT_ONCE: Once = Once::new();

fn register_font() {
    FONT_ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        // a failure here would be a corrupt asset in the build, reported at the first draw
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, bytes);
    });
}

/// What every figure carries: a caption and where its numbers came from.
#[derive(Debug, Clone, Default)]
pub struct Caption {
    pub title: String,
    /// Data fingerprint, model, profile, cache keys' count.
    pub provenance: String,
}

fn err(e: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("plot: {e}"))
}

/// A series of (x, y) points with an optional interval per point. A point whose y is not a
/// number is a cell that gave no value (it collapsed: too few valid rows for the metric): line
/// charts mark it with a cross on the x axis instead of dropping it silently.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub interval: Option<Vec<(f64, f64)>>,
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if lo == hi {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

/// Figure width in SVG pixels and the text sizes: chosen so that text stays at least 12 px on
/// screen when a phone shows the figure at its ~358 px content width (18 × 358 / 520 ≈ 12.4).
const WIDTH: u32 = 520;
const TEXT: u32 = 18;
const TITLE: u32 = 20;
const LEGEND_ROW: u32 = 24;

/// Lines (with a shaded interval band when given): a metric against feature count or rows. The
/// legend sits below the chart, outside the data; an AUROC axis gets the 0.5 (chance) line.
pub fn lines(series: &[Series], x_label: &str, y_label: &str, caption: &Caption) -> Result<Figure> {
    register_font();
    let mut svg = String::new();
    {
        let chart_h = 400;
        let any_collapsed = series
            .iter()
            .any(|s| s.points.iter().any(|p| !p.1.is_finite()));
        let rows = series.len() as u32 + u32::from(any_collapsed);
        let legend_h = 12 + LEGEND_ROW * rows;
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, chart_h + legend_h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (top, bottom) = root.split_vertically(chart_h);
        lines_chart(&top, series, x_label, y_label, &caption.title, TITLE)?;
        for (k, s) in series.iter().enumerate() {
            let c = PALETTE[k % PALETTE.len()];
            let y = 8 + (LEGEND_ROW * k as u32) as i32 + LEGEND_ROW as i32 / 2;
            bottom
                .draw(&PathElement::new(vec![(16, y), (40, y)], c.stroke_width(3)))
                .map_err(err)?;
            bottom
                .draw(&Text::new(
                    s.name.clone(),
                    (48, y - TEXT as i32 / 2 - 1),
                    (FONT, TEXT).into_font().color(&BLACK),
                ))
                .map_err(err)?;
        }
        if any_collapsed {
            let y = 8 + (LEGEND_ROW * series.len() as u32) as i32 + LEGEND_ROW as i32 / 2;
            bottom
                .draw(&Cross::new((28, y), 7, BLACK.stroke_width(3)))
                .map_err(err)?;
            bottom
                .draw(&Text::new(
                    "no value: the cell collapsed (too few valid rows)",
                    (48, y - TEXT as i32 / 2 - 1),
                    (FONT, TEXT).into_font().color(&BLACK),
                ))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(Figure::new(svg, caption))
}

/// Whole numbers on an axis whose values are all whole (feature counts, rows).
fn integer_axis(values: impl Iterator<Item = f64>) -> bool {
    values.filter(|v| v.is_finite()).all(|v| v.fract() == 0.0)
}

/// The axes, bands, lines and points of a line chart, without a legend.
fn lines_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    series: &[Series],
    x_label: &str,
    y_label: &str,
    title: &str,
    title_size: u32,
) -> Result<()> {
    let auroc = y_label.contains("AUROC");
    let (x0, x1) = bounds(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (mut y0, mut y1) = bounds(series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.1)
            .chain(s.interval.iter().flatten().flat_map(|(a, b)| [*a, *b]))
    }));
    if auroc {
        // chance must be on the axis to read a value against it
        y0 = y0.min(0.45);
        y1 = y1.max(0.55);
    }
    let whole_x = integer_axis(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, title_size))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    let x_fmt = |v: &f64| {
        if whole_x {
            format!("{v:.0}")
        } else {
            format!("{v:.2}")
        }
    };
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&x_fmt)
        .label_style((FONT, TEXT))
        .axis_desc_style((FONT, TEXT))
        .draw()
        .map_err(err)?;
    if auroc {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x0, 0.5), (x1, 0.5)],
                6,
                4,
                RGBColor(120, 120, 120).stroke_width(1),
            ))
            .map_err(err)?;
    }
    for (k, s) in series.iter().enumerate() {
        let c = PALETTE[k % PALETTE.len()];
        if let Some(iv) = &s.interval {
            let with: Vec<_> = s
                .points
                .iter()
                .zip(iv)
                .filter(|(p, i)| p.1.is_finite() && i.0.is_finite() && i.1.is_finite())
                .collect();
            let band: Vec<(f64, f64)> = with
                .iter()
                .map(|(p, i)| (p.0, i.1))
                .chain(with.iter().rev().map(|(p, i)| (p.0, i.0)))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(band, c.mix(0.2).filled())))
                .map_err(err)?;
        }
        let values: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|p| p.1.is_finite())
            .collect();
        let collapsed = s.points.iter().filter(|p| !p.1.is_finite());
        chart
            .draw_series(LineSeries::new(values.clone(), c.stroke_width(2)))
            .map_err(err)?;
        chart
            .draw_series(values.iter().map(|p| Circle::new(*p, 4, c.filled())))
            .map_err(err)?;
        chart
            .draw_series(collapsed.map(|p| Cross::new((p.0, y0), 7, c.stroke_width(3))))
            .map_err(err)?;
    }
    Ok(())
}

/// One line chart with its legend inside (a panel of a small-multiples grid).
fn lines_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    series: &[Series],
    x_label: &str,
    y_label: &str,
    title: &str,
    title_size: u32,
) -> Result<()> {
    lines_chart(area, series, x_label, y_label, title, title_size)?;
    // the panel's legend (real, synthetic) at its top right, under the title
    let (w, _) = area.dim_in_pixel();
    let x = w as i32 - 230;
    for (k, s) in series.iter().enumerate() {
        let c = PALETTE[k % PALETTE.len()];
        let y = 34 + (LEGEND_ROW as i32) * k as i32;
        area.draw(&PathElement::new(
            vec![(x, y), (x + 20, y)],
            c.stroke_width(3),
        ))
        .map_err(err)?;
        area.draw(&Text::new(
            s.name.clone(),
            (x + 26, y - TEXT as i32 / 2 - 1),
            (FONT, TEXT - 2).into_font().color(&BLACK),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Bars with CI whiskers: one bar per label (e.g. strategy), value and interval.
pub fn bars(
    labels: &[String],
    values: &[(f64, Option<(f64, f64)>)],
    y_label: &str,
    caption: &Caption,
) -> Result<Figure> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (_, y1) = bounds(
            values
                .iter()
                .flat_map(|(v, i)| std::iter::once(*v).chain(i.iter().map(|i| i.1))),
        );
        let n = labels.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(&caption.title, (FONT, TITLE))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d((0..n).into_segmented(), 0.0..y1.max(1e-9))
            .map_err(err)?;
        let names = labels.to_vec();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(y_label)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .label_style((FONT, TEXT))
            .axis_desc_style((FONT, TEXT))
            .draw()
            .map_err(err)?;
        for (i, (v, iv)) in values.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            if v.is_finite() {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [
                            (SegmentValue::Exact(i), 0.0),
                            (SegmentValue::Exact(i + 1), *v),
                        ],
                        c.mix(0.8).filled(),
                    )))
                    .map_err(err)?;
            }
            if let Some((lo, hi)) = iv {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![
                            (SegmentValue::CenterOf(i), *lo),
                            (SegmentValue::CenterOf(i), *hi),
                        ],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(Figure::new(svg, caption))
}

/// Densities of real vs synthetic values of one feature (histograms drawn as lines on a shared
/// grid of 30 bins over both samples' range).
pub fn density(real: &[f64], synth: &[f64], feature: &str, caption: &Caption) -> Result<Figure> {
    density_of(&[("real", real), ("synthetic", synth)], feature, caption)
}

/// Densities of several named samples of one feature on a shared grid.
pub fn density_of(samples: &[(&str, &[f64])], feature: &str, caption: &Caption) -> Result<Figure> {
    lines(&density_series(samples), feature, "density", caption)
}

/// Histogram densities (30 bins over all samples' range, missing values left out), one series
/// per named sample.
fn density_series(samples: &[(&str, &[f64])]) -> Vec<Series> {
    let present = |x: &[f64]| -> Vec<f64> { x.iter().copied().filter(|v| v.is_finite()).collect() };
    let samples: Vec<(&str, Vec<f64>)> = samples.iter().map(|(n, x)| (*n, present(x))).collect();
    let (lo, hi) = bounds(samples.iter().flat_map(|(_, x)| x.iter().copied()));
    let bins = 30;
    let w = (hi - lo) / bins as f64;
    let hist = |x: &[f64]| -> Vec<(f64, f64)> {
        let mut c = vec![0.0; bins];
        for v in x {
            let k = (((v - lo) / w).floor() as usize).min(bins - 1);
            c[k] += 1.0;
        }
        let n = x.len().max(1) as f64;
        c.iter()
            .enumerate()
            .map(|(k, v)| (lo + (k as f64 + 0.5) * w, v / (n * w)))
            .collect()
    };
    samples
        .iter()
        .map(|(name, x)| Series {
            name: format!("{name} (n={})", x.len()),
            // no values: a legend entry without a line, not a flat line at zero
            points: if x.is_empty() { Vec::new() } else { hist(x) },
            interval: None,
        })
        .collect()
}

/// Small multiples of real vs synthetic densities in one figure, two panels per row: one panel
/// per (title, real values, synthetic values). One figure, because the evcxr kernel shows one
/// output of each kind per cell.
pub fn densities(panels: &[(String, Vec<f64>, Vec<f64>)], caption: &Caption) -> Result<Figure> {
    register_font();
    // one column: two would halve the text on a phone
    let cols = 1usize;
    let rows = panels.len().div_ceil(cols).max(1);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, 40 + 340 * rows as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(&caption.title, (FONT, TITLE)).map_err(err)?;
        let areas = root.split_evenly((rows, cols));
        for (area, (title, real, synth)) in areas.iter().zip(panels) {
            let series = density_series(&[("real", real), ("synthetic", synth)]);
            lines_panel(area, &series, title, "density", title, TEXT)?;
        }
        root.present().map_err(err)?;
    }
    Ok(Figure::new(svg, caption))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_render_with_the_shipped_font() {
        let cap = Caption {
            title: "Avg KL by feature count".into(),
            provenance: "data 3179437b, model test".into(),
        };
        let svg = lines(
            &[Series {
                name: "group".into(),
                points: vec![(5.0, 0.2), (10.0, 0.15), (20.0, 0.3)],
                interval: Some(vec![(0.1, 0.3), (0.1, 0.2), (0.2, 0.4)]),
            }],
            "features",
            "avg KL",
            &cap,
        )
        .unwrap()
        .svg;
        assert!(
            svg.starts_with("<svg")
                && svg.contains("Avg KL by feature count")
                && svg.contains("<desc>data 3179437b")
        );
        // a collapsed cell is marked and explained, never a gap in the line
        let marked = lines(
            &[Series {
                name: "group".into(),
                points: vec![(5.0, 0.2), (10.0, 0.15), (20.0, f64::NAN)],
                interval: None,
            }],
            "features",
            "attack AUROC",
            &cap,
        )
        .unwrap()
        .svg;
        assert!(marked.contains("no value: the cell collapsed"));
        assert!(!svg.contains("no value: the cell collapsed"));
        let grid = densities(
            &[
                (
                    "age (10 columns)".into(),
                    vec![60.0, 70.0, 80.0],
                    vec![65.0, f64::NAN],
                ),
                ("bun (10 columns)".into(), vec![10.0, 20.0], vec![]),
                ("age (83 columns)".into(), vec![60.0], vec![130.0, -5.0]),
            ],
            &cap,
        )
        .unwrap()
        .svg;
        // the overall title comes first, then each panel
        assert!(grid.find("Avg KL by feature count") < grid.find("age (10 columns)"));
        assert!(grid.contains("bun (10 columns)") && grid.contains("real (n=1)"));
        let b = bars(
            &["naive".into(), "group".into()],
            &[(0.5, Some((0.4, 0.6))), (f64::NAN, None)],
            "AUROC",
            &cap,
        )
        .unwrap()
        .svg;
        assert!(b.contains("naive"));
        let d = density(&[1.0, 2.0, 2.5, f64::NAN], &[1.5, 3.0], "age", &cap)
            .unwrap()
            .svg;
        assert!(d.contains("synthetic (n=2)"));
    }
}
