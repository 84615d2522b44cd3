//! The guarded proxy every request of the browser goes through. Chromium is started with this
//! proxy for all schemes, loopback included, and with its own name resolution turned off, so
//! a page's script can reach nothing that figwatch's own fetches could not: each target is
//! resolved here and checked by the same [`AddressPolicy`] as a plain fetch, and an internal
//! address is answered with 403 and logged.
//!
//! It speaks the two forms a browser uses: `CONNECT host:port` (https and WebSocket, tunnelled
//! as they are) and absolute-form requests for plain http (rewritten to origin form and sent
//! with `Connection: close`). What comes back on one connection is bounded by `[fetch]
//! max_body`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::fetch::AddressPolicy;

/// The longest request head read from the browser.
const MAX_HEAD: usize = 64 * 1024;
/// How long the browser may take to send a request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting to a target may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A running proxy on 127.0.0.1; it stops when dropped.
pub struct GuardedProxy {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for GuardedProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl GuardedProxy {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start(policy: Arc<AddressPolicy>, max_body: u64) -> std::io::Result<GuardedProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    // Out of descriptors, most likely: wait rather than spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let policy = Arc::clone(&policy);
                tokio::spawn(async move {
                    if let Err(e) = serve(client, &policy, max_body).await {
                        tracing::debug!("browser proxy connection ended: {e}");
                    }
                });
            }
        });
        Ok(GuardedProxy { addr, task })
    }

    /// Where the browser is told to send its requests.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// The parts of a request head the proxy acts on.
struct Head {
    method: String,
    target: String,
    /// Header lines, as sent.
    headers: Vec<(String, Vec<u8>)>,
    /// Where the head ends in the buffer.
    len: usize,
}

fn parse_head(buf: &[u8]) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Partial) => Ok(None),
        Ok(httparse::Status::Complete(len)) => Ok(Some(Head {
            method: req.method.unwrap_or_default().to_string(),
            target: req.path.unwrap_or_default().to_string(),
            headers: req
                .headers
                .iter()
                .map(|h| (h.name.to_string(), h.value.to_vec()))
                .collect(),
            len,
        })),
        Err(e) => Err(format!("not an HTTP request head: {e}")),
    }
}

async fn read_head(client: &mut TcpStream) -> std::io::Result<Option<(Head, Vec<u8>)>> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        let mut chunk = [0u8; 4096];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        match parse_head(&buf) {
            Ok(Some(head)) => {
                let rest = buf.split_off(head.len);
                return Ok(Some((head, rest)));
            }
            Ok(None) if buf.len() < MAX_HEAD => continue,
            Ok(None) => return Err(std::io::Error::other("request head too long")),
            Err(e) => return Err(std::io::Error::other(e)),
        }
    }
}

async fn serve(
    mut client: TcpStream,
    policy: &AddressPolicy,
    max_body: u64,
) -> std::io::Result<()> {
    let Some((head, rest)) = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut client))
        .await
        .map_err(|_| std::io::Error::other("no request head in time"))??
    else {
        return Ok(());
    };
    let connect = head.method.eq_ignore_ascii_case("CONNECT");
    // The target as a URL: its host is then normalised (IDNA, percent-encoding) before it is
    // resolved or logged.
    let url = if connect {
        Url::parse(&format!("https://{}/", head.target))
    } else {
        Url::parse(&head.target)
    };
    let url = match url {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
        _ => {
            tracing::warn!(target = ?head.target, "the browser's proxy refused a request it cannot read");
            return answer(&mut client, "400 Bad Request", "not a proxy request").await;
        }
    };
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let origin = match open(policy, &host, port).await {
        Ok(stream) => stream,
        Err(Blocked::Refused(why)) => {
            tracing::warn!(url = %url, "refused a request of the browser: {why}");
            return answer(&mut client, "403 Forbidden", &why).await;
        }
        Err(Blocked::Unreachable(why)) => {
            return answer(&mut client, "502 Bad Gateway", &why).await;
        }
    };
    let mut origin = origin;
    if connect {
        client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await?;
    } else {
        origin.write_all(&origin_head(&head, &url)).await?;
    }
    origin.write_all(&rest).await?;
    relay(client, origin, max_body).await
}

enum Blocked {
    Refused(String),
    Unreachable(String),
}

/// Resolves `host`, keeps the addresses the policy allows and connects to the first that
/// answers.
async fn open(policy: &AddressPolicy, host: &str, port: u16) -> Result<TcpStream, Blocked> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((bare, port)).await {
        Ok(a) => a.collect(),
        Err(e) => return Err(Blocked::Unreachable(format!("cannot resolve {host}: {e}"))),
    };
    let allowed = policy
        .filter(host, addrs)
        .map_err(|refused| Blocked::Refused(refused.to_string()))?;
    let mut last = format!("{host} has no address");
    for addr in allowed {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => last = format!("cannot connect to {host} ({addr}): {e}"),
            Err(_) => last = format!("cannot connect to {host} ({addr}): timed out"),
        }
    }
    Err(Blocked::Unreachable(last))
}

/// The request head as the origin server expects it: origin-form target, no proxy headers,
/// one request per connection.
fn origin_head(head: &Head, url: &Url) -> Vec<u8> {
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut out = format!("{} {} HTTP/1.1\r\n", head.method, path).into_bytes();
    for (name, value) in &head.headers {
        let n = name.to_ascii_lowercase();
        if n.starts_with("proxy-") || n == "connection" || n == "keep-alive" {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// Copies both ways until either side closes; at most `max_body` bytes come back.
async fn relay(client: TcpStream, origin: TcpStream, max_body: u64) -> std::io::Result<()> {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut origin_read, mut origin_write) = origin.into_split();
    let up = async {
        let _ = tokio::io::copy(&mut client_read, &mut origin_write).await;
        let _ = origin_write.shutdown().await;
    };
    let down = async {
        let _ = copy_bounded(&mut origin_read, &mut client_write, max_body).await;
        let _ = client_write.shutdown().await;
    };
    // The answer decides: once it is over (or cut), the connection is done.
    tokio::select! {
        _ = down => {}
        _ = async { up.await; std::future::pending::<()>().await } => {}
    }
    Ok(())
}

async fn copy_bounded(
    from: &mut (impl AsyncRead + Unpin),
    to: &mut (impl AsyncWrite + Unpin),
    max: u64,
) -> std::io::Result<u64> {
    let copied = tokio::io::copy(&mut from.take(max), to).await?;
    if copied >= max {
        tracing::warn!("a response to the browser passed [fetch] max_body and was cut");
    }
    Ok(copied)
}

async fn answer(client: &mut TcpStream, status: &str, why: &str) -> std::io::Result<()> {
    let body = format!("figwatch: {why}\n");
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    client.write_all(head.as_bytes()).await?;
    client.write_all(body.as_bytes()).await?;
    client.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_read_whole_and_rewritten_to_origin_form() {
        let raw = b"GET http://news.example:8080/a/b?c=1 HTTP/1.1\r\nHost: news.example:8080\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\nAccept: */*\r\n\r\nBODY";
        assert!(parse_head(&raw[..20]).unwrap().is_none(), "partial");
        let head = parse_head(raw).unwrap().unwrap();
        assert_eq!(&raw[head.len..], b"BODY");
        let url = Url::parse(&head.target).unwrap();
        let out = String::from_utf8(origin_head(&head, &url)).unwrap();
        assert!(out.starts_with("GET /a/b?c=1 HTTP/1.1\r\n"), "{out}");
        assert!(out.contains("Host: news.example:8080\r\n"));
        assert!(out.contains("Accept: */*\r\n"));
        assert!(!out.to_ascii_lowercase().contains("proxy-"), "{out}");
        assert!(out.ends_with("Connection: close\r\n\r\n"));
        assert!(parse_head(b"\x00\x01garbage\r\n\r\n").is_err());
    }

    #[tokio::test]
    async fn internal_targets_are_refused_before_any_connection() {
        // A listener on 127.0.0.2 that must never be reached.
        let guarded = TcpListener::bind("127.0.0.2:0").await.unwrap();
        let target = guarded.local_addr().unwrap();
        let policy = Arc::new(AddressPolicy::new(false, &["127.0.0.1".into()]));
        let proxy = GuardedProxy::start(policy, 1 << 20).await.unwrap();
        for request in [
            format!("GET http://{target}/secret HTTP/1.1\r\nHost: {target}\r\n\r\n"),
            format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"),
        ] {
            let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
            c.write_all(request.as_bytes()).await.unwrap();
            let mut answer = String::new();
            c.read_to_string(&mut answer).await.unwrap();
            assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
            assert!(answer.contains("loopback"), "{answer}");
        }
        let accepted = tokio::time::timeout(Duration::from_millis(200), guarded.accept()).await;
        assert!(accepted.is_err(), "the internal address was connected to");

        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        c.write_all(b"NOT HTTP AT ALL\x00\r\n\r\n").await.unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).await.unwrap_or_default();
        assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test]
    async fn allowed_targets_are_relayed_and_bounded() {
        let origin = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let at = origin.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = origin.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.unwrap();
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            assert!(head.starts_with("GET /page HTTP/1.1"), "{head}");
            let body = "x".repeat(10_000);
            let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n{body}");
            let _ = s.write_all(answer.as_bytes()).await;
        });
        let policy = Arc::new(AddressPolicy::new(false, &["127.0.0.1".into()]));
        let proxy = GuardedProxy::start(policy, 2_000).await.unwrap();
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        c.write_all(format!("GET http://{at}/page HTTP/1.1\r\nHost: {at}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut answer = Vec::new();
        c.read_to_end(&mut answer).await.unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 200 OK"));
        assert_eq!(answer.len(), 2_000, "cut at max_body");
    }
}
