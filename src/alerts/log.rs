//! The append-only JSON Lines alert log, which a daemon, a `--poll` from cron and logrotate's
//! `copytruncate` may all touch at once.
//!
//! A write that fails half-way (a full disk) used to leave half a line, and the retry glued the
//! next alert onto it: two alerts lost to a parser, and the delivery counted all the same. So
//! an append takes an exclusive lock on the file (`flock`, which other figwatch processes
//! honour), notes where the file ends, writes its lines and syncs them to disk; if any of that
//! fails, it cuts the file back to where it ended before — its own bytes only, never a line of
//! anyone else's — and the delivery fails, to be tried again. logrotate does not lock: if it
//! truncated the file during the write, what remains past the new end is ours alone and goes.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

/// The JSON Lines alert log: one alert per line, appended under a lock so that processes sharing
/// the file never interleave.
pub struct AlertLog {
    path: PathBuf,
}

impl AlertLog {
    /// The log at `path` (created on the first append).
    pub fn new(path: &Path) -> AlertLog {
        AlertLog {
            path: path.to_path_buf(),
        }
    }

    /// Which of `ids` the log already holds. Read only for a retried delivery: a process killed
    /// between writing a batch and recording it delivered must not write it twice.
    pub fn written(&self, ids: &[&str]) -> HashSet<String> {
        #[derive(serde::Deserialize)]
        struct Line {
            id: String,
        }
        let mut found = HashSet::new();
        let Ok(file) = File::open(&self.path) else {
            return found;
        };
        for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
            if let Ok(l) = serde_json::from_str::<Line>(&line) {
                if ids.contains(&l.id.as_str()) {
                    found.insert(l.id);
                }
            }
        }
        found
    }

    /// Appends alerts, one whole line each, in one write under the file's lock, waiting at
    /// most `wait` for the lock. Returns only once the lines are on disk; on any error the
    /// file is as it was.
    pub fn append<T: Serialize>(&self, alerts: &[T], wait: Duration) -> anyhow::Result<()> {
        if alerts.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::new();
        for a in alerts {
            serde_json::to_writer(&mut lines, a)?;
            lines.push(b'\n');
        }
        let name = self.path.display();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| anyhow::anyhow!("cannot open alert log {name}: {e}"))?;
        lock(&file, wait).map_err(|e| anyhow::anyhow!("cannot lock alert log {name}: {e}"))?;
        let start = file
            .metadata()
            .map_err(|e| anyhow::anyhow!("cannot read alert log {name}: {e}"))?
            .len();
        // A line torn by something else (a process killed mid-write by an older figwatch, a
        // hand edit) is left as it is, but ours starts on a line of its own.
        if start > 0 && last_byte(&mut file, start) != Some(b'\n') {
            lines.insert(0, b'\n');
        }
        let written = file.write_all(&lines).and_then(|()| file.sync_data());
        if let Err(e) = written {
            let now = file.metadata().map(|m| m.len()).unwrap_or(start);
            let back = if now >= start { start } else { 0 };
            let restored = file.set_len(back).and_then(|()| file.sync_data());
            return Err(match restored {
                Ok(()) => anyhow::anyhow!(
                    "cannot write alert log {name}: {e} (nothing of it was kept; it is tried again)"
                ),
                Err(e2) => anyhow::anyhow!(
                    "cannot write alert log {name}: {e}; cutting off the partial line failed too: {e2}"
                ),
            });
        }
        Ok(())
    }
}

/// Takes an exclusive `flock` on `file`, trying for `wait`: another figwatch process appending
/// holds it for a moment; one that holds it longer is stuck, and this delivery is retried.
fn lock(file: &File, wait: Duration) -> std::io::Result<()> {
    let started = Instant::now();
    loop {
        // SAFETY: flock on a descriptor this File owns; released when it is closed.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(e);
        }
        if started.elapsed() >= wait {
            return Err(std::io::Error::other(format!(
                "another process has held its lock for {}s",
                wait.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn last_byte(file: &mut File, len: u64) -> Option<u8> {
    let mut b = [0u8];
    file.seek(SeekFrom::Start(len - 1)).ok()?;
    file.read_exact(&mut b).ok()?;
    Some(b[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_line_before_ours_is_left_and_ours_start_on_their_own_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.jsonl");
        std::fs::write(&path, "{\"id\":\"a\"}\n{\"id\":\"b\",\"val").unwrap();
        let log = AlertLog::new(&path);
        log.append(&[serde_json::json!({"id": "c"})], Duration::from_secs(1))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\"id\":\"a\"}\n{\"id\":\"b\",\"val\n{\"id\":\"c\"}\n"
        );
        assert_eq!(log.written(&["a", "b", "c"]).len(), 2);
    }

    #[test]
    fn a_lock_held_elsewhere_fails_the_append_after_the_wait_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.jsonl");
        std::fs::write(&path, "{\"id\":\"a\"}\n").unwrap();
        let holder = File::open(&path).unwrap();
        lock(&holder, Duration::ZERO).unwrap();
        let log = AlertLog::new(&path);
        let err = log
            .append(
                &[serde_json::json!({"id": "b"})],
                Duration::from_millis(100),
            )
            .unwrap_err();
        assert!(err.to_string().contains("held its lock"), "{err}");
        drop(holder);
        log.append(
            &[serde_json::json!({"id": "b"})],
            Duration::from_millis(100),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"id\":\"a\"}\n{\"id\":\"b\"}\n"
        );
    }
}
