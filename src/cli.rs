//! The command line: parsing, and the commands that read the store for people.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use url::Url;

use figwatch::config::{self, Config};
use figwatch::diff;
use figwatch::pipeline::{canonical_url, Pipeline};
use figwatch::store::Store;

mod alerts;
mod check;
mod demo;
mod discover;
mod export;
mod extract;
mod figures;
mod poll;
mod progress;
mod status;

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

    /// With --poll: every source and every watched article, due or not
    #[arg(long, requires = "poll")]
    pub all: bool,

    /// With --poll: check this one source or stored article now
    #[arg(long, requires = "poll", value_name = "URL", conflicts_with = "all")]
    pub url: Option<String>,

    /// With --poll: only the sources (feeds and pages), or only the articles' re-checks
    #[arg(long, requires = "poll", value_enum)]
    pub only: Option<poll::Only>,

    /// Log more (-v: debug, -vv: trace); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// One pass over the sources and articles that are due (or one of them, by URL), then exit
    Poll(poll::PollArgs),
    /// Run as a daemon: poll each source on its interval until SIGTERM/SIGINT (and serve the
    /// dashboard when [web] is configured)
    Run,
    /// Serve the read-only dashboard of [web] on its own, without polling
    Serve,
    /// Show alerts, newest last; --follow waits for new ones
    Alerts(alerts::AlertsArgs),
    /// Write alerts, figures or versions as CSV or JSON, for spreadsheets and scripts
    Export(export::ExportArgs),
    /// List the stored versions of one article, and when it is checked next
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
    /// Each source's health (last poll, consecutive failures, last error) and its articles'
    /// schedule (watched, due within the hour, retired)
    Status {
        #[arg(long)]
        json: bool,
    },
    /// See figwatch work in seconds, without network: a local story revised twice
    Demo,
    /// The figures reported per topic and measure, as a timeline with their sources; or, with
    /// --text/--file/--jsonl/--revisions, what would be extracted from a text
    Figures(figures::FiguresArgs),
    /// Find a site's feeds, sitemaps and section fronts, printed as configuration blocks
    Discover {
        /// The site's address (its home page), such as https://news.example/
        url: String,
    },
    /// Extract the article from files (gzip too) or URLs and print it
    Extract {
        /// Files or http(s) URLs
        #[arg(required = true)]
        inputs: Vec<String>,
        /// JSON Lines: {"input","title","byline","published","lang","text"}
        #[arg(long)]
        json: bool,
        /// Show which blocks and lines were kept or left out, and why (to report a bad page)
        #[arg(long)]
        explain: bool,
        /// Render URLs in headless Chromium first, as render = "chromium" would
        #[arg(long)]
        render: bool,
    },
}

fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    config::parse_duration(s)
}

/// The timestamp `age` ago, as stored.
fn ago(age: std::time::Duration) -> String {
    figwatch::store::timestamp(
        chrono::Utc::now() - chrono::Duration::from_std(age).unwrap_or_default(),
    )
}

/// Standard output for anything that may hold fetched or stored text: its control
/// characters are shown as `\uXXXX`, never passed to the user's terminal.
pub(crate) fn stdout() -> figwatch::controls::Visible<std::io::StdoutLock<'static>> {
    figwatch::controls::Visible::new(std::io::stdout().lock())
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
    // Every command writes through `stdout()` with `writeln!`, never `println!` (which panics
    // on a closed pipe), so a reader that went away arrives here as an error.
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader of standard output went away (`| head`): done, quietly, as Unix tools do.
        Err(e) if closed_stdout(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("figwatch: error: {e:#}");
            if e.downcast_ref::<figwatch::store::StoreGone>().is_some() {
                return std::process::ExitCode::from(figwatch::store::StoreGone::EXIT_CODE);
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// True when `e` comes from writing to a closed pipe.
fn closed_stdout(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match verbose {
        // html5ever warns about markup it repairs ("foster parenting not implemented"): the
        // page's business, not the user's.
        0 if quiet => "warn,html5ever=error",
        0 => "figwatch=info,warn,html5ever=error",
        1 => "figwatch=debug,info,html5ever=error",
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
        (true, None) => Command::Poll(poll::PollArgs {
            all: cli.all,
            url: cli.url,
            only: cli.only,
        }),
        (true, Some(Command::Poll(args))) => Command::Poll(poll::PollArgs {
            all: args.all || cli.all,
            url: args.url.or(cli.url),
            only: args.only.or(cli.only),
        }),
        (true, Some(other)) => bail!("--poll cannot be combined with `{}`", name_of(&other)),
        (false, Some(c)) => c,
        (false, None) => {
            use clap::CommandFactory;
            Cli::command().print_help()?;
            writeln!(stdout())?;
            return Ok(());
        }
    };
    if let Command::Demo = command {
        return demo::run();
    }
    if let Command::Migrate { from, to } = &command {
        return runtime()?.block_on(migrate(from, to));
    }
    if let Command::Extract {
        inputs,
        json,
        explain,
        render,
    } = &command
    {
        return extract::run(cli.config.as_deref(), inputs, *json, *explain, *render);
    }
    if let Command::Discover { url } = &command {
        return discover::run(cli.config.as_deref(), url);
    }
    let path = config::locate(cli.config.as_deref());
    let figures_args = match &command {
        Command::Figures(args) => Some(args.clone()),
        _ => None,
    };
    if let Some(args) = figures_args.as_ref().filter(|a| a.reads_input()) {
        return figures::run_on_input(args, &path);
    }
    let config = Config::load_found(&path, cli.config.is_some())?;
    match command {
        Command::CheckConfig => check::check_config(&config, &mut stdout()),
        Command::Poll(args) => runtime()?.block_on(poll::poll(config, args)),
        Command::Run => runtime()?.block_on(daemon(config)),
        Command::Serve => runtime()?.block_on(serve(config)),
        other => {
            let store = open_existing_store(&config)?;
            match other {
                Command::Alerts(args) => alerts::run(&store, &config, &args),
                Command::Export(args) => export::run(&store, &args),
                Command::History { url, json } => status::history(&store, &config, &url, json),
                Command::Diff {
                    url,
                    from,
                    to,
                    full,
                    json,
                } => show_diff(&store, &url, from, to, full, json),
                Command::Status { json } => status::status(&store, &config, json),
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
        Command::Poll(_) => "poll",
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
        Command::Discover { .. } => "discover",
        Command::Figures(_) => "figures",
    }
}

/// The user agent and fetch settings of the configuration, when one is given or found; the
/// defaults otherwise (`extract` and `discover` work without a configuration, but honour the
/// address guard and proxy of one that exists).
fn fetch_settings(
    config: Option<&std::path::Path>,
) -> anyhow::Result<(String, config::FetchSettings, config::RenderSettings)> {
    let path = config::locate(config);
    if config.is_some() || path.exists() {
        let c = Config::load_found(&path, config.is_some())?;
        Ok((c.user_agent, c.fetch, c.render))
    } else {
        Ok((
            config::DEFAULT_USER_AGENT.to_string(),
            config::FetchSettings::default(),
            config::RenderSettings::default(),
        ))
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

pub(crate) fn open_store(config: &Config) -> anyhow::Result<Store> {
    Ok(Store::connect(&config.database)?)
}

/// The store for a command that reads it (and `prune`): an SQLite file that does not exist is
/// not created, and the message says where figwatch looked.
fn open_existing_store(config: &Config) -> anyhow::Result<Store> {
    if let config::Database::Sqlite(path) = &config.database {
        if !path.exists() {
            bail!(
                "no database at {} ({}); nothing has been polled with {} yet: run `figwatch --config {} --poll` first, or set `database` (or `state_dir`) to where the store is",
                path.display(),
                config.places.describe_state(),
                config.path.display(),
                config.path.display()
            );
        }
    }
    open_store(config)
}

/// `figwatch serve`: the dashboard alone, until SIGTERM/SIGINT.
async fn serve(config: Config) -> anyhow::Result<()> {
    let Some(web) = config.web.clone() else {
        bail!(
            "{}: no [web] configured; add\n\n[web]\nlisten = \"127.0.0.1:8787\"",
            config.path.display()
        );
    };
    let dashboard = std::sync::Arc::new(figwatch::web::Dashboard::open(&config)?);
    figwatch::web::serve(dashboard, web.listen, figwatch::schedule::shutdown_signal()).await
}

async fn daemon(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config)?;
    figwatch::schedule::run(Pipeline::new(config, store)?).await
}

/// `figwatch migrate`: the copy, and per table what was verified.
async fn migrate(from: &std::path::Path, to: &str) -> anyhow::Result<()> {
    if !from.is_file() {
        bail!("{}: no such SQLite file", from.display());
    }
    let checks = figwatch::store::migrate::sqlite_to_postgres(from, to).await?;
    writeln!(
        stdout(),
        "{:<16} {:>10} {:>10}  verified",
        "table",
        "SQLite",
        "PostgreSQL"
    )?;
    for c in &checks {
        writeln!(
            stdout(),
            "{:<16} {:>10} {:>10}  {}",
            c.table,
            c.rows,
            c.copied,
            if c.same {
                "rows and content hash equal"
            } else {
                "DIFFERENT"
            }
        )?;
    }
    writeln!(
        stdout(),
        "copied {} into {}; every table verified",
        from.display(),
        figwatch::store::migrate::redact(to)
    )?;
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
    let report = figwatch::pipeline::prune(store, r, dry_run)?;
    let what = format!(
        "{} versions (with {} figures) older than {}, beyond each article's last {} and not pointed at by an alert or the ledger; {} delivered outbox rows; {} kept pages of retired articles; {} remembered template paragraphs",
        report.versions,
        report.figures,
        humantime::format_duration(r.keep_for),
        r.keep_last,
        report.deliveries,
        report.pages,
        report.paragraphs
    );
    if dry_run {
        writeln!(stdout(), "would prune {what}")?;
        return Ok(());
    }
    writeln!(stdout(), "pruned {what}")?;
    if vacuum {
        store.vacuum()?;
        writeln!(
            stdout(),
            "database {:.1} MB → {:.1} MB",
            before as f64 / 1e6,
            size() as f64 / 1e6
        )?;
    }
    Ok(())
}

/// Writes one JSON object a line: the form every `--json` output takes.
pub(crate) fn json_lines<T: serde::Serialize>(
    out: &mut impl Write,
    items: &[T],
) -> anyhow::Result<()> {
    for item in items {
        serde_json::to_writer(&mut *out, item)?;
        writeln!(out)?;
    }
    Ok(())
}

/// Finds an article by the URL a user typed, trying its canonical form too.
pub(crate) fn find_article(store: &Store, url: &str) -> anyhow::Result<i64> {
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
    if json {
        let value = serde_json::json!({"url": url, "from": from, "to": to, "chunks": chunks});
        return json_lines(&mut stdout(), &[value]);
    }
    // Raw standard output for figwatch's own colours: `diff::render` shows the text's
    // control characters itself.
    let mut out = std::io::stdout().lock();
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
