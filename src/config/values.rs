//! The value forms a configuration is written in: durations (`90s`, `1d`), byte sizes (`10MB`)
//! and http(s) URLs, each refused with what to write instead.

use super::*;

/// A duration written like `90s`, `15m`, `2h` or `1d`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Dur(pub(super) Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text)
            .map(Dur)
            .map_err(serde::de::Error::custom)
    }
}

/// Parses a duration such as `90s`, `15m`, `2h30m` or `2d`, with a message that shows the
/// accepted forms.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| {
        format!("invalid duration {text:?} ({e}); write it like \"90s\", \"15m\", \"2h\" or \"1d\"")
    })?;
    // Every time figwatch computes from a duration is stored as sortable text up to the year
    // 9999; a century keeps any "keep_for" of decades and every such date far inside it.
    if d > MAX_DURATION {
        return Err(format!(
            "duration {text:?} is too long: at most {} days (100 years)",
            MAX_DURATION.as_secs() / 86_400
        ));
    }
    Ok(d)
}

/// The longest duration a configuration may give.
pub const MAX_DURATION: Duration = Duration::from_secs(36_500 * 86_400);

/// An http(s) URL, checked when the file is read.
#[derive(Debug, Clone)]
pub(super) struct HttpUrl(pub(super) Url);

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let url = Url::parse(text.trim())
            .map_err(|e| serde::de::Error::custom(format!("invalid URL {text:?}: {e}")))?;
        match url.scheme() {
            "http" | "https" if url.host().is_some() => Ok(HttpUrl(url)),
            "http" | "https" => Err(serde::de::Error::custom(format!(
                "invalid URL {text:?}: no host"
            ))),
            other => Err(serde::de::Error::custom(format!(
                "invalid URL {text:?}: scheme `{other}` is not supported, use http or https"
            ))),
        }
    }
}

/// A byte size written as a number of bytes or like `10MB`, `512KiB`.
#[derive(Debug, Clone, Copy)]
pub(super) struct ByteSize(pub(super) u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) => Ok(ByteSize(n)),
            Raw::Text(t) => parse_byte_size(&t)
                .map(ByteSize)
                .map_err(serde::de::Error::custom),
        }
    }
}

pub(super) fn parse_byte_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size {text:?}; write it like \"10MB\" or \"512KiB\""))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" | "k" => 1024,
        "mb" => 1000 * 1000,
        "mib" | "m" => 1024 * 1024,
        "gb" => 1000 * 1000 * 1000,
        "gib" | "g" => 1024 * 1024 * 1024,
        _ => {
            return Err(format!(
                "invalid size {text:?}: unknown unit; use B, KB, KiB, MB, MiB, GB or GiB"
            ))
        }
    };
    Ok(n.saturating_mul(mult))
}
