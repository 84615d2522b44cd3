#![no_main]
//! Feed parsing on any bytes: an error is fine, a panic is a bug.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let url = url::Url::parse("https://news.example/rss.xml").unwrap();
    let _ = figwatch::feed::parse_feed(data, &url);
});
