#![no_main]
//! Article extraction on any bytes (charset detection, HTML parsing, boilerplate removal).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = figwatch::extract::extract_bytes(data, None, None);
});
