//! The command line: parsing, and the commands that read the store for people.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use url::Url;

use crate::config::{self, Config, SourceKind};
use crate::diff;
use crate::pipeline::{canonical_url, Pipeline};
use crate::store::Store;

mod alerts;
mod export;
mod figures;
mod progress;

pub use alerts::print_alerts;

#[derive(Parser, Debug)]
#[command(
    name = "figwatch",
    version,
    about = "Watches news feeds and pages, keeps every version of every article, and alerts when a tracked topic shows a new figure."
)]
pub struct Cli {
    /// Configuration file [default: $FIGWATCH_CONFIG, else config/figwatch.toml, else /etc/figwatch/figwatch.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// One pass over the sources that are due, then exit (same as `figwatch poll`)
    #[arg(long)]
    pub poll: bool,

    /// With --poll: every source, due or not
    #[arg(long, requires = "poll")]
    pub all: bool,

    /// Log more (-v: debug, -vv: trace); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// One pass over the sources that are due, then exit
    Poll {
        /// Every source, due or not
        #[arg(long)]
        all: bool,
    },
    /// Run as a daemon: poll each source on its interval until SIGTERM/SIGINT (and serve the
    /// dashboard when [web] is configured)
    Run,
    /// Serve the read-only dashboard of [web] on its own, without polling
    Serve,
    /// Show alerts, newest last; --follow waits for new ones
    Alerts(alerts::AlertsArgs),
    /// Write alerts, figures or versions as CSV or JSON, for spreadsheets and scripts
    Export(export::ExportArgs),
    /// List the stored versions of one article
    History {
        url: String,
        #[arg(long)]
        json: bool,
    },
    /// Word-level diff between two versions of an article (default: the last two)
    Diff {
        url: String,
        #[arg(long)]
        from: Option<i64>,
        #[arg(long)]
        to: Option<i64>,
        /// Show the whole article, not only the paragraphs that changed
        #[arg(long)]
        full: bool,
        #[arg(long)]
        json: bool,
    },
    /// Remove old versions as `[retention]` says (the daemon also does it once a day)
    Prune {
        /// Count what would be removed, remove nothing
        #[arg(long)]
        dry_run: bool,
        /// Afterwards, shrink the database file (needs free space about its size)
        #[arg(long)]
        vacuum: bool,
    },
    /// Copy an SQLite store into an empty PostgreSQL database and verify it, table by table
    Migrate {
        /// The SQLite file
        #[arg(long, value_name = "PATH")]
        from: PathBuf,
        /// postgres://user@host/db
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Validate the configuration and summarise its sources and topics
    CheckConfig,
    /// Each source's health: last poll, consecutive failures, last error
    Status {
        #[arg(long)]
        json: bool,
    },
    /// See figwatch work in seconds, without network: a local story revised twice
    Demo,
    /// The figures reported per topic and measure, as a timeline with their sources; or, with
    /// --text/--file/--jsonl/--revisions, what would be extracted from a text
    Figures(figures::FiguresArgs),
    /// Extract the article from files (gzip too) or URLs and print it
    Extract {
        /// Files or http(s) URLs
        #[arg(required = true)]
        inputs: Vec<String>,
        /// JSON Lines: {"input","title","byline","published","lang","text"}
        #[arg(long)]
        json: bool,
    },
}

fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    config::parse_duration(s)
}

/// The timestamp `age` ago, as stored.
fn ago(age: std::time::Duration) -> String {
    crate::store::timestamp(
        chrono::Utc::now() - chrono::Duration::from_std(age).unwrap_or_default(),
    )
}

/// Runs the command line; returns the process exit code.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The demo prints its own account of what happened; its log lines would only hide it.
    init_logging(cli.verbose, matches!(cli.command, Some(Command::Demo)));
    // Parsers of network input run under catch_unwind, so a bug in one costs one feed or page.
    // Report such a panic as one log line instead of the default backtrace on stderr.
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(
            "internal error, caught (only the item being processed is affected): {info}"
        );
    }));
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("figwatch: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match verbose {
        0 if quiet => "warn",
        0 => "figwatch=info,warn",
        1 => "figwatch=debug,info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let command = match (cli.poll, cli.command) {
        (true, None) => Command::Poll { all: cli.all },
        (true, Some(Command::Poll { all })) => Command::Poll {
            all: all || cli.all,
        },
        (true, Some(other)) => bail!("--poll cannot be combined with `{}`", name_of(&other)),
        (false, Some(c)) => c,
        (false, None) => {
            use clap::CommandFactory;
            Cli::command().print_help()?;
            println!();
            return Ok(());
        }
    };
    if let Command::Demo = command {
        return crate::demo::run();
    }
    if let Command::Migrate { from, to } = &command {
        return runtime()?.block_on(migrate(from, to));
    }
    if let Command::Extract { inputs, json } = &command {
        return extract_command(cli.config.as_deref(), inputs, *json);
    }
    let path = config::locate(cli.config.as_deref());
    let figures_args = match &command {
        Command::Figures(args) => Some(args.clone()),
        _ => None,
    };
    if let Some(args) = figures_args.as_ref().filter(|a| a.reads_input()) {
        return figures::run_on_input(args, &path);
    }
    let config = Config::load(&path)?;
    match command {
        Command::CheckConfig => check_config(&config),
        Command::Poll { all } => runtime()?.block_on(poll(config, all)),
        Command::Run => runtime()?.block_on(daemon(config)),
        Command::Serve => runtime()?.block_on(serve(config)),
        other => {
            let store = open_store(&config)?;
            match other {
                Command::Alerts(args) => alerts::run(&store, &args),
                Command::Export(args) => export::run(&store, &args),
                Command::History { url, json } => history(&store, &url, json),
                Command::Diff {
                    url,
                    from,
                    to,
                    full,
                    json,
                } => show_diff(&store, &url, from, to, full, json),
                Command::Status { json } => status(&store, &config, json),
                Command::Prune { dry_run, vacuum } => prune(&store, &config, dry_run, vacuum),
                Command::Figures(_) => {
                    figures::ledger(&store, &config, figures_args.as_ref().expect("set above"))
                }
                _ => unreachable!("handled above"),
            }
        }
    }
}

fn name_of(c: &Command) -> &'static str {
    match c {
        Command::Poll { .. } => "poll",
        Command::Run => "run",
        Command::Serve => "serve",
        Command::Alerts(_) => "alerts",
        Command::Export(_) => "export",
        Command::History { .. } => "history",
        Command::Diff { .. } => "diff",
        Command::CheckConfig => "check-config",
        Command::Migrate { .. } => "migrate",
        Command::Prune { .. } => "prune",
        Command::Status { .. } => "status",
        Command::Demo => "demo",
        Command::Extract { .. } => "extract",
        Command::Figures(_) => "figures",
    }
}

/// `figwatch extract`: works without a configuration file (defaults), but uses the fetch
/// settings of one that exists.
fn extract_command(
    config: Option<&std::path::Path>,
    inputs: &[String],
    json: bool,
) -> anyhow::Result<()> {
    let path = config::locate(config);
    let (user_agent, fetch) = if config.is_some() || path.exists() {
        let c = Config::load(&path)?;
        (c.user_agent, c.fetch)
    } else {
        (
            config::DEFAULT_USER_AGENT.to_string(),
            config::FetchSettings::default(),
        )
    };
    let fetcher = crate::fetch::Fetcher::new(&user_agent, &fetch)?;
    let rt = runtime()?;
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    for input in inputs {
        let article = match Url::parse(input)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        {
            Some(url) => rt.block_on(async {
                let page = fetcher.get(&url).await.map_err(|e| e.to_string())?;
                crate::extract::extract_bytes(&page.body, page.charset.as_deref(), Some(&page.url))
                    .map_err(|e| format!("{url}: {e}"))
            }),
            None => crate::extract::read_file(std::path::Path::new(input))
                .map_err(|e| format!("{input}: {e}"))
                .and_then(|body| {
                    crate::extract::extract_bytes(&body, None, None)
                        .map_err(|e| format!("{input}: {e}"))
                }),
        };
        let article = match article {
            Ok(a) => a,
            Err(e) => {
                eprintln!("figwatch: {e}");
                failed += 1;
                continue;
            }
        };
        if json {
            #[derive(serde::Serialize)]
            struct Line<'a> {
                input: &'a str,
                #[serde(flatten)]
                article: &'a crate::extract::Article,
            }
            let value = Line {
                input,
                article: &article,
            };
            json_lines(&mut out, &[value])?;
        } else {
            writeln!(out, "== {input}")?;
            for (label, value) in [
                ("title", &article.title),
                ("byline", &article.byline),
                ("published", &article.published),
                ("lang", &article.lang),
            ] {
                writeln!(out, "{label:<10} {}", value.as_deref().unwrap_or("-"))?;
            }
            writeln!(out, "\n{}\n", article.text.replace('\n', "\n\n"))?;
        }
    }
    if failed > 0 {
        bail!("{failed} of {} inputs could not be extracted", inputs.len());
    }
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn open_store(config: &Config) -> anyhow::Result<Store> {
    Ok(Store::connect(&config.database)?)
}

/// `figwatch --poll`: one pass over what is due (everything with `all`), a progress bar on a
/// terminal or progress lines in a log, and a one-line summary on stdout.
pub async fn poll(config: Config, all: bool) -> anyhow::Result<()> {
    if config.sources.is_empty() {
        bail!(
            "{}: no [[feeds]] or [[pages]] configured; nothing to poll",
            config.path.display()
        );
    }
    let store = open_store(&config)?;
    // Sinks are registered before the pass, so that a sink added to the configuration gets
    // the alerts of this very run.
    let outbox = crate::alerts::outbox::Outbox::open(&config)?;
    let pipeline = Arc::new(Pipeline::new(config, store)?);
    let sources = if all {
        crate::schedule::interleave_hosts(&pipeline, (0..pipeline.config.sources.len()).collect())
    } else {
        crate::schedule::due_sources(&pipeline)?
    };
    let total = pipeline.config.sources.len();
    if sources.is_empty() {
        let next = pipeline
            .store
            .source_states()?
            .values()
            .filter_map(|s| s.next_check_at)
            .min();
        println!(
            "no source is due (of {total}); the next is due at {}; `figwatch --poll --all` polls every source now",
            next.map_or("-".into(), crate::store::timestamp)
        );
        // Alerts left by an earlier run still go out.
        deliver(&pipeline.config, outbox).await;
        return Ok(());
    }
    let mut progress = progress::Progress::new(sources.len(), total);
    let summary = pipeline.poll_sources(sources, |s| progress.update(s)).await;
    progress.finish();
    println!("{summary}");
    pipeline.flush();
    deliver(&pipeline.config, outbox).await;
    Ok(())
}

/// Delivers what waits in the outbox, within `delivery_timeout`, and says what is left.
async fn deliver(config: &Config, outbox: crate::alerts::outbox::Outbox) {
    if outbox.is_empty() {
        return;
    }
    for left in outbox.drain(config.alerts.delivery_timeout).await {
        if left.collecting {
            tracing::info!(
                sink = %left.sink,
                "{} alert(s) collected for the next digest",
                left.pending
            );
        } else {
            tracing::warn!(
                sink = %left.sink,
                "{} alert(s) not delivered yet (last error: {}); they stay in the outbox for the next run or the daemon",
                left.pending,
                left.last_error.as_deref().unwrap_or("none; not tried within the delivery timeout")
            );
        }
    }
}

/// `figwatch serve`: the dashboard alone, until SIGTERM/SIGINT.
async fn serve(config: Config) -> anyhow::Result<()> {
    let Some(web) = config.web.clone() else {
        bail!(
            "{}: no [web] configured; add\n\n[web]\nlisten = \"127.0.0.1:8787\"",
            config.path.display()
        );
    };
    let dashboard = crate::web::Dashboard::open(&config)?;
    crate::web::serve(dashboard, web.listen, crate::schedule::shutdown_signal()).await
}

async fn daemon(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config)?;
    crate::schedule::run(Pipeline::new(config, store)?).await
}

fn check_config(c: &Config) -> anyhow::Result<()> {
    let count = |k: SourceKind| c.sources.iter().filter(|s| s.kind == k).count();
    println!(
        "{}: ok — {} feeds, {} pages, {} topics",
        c.path.display(),
        count(SourceKind::Feed),
        count(SourceKind::Page),
        c.topics.len()
    );
    println!("database   {}", c.database);
    print_sinks(c);
    println!("interval   {}", humantime::format_duration(c.interval));
    println!(
        "fetch      timeout {}, max body {} bytes, {} redirects, {} sources at a time",
        humantime::format_duration(c.fetch.timeout),
        c.fetch.max_body,
        c.fetch.max_redirects,
        c.fetch.concurrency
    );
    println!(
        "politeness {} request(s) at a time per host, {} apart",
        c.fetch.per_host_concurrency,
        humantime::format_duration(c.fetch.per_host_delay)
    );
    println!(
        "addresses  {}",
        if c.fetch.allow_private {
            "internal addresses allowed (allow_private = true)".to_string()
        } else if c.fetch.allow_hosts.is_empty() {
            "loopback, private and link-local addresses refused".to_string()
        } else {
            format!(
                "loopback, private and link-local addresses refused, except {}",
                c.fetch.allow_hosts.join(", ")
            )
        }
    );
    println!(
        "schedule   {}, jitter ±{:.0}%, backoff up to {}, source_failing after {} failures",
        if c.schedule.adaptive {
            "adaptive"
        } else {
            "fixed intervals"
        },
        c.schedule.jitter * 100.0,
        humantime::format_duration(c.schedule.max_backoff),
        c.schedule.fail_after
    );
    println!("\nsources:");
    for s in &c.sources {
        let bounds = format!(
            "({}–{})",
            humantime::format_duration(s.min_interval),
            humantime::format_duration(s.max_interval)
        );
        println!(
            "  {:<5} every {:<5} {:<12} {}",
            s.kind.as_str(),
            humantime::format_duration(s.interval).to_string(),
            bounds,
            s.url
        );
    }
    println!("\ntopics:");
    for t in &c.topics {
        let measures: Vec<&str> = t.measures.iter().map(|m| m.name.as_str()).collect();
        println!(
            "  {:<20} {} terms, {} near groups (window {}), {} exclusions{}{}",
            t.id,
            t.terms.len(),
            t.near.len(),
            t.window,
            t.exclude.len(),
            if measures.is_empty() {
                String::new()
            } else {
                format!(", own measures: {}", measures.join(", "))
            },
            if t.name.is_empty() {
                String::new()
            } else {
                format!(" — {}", t.name)
            }
        );
    }
    Ok(())
}

/// `figwatch migrate`: the copy, and per table what was verified.
async fn migrate(from: &std::path::Path, to: &str) -> anyhow::Result<()> {
    if !from.is_file() {
        bail!("{}: no such SQLite file", from.display());
    }
    let checks = crate::store::migrate::sqlite_to_postgres(from, to).await?;
    println!(
        "{:<16} {:>10} {:>10}  verified",
        "table", "SQLite", "PostgreSQL"
    );
    for c in &checks {
        println!(
            "{:<16} {:>10} {:>10}  {}",
            c.table,
            c.rows,
            c.copied,
            if c.same {
                "rows and content hash equal"
            } else {
                "DIFFERENT"
            }
        );
    }
    println!(
        "copied {} into {}; every table verified",
        from.display(),
        crate::store::migrate::redact(to)
    );
    Ok(())
}

/// `figwatch prune`: what `[retention]` allows to go, gone (or counted).
fn prune(store: &Store, config: &Config, dry_run: bool, vacuum: bool) -> anyhow::Result<()> {
    let Some(r) = &config.retention else {
        bail!(
            "{}: no [retention] configured, so every version is kept; add for example\n\n[retention]\nkeep_for = \"365d\"\nkeep_last = 3",
            config.path.display()
        );
    };
    let size = || {
        let Some(path) = config.database.sqlite_path() else {
            return 0;
        };
        ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
            .map(|m| m.len())
            .sum::<u64>()
    };
    let before = size();
    let report = crate::pipeline::prune(store, r, dry_run)?;
    let what = format!(
        "{} versions (with {} figures) older than {}, beyond each article's last {} and not pointed at by an alert or the ledger; {} delivered outbox rows",
        report.versions,
        report.figures,
        humantime::format_duration(r.keep_for),
        r.keep_last,
        report.deliveries
    );
    if dry_run {
        println!("would prune {what}");
        return Ok(());
    }
    println!("pruned {what}");
    if vacuum {
        store.vacuum()?;
        println!(
            "database {:.1} MB → {:.1} MB",
            before as f64 / 1e6,
            size() as f64 / 1e6
        );
    }
    Ok(())
}

/// The alert sinks, without their secrets (only where a secret is read from).
fn print_sinks(c: &Config) {
    let a = &c.alerts;
    println!(
        "alerts     {} sink(s); `--poll` delivers for up to {}; retries from {}, doubling to {}",
        a.sinks.len(),
        humantime::format_duration(a.delivery_timeout),
        humantime::format_duration(a.retry_initial),
        humantime::format_duration(a.retry_max)
    );
    for s in &a.sinks {
        let mut notes = Vec::new();
        match &s.target {
            config::SinkTarget::Webhook {
                format,
                secret_file,
                ..
            } => {
                notes.push(format!("{format:?}").to_lowercase());
                if let Some(p) = secret_file {
                    notes.push(format!("signed with the secret in {}", p.display()));
                }
            }
            config::SinkTarget::Email {
                password_file: Some(p),
                ..
            } => notes.push(format!("password in {}", p.display())),
            _ => {}
        }
        if !s.topics.is_empty() {
            notes.push(format!("topics {}", s.topics.join(", ")));
        }
        if !s.kinds.is_empty() {
            notes.push(format!("kinds {}", s.kinds.join(", ")));
        }
        if let Some(d) = s.digest {
            notes.push(format!("digest every {}", humantime::format_duration(d)));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        };
        println!("  sink     {}{notes}", s.label);
    }
}

/// Writes one JSON object a line: the form every `--json` output takes.
fn json_lines<T: serde::Serialize>(out: &mut impl Write, items: &[T]) -> anyhow::Result<()> {
    for item in items {
        serde_json::to_writer(&mut *out, item)?;
        writeln!(out)?;
    }
    Ok(())
}

/// Finds an article by the URL a user typed, trying its canonical form too.
fn find_article(store: &Store, url: &str) -> anyhow::Result<i64> {
    // By its own address, an alias (a link whose page named another canonical URL), or the
    // canonical form of what was typed.
    if let Some(a) = store.find_article(url)? {
        return Ok(a.id);
    }
    if let Ok(parsed) = Url::parse(url) {
        if let Some(a) = store.find_article(canonical_url(&parsed).as_str())? {
            return Ok(a.id);
        }
    }
    let hint = url.trim_end_matches('/').rsplit('/').next().unwrap_or(url);
    let similar = store.similar_article_urls(hint, 5)?;
    if similar.is_empty() {
        bail!("no article is stored under {url}");
    }
    bail!(
        "no article is stored under {url}; did you mean:\n  {}",
        similar.join("\n  ")
    );
}

fn history(store: &Store, url: &str, json: bool) -> anyhow::Result<()> {
    let id = find_article(store, url)?;
    let versions = store.history(id)?;
    let mut out = std::io::stdout().lock();
    if json {
        return json_lines(&mut out, &versions);
    }
    if versions.is_empty() {
        writeln!(
            out,
            "{url}: no version stored yet (see `figwatch status` for fetch errors)"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>7}  {:<24}  {:>8}  {:<12}  {:>6}",
        "version", "fetched (UTC)", "bytes", "hash", "alerts"
    )?;
    for v in &versions {
        let hash = &v.hash[..12.min(v.hash.len())];
        write!(
            out,
            "{:>7}  {:<24}  {:>8}  {hash:<12}  {:>6}",
            v.number, v.fetched_at, v.size, v.alerts
        )?;
        match &v.flag {
            Some(why) => writeln!(out, "  flagged: {why}")?,
            None => writeln!(out)?,
        }
    }
    Ok(())
}

fn show_diff(
    store: &Store,
    url: &str,
    from: Option<i64>,
    to: Option<i64>,
    full: bool,
    json: bool,
) -> anyhow::Result<()> {
    let id = find_article(store, url)?;
    let latest = store
        .latest_version(id)?
        .with_context(|| format!("{url}: no version stored yet"))?;
    let to = to.unwrap_or(latest.number);
    let from = from.unwrap_or(to - 1);
    if from < 1 || from >= to {
        if latest.number == 1 {
            bail!("{url}: only one version is stored, so there is nothing to compare yet");
        }
        bail!("--from must be at least 1 and less than --to (got {from} and {to}); versions 1 to {} are stored", latest.number);
    }
    let get = |n: i64| -> anyhow::Result<_> {
        store.version(id, n)?.with_context(|| {
            format!(
                "{url}: there is no version {n}; versions 1 to {} are stored",
                latest.number
            )
        })
    };
    let (old, new) = (get(from)?, get(to)?);
    let chunks = diff::word_diff(&old.article.text, &new.article.text);
    let mut out = std::io::stdout().lock();
    if json {
        let value = serde_json::json!({"url": url, "from": from, "to": to, "chunks": chunks});
        return json_lines(&mut out, &[value]);
    }
    let color = out.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    write_diff(
        &mut out,
        url,
        (from, &old.fetched_at),
        (to, &new.fetched_at),
        &chunks,
        full,
        color,
    )
}

/// Prints a diff with a header naming the two versions.
pub fn write_diff(
    out: &mut impl Write,
    url: &str,
    from: (i64, &str),
    to: (i64, &str),
    chunks: &[diff::Chunk],
    full: bool,
    color: bool,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "{url}: version {} ({}) → version {} ({})",
        from.0, from.1, to.0, to.1
    )?;
    if diff::is_unchanged(chunks) {
        writeln!(out, "(no change in the text)")?;
        return Ok(());
    }
    let shown = if full {
        chunks.to_vec()
    } else {
        diff::changed_paragraphs(chunks)
    };
    writeln!(out, "{}", diff::render(&shown, color))?;
    Ok(())
}

fn status(store: &Store, config: &Config, json: bool) -> anyhow::Result<()> {
    let configured: Vec<String> = config.sources.iter().map(|s| s.url.to_string()).collect();
    let rows: Vec<_> = store
        .source_statuses()?
        .into_iter()
        .filter(|s| configured.contains(&s.url))
        .collect();
    let mut out = std::io::stdout().lock();
    if json {
        return json_lines(&mut out, &rows);
    }
    if rows.is_empty() {
        writeln!(out, "no source has been polled yet; run `figwatch --poll`")?;
    }
    for r in &rows {
        let health = match (r.consecutive_failures, &r.last_polled_at) {
            (_, None) => "never polled".to_string(),
            (0, _) => "ok".to_string(),
            (n, _) => format!("FAILING ({n} in a row)"),
        };
        writeln!(out, "{} {}  — {}", r.kind, r.url, health)?;
        let every = r
            .interval_secs
            .map(|s| {
                let d = std::time::Duration::from_secs(s.round() as u64);
                humantime::format_duration(d).to_string()
            })
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "    last poll {}{}, last success {}; next check {} (every {every}); {} articles, {} versions",
            r.last_polled_at.as_deref().unwrap_or("-"),
            r.last_http_status
                .map(|s| format!(" (HTTP {s})"))
                .unwrap_or_default(),
            r.last_ok_at.as_deref().unwrap_or("-"),
            r.next_check_at.as_deref().unwrap_or("now"),
            r.articles,
            r.versions
        )?;
        if let Some(since) = &r.failing_since {
            writeln!(out, "    source_failing alert raised at {since}")?;
        }
        if let (Some(by), Some(until)) = (&r.polled_by, &r.lease_until) {
            writeln!(out, "    being polled by {by} (lease until {until})")?;
        }
        if let Some(e) = &r.last_error {
            writeln!(
                out,
                "    {}: {e}",
                if r.consecutive_failures > 0 {
                    "error"
                } else {
                    "note"
                }
            )?;
        }
    }
    print_workers(store, &rows, &mut out)?;
    print_sink_status(store, config, &mut out)
}

/// The workers: each `figwatch run` seen in the last two minutes (idle ones too), and any
/// other process (a `--poll` pass) holding leases, with how many sources each is polling.
fn print_workers(
    store: &Store,
    rows: &[crate::store::SourceStatus],
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut polling: std::collections::BTreeMap<&str, usize> = Default::default();
    for by in rows.iter().filter_map(|r| r.polled_by.as_deref()) {
        *polling.entry(by).or_default() += 1;
    }
    let recent = crate::store::timestamp(chrono::Utc::now() - chrono::Duration::minutes(2));
    for w in store.workers(&recent)? {
        let n = polling.remove(w.name.as_str()).unwrap_or(0);
        writeln!(
            out,
            "worker {}  — running since {}, last seen {}; polling {n} source(s)",
            w.name, w.started_at, w.seen_at
        )?;
    }
    for (by, n) in polling {
        writeln!(out, "worker {by}  — polling {n} source(s)")?;
    }
    Ok(())
}

/// Each sink's outbox: what waits, what was delivered, the last error.
fn print_sink_status(store: &Store, config: &Config, out: &mut impl Write) -> anyhow::Result<()> {
    for sink in &config.alerts.sinks {
        let b = store.sink_backlog(&sink.key)?;
        let state = if b.pending == 0 {
            "up to date".to_string()
        } else {
            format!(
                "{} waiting, next attempt {}",
                b.pending,
                b.next_attempt_at.as_deref().unwrap_or("now")
            )
        };
        writeln!(
            out,
            "sink {}  — {state}; {} delivered",
            sink.label, b.delivered
        )?;
        if let Some(e) = &b.last_error {
            writeln!(out, "    error: {e}")?;
        }
    }
    Ok(())
}
