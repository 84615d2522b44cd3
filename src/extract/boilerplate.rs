//! What on a page is never the article: the page's chrome (navigation, footers, forms),
//! hidden elements, and widgets named for what they are (sharing bars, related stories,
//! newsletter boxes, comments, captions). These change from fetch to fetch; an extractor that
//! lets one of them into the body stores a new version of an article that did not change.
//!
//! Judged from the element alone (tag, class, id, role, hidden flags), so it costs one look per
//! element. Whether a widget-looking element is really the article's container wearing a
//! utility class is decided by the caller, which knows how much text it holds.

use std::sync::OnceLock;

use regex::Regex;
use scraper::node::Element;

/// How sure the element is boilerplate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Content, or a container that may hold it.
    Keep,
    /// Never text a reader reads: scripts, styles, hidden elements, form controls.
    Never,
    /// Chrome by its tag or role (`<aside>`, `role="banner"`); the caller keeps it when it holds
    /// most of the page's text, as ASP.NET's page-wide `<form>` does.
    Chrome,
    /// A widget by its class or id; the caller keeps it when it holds most of the page, as
    /// layout wrappers named `with-sidebar` or `entry share` do.
    Widget,
    /// Readers' comments or a gallery's captions by class or id: these can outweigh the
    /// article, so the caller keeps them only when they wrap the article's marked container.
    Discussion,
}

/// Elements whose content is never read as text.
const NEVER_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
    "video", "audio", "select", "textarea", "input", "button", "option", "head", "title", "meta",
    "link", "dialog", "menu",
];

/// Elements that hold chrome on most pages but wrap the whole page on some (ASP.NET pages put
/// everything in one `<form>`), so they are only "likely".
const CHROME_TAGS: &[&str] = &[
    "nav",
    "aside",
    "footer",
    "header",
    "form",
    "figure",
    "figcaption",
];

/// An id with this many hyphenated words or more is a heading's slug.
const SLUG_MIN_WORDS: usize = 4;

/// Whole class names that hide an element (modifiers such as `field--label-hidden` hide
/// something else).
const HIDDEN_CLASSES: &[&str] = &[
    "hidden",
    "is-hidden",
    "d-none",
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "screen-reader-text",
    "element-invisible",
];

const CHROME_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "menu",
    "menubar",
    "search",
    "dialog",
    "alertdialog",
    "toolbar",
];

pub fn judge(el: &Element) -> Verdict {
    let tag = el.name();
    if NEVER_TAGS.contains(&tag) || hidden(el) {
        return Verdict::Never;
    }
    if CHROME_TAGS.contains(&tag)
        || el
            .attr("role")
            .is_some_and(|r| CHROME_ROLES.contains(&r.trim().to_ascii_lowercase().as_str()))
    {
        return Verdict::Chrome;
    }
    let (class, id) = (el.attr("class").unwrap_or(""), el.id().unwrap_or(""));
    if (class.is_empty() && id.is_empty()) || tag == "body" || tag == "html" {
        return Verdict::Keep;
    }
    if class
        .split_whitespace()
        .any(|c| HIDDEN_CLASSES.contains(&c))
    {
        return Verdict::Never;
    }
    // The article's own container is never a widget, whatever its modifiers say
    // (`node--promoted`, `article--share`), nor is the summary the page marks as such
    // (`class="teaser-text" itemprop="description"`).
    if is_article_container(el)
        || el.attr("itemprop").is_some_and(|p| {
            p.eq_ignore_ascii_case("description") || p.eq_ignore_ascii_case("abstract")
        })
    {
        return Verdict::Keep;
    }
    // `js-…` classes are hooks for scripts (`js-readmore`, `js-slider-toggle`), not names for
    // what the element is.
    let classes: Vec<&str> = class
        .split_whitespace()
        .filter(|c| !c.starts_with("js-") && !c.starts_with("js_"))
        .collect();
    // An id of many words is a slug of a heading ("sharing-with-a-single-developer"), which
    // says what a section is about, not what kind of block it is.
    let id = if id.split(['-', '_']).count() >= SLUG_MIN_WORDS {
        ""
    } else {
        id
    };
    let names = format!("{} {id}", classes.join(" ")).to_ascii_lowercase();
    if content_name(&names) || lede_name(&names) {
        Verdict::Keep
    } else if discussion_name(&names) {
        Verdict::Discussion
    } else if widget_name(&names) {
        Verdict::Widget
    } else {
        Verdict::Keep
    }
}

/// The article's own container by its markup: `<article>`, `<main>`, `itemprop="articleBody"`
/// or a class such as `article-body`.
pub fn is_article_container(el: &Element) -> bool {
    if matches!(el.name(), "article" | "main") {
        return true;
    }
    if el.attrs().next().is_none() {
        return false;
    }
    el.attr("itemprop")
        .is_some_and(|p| p.eq_ignore_ascii_case("articleBody"))
        || content_name(
            &format!(
                "{} {}",
                el.attr("class").unwrap_or(""),
                el.id().unwrap_or("")
            )
            .to_ascii_lowercase(),
        )
}

/// A class or id that names the article's own container: it outranks a widget word beside it
/// ("article-body no-share").
pub fn content_name(names: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"article[-_]?(body|content|text)|articlebody|(entry|post|story|news|main|page)[-_]?(content|body|text)|body[-_]?(text|copy)|field-name-body|(?-u:\b)prose(?-u:\b)",
        )
        .expect("static regex")
    })
    .is_match(names)
}

/// Class and id words of advertising, promotion, social and navigation widgets. Short words
/// only as whole words (`ad-slot`, `share_bar`; not `header` or `shadow`), long distinctive
/// ones anywhere (`sidebarRight`, `commentlist`).
/// The article's standfirst by its markup: `itemprop="description"` or a class such as
/// `intro`, `lead`, `standfirst`, `article__deck`, `chapo`, `teaser-text`.
pub fn is_lede(el: &Element) -> bool {
    el.attr("itemprop")
        .is_some_and(|p| p.eq_ignore_ascii_case("description"))
        || lede_name(
            &format!(
                "{} {}",
                el.attr("class").unwrap_or(""),
                el.id().unwrap_or("")
            )
            .to_ascii_lowercase(),
        )
}

fn lede_name(names: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"teaser-?text|article-?teaser|intro|standfirst|chapo|chapeau|(?-u:\b)lede|article-?_*deck|summary|perex|bajada|entradilla|sottotitolo|vorspann|anriss|strapline|(^|[\s_-])(lead|leadtext|lead-text|deck|dek|excerpt|abstract|subline|sub-?headline|subtitle|einleitung)($|[\s_-])",
        )
        .expect("static regex")
    })
    .is_match(names)
}

fn discussion_name(names: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"comment([^a]|$)|kommentar|(^|[\s_-])(replies|reply|discussion|disqus|gallery|slideshow|carousel|legends|lightbox)($|[\s_-])",
        )
        .expect("static regex")
    })
    .is_match(names)
}

fn widget_name(names: &str) -> bool {
    static WORDS: OnceLock<Regex> = OnceLock::new();
    static PARTS: OnceLock<Regex> = OnceLock::new();
    let words = WORDS.get_or_init(|| {
        Regex::new(
            r"(^|[\s_-])(ad|ads|adv|advert|adslot|adunit|banner|promo|promos|promotion|related|share|sharing|social|tags|tag-list|popular|trending|most-read|mostread|byline|dateline|timestamp|caption|credits?|skip|print|rss|meta|toolbar|tools|utility|masthead|topbar|top-bar|author-bio|bio|pagination|pager|nav|menu|modal|popup|overlay|cookie|consent|gdpr|paywall|login|signin|sign-in|register|newsletter|subscribe|subscription|signup|donate|breadcrumbs?|sponsor|sponsored|outbrain|taboola|recirc|recirculation|more-stories|read-more|readmore|further-reading|see-also|sidebar|rail|right-rail|left-rail|comments?|disqus|reactions?|footer|foot)($|[\s_-])",
        )
        .expect("static regex")
    });
    let parts = PARTS.get_or_init(|| {
        Regex::new(
            r"comment([^a]|$)|sidebar|related|newsletter|breadcrumb|advertis|sponsor|social|sharing|share-|-share|subscribe|recommend|navigation|navbar|pagination|cookie|footer|disqus|outbrain|taboola|popular|trending|mostread|most-read|banner|teaser|author|crumb|shariff|disclaimer|affiliate|metadata|slider|linkbox|nextstory|next-story|copyright|disclosure|licen[cs]e|rating|likes|appstore|image-?description|image-?source|photo-?credit",
        )
        .expect("static regex")
    });
    words.is_match(names) || parts.is_match(names)
}

/// `hidden`, `aria-hidden="true"`, or an inline style that hides the element.
fn hidden(el: &Element) -> bool {
    if el.attr("hidden").is_some() || el.attr("aria-hidden").is_some_and(|v| v.trim() == "true") {
        return true;
    }
    el.attr("style").is_some_and(|s| {
        let s: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(html: &str) -> Verdict {
        let doc = scraper::Html::parse_fragment(html);
        let el = doc
            .root_element()
            .first_child()
            .and_then(scraper::ElementRef::wrap)
            .expect("an element");
        judge(el.value())
    }

    #[test]
    fn judges_by_tag_class_and_flags() {
        assert_eq!(verdict("<script>x</script>"), Verdict::Never);
        assert_eq!(
            verdict("<div style='display: none'>x</div>"),
            Verdict::Never
        );
        assert_eq!(verdict("<nav>x</nav>"), Verdict::Chrome);
        assert_eq!(verdict("<div class='share-bar'>x</div>"), Verdict::Widget);
        assert_eq!(verdict("<div id='sidebarRight'>x</div>"), Verdict::Widget);
        assert_eq!(verdict("<div class='header shadow'>x</div>"), Verdict::Keep);
        assert_eq!(
            verdict("<div class='sect_commentlist'>x</div>"),
            Verdict::Discussion
        );
        assert_eq!(
            verdict("<div class='news subjective commentary'>x</div>"),
            Verdict::Keep,
            "an opinion piece"
        );
        assert_eq!(
            verdict("<div class='article-body no-comments'>x</div>"),
            Verdict::Keep
        );
        assert_eq!(verdict("<p>x</p>"), Verdict::Keep);
        assert_eq!(
            verdict("<div class='section' id='sharing-with-a-single-developer'>x</div>"),
            Verdict::Keep,
            "a heading's slug"
        );
        assert_eq!(verdict("<span class='sr-only'>x</span>"), Verdict::Never);
        assert_eq!(
            verdict("<div class='field field--label-hidden'>x</div>"),
            Verdict::Keep
        );
        assert_eq!(
            verdict("<article class='node node--promoted'>x</article>"),
            Verdict::Keep
        );
    }
}
