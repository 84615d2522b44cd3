//! A small HTTP/1.1 server on 127.0.0.1 that serves fixed responses which can be changed while
//! it runs: the tests' news site, whose articles change between polls, and which can misbehave
//! on purpose (a delay, a status, a header). Each connection gets one response and is closed.
//! It is written on raw sockets so that a test can see every request as it arrived; it is no
//! part of the library (the fetcher's unit tests and `figwatch-eval` include this file).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server answers on one path.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Wait this long before answering (to test timeouts).
    pub delay: Duration,
    /// Extra headers, such as `Content-Encoding`.
    pub headers: Vec<(String, String)>,
    /// Sent as `ETag`; a request whose `If-None-Match` matches it gets a 304.
    pub etag: Option<String>,
}

impl Response {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status: 200,
            content_type: content_type.into(),
            body: body.into(),
            delay: Duration::ZERO,
            headers: Vec::new(),
            etag: None,
        }
    }

    /// Answers conditional requests for this body: `ETag` on a 200, 304 when it matches.
    pub fn with_etag(mut self, etag: &str) -> Response {
        self.etag = Some(format!("\"{etag}\""));
        self
    }

    pub fn html(body: impl Into<Vec<u8>>) -> Response {
        Response::ok("text/html; charset=utf-8", body)
    }

    pub fn status(status: u16) -> Response {
        Response {
            status,
            ..Response::ok("text/plain", format!("status {status}\n"))
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Response {
        self.delay = delay;
        self
    }
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: std::time::Instant,
    pub if_none_match: Option<String>,
    /// The status it was answered with.
    pub status: u16,
}

impl Request {
    /// A header's value (names are matched without regard to case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Response>,
    hits: HashMap<String, usize>,
    log: Vec<Request>,
}

/// The running server; it stops when dropped.
pub struct LocalServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl LocalServer {
    /// Starts on a free port of 127.0.0.1.
    pub fn start() -> std::io::Result<LocalServer> {
        LocalServer::start_on("127.0.0.1")
    }

    /// Starts on a given address (a test that needs a receiver to come up late picks the port
    /// first).
    pub fn start_at(addr: SocketAddr) -> std::io::Result<LocalServer> {
        LocalServer::listen(TcpListener::bind(addr)?)
    }

    /// Starts on a free port of a loopback address (127.0.0.2 is another host than 127.0.0.1
    /// for figwatch's politeness, and Linux routes all of 127.0.0.0/8 to the loopback).
    pub fn start_on(ip: &str) -> std::io::Result<LocalServer> {
        LocalServer::listen(TcpListener::bind((ip, 0))?)
    }

    fn listen(listener: TcpListener) -> std::io::Result<LocalServer> {
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (Arc::clone(&state), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    let _ = serve(conn, &s);
                });
            }
        });
        Ok(LocalServer { addr, state, stop })
    }

    /// The full URL of a path on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sets (or replaces) what a path answers.
    pub fn set(&self, path: &str, response: Response) {
        self.lock().routes.insert(path.to_string(), response);
    }

    /// Every request so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.lock().log.clone()
    }

    /// How many requests a path has had.
    pub fn hits(&self, path: &str) -> usize {
        self.lock().hits.get(path).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve(mut conn: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let at = std::time::Instant::now();
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(buf.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut body = buf[end..].to_vec();
    let method = head.split_whitespace().next().unwrap_or("GET").to_string();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let if_none_match = header("if-none-match");
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(16 * 1024 * 1024);
    while body.len() < length {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut response = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        *s.hits.entry(path.clone()).or_default() += 1;
        // Like most sites, the query (`?utm_source=…`) does not change what is served.
        let route = path.split('?').next().unwrap_or_default();
        s.routes
            .get(route)
            .cloned()
            .unwrap_or_else(|| Response::status(404))
    };
    if let Some(etag) = &response.etag {
        if if_none_match.as_deref() == Some(etag.as_str()) {
            response.status = 304;
            response.body.clear();
        }
        response.headers.push(("ETag".into(), etag.clone()));
    }
    state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .log
        .push(Request {
            method,
            headers,
            body,
            path: path.clone(),
            at,
            if_none_match,
            status: response.status,
        });
    if !response.delay.is_zero() {
        std::thread::sleep(response.delay);
    }
    let extra: String = response
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    conn.write_all(head.as_bytes())?;
    conn.write_all(&response.body)?;
    conn.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        304 => "Not Modified",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
