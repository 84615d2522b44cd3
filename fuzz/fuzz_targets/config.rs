#![no_main]
//! The configuration parser on any text: it must say what is wrong, never panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = figwatch::config::Config::parse(text, std::path::Path::new("fuzz.toml"));
    }
});
