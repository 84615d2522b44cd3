#![no_main]
//! Figure extraction on any text, with the demo topic.

use std::sync::OnceLock;

use figwatch::figures::FigureExtractor;
use libfuzzer_sys::fuzz_target;

fn extractor() -> &'static FigureExtractor {
    static E: OnceLock<FigureExtractor> = OnceLock::new();
    E.get_or_init(|| {
        let text = format!("database = \"x.db\"\n{}", figwatch::demo::TOPIC_TOML);
        let config = figwatch::config::Config::parse(&text, std::path::Path::new("fuzz.toml"))
            .expect("the demo topic is valid");
        FigureExtractor::new(&config.topics)
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = extractor().extract_lang(text, None);
    }
});
