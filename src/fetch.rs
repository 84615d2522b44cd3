//! HTTP fetching: one client for the whole process, and every failure turned into one named
//! error that says which URL failed and how.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, CONTENT_TYPE, ETAG, LAST_MODIFIED};
use reqwest::StatusCode;
use url::Url;

use crate::config::FetchSettings;

pub mod hints;
pub mod host;
pub mod proxy;
pub mod ssrf;

pub use host::{HostLimiter, HostTurn, Reserving, SharedHosts};
pub use ssrf::AddressPolicy;

/// What identifies the version of a response we hold, for a conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` the server sent.
    pub etag: Option<String>,
    /// The `Last-Modified` the server sent.
    pub last_modified: Option<String>,
}

impl Validators {
    fn from_headers(headers: &HeaderMap) -> Validators {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        Validators {
            etag: text(ETAG),
            last_modified: text(LAST_MODIFIED),
        }
    }

    /// Whether there is nothing to send a conditional request with.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The answer to a conditional GET. (Boxing the body would buy nothing: one answer at a time
/// exists per request.)
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Conditional {
    /// A body: new, or the server does not do conditional requests.
    Changed(Fetched),
    /// 304: what we hold is current. Carries the server's freshness hint.
    /// The server answered 304; fresh for as long as it said.
    NotModified {
        /// How long the server says it stays fresh.
        fresh_for: Option<Duration>,
    },
}

/// A successful response, its body read in full (within `max_body`).
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL after redirects.
    pub url: Url,
    /// The HTTP status.
    pub status: u16,
    /// The media type without parameters, lower case (`text/html`), if the server sent one.
    pub media_type: Option<String>,
    /// The `charset` parameter of `Content-Type`, if any.
    pub charset: Option<String>,
    /// The body, decompressed, at most `max_body` bytes.
    pub body: Vec<u8>,
    /// `ETag` and `Last-Modified`, to send back next time.
    pub validators: Validators,
    /// How long the server says the response stays fresh (`max-age`, `Expires`).
    pub fresh_for: Option<Duration>,
}

/// Why a fetch failed. Every variant names the URL, so a line in the log is enough to act on.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No answer in time.
    #[error("{url}: timed out after {after:?} (raise [fetch] timeout if the server is just slow)")]
    Timeout {
        /// The URL concerned.
        url: String,
        /// How long it was given.
        after: Duration,
    },
    /// No connection.
    #[error("{url}: cannot connect: {reason}")]
    Connect {
        /// The URL concerned.
        url: String,
        /// Why.
        reason: String,
    },
    /// More redirects than `max_redirects`.
    #[error("{url}: too many redirects (more than {limit}; raise [fetch] max_redirects if they are legitimate)")]
    Redirects {
        /// The URL concerned.
        url: String,
        /// `max_redirects`.
        limit: usize,
    },
    /// A redirect that cannot be followed.
    #[error("{url}: redirect refused: {reason}")]
    BadRedirect {
        /// The URL concerned.
        url: String,
        /// Why.
        reason: String,
    },
    /// Refused before any request: an internal address, or a scheme not fetched.
    #[error("{url}: refused: {reason}")]
    Refused {
        /// The URL concerned.
        url: String,
        /// Why.
        reason: String,
    },
    /// A 429 or 503 with `Retry-After`: the host is paused.
    #[error("{url}: the server answered HTTP {status} and asked us to wait; no request to {host} before {until}")]
    RateLimited {
        /// The URL asked for.
        url: String,
        /// 429 or 503.
        status: u16,
        /// The host now paused.
        host: String,
        /// No request to it before then.
        until: DateTime<Utc>,
    },
    /// Not requested: the host asked us to wait.
    #[error("{url}: not requested: {host} asked us to wait until {until} (Retry-After)")]
    HostPaused {
        /// The URL not asked for.
        url: String,
        /// The host that is paused.
        host: String,
        /// Until then.
        until: DateTime<Utc>,
    },
    /// An error status.
    #[error("{url}: the server answered HTTP {status}{}", reason_suffix(.reason))]
    Status {
        /// The URL asked for.
        url: String,
        /// The status.
        status: u16,
        /// The status's reason, as the server gave it.
        reason: Option<String>,
    },
    /// The body is larger than `max_body`.
    #[error("{url}: the response is larger than [fetch] max_body ({limit} bytes)")]
    TooLarge {
        /// The URL concerned.
        url: String,
        /// `max_body`, in bytes.
        limit: u64,
    },
    /// The connection failed while the body was read.
    #[error("{url}: the connection failed while reading the body: {reason}")]
    Body {
        /// The URL concerned.
        url: String,
        /// Why.
        reason: String,
    },
    /// Any other failure of the request.
    #[error("{url}: {reason}")]
    Other {
        /// The URL concerned.
        url: String,
        /// Why.
        reason: String,
    },
}

fn reason_suffix(reason: &Option<String>) -> String {
    reason
        .as_ref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default()
}

/// What figwatch reads: pages and feeds, in that order of preference.
const ACCEPT: &str = "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/feed+json,application/json;q=0.9,application/xml;q=0.9,*/*;q=0.8";

/// How long a host is left alone after a 429 that does not say (no `Retry-After`).
const DEFAULT_429_PAUSE: Duration = Duration::from_secs(60);
/// The longest `Retry-After` honoured: a server asking for a week is asked again after a day.
const MAX_PAUSE: Duration = Duration::from_secs(24 * 3600);

/// The process-wide HTTP client with figwatch's limits.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    settings: FetchSettings,
    hosts: Arc<HostLimiter>,
    policy: Arc<AddressPolicy>,
    /// True when requests may go through a proxy: targets are then resolved and checked here.
    proxied: bool,
}

/// Why a redirect was not followed.
#[derive(Debug, thiserror::Error)]
enum RedirectError {
    #[error("more than {0} redirects")]
    TooMany(usize),
    #[error("it leads back to {0}, a loop")]
    Loop(String),
    #[error("it leads to a {0}: URL; only http and https are fetched")]
    Scheme(String),
    #[error("its Location header is not a URL")]
    NotUrl,
}

/// The redirect statuses figwatch follows (all as GET: it only reads).
fn is_followed(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

impl Fetcher {
    /// A fetcher with its own per-host limits.
    pub fn new(user_agent: &str, settings: &FetchSettings) -> anyhow::Result<Fetcher> {
        let hosts = HostLimiter::new(settings.per_host_concurrency, settings.per_host_delay);
        Fetcher::with_hosts(user_agent, settings, Arc::new(hosts))
    }

    /// A fetcher that shares its politeness state with others (a configuration reloaded by
    /// the daemon keeps the pauses and delays of the one it replaces).
    pub fn with_hosts(
        user_agent: &str,
        settings: &FetchSettings,
        hosts: Arc<HostLimiter>,
    ) -> anyhow::Result<Fetcher> {
        let policy = Arc::new(AddressPolicy::new(
            settings.allow_private,
            &settings.allow_hosts,
        ));
        let route =
            proxy::Route::of(&settings.proxy).map_err(|e| anyhow::anyhow!("[fetch] proxy: {e}"))?;
        // The resolver also resolves the proxy's own name, which is the operator's and may
        // well be internal.
        let mut resolvable = settings.allow_hosts.clone();
        resolvable.extend(route.hosts());
        let builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            // Redirects are followed by `send`, which checks every hop as the first request.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(ssrf::GuardedResolver {
                policy: Arc::new(AddressPolicy::new(settings.allow_private, &resolvable)),
            });
        let client = route.apply(builder)?.build()?;
        Ok(Fetcher {
            client,
            settings: settings.clone(),
            hosts,
            policy,
            proxied: route.is_proxied(),
        })
    }

    /// The per-host limits every request goes through.
    pub fn hosts(&self) -> &Arc<HostLimiter> {
        &self.hosts
    }

    /// Fetches a URL and reads its body (see [`Fetcher::get_if_changed`]).
    pub async fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        match self.get_if_changed(url, &Validators::default()).await? {
            Conditional::Changed(f) => Ok(f),
            // Only a conditional request can be answered 304; treat a stray one as an error.
            Conditional::NotModified { .. } => Err(FetchError::Status {
                url: url.to_string(),
                status: 304,
                reason: Some("Not Modified, to a request that was not conditional".into()),
            }),
        }
    }

    /// Fetches a URL unless it is unchanged since `validators` were given, waiting for the
    /// host's turn first. Bodies over `max_body` are refused while they stream in (a lying
    /// `Content-Length` or none at all cannot make us buffer more). A 429 or 503 pauses the
    /// whole host for its `Retry-After`.
    pub async fn get_if_changed(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<Conditional, FetchError> {
        let name = url.to_string();
        self.check_target(url, &name).await?;
        let host = url.host_str().unwrap_or_default().to_string();
        let _permit = self
            .hosts
            .acquire(&host)
            .await
            .map_err(|until| FetchError::HostPaused {
                url: name.clone(),
                host: host.clone(),
                until,
            })?;
        // Timed from here (the host's turn has come) to whatever return: the histogram is of
        // the servers' answers, not of our politeness.
        let _timer = FetchTimer(std::time::Instant::now());
        let mut response = self.send(url, validators, &name).await?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED && !validators.is_empty() {
            return Ok(Conditional::NotModified {
                fresh_for: hints::fresh_for(response.headers()),
            });
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            let now = Utc::now();
            let asked = hints::retry_after(response.headers(), now);
            let pause = match asked {
                Some(at) => {
                    Some(at.min(now + chrono::Duration::from_std(MAX_PAUSE).expect("small")))
                }
                None if status == StatusCode::TOO_MANY_REQUESTS => {
                    Some(now + chrono::Duration::from_std(DEFAULT_429_PAUSE).expect("small"))
                }
                // A 503 that names no time is an ordinary failure, backed off per source.
                None => None,
            };
            if let Some(until) = pause.filter(|u| *u > now) {
                self.hosts.pause(&host, until);
                return Err(FetchError::RateLimited {
                    url: name,
                    status: status.as_u16(),
                    host,
                    until,
                });
            }
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: name,
                status: status.as_u16(),
                reason: status.canonical_reason().map(str::to_string),
            });
        }
        let limit = self.settings.max_body;
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge { url: name, limit });
        }
        let final_url = response.url().clone();
        let (media_type, charset) = content_type(response.headers());
        let validators = Validators::from_headers(response.headers());
        let fresh_for = hints::fresh_for(response.headers());
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.len() as u64 > limit {
                        return Err(FetchError::TooLarge { url: name, limit });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => {
                    return Err(FetchError::Timeout {
                        url: name,
                        after: self.settings.timeout,
                    })
                }
                Err(e) => {
                    return Err(FetchError::Body {
                        url: name,
                        reason: error_chain(&e),
                    });
                }
            }
        }
        Ok(Conditional::Changed(Fetched {
            url: final_url,
            status: status.as_u16(),
            media_type,
            charset,
            body,
            validators,
            fresh_for,
        }))
    }

    /// Sends the GET and follows redirects, each hop checked as the first request was: its
    /// scheme, loops, their number, and the guard against internal addresses. `timeout` is
    /// for the whole chain and the body.
    async fn send(
        &self,
        url: &Url,
        validators: &Validators,
        name: &str,
    ) -> Result<reqwest::Response, FetchError> {
        let deadline = std::time::Instant::now() + self.settings.timeout;
        let redirect = |reason: RedirectError| match reason {
            RedirectError::TooMany(limit) => FetchError::Redirects {
                url: name.to_string(),
                limit,
            },
            other => FetchError::BadRedirect {
                url: name.to_string(),
                reason: other.to_string(),
            },
        };
        let mut current = url.clone();
        let mut previous: Vec<Url> = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(FetchError::Timeout {
                    url: name.to_string(),
                    after: self.settings.timeout,
                });
            }
            let mut request = self.client.get(current.clone()).timeout(left).header(
                reqwest::header::ACCEPT,
                reqwest::header::HeaderValue::from_static(ACCEPT),
            );
            if let Some(etag) = &validators.etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &validators.last_modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, lm);
            }
            let response = request.send().await.map_err(|e| self.classify(name, e))?;
            if !is_followed(response.status()) {
                return Ok(response);
            }
            let Some(location) = response.headers().get(reqwest::header::LOCATION) else {
                return Ok(response);
            };
            let next = std::str::from_utf8(location.as_bytes())
                .ok()
                .and_then(|l| current.join(l.trim()).ok())
                .ok_or_else(|| redirect(RedirectError::NotUrl))?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(redirect(RedirectError::Scheme(next.scheme().to_string())));
            }
            previous.push(current);
            if previous.contains(&next) {
                return Err(redirect(RedirectError::Loop(next.to_string())));
            }
            if previous.len() > self.settings.max_redirects {
                return Err(redirect(RedirectError::TooMany(
                    self.settings.max_redirects,
                )));
            }
            self.check_target(&next, name).await?;
            current = next;
        }
    }

    /// The guard, before a request leaves: an IP address is checked as it is; a name is
    /// checked by the resolver when connecting directly, but through a proxy figwatch never
    /// resolves it, so it is resolved and checked here, and refused if any of its addresses
    /// is internal (the proxy may pick any of them).
    async fn check_target(&self, url: &Url, name: &str) -> Result<(), FetchError> {
        let refused = |reason: String| FetchError::Refused {
            url: name.to_string(),
            reason,
        };
        self.policy
            .check_url(url)
            .map_err(|r| refused(r.to_string()))?;
        let (true, Some(url::Host::Domain(host))) = (self.proxied, url.host()) else {
            return Ok(());
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let wait = self.settings.timeout.min(Duration::from_secs(10));
        let addrs: Vec<std::net::SocketAddr> =
            match tokio::time::timeout(wait, tokio::net::lookup_host((host, port))).await {
                Ok(Ok(addrs)) => addrs.collect(),
                Ok(Err(e)) => return Err(refused(format!(
                    "cannot resolve {host} ({e}); through a proxy every target is still resolved and checked first (list the host in [fetch] allow_hosts to skip the check)"
                ))),
                Err(_) => return Err(refused(format!("resolving {host} took longer than {wait:?}"))),
            };
        self.policy
            .check_every(host, &addrs)
            .map_err(|r| refused(r.to_string()))
    }

    fn classify(&self, url: &str, e: reqwest::Error) -> FetchError {
        let url = url.to_string();
        // Our own refusals travel inside reqwest's error; find them by type.
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if let Some(r) = s.downcast_ref::<ssrf::Refused>() {
                return FetchError::Refused {
                    url,
                    reason: r.to_string(),
                };
            }
            source = s.source();
        }
        if e.is_timeout() {
            FetchError::Timeout {
                url,
                after: self.settings.timeout,
            }
        } else if e.is_redirect() {
            FetchError::Redirects {
                url,
                limit: self.settings.max_redirects,
            }
        } else if e.is_connect() {
            FetchError::Connect {
                url,
                reason: error_chain(&e),
            }
        } else {
            FetchError::Other {
                url,
                reason: error_chain(&e),
            }
        }
    }
}

/// Counts a fetch's duration in `/metrics` when dropped.
struct FetchTimer(std::time::Instant);

impl Drop for FetchTimer {
    fn drop(&mut self) {
        crate::metrics::METRICS.fetch(self.0.elapsed());
    }
}

/// The causes of a reqwest error, which say far more than its top-level message ("error
/// sending request for url (…)", which only repeats the URL we already name).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        // hyper's wrapper ("client error (Connect)") says nothing its cause does not.
        if !text.starts_with("client error (") && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.join(": ")
}

fn content_type(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return (None, None);
    };
    let mut parts = value.split(';');
    let media = parts
        .next()
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty());
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_string())
    });
    (media, charset)
}

impl Fetched {
    /// True when the body is HTML, by its declared type or, with no type, by a look at it.
    pub fn is_html(&self) -> bool {
        match self.media_type.as_deref() {
            Some("text/html" | "application/xhtml+xml") => true,
            Some(_) => false,
            None => {
                let head = String::from_utf8_lossy(&self.body[..self.body.len().min(1024)])
                    .to_ascii_lowercase();
                head.contains("<html") || head.contains("<!doctype html")
            }
        }
    }
}

#[cfg(test)]
mod tests;
