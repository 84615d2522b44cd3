//! Finding the article's body in a parsed page, in walks over the tree html5ever built.
//!
//! A measuring walk gives every element its text, the part of it inside links, and a
//! paragraph score in the manner of Readability (each paragraph credits its parent fully and
//! its grandparent by half, more for long paragraphs and for commas, which prose has and
//! menus do not). It runs twice: once with only certain boilerplate left out, to learn how
//! much of the page each widget-looking element holds, then with the widgets left out too.
//! The element with the best score, discounted by its link density, is the article's
//! container; it grows to take in twin sections of a split body, yields to the element the
//! markup names as the article when that holds half the prose, and siblings that score
//! nearly as well join it. A last walk writes the container's text paragraph by paragraph,
//! after the standfirst when templates set that apart, skipping boilerplate and link lists.
//!
//! Unlike Readability, nothing inside the container is dropped for being short, a list or a
//! table: cut bodies hide real changes, which for figwatch is the worse failure.

use std::cell::RefCell;
use std::collections::HashMap;

use ego_tree::{NodeId, NodeRef};
use scraper::{Html, Node};

use super::boilerplate::{self, Judgement, NameMemo, Verdict};
use super::explain::{self, Dropped, Explanation};
use super::is_block;
use super::node_map::NodeMap;

mod choose;
use choose::*;

mod measure;
use measure::*;

type NodeR<'a> = NodeRef<'a, Node>;

/// A widget-looking element (`class="related"`, `<aside>`) holding at least this share of the
/// page's text is the article's container with an unlucky class, not a widget.
const CONTAINER_SHARE: f32 = 0.5;

/// The container climbs to its parent when the parent holds this much more prose...
const CLIMB_PROSE_GAIN: f32 = 1.25;
/// A marked article container must hold this share of the scored container's prose...
const MARKED_MIN_SHARE: f32 = 0.5;
/// ...and no more links than this share of its text.
const MARKED_MAX_LINK_DENSITY: f32 = 0.5;
/// How many wrapper levels up the climb looks for that parent.
const CLIMB_LEVELS: usize = 8;
/// ...and no more links than this share of its text.
const CLIMB_MAX_LINK_DENSITY: f32 = 0.35;

/// A standfirst is a sentence or a short paragraph, in characters.
const LEDE_MIN_CHARS: u32 = 40;
const LEDE_MAX_CHARS: u32 = 1000;
/// How far up from the body a standfirst may branch off.
const LEDE_LEVELS: usize = 4;

/// The most words a heading or label has.
const LABEL_MAX_WORDS: usize = 8;

/// Paragraphs shorter than this say nothing about where the article is.
const MIN_PARAGRAPH_CHARS: u32 = 25;

#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    /// Characters of text, white space runs counted once.
    chars: u32,
    /// Of those, inside `<a>`.
    link_chars: u32,
    commas: u32,
    /// True when an element child is a block: then this element is not itself a paragraph.
    has_block_child: bool,
    /// Paragraph score credited by the paragraphs below.
    score: f32,
    /// Paragraph score of the text written straight into this element or its inline
    /// children (links not counted), in runs split by its blocks and by `<br><br>`.
    inline_score: f32,
    /// How many such runs were long enough to count.
    inline_runs: u32,
    /// True when the subtree holds an element marked as the article's container.
    has_article: bool,
    /// The undecayed score of every paragraph in the subtree: how much prose it holds.
    prose: f32,
}

impl Stats {
    fn link_density(&self) -> f32 {
        if self.chars == 0 {
            0.0
        } else {
            self.link_chars as f32 / self.chars as f32
        }
    }
}

struct Measured<'a> {
    stats: NodeMap<Stats>,
    /// Elements in document order (pre-order), boilerplate subtrees left out.
    order: Vec<NodeR<'a>>,
}

/// The article body as paragraphs, one a line, or an empty string.
pub fn text(doc: &Html) -> String {
    read(doc, None)
}

/// [`text`], with what was kept and left out, and why, written into `ex`.
pub fn explained(doc: &Html, ex: &mut Explanation) -> String {
    read(doc, Some(ex))
}

fn read(doc: &Html, trace: Option<&mut Explanation>) -> String {
    let Some(body) = body_element(doc) else {
        return String::new();
    };
    let judged = Judged::of(body);
    // First measure with only the certain boilerplate left out, to know how much text each
    // widget-looking element holds; then again with the widgets left out too.
    let raw = measure(body, &|n| judged.verdict(n) == Verdict::Never, &judged);
    let page_chars = raw.stats.get(&body.id()).map_or(0, |s| s.chars) as f32;
    let page_prose = raw.stats.get(&body.id()).map_or(0.0, |s| s.prose);
    let holds_page = |n: NodeR<'_>| {
        raw.stats.get(&n.id()).is_some_and(|s| {
            (s.chars as f32) >= CONTAINER_SHARE * page_chars
                || s.prose >= CONTAINER_SHARE * page_prose && s.prose > 0.0
        })
    };
    // Where the page marks an article that holds prose, an `<aside>` or `<footer>` outside
    // it is not the page's content, however much text it holds (a sidebar's long text
    // widget). Class names are weaker evidence than tags and get no such rule.
    let marked_prose = raw.order.iter().any(|n| {
        judged.article_rank(*n).is_some_and(|r| r > MAIN_RANK)
            && raw.stats.get(&n.id()).is_some_and(|s| s.prose > 0.0)
    });
    let chrome_holds_page = |n: NodeR<'_>| {
        holds_page(n) && (!marked_prose || raw.stats.get(&n.id()).is_some_and(|s| s.has_article))
    };
    // The same for the article: a widget-looking element that holds most of the prose of the
    // article it sits in (`<article>` > `class="entry share"`) is that article's body.
    let holds_article = |n: NodeR<'_>| {
        let prose = |n: NodeR<'_>| raw.stats.get(&n.id()).map_or(0.0, |s| s.prose);
        n.ancestors()
            .find(|a| judged.article_rank(*a).is_some_and(|r| r > MAIN_RANK))
            .is_some_and(|article| prose(n) > 0.0 && prose(n) >= CONTAINER_SHARE * prose(article))
    };
    let junk_uncached = |n: NodeR<'_>| match judged.verdict(n) {
        Verdict::Never => true,
        // An article's own header holds its standfirst; the page's header is chrome.
        Verdict::Chrome if tag(n) == "header" && judged.in_article(n) => false,
        Verdict::Chrome => !chrome_holds_page(n),
        Verdict::Widget => !holds_page(n) && !holds_article(n),
        Verdict::Discussion => {
            !(holds_page(n) && raw.stats.get(&n.id()).is_some_and(|s| s.has_article))
        }
        Verdict::Keep => false,
    };
    // Each element is decided once; the walks below ask again and again.
    let decided: RefCell<NodeMap<bool>> = RefCell::default();
    let junk = |n: NodeR<'_>| {
        if let Some(j) = decided.borrow().get(&n.id()) {
            return *j;
        }
        let j = junk_uncached(n);
        decided.borrow_mut().insert(n.id(), j);
        j
    };
    let mut first = trace.is_some().then(Explanation::default);
    let text = container_text(body, &junk, &judged, first.as_mut());
    if text.len() >= DOUBTFUL_BODY_CHARS {
        if let (Some(t), Some(first)) = (trace, first) {
            *t = first;
            t.reading = READINGS[0].into();
        }
        return text;
    }
    // Class names misled: a body whose container wears a widget word (`entry share`,
    // `tip-print-step`) beside widgets that outweigh it leaves almost nothing. Then only
    // what is certain — hidden, chrome, discussion — is left out, and the longer reading wins.
    let certain = |n: NodeR<'_>| match judged.verdict(n) {
        Verdict::Widget => false,
        // A "gallery" or "comments" wrapper around the article's own marked container.
        Verdict::Discussion => !raw.stats.get(&n.id()).is_some_and(|s| s.has_article),
        _ => junk(n),
    };
    let mut second = trace.is_some().then(Explanation::default);
    let relaxed = container_text(body, &certain, &judged, second.as_mut());
    // Some templates ship the article as markup for scripts to insert (Blogger's
    // `<script type="text/template">`, a `<noscript>` copy): that markup is the body.
    let scripted = scripted_markup(body).unwrap_or_default();
    let lengths = [text.len(), relaxed.len(), scripted.len()];
    let (best, body_text) = [text, relaxed, scripted]
        .into_iter()
        .enumerate()
        .max_by_key(|(_, t)| t.len())
        .unwrap_or_default();
    if let Some(t) = trace {
        *t = match best {
            0 => first.unwrap_or_default(),
            1 => second.unwrap_or_default(),
            _ => Explanation::default(),
        };
        t.reading = format!(
            "{} (longest of three readings: {} / {} / {} bytes)",
            READINGS[best], lengths[0], lengths[1], lengths[2]
        );
    }
    body_text
}

/// The three readings of a page, in the order `read` tries them, as `--explain` names them.
const READINGS: [&str; 3] = [
    "the best-scoring container, widgets left out",
    "the best-scoring container, only certain boilerplate left out (the first reading was short)",
    "article markup kept for scripts (<noscript>, <script type=\"text/template\">)",
];

/// The longest stretch of article markup a page keeps as text for scripts: in a `<noscript>`
/// or a `<script type="text/template">`, read as a fragment.
fn scripted_markup(body: NodeR<'_>) -> Option<String> {
    let markup = body
        .descendants()
        .filter(|n| {
            n.value().as_element().is_some_and(|e| match e.name() {
                "noscript" => true,
                "script" => e.attr("type").is_some_and(|t| t.contains("template")),
                _ => false,
            })
        })
        .filter_map(|n| n.first_child()?.value().as_text().map(|t| &**t))
        .filter(|t| t.contains("<p") || t.contains("<br"))
        .max_by_key(|t| t.len())?;
    Some(super::fragment_text(markup))
}

/// The rank of `<main>` among article marks: a page-wide layout element more often than not.
const MAIN_RANK: u8 = 1;

/// A class that marks the article (`story-content`) on this many elements under as many
/// parents is a template's, for teasers.
const TEMPLATE_REPEATS: usize = 3;

/// Every element of the page judged once (tag, attributes, class words), before the walks
/// that ask about them again and again.
struct Judged<'a> {
    elements: NodeMap<Judgement<'a>>,
}

impl<'a> Judged<'a> {
    fn of(root: NodeR<'a>) -> Self {
        let mut elements = NodeMap::default();
        // Parents of each class that names the article, to tell a template's repeated mark
        // from the article's.
        let mut marked: HashMap<&'a str, Vec<Option<NodeId>>> = HashMap::new();
        let mut memo = NameMemo::default();
        for n in root.descendants() {
            if let Node::Element(e) = n.value() {
                let j = boilerplate::judge(e, &mut memo);
                if j.content_named && !j.class.is_empty() {
                    marked
                        .entry(j.class)
                        .or_default()
                        .push(n.parent().map(|p| p.id()));
                }
                elements.insert(n.id(), j);
            }
        }
        let templates: Vec<&str> = marked
            .into_iter()
            .filter_map(|(class, mut parents)| {
                parents.sort();
                parents.dedup();
                (parents.len() >= TEMPLATE_REPEATS).then_some(class)
            })
            .collect();
        if !templates.is_empty() {
            for j in elements.values_mut() {
                if j.content_named && templates.contains(&j.class) {
                    j.unmark();
                }
            }
        }
        Judged { elements }
    }

    fn get(&self, n: NodeR<'_>) -> Option<&Judgement<'a>> {
        self.elements.get(&n.id())
    }

    fn verdict(&self, n: NodeR<'_>) -> Verdict {
        match n.value() {
            Node::Element(_) => self.get(n).map_or(Verdict::Keep, |j| j.verdict),
            Node::Comment(_) | Node::ProcessingInstruction(_) | Node::Doctype(_) => Verdict::Never,
            _ => Verdict::Keep,
        }
    }

    fn article_rank(&self, n: NodeR<'_>) -> Option<u8> {
        self.get(n).and_then(|j| j.article_rank)
    }

    fn is_article(&self, n: NodeR<'_>) -> bool {
        self.article_rank(n).is_some()
    }

    /// Inside an element marked as the article.
    fn in_article(&self, n: NodeR<'_>) -> bool {
        n.ancestors().any(|a| self.is_article(a))
    }
}

/// A body shorter than this may be the wrong block of the page: it is read again, trusting
/// less of what class names say.
const DOUBTFUL_BODY_CHARS: usize = 300;

/// Measures the page without what `junk` names, chooses the container, writes its text.
fn container_text(
    body: NodeR<'_>,
    junk: &dyn Fn(NodeR<'_>) -> bool,
    judged: &Judged<'_>,
    mut ex: Option<&mut Explanation>,
) -> String {
    let measured = measure(body, junk, judged);
    let chosen = choose(&measured, body, judged);
    if let Some(ex) = ex.as_deref_mut() {
        ex.container = chosen.iter().map(|n| explain::selector(*n)).collect();
    }
    let mut out = String::new();
    if let Some(lede) = lede_before(&measured, &chosen, judged) {
        if let Some(ex) = ex.as_deref_mut() {
            ex.standfirst = Some(explain::selector(lede));
        }
        write_text(lede, &measured, junk, &mut out, tracing(judged, &mut ex));
        out.push('\n');
    }
    for node in chosen {
        write_text(node, &measured, junk, &mut out, tracing(judged, &mut ex));
        out.push('\n');
    }
    out.push_str(DROPPED);
    let all = super::normalise(&out);
    let kept = drop_orphan_labels(&all);
    if let Some(ex) = ex {
        let left: std::collections::HashSet<&str> = kept.lines().collect();
        ex.dropped_lines.extend(
            all.lines()
                .filter(|l| *l != "\u{1}" && !left.contains(l))
                .map(|l| Dropped {
                    what: "line".into(),
                    why: "a label or heading with nothing left to introduce".into(),
                    text: explain::preview(l),
                }),
        );
    }
    kept
}

/// Where `write_text` records the blocks it leaves out, when a page is being explained.
type Tracing<'t, 'j> = Option<(&'t Judged<'j>, &'t mut Explanation)>;

fn tracing<'t, 'j>(
    judged: &'t Judged<'j>,
    ex: &'t mut Option<&mut Explanation>,
) -> Tracing<'t, 'j> {
    ex.as_deref_mut().map(|ex| (judged, ex))
}

/// Why the judge left an element out, in words.
fn verdict_reason(v: Verdict) -> &'static str {
    match v {
        Verdict::Never => "never text: a script, style, form control or hidden element",
        Verdict::Chrome => {
            "page chrome by its tag or role (nav, aside, footer, header, form, figure)"
        }
        Verdict::Widget => "a widget by its class or id (sharing, related, promotion, newsletter…)",
        Verdict::Discussion => "readers' comments or a gallery, by class or id",
        Verdict::Keep => "kept by its markup",
    }
}

/// The standfirst: news templates often set it apart from the body, in the article's header
/// (`<p class="intro">`, `class="article__deck"`, `itemprop="description"`), where the body's
/// container does not reach. It counts when it stands before the body and shares one of the
/// body's near ancestors (not the page itself).
fn lede_before<'a>(
    m: &Measured<'a>,
    chosen: &[NodeR<'a>],
    judged: &Judged<'_>,
) -> Option<NodeR<'a>> {
    let first = *chosen.first()?;
    let near: Vec<NodeId> = first
        .ancestors()
        .take(LEDE_LEVELS)
        .take_while(|a| !matches!(tag(*a), "body" | "html" | ""))
        .map(|a| a.id())
        .collect();
    m.order
        .iter()
        .take_while(|n| n.id() != first.id())
        .find(|n| {
            let Some(s) = m.stats.get(&n.id()) else {
                return false;
            };
            judged.get(**n).is_some_and(|j| j.lede)
                && (LEDE_MIN_CHARS..=LEDE_MAX_CHARS).contains(&s.chars)
                && s.link_density() < 0.3
                && n.ancestors().any(|a| near.contains(&a.id()))
                && !n.descendants().any(|d| d.id() == first.id())
        })
        .copied()
}

/// The line written where a block was left out (also at the end of the text).
const DROPPED: &str = "\n\u{1}\n";

/// Labels and headings with nothing left to introduce: a short line without sentence
/// punctuation right before a block that was left out, or at the end of the text.
fn drop_orphan_labels(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    // A text of headings only (a page of captions, a list of sections) has nothing the
    // headings could have introduced: they are the text.
    if lines.iter().all(|l| *l == "\u{1}" || is_label_like(l)) {
        return lines
            .into_iter()
            .filter(|l| *l != "\u{1}")
            .collect::<Vec<_>>()
            .join("\n");
    }
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if *line == "\u{1}" {
            continue;
        }
        let next = lines.get(i + 1).copied();
        if next.is_none_or(|n| n == "\u{1}") && is_label_like(line) {
            continue;
        }
        kept.push(line);
    }
    // A label may have introduced another label that was dropped ("Mehr zum Thema" over
    // "Schlagworte:" over a tag list): one more pass from the end.
    if kept.len() > 1 && kept.last().is_some_and(|l| is_label_like(l)) {
        kept.pop();
    }
    kept.join("\n")
}

/// A line of a few words that does not end a sentence.
fn is_label_like(line: &str) -> bool {
    line.split_whitespace().count() <= LABEL_MAX_WORDS
        && !line
            .trim_end()
            .ends_with(['.', '!', '?', '。', '"', '”', '»', ')'])
}

pub(super) fn body_element(doc: &Html) -> Option<NodeR<'_>> {
    let root = doc.tree.root();
    root.descendants()
        .find(|n| n.value().as_element().is_some_and(|e| e.name() == "body"))
        .or(Some(root))
}

fn tag<'a>(n: NodeR<'a>) -> &'a str {
    n.value().as_element().map_or("", |e| e.name())
}

/// Elements that are a paragraph of the article when they hold prose.
fn is_paragraph(name: &str, stats: &Stats) -> bool {
    match name {
        "p" | "pre" | "td" | "blockquote" | "dd" => true,
        "div" | "section" | "article" | "li" | "center" => !stats.has_block_child,
        _ => false,
    }
}

/// Pre-order over the tree, not entering `skip`ped subtrees; an explicit stack, because
/// hostile pages nest elements deeper than any call stack.
fn walk<'a>(root: NodeR<'a>, skip: &dyn Fn(NodeR<'_>) -> bool, mut visit: impl FnMut(NodeR<'a>)) {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if skip(node) {
            continue;
        }
        visit(node);
        // Children pushed last-first so they pop in document order.
        let mut child = node.last_child();
        while let Some(c) = child {
            stack.push(c);
            child = c.prev_sibling();
        }
    }
}

/// The text of an element with a line break at every block boundary and `<br>`, nothing left
/// out: for fragments that are all content (a feed entry's HTML, the crate's extracted body).
pub(super) fn block_text(root: NodeR<'_>) -> String {
    let nothing = Measured {
        stats: NodeMap::default(),
        order: Vec::new(),
    };
    let mut out = String::new();
    write_text(root, &nothing, &|_| false, &mut out, None);
    super::normalise(&out)
}

/// Writes the text of `root` with a line break at every block boundary and `<br>`, leaving
/// out boilerplate and blocks that are mostly links (lists of related stories, tag clouds).
fn write_text(
    root: NodeR<'_>,
    m: &Measured<'_>,
    junk: &dyn Fn(NodeR<'_>) -> bool,
    out: &mut String,
    mut trace: Tracing<'_, '_>,
) {
    // A container that is all links (a page whose text sits inside one `<a>`) has no prose
    // to tell its link lists from.
    let all_links = m
        .stats
        .get(&root.id())
        .is_some_and(|s| s.link_density() > 0.9);
    let link_list = |n: NodeR<'_>| {
        let name = tag(n);
        let Some(s) = m.stats.get(&n.id()).filter(|_| !all_links) else {
            return false;
        };
        match name {
            "ul" | "ol" | "dl" | "table" | "div" | "section" | "article" | "nav" | "li" | "p"
            | "dd" => {
                let limit = if name == "p" { 0.8 } else { 0.5 };
                s.chars > 0 && s.link_density() > limit
            }
            _ => false,
        }
    };
    // Close markers: a block's end is written after its children, so the stack holds either
    // a node to open or a block to close.
    enum Step<'a> {
        Open(NodeR<'a>),
        Close,
    }
    let mut stack = vec![Step::Open(root)];
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::Close => {
                out.push('\n');
                continue;
            }
            Step::Open(n) => n,
        };
        match node.value() {
            Node::Text(t) => super::push_text(out, t, node),
            Node::Element(e) => {
                if node.id() != root.id() && (junk(node) || link_list(node)) {
                    if let Some((judged, ex)) = trace.as_mut() {
                        let why = || match junk(node) {
                            true => verdict_reason(judged.verdict(node)).to_string(),
                            false => format!(
                                "a list of links ({:.0}% of its text is links)",
                                m.stats.get(&node.id()).map_or(0.0, |s| s.link_density()) * 100.0
                            ),
                        };
                        ex.drop_block(node, why);
                    }
                    // Where a block is left out, a marker line stands, so that the label or
                    // heading that introduced it ("Read more:", "Related topics") goes too.
                    if is_block(e.name()) {
                        out.push_str(DROPPED);
                    }
                    continue;
                }
                let name = e.name();
                if name == "br" {
                    out.push('\n');
                    continue;
                }
                let block = is_block(name);
                if block {
                    out.push('\n');
                    stack.push(Step::Close);
                }
                let mut child = node.last_child();
                while let Some(c) = child {
                    stack.push(Step::Open(c));
                    child = c.prev_sibling();
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
