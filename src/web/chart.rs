//! A measure's figures over time as inline SVG, drawn on the server: one mark per stored
//! figure, its value (a dot), its interval (a bar from low to high) or, for a figure with no
//! number ("thousands"), a hollow mark on the time axis; each mark's `<title>` says the value,
//! the outlet, the version and the quote, so hovering shows who reported what.
//!
//! Written by hand rather than with a plotting crate: the marks need `<title>`s and classes
//! the page and its tests rely on, and the chart is a few dozen lines.

use chrono::{DateTime, Utc};
use maud::{html, Markup};

use crate::store::FigureRow;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 36.0;

fn time(row: &FigureRow) -> f64 {
    DateTime::parse_from_rfc3339(&row.fetched_at)
        .map(|t| t.with_timezone(&Utc).timestamp_millis() as f64)
        .unwrap_or(0.0)
}

/// The highest number a figure reaches (its value, or the top of its range).
fn top(row: &FigureRow) -> Option<f64> {
    row.value.or(row.hi)
}

pub fn measure_chart(measure: &str, rows: &[&FigureRow]) -> Markup {
    let times: Vec<f64> = rows.iter().map(|r| time(r)).collect();
    let (t0, t1) = times
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &t| (a.min(t), b.max(t)));
    let span = if t1 > t0 { t1 - t0 } else { 1.0 };
    let max = rows
        .iter()
        .filter_map(|r| top(r))
        .fold(0.0_f64, f64::max)
        .max(1.0)
        * 1.1;
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
    let y = |v: f64| TOP + plot_h - v / max * plot_h;
    let day = |t: f64| {
        DateTime::<Utc>::from_timestamp_millis(t as i64)
            .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    let ticks = [0.0, max / 2.2, max / 1.1];
    html! {
        svg class="chart" role="img" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) width=(WIDTH) height=(HEIGHT)
            xmlns="http://www.w3.org/2000/svg" aria-label=(format!("{measure} over time")) {
            title { (measure) " over time" }
            line class="axis" x1=(LEFT) y1=(TOP + plot_h) x2=(WIDTH - RIGHT) y2=(TOP + plot_h) {}
            line class="axis" x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(TOP + plot_h) {}
            @for v in ticks {
                text class="tick" x=(LEFT - 6.0) y=(y(v) + 4.0) text-anchor="end" { (crate::figures::format_number(v.round())) }
            }
            text class="tick" x=(LEFT) y=(HEIGHT - 10.0) text-anchor="start" { (day(t0)) }
            @if t1 > t0 {
                text class="tick" x=(WIDTH - RIGHT) y=(HEIGHT - 10.0) text-anchor="end" { (day(t1)) }
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
