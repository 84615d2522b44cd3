use std::io::Write;

use super::*;
// The tests' news site, shared with the end-to-end suite; it is no part of the library.
#[path = "../../tests/common/localhttp.rs"]
mod localhttp;
use localhttp::{LocalServer, Response};

fn fetcher(max_body: u64) -> Fetcher {
    let settings = FetchSettings {
        timeout: Duration::from_secs(2),
        max_body,
        max_redirects: 3,
        concurrency: 1,
        allow_private: true,
        ..Default::default()
    };
    Fetcher::new("figwatch-test", &settings).unwrap()
}

fn get(f: &Fetcher, server: &LocalServer, path: &str) -> Result<Fetched, FetchError> {
    let url = Url::parse(&server.url(path)).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f.get(&url))
}

#[test]
fn decompresses_gzip_and_reads_the_charset() {
    let server = LocalServer::start().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"<p>caf\xe9</p>").unwrap();
    server.set(
        "/gz",
        Response::ok("text/html; charset=ISO-8859-1", gz.finish().unwrap())
            .header("Content-Encoding", "gzip"),
    );
    let page = get(&fetcher(1024), &server, "/gz").unwrap();
    assert_eq!(page.body, b"<p>caf\xe9</p>");
    assert_eq!(page.media_type.as_deref(), Some("text/html"));
    assert_eq!(page.charset.as_deref(), Some("ISO-8859-1"));
    assert!(page.is_html());
}

#[test]
fn refuses_bodies_over_the_limit() {
    let server = LocalServer::start().unwrap();
    server.set("/big", Response::html(vec![b'a'; 5000]));
    let err = get(&fetcher(1000), &server, "/big").unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit: 1000, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("max_body"));
}

#[test]
fn status_errors_and_redirect_loops_are_named() {
    let server = LocalServer::start().unwrap();
    server.set("/gone", Response::status(404));
    let err = get(&fetcher(1000), &server, "/gone")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/gone") && err.contains("HTTP 404 (Not Found)"),
        "{err}"
    );

    let here = server.url("/loop");
    server.set(
        "/loop",
        Response {
            status: 302,
            ..Response::ok("text/plain", "")
        }
        .header("Location", &here),
    );
    let err = get(&fetcher(1000), &server, "/loop").unwrap_err();
    assert!(
        matches!(&err, FetchError::BadRedirect { reason, .. } if reason.contains("a loop")),
        "{err}"
    );

    // A chain longer than max_redirects (3), without a loop.
    for i in 0..5 {
        let next = server.url(&format!("/chain{}", i + 1));
        server.set(
            &format!("/chain{i}"),
            Response::status(302).header("Location", &next),
        );
    }
    let err = get(&fetcher(1000), &server, "/chain0").unwrap_err();
    assert!(
        matches!(err, FetchError::Redirects { limit: 3, .. }),
        "{err}"
    );
}

#[test]
fn a_closed_port_is_a_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt.block_on(fetcher(1000).get(&url)).unwrap_err();
    assert!(matches!(err, FetchError::Connect { .. }), "{err}");
}
