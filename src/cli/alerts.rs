//! `figwatch alerts`: the stored alerts, filtered, as text or JSON Lines, and with `--follow`
//! the new ones as they are committed (by this machine's daemon or any `--poll`).

use std::io::Write;
use std::time::Duration;

use clap::Args;

use figwatch::alerts::AnyAlert;
use figwatch::config::ALERT_KINDS;
use figwatch::store::{AlertFilter, Store};

/// How often `--follow` looks for new alerts; the database is local, so this costs nothing.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

#[derive(Args, Debug, Clone)]
pub struct AlertsArgs {
    /// Only this topic id
    #[arg(long)]
    pub topic: Option<String>,
    /// Only this kind of alert
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(ALERT_KINDS))]
    pub kind: Option<String>,
    /// Only alerts younger than this, e.g. 2d, 6h, 30m
    #[arg(long, value_parser = super::parse_age)]
    pub since: Option<Duration>,
    /// At most this many (the newest)
    #[arg(long)]
    pub limit: Option<usize>,
    /// JSON Lines, one alert a line (each with its stable `id`)
    #[arg(long)]
    pub json: bool,
    /// Keep running and print new alerts as they arrive (Ctrl-C to stop); starts with the last
    /// 10 unless --limit or --since says otherwise
    #[arg(long, short)]
    pub follow: bool,
}

pub fn run(
    store: &Store,
    config: &figwatch::config::Config,
    args: &AlertsArgs,
) -> anyhow::Result<()> {
    let mut filter = AlertFilter {
        topic: args.topic.clone(),
        kind: args.kind.clone(),
        since: args.since.map(super::ago),
        limit: args.limit,
    };
    if args.follow && filter.limit.is_none() && filter.since.is_none() {
        filter.limit = Some(10);
    }
    let first = store.alerts_after(0, &filter)?;
    // A topic no longer configured may still have alerts; one that never had any is a typo.
    if let Some(topic) = &args.topic {
        if first.is_empty() && !config.topics.iter().any(|t| &t.id == topic) {
            let ids: Vec<&str> = config.topics.iter().map(|t| t.id.as_str()).collect();
            anyhow::bail!(
                "no topic {topic:?} is configured, and no alert has it; configured topics: {}",
                ids.join(", ")
            );
        }
    }
    let mut out = super::stdout();
    if !args.follow {
        let alerts: Vec<AnyAlert> = first.into_iter().map(|(_, a)| a).collect();
        return print_alerts(&alerts, args.json, &mut out);
    }
    // Followed alerts are not limited: every one that arrives is shown.
    filter.limit = None;
    let mut last = store
        .alerts_after(0, &AlertFilter::default())?
        .last()
        .map_or(0, |(id, _)| *id);
    for (_, a) in &first {
        print_one(a, args.json, &mut out)?;
    }
    out.flush()?;
    loop {
        std::thread::sleep(FOLLOW_EVERY);
        for (id, a) in store.alerts_after(last, &filter)? {
            print_one(&a, args.json, &mut out)?;
            last = id;
        }
        // Alerts filtered out move the mark too, so they are not read again.
        if let Some((id, _)) = store.alerts_after(last, &AlertFilter::default())?.last() {
            last = *id;
        }
        out.flush()?;
    }
}

fn print_one(a: &AnyAlert, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    if json {
        super::json_lines(out, std::slice::from_ref(a))
    } else {
        print_alert(a, out)
    }
}

/// Prints alerts as a readable list, or as JSON Lines.
pub fn print_alerts(alerts: &[AnyAlert], json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    if json {
        return super::json_lines(out, alerts);
    }
    if alerts.is_empty() {
        writeln!(out, "no alerts")?;
        return Ok(());
    }
    for a in alerts {
        print_alert(a, out)?;
    }
    Ok(())
}

/// One alert for people: when, what kind, the line, and the full link of a figure alert.
fn print_alert(a: &AnyAlert, out: &mut impl Write) -> anyhow::Result<()> {
    let ts = a.ts();
    let when = ts.get(..16).unwrap_or(ts).replace('T', " ");
    writeln!(
        out,
        "{when}Z  {:<16}  {}",
        a.kind(),
        figwatch::alerts::text::line(a)
    )?;
    if let Some(f) = a.figure() {
        writeln!(out, "    {}", f.url)?;
    }
    Ok(())
}
