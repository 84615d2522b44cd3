//! What on a page is never the article: the page's chrome (navigation, footers, forms),
//! hidden elements, and widgets named for what they are (sharing bars, related stories,
//! newsletter boxes, comments, captions). These change from fetch to fetch; an extractor that
//! lets one of them into the body stores a new version of an article that did not change.
//!
//! Judged from the element alone (tag, class, id, role, hidden flags), so it costs one look per
//! element. Whether a widget-looking element is really the article's container wearing a
//! utility class is decided by the caller, which knows how much text it holds.

use std::sync::OnceLock;

use regex::RegexSet;
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

/// Elements whose content is never read as text. `<rt>` and `<rp>` are ruby annotations:
/// the reading of the characters they stand over (Japanese furigana), not words of the text.
const NEVER_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
    "video", "audio", "select", "textarea", "input", "button", "option", "head", "title", "meta",
    "link", "dialog", "menu", "rt", "rp",
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

/// Everything the walks ask about one element, read from its tag and attributes in one look.
#[derive(Debug, Clone, Copy)]
pub struct Judgement<'a> {
    pub verdict: Verdict,
    /// How specifically the markup names this element as the article's container:
    /// `<main>` 1, `<article>` 2, `itemprop="articleBody"` or a class such as `article-body` 3.
    pub article_rank: Option<u8>,
    /// Named as the article by class, id or `itemprop` (the rank-3 marks).
    pub content_named: bool,
    /// Marked as the standfirst (`class="intro"`, `itemprop="description"`).
    pub lede: bool,
    /// The `class` attribute as written: templates repeat it on every teaser.
    pub class: &'a str,
    /// The rank the tag alone gives (`<article>` 2, `<main>` 1).
    tag_rank: Option<u8>,
}

impl Judgement<'_> {
    /// The rank-3 mark was a template's: many elements of the page share the class
    /// (`story-content` on every teaser, `postcontent` on every post of a forum thread), so
    /// it names a kind of item, not the article. The name still weighs in the scores (a
    /// thread's posts are its content) but no longer outranks them.
    pub fn unmark(&mut self) {
        self.article_rank = self.tag_rank;
    }
}

/// The attributes judging reads, found in one pass over the element's attributes (looking
/// each up by name would intern the name every time).
#[derive(Default)]
struct Attrs<'a> {
    class: &'a str,
    id: &'a str,
    role: Option<&'a str>,
    itemprop: Option<&'a str>,
    style: Option<&'a str>,
    hidden: bool,
    aria_hidden: bool,
}

impl<'a> Attrs<'a> {
    fn of(el: &'a Element) -> Self {
        let mut a = Attrs::default();
        for (name, value) in el.attrs() {
            match name {
                "class" => a.class = value,
                "id" => a.id = value,
                "role" => a.role = Some(value),
                "itemprop" => a.itemprop = Some(value),
                "style" => a.style = Some(value),
                "hidden" => a.hidden = true,
                "aria-hidden" => a.aria_hidden = value.trim() == "true",
                _ => {}
            }
        }
        a
    }

    /// `hidden`, `aria-hidden="true"`, or an inline style that hides the element.
    fn hide(&self) -> bool {
        self.hidden
            || self.aria_hidden
            || self.style.is_some_and(|s| {
                let s: String = s
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .to_ascii_lowercase();
                s.contains("display:none") || s.contains("visibility:hidden")
            })
    }

    fn itemprop_is(&self, value: &str) -> bool {
        self.itemprop.is_some_and(|p| p.eq_ignore_ascii_case(value))
    }

    /// The class names and the id, leaving out what names no kind of block: `js-…` classes
    /// are hooks for scripts (`js-readmore`), and an id of many words is a heading's slug
    /// ("sharing-with-a-single-developer").
    fn names(&self) -> impl Iterator<Item = &'a str> {
        let id = (!self.id.is_empty() && self.id.split(['-', '_']).count() < SLUG_MIN_WORDS)
            .then_some(self.id);
        self.class
            .split_whitespace()
            .filter(|c| !c.starts_with("js-") && !c.starts_with("js_"))
            .chain(id)
    }
}

/// What the class and id words say.
#[derive(Debug, Default, Clone, Copy)]
struct Named {
    content: bool,
    lede: bool,
    discussion: bool,
    widget: bool,
}

impl std::ops::BitOrAssign for Named {
    fn bitor_assign(&mut self, o: Self) {
        self.content |= o.content;
        self.lede |= o.lede;
        self.discussion |= o.discussion;
        self.widget |= o.widget;
    }
}

/// What one class name or id says, all patterns matched in one scan. Every pattern reads
/// within one name, so an element's verdict is the union of its names'.
fn named(name: &str) -> Named {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    let set = SET.get_or_init(|| {
        RegexSet::new([CONTENT, LEDE, DISCUSSION, WIDGET_WORDS, WIDGET_PARTS])
            .expect("static regex")
    });
    let hits = set.matches(&name.to_ascii_lowercase());
    Named {
        content: hits.matched(0),
        lede: hits.matched(1),
        discussion: hits.matched(2),
        widget: hits.matched(3) || hits.matched(4),
    }
}

/// What each class name and id of a page says, read once: pages repeat the same names on
/// hundreds of elements.
#[derive(Default)]
pub struct NameMemo<'a>(std::collections::HashMap<&'a str, Named>);

impl<'a> NameMemo<'a> {
    fn named(&mut self, names: impl Iterator<Item = &'a str>) -> Named {
        let mut all = Named::default();
        for name in names {
            all |= *self.0.entry(name).or_insert_with(|| named(name));
        }
        all
    }
}

pub fn judge<'a>(el: &'a Element, memo: &mut NameMemo<'a>) -> Judgement<'a> {
    let tag = el.name();
    let a = Attrs::of(el);
    let names = memo.named(a.names());
    let content_named = names.content || a.itemprop_is("articleBody");
    let tag_rank = match tag {
        "article" => Some(2),
        "main" => Some(1),
        _ => None,
    };
    let article_rank = if content_named { Some(3) } else { tag_rank };
    let lede = names.lede || a.itemprop_is("description");
    let verdict = verdict(tag, &a, &names, article_rank.is_some());
    Judgement {
        verdict,
        article_rank,
        content_named,
        lede,
        class: a.class,
        tag_rank,
    }
}

fn verdict(tag: &str, a: &Attrs<'_>, names: &Named, article: bool) -> Verdict {
    if NEVER_TAGS.contains(&tag) || a.hide() {
        return Verdict::Never;
    }
    if CHROME_TAGS.contains(&tag)
        || a.role
            .is_some_and(|r| CHROME_ROLES.contains(&r.trim().to_ascii_lowercase().as_str()))
    {
        return Verdict::Chrome;
    }
    if (a.class.is_empty() && a.id.is_empty()) || tag == "body" || tag == "html" {
        return Verdict::Keep;
    }
    if a.class
        .split_whitespace()
        .any(|c| HIDDEN_CLASSES.contains(&c))
    {
        return Verdict::Never;
    }
    // The article's own container is never a widget, whatever its modifiers say
    // (`node--promoted`, `article--share`), nor is the summary the page marks as such
    // (`class="teaser-text" itemprop="description"`).
    if article || a.itemprop_is("description") || a.itemprop_is("abstract") {
        return Verdict::Keep;
    }
    if names.content || names.lede {
        Verdict::Keep
    } else if names.discussion {
        Verdict::Discussion
    } else if names.widget {
        Verdict::Widget
    } else {
        Verdict::Keep
    }
}

/// A class or id that names the article's own container: it outranks a widget word beside it
/// ("article-body no-share").
const CONTENT: &str = r"article[-_]?(body|content|text)|articlebody|(entry|post|story|news|main|page)[-_]?(content|body|text)|body[-_]?(text|copy)|field-name-body|(?-u:\b)prose(?-u:\b)";

/// The article's standfirst: `intro`, `lead`, `standfirst`, `article__deck`, `chapo`,
/// `teaser-text`…
const LEDE: &str = r"teaser-?text|article-?teaser|intro|standfirst|chapo|chapeau|(?-u:\b)lede|article-?_*deck|summary|perex|bajada|entradilla|sottotitolo|vorspann|anriss|strapline|(^|[\s_-])(lead|leadtext|lead-text|deck|dek|excerpt|abstract|subline|sub-?headline|subtitle|einleitung)($|[\s_-])";

/// Readers' comments and galleries.
const DISCUSSION: &str = r"comment([^a]|$)|kommentar|(^|[\s_-])(replies|reply|discussion|disqus|gallery|slideshow|carousel|legends|lightbox)($|[\s_-])";

/// Class and id words of advertising, promotion, social and navigation widgets. Short words
/// only as whole words (`ad-slot`, `share_bar`; not `header` or `shadow`)...
const WIDGET_WORDS: &str = r"(^|[\s_-])(ad|ads|adv|advert|adslot|adunit|banner|promo|promos|promotion|related|share|sharing|social|tags|tag-list|popular|trending|most-read|mostread|byline|dateline|timestamp|caption|credits?|skip|print|rss|meta|toolbar|tools|utility|masthead|topbar|top-bar|author-bio|bio|pagination|pager|nav|menu|modal|popup|overlay|cookie|consent|gdpr|paywall|login|signin|sign-in|register|newsletter|subscribe|subscription|signup|donate|breadcrumbs?|sponsor|sponsored|outbrain|taboola|recirc|recirculation|more-stories|read-more|readmore|further-reading|see-also|sidebar|rail|right-rail|left-rail|comments?|disqus|reactions?|footer|foot)($|[\s_-])";

/// ...long distinctive ones anywhere (`sidebarRight`, `commentlist`).
const WIDGET_PARTS: &str = r"comment([^a]|$)|sidebar|related|newsletter|breadcrumb|advertis|sponsor|social|sharing|share-|-share|subscribe|recommend|navigation|navbar|pagination|cookie|footer|disqus|outbrain|taboola|popular|trending|mostread|most-read|banner|teaser|author|crumb|shariff|disclaimer|affiliate|metadata|slider|linkbox|nextstory|next-story|copyright|disclosure|licen[cs]e|rating|likes|appstore|image-?description|image-?source|photo-?credit";

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
        judge(el.value(), &mut NameMemo::default()).verdict
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

    #[test]
    fn a_template_mark_falls_back_to_what_the_tag_says() {
        let doc = scraper::Html::parse_fragment(
            "<article class='story-content'>x</article><div class='story-content'>y</div>",
        );
        let mut ranks: Vec<Option<u8>> = doc
            .root_element()
            .children()
            .filter_map(scraper::ElementRef::wrap)
            .map(|e| {
                let mut j = judge(e.value(), &mut NameMemo::default());
                assert_eq!(j.article_rank, Some(3));
                j.unmark();
                j.article_rank
            })
            .collect();
        ranks.dedup();
        assert_eq!(ranks, vec![Some(2), None]);
    }
}
