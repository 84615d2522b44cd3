//! The dashboard's pages, rendered on the server with maud (every value escaped at compile
//! time's say-so: an article's `<script>` is text here). No JavaScript, no front-end build.

use maud::{html, Markup, DOCTYPE};

use super::chart;
use crate::alerts::{text, AnyAlert};
use crate::diff::{Chunk, Op};
use crate::store::{FigureRow, LedgerEntry, SourceStatus, VersionSummary};

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · figwatch" }
                link rel="stylesheet" href="/static/style.css";
                link rel="alternate" type="application/atom+xml" title="figwatch alerts" href="/alerts.atom";
            }
            body {
                header {
                    nav {
                        a href="/alerts" { "Alerts" }
                        a href="/topics" { "Topics" }
                        a href="/sources" { "Sources" }
                        a href="/alerts.atom" { "Atom feed" }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A link to an article's page, at a version, showing its diff with the one before.
pub fn article_href(url: &str, version: i64) -> String {
    let mut href = url::Url::parse("http://x/article").expect("static");
    href.query_pairs_mut()
        .append_pair("url", url)
        .append_pair("to", &version.to_string());
    if version > 1 {
        href.query_pairs_mut()
            .append_pair("from", &(version - 1).to_string());
    }
    format!("/article?{}", href.query().unwrap_or_default())
}

pub fn alerts(
    list: &[AnyAlert],
    topics: &[String],
    topic: Option<&str>,
    kind: Option<&str>,
) -> Markup {
    layout(
        "Alerts",
        html! {
            form method="get" action="/alerts" class="filters" {
                label { "Topic "
                    select name="topic" {
                        option value="" { "all" }
                        @for t in topics {
                            option value=(t) selected[topic == Some(t.as_str())] { (t) }
                        }
                    }
                }
                label { " Kind "
                    select name="kind" {
                        option value="" { "all" }
                        @for k in crate::config::ALERT_KINDS {
                            option value=(k) selected[kind == Some(*k)] { (k) }
                        }
                    }
                }
                " " button type="submit" { "Filter" }
            }
            @if list.is_empty() {
                p class="empty" { "No alerts." }
            } @else {
                p class="count" {
                    (list.len()) " alert" @if list.len() != 1 { "s" } ", newest first"
                    @if list.len() >= super::ALERTS_SHOWN { " (the newest " (super::ALERTS_SHOWN) "; filter to see older ones)" }
                    "."
                }
            }
            ol class="alerts" {
                @for a in list {
                    li class=(format!("alert {}", a.kind())) {
                        span class="when" { (a.ts().get(..16).unwrap_or(a.ts()).replace('T', " ")) "Z" }
                        " "
                        span class="kind" { (a.kind().replace('_', " ")) }
                        " "
                        @match a {
                            AnyAlert::Figure(f) => {
                                span class="topic" { (f.topic) }
                                " · "
                                span class="measure" { (f.measure) }
                                " "
                                span class="change" { (text::change(f)) }
                                span class="notes" { (text::notes(f)) }
                                " · "
                                a class="where" href=(article_href(&f.url, f.version)) { (f.site) ", version " (f.version) }
                                div class="quote" { "“" (text::excerpt(&f.quote, &f.new.to_string(), 240)) "”" }
                            }
                            AnyAlert::Source(_) => {
                                span class="line" { (text::line(a)) }
                            }
                        }
                    }
                }
            }
        },
    )
}

pub fn topics(list: &[(String, String)]) -> Markup {
    layout(
        "Topics",
        html! {
            ul class="topics" {
                @for (id, name) in list {
                    li { a href=(format!("/topics/{id}")) { (id) } @if !name.is_empty() { " — " (name) } }
                }
            }
        },
    )
}

pub fn topic(id: &str, name: &str, figures: &[FigureRow], ledger: &[LedgerEntry]) -> Markup {
    let panels = chart::panels(figures);
    layout(
        &format!("Topic {id}"),
        html! {
            @if !name.is_empty() { p class="topic-name" { (name) } }
            @if figures.is_empty() { p class="empty" { "No figures stored for this topic yet." } }
            @for panel in &panels {
                // Reports are articles: the versions of one article are one report.
                @let articles = panel.articles();
                section class="measure" {
                    h2 { (panel.title()) " " span class="count" { "(reported by " (articles) " article" @if articles != 1 { "s" } ")" } }
                    div class="panel" {
                        (chart::measure_chart(panel))
                        (chart::values_table(panel))
                    }
                }
            }
            h2 { "Ledger" }
            table class="ledger" {
                thead { tr { th { "measure" } th { "value" } th { "qualifier" } th { "claimant" } th { "first seen" } th { "reported by" } th { "quote" } } }
                tbody {
                    @for e in ledger {
                        tr {
                            td { (e.measure) }
                            td { (e.value) (crate::alerts::unit_suffix(e.unit.as_deref())) }
                            td { (e.qualifier.replace('_', " ")) }
                            td { (e.claimant.as_deref().unwrap_or("")) }
                            td { (e.first_seen_at.get(..10).unwrap_or(&e.first_seen_at)) }
                            td {
                                @for (i, s) in e.sources.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    a href=(s.url) rel="noreferrer" { (s.site) }
                                }
                            }
                            td class="quote" { (e.quote) }
                        }
                    }
                }
            }
        },
    )
}

pub struct ArticleView<'a> {
    pub url: &'a str,
    pub title: Option<&'a str>,
    pub versions: &'a [VersionSummary],
    pub from: Option<i64>,
    pub to: i64,
    pub diff: &'a [Chunk],
}

pub fn article(v: &ArticleView<'_>) -> Markup {
    layout(
        v.title.unwrap_or("Article"),
        html! {
            p { a href=(v.url) rel="noreferrer" { (v.url) } }
            table class="versions" {
                thead { tr { th { "version" } th { "fetched" } th { "size" } th { "alerts" } th { "note" } } }
                tbody {
                    @for s in v.versions {
                        tr class=[(s.number == v.to).then_some("current")] {
                            td { a href=(article_href(v.url, s.number)) { (s.number) } }
                            td { (s.fetched_at) }
                            td { (s.size) }
                            td { (s.alerts) }
                            td { (s.flag.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
            form method="get" action="/article" class="filters" {
                input type="hidden" name="url" value=(v.url);
                label { "Compare version " input type="number" name="from" min="1" value=[v.from]; }
                label { " with " input type="number" name="to" min="1" value=(v.to); }
                " " button type="submit" { "Show" }
            }
            h2 {
                @match v.from {
                    Some(f) => { "Version " (f) " → " (v.to) }
                    None => { "Version " (v.to) }
                }
            }
            div class="diff" {
                @for c in v.diff {
                    @match c.op {
                        Op::Equal => span { (c.text) },
                        Op::Insert => ins { (c.text) },
                        Op::Delete => del { (c.text) },
                    }
                }
            }
        },
    )
}

pub fn sources(list: &[SourceStatus]) -> Markup {
    layout(
        "Sources",
        html! {
            table class="sources" {
                thead { tr { th { "source" } th { "status" } th { "last poll" } th { "next check" } th { "articles" } th { "watched / retired" } th { "versions" } th { "last error" } } }
                tbody {
                    @for s in list {
                        tr class=[(s.consecutive_failures > 0).then_some("failing")] {
                            td { (s.kind) " " a href=(s.url) rel="noreferrer" { (s.url) } }
                            td {
                                @if s.last_polled_at.is_none() { "never polled" }
                                @else if s.consecutive_failures > 0 { "failing (" (s.consecutive_failures) " in a row)" }
                                @else { "ok" }
                            }
                            td { (s.last_polled_at.as_deref().unwrap_or("-")) }
                            td { (s.next_check_at.as_deref().unwrap_or("now")) }
                            td { (s.articles) }
                            td { @if s.kind == "feed" { (s.watched) " / " (s.retired) } @else { "-" } }
                            td { (s.versions) }
                            td class="error" { (s.last_error.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        },
    )
}

pub fn not_found(what: &str) -> Markup {
    layout("Not found", html! { p { (what) } })
}
