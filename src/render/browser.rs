//! Starting Chromium: where it is, the flags that keep it inside figwatch's bounds, and the
//! running browser, whose whole process tree is killed when it is dropped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::browser::{
    SetDownloadBehaviorBehavior, SetDownloadBehaviorParams,
};
use futures_util::StreamExt;
use tokio::io::AsyncBufReadExt;

use super::{memory, RenderError};

/// The names Chromium goes by on `PATH`, Debian's first.
const NAMES: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// The Chromium binary: `configured` when set (it must exist), else the first of
/// [`NAMES`] on `PATH`.
pub fn find_chromium(configured: Option<&Path>) -> Result<PathBuf, RenderError> {
    if let Some(path) = configured {
        if path.components().count() > 1 {
            return match path.is_file() {
                true => Ok(path.to_path_buf()),
                false => Err(RenderError::NotFound {
                    looked: format!("{} ([render] chromium) does not exist", path.display()),
                }),
            };
        }
        return on_path(&[path.to_string_lossy().as_ref()]).ok_or_else(|| RenderError::NotFound {
            looked: format!("{} ([render] chromium) is not on PATH", path.display()),
        });
    }
    on_path(&NAMES).ok_or_else(|| RenderError::NotFound {
        looked: format!("none of {} is on PATH", NAMES.join(", ")),
    })
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// The flags figwatch starts Chromium with, beyond chromiumoxide's own (which turn off
/// background networking, sync, extensions, first-run pages and crash reports).
pub(super) fn flags(proxy: std::net::SocketAddr, user_agent: &str) -> Vec<String> {
    vec![
        // Every request through the guarded proxy, loopback included (Chromium would
        // otherwise go straight to localhost), and no name resolved by the browser itself:
        // a page cannot reach an address the proxy did not check.
        format!("--proxy-server=http://{proxy}"),
        "--proxy-bypass-list=<-loopback>".into(),
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1".into(),
        // WebRTC may only use the proxy (which carries no UDP): no direct peer connection,
        // no local address handed out. QUIC is UDP too.
        "--force-webrtc-ip-handling-policy=disable_non_proxied_udp".into(),
        "--webrtc-ip-handling-policy=disable_non_proxied_udp".into(),
        "--disable-quic".into(),
        "--dns-prefetch-disable".into(),
        // No JIT: V8 then never maps memory writable and executable, so Chromium runs under
        // systemd's MemoryDenyWriteExecute=yes. Pages render more slowly; text does not care.
        "--js-flags=--jitless".into(),
        // Chromium's own sandbox needs user namespaces, which the service's sandbox
        // (RestrictNamespaces=yes, NoNewPrivileges=yes) forbids: the service's sandbox is
        // the one that holds (README, "Rendering").
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-software-rasterizer".into(),
        // Text is what is read: no images, no sound, nothing started by a timer later.
        "--blink-settings=imagesEnabled=false".into(),
        "--autoplay-policy=user-gesture-required".into(),
        "--disable-notifications".into(),
        "--deny-permission-prompts".into(),
        "--no-default-browser-check".into(),
        "--disable-features=MediaRouter,OptimizationHints,Translate,AutofillServerCommunication,CertificateTransparencyComponentUpdater".into(),
        format!("--user-agent={user_agent}"),
    ]
}

/// Refuses memory that is writable and executable to figwatch and, inherited across fork and
/// exec, to the browser it starts (Linux 6.3's `PR_SET_MDWE`, the kernel's own form of
/// systemd's `MemoryDenyWriteExecute=`). With `--jitless` Chromium needs no such memory; a
/// browser bug that tried to make some is stopped, under cron as under systemd. figwatch
/// itself never needs any (no JIT in its regexes or parsers). An older kernel: not applied.
pub(super) fn deny_write_execute() {
    // SAFETY: prctl with integer arguments changes a flag of this process only.
    let rc = unsafe {
        libc::prctl(
            libc::PR_SET_MDWE,
            libc::PR_MDWE_REFUSE_EXEC_GAIN as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    if rc != 0 {
        tracing::debug!(
            "PR_SET_MDWE is not available ({}); Chromium relies on --jitless and the service's MemoryDenyWriteExecute",
            std::io::Error::last_os_error()
        );
    }
}

/// A started browser. Dropping it kills its process tree and removes its profile.
pub(super) struct Running {
    pub browser: Browser,
    pub pid: u32,
    alive: Arc<AtomicBool>,
    handler: tokio::task::JoinHandle<()>,
    /// A fresh profile for this browser only (no cookies, cache or history survive it).
    _profile: tempfile::TempDir,
}

impl Running {
    /// Starts Chromium and waits for its DevTools endpoint.
    pub async fn launch(
        chromium: &Path,
        flags: Vec<String>,
        launch_timeout: Duration,
    ) -> Result<Running, RenderError> {
        let profile = tempfile::Builder::new()
            .prefix("figwatch-chromium-")
            .tempdir()
            .map_err(|source| RenderError::Profile { source })?;
        let mut config = BrowserConfig::builder()
            .chrome_executable(chromium)
            .user_data_dir(profile.path())
            .launch_timeout(launch_timeout)
            .request_timeout(launch_timeout);
        for flag in &flags {
            // chromiumoxide writes the dashes, and joins the values of one key with commas.
            let flag = flag.trim_start_matches("--");
            config = match flag.split_once('=') {
                Some(key_value) => config.arg(key_value),
                None => config.arg(flag),
            };
        }
        let config = config.build().map_err(|reason| RenderError::Launch {
            reason,
            source: None,
        })?;
        let (mut browser, mut handler) =
            Browser::launch(config)
                .await
                .map_err(|e| RenderError::Launch {
                    reason: format!("cannot start {}: {e}", chromium.display()),
                    source: Some(Box::new(e)),
                })?;
        let child = browser.get_mut_child();
        let pid = child
            .as_ref()
            .and_then(|c| c.inner.id())
            .unwrap_or_default();
        // Chromium writes to stderr for as long as it runs: the pipe is drained (and its lines
        // logged at debug level, escaped) so that a full pipe never stalls it.
        if let Some(stderr) = child.and_then(|c| c.stderr.take()) {
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(stderr.into_inner()).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::debug!(line = ?line, "chromium");
                }
            });
        }
        let alive = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&alive);
        let handler = tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                if let Err(e) = event {
                    tracing::debug!("chromium's DevTools connection: {e}");
                }
            }
            flag.store(false, Ordering::Relaxed);
        });
        let running = Running {
            browser,
            pid,
            alive,
            handler,
            _profile: profile,
        };
        // Downloads are refused by the browser itself.
        running
            .browser
            .execute(SetDownloadBehaviorParams::new(
                SetDownloadBehaviorBehavior::Deny,
            ))
            .await
            .map_err(|e| RenderError::Launch {
                reason: format!("cannot turn downloads off: {e}"),
                source: Some(Box::new(e)),
            })?;
        Ok(running)
    }

    /// Whether the browser still answers: its DevTools connection is open and its process
    /// has not exited.
    pub fn alive(&self) -> bool {
        self.alive.load(Ordering::Relaxed)
            && std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
                .map(|s| {
                    // State is the field after the command; Z: a zombie, X: dead.
                    s.rfind(')')
                        .and_then(|i| s[i + 1..].split_whitespace().next())
                        .is_some_and(|state| state != "Z" && state != "X")
                })
                .unwrap_or(false)
    }

    /// The memory its process tree holds now.
    pub fn memory(&self) -> memory::TreeMemory {
        memory::tree_memory(self.pid)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.pid != 0 {
            memory::kill_tree(self.pid);
        }
        self.handler.abort();
    }
}
