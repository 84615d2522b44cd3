//! Starting Chromium: where it is, the flags that keep it inside figwatch's bounds, and the
//! running browser, spoken to over a pipe and tied to figwatch's life: it is killed with its
//! whole process tree when dropped, and by the kernel if figwatch dies first.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncBufReadExt;
use tokio::net::unix::pipe;

use super::cdp::Cdp;
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

/// The flags figwatch starts Chromium with.
pub(super) fn flags(proxy: std::net::SocketAddr, user_agent: &str, profile: &Path) -> Vec<String> {
    vec![
        "--headless".into(),
        // DevTools on descriptors 3 and 4, never on a port (see `cdp`).
        "--remote-debugging-pipe".into(),
        format!("--user-data-dir={}", profile.display()),
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
        // systemd's MemoryDenyWriteExecute=yes (and figwatch's PR_SET_MDWE). Pages render
        // more slowly; text does not care.
        "--js-flags=--jitless".into(),
        // Chromium's own sandbox needs user namespaces, which the service's sandbox
        // (RestrictNamespaces=yes, NoNewPrivileges=yes) forbids: the service's sandbox is
        // the one that holds (README, "Running as a service").
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-software-rasterizer".into(),
        "--disable-dev-shm-usage".into(),
        // Fewer processes, less memory: the network service and the GPU (compositing only)
        // in the browser process.
        "--enable-features=NetworkServiceInProcess".into(),
        "--in-process-gpu".into(),
        // Nothing of its own on the network: no updates, sync, metrics, safe-browsing lists,
        // translation, or first-run pages.
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-default-apps".into(),
        "--disable-extensions".into(),
        "--disable-breakpad".into(),
        "--disable-client-side-phishing-detection".into(),
        "--disable-domain-reliability".into(),
        "--metrics-recording-only".into(),
        "--no-first-run".into(),
        "--no-default-browser-check".into(),
        "--password-store=basic".into(),
        "--use-mock-keychain".into(),
        "--disable-features=MediaRouter,OptimizationHints,Translate,AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions".into(),
        // Text is what is read: no images, no sound, no prompts.
        "--blink-settings=imagesEnabled=false".into(),
        "--autoplay-policy=user-gesture-required".into(),
        "--mute-audio".into(),
        "--hide-scrollbars".into(),
        "--disable-notifications".into(),
        "--deny-permission-prompts".into(),
        "--disable-popup-blocking".into(),
        format!("--user-agent={user_agent}"),
        "about:blank".into(),
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

/// A pipe whose ends are closed on exec, at descriptors above 10 (so that moving them to 3
/// and 4 in the child never meets itself).
fn pipe_fds() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened and are owned here only.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((high(r)?, high(w)?))
}

fn high(fd: OwnedFd) -> std::io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC duplicates a descriptor this function owns.
    let dup = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    if dup < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a new descriptor, owned here only.
    Ok(unsafe { OwnedFd::from_raw_fd(dup) })
}

/// A started browser. Dropping it kills its process tree and removes its profile.
pub(super) struct Running {
    pub cdp: Cdp,
    pub pid: u32,
    _child: tokio::process::Child,
    /// A fresh profile for this browser only (no cookies, cache or history survive it).
    _profile: tempfile::TempDir,
}

impl Running {
    /// Starts Chromium and waits until it answers over its pipe.
    pub async fn launch(
        chromium: &Path,
        proxy: std::net::SocketAddr,
        user_agent: &str,
        launch_timeout: Duration,
    ) -> Result<Running, RenderError> {
        let launch = |reason: String| RenderError::Launch { reason };
        let profile = tempfile::Builder::new()
            .prefix("figwatch-chromium-")
            .tempdir()
            .map_err(|source| RenderError::Profile { source })?;
        let io = |e: std::io::Error| launch(format!("cannot make its DevTools pipe: {e}"));
        let (commands_read, commands_write) = pipe_fds().map_err(io)?;
        let (answers_read, answers_write) = pipe_fds().map_err(io)?;
        let (c_read, a_write) = (commands_read.as_raw_fd(), answers_write.as_raw_fd());
        let mut command = tokio::process::Command::new(chromium);
        command
            .args(flags(proxy, user_agent, profile.path()))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        // SAFETY: between fork and exec only async-signal-safe calls: dup2 and prctl.
        unsafe {
            command.pre_exec(move || {
                if libc::dup2(c_read, 3) < 0 || libc::dup2(a_write, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // Killed by the kernel if figwatch dies without dropping it (SIGKILL, a
                // crash): no browser outlives its owner.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .map_err(|e| launch(format!("cannot run {}: {e}", chromium.display())))?;
        // The child's ends belong to it now.
        drop((commands_read, answers_write));
        let pid = child.id().unwrap_or_default();
        // Chromium writes to stderr for as long as it runs: the pipe is drained (and its lines
        // logged at debug level, escaped) so that a full pipe never stalls it.
        let last_words = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        if let Some(stderr) = child.stderr.take() {
            let keep = std::sync::Arc::clone(&last_words);
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::debug!(line = ?line, "chromium");
                    let mut kept = keep.lock().expect("not poisoned");
                    if kept.len() < 2000 {
                        kept.push_str(&line);
                        kept.push('\n');
                    }
                }
            });
        }
        let to = pipe::Sender::from_owned_fd(commands_write).map_err(io)?;
        let from = pipe::Receiver::from_owned_fd(answers_read).map_err(io)?;
        let running = Running {
            cdp: Cdp::new(to, from),
            pid,
            _child: child,
            _profile: profile,
        };
        let ready = tokio::time::timeout(
            launch_timeout,
            running.cdp.call("Browser.getVersion", json!({}), None),
        )
        .await;
        match ready {
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => {
                // Give stderr a moment to be read: it says why.
                tokio::time::sleep(Duration::from_millis(200)).await;
                let said = last_words.lock().expect("not poisoned").clone();
                return Err(launch(format!(
                    "cannot start {}: it did not answer over its DevTools pipe{}",
                    chromium.display(),
                    match said.trim() {
                        "" => String::new(),
                        s => format!(" ({})", s.escape_debug()),
                    }
                )));
            }
        }
        // The tab Chromium opens at start would hold a renderer process for nothing.
        if let Ok(targets) = running.cdp.call("Target.getTargets", json!({}), None).await {
            for t in targets["targetInfos"].as_array().into_iter().flatten() {
                if t["type"] == "page" {
                    let id = t["targetId"].clone();
                    let _ = running
                        .cdp
                        .call("Target.closeTarget", json!({ "targetId": id }), None)
                        .await;
                }
            }
        }
        // Downloads are refused by the browser itself.
        running
            .cdp
            .call(
                "Browser.setDownloadBehavior",
                json!({ "behavior": "deny" }),
                None,
            )
            .await
            .map_err(|e| launch(format!("cannot turn downloads off: {e}")))?;
        Ok(running)
    }

    /// Whether the browser still answers: its pipe is open and its process has not exited.
    pub fn alive(&self) -> bool {
        self.cdp.is_open() && memory::is_running(self.pid)
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
    }
}
