//! `figwatch extract`: the article of files or URLs, as the pipeline would store it; with
//! `--explain`, what the extractor kept and left out, and why.

use std::io::Write;

use anyhow::bail;
use url::Url;

use super::{json_lines, runtime, stdout};
use figwatch::extract::{self, explain::Explanation, Article, ExtractError};

/// Works without a configuration file (see [`super::fetch_settings`]).
pub(super) fn run(
    config: Option<&std::path::Path>,
    inputs: &[String],
    json: bool,
    explain: bool,
    render: bool,
) -> anyhow::Result<()> {
    let (user_agent, fetch, render_settings) = super::fetch_settings(config)?;
    let fetcher = figwatch::fetch::Fetcher::new(&user_agent, &fetch)?;
    // The same browser, proxy and address policy as a poll.
    let renderer = match render {
        false => None,
        true => Some(figwatch::render::Renderer::new(
            render_settings,
            &user_agent,
            &fetch,
        )?),
    };
    let rt = runtime()?;
    let mut out = stdout();
    let mut failed = 0;
    for input in inputs {
        let page = match Url::parse(input)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        {
            Some(url) => rt.block_on(async {
                let page = fetcher.get(&url).await.map_err(|e| e.to_string())?;
                match &renderer {
                    Some(r) => {
                        let shown = r.render(&page.url).await.map_err(|e| e.to_string())?;
                        Ok((shown.html.into_bytes(), Some("utf-8".into()), Some(shown.url)))
                    }
                    None => Ok::<_, String>((page.body, page.charset, Some(page.url))),
                }
            }),
            None if render => Err(format!(
                "{input}: --render needs an http(s) URL (a saved page's scripts would run without their site)"
            )),
            None => extract::read_file(std::path::Path::new(input), fetch.max_body)
                .map(|body| (body, None, None))
                .map_err(|e| format!("{input}: {e}")),
        };
        let (body, charset, url) = match page {
            Ok(p) => p,
            Err(e) => {
                eprintln!("figwatch: {e}");
                failed += 1;
                continue;
            }
        };
        let (article, explanation) = if explain {
            let (a, ex) = extract::explain_bytes(&body, charset.as_deref(), url.as_ref());
            (a, Some(ex))
        } else {
            (
                extract::extract_bytes(&body, charset.as_deref(), url.as_ref()),
                None,
            )
        };
        if let Some(ex) = &explanation {
            print_explanation(&mut out, input, article.as_ref(), ex, json)?;
            if article.is_err() {
                failed += 1;
            }
            continue;
        }
        let article = match article {
            Ok(a) => a,
            Err(e) => {
                eprintln!("figwatch: {input}: {e}");
                failed += 1;
                continue;
            }
        };
        if json {
            #[derive(serde::Serialize)]
            struct Line<'a> {
                input: &'a str,
                #[serde(flatten)]
                article: &'a Article,
            }
            let value = Line {
                input,
                article: &article,
            };
            json_lines(&mut out, &[value])?;
        } else {
            writeln!(out, "== {input}")?;
            for (label, value) in [
                ("title", &article.title),
                ("byline", &article.byline),
                ("published", &article.published),
                ("lang", &article.lang),
            ] {
                writeln!(out, "{label:<10} {}", value.as_deref().unwrap_or("-"))?;
            }
            writeln!(out, "\n{}\n", article.text.replace('\n', "\n\n"))?;
        }
    }
    if failed > 0 {
        bail!("{failed} of {} inputs could not be extracted", inputs.len());
    }
    Ok(())
}

fn print_explanation(
    out: &mut impl Write,
    input: &str,
    article: Result<&Article, &ExtractError>,
    ex: &Explanation,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        #[derive(serde::Serialize)]
        struct Line<'a> {
            input: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<String>,
            #[serde(flatten)]
            explanation: &'a Explanation,
        }
        let line = Line {
            input,
            error: article.err().map(|e| e.to_string()),
            explanation: ex,
        };
        json_lines(out, &[line])?;
        return Ok(());
    }
    writeln!(out, "== {input}")?;
    if let Err(e) = article {
        writeln!(out, "error: {e}")?;
    }
    write!(out, "{}", ex.render())?;
    Ok(())
}
