//! The DevTools protocol over a pipe (`--remote-debugging-pipe`): Chromium reads commands on
//! its descriptor 3 and writes answers and events on 4, each a JSON message ended by a NUL.
//!
//! Chosen over a DevTools port (which chromiumoxide and headless_chrome speak): a port on
//! 127.0.0.1 takes a connection from any local user, who could then drive a browser that runs
//! as figwatch's user, with its files a `file://` away. A pipe is figwatch's alone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::pipe;
use tokio::sync::{broadcast, oneshot};

/// The largest message read from the browser: a page's serialised DOM is the largest there
/// is, and a page that makes one larger is not read.
const MAX_MESSAGE: usize = 64 << 20;

/// An event of the browser: its method, the session (tab) it concerns, its parameters.
#[derive(Debug, Clone)]
pub struct Event {
    /// `Page.loadEventFired`, `Inspector.targetCrashed`, …
    pub method: String,
    /// The tab's session, for events of a tab.
    pub session: Option<String>,
    /// The event's parameters.
    pub params: Value,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CdpError {
    /// The browser answered with an error.
    #[error("{method}: {message}")]
    Refused {
        /// The command.
        method: String,
        /// What the browser said.
        message: String,
    },
    /// The pipe closed: the browser exited, or sent a message too large or not JSON.
    #[error("{method}: the browser is gone")]
    Gone {
        /// The command.
        method: String,
    },
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>>;

/// One browser's DevTools connection.
pub struct Cdp {
    writer: tokio::sync::Mutex<pipe::Sender>,
    pending: Pending,
    events: broadcast::Sender<Event>,
    next_id: AtomicU64,
    open: Arc<AtomicBool>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Cdp {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Cdp {
    /// A connection over the two pipe ends: `to_browser` (its descriptor 3) and
    /// `from_browser` (its descriptor 4).
    pub fn new(to_browser: pipe::Sender, from_browser: pipe::Receiver) -> Cdp {
        let pending: Pending = Arc::default();
        let (events, _) = broadcast::channel(256);
        let open = Arc::new(AtomicBool::new(true));
        let reader = tokio::spawn(read_messages(
            from_browser,
            Arc::clone(&pending),
            events.clone(),
            Arc::clone(&open),
        ));
        Cdp {
            writer: tokio::sync::Mutex::new(to_browser),
            pending,
            events,
            next_id: AtomicU64::new(1),
            open,
            reader,
        }
    }

    /// Whether the pipe is still open.
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Relaxed)
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Sends `method` (to the tab of `session`, or to the browser) and waits for its answer.
    pub async fn call(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, CdpError> {
        let gone = || CdpError::Gone {
            method: method.to_string(),
        };
        if !self.is_open() {
            return Err(gone());
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            message["sessionId"] = Value::String(s.to_string());
        }
        let mut bytes = serde_json::to_vec(&message).expect("a JSON value serialises");
        bytes.push(0);
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .expect("the pending map is never poisoned")
            .insert(id, tx);
        let written = self.writer.lock().await.write_all(&bytes).await;
        if written.is_err() {
            self.pending.lock().expect("not poisoned").remove(&id);
            return Err(gone());
        }
        match rx.await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(message)) => Err(CdpError::Refused {
                method: method.to_string(),
                message,
            }),
            Err(_) => Err(gone()),
        }
    }
}

/// Reads NUL-ended messages until the pipe closes: answers go to their callers, events to the
/// subscribers. On the way out every caller still waiting is told the browser is gone.
async fn read_messages(
    from: pipe::Receiver,
    pending: Pending,
    events: broadcast::Sender<Event>,
    open: Arc<AtomicBool>,
) {
    let mut reader = BufReader::with_capacity(1 << 16, from);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match read_message(&mut reader, &mut buf).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                tracing::warn!("the browser's DevTools pipe: {e}; the browser is restarted");
                break;
            }
        }
        let Ok(message) = serde_json::from_slice::<Value>(&buf) else {
            tracing::warn!("the browser sent a DevTools message that is not JSON; ignored");
            continue;
        };
        if let Some(id) = message.get("id").and_then(Value::as_u64) {
            let waiting = pending.lock().expect("not poisoned").remove(&id);
            if let Some(tx) = waiting {
                let answer = match message.get("error") {
                    Some(e) => Err(e
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("error")
                        .to_string()),
                    None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
                };
                let _ = tx.send(answer);
            }
        } else if let Some(method) = message.get("method").and_then(Value::as_str) {
            let _ = events.send(Event {
                method: method.to_string(),
                session: message
                    .get("sessionId")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                params: message.get("params").cloned().unwrap_or(Value::Null),
            });
        }
    }
    open.store(false, Ordering::Relaxed);
    pending.lock().expect("not poisoned").clear();
}

/// One message into `buf`; false at the end of the pipe.
async fn read_message(
    reader: &mut BufReader<pipe::Receiver>,
    buf: &mut Vec<u8>,
) -> std::io::Result<bool> {
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(false);
        }
        let (take, done) = match chunk.iter().position(|&b| b == 0) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        buf.extend_from_slice(&chunk[..take - usize::from(done)]);
        reader.consume(take);
        if buf.len() > MAX_MESSAGE {
            return Err(std::io::Error::other(format!(
                "a message passed {MAX_MESSAGE} bytes"
            )));
        }
        if done {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two pipes standing in for the browser: what `Cdp` writes, and what it reads.
    fn pipes() -> (Cdp, pipe::Receiver, pipe::Sender) {
        let (to_tx, to_rx) = pipe::pipe().unwrap();
        let (from_tx, from_rx) = pipe::pipe().unwrap();
        (Cdp::new(to_tx, from_rx), to_rx, from_tx)
    }

    #[tokio::test]
    async fn calls_get_their_answers_and_events_reach_subscribers() {
        let (cdp, to, mut from) = pipes();
        let mut events = cdp.subscribe();
        let browser = tokio::spawn(async move {
            let mut reader = BufReader::new(to);
            let mut buf = Vec::new();
            for _ in 0..2 {
                buf.clear();
                assert!(read_message(&mut reader, &mut buf).await.unwrap());
                let m: Value = serde_json::from_slice(&buf).unwrap();
                let id = m["id"].as_u64().unwrap();
                let answer = match m["method"].as_str().unwrap() {
                    "Browser.getVersion" => json!({"id": id, "result": {"product": "Chrome/1"}}),
                    _ => json!({"id": id, "error": {"message": "no such method"}}),
                };
                // An event first, then the answer, in one write split oddly.
                let event =
                    json!({"method": "Page.loadEventFired", "sessionId": "S", "params": {}});
                let mut bytes = serde_json::to_vec(&event).unwrap();
                bytes.push(0);
                bytes.extend(serde_json::to_vec(&answer).unwrap());
                bytes.push(0);
                let (a, b) = bytes.split_at(7);
                from.write_all(a).await.unwrap();
                from.write_all(b).await.unwrap();
            }
            from
        });
        let v = cdp
            .call("Browser.getVersion", json!({}), None)
            .await
            .unwrap();
        assert_eq!(v["product"], "Chrome/1");
        let e = cdp
            .call("Nope.nothing", json!({}), Some("S"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no such method"), "{e}");
        let event = events.recv().await.unwrap();
        assert_eq!(
            (event.method.as_str(), event.session.as_deref()),
            ("Page.loadEventFired", Some("S"))
        );
        // The browser goes: waiting callers and later ones are told so.
        drop(browser.await.unwrap());
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while cdp.is_open() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        let e = cdp
            .call("Browser.getVersion", json!({}), None)
            .await
            .unwrap_err();
        assert!(matches!(e, CdpError::Gone { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_message_past_the_bound_closes_the_connection() {
        let (cdp, _to, mut from) = pipes();
        let writer = tokio::spawn(async move {
            let chunk = vec![b'x'; 1 << 20];
            for _ in 0..(MAX_MESSAGE >> 20) + 2 {
                if from.write_all(&chunk).await.is_err() {
                    break;
                }
            }
            from
        });
        tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while cdp.is_open() {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("an endless message must close the connection");
        drop(writer);
    }
}
