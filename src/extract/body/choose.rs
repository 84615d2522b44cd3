//! Choosing the article's container from the measured tree: the best-scoring element, grown to
//! take in a split body's twin sections, yielding to the element the markup names as the article,
//! with the siblings that score nearly as well.

use super::*;

/// The container of the article and its siblings that belong to it, in document order.
pub(super) fn choose<'a>(m: &Measured<'a>, body: NodeR<'a>, judged: &Judged<'_>) -> Vec<NodeR<'a>> {
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
pub(super) fn same_kind(a: NodeR<'_>, b: NodeR<'_>) -> bool {
    match (a.value().as_element(), b.value().as_element()) {
        (Some(x), Some(y)) => x.name() == y.name() && x.attr("class") == y.attr("class"),
        _ => false,
    }
}

/// The element the page marks as its article, by how specific the marking is
/// (`itemprop="articleBody"` and `article-body` classes, then `<article>`, then `<main>`),
/// and among equals the one with most prose; only if it holds at least half the prose of the
/// scored container and is not mostly links.
pub(super) fn marked_container<'a>(
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
pub(super) fn name_weight(n: NodeR<'_>, judged: &Judged<'_>) -> f32 {
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
