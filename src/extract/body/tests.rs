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
    let html = format!(
        "<html><body><nav><a href='/'>Home</a></nav><section>{sections}</section></body></html>"
    );
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
