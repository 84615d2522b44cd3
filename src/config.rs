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
    pub path: PathBuf,
    /// 1-based line and column, when the error can be placed.
    pub position: Option<(usize, usize)>,
    /// The key the error is about, as a dotted path (`feeds[2].interval`).
    pub key: Option<String>,
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

/// Where the store lives: an SQLite file (the default), or a PostgreSQL database that several
/// workers share. `$FIGWATCH_DATABASE`, when set, replaces the configured one (so that a
/// password need not sit in the configuration file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

/// A connection string without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// libpq's `sslmode` values, which figwatch honours (see `store::postgres::tls`).
const SSL_MODES: &[&str] = &[
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// A PostgreSQL URL read as far as it can be without connecting: `sslmode` and `sslrootcert`
/// (which figwatch reads itself, see `store::postgres::tls`), and the rest as the driver
/// reads it.
pub struct PostgresUrl {
    pub config: tokio_postgres::Config,
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
}

/// Reads a `postgres://` URL; the error says what is wrong with it (never its password).
pub fn postgres_url(text: &str) -> Result<PostgresUrl, String> {
    let mut url = url::Url::parse(text).map_err(|e| e.to_string())?;
    let (mut sslmode, mut sslrootcert, mut rest) = (None, None, Vec::new());
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "sslmode" if !SSL_MODES.contains(&value.as_ref()) => {
                return Err(format!(
                    "sslmode={value} is not one of {}",
                    SSL_MODES.join(", ")
                ))
            }
            "sslmode" => sslmode = Some(value.into_owned()),
            "sslrootcert" => sslrootcert = Some(value.into_owned()),
            _ => rest.push((key.into_owned(), value.into_owned())),
        }
    }
    url.set_query(None);
    if !rest.is_empty() {
        url.query_pairs_mut().extend_pairs(rest);
    }
    let config = url.as_str().parse().map_err(|e| format!("{e}"))?;
    Ok(PostgresUrl {
        config,
        sslmode,
        sslrootcert,
    })
}

impl Database {
    pub fn parse(text: &str) -> Result<Database, String> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            postgres_url(text)
                .map_err(|e| format!("{} is not a PostgreSQL connection URL: {e}", redact(text)))?;
            Ok(Database::Postgres(text.to_string()))
        } else if text.contains("://") {
            Err(format!(
                "{text:?}: only SQLite file paths and postgres:// URLs are supported"
            ))
        } else {
            Ok(Database::Sqlite(PathBuf::from(text)))
        }
    }

    /// The SQLite file, if that is the backend.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(p) => Some(p),
            Database::Postgres(_) => None,
        }
    }
}

impl fmt::Display for Database {
    /// The file, or the URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "{}", p.display()),
            Database::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Where its relative paths lead (never the working directory).
    pub places: Places,
    pub database: Database,
    /// Where alerts are delivered (`alert_log` is one log sink among them).
    pub alerts: AlertSettings,
    /// How long the figure ledger remembers a reported value: the same value from another
    /// outlet within this time adds a source instead of alerting again.
    pub figure_memory: Duration,
    pub interval: Duration,
    pub schedule: ScheduleSettings,
    /// `[articles] recheck`: the age schedule of articles whose feed sets none of its own.
    pub recheck: Recheck,
    pub user_agent: String,
    pub fetch: FetchSettings,
    pub sources: Vec<SourceConfig>,
    pub topics: Vec<Topic>,
    /// How long versions are kept (`figwatch prune`, and the daemon once a day); `None`: for
    /// ever.
    pub retention: Option<Retention>,
    /// The dashboard, when `[web]` is configured.
    pub web: Option<WebSettings>,
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
    pub keep_for: Duration,
    pub keep_last: usize,
}

/// Limits on every HTTP request figwatch makes.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub timeout: Duration,
    pub max_body: u64,
    pub max_redirects: usize,
    /// How many sources are polled at the same time.
    pub concurrency: usize,
    /// Requests in flight to one host at most, across all sources of that host.
    pub per_host_concurrency: usize,
    /// The least time between the starts of two requests to one host.
    pub per_host_delay: Duration,
    /// Fetch loopback, private and link-local addresses too (off: a feed could make
    /// figwatch read an internal admin page).
    pub allow_private: bool,
    /// Hosts (names or IP addresses, matched exactly) fetched even when they are internal.
    pub allow_hosts: Vec<String>,
    /// The proxy requests go through (none by default: the environment's are ignored).
    pub proxy: ProxySetting,
}

/// `[fetch] proxy`: none (the default; proxy variables in the environment are ignored), a URL,
/// or `"env"` for `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`.
#[derive(Clone, Default, PartialEq)]
pub enum ProxySetting {
    #[default]
    None,
    Env,
    Url(Url),
}

impl ProxySetting {
    /// A proxy URL from the configuration or a variable: http or https, with a host.
    pub fn parse_url(text: &str) -> Result<Url, String> {
        let url = Url::parse(text.trim()).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        });
        url.ok_or_else(|| {
            format!(
                "not a proxy URL ({}); write \"http://proxy.example:3128\", or \"env\" to take HTTPS_PROXY and HTTP_PROXY from the environment",
                host_only(text)
            )
        })
    }
}

impl fmt::Debug for ProxySetting {
    // A proxy URL may hold a password: never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::None => write!(f, "None"),
            ProxySetting::Env => write!(f, "Env"),
            ProxySetting::Url(u) => write!(f, "Url({})", host_only(u.as_str())),
        }
    }
}

/// How polls are spaced out in time, beyond each source's own interval.
#[derive(Debug, Clone)]
pub struct ScheduleSettings {
    /// Lengthen (or, down to `min_interval`, shorten) a source's interval by how often it
    /// really changes.
    pub adaptive: bool,
    /// Each next check moves by up to this fraction of the interval, either way, so that
    /// sources configured alike do not all fall due at the same moment.
    pub jitter: f64,
    /// The longest wait after repeated failures (the backoff doubles up to this).
    pub max_backoff: Duration,
    /// After this many failed polls in a row, one `source_failing` alert.
    pub fail_after: u32,
    /// How long a worker's claim on a source holds before another worker may take it over
    /// (`None`: ten times the fetch timeout, at least five minutes). A worker that dies
    /// holding sources delays them by at most this.
    pub lease: Option<Duration>,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        ScheduleSettings {
            adaptive: true,
            jitter: 0.1,
            max_backoff: Duration::from_secs(6 * 3600),
            fail_after: 10,
            lease: None,
        }
    }
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout: Duration::from_secs(30),
            max_body: 10 * 1024 * 1024,
            max_redirects: 10,
            concurrency: 4,
            per_host_concurrency: 1,
            per_host_delay: Duration::from_secs(1),
            allow_private: false,
            allow_hosts: Vec::new(),
            proxy: ProxySetting::None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// RSS, Atom or JSON Feed: every entry's link is followed as an article.
    Feed,
    /// One page, itself the article.
    Page,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Feed => "feed",
            SourceKind::Page => "page",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub kind: SourceKind,
    pub url: Url,
    /// Where the schedule starts, and what it uses when `adaptive` is off.
    pub interval: Duration,
    /// The bounds of the adaptive interval; `min_interval <= interval <= max_interval`.
    pub min_interval: Duration,
    pub max_interval: Duration,
    /// How the articles a feed lists are checked again as they age (a feed's own `recheck`,
    /// else `[articles] recheck`); a page is itself checked every `interval` instead.
    pub recheck: Recheck,
}

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
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub terms: Vec<String>,
    #[serde(default)]
    pub near: Vec<Vec<String>>,
    #[serde(default = "default_window")]
    pub window: usize,
    #[serde(default)]
    pub exclude: Vec<String>,
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

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TopicMeasure {
    pub name: String,
    pub words: Vec<String>,
    /// The measure counts money ("$12 billion in aid"): amounts in a currency are figures of
    /// it (the currency's ISO code as their unit), and nothing else is.
    #[serde(default)]
    pub money: bool,
}

/// A duration written like `90s`, `15m`, `2h` or `1d`.
#[derive(Debug, Clone, Copy)]
struct Dur(Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text)
            .map(Dur)
            .map_err(serde::de::Error::custom)
    }
}

/// Parses a duration such as `90s`, `15m`, `2h30m` or `2d`, with a message that shows the
/// accepted forms.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| {
        format!("invalid duration {text:?} ({e}); write it like \"90s\", \"15m\", \"2h\" or \"1d\"")
    })?;
    // Every time figwatch computes from a duration is stored as sortable text up to the year
    // 9999; a century keeps any "keep_for" of decades and every such date far inside it.
    if d > MAX_DURATION {
        return Err(format!(
            "duration {text:?} is too long: at most {} days (100 years)",
            MAX_DURATION.as_secs() / 86_400
        ));
    }
    Ok(d)
}

/// The longest duration a configuration may give.
pub const MAX_DURATION: Duration = Duration::from_secs(36_500 * 86_400);

/// An http(s) URL, checked when the file is read.
#[derive(Debug, Clone)]
struct HttpUrl(Url);

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let url = Url::parse(text.trim())
            .map_err(|e| serde::de::Error::custom(format!("invalid URL {text:?}: {e}")))?;
        match url.scheme() {
            "http" | "https" if url.host().is_some() => Ok(HttpUrl(url)),
            "http" | "https" => Err(serde::de::Error::custom(format!(
                "invalid URL {text:?}: no host"
            ))),
            other => Err(serde::de::Error::custom(format!(
                "invalid URL {text:?}: scheme `{other}` is not supported, use http or https"
            ))),
        }
    }
}

/// A byte size written as a number of bytes or like `10MB`, `512KiB`.
#[derive(Debug, Clone, Copy)]
struct ByteSize(u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) => Ok(ByteSize(n)),
            Raw::Text(t) => parse_byte_size(&t)
                .map(ByteSize)
                .map_err(serde::de::Error::custom),
        }
    }
}

fn parse_byte_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size {text:?}; write it like \"10MB\" or \"512KiB\""))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" | "k" => 1024,
        "mb" => 1000 * 1000,
        "mib" | "m" => 1024 * 1024,
        "gb" => 1000 * 1000 * 1000,
        "gib" | "g" => 1024 * 1024 * 1024,
        _ => {
            return Err(format!(
                "invalid size {text:?}: unknown unit; use B, KB, KiB, MB, MiB, GB or GiB"
            ))
        }
    };
    Ok(n.saturating_mul(mult))
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
    feeds: Vec<RawSource>,
    #[serde(default)]
    pages: Vec<RawSource>,
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
                    (Some(r), SourceKind::Feed) => {
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
                sources.push(SourceConfig {
                    kind,
                    url,
                    interval,
                    min_interval,
                    max_interval,
                    recheck,
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
        Ok(Config {
            path: path.to_path_buf(),
            retention,
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

/// A key as the user wrote it: serde's path runs through the private fields of `Spanned`
/// values (`interval.$__serde_spanned_private_value`), which name nothing in the file.
fn written_key(path: &str) -> String {
    path.split('.')
        .filter(|segment| !segment.starts_with("$__"))
        .collect::<Vec<_>>()
        .join(".")
}

fn check_interval(
    d: &Spanned<Dur>,
    key: &str,
    at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
) -> Result<Duration, ConfigError> {
    let value = d.get_ref().0;
    if value < MIN_INTERVAL {
        return Err(at(
            Some(d.span()),
            Some(key.to_string()),
            format!("interval {value:?} is too short; the minimum is 1s"),
        ));
    }
    Ok(value)
}

fn opt_interval(
    d: &Option<Spanned<Dur>>,
    key: &str,
    at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
) -> Result<Option<(Duration, std::ops::Range<usize>)>, ConfigError> {
    d.as_ref()
        .map(|d| check_interval(d, key, at).map(|v| (v, d.span())))
        .transpose()
}

/// `min_interval` and `max_interval` as written at one level (top or source), with where.
struct Bounds {
    min: Option<(Duration, std::ops::Range<usize>)>,
    max: Option<(Duration, std::ops::Range<usize>)>,
}

impl Bounds {
    /// The bounds written at one level must hold with the interval of that level.
    fn check(
        &self,
        interval: Duration,
        prefix: &str,
        at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        let show = |d: Duration| humantime::format_duration(d).to_string();
        if let Some((min, span)) = &self.min {
            if *min > interval {
                return Err(at(
                    Some(span.clone()),
                    Some(format!("{prefix}min_interval")),
                    format!(
                        "min_interval {} is longer than the interval {}; it must be at most the interval",
                        show(*min),
                        show(interval)
                    ),
                ));
            }
        }
        if let Some((max, span)) = &self.max {
            if *max < interval {
                return Err(at(
                    Some(span.clone()),
                    Some(format!("{prefix}max_interval")),
                    format!(
                        "max_interval {} is shorter than the interval {}; it must be at least the interval",
                        show(*max),
                        show(interval)
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn schedule_settings(
    raw: &RawConfig,
    at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
) -> Result<ScheduleSettings, ConfigError> {
    let d = ScheduleSettings::default();
    let jitter = match &raw.jitter {
        Some(j) if !(0.0..=0.5).contains(j.get_ref()) => {
            return Err(at(
                Some(j.span()),
                Some("jitter".into()),
                format!(
                    "jitter {} is out of range; write a fraction of the interval from 0 to 0.5 (0.1 moves each check by up to a tenth)",
                    j.get_ref()
                ),
            ))
        }
        Some(j) => *j.get_ref(),
        None => d.jitter,
    };
    let fail_after = match &raw.fail_after {
        Some(n) if *n.get_ref() == 0 => return Err(at(
            Some(n.span()),
            Some("fail_after".into()),
            "fail_after must be at least 1 (failed polls in a row before a source_failing alert)"
                .into(),
        )),
        Some(n) => *n.get_ref(),
        None => d.fail_after,
    };
    Ok(ScheduleSettings {
        adaptive: raw.adaptive.unwrap_or(d.adaptive),
        jitter,
        max_backoff: match &raw.max_backoff {
            Some(b) => check_interval(b, "max_backoff", at)?,
            None => d.max_backoff,
        },
        fail_after,
        lease: match &raw.lease {
            Some(l) => Some(check_interval(l, "lease", at)?),
            None => None,
        },
    })
}

/// Checks what serde cannot: a topic must be able to match something.
fn validate_topic(t: &Topic) -> Option<(&'static str, String)> {
    if t.id.trim().is_empty() {
        return Some(("id", "a topic id must not be empty".into()));
    }
    if t.terms.iter().all(|s| s.trim().is_empty()) && t.near.is_empty() {
        return Some((
            "terms",
            format!(
                "topic {:?} has no terms and no near groups, so it can never match",
                t.id
            ),
        ));
    }
    if t.near.iter().any(|g| g.iter().all(|s| s.trim().is_empty())) {
        return Some(("near", format!("topic {:?} has an empty near group", t.id)));
    }
    if !t.near.is_empty() && t.window == 0 {
        return Some((
            "window",
            format!("topic {:?}: window must be at least 1", t.id),
        ));
    }
    for m in &t.measures {
        if m.name.trim().is_empty() || m.words.iter().all(|w| w.trim().is_empty()) {
            return Some((
                "measures",
                format!(
                    "topic {:?}: every measure needs a name and at least one word",
                    t.id
                ),
            ));
        }
    }
    None
}

/// Finds `key =` in the table that starts at `span`, to point an error at it. The table
/// runs to the next `[header]` line (the span toml reports may cover the header only).
fn find_key(text: &str, span: std::ops::Range<usize>, key: &str) -> Option<usize> {
    let rest = text.get(span.start..)?;
    let first_line = rest.find('\n').map_or(rest.len(), |i| i + 1);
    let end = rest[first_line..]
        .match_indices('\n')
        .map(|(i, _)| first_line + i + 1)
        .find(|&i| rest[i..].trim_start().starts_with('['))
        .unwrap_or(rest.len());
    let span = span.start..span.start + end;
    let region = text.get(span.clone())?;
    let mut offset = 0;
    for line in region.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return Some(span.start + offset + (line.len() - trimmed.len()));
            }
        }
        offset += line.len();
    }
    None
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |nl| nl + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests;

mod paths;
mod recheck;
mod sinks;
pub use paths::{Places, SecretFile};
pub(crate) use sinks::host_only;
pub use sinks::{AlertSettings, SinkConfig, SinkTarget, WebhookFormat, ALERT_KINDS};
