//! Hand-written SVG line charts: one `<polyline>` per series, axes with a few
//! tick labels and a legend. No crate: the output is small, static and easy to
//! check (the test counts polylines and their points).

use std::fmt::Write;

/// Canvas size and the plot area's margins, pixels.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 160.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
/// Ticks on the y axis.
const Y_TICKS: usize = 5;
/// One colour per series, cycling.
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// One line of a chart.
#[derive(Clone, Debug)]
pub struct Line {
    /// Legend text.
    pub name: String,
    /// (x, y) points, in x order; a non-finite y leaves a gap.
    pub points: Vec<(f64, f64)>,
}

/// A chart of several lines over a shared x axis.
#[derive(Clone, Debug)]
pub struct LineChart {
    /// Title above the plot.
    pub title: String,
    /// x axis caption.
    pub x_label: String,
    /// y axis caption.
    pub y_label: String,
    /// Names for x positions 0, 1, 2… (categorical axis); empty for a numeric axis.
    pub x_categories: Vec<String>,
    /// Plot y on a log10 scale (values ≤ 0 are clamped to the smallest positive one).
    pub log_y: bool,
    /// The lines.
    pub lines: Vec<Line>,
}

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Formats an axis value compactly: 1.2k, 3.4M, 0.25.
fn short_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e9 {
        format!("{:.1}G", value / 1e9)
    } else if magnitude >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if magnitude >= 1e3 {
        format!("{:.1}k", value / 1e3)
    } else if magnitude >= 10.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// Maps data coordinates into the plot area.
struct Scale {
    x_min: f64,
    x_span: f64,
    y_min: f64,
    y_span: f64,
    log_y: bool,
}

impl Scale {
    fn new(chart: &LineChart) -> Scale {
        let points = chart.lines.iter().flat_map(|line| line.points.iter());
        let (mut x_min, mut x_max) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut y_min, mut y_max) = (f64::INFINITY, f64::NEG_INFINITY);
        for &(x, y) in points.filter(|(x, y)| x.is_finite() && y.is_finite()) {
            let y = if chart.log_y { y.max(1e-9).log10() } else { y };
            x_min = x_min.min(x);
            x_max = x_max.max(x);
            y_min = y_min.min(y);
            y_max = y_max.max(y);
        }
        if !x_min.is_finite() {
            (x_min, x_max, y_min, y_max) = (0.0, 1.0, 0.0, 1.0);
        }
        if !chart.log_y {
            // Throughput-like charts read best from zero.
            y_min = y_min.min(0.0);
        }
        let x_span = (x_max - x_min).max(1e-9);
        let y_span = (y_max - y_min).max(1e-9);
        Scale {
            x_min,
            x_span,
            y_min,
            y_span,
            log_y: chart.log_y,
        }
    }

    fn x(&self, x: f64) -> f64 {
        LEFT + (x - self.x_min) / self.x_span * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, y: f64) -> f64 {
        let y = if self.log_y { y.max(1e-9).log10() } else { y };
        let y = if y.is_finite() { y } else { self.y_min };
        HEIGHT - BOTTOM - (y - self.y_min) / self.y_span * (HEIGHT - TOP - BOTTOM)
    }

    /// The data value at the i-th of `Y_TICKS + 1` evenly spaced ticks.
    fn y_tick_value(&self, index: usize) -> f64 {
        let scaled = self.y_min + self.y_span * index as f64 / Y_TICKS as f64;
        if self.log_y {
            10f64.powf(scaled)
        } else {
            scaled
        }
    }
}

impl LineChart {
    /// Renders the chart as a standalone SVG document.
    pub fn to_svg(&self) -> String {
        let scale = Scale::new(self);
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
             viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\">"
        );
        let _ = writeln!(
            svg,
            "<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"white\"/>"
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>",
            WIDTH / 2.0,
            escape(&self.title)
        );
        self.write_axes(&mut svg, &scale);
        for (index, line) in self.lines.iter().enumerate() {
            write_line(&mut svg, &scale, index, line);
        }
        svg.push_str("</svg>\n");
        svg
    }

    fn write_axes(&self, svg: &mut String, scale: &Scale) {
        let (x0, x1) = (LEFT, WIDTH - RIGHT);
        let (y0, y1) = (HEIGHT - BOTTOM, TOP);
        let _ = writeln!(
            svg,
            "<path d=\"M {x0} {y1} L {x0} {y0} L {x1} {y0}\" fill=\"none\" stroke=\"black\"/>"
        );
        for index in 0..=Y_TICKS {
            let value = scale.y_tick_value(index);
            let y = scale.y(value);
            let _ = writeln!(
                svg,
                "<line x1=\"{x0}\" y1=\"{y:.1}\" x2=\"{x1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                x0 - 6.0,
                y + 4.0,
                short_number(value)
            );
        }
        for (index, name) in self.x_categories.iter().enumerate() {
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                scale.x(index as f64),
                y0 + 18.0,
                escape(name)
            );
        }
        if self.x_categories.is_empty() {
            for value in [scale.x_min, scale.x_min + scale.x_span] {
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    scale.x(value),
                    y0 + 18.0,
                    short_number(value)
                );
            }
        }
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            (x0 + x1) / 2.0,
            HEIGHT - 10.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            svg,
            "<text x=\"16\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {:.1})\">{}</text>",
            (y0 + y1) / 2.0,
            (y0 + y1) / 2.0,
            escape(&self.y_label)
        );
    }
}

/// Writes a line as one polyline per run of finite points (a NaN y breaks the
/// line), with a dot on every point so single-point runs show.
fn write_line(svg: &mut String, scale: &Scale, index: usize, line: &Line) {
    let colour = COLOURS
        .get(index % COLOURS.len())
        .copied()
        .unwrap_or("black");
    for run in line
        .points
        .split(|(x, y)| !(x.is_finite() && y.is_finite()))
        .filter(|run| !run.is_empty())
    {
        let points: Vec<String> = run
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", scale.x(x), scale.y(y)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            points.join(" ")
        );
        for &(x, y) in run {
            let _ = writeln!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                scale.x(x),
                scale.y(y)
            );
        }
    }
    let legend_y = TOP + 10.0 + 20.0 * index as f64;
    let legend_x = WIDTH - RIGHT + 15.0;
    let _ = writeln!(
        svg,
        "<line x1=\"{legend_x}\" y1=\"{legend_y}\" x2=\"{}\" y2=\"{legend_y}\" stroke=\"{colour}\" \
         stroke-width=\"3\"/><text x=\"{}\" y=\"{:.1}\">{}</text>",
        legend_x + 20.0,
        legend_x + 26.0,
        legend_y + 4.0,
        escape(&line.name)
    );
}
