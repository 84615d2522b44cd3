//! `[fetch]` and `[schedule]`: the limits on every request, the proxy, and how polls are spaced
//! out, with their defaults.

use super::*;

/// Limits on every HTTP request figwatch makes.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// The longest a request may take, headers and body.
    pub timeout: Duration,
    /// The largest body read; a larger one is refused.
    pub max_body: u64,
    /// The most redirects followed.
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
    /// No proxy: the environment's variables are ignored.
    #[default]
    None,
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`.
    Env,
    /// This proxy for every request.
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
