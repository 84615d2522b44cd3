//! The configuration file: what to watch, which topics to track, where to keep things.
//!
//! Every mistake in the file is reported with the file, line, column and key so the user can
//! go straight to it; validation happens once, at start, so a running daemon never meets a
//! half-valid configuration.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

mod database;
pub use database::*;
mod settings;
pub use settings::*;
mod values;
pub use values::*;
mod checks;
use checks::*;
mod render;
pub use render::RenderSettings;
use render::*;

pub use recheck::{Recheck, Tier};

/// Where the configuration is looked for when `--config` is not given.
pub const ENV_VAR: &str = "FIGWATCH_CONFIG";
const LOCAL_DEFAULT: &str = "config/figwatch.toml";
const SYSTEM_DEFAULT: &str = "/etc/figwatch/figwatch.toml";

/// The default `user_agent`; servers that block unknown clients can then tell who we are.
pub const DEFAULT_USER_AGENT: &str = concat!("figwatch/", env!("CARGO_PKG_VERSION"));

/// A configuration error, located in the file.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    /// The configuration file.
    pub path: PathBuf,
    /// 1-based line and column, when the error can be placed.
    pub position: Option<(usize, usize)>,
    /// The key the error is about, as a dotted path (`feeds[2].interval`).
    pub key: Option<String>,
    /// What is wrong, and what to write instead.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Where its relative paths lead (never the working directory).
    pub places: Places,
    /// Where the store lives.
    pub database: Database,
    /// Where alerts are delivered (`alert_log` is one log sink among them).
    pub alerts: AlertSettings,
    /// How long the figure ledger remembers a reported value: the same value from another
    /// outlet within this time adds a source instead of alerting again.
    pub figure_memory: Duration,
    /// How often a source is polled unless it sets its own `interval`.
    pub interval: Duration,
    /// How polls are spaced out beyond each source's interval.
    pub schedule: ScheduleSettings,
    /// `[articles] recheck`: the age schedule of articles whose feed sets none of its own.
    pub recheck: Recheck,
    /// Sent with every request.
    pub user_agent: String,
    /// Limits on every request.
    pub fetch: FetchSettings,
    /// The feeds and pages to poll, in the file's order.
    pub sources: Vec<SourceConfig>,
    /// The topics whose figures are tracked.
    pub topics: Vec<Topic>,
    /// How long versions are kept (`figwatch prune`, and the daemon once a day); `None`: for
    /// ever.
    pub retention: Option<Retention>,
    /// The dashboard, when `[web]` is configured.
    pub web: Option<WebSettings>,
    /// `[render]`: the browser that renders the sources with `render = "chromium"`.
    pub render: RenderSettings,
}

/// `[web]`: the read-only dashboard, served by the daemon or `figwatch serve`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSettings {
    /// Loopback (127.0.0.1:8787) unless told otherwise.
    pub listen: std::net::SocketAddr,
    /// A file (or credential) holding the access token; without it, anyone who can reach
    /// `listen` reads.
    pub token_file: Option<SecretFile>,
}

/// `[retention]`: versions older than `keep_for` are pruned, except each article's last
/// `keep_last` and those an alert or the figure ledger points at.
#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    /// Versions older than this are pruned…
    pub keep_for: Duration,
    /// …except an article's newest `keep_last`.
    pub keep_last: usize,
}

/// What a source is: a listing whose articles are followed (a feed, a sitemap, a section
/// front), or a page watched itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// RSS, Atom or JSON Feed: every entry's link is followed as an article.
    Feed,
    /// One page, itself the article.
    Page,
    /// A sitemap or sitemap index: its recent URLs are followed as articles.
    Sitemap,
    /// A section front: its article links are followed; its own text is never stored.
    Section,
}

impl SourceKind {
    /// The kind as the store and `status` write it (`feed`, `page`).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Feed => "feed",
            SourceKind::Page => "page",
            SourceKind::Sitemap => "sitemap",
            SourceKind::Section => "section",
        }
    }

    /// Whether it lists articles (followed, then checked again by age) rather than being one.
    pub fn lists_articles(self) -> bool {
        self != SourceKind::Page
    }
}

/// One `[[feeds]]` or `[[pages]]` entry.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// A feed or a page.
    pub kind: SourceKind,
    /// Its address.
    pub url: Url,
    /// Where the schedule starts, and what it uses when `adaptive` is off.
    pub interval: Duration,
    /// The bounds of the adaptive interval; `min_interval <= interval <= max_interval`.
    pub min_interval: Duration,
    /// The adaptive interval never grows past this.
    pub max_interval: Duration,
    /// How the articles a feed lists are checked again as they age (a feed's own `recheck`,
    /// else `[articles] recheck`); a page is itself checked every `interval` instead.
    pub recheck: Recheck,
    /// A sitemap's URLs are followed on first sight only when published (else last modified)
    /// within this (`max_age`, default 3 days): an archive sitemap is not an order to fetch
    /// its fifty thousand pages.
    pub max_age: Duration,
    /// Which article links of a section front are followed (`links`, `links_regex`).
    pub links: LinkFilter,
    /// `render = "chromium"`: the page (or, for a listing, each article it lists; never the
    /// listing itself) is loaded in headless Chromium and its rendered DOM is read.
    pub render: bool,
}

/// `links` and `links_regex` of a section front: which of its article links to follow.
#[derive(Debug, Clone, Default)]
pub struct LinkFilter {
    /// Only paths starting with this (`/world/`).
    pub prefix: Option<String>,
    /// Only URLs this matches.
    pub regex: Option<regex::Regex>,
}

impl PartialEq for LinkFilter {
    fn eq(&self, other: &LinkFilter) -> bool {
        self.prefix == other.prefix
            && self.regex.as_ref().map(regex::Regex::as_str)
                == other.regex.as_ref().map(regex::Regex::as_str)
    }
}

/// What `max_age` is when a sitemap does not set it.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3 * 86_400);

impl SourceConfig {
    /// The schedule as configured, kept with the source's row: when it differs at the next
    /// start, stored next checks later than it allows are pulled in.
    pub fn schedule_key(&self) -> String {
        format!(
            "interval={:?};min={:?};max={:?};recheck={}",
            self.interval,
            self.min_interval,
            self.max_interval,
            self.recheck.key()
        )
    }
}

/// A tracked topic, in the `[[topics]]` schema of the labelled figure data.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// The topic's id, as alerts name it.
    pub id: String,
    /// Its name for people (the dashboard's headings).
    #[serde(default)]
    pub name: String,
    /// Phrases that put a sentence on the topic.
    #[serde(default)]
    pub terms: Vec<String>,
    /// Word groups that put a sentence on the topic when one of each group is near the others.
    #[serde(default)]
    pub near: Vec<Vec<String>>,
    /// How many words apart the `near` groups may be.
    #[serde(default = "default_window")]
    pub window: usize,
    /// Phrases that take a sentence off the topic.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// The topic's own measures, tried before the built-in ones.
    #[serde(default)]
    pub measures: Vec<TopicMeasure>,
}

fn default_window() -> usize {
    12
}

impl Topic {
    /// A topic from its phrases, with the default window and no measures of its own.
    pub fn new(id: &str, terms: &[&str], near: &[&[&str]], exclude: &[&str]) -> Topic {
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Topic {
            id: id.into(),
            name: String::new(),
            terms: strings(terms),
            near: near.iter().map(|g| strings(g)).collect(),
            window: default_window(),
            exclude: strings(exclude),
            measures: Vec::new(),
        }
    }
}

/// A topic's own measure: its name and the words that name it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TopicMeasure {
    /// The measure's name, as alerts write it.
    pub name: String,
    /// The words after (or before) a number that make it this measure.
    pub words: Vec<String>,
    /// The measure counts money ("$12 billion in aid"): amounts in a currency are figures of
    /// it (the currency's ISO code as their unit), and nothing else is.
    #[serde(default)]
    pub money: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    state_dir: Option<String>,
    database: Option<String>,
    alert_log: Option<String>,
    figure_memory: Option<Spanned<Dur>>,
    interval: Option<Spanned<Dur>>,
    min_interval: Option<Spanned<Dur>>,
    max_interval: Option<Spanned<Dur>>,
    adaptive: Option<bool>,
    jitter: Option<Spanned<f64>>,
    max_backoff: Option<Spanned<Dur>>,
    fail_after: Option<Spanned<u32>>,
    lease: Option<Spanned<Dur>>,
    user_agent: Option<String>,
    #[serde(default)]
    fetch: RawFetch,
    #[serde(default)]
    articles: recheck::RawArticles,
    #[serde(default)]
    alerts: sinks::RawAlerts,
    retention: Option<RawRetention>,
    web: Option<RawWeb>,
    #[serde(default)]
    render: RawRender,
    #[serde(default)]
    feeds: Vec<RawSource>,
    #[serde(default)]
    pages: Vec<RawSource>,
    #[serde(default)]
    sitemaps: Vec<RawSource>,
    #[serde(default)]
    sections: Vec<RawSource>,
    #[serde(default)]
    topics: Vec<Spanned<Topic>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    timeout: Option<Dur>,
    max_body: Option<ByteSize>,
    max_redirects: Option<usize>,
    concurrency: Option<usize>,
    per_host_concurrency: Option<usize>,
    per_host_delay: Option<Dur>,
    allow_private: Option<bool>,
    #[serde(default)]
    allow_hosts: Vec<String>,
    proxy: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeb {
    listen: Option<String>,
    token_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    keep_for: Option<Dur>,
    keep_last: Option<Spanned<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    url: Spanned<HttpUrl>,
    interval: Option<Spanned<Dur>>,
    min_interval: Option<Spanned<Dur>>,
    max_interval: Option<Spanned<Dur>>,
    recheck: Option<Spanned<Vec<Vec<String>>>>,
    max_age: Option<Spanned<Dur>>,
    links: Option<Spanned<String>>,
    links_regex: Option<Spanned<String>>,
    render: Option<Spanned<String>>,
}

/// The intervals below this are refused: a news site polled every few milliseconds would
/// rightly block us.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Finds the configuration file: `--config`, then `$FIGWATCH_CONFIG`, then
/// `config/figwatch.toml`, then `/etc/figwatch/figwatch.toml`.
pub fn locate(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os(ENV_VAR).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let local = PathBuf::from(LOCAL_DEFAULT);
    if local.exists() {
        return local;
    }
    PathBuf::from(SYSTEM_DEFAULT)
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::load_found(path, false)
    }

    /// Like [`Config::load`]; `given`: the user named the file (`--config`), so a file that
    /// cannot be read is not answered with advice to name one.
    pub fn load_found(path: &Path, given: bool) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            position: None,
            key: None,
            message: if given {
                format!("cannot read the configuration file: {e}")
            } else {
                format!(
                    "cannot read the configuration file: {e} (pass --config PATH or set {ENV_VAR})"
                )
            },
        })?;
        Config::parse(&text, path)
    }

    /// Parses configuration text; `path` is used in messages and kept on the result.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let at = |span: Option<std::ops::Range<usize>>, key: Option<String>, message: String| {
            ConfigError {
                path: path.to_path_buf(),
                position: span.map(|s| line_col(text, s.start)),
                key,
                message,
            }
        };
        let de = toml::Deserializer::parse(text)
            .map_err(|e| at(e.span(), None, e.message().trim().to_string()))?;
        let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = written_key(&e.path().to_string());
            let inner = e.into_inner();
            let key = (key != ".").then_some(key);
            at(inner.span(), key, inner.message().trim().to_string())
        })?;

        let places = Places::new(path, raw.state_dir.as_deref());
        let interval = match &raw.interval {
            Some(d) => check_interval(d, "interval", &at)?,
            None => Duration::from_secs(15 * 60),
        };
        let default_bounds = Bounds {
            min: opt_interval(&raw.min_interval, "min_interval", &at)?,
            max: opt_interval(&raw.max_interval, "max_interval", &at)?,
        };
        default_bounds.check(interval, "", &at)?;
        let schedule = schedule_settings(&raw, &at)?;
        let global_recheck = match &raw.articles.recheck {
            Some(r) => recheck::parse(r, "articles.recheck", &at)?,
            None => Recheck::default(),
        };
        // Zero is allowed: it turns the ledger's memory off, so every outlet alerts on its own.
        let figure_memory = raw
            .figure_memory
            .as_ref()
            .map_or(Duration::from_secs(30 * 24 * 3600), |d| d.get_ref().0);

        let mut sources = Vec::new();
        let mut seen_urls = HashSet::new();
        let groups = [
            ("feeds", SourceKind::Feed, &raw.feeds),
            ("pages", SourceKind::Page, &raw.pages),
            ("sitemaps", SourceKind::Sitemap, &raw.sitemaps),
            ("sections", SourceKind::Section, &raw.sections),
        ];
        for (table, kind, list) in groups {
            for (i, src) in list.iter().enumerate() {
                let url = src.url.get_ref().0.clone();
                if !seen_urls.insert(url.to_string()) {
                    return Err(at(
                        Some(src.url.span()),
                        Some(format!("{table}[{i}].url")),
                        format!("the source {url} is configured twice; remove one"),
                    ));
                }
                let prefix = format!("{table}[{i}].");
                let interval = match &src.interval {
                    Some(d) => check_interval(d, &format!("{prefix}interval"), &at)?,
                    None => interval,
                };
                let own = Bounds {
                    min: opt_interval(&src.min_interval, &format!("{prefix}min_interval"), &at)?,
                    max: opt_interval(&src.max_interval, &format!("{prefix}max_interval"), &at)?,
                };
                own.check(interval, &prefix, &at)?;
                let recheck = match (&src.recheck, kind) {
                    (None, _) => global_recheck.clone(),
                    (Some(r), SourceKind::Feed | SourceKind::Sitemap | SourceKind::Section) => {
                        recheck::parse(r, &format!("{prefix}recheck"), &at)?
                    }
                    (Some(r), SourceKind::Page) => {
                        return Err(at(
                            Some(r.span()),
                            Some(format!("{prefix}recheck")),
                            "a page is itself the article and is checked every `interval`; `recheck` is for the articles a feed lists".into(),
                        ))
                    }
                };
                // Bounds set on the source must hold; bounds inherited from the top level give
                // way to the source's own interval.
                let min_interval = own
                    .min
                    .map(|d| d.0)
                    .or(default_bounds.min.as_ref().map(|d| d.0.min(interval)))
                    .unwrap_or(interval);
                let max_interval = own
                    .max
                    .map(|d| d.0)
                    .or(default_bounds.max.as_ref().map(|d| d.0.max(interval)))
                    .unwrap_or(interval * 4);
                let (max_age, links) = listing_options(src, kind, &prefix, &at)?;
                let render = render_option(src, &prefix, &at)?;
                sources.push(SourceConfig {
                    kind,
                    url,
                    interval,
                    min_interval,
                    max_interval,
                    recheck,
                    max_age,
                    links,
                    render,
                });
            }
        }

        let mut topics = Vec::new();
        let mut seen_ids = HashSet::new();
        for (i, spanned) in raw.topics.iter().enumerate() {
            let topic = spanned.get_ref();
            let problem = validate_topic(topic);
            let duplicate = !seen_ids.insert(topic.id.clone());
            let (key, message) = match (problem, duplicate) {
                (Some((key, msg)), _) => (key, msg),
                (None, true) => (
                    "id",
                    format!(
                        "duplicate topic id {:?}; every topic needs its own id",
                        topic.id
                    ),
                ),
                (None, false) => {
                    topics.push(topic.clone());
                    continue;
                }
            };
            // A topic's own span covers its whole table; point at the key inside it.
            let span = spanned.span();
            let start = find_key(text, span.clone(), key).unwrap_or(span.start);
            return Err(at(
                Some(start..start),
                Some(format!("topics[{i}].{key}")),
                message,
            ));
        }

        let f = &raw.fetch;
        for (i, h) in f.allow_hosts.iter().enumerate() {
            let bare = h.trim().trim_start_matches('[').trim_end_matches(']');
            let ok = bare.parse::<std::net::IpAddr>().is_ok()
                || (!bare.is_empty()
                    && bare
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
            if !ok {
                return Err(at(
                    None,
                    Some(format!("fetch.allow_hosts[{i}]")),
                    format!("{h:?} is not a host name or an IP address (write \"intranet.example\" or \"10.0.0.5\", without scheme, port or path)"),
                ));
            }
        }
        let proxy = match f.proxy.as_deref().map(str::trim) {
            None | Some("") => ProxySetting::None,
            Some("env") => ProxySetting::Env,
            Some(text) => ProxySetting::Url(
                ProxySetting::parse_url(text)
                    .map_err(|e| at(None, Some("fetch.proxy".to_string()), e))?,
            ),
        };
        check_render_route(&sources, &proxy, &at)?;
        let fetch = FetchSettings {
            timeout: f
                .timeout
                .map(|d| d.0)
                .unwrap_or(FetchSettings::default().timeout),
            max_body: f
                .max_body
                .map(|b| b.0)
                .unwrap_or(FetchSettings::default().max_body),
            max_redirects: f
                .max_redirects
                .unwrap_or(FetchSettings::default().max_redirects),
            concurrency: f
                .concurrency
                .unwrap_or(FetchSettings::default().concurrency)
                .max(1),
            per_host_concurrency: f
                .per_host_concurrency
                .unwrap_or(FetchSettings::default().per_host_concurrency)
                .max(1),
            per_host_delay: f
                .per_host_delay
                .map(|d| d.0)
                .unwrap_or(FetchSettings::default().per_host_delay),
            allow_private: f.allow_private.unwrap_or(false),
            allow_hosts: f.allow_hosts.clone(),
            proxy,
        };

        let topic_ids: Vec<&str> = topics.iter().map(|t| t.id.as_str()).collect();
        let alerts = sinks::alert_settings(
            &raw.alerts,
            raw.alert_log.as_deref().filter(|s| !s.is_empty()),
            &places,
            &topic_ids,
            text,
            &at,
        )?;
        let retention = match &raw.retention {
            None => None,
            Some(r) => {
                let keep_for = r.keep_for.map(|d| d.0).ok_or_else(|| {
                    at(
                        None,
                        Some("retention.keep_for".into()),
                        "[retention] needs `keep_for`, how long versions are kept (like \"365d\")"
                            .into(),
                    )
                })?;
                let keep_last = match &r.keep_last {
                    Some(k) if *k.get_ref() == 0 => {
                        return Err(at(
                            Some(k.span()),
                            Some("retention.keep_last".into()),
                            "must be at least 1: an article's last version is what its next one is compared with".into(),
                        ))
                    }
                    Some(k) => *k.get_ref(),
                    None => 3,
                };
                Some(Retention {
                    keep_for,
                    keep_last,
                })
            }
        };
        let web = match &raw.web {
            None => None,
            Some(w) => {
                let text = w.listen.as_deref().unwrap_or("127.0.0.1:8787");
                let listen = text.parse().map_err(|_| {
                    at(
                        None,
                        Some("web.listen".into()),
                        format!(
                            "{text:?} is not an address and port; write it like \"127.0.0.1:8787\""
                        ),
                    )
                })?;
                let token_file = w
                    .token_file
                    .as_deref()
                    .map(|t| SecretFile::parse(t, &places))
                    .transpose()
                    .map_err(|e| at(None, Some("web.token_file".into()), e))?;
                Some(WebSettings { listen, token_file })
            }
        };
        let render = render_settings(&raw.render, &places, &at)?;
        Ok(Config {
            path: path.to_path_buf(),
            retention,
            render,
            web,
            database: match Database::parse(
                &std::env::var("FIGWATCH_DATABASE")
                    .ok()
                    .filter(|d| !d.is_empty())
                    .or(raw.database)
                    .unwrap_or_else(|| "figwatch.db".into()),
            )
            .map_err(|e| at(None, Some("database".into()), e))?
            {
                Database::Sqlite(p) => Database::Sqlite(places.state(&p.to_string_lossy())),
                pg => pg,
            },
            places,
            alerts,
            figure_memory,
            interval,
            schedule,
            recheck: global_recheck,
            user_agent: raw
                .user_agent
                .unwrap_or_else(|| DEFAULT_USER_AGENT.to_string()),
            fetch,
            sources,
            topics,
        })
    }
}

#[cfg(test)]
mod tests;

mod paths;
mod recheck;
mod sinks;
pub use paths::{Places, SecretFile};
pub(crate) use sinks::host_only;
pub use sinks::{AlertSettings, SinkConfig, SinkTarget, WebhookFormat, ALERT_KINDS};
