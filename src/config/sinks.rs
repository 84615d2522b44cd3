//! `[alerts]` and `[[alerts.sinks]]`: where alerts are delivered, and how persistently.
//!
//! Each sink is checked here, once, with the key and line of any mistake. Secrets (a webhook's
//! signing secret, an SMTP password) are never part of the configuration: only the path of the
//! file that holds them is, and they are read when a message is sent.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;
use url::Url;

use super::{find_key, ConfigError, Dur};

/// Every kind of alert a sink can ask for with `kinds`.
pub const ALERT_KINDS: &[&str] = &[
    "new_figure",
    "figure_changed",
    "source_failing",
    "source_recovered",
];

/// How alerts leave figwatch.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// How long `figwatch --poll` keeps delivering after its pass before it leaves the rest
    /// in the outbox for the next run.
    pub delivery_timeout: Duration,
    /// The wait after a first failed delivery; it doubles per failure up to `retry_max`.
    pub retry_initial: Duration,
    /// The longest wait between two attempts.
    pub retry_max: Duration,
    /// Where alerts go, in the file's order.
    pub sinks: Vec<SinkConfig>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            delivery_timeout: Duration::from_secs(30),
            retry_initial: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            sinks: Vec::new(),
        }
    }
}

/// One configured sink.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkConfig {
    /// What the outbox tracks the sink under: `name` when given, otherwise its type and a
    /// hash of its target, so that a restart finds its undelivered alerts again.
    pub key: String,
    /// How logs and `check-config` name it; never holds a secret (a webhook URL's path can be
    /// one, so only its host is shown).
    pub label: String,
    /// Only these topics' alerts (empty: all). Source alerts have no topic, so a sink with
    /// `topics` does not get them.
    pub topics: Vec<String>,
    /// Only these kinds of alert (empty: all).
    pub kinds: Vec<String>,
    /// Collect alerts for this long, then send them as one message.
    pub digest: Option<Duration>,
    /// The longest one delivery may take.
    pub timeout: Duration,
    /// Where it sends.
    pub target: SinkTarget,
}

impl SinkConfig {
    /// Whether an alert of `kind` about `topic` goes to this sink.
    pub fn wants(&self, kind: &str, topic: Option<&str>) -> bool {
        let kind_ok = self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind);
        let topic_ok =
            self.topics.is_empty() || topic.is_some_and(|t| self.topics.iter().any(|x| x == t));
        kind_ok && topic_ok
    }
}

/// Where a sink sends alerts.
#[derive(Debug, Clone, PartialEq)]
pub enum SinkTarget {
    /// JSON Lines appended to a file.
    /// Appends to a JSON Lines file.
    Log {
        /// The file.
        path: PathBuf,
    },
    /// POSTs JSON to a URL.
    Webhook {
        /// Where to (may hold a secret: never shown).
        url: Url,
        /// The body's shape: figwatch's own, Slack's or Discord's.
        format: WebhookFormat,
        /// Holds the HMAC-SHA256 key that signs each body.
        secret_file: Option<super::SecretFile>,
    },
    /// A program run with the alert JSON on standard input; no shell.
    /// Runs a program (no shell) with the alerts on its standard input.
    Command {
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
    },
    /// Sends an email through an SMTP server.
    Email {
        /// `smtps://host[:465]` (TLS), `smtp://host[:587]` (STARTTLS, required), with
        /// `?tls=opportunistic` or `?tls=none` for relays that cannot do better. A user name
        /// may be given in the URL; the password never is.
        smtp_url: Url,
        /// The sender's address.
        from: String,
        /// The recipients.
        to: Vec<String>,
        /// Where the SMTP password is read from (else `$FIGWATCH_SMTP_PASSWORD`).
        password_file: Option<super::SecretFile>,
    },
}

/// The shape of a webhook's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// The alert as `figwatch alerts --json` prints it (a digest: `{"id", "alerts": [...]}`).
    Generic,
    /// `{"text": ...}` for a Slack incoming webhook.
    Slack,
    /// `{"content": ...}` for a Discord webhook.
    Discord,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlerts {
    delivery_timeout: Option<Dur>,
    retry_initial: Option<Dur>,
    retry_max: Option<Dur>,
    #[serde(default)]
    sinks: Vec<Spanned<RawSink>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSink {
    #[serde(rename = "type")]
    kind: String,
    name: Option<String>,
    #[serde(default)]
    topics: Vec<String>,
    #[serde(default)]
    kinds: Vec<String>,
    digest: Option<Dur>,
    timeout: Option<Dur>,
    path: Option<String>,
    url: Option<String>,
    format: Option<String>,
    secret_file: Option<String>,
    program: Option<String>,
    args: Option<Vec<String>>,
    smtp_url: Option<String>,
    from: Option<String>,
    to: Option<OneOrMany>,
    password_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

type At<'a> = &'a dyn Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError;

/// Reads `[alerts]`, with `alert_log` (the older shorthand) as one more log sink.
pub(super) fn alert_settings(
    raw: &RawAlerts,
    alert_log: Option<&str>,
    places: &super::Places,
    topic_ids: &[&str],
    text: &str,
    at: At<'_>,
) -> Result<AlertSettings, ConfigError> {
    let d = AlertSettings::default();
    let mut settings = AlertSettings {
        delivery_timeout: raw.delivery_timeout.map_or(d.delivery_timeout, |v| v.0),
        retry_initial: raw.retry_initial.map_or(d.retry_initial, |v| v.0),
        retry_max: raw.retry_max.map_or(d.retry_max, |v| v.0),
        sinks: Vec::new(),
    };
    if settings.retry_initial.is_zero() {
        return Err(at(
            None,
            Some("alerts.retry_initial".into()),
            "must be longer than zero".into(),
        ));
    }
    settings.retry_max = settings.retry_max.max(settings.retry_initial);
    if let Some(path) = alert_log {
        settings.sinks.push(log_sink(path, places, None));
    }
    for (i, spanned) in raw.sinks.iter().enumerate() {
        let span = spanned.span();
        let fail = |key: &str, message: String| {
            let start = find_key(text, span.clone(), key).unwrap_or(span.start);
            at(
                Some(start..start),
                Some(format!("alerts.sinks[{i}].{key}")),
                message,
            )
        };
        let sink = sink(spanned.get_ref(), topic_ids, places, &fail)?;
        if let Some(other) = settings.sinks.iter().find(|s| s.key == sink.key) {
            return Err(fail(
                "type",
                format!(
                    "this sink is configured twice ({}); remove one, or give each its own `name`",
                    other.label
                ),
            ));
        }
        settings.sinks.push(sink);
    }
    Ok(settings)
}

/// A log sink at `written` (relative to the state folder). Its key is of the path as written,
/// so that the outbox of a sink configured before paths were resolved is kept.
fn log_sink(written: &str, places: &super::Places, name: Option<&str>) -> SinkConfig {
    let path = places.state(written);
    let label = format!("log {}", path.display());
    SinkConfig {
        key: key(name, "log", written),
        label,
        topics: Vec::new(),
        kinds: Vec::new(),
        digest: None,
        timeout: Duration::from_secs(10),
        target: SinkTarget::Log { path },
    }
}

fn key(name: Option<&str>, kind: &str, target: &str) -> String {
    match name {
        Some(n) => format!("{kind}:{n}"),
        None => {
            let hash = Sha256::digest(target.as_bytes());
            format!("{kind}:{}", crate::feed::hex(&hash[..8]))
        }
    }
}

fn sink(
    raw: &RawSink,
    topic_ids: &[&str],
    places: &super::Places,
    fail: &dyn Fn(&str, String) -> ConfigError,
) -> Result<SinkConfig, ConfigError> {
    let kind = raw.kind.as_str();
    // Keys of another type are refused rather than ignored: a `url` on a log sink is a typo
    // the user wants to hear about.
    let allowed: &[&str] = match kind {
        "log" => &["path"],
        "webhook" => &["url", "format", "secret_file"],
        "command" => &["program", "args"],
        "email" => &["smtp_url", "from", "to", "password_file"],
        other => {
            return Err(fail(
                "type",
                format!(
                "unknown sink type {other:?}; use \"log\", \"webhook\", \"command\" or \"email\""
            ),
            ))
        }
    };
    let given = [
        ("path", raw.path.is_some()),
        ("url", raw.url.is_some()),
        ("format", raw.format.is_some()),
        ("secret_file", raw.secret_file.is_some()),
        ("program", raw.program.is_some()),
        ("args", raw.args.is_some()),
        ("smtp_url", raw.smtp_url.is_some()),
        ("from", raw.from.is_some()),
        ("to", raw.to.is_some()),
        ("password_file", raw.password_file.is_some()),
    ];
    if let Some((k, _)) = given.iter().find(|(k, set)| *set && !allowed.contains(k)) {
        return Err(fail(
            k,
            format!(
                "`{k}` is not a key of a {kind} sink (its keys: {})",
                allowed.join(", ")
            ),
        ));
    }
    let required = |k: &str, v: &Option<String>| -> Result<String, ConfigError> {
        v.clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| fail("type", format!("a {kind} sink needs `{k}`")))
    };
    // A file is checked now so that a typo shows at start, not at the first alert (a
    // credential when it is used); either is read again at each delivery, so that a rotated
    // secret is picked up.
    let file = |k: &str, v: &Option<String>| -> Result<Option<super::SecretFile>, ConfigError> {
        v.as_deref()
            .map(|p| super::SecretFile::parse(p, places))
            .transpose()
            .map_err(|e| fail(k, e))
    };
    for t in &raw.topics {
        if !topic_ids.contains(&t.as_str()) {
            return Err(fail(
                "topics",
                format!(
                    "no topic has the id {t:?}; configured: {}",
                    topic_ids.join(", ")
                ),
            ));
        }
    }
    for k in &raw.kinds {
        if !ALERT_KINDS.contains(&k.as_str()) {
            return Err(fail(
                "kinds",
                format!("unknown alert kind {k:?}; use {}", ALERT_KINDS.join(", ")),
            ));
        }
    }
    let name = raw.name.as_deref().filter(|n| !n.trim().is_empty());
    let (key, label, target) = match kind {
        "log" => {
            let s = log_sink(&required("path", &raw.path)?, places, name);
            (s.key, s.label, s.target)
        }
        "webhook" => {
            let text = required("url", &raw.url)?;
            let url = Url::parse(&text)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .ok_or_else(|| {
                    fail(
                        "url",
                        format!(
                            "invalid webhook URL ({}); it must be an http(s) URL",
                            host_only(&text)
                        ),
                    )
                })?;
            let format = match raw.format.as_deref().unwrap_or("generic") {
                "generic" => WebhookFormat::Generic,
                "slack" => WebhookFormat::Slack,
                "discord" => WebhookFormat::Discord,
                other => {
                    return Err(fail(
                        "format",
                        format!("unknown webhook format {other:?}; use \"generic\", \"slack\" or \"discord\""),
                    ))
                }
            };
            // A webhook URL often is the secret (Slack, Discord): show its host only.
            let label = format!(
                "webhook {}://{}{}/…",
                url.scheme(),
                url.host_str().unwrap_or_default(),
                url.port().map(|p| format!(":{p}")).unwrap_or_default()
            );
            (
                key(name, "webhook", url.as_str()),
                label,
                SinkTarget::Webhook {
                    url,
                    format,
                    secret_file: file("secret_file", &raw.secret_file)?,
                },
            )
        }
        "command" => {
            let program = required("program", &raw.program)?;
            let args = raw.args.clone().unwrap_or_default();
            let target = std::iter::once(program.as_str())
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join("\0");
            (
                key(name, "command", &target),
                format!("command {program}"),
                SinkTarget::Command { program, args },
            )
        }
        _ => {
            let text = required("smtp_url", &raw.smtp_url)?;
            let smtp_url = smtp_url(&text).map_err(|m| fail("smtp_url", m))?;
            let from = required("from", &raw.from)?;
            mailbox(&from).map_err(|m| fail("from", m))?;
            let to = match &raw.to {
                Some(OneOrMany::One(s)) => vec![s.clone()],
                Some(OneOrMany::Many(v)) => v.clone(),
                None => Vec::new(),
            };
            if to.is_empty() {
                return Err(fail("type", "an email sink needs `to`".into()));
            }
            for address in &to {
                mailbox(address).map_err(|m| fail("to", m))?;
            }
            let label = format!(
                "email to {} via {}",
                to.join(", "),
                smtp_url.host_str().unwrap_or_default()
            );
            (
                key(name, "email", &format!("{smtp_url} {}", to.join(","))),
                label,
                SinkTarget::Email {
                    smtp_url,
                    from,
                    to,
                    password_file: file("password_file", &raw.password_file)?,
                },
            )
        }
    };
    Ok(SinkConfig {
        key,
        label: name.map_or(label.clone(), |n| format!("{n} ({label})")),
        topics: raw.topics.clone(),
        kinds: raw.kinds.clone(),
        digest: raw.digest.map(|d| d.0).filter(|d| !d.is_zero()),
        timeout: raw.timeout.map_or(Duration::from_secs(10), |d| d.0),
        target,
    })
}

/// What a message may show of a sink URL, valid or not: its host at most. The path of a Slack
/// or Discord webhook, and the user and password of an SMTP URL, are secrets that must not
/// reach a terminal or the journal.
pub(crate) fn host_only(text: &str) -> String {
    let after_scheme = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = after_scheme
        .split(['/', '?', '#', '\\'])
        .next()
        .unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let clean = !host.is_empty()
        && text.contains("://")
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if clean {
        format!("host {host}")
    } else {
        "the URL is not shown".to_string()
    }
}

fn smtp_url(text: &str) -> Result<Url, String> {
    let url =
        Url::parse(text).map_err(|e| format!("invalid SMTP URL ({}): {e}", host_only(text)))?;
    if !matches!(url.scheme(), "smtp" | "smtps") || url.host().is_none() {
        return Err(format!(
            "invalid SMTP URL ({}); write it like \"smtps://mail.example.org\" (TLS) or \"smtp://mail.example.org:587\" (STARTTLS)",
            host_only(text)
        ));
    }
    if url.password().is_some() {
        return Err("the SMTP URL holds a password; put it in `password_file` or in $FIGWATCH_SMTP_PASSWORD instead, so that it stays out of the configuration".into());
    }
    for (k, v) in url.query_pairs() {
        if k != "tls" || !matches!(v.as_ref(), "required" | "opportunistic" | "none") {
            return Err(format!(
                "unknown SMTP URL option {k:?} (its value is not shown); the only one is tls=required|opportunistic|none"
            ));
        }
    }
    Ok(url)
}

fn mailbox(text: &str) -> Result<(), String> {
    lettre::message::Mailbox::from_str(text)
        .map(|_| ())
        .map_err(|e| format!("invalid email address {text:?}: {e}"))
}
