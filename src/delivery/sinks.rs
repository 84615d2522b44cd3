//! Sending a batch of alerts (one alert, or a digest) to one sink. Every failure comes back as
//! one line that says what went wrong and never holds a secret; the outbox decides when to try
//! again.

use std::process::Stdio;
use std::str::FromStr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::alerts::{text, AlertLog, AnyAlert};
use crate::config::SecretFile;
use crate::config::{SinkConfig, SinkTarget, WebhookFormat};

/// Why a sink did not take a batch. The message is one line that never holds a secret (a
/// webhook's URL can be one, so it is left out); the cause is kept as the error's source.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Writing the log failed.
    #[error("cannot write the alert log: {0}")]
    Log(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The blocking task writing the log ended without an answer.
    #[error("the alert log's writer stopped: {0}")]
    Stopped(#[source] tokio::task::JoinError),
    /// The alerts could not be written as JSON.
    #[error("cannot encode the alerts: {0}")]
    Encode(#[from] serde_json::Error),
    /// A `credential:` secret outside systemd.
    #[error("{0}")]
    Credential(String),
    /// The secret's file could not be read.
    #[error("cannot read the secret {file} ({}): {source}", .path.display())]
    SecretUnreadable {
        /// The secret as configured (`credential:NAME` or the path).
        file: String,
        /// Where it was looked for.
        path: std::path::PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// The secret's file holds nothing.
    #[error("the secret {0} is empty")]
    SecretEmpty(String),
    /// The webhook could not be reached (the cause without the URL).
    #[error("cannot reach the webhook: {}", error_chain(.0))]
    Unreachable(#[source] reqwest::Error),
    /// The webhook answered with an error status.
    #[error("the webhook answered HTTP {status}{}", colon(.said))]
    Rejected {
        /// Its status.
        status: reqwest::StatusCode,
        /// The start of its answer, on one line.
        said: String,
    },
    /// The command could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why it could not be started.
        #[source]
        source: std::io::Error,
    },
    /// The command ran past the sink's timeout and was stopped.
    #[error("{program} did not finish within {}; it was stopped with the processes it started", humantime::format_duration(*.after))]
    Timeout {
        /// The program.
        program: String,
        /// How long it was given.
        after: Duration,
    },
    /// Waiting for the command failed.
    #[error("{program}: {source}")]
    Wait {
        /// The program.
        program: String,
        /// Why waiting failed.
        #[source]
        source: std::io::Error,
    },
    /// The command exited with a failure.
    #[error("{program} failed ({status}){}", colon(.said))]
    Failed {
        /// The program.
        program: String,
        /// How it exited.
        status: std::process::ExitStatus,
        /// The last line it wrote to standard error.
        said: String,
    },
    /// An email address of the sink is not one.
    #[error("invalid {which} address: {source}")]
    Address {
        /// `from` or `to`.
        which: &'static str,
        /// Why it is not an address.
        #[source]
        source: lettre::address::AddressError,
    },
    /// The message could not be built.
    #[error("cannot build the email: {0}")]
    Message(#[source] lettre::error::Error),
    /// The SMTP server refused or could not be reached.
    #[error("SMTP server {host}: {}", error_chain(.source))]
    Smtp {
        /// Its host.
        host: String,
        /// What failed.
        #[source]
        source: lettre::transport::smtp::Error,
    },
    /// The SMTP URL names a user and no password is given.
    #[error("the SMTP URL names user {user:?} but no password is set: give `password_file` or $FIGWATCH_SMTP_PASSWORD")]
    NoPassword {
        /// The user the URL names.
        user: String,
    },
}

/// ": what it said", or nothing.
fn colon(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// Where the SMTP password is read from when no `password_file` is set.
pub const SMTP_PASSWORD_ENV: &str = "FIGWATCH_SMTP_PASSWORD";

/// The header that carries the HMAC-SHA256 of a webhook body, as `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Figwatch-Signature";
/// The header that carries the ids of the alerts in a webhook body, comma-separated.
pub const ALERT_IDS_HEADER: &str = "X-Figwatch-Alert-Ids";

/// Discord refuses longer messages.
const DISCORD_MAX: usize = 2000;

/// One sink, ready to send.
pub struct Sender {
    /// The sink it sends to.
    pub config: SinkConfig,
    http: reqwest::Client,
}

impl Sender {
    /// A sender for `config`; a webhook goes through `proxy` as fetches do (none by default:
    /// proxy variables in the environment are ignored).
    pub fn new(
        config: SinkConfig,
        user_agent: &str,
        proxy: &crate::config::ProxySetting,
    ) -> anyhow::Result<Sender> {
        // A webhook that redirects is misconfigured: following it would turn the POST into a
        // GET, or send the alert somewhere the user did not name.
        let builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none());
        let route = crate::fetch::proxy::Route::of(proxy)
            .map_err(|e| anyhow::anyhow!("[fetch] proxy: {e}"))?;
        let http = route.apply(builder)?.build()?;
        Ok(Sender { config, http })
    }

    /// Sends `batch` as one message (a digest when it holds more than one alert). `retry`: some
    /// of it was claimed before by a process that did not record the outcome; a log then
    /// skips the alerts it already holds (other sinks get them again, with the same ids).
    pub async fn send(&self, batch: &[AnyAlert], retry: bool) -> Result<(), SendError> {
        if batch.is_empty() {
            return Ok(());
        }
        match &self.config.target {
            SinkTarget::Log { path } => {
                let log = AlertLog::new(path);
                let batch = batch.to_vec();
                let wait = self.config.timeout;
                tokio::task::spawn_blocking(move || {
                    let written = if retry {
                        log.written(&batch.iter().map(AnyAlert::id).collect::<Vec<_>>())
                    } else {
                        Default::default()
                    };
                    let fresh: Vec<&AnyAlert> =
                        batch.iter().filter(|a| !written.contains(a.id())).collect();
                    log.append(&fresh, wait)
                })
                .await
                .map_err(SendError::Stopped)?
                .map_err(|e| SendError::Log(e.into()))
            }
            SinkTarget::Webhook {
                url,
                format,
                secret_file,
            } => {
                self.webhook(url, *format, secret_file.as_ref(), batch)
                    .await
            }
            SinkTarget::Command { program, args } => {
                command(program, args, self.config.timeout, batch).await
            }
            SinkTarget::Email {
                smtp_url,
                from,
                to,
                password_file,
            } => {
                email(
                    smtp_url,
                    from,
                    to,
                    password_file.as_ref(),
                    self.config.timeout,
                    batch,
                )
                .await
            }
        }
    }

    async fn webhook(
        &self,
        url: &url::Url,
        format: WebhookFormat,
        secret_file: Option<&SecretFile>,
        batch: &[AnyAlert],
    ) -> Result<(), SendError> {
        let body = serde_json::to_vec(&webhook_body(format, batch))?;
        let ids: Vec<&str> = batch.iter().map(AnyAlert::id).collect();
        let mut request = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(ALERT_IDS_HEADER, ids.join(","));
        if let Some(path) = secret_file {
            let secret = read_secret(path)?;
            request = request.header(SIGNATURE_HEADER, signature(secret.as_bytes(), &body));
        }
        let mut response = request
            .body(body)
            .send()
            .await
            // The URL can be the secret itself (Slack, Discord): keep it out of the message.
            .map_err(|e| SendError::Unreachable(e.without_url()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // The start of the answer says why; the rest is not read (it could be endless).
        let mut head = Vec::new();
        while head.len() < 4096 {
            match response.chunk().await {
                Ok(Some(bytes)) => head.extend_from_slice(&bytes),
                _ => break,
            }
        }
        let text: String = String::from_utf8_lossy(&head)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(200)
            .collect();
        Err(SendError::Rejected { status, said: text })
    }
}

/// The JSON a webhook or a command receives. A single alert is sent as it is stored (with its
/// stable `id`); a digest as `{"id", "alerts"}`, its id derived from the alerts' ids.
pub fn payload(batch: &[AnyAlert]) -> serde_json::Value {
    match batch {
        [one] => serde_json::to_value(one).unwrap_or_default(),
        many => json!({
            "id": digest_id(many),
            "alerts": many,
        }),
    }
}

fn webhook_body(format: WebhookFormat, batch: &[AnyAlert]) -> serde_json::Value {
    let message = || {
        batch
            .iter()
            .map(|a| match a {
                AnyAlert::Figure(f) => format!("{}\n{}", text::line(a), f.url),
                AnyAlert::Source(_) => text::line(a),
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    };
    let ids: Vec<&str> = batch.iter().map(AnyAlert::id).collect();
    match format {
        WebhookFormat::Generic => payload(batch),
        WebhookFormat::Slack => {
            json!({ "text": message(), "id": digest_or_id(batch), "alert_ids": ids })
        }
        WebhookFormat::Discord => {
            let mut content = message();
            if content.chars().count() > DISCORD_MAX {
                content = content.chars().take(DISCORD_MAX - 1).collect::<String>() + "…";
            }
            json!({ "content": content, "id": digest_or_id(batch), "alert_ids": ids })
        }
    }
}

fn digest_or_id(batch: &[AnyAlert]) -> String {
    match batch {
        [one] => one.id().to_string(),
        many => digest_id(many),
    }
}

/// Stable for the same set of alerts, so a digest sent twice can be recognised.
pub fn digest_id(batch: &[AnyAlert]) -> String {
    let mut ids: Vec<&str> = batch.iter().map(AnyAlert::id).collect();
    ids.sort_unstable();
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.as_bytes());
        h.update([0]);
    }
    format!("digest-{}", crate::feed::hex(&h.finalize()[..12]))
}

/// `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", crate::feed::hex(&mac.finalize().into_bytes()))
}

/// A secret, read at each use (a rotated one is picked up; a credential is checked here).
fn read_secret(file: &SecretFile) -> Result<String, SendError> {
    let path = file.location().map_err(SendError::Credential)?;
    let text = std::fs::read_to_string(&path).map_err(|source| SendError::SecretUnreadable {
        file: file.to_string(),
        path: path.clone(),
        source,
    })?;
    let secret = text.trim_end_matches(['\r', '\n']).to_string();
    if secret.is_empty() {
        return Err(SendError::SecretEmpty(file.to_string()));
    }
    Ok(secret)
}

/// An error with its causes, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s = s.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        source = std::error::Error::source(source.expect("checked"));
    }
    out
}

/// Runs `program` (no shell) with the payload on standard input. Exit status 0 is success.
async fn command(
    program: &str,
    args: &[String],
    timeout: Duration,
    batch: &[AnyAlert],
) -> Result<(), SendError> {
    let body = serde_json::to_vec(&payload(batch))?;
    let ids: Vec<&str> = batch.iter().map(AnyAlert::id).collect();
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .env("FIGWATCH_ALERT_IDS", ids.join(","))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so that a program that hangs is ended with everything it started.
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command.spawn().map_err(|source| SendError::Spawn {
        program: program.to_string(),
        source,
    })?;
    let group = child.id();
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let run = async {
        // A program that exits without reading its input is its own business: what counts is
        // its exit status.
        let _ = stdin.write_all(&body).await;
        drop(stdin);
        child.wait_with_output().await
    };
    let output = tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| {
            end_group(group);
            SendError::Timeout {
                program: program.to_string(),
                after: timeout,
            }
        })?
        .map_err(|source| SendError::Wait {
            program: program.to_string(),
            source,
        })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.trim().lines().last().unwrap_or("").trim();
    Err(SendError::Failed {
        program: program.to_string(),
        status: output.status,
        said: last.to_string(),
    })
}

/// Kills every process of a command sink's process group (the group's id is its leader's).
fn end_group(group: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = group.and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 1) {
        // SAFETY: kill(2) with a negative pid signals a process group; it touches no memory.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = group;
}

/// Sends the batch as one plain-text email.
async fn email(
    smtp_url: &url::Url,
    from: &str,
    to: &[String],
    password_file: Option<&SecretFile>,
    timeout: Duration,
    batch: &[AnyAlert],
) -> Result<(), SendError> {
    use lettre::message::{header::ContentType, Mailbox};
    use lettre::{AsyncTransport, Message};

    let mut message = Message::builder()
        .from(
            Mailbox::from_str(from).map_err(|source| SendError::Address {
                which: "from",
                source,
            })?,
        )
        .subject(text::subject(batch))
        .header(ContentType::TEXT_PLAIN);
    for address in to {
        message = message.to(
            Mailbox::from_str(address).map_err(|source| SendError::Address {
                which: "to",
                source,
            })?,
        );
    }
    let message = message
        .body(text::body(batch))
        .map_err(SendError::Message)?;
    let transport = smtp_transport(smtp_url, password_file, timeout)?;
    let host = smtp_url.host_str().unwrap_or_default();
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|source| SendError::Smtp {
            host: host.to_string(),
            source,
        })
}

fn smtp_transport(
    url: &url::Url,
    password_file: Option<&SecretFile>,
    timeout: Duration,
) -> Result<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>, SendError> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    use lettre::AsyncSmtpTransport as T;

    let host = url.host_str().unwrap_or_default();
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map_or("required".to_string(), |(_, v)| v.into_owned());
    let fail = |source| SendError::Smtp {
        host: host.to_string(),
        source,
    };
    let mut builder = match (url.scheme(), tls.as_str()) {
        ("smtps", _) => T::<lettre::Tokio1Executor>::relay(host).map_err(fail)?,
        (_, "none") => T::<lettre::Tokio1Executor>::builder_dangerous(host).port(25),
        (_, "opportunistic") => T::<lettre::Tokio1Executor>::builder_dangerous(host)
            .port(587)
            .tls(Tls::Opportunistic(
                TlsParameters::new(host.to_string()).map_err(fail)?,
            )),
        _ => T::<lettre::Tokio1Executor>::starttls_relay(host).map_err(fail)?,
    };
    if let Some(port) = url.port() {
        builder = builder.port(port);
    }
    if !url.username().is_empty() {
        let user = percent_encoding::percent_decode_str(url.username())
            .decode_utf8_lossy()
            .into_owned();
        let password = match password_file {
            Some(path) => read_secret(path)?,
            None => std::env::var(SMTP_PASSWORD_ENV)
                .map_err(|_| SendError::NoPassword { user: user.clone() })?,
        };
        builder = builder.credentials(Credentials::new(user, password));
    }
    Ok(builder.timeout(Some(timeout)).build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::{SourceAlert, SourceAlertKind};

    fn source_alert(source: &str) -> AnyAlert {
        let mut a = SourceAlert::new(
            SourceAlertKind::SourceFailing,
            source,
            "2026-11-27T10:00:00.000Z",
        );
        a.failures = 10;
        a.error = Some("HTTP 503".into());
        AnyAlert::Source(a)
    }

    #[test]
    fn chat_formats_carry_the_text_and_the_ids() {
        let one = [source_alert("https://a.example/rss")];
        let slack = webhook_body(WebhookFormat::Slack, &one);
        assert!(slack["text"]
            .as_str()
            .unwrap()
            .contains("10 polls in a row failed"));
        assert_eq!(slack["id"], one[0].id());
        let generic = webhook_body(WebhookFormat::Generic, &one);
        assert_eq!(generic["id"], one[0].id());
        assert_eq!(generic["kind"], "source_failing");

        let many: Vec<AnyAlert> = (0..200)
            .map(|i| source_alert(&format!("https://a{i}.example/rss")))
            .collect();
        let discord = webhook_body(WebhookFormat::Discord, &many);
        let content = discord["content"].as_str().unwrap();
        assert!(content.chars().count() <= DISCORD_MAX, "Discord's limit");
        assert!(content.ends_with('…'));
        assert_eq!(discord["alert_ids"].as_array().unwrap().len(), 200);
    }

    #[test]
    fn a_digest_id_depends_on_its_alerts_not_their_order() {
        let a = source_alert("https://a.example/rss");
        let b = source_alert("https://b.example/rss");
        let ab = digest_id(&[a.clone(), b.clone()]);
        assert_eq!(ab, digest_id(&[b.clone(), a.clone()]));
        assert_ne!(ab, digest_id(std::slice::from_ref(&a)));
        let body = payload(&[a, b]);
        assert_eq!(body["id"], ab);
        assert_eq!(body["alerts"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
