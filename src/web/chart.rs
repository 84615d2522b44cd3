//! A measure's figures over time as inline SVG, drawn on the server, with every value in a
//! table beside it.
//!
//! One panel per measure and unit, so a percentage never shares an axis with a count. Each
//! stored figure is a mark: its value (a dot), its interval (a bar from low to high) or, for a
//! figure with no number ("thousands"), a hollow mark on the time axis; each mark's `<title>`
//! says the value, the outlet, the version and the quote. When the values span more than a
//! hundredfold the axis is logarithmic, and the chart says so, so that 2 and 50,000,000 are
//! both visible. The latest value and its change are written on the chart; the time axis is
//! labelled in the units its span needs (seconds to months).
//!
//! Written by hand rather than with a plotting crate: the marks need `<title>`s and classes the
//! page and its tests rely on, and the chart is a page of code.

use chrono::{DateTime, Utc};
use maud::{html, Markup};

use crate::store::FigureRow;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 40.0;
/// Values spanning more than this factor are drawn on a logarithmic axis.
const LOG_SPAN: f64 = 100.0;

/// The figures of one measure in one unit.
pub struct Panel<'a> {
    pub measure: &'a str,
    pub unit: Option<&'a str>,
    pub rows: Vec<&'a FigureRow>,
}

/// The panels of a topic's figures: one per measure and unit, in the order of their names.
pub fn panels(figures: &[FigureRow]) -> Vec<Panel<'_>> {
    let mut panels: Vec<Panel<'_>> = Vec::new();
    for f in figures {
        let unit = f.unit.as_deref();
        match panels
            .iter_mut()
            .find(|p| p.measure == f.measure && p.unit == unit)
        {
            Some(p) => p.rows.push(f),
            None => panels.push(Panel {
                measure: &f.measure,
                unit,
                rows: vec![f],
            }),
        }
    }
    panels.sort_by(|a, b| (a.measure, a.unit).cmp(&(b.measure, b.unit)));
    panels
}

impl Panel<'_> {
    /// "casualties", "positivity (%)".
    pub fn title(&self) -> String {
        match self.unit {
            Some("percent") => format!("{} (%)", self.measure),
            Some(u) => format!("{} ({u})", self.measure),
            None => self.measure.to_string(),
        }
    }

    /// The articles that reported it (not their versions).
    pub fn articles(&self) -> usize {
        let mut urls: Vec<&str> = self.rows.iter().map(|r| r.url.as_str()).collect();
        urls.sort_unstable();
        urls.dedup();
        urls.len()
    }
}

fn time(row: &FigureRow) -> f64 {
    DateTime::parse_from_rfc3339(&row.fetched_at)
        .map(|t| t.with_timezone(&Utc).timestamp_millis() as f64)
        .unwrap_or(0.0)
}

/// The vertical scale: linear from zero, or logarithmic between powers of ten.
struct Scale {
    log: bool,
    lo: f64,
    hi: f64,
}

impl Scale {
    fn of(values: &[f64]) -> Scale {
        let max = values.iter().copied().fold(0.0_f64, f64::max).max(1.0);
        let min_pos = values
            .iter()
            .copied()
            .filter(|v| *v > 0.0)
            .fold(f64::MAX, f64::min);
        if min_pos < f64::MAX && max / min_pos > LOG_SPAN {
            Scale {
                log: true,
                lo: 10f64.powf(min_pos.log10().floor()),
                hi: 10f64.powf(max.log10().ceil().max(min_pos.log10().floor() + 1.0)),
            }
        } else {
            Scale {
                log: false,
                lo: 0.0,
                hi: nice(max * 1.1),
            }
        }
    }

    /// 0 at the bottom of the plot, 1 at its top.
    fn fraction(&self, v: f64) -> f64 {
        if self.log {
            let v = v.max(self.lo);
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            v / self.hi
        }
    }

    /// Powers of ten between two lines of a log scale: one, unless there are more than eight.
    fn decades_per_line(&self) -> i32 {
        let decades = (self.hi.log10() - self.lo.log10()).round();
        (decades / 8.0).ceil().max(1.0) as i32
    }

    /// What the chart says of its scale.
    fn note(&self) -> Option<String> {
        self.log.then(|| match self.decades_per_line() {
            1 => "log scale: each line is ten times the one below".to_string(),
            n => format!(
                "log scale: each line is {} times the one below",
                crate::figures::format_number(10f64.powi(n))
            ),
        })
    }

    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (a, b) = (self.lo.log10() as i32, self.hi.log10() as i32);
            (a..=b)
                .step_by(self.decades_per_line() as usize)
                .map(|e| 10f64.powi(e))
                .collect()
        } else {
            (0..=4).map(|i| self.hi * f64::from(i) / 4.0).collect()
        }
    }
}

/// A round number at or above `v` (1, 2 or 5 times a power of ten).
fn nice(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|c| *c >= v)
        .unwrap_or(v)
}

/// Time labels for a span: seconds for a few minutes, hours for days, days for months.
fn time_format(span_ms: f64) -> &'static str {
    const MINUTE: f64 = 60_000.0;
    const DAY: f64 = 1_440.0 * MINUTE;
    if span_ms < 10.0 * MINUTE {
        "%H:%M:%S"
    } else if span_ms < 2.0 * DAY {
        "%H:%M"
    } else if span_ms < 120.0 * DAY {
        "%b %d"
    } else {
        "%b %Y"
    }
}

fn at(t: f64, format: &str) -> String {
    DateTime::<Utc>::from_timestamp_millis(t as i64)
        .map(|d| d.format(format).to_string())
        .unwrap_or_default()
}

/// The number as the unit writes it: "12%", "4,000", "1,200 acres".
fn with_unit(v: f64, unit: Option<&str>) -> String {
    format!(
        "{}{}",
        crate::figures::format_number(v),
        crate::alerts::unit_suffix(unit)
    )
}

/// "latest 50,000,000 (up from 40,000)": the newest value and how it moved.
fn latest_text(rows: &[&FigureRow], unit: Option<&str>) -> Option<String> {
    let mut numbered: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| r.value.or(r.hi).map(|v| (time(r), v)))
        .collect();
    numbered.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (_, last) = *numbered.last()?;
    let before = numbered.iter().rev().map(|(_, v)| *v).find(|v| *v != last);
    let change = match before {
        Some(b) if last > b => format!(" (up from {})", with_unit(b, unit)),
        Some(b) => format!(" (down from {})", with_unit(b, unit)),
        None => String::new(),
    };
    Some(format!("latest {}{change}", with_unit(last, unit)))
}

pub fn measure_chart(panel: &Panel<'_>) -> Markup {
    let rows = &panel.rows;
    let unit = panel.unit;
    let times: Vec<f64> = rows.iter().map(|r| time(r)).collect();
    let (t0, t1) = times
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &t| (a.min(t), b.max(t)));
    let span = if t1 > t0 { t1 - t0 } else { 1.0 };
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|r| [r.value, r.lo, r.hi])
        .flatten()
        .collect();
    let scale = Scale::of(&values);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    // A single moment sits in the middle rather than on the axis.
    let x = |t: f64| {
        if t1 > t0 {
            LEFT + (t - t0) / span * plot_w
        } else {
            LEFT + plot_w / 2.0
        }
    };
    let y = |v: f64| TOP + plot_h - scale.fraction(v) * plot_h;
    let format = time_format(span);
    let mut time_ticks: Vec<f64> = if t1 > t0 {
        (0..=3).map(|i| t0 + span * f64::from(i) / 3.0).collect()
    } else {
        vec![t0]
    };
    // Labels that would read the same (a span of a second) are written once.
    time_ticks.dedup_by(|b, a| at(*a, format) == at(*b, format));
    let title = panel.title();
    html! {
        svg class="chart" role="img" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) width=(WIDTH) height=(HEIGHT)
            xmlns="http://www.w3.org/2000/svg" aria-label=(format!("{title} over time")) {
            title { (title) " over time" }
            @if let Some(latest) = latest_text(rows, unit) {
                text class="latest" x=(LEFT) y="22" { (latest) }
            }
            @if let Some(note) = scale.note() {
                text class="scale-note" x=(WIDTH - RIGHT) y=(HEIGHT - 6.0) text-anchor="end" { (note) }
            }
            line class="axis" x1=(LEFT) y1=(TOP + plot_h) x2=(WIDTH - RIGHT) y2=(TOP + plot_h) {}
            line class="axis" x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(TOP + plot_h) {}
            @for v in scale.ticks() {
                line class="grid" x1=(LEFT) y1=(y(v)) x2=(WIDTH - RIGHT) y2=(y(v)) {}
                text class="tick" x=(LEFT - 6.0) y=(y(v) + 4.0) text-anchor="end" { (with_unit(v, unit)) }
            }
            @for (i, t) in time_ticks.iter().enumerate() {
                @let anchor = if time_ticks.len() == 1 { "middle" } else if i == 0 { "start" } else if i + 1 == time_ticks.len() { "end" } else { "middle" };
                text class="tick" x=(x(*t)) y=(HEIGHT - 22.0) text-anchor=(anchor) { (at(*t, format)) }
            }
            text class="tick" x=(LEFT) y=(HEIGHT - 6.0) text-anchor="start" {
                (at(t0, "%Y-%m-%d"))
                @if at(t1, "%Y-%m-%d") != at(t0, "%Y-%m-%d") { " to " (at(t1, "%Y-%m-%d")) }
                " (UTC)"
            }
            @for (row, t) in rows.iter().zip(&times) {
                @let label = format!("{} — {} (version {}) — “{}”", value_text(row), site(&row.url), row.version, row.quote);
                @if let (Some(lo), Some(hi)) = (row.lo, row.hi) {
                    g class="mark range" data-value=(format!("{lo}-{hi}")) {
                        title { (label) }
                        line x1=(x(*t)) y1=(y(lo)) x2=(x(*t)) y2=(y(hi)) {}
                        circle cx=(x(*t)) cy=(y(lo)) r="3" {}
                        circle cx=(x(*t)) cy=(y(hi)) r="3" {}
                    }
                } @else if let Some(v) = row.value {
                    circle class="mark value" data-value=(v) cx=(x(*t)) cy=(y(v)) r="5" {
                        title { (label) }
                    }
                } @else {
                    rect class="mark vague" x=(x(*t) - 4.0) y=(TOP + plot_h - 4.0) width="8" height="8" {
                        title { (label) }
                    }
                }
            }
        }
    }
}

/// Every value of the panel, newest first: when, the value, the outlet and its version.
pub fn values_table(panel: &Panel<'_>) -> Markup {
    let mut rows = panel.rows.clone();
    rows.sort_by(|a, b| b.fetched_at.cmp(&a.fetched_at));
    html! {
        table class="values" {
            caption { "Every value of " (panel.title()) }
            thead { tr { th { "when (UTC)" } th { "value" } th { "outlet" } th { "claimant" } } }
            tbody {
                @for r in rows {
                    tr {
                        td class="when" { (r.fetched_at.get(..19).unwrap_or(&r.fetched_at).replace('T', " ")) }
                        td class="value" { (value_text(r)) (crate::alerts::unit_suffix(r.unit.as_deref())) }
                        td { a href=(super::pages::article_href(&r.url, r.version)) { (site(&r.url)) ", v" (r.version) } }
                        td { (r.claimant.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
}

/// "4,000", "3,000–4,000", "thousands", with the qualifier when it says something.
pub fn value_text(row: &FigureRow) -> String {
    let value = match (row.value, row.lo, row.hi, &row.vague) {
        (Some(v), ..) => crate::figures::format_number(v),
        (None, Some(lo), Some(hi), _) => format!(
            "{}–{}",
            crate::figures::format_number(lo),
            crate::figures::format_number(hi)
        ),
        (.., Some(v)) => v.clone(),
        _ => "?".into(),
    };
    match row.qualifier.as_str() {
        "exact" | "range" | "vague" => value,
        q => format!("{value} ({})", q.replace('_', " ")),
    }
}

fn site(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_string())
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_far_apart_get_a_log_scale_and_near_ones_a_linear_one() {
        let wide = Scale::of(&[2.0, 350.0, 40_000.0, 50_000_000.0]);
        assert!(wide.log);
        let heights: Vec<f64> = [2.0, 350.0, 40_000.0, 50_000_000.0]
            .iter()
            .map(|v| wide.fraction(*v))
            .collect();
        assert!(heights.windows(2).all(|w| w[1] - w[0] > 0.1), "{heights:?}");
        let near = Scale::of(&[3_000.0, 4_000.0]);
        assert!(!near.log);
        assert_eq!(near.hi, 5_000.0);
    }

    #[test]
    fn time_labels_fit_the_span() {
        assert_eq!(time_format(90_000.0), "%H:%M:%S");
        assert_eq!(time_format(5.0 * 3_600_000.0), "%H:%M");
        assert_eq!(time_format(20.0 * 86_400_000.0), "%b %d");
        assert_eq!(time_format(400.0 * 86_400_000.0), "%b %Y");
    }
}
