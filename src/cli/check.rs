//! `figwatch check-config`: the configuration as figwatch reads it — where the store is and
//! why, the sinks, limits, proxy, schedule, dashboard, sources and topics — and whether the
//! store's folder is there and writable, before the first poll finds out.

use std::io::Write;

use anyhow::bail;

use figwatch::config::{self, Config, SourceKind};

/// "checked every 15m until 3h old, every 1h until 1day old, …, then retired".
fn describe_recheck(r: &config::Recheck) -> String {
    if r.tiers.is_empty() {
        return "fetched once, never checked again (recheck = [])".into();
    }
    let tiers: Vec<String> = r.tiers.iter().map(config::Recheck::describe).collect();
    format!("checked {}, then retired", tiers.join(", "))
}

pub(super) fn check_config(c: &Config, out: &mut impl Write) -> anyhow::Result<()> {
    let count = |k: SourceKind| c.sources.iter().filter(|s| s.kind == k).count();
    writeln!(
        out,
        "{}: ok — {} feeds, {} pages, {}{}{} topics",
        c.path.display(),
        count(SourceKind::Feed),
        count(SourceKind::Page),
        match count(SourceKind::Sitemap) {
            0 => String::new(),
            n => format!("{n} sitemaps, "),
        },
        match count(SourceKind::Section) {
            0 => String::new(),
            n => format!("{n} section fronts, "),
        },
        c.topics.len()
    )?;
    writeln!(out, "database   {}", c.database)?;
    writeln!(out, "state      {}", c.places.describe_state())?;
    if let config::Database::Sqlite(path) = &c.database {
        let folder = path.parent().unwrap_or(std::path::Path::new("/"));
        if !folder.is_dir() {
            bail!(
                "database {}: the folder {} does not exist; create it, or set `database` or `state_dir`",
                path.display(),
                folder.display()
            );
        }
        // SAFETY: access only reads the path it is given.
        let writable = std::ffi::CString::new(folder.as_os_str().as_encoded_bytes())
            .map(|f| unsafe { libc::access(f.as_ptr(), libc::W_OK) } == 0)
            .unwrap_or(false);
        if !writable {
            bail!(
                "database {}: this user cannot write to the folder {}; run as the service's user (sudo -u), or give it the folder",
                path.display(),
                folder.display()
            );
        }
    }
    match &c.web {
        Some(w) => writeln!(
            out,
            "web        http://{}/ ({})",
            w.listen,
            match &w.token_file {
                Some(t) => format!("token in {t}"),
                None => "no token: anyone who can reach it reads".to_string(),
            }
        )?,
        None => writeln!(out, "web        no dashboard ([web] listen not set)")?,
    }
    print_sinks(c, out)?;
    writeln!(out, "interval   {}", humantime::format_duration(c.interval))?;
    writeln!(
        out,
        "fetch      timeout {}, max body {} bytes, {} redirects, {} sources at a time",
        humantime::format_duration(c.fetch.timeout),
        c.fetch.max_body,
        c.fetch.max_redirects,
        c.fetch.concurrency
    )?;
    match figwatch::fetch::proxy::Route::of(&c.fetch.proxy) {
        Ok(route) => writeln!(out, "proxy      {}", route.describe())?,
        Err(e) => anyhow::bail!("[fetch] proxy: {e}"),
    }
    writeln!(
        out,
        "politeness {} request(s) at a time per host, {} apart",
        c.fetch.per_host_concurrency,
        humantime::format_duration(c.fetch.per_host_delay)
    )?;
    writeln!(
        out,
        "addresses  {}",
        if c.fetch.allow_private {
            "internal addresses allowed (allow_private = true)".to_string()
        } else if c.fetch.allow_hosts.is_empty() {
            "loopback, private and link-local addresses refused".to_string()
        } else {
            format!(
                "loopback, private and link-local addresses refused, except {}",
                c.fetch.allow_hosts.join(", ")
            )
        }
    )?;
    writeln!(
        out,
        "schedule   {}, jitter ±{:.0}%, backoff up to {}, source_failing after {} failures",
        if c.schedule.adaptive {
            "adaptive"
        } else {
            "fixed intervals"
        },
        c.schedule.jitter * 100.0,
        humantime::format_duration(c.schedule.max_backoff),
        c.schedule.fail_after
    )?;
    writeln!(out, "articles   {}", describe_recheck(&c.recheck))?;
    print_render(c, out)?;
    writeln!(out, "\nsources:")?;
    for s in &c.sources {
        let bounds = format!(
            "({}–{})",
            humantime::format_duration(s.min_interval),
            humantime::format_duration(s.max_interval)
        );
        writeln!(
            out,
            "  {:<5} every {:<5} {:<12} {}{}",
            s.kind.as_str(),
            humantime::format_duration(s.interval).to_string(),
            bounds,
            s.url,
            match (s.render, s.kind.lists_articles()) {
                (false, _) => "",
                (true, false) => "  (rendered in Chromium)",
                (true, true) => "  (its articles rendered in Chromium)",
            }
        )?;
        if s.kind.lists_articles() && s.recheck != c.recheck {
            writeln!(
                out,
                "        its articles: {}",
                describe_recheck(&s.recheck)
            )?;
        }
    }
    writeln!(out, "\ntopics:")?;
    for t in &c.topics {
        let measures: Vec<&str> = t.measures.iter().map(|m| m.name.as_str()).collect();
        writeln!(
            out,
            "  {:<20} {} terms, {} near groups (window {}), {} exclusions{}{}",
            t.id,
            t.terms.len(),
            t.near.len(),
            t.window,
            t.exclude.len(),
            if measures.is_empty() {
                String::new()
            } else {
                format!(", own measures: {}", measures.join(", "))
            },
            if t.name.is_empty() {
                String::new()
            } else {
                format!(" — {}", t.name)
            }
        )?;
    }
    Ok(())
}

/// `[render]`, when a source renders: the browser must be there and start, or the check fails
/// (the service's `ExecStartPre` then keeps a daemon that could not render from starting).
fn print_render(c: &Config, out: &mut impl Write) -> anyhow::Result<()> {
    let rendering = c.sources.iter().filter(|s| s.render).count();
    if rendering == 0 {
        writeln!(
            out,
            "render     no source renders (render = \"chromium\" is not set)"
        )?;
        return Ok(());
    }
    let r = &c.render;
    let chromium = figwatch::render::find_chromium(r.chromium.as_deref())?;
    let version = std::process::Command::new(&chromium)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            anyhow::anyhow!("[render] chromium: cannot run {}: {e}", chromium.display())
        })?;
    let said = String::from_utf8_lossy(&version.stdout);
    let said = said.lines().last().unwrap_or_default().trim();
    if !version.status.success() || said.is_empty() {
        bail!(
            "[render] chromium: {} --version failed ({}); is it Chromium? Install Debian's chromium package or set [render] chromium",
            chromium.display(),
            version.status
        );
    }
    writeln!(
        out,
        "render     {rendering} source(s) through {} ({}): {} tab(s), {} a page, restarted past {} MiB; every request through the guarded proxy",
        chromium.display(),
        said.escape_debug(),
        r.tabs,
        humantime::format_duration(r.timeout),
        r.max_memory >> 20
    )?;
    Ok(())
}

/// The alert sinks, without their secrets (only where a secret is read from).
fn print_sinks(c: &Config, out: &mut impl Write) -> std::io::Result<()> {
    let a = &c.alerts;
    writeln!(
        out,
        "alerts     {} sink(s); `--poll` delivers for up to {}; retries from {}, doubling to {}",
        a.sinks.len(),
        humantime::format_duration(a.delivery_timeout),
        humantime::format_duration(a.retry_initial),
        humantime::format_duration(a.retry_max)
    )?;
    for s in &a.sinks {
        let mut notes = Vec::new();
        match &s.target {
            config::SinkTarget::Webhook {
                format,
                secret_file,
                ..
            } => {
                notes.push(format!("{format:?}").to_lowercase());
                if let Some(p) = secret_file {
                    notes.push(format!("signed with the secret in {p}"));
                }
            }
            config::SinkTarget::Email {
                password_file: Some(p),
                ..
            } => notes.push(format!("password in {p}")),
            _ => {}
        }
        if !s.topics.is_empty() {
            notes.push(format!("topics {}", s.topics.join(", ")));
        }
        if !s.kinds.is_empty() {
            notes.push(format!("kinds {}", s.kinds.join(", ")));
        }
        if let Some(d) = s.digest {
            notes.push(format!("digest every {}", humantime::format_duration(d)));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        };
        writeln!(out, "  sink     {}{notes}", s.label)?;
    }
    Ok(())
}
