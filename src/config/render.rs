//! `[render]` and a source's `render = "chromium"`: pages whose text is written by JavaScript
//! are loaded in headless Chromium, within these bounds.

use super::*;

/// `[render]`: where Chromium is and how much of the machine it may take.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderSettings {
    /// The Chromium binary (`[render] chromium`); when unset, `chromium`, `chromium-browser`,
    /// `google-chrome` or `google-chrome-stable` is looked for on `PATH`.
    pub chromium: Option<PathBuf>,
    /// Pages rendered at once, at most.
    pub tabs: usize,
    /// The longest one page may take to load and settle; at this budget its loading is
    /// stopped and the text it has so far is read.
    pub timeout: Duration,
    /// When the browser's process tree holds more memory than this (proportional set size,
    /// so shared pages count once), it is restarted between pages.
    pub max_memory: u64,
}

impl Default for RenderSettings {
    fn default() -> RenderSettings {
        RenderSettings {
            chromium: None,
            tabs: 2,
            timeout: Duration::from_secs(30),
            max_memory: 640 << 20,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRender {
    chromium: Option<String>,
    tabs: Option<Spanned<usize>>,
    timeout: Option<Spanned<Dur>>,
    max_memory: Option<Spanned<ByteSize>>,
}

/// The most tabs allowed: each holds a renderer process of 100 MB or more.
const MAX_TABS: usize = 16;

pub(super) fn render_settings(
    raw: &RawRender,
    places: &Places,
    at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
) -> Result<RenderSettings, ConfigError> {
    let default = RenderSettings::default();
    let tabs = match &raw.tabs {
        None => default.tabs,
        Some(t) if (1..=MAX_TABS).contains(t.get_ref()) => *t.get_ref(),
        Some(t) => {
            return Err(at(
                Some(t.span()),
                Some("render.tabs".into()),
                format!("must be between 1 and {MAX_TABS}: each tab is a renderer process of 100 MB or more"),
            ))
        }
    };
    let timeout = match &raw.timeout {
        None => default.timeout,
        Some(d) if d.get_ref().0 >= Duration::from_secs(1) => d.get_ref().0,
        Some(d) => {
            return Err(at(
                Some(d.span()),
                Some("render.timeout".into()),
                "must be at least 1s: a page needs time to load before it can be read".into(),
            ))
        }
    };
    let max_memory = match &raw.max_memory {
        None => default.max_memory,
        Some(m) if m.get_ref().0 >= 64 << 20 => m.get_ref().0,
        Some(m) => {
            return Err(at(
                Some(m.span()),
                Some("render.max_memory".into()),
                "must be at least 64 MB: Chromium alone takes more, and would be restarted after every page".into(),
            ))
        }
    };
    let chromium = raw
        .chromium
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            if c.contains('/') {
                places.beside_config(c)
            } else {
                PathBuf::from(c)
            }
        });
    Ok(RenderSettings {
        chromium,
        tabs,
        timeout,
        max_memory,
    })
}

/// A source's `render`: `"chromium"`, or absent.
pub(super) fn render_option(
    src: &RawSource,
    prefix: &str,
    at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
) -> Result<bool, ConfigError> {
    match &src.render {
        None => Ok(false),
        Some(r) if r.get_ref().trim() == "chromium" => Ok(true),
        Some(r) => Err(at(
            Some(r.span()),
            Some(format!("{prefix}render")),
            format!(
                "{:?} is not a renderer; write render = \"chromium\", or leave the key out to read pages as they are served",
                r.get_ref()
            ),
        )),
    }
}

/// Rendering goes through figwatch's own guarded proxy, which connects directly: with an
/// upstream proxy in `[fetch] proxy`, the browser would leave by another road than the
/// fetches. Refused until the guarded proxy can chain to it.
pub(super) fn check_render_route(
    sources: &[SourceConfig],
    proxy: &ProxySetting,
    at: &impl Fn(Option<std::ops::Range<usize>>, Option<String>, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if *proxy != ProxySetting::None && sources.iter().any(|s| s.render) {
        return Err(at(
            None,
            Some("fetch.proxy".into()),
            "render = \"chromium\" cannot go through [fetch] proxy yet (the browser's requests go through figwatch's own guarded proxy, which connects directly); remove one of the two".into(),
        ));
    }
    Ok(())
}
