//! Pages whose text is written by JavaScript, rendered in headless Chromium over the DevTools
//! protocol, spoken over a pipe (`cdp`). The rendered DOM then goes through the same extractor as any
//! served page.
//!
//! Bounded and guarded:
//! - every request of the browser goes through [`proxy::GuardedProxy`], which refuses internal
//!   addresses as plain fetches do; the browser resolves no name itself, and WebRTC and QUIC
//!   are off ([`browser::flags`]);
//! - at most `[render] tabs` pages at once, each stopped at `[render] timeout` and read as it
//!   stands;
//! - a fresh profile per browser, removed with it; downloads refused; no memory both
//!   writable and executable (`--jitless`, and `PR_SET_MDWE` where the kernel has it);
//! - the browser is started on the first page that needs it, and started again when it died
//!   or its process tree holds more than `[render] max_memory`.

pub mod browser;
pub mod cdp;
pub mod memory;
pub mod proxy;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{broadcast, Mutex, Semaphore};
use tokio::time::Instant;
use url::Url;

use crate::config::{FetchSettings, RenderSettings};
use crate::fetch::AddressPolicy;
pub use browser::find_chromium;
use browser::Running;

/// Why a page could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// No Chromium binary.
    #[error("a source has render = \"chromium\", but Chromium was not found ({looked}): install Debian's package (apt-get install chromium) or set [render] chromium = \"/path/to/chromium\"")]
    NotFound {
        /// Where it was looked for.
        looked: String,
    },
    /// The browser's temporary profile could not be made.
    #[error("cannot make a temporary profile for Chromium")]
    Profile {
        /// The file system's error.
        #[source]
        source: std::io::Error,
    },
    /// The browser would not start, or not take its first command (the reason holds what
    /// it said).
    #[error("Chromium: {reason}")]
    Launch {
        /// What failed.
        reason: String,
    },
    /// The guarded proxy could not listen.
    #[error("cannot start the browser's guarded proxy")]
    Proxy {
        /// The socket's error.
        #[source]
        source: std::io::Error,
    },
    /// A script sent the browser away from the page's site (or to an error page): what it
    /// shows is not the article, and is not read.
    #[error(
        "{url}: a script sent the browser to {to}, away from the page's site; the page is not read"
    )]
    Left {
        /// The page.
        url: String,
        /// Where the browser ended up.
        to: String,
    },
    /// The page failed in the browser.
    #[error("Chromium could not {doing} {url}")]
    Page {
        /// The page.
        url: String,
        /// What was being done ("load", "read").
        doing: &'static str,
        /// The DevTools error, when there was one (none: out of time).
        #[source]
        source: Option<cdp::CdpError>,
    },
}

/// A rendered page (always on the site asked for).
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The DOM after scripts ran, serialised.
    pub html: String,
    /// Where the browser ended up.
    pub url: Url,
}

/// What the renderer has done since it was made (for `status`, logs and the benchmark).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderCounts {
    /// Pages rendered.
    pub pages: u64,
    /// Browsers started (the first, and each restart).
    pub launches: u64,
}

/// Renders pages in one headless Chromium, started when first needed.
pub struct Renderer {
    settings: RenderSettings,
    /// Found once, when the renderer is made.
    chromium: std::path::PathBuf,
    user_agent: String,
    policy: Arc<AddressPolicy>,
    max_body: u64,
    tabs: Semaphore,
    state: Mutex<State>,
    pages: AtomicU64,
    launches: AtomicU64,
}

#[derive(Default)]
struct State {
    proxy: Option<proxy::GuardedProxy>,
    running: Option<Arc<Running>>,
}

/// How long the browser may take to start and answer.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);
/// After the load event, the page is read once its DOM has been still this long.
const SETTLE: Duration = Duration::from_millis(500);
/// A page whose DOM never stops changing (a ticker, a rotating banner) is read after this.
const MAX_SETTLE: Duration = Duration::from_secs(5);
/// Where the tab is, and its DOM.
const READ_JS: &str =
    "[location.href, document.documentElement ? document.documentElement.outerHTML : '']";
/// Reading a page's DOM, or closing it, takes at most this beyond the budget.
const GRACE: Duration = Duration::from_secs(5);

/// Resolves once the document has gone `SETTLE` milliseconds without a change.
const SETTLED_JS: &str = "new Promise(resolve => { let t = setTimeout(resolve, QUIET, true); \
    new MutationObserver(() => { clearTimeout(t); t = setTimeout(resolve, QUIET, true); }) \
    .observe(document, { subtree: true, childList: true, characterData: true }); })";

impl Renderer {
    /// A renderer; nothing starts until the first page, but a missing Chromium is an error
    /// now. The browser reaches what plain fetches reach: the address policy and body limit
    /// are `fetch`'s.
    pub fn new(
        settings: RenderSettings,
        user_agent: &str,
        fetch: &FetchSettings,
    ) -> Result<Renderer, RenderError> {
        Ok(Renderer {
            chromium: find_chromium(settings.chromium.as_deref())?,
            tabs: Semaphore::new(settings.tabs.max(1)),
            settings,
            user_agent: user_agent.to_string(),
            policy: Arc::new(AddressPolicy::new(fetch.allow_private, &fetch.allow_hosts)),
            max_body: fetch.max_body,
            state: Mutex::new(State::default()),
            pages: AtomicU64::new(0),
            launches: AtomicU64::new(0),
        })
    }

    /// What it has done so far.
    pub fn counts(&self) -> RenderCounts {
        RenderCounts {
            pages: self.pages.load(Ordering::Relaxed),
            launches: self.launches.load(Ordering::Relaxed),
        }
    }

    /// The process id of the running browser, if one runs.
    pub async fn browser_pid(&self) -> Option<u32> {
        let state = self.state.lock().await;
        state.running.as_ref().map(|r| r.pid)
    }

    /// Loads `url` in a tab and returns its DOM once scripts have run and the page is still
    /// (or at the budget). A browser that died is started again, and the page tried once
    /// more.
    pub async fn render(&self, url: &Url) -> Result<Rendered, RenderError> {
        let _tab = self
            .tabs
            .acquire()
            .await
            .expect("the tab semaphore is never closed");
        let mut tries = 0;
        loop {
            tries += 1;
            let running = self.running().await?;
            let result = self.render_in(&running, url).await;
            let died = !running.alive();
            self.after_page(&running, died).await;
            match result {
                Err(e) if died && tries < 2 => {
                    tracing::warn!(page = %url, "Chromium died while rendering ({e}); started again");
                }
                other => {
                    if other.is_ok() {
                        self.pages.fetch_add(1, Ordering::Relaxed);
                    }
                    return other;
                }
            }
        }
    }

    /// The running browser, started (with its proxy) when there is none or it died.
    async fn running(&self) -> Result<Arc<Running>, RenderError> {
        let mut state = self.state.lock().await;
        if let Some(r) = state.running.as_ref().filter(|r| r.alive()) {
            return Ok(Arc::clone(r));
        }
        state.running = None;
        if state.proxy.is_none() {
            let proxy = proxy::GuardedProxy::start(Arc::clone(&self.policy), self.max_body)
                .await
                .map_err(|source| RenderError::Proxy { source })?;
            state.proxy = Some(proxy);
        }
        let proxy_addr = state.proxy.as_ref().map(|p| p.addr()).expect("set above");
        browser::deny_write_execute();
        let running =
            Running::launch(&self.chromium, proxy_addr, &self.user_agent, LAUNCH_TIMEOUT).await?;
        let launches = self.launches.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::info!(pid = running.pid, launches, "Chromium started");
        let running = Arc::new(running);
        state.running = Some(Arc::clone(&running));
        Ok(running)
    }

    /// Retires the browser after a page when it died or holds more than `max_memory`; the
    /// pages still open in it finish first (it is killed when the last lets go of it).
    async fn after_page(&self, running: &Arc<Running>, died: bool) {
        let used = running.memory();
        let over = used.pss > self.settings.max_memory;
        if !died && !over {
            return;
        }
        if over {
            tracing::warn!(
                pss_mb = used.pss >> 20,
                processes = used.processes,
                max_mb = self.settings.max_memory >> 20,
                "Chromium's processes hold more than [render] max_memory; it is restarted"
            );
        }
        let mut state = self.state.lock().await;
        if state
            .running
            .as_ref()
            .is_some_and(|r| Arc::ptr_eq(r, running))
        {
            state.running = None;
        }
    }

    async fn render_in(&self, running: &Running, url: &Url) -> Result<Rendered, RenderError> {
        let cdp = &running.cdp;
        let failed = |doing: &'static str| {
            move |e: cdp::CdpError| RenderError::Page {
                url: url.to_string(),
                doing,
                source: Some(e),
            }
        };
        let out_of_time = |doing: &'static str| RenderError::Page {
            url: url.to_string(),
            doing,
            source: None,
        };
        let deadline = Instant::now() + self.settings.timeout;
        let target = tokio::time::timeout_at(
            deadline,
            cdp.call("Target.createTarget", json!({ "url": "about:blank" }), None),
        )
        .await
        .map_err(|_| out_of_time("open a tab for"))?
        .map_err(failed("open a tab for"))?;
        let target = target["targetId"].as_str().unwrap_or_default().to_string();
        let rendered = async {
            let session = cdp
                .call(
                    "Target.attachToTarget",
                    json!({ "targetId": target, "flatten": true }),
                    None,
                )
                .await
                .map_err(failed("open a tab for"))?;
            let session = session["sessionId"].as_str().unwrap_or_default().to_string();
            let s = Some(session.as_str());
            let mut events = cdp.subscribe();
            cdp.call("Page.enable", json!({}), s)
                .await
                .map_err(failed("load"))?;
            let navigated = tokio::time::timeout_at(
                deadline,
                cdp.call("Page.navigate", json!({ "url": url.as_str() }), s),
            )
            .await;
            let loaded = match navigated {
                Err(_) => false,
                Ok(Err(e)) => return Err(failed("load")(e)),
                Ok(Ok(answer)) => {
                    if let Some(error) = answer["errorText"].as_str().filter(|e| !e.is_empty()) {
                        return Err(RenderError::Page {
                            url: url.to_string(),
                            doing: "load",
                            source: Some(cdp::CdpError::Refused {
                                method: "Page.navigate".into(),
                                message: error.to_string(),
                            }),
                        });
                    }
                    // The load event of this tab, or the budget.
                    let wait = async {
                        loop {
                            match events.recv().await {
                                Ok(e) if e.session.as_deref() == s => match e.method.as_str() {
                                    "Page.loadEventFired" => return true,
                                    "Inspector.targetCrashed" => return false,
                                    _ => {}
                                },
                                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                                Err(broadcast::error::RecvError::Closed) => return false,
                            }
                        }
                    };
                    tokio::time::timeout_at(deadline, wait).await.unwrap_or(false)
                }
            };
            if loaded {
                // Scripts that write the text after the load event: wait until the document
                // is still, for a few seconds at most, within the budget.
                let quiet = SETTLED_JS.replace("QUIET", &SETTLE.as_millis().to_string());
                let settle_by = deadline.min(Instant::now() + MAX_SETTLE);
                let _ = tokio::time::timeout_at(
                    settle_by,
                    cdp.call(
                        "Runtime.evaluate",
                        json!({ "expression": quiet, "awaitPromise": true }),
                        s,
                    ),
                )
                .await;
            } else {
                tracing::warn!(page = %url, budget = ?self.settings.timeout, "the page was still loading at [render] timeout; it is read as it stands");
                let _ = tokio::time::timeout(GRACE, cdp.call("Page.stopLoading", json!({}), s))
                    .await;
            }
            let read = tokio::time::timeout(
                GRACE,
                cdp.call(
                    "Runtime.evaluate",
                    json!({ "expression": READ_JS, "returnByValue": true }),
                    s,
                ),
            )
            .await
            .map_err(|_| out_of_time("read"))?
            .map_err(failed("read"))?;
            let value = &read["result"]["value"];
            let (Some(at), Some(html)) = (value[0].as_str(), value[1].as_str()) else {
                return Err(out_of_time("read"));
            };
            let at = Url::parse(at).unwrap_or_else(|_| url.clone());
            if !matches!(at.scheme(), "http" | "https") || !crate::feed::urls::same_site(&at, url)
            {
                return Err(RenderError::Left {
                    url: url.to_string(),
                    to: at.to_string(),
                });
            }
            Ok(Rendered {
                html: html.to_string(),
                url: at,
            })
        }
        .await;
        // Closed by the browser, not the page: a page stuck in a script cannot refuse.
        let _ = tokio::time::timeout(
            GRACE,
            cdp.call("Target.closeTarget", json!({ "targetId": target }), None),
        )
        .await;
        rendered
    }
}
