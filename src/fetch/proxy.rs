//! Which proxy, if any, requests go through.
//!
//! reqwest takes `HTTP_PROXY` and `HTTPS_PROXY` from the environment by default. Through a
//! proxy, figwatch never resolves the target itself, so the guard against internal addresses
//! (which checks what a name resolves to) saw only the proxy: a feed could make the proxy
//! fetch an internal page. So proxy variables are ignored unless `[fetch] proxy` asks for a
//! proxy (a URL, or `"env"` for the variables); and through a proxy every target — the first
//! URL and each redirect — is resolved and checked here before it is handed over
//! (`Fetcher::check_target`). Sinks follow the same setting, without the guard (they are the
//! operator's own addresses).

use url::Url;

use crate::config::ProxySetting;

/// The proxies in use: for http targets, for https targets (either may be absent).
#[derive(Debug, Clone, Default)]
pub struct Route {
    http: Option<Via>,
    https: Option<Via>,
    /// `NO_PROXY`, as read from the environment (with `proxy = "env"` only).
    no_proxy: Option<String>,
}

#[derive(Clone)]
struct Via {
    url: Url,
    /// Where it came from: `[fetch] proxy`, or the variable's name.
    from: &'static str,
}

impl std::fmt::Debug for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", shown(&self.url), self.from)
    }
}

/// What a message shows of a proxy URL: scheme, host and port, never a user or password.
fn shown(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(80)
    )
}

impl Route {
    /// The route `setting` asks for; with `"env"`, the variables as they are now. A variable
    /// that is set but is no proxy URL is an error that names it.
    pub fn of(setting: &ProxySetting) -> Result<Route, String> {
        match setting {
            ProxySetting::None => Ok(Route::default()),
            ProxySetting::Url(url) => {
                let via = Via {
                    url: url.clone(),
                    from: "[fetch] proxy",
                };
                Ok(Route {
                    http: Some(via.clone()),
                    https: Some(via),
                    no_proxy: None,
                })
            }
            ProxySetting::Env => {
                let var = |names: &[&'static str]| -> Result<Option<Via>, String> {
                    for name in names {
                        match std::env::var(name) {
                            Ok(v) if !v.trim().is_empty() => {
                                let url = ProxySetting::parse_url(&v)
                                    .map_err(|e| format!("{name}: {e}"))?;
                                return Ok(Some(Via { url, from: name }));
                            }
                            _ => {}
                        }
                    }
                    Ok(None)
                };
                let all = var(&["ALL_PROXY", "all_proxy"])?;
                Ok(Route {
                    http: var(&["HTTP_PROXY", "http_proxy"])?.or_else(|| all.clone()),
                    https: var(&["HTTPS_PROXY", "https_proxy"])?.or(all),
                    no_proxy: std::env::var("NO_PROXY")
                        .or_else(|_| std::env::var("no_proxy"))
                        .ok()
                        .filter(|v| !v.trim().is_empty()),
                })
            }
        }
    }

    /// True when some request may go through a proxy.
    pub fn is_proxied(&self) -> bool {
        self.http.is_some() || self.https.is_some()
    }

    /// The proxies' host names, which the resolver must resolve even when internal (a proxy
    /// on the intranet is the usual case, and it is the operator's own).
    pub fn hosts(&self) -> Vec<String> {
        [&self.http, &self.https]
            .into_iter()
            .flatten()
            .filter_map(|v| v.url.host_str().map(str::to_string))
            .collect()
    }

    /// `builder` with this route: the proxies, or none at all (the environment ignored).
    pub fn apply(
        &self,
        mut builder: reqwest::ClientBuilder,
    ) -> reqwest::Result<reqwest::ClientBuilder> {
        builder = builder.no_proxy();
        let no_proxy = || {
            self.no_proxy
                .as_deref()
                .and_then(reqwest::NoProxy::from_string)
        };
        if let Some(v) = &self.http {
            builder = builder.proxy(reqwest::Proxy::http(v.url.as_str())?.no_proxy(no_proxy()));
        }
        if let Some(v) = &self.https {
            builder = builder.proxy(reqwest::Proxy::https(v.url.as_str())?.no_proxy(no_proxy()));
        }
        Ok(builder)
    }

    /// For `check-config`: which proxy is used, and from where.
    pub fn describe(&self) -> String {
        if !self.is_proxied() {
            return "none: requests go direct (proxy variables in the environment are ignored; [fetch] proxy = \"env\" uses them)".to_string();
        }
        let mut parts = Vec::new();
        for (targets, via) in [("http", &self.http), ("https", &self.https)] {
            if let Some(v) = via {
                parts.push(format!("{targets} through {} ({})", shown(&v.url), v.from));
            }
        }
        let mut text = parts.join(", ");
        if self.no_proxy.is_some() {
            text.push_str(", except the hosts in NO_PROXY");
        }
        text.push_str("; every target is resolved and checked here first");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_is_described_without_its_password_and_bad_urls_without_their_text() {
        let url = ProxySetting::parse_url("http://user:s3cret@proxy.example:3128").unwrap();
        let route = Route::of(&ProxySetting::Url(url)).unwrap();
        let text = route.describe();
        assert!(text.contains("http://proxy.example:3128"), "{text}");
        assert!(!text.contains("s3cret") && !text.contains("user"), "{text}");
        assert_eq!(route.hosts(), vec!["proxy.example", "proxy.example"]);
        let err = ProxySetting::parse_url("socks5://user:s3cret@proxy.example").unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
        assert!(Route::of(&ProxySetting::None)
            .unwrap()
            .describe()
            .starts_with("none"));
    }
}
