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

fn measure<'a>(
    root: NodeR<'a>,
    skip: &dyn Fn(NodeR<'_>) -> bool,
    judged: &Judged<'_>,
) -> Measured<'a> {
    let mut stats: NodeMap<Stats> = NodeMap::default();
    let mut order = Vec::new();
    // The run of inline text each block is writing: (block, chars, commas).
    let mut runs: NodeMap<(NodeId, u32, u32)> = NodeMap::default();
    let end_run = |stats: &mut NodeMap<Stats>, run: Option<(NodeId, u32, u32)>| {
        if let Some((block, chars, commas)) = run.filter(|r| r.1 >= MIN_PARAGRAPH_CHARS) {
            let s = stats.or_default(block);
            s.inline_score += paragraph_score(chars, commas);
            s.inline_runs += 1;
        }
    };
    walk(root, skip, |n| match n.value() {
        Node::Element(e) => {
            stats.or_default(n.id());
            order.push(n);
            let name = e.name();
            if is_block(name) || (name == "br" && follows_br(n)) {
                if let Some(b) = n.parent().and_then(|p| writing_block(p, root)) {
                    end_run(&mut stats, runs.remove(&b.id()));
                }
            }
        }
        Node::Text(t) => {
            if let Some(parent) = n.parent() {
                let s = stats.or_default(parent.id());
                let (chars, commas) = (text_chars(t), commas(t));
                s.chars += chars;
                s.commas += commas;
                if let Some(b) = writing_block(parent, root) {
                    let run = runs.place(b.id()).get_or_insert((b.id(), 0, 0));
                    run.1 += chars;
                    run.2 += commas;
                }
            }
        }
        _ => {}
    });
    for run in runs.drain() {
        end_run(&mut stats, Some(run));
    }
    // Children before parents: fold each element's totals into its parent, and credit its
    // paragraph score to its ancestors.
    for n in order.iter().rev() {
        let name = tag(*n);
        let mut s = stats.get(&n.id()).copied().unwrap_or_default();
        if is_link(*n) {
            s.link_chars = s.chars;
        }
        if judged.is_article(*n) {
            s.has_article = true;
        }
        if n.id() == root.id() {
            continue;
        }
        // A paragraph credits its ancestors; so does text written straight into a container
        // beside its blocks (bodies built with `<br>` and no `<p>`), which credits the
        // container itself first.
        // A `<div>` of several runs split by `<br><br>` is a container of paragraphs, as
        // Readability reads it.
        let runs_of_paragraphs = name != "p" && s.inline_runs >= 2;
        let paragraph = if is_paragraph(name, &s) && !runs_of_paragraphs {
            (s.chars >= MIN_PARAGRAPH_CHARS).then(|| {
                let score = paragraph_score(s.chars, s.commas) * (1.0 - s.link_density());
                (score, n.parent())
            })
        } else if s.inline_score > 0.0 {
            Some((s.inline_score, Some(*n)))
        } else {
            None
        };
        if let Some((score, _)) = paragraph {
            s.prose += score;
        }
        // Stored before crediting: text written into the element credits the element itself.
        stats.insert(n.id(), s);
        if let Some((score, first)) = paragraph {
            let mut ancestor = first;
            let mut level = 1.0f32;
            while let Some(a) = ancestor.filter(|_| level <= 3.0) {
                if let Some(st) = stats.get_mut(&a.id()) {
                    st.score += if level == 1.0 {
                        score
                    } else {
                        score / (level * 1.5)
                    };
                }
                if a.id() == root.id() {
                    break;
                }
                ancestor = a.parent();
                level += 1.0;
            }
        }
        let s = stats.get(&n.id()).copied().unwrap_or_default();
        if let Some(parent) = n.parent() {
            let p = stats.or_default(parent.id());
            p.chars += s.chars;
            p.link_chars += s.link_chars;
            p.commas += s.commas;
            p.prose += s.prose;
            p.has_article |= s.has_article;
            p.has_block_child |= is_block(name);
        }
    }
    Measured { stats, order }
}

/// Readability's paragraph score: one, plus one a comma, plus one a hundred characters
/// up to three.
fn paragraph_score(chars: u32, commas: u32) -> f32 {
    (1 + commas) as f32 + (chars as f32 / 100.0).min(3.0)
}

/// How far up from a text node its block is looked for: inline markup nests a few levels;
/// text deeper in inline elements than this (hostile pages) counts for no paragraph.
const INLINE_LEVELS: usize = 16;

/// An `<a>` that links: not a named anchor (`<a name="section">`) or a bare stray `<a/>`
/// that the parser leaves open over the rest of the page, whose text is prose. Script links
/// without `href` (`<a onclick>`, `<a class="btn">`) are links.
fn is_link(n: NodeR<'_>) -> bool {
    n.value().as_element().is_some_and(|e| {
        e.name() == "a" && e.attrs().any(|(name, _)| name != "name" && name != "id")
    })
}

/// The block a text node inside `parent` writes into, through inline elements; none for
/// link text, which is no paragraph's prose.
fn writing_block<'a>(parent: NodeR<'a>, root: NodeR<'a>) -> Option<NodeR<'a>> {
    let mut at = parent;
    for _ in 0..INLINE_LEVELS {
        if is_link(at) {
            return None;
        }
        let name = tag(at);
        if is_block(name) || at.id() == root.id() || !at.value().is_element() {
            return Some(at);
        }
        at = at.parent()?;
    }
    None
}

/// A `<br>` right after another (white space between): the end of a paragraph.
fn follows_br(n: NodeR<'_>) -> bool {
    let mut prev = n.prev_sibling();
    while let Some(p) = prev {
        match p.value() {
            Node::Text(t) if t.trim().is_empty() => prev = p.prev_sibling(),
            Node::Element(e) => return e.name() == "br",
            _ => return false,
        }
    }
    false
}

fn commas(t: &str) -> u32 {
    t.chars()
        .filter(|c| matches!(c, ',' | '，' | '、' | '،'))
        .count() as u32
}

/// Characters in a text node with every run of white space counted as one.
fn text_chars(t: &str) -> u32 {
    let mut n = 0u32;
    let mut space = true;
    for c in t.chars() {
        if c.is_whitespace() {
            if !space {
                n += 1;
            }
            space = true;
        } else {
            n += 1;
            space = false;
        }
    }
    n
}

/// The container of the article and its siblings that belong to it, in document order.
fn choose<'a>(m: &Measured<'a>, body: NodeR<'a>, judged: &Judged<'_>) -> Vec<NodeR<'a>> {
    let final_score = |n: NodeR<'_>| {
        let s = m.stats.get(&n.id()).copied().unwrap_or_default();
        s.score * (1.0 - s.link_density()) + name_weight(n, judged)
    };
    let best = m
        .order
        .iter()
        .filter(|n| m.stats.get(&n.id()).is_some_and(|s| s.score > 0.0))
        .map(|&n| (n, final_score(n)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let Some((mut top, mut top_score)) = best else {
        return vec![body];
    };
    // A body split into several containers (one per section, or around each advertisement)
    // scores in the one with most paragraphs; climb while an ancestor holds clearly more prose
    // and is not a link farm.
    let stats = |n: NodeR<'_>| m.stats.get(&n.id()).copied().unwrap_or_default();
    // Wrappers that add nothing are looked through, up to a few levels. The prose that makes
    // the climb worth it must sit in twins of the branch the container is on (same tag, same
    // class: the body's other sections), or in several smaller blocks; not in one block that
    // outweighs the container, such as a live blog beside the story.
    loop {
        let here = stats(top);
        let mut branch = top;
        let mut better = None;
        for a in top
            .ancestors()
            .take_while(|a| a.value().is_element())
            .take(CLIMB_LEVELS)
        {
            let others = || a.children().filter(|c| c.id() != branch.id());
            let twins: f32 = others()
                .filter(|c| same_kind(*c, branch))
                .map(|c| stats(c).prose)
                .sum();
            let largest_other = others().map(|c| stats(c).prose).fold(0.0, f32::max);
            let prose_blocks = others().filter(|c| stats(*c).prose > 0.0).count();
            let gain = here.prose * (CLIMB_PROSE_GAIN - 1.0);
            let worth = twins >= gain
                || (stats(a).prose >= here.prose + gain
                    && largest_other < here.prose
                    && prose_blocks >= 2);
            if worth && stats(a).link_density() <= CLIMB_MAX_LINK_DENSITY {
                better = Some(a);
            }
            branch = a;
        }
        let Some(up) = better else { break };
        top = up;
        top_score = top_score.max(final_score(up));
        if up.id() == body.id() || !body.ancestors().all(|a| a.id() != up.id()) {
            break;
        }
    }
    // Markup that names the article's container outranks the scores, when it holds a fair
    // share of the prose: scores mislead on bodies with few commas or many small blocks, and
    // on pages whose comments or author boxes outweigh the article.
    if let Some(marked) = marked_container(m, stats(top).prose, judged) {
        if marked.id() != top.id() {
            top = marked;
            top_score = top_score.max(final_score(marked));
        }
    }
    let Some(parent) = top.parent() else {
        return vec![top];
    };
    let threshold = (top_score * 0.2).max(10.0);
    parent
        .children()
        .filter(|c| {
            c.id() == top.id()
                || m.stats.get(&c.id()).is_some_and(|s| {
                    final_score(*c) >= threshold
                        || (is_paragraph(tag(*c), s) && s.chars > 80 && s.link_density() < 0.25)
                })
        })
        .collect()
}

/// Two elements of the same tag and class: sections of one body.
fn same_kind(a: NodeR<'_>, b: NodeR<'_>) -> bool {
    match (a.value().as_element(), b.value().as_element()) {
        (Some(x), Some(y)) => x.name() == y.name() && x.attr("class") == y.attr("class"),
        _ => false,
    }
}

/// The element the page marks as its article, by how specific the marking is
/// (`itemprop="articleBody"` and `article-body` classes, then `<article>`, then `<main>`),
/// and among equals the one with most prose; only if it holds at least half the prose of the
/// scored container and is not mostly links.
fn marked_container<'a>(
    m: &Measured<'a>,
    scored_prose: f32,
    judged: &Judged<'_>,
) -> Option<NodeR<'a>> {
    m.order
        .iter()
        .filter_map(|&n| {
            let r = judged.article_rank(n)?;
            let s = m.stats.get(&n.id())?;
            (s.prose >= MARKED_MIN_SHARE * scored_prose
                && s.prose > 0.0
                && s.link_density() <= MARKED_MAX_LINK_DENSITY)
                .then_some((r, s.prose, n))
        })
        // Among equals, the one whose prose is closest to the scored container's: a page
        // may mark both its layout column (`main-content`) and the article (`article-body`).
        .max_by(|a, b| {
            a.0.cmp(&b.0).then(
                (b.1 - scored_prose)
                    .abs()
                    .total_cmp(&(a.1 - scored_prose).abs()),
            )
        })
        .map(|(_, _, n)| n)
}

/// Class and id names that say "article" or "widget" weigh on the choice of container.
fn name_weight(n: NodeR<'_>, judged: &Judged<'_>) -> f32 {
    let Some(e) = n.value().as_element() else {
        return 0.0;
    };
    let mut w = 0.0;
    if judged.get(n).is_some_and(|j| j.content_named) {
        w += 25.0;
    }
    match e.name() {
        "article" | "main" => w += 10.0,
        "div" => w += 5.0,
        "pre" | "td" | "blockquote" => w += 3.0,
        "ul" | "ol" | "dl" | "li" | "form" => w -= 3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => w -= 5.0,
        _ => {}
    }
    w
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
mod tests {
    use super::*;

    #[test]
    fn picks_the_article_and_leaves_the_chrome() {
        let html = r##"<html><body>
            <nav><a href="/">Home</a> <a href="/world">World</a></nav>
            <div class="content">
              <div class="story">
                <p>The first paragraph of the story, long enough to count, with a comma, and more.</p>
                <div class="share-bar"><a href="#">Share on Facebook</a></div>
                <p>The second paragraph, also long enough to count as prose, with commas, too.</p>
                <ul><li>A list item inside the article, which stays.</li></ul>
              </div>
              <div class="related"><ul><li><a href="/a">Another story about something</a></li>
                <li><a href="/b">Yet another story about something else</a></li></ul></div>
            </div>
            <footer>Copyright 2025, the publisher, all rights reserved, everywhere.</footer>
        </body></html>"##;
        let text = text(&Html::parse_document(html));
        assert_eq!(
            text,
            "The first paragraph of the story, long enough to count, with a comma, and more.\n\
             The second paragraph, also long enough to count as prose, with commas, too.\n\
             A list item inside the article, which stays."
        );
    }

    #[test]
    fn a_container_with_a_widget_class_is_still_read() {
        let para = "<p>Prose with commas, clauses, and the length that articles have, again.</p>";
        let html = format!(
            "<html><body><div class='related-content'>{}</div><p><a href='/x'>x</a></p></body></html>",
            para.repeat(5)
        );
        assert!(text(&Html::parse_document(&html)).starts_with("Prose with commas"));
    }

    /// A paragraph of prose with commas, numbered so each is distinct.
    fn prose(n: usize) -> String {
        format!("<p>Paragraph {n} of the story, with commas, clauses, and the length that real articles have in them.</p>")
    }

    #[test]
    fn an_article_body_wearing_a_widget_class_beside_bigger_comments_is_read() {
        let story: String = (1..=3).map(prose).collect();
        let comments: String = (10..=30).map(prose).collect();
        let html = format!(
            "<html><body><article><h1>Title</h1><div class='entry share'>{story}</div></article>\
             <section id='comments'>{comments}</section></body></html>"
        );
        let text = text(&Html::parse_document(&html));
        assert!(
            text.starts_with("Title\nParagraph 1 of the story"),
            "{text}"
        );
        assert!(!text.contains("Paragraph 10"), "{text}");
    }

    #[test]
    fn a_class_every_teaser_wears_does_not_outrank_the_article() {
        let teaser = |n: usize| {
            format!(
                "<li><div class='story-content'><p>Teaser {n} says a little, with a comma, \
                 and stops.</p></div></li>"
            )
        };
        let teasers: String = (1..=6).map(teaser).collect();
        let story: String = (1..=6)
            .map(|n| format!("<div><div>{}</div></div>", prose(n)))
            .collect();
        let html = format!(
            "<html><body><article class='story'><h1>Title</h1>{story}</article>\
             <ul class='more'>{teasers}</ul></body></html>"
        );
        let text = text(&Html::parse_document(&html));
        assert!(
            text.starts_with("Title\nParagraph 1 of the story"),
            "{text}"
        );
        assert!(text.contains("Paragraph 6 of the story"), "{text}");
        assert!(!text.contains("Teaser"), "{text}");
    }

    #[test]
    fn each_run_between_double_breaks_scores_as_a_paragraph_of_its_container() {
        let run = "A run of the story written without paragraph markup as old sites do.<br><br>";
        let html = format!(
            "<html><body><div id='story'><div>Intro box</div>{}</div></body></html>",
            run.repeat(5)
        );
        let doc = Html::parse_document(&html);
        let body = body_element(&doc).expect("a body");
        let judged = Judged::of(body);
        let m = measure(body, &|_| false, &judged);
        let story = body
            .descendants()
            .find(|n| n.value().as_element().and_then(|e| e.id()) == Some("story"))
            .expect("the story div");
        let s = m.stats[&story.id()];
        assert_eq!(s.inline_runs, 5);
        // Five paragraphs of one point and some length each, credited to the div itself.
        assert!(s.score >= 5.0 * 1.6, "{s:?}");
    }

    #[test]
    fn text_inside_an_unclosed_named_anchor_is_prose_not_links() {
        let story: String = (1..=4).map(prose).collect();
        let html = format!(
            "<html><body><div>{}<h2><a name='intro'>Intro</h2><blockquote>{story}</blockquote></div>\
             <ul><li><a href='/a'>Another page of the site</a></li></ul></body></html>",
            prose(0)
        );
        let text = text(&Html::parse_document(&html));
        assert!(text.contains("Paragraph 4 of the story"), "{text}");
        assert!(!text.contains("Another page"), "{text}");
    }

    #[test]
    fn a_sidebar_with_more_text_than_the_article_is_left_out() {
        let story: String = (1..=4).map(prose).collect();
        let widget =
            "Lines of a text widget, with commas, many of them, in a sidebar.<br><br>".repeat(20);
        let html = format!(
            "<html><body><article><h1>Title</h1>{story}</article>\
             <aside class='widget'><div class='textwidget'>{widget}</div></aside></body></html>"
        );
        let text = text(&Html::parse_document(&html));
        assert!(text.contains("Paragraph 4 of the story"), "{text}");
        assert!(!text.contains("text widget"), "{text}");
    }

    #[test]
    fn reads_the_standfirst_from_the_articles_header() {
        let html = format!(
            "<html><body><header><a href='/'>Site</a></header><article><header><h1>Headline</h1>\
             <p class='intro'>The standfirst says what happened, in one sentence of its own.</p></header>\
             <div class='article-body'>{}</div></article></body></html>",
            (1..=4).map(prose).collect::<String>()
        );
        let text = text(&Html::parse_document(&html));
        assert!(
            text.starts_with("The standfirst says what happened"),
            "{text}"
        );
        assert!(!text.contains("Site"));
    }

    #[test]
    fn comments_that_outweigh_the_article_are_left_out() {
        let comments: String = (10..=30)
            .map(|n| format!("<li class='comment'>{}</li>", prose(n)))
            .collect();
        let html = format!(
            "<html><body><div class='story'>{}</div><ol class='comment-list'>{comments}</ol></body></html>",
            (1..=3).map(prose).collect::<String>()
        );
        let text = text(&Html::parse_document(&html));
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.starts_with("Paragraph 1 "));
    }

    #[test]
    fn a_body_split_into_sections_is_read_whole() {
        // The body in twin sections, as templates split it around advertisements.
        let sections: String = (1..=4)
            .map(|n| {
                format!(
                    "<div class='body-part'><div class='inner'>{}{}</div></div><div class='ad'>Advertisement</div>",
                    prose(2 * n),
                    prose(2 * n + 1)
                )
            })
            .collect();
        let html = format!("<html><body><nav><a href='/'>Home</a></nav><section>{sections}</section></body></html>");
        let text = text(&Html::parse_document(&html));
        assert_eq!(text.lines().count(), 8, "{text}");
        assert!(!text.contains("Advertisement"));
    }

    #[test]
    fn source_line_breaks_do_not_split_paragraphs() {
        let html = format!(
            "<html><body><div>{}<p>About 4,000 soldiers\n  were deployed, officials said, in the region.</p></div></body></html>",
            prose(1)
        );
        let text = text(&Html::parse_document(&html));
        assert!(
            text.ends_with("\nAbout 4,000 soldiers were deployed, officials said, in the region."),
            "{text}"
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = format!("{}<p>deep</p>", "<div>".repeat(5_000));
        assert_eq!(text(&Html::parse_document(&html)), "deep");
    }
}
