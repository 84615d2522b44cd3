use super::*;
use crate::alerts::Alert;
use crate::alerts::AlertKind;
use crate::config::SourceKind;
use crate::extract::Article;
use crate::figures::{FigureValue, Qualifier};

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("fw.db")).unwrap();
    (dir, store)
}

fn source(url: &str) -> SourceConfig {
    SourceConfig {
        kind: SourceKind::Feed,
        url: url::Url::parse(url).unwrap(),
        interval: std::time::Duration::from_secs(60),
        min_interval: std::time::Duration::from_secs(60),
        max_interval: std::time::Duration::from_secs(240),
        recheck: Default::default(),
        max_age: crate::config::DEFAULT_MAX_AGE,
        links: Default::default(),
        render: false,
    }
}

fn article(text: &str) -> Article {
    Article {
        title: Some("T".into()),
        text: text.into(),
        ..Default::default()
    }
}

fn alert(topic: &str, ts: &str, new: f64) -> Alert {
    Alert {
        id: String::new(),
        ts: ts.into(),
        kind: AlertKind::NewFigure,
        topic: topic.into(),
        measure: "killed".into(),
        value: Some(new),
        qualifier: Qualifier::Exact,
        unit: None,
        old: None,
        old_site: None,
        scope: String::new(),
        standing: Vec::new(),
        new: FigureValue::Number(new),
        quote: "q".into(),
        claimant: None,
        speculative: false,
        url: "https://n.example/a".into(),
        title: None,
        site: "n.example".into(),
        version: 0,
    }
}

#[test]
fn schema_is_applied_once_and_wal_is_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fw.db");
    drop(Store::open(&path).unwrap());
    let s = Store::open(&path).unwrap(); // a second open finds the schema in place
    let conn = s.conn().unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", params![], |r| r.get(0))
        .unwrap();
    assert_eq!(version, super::sqlite::MIGRATIONS.len() as i64);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", params![], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn unusable_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-db.db");
    std::fs::write(
        &path,
        b"this is certainly not an SQLite file, just some text that is long enough",
    )
    .unwrap();
    let err = Store::open(&path)
        .err()
        .expect("garbage must be refused")
        .to_string();
    assert!(err.contains("not-a-db.db"), "{err}");
    let err = Store::open(&dir.path().join("missing/dir/fw.db"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn versions_are_numbered_per_article_with_their_alerts() {
    let (_d, s) = temp_store();
    let ids = s
        .sync_sources(&[source("https://n.example/rss")])
        .unwrap()
        .0;
    assert_eq!(
        s.sync_sources(&[source("https://n.example/rss")])
            .unwrap()
            .0,
        ids,
        "stable ids"
    );
    let (a, created) = s
        .article_for("https://n.example/a", ids[0], Some("g1"), true)
        .unwrap();
    assert!(created);
    assert_eq!(
        s.article_for("https://n.example/a", ids[0], Some("g1"), true)
            .unwrap(),
        (a, false)
    );
    let (b, _) = s
        .article_for("https://n.example/b", ids[0], None, true)
        .unwrap();

    let save = |article_id, text: &str, alerts| {
        let art = article(text);
        let previous = s.latest_version(article_id).unwrap().map(|v| v.number);
        s.insert_version(NewVersion {
            article_id,
            previous,
            fetched_at: "2026-01-01T00:00:00.000Z",
            article: &art,
            flag: None,
            figures: &[],
            alerts,
            url: "https://n.example/a",
            site: "n.example",
            figure_memory: std::time::Duration::from_secs(30 * 86400),
            fetch: None,
        })
        .unwrap()
        .expect("no other writer")
    };
    let (n1, _) = save(a, "one", vec![]);
    let (n2, stored) = save(a, "two", vec![alert("t", "2026-01-01T00:00:00.000Z", 5.0)]);
    let (nb, _) = save(b, "other", vec![]);
    assert_eq!((n1, n2, nb), (1, 2, 1));
    assert_eq!(stored[0].version, 2);
    assert_eq!(stored[0].id.len(), 24);

    let latest = s.latest_version(a).unwrap().unwrap();
    assert_eq!((latest.number, latest.article.text.as_str()), (2, "two"));
    assert_eq!(latest.content_hash, article("two").content_hash());
    assert_eq!(s.version(a, 1).unwrap().unwrap().article.text, "one");
    assert!(s.version(a, 9).unwrap().is_none());

    let h = s.history(a).unwrap();
    assert_eq!(
        h.iter()
            .map(|v| (v.number, v.size, v.alerts))
            .collect::<Vec<_>>(),
        vec![(1, 3, 0), (2, 3, 1)]
    );
    assert_eq!(
        s.counts().unwrap(),
        StoreCounts {
            sources: 1,
            articles: 2,
            versions: 3,
            alerts: 1
        }
    );

    // A version computed against version 1 while version 2 was being stored is refused.
    let stale = article("three");
    let raced = s
        .insert_version(NewVersion {
            article_id: a,
            previous: Some(1),
            fetched_at: "2026-01-01T00:00:00.000Z",
            article: &stale,
            flag: None,
            figures: &[],
            alerts: vec![],
            url: "https://n.example/a",
            site: "n.example",
            figure_memory: std::time::Duration::from_secs(30 * 86400),
            fetch: None,
        })
        .unwrap();
    assert!(raced.is_none());
    assert_eq!(s.counts().unwrap().versions, 3);
}

#[test]
fn alerts_filter_by_topic_time_and_limit() {
    let (_d, s) = temp_store();
    let ids = s
        .sync_sources(&[source("https://n.example/rss")])
        .unwrap()
        .0;
    let (a, _) = s
        .article_for("https://n.example/a", ids[0], None, true)
        .unwrap();
    let art = article("x");
    let alerts = vec![
        alert("a", "2026-01-01T00:00:00.000Z", 1.0),
        alert("b", "2026-01-02T00:00:00.000Z", 2.0),
        alert("a", "2026-01-03T00:00:00.000Z", 3.0),
    ];
    s.insert_version(NewVersion {
        article_id: a,
        previous: None,
        fetched_at: "2026-01-03T00:00:00.000Z",
        article: &art,
        flag: None,
        figures: &[],
        alerts,
        url: "https://n.example/a",
        site: "n.example",
        figure_memory: std::time::Duration::from_secs(30 * 86400),
        fetch: None,
    })
    .unwrap();
    let values = |f: AlertFilter| -> Vec<f64> {
        s.alerts(&f)
            .unwrap()
            .iter()
            .map(|a| a.figure().unwrap().value.unwrap())
            .collect()
    };
    assert_eq!(values(AlertFilter::default()), vec![1.0, 2.0, 3.0]);
    assert_eq!(
        values(AlertFilter {
            topic: Some("a".into()),
            ..Default::default()
        }),
        vec![1.0, 3.0]
    );
    assert_eq!(
        values(AlertFilter {
            since: Some("2026-01-02T00:00:00.000Z".into()),
            ..Default::default()
        }),
        vec![2.0, 3.0]
    );
    assert_eq!(
        values(AlertFilter {
            limit: Some(2),
            ..Default::default()
        }),
        vec![2.0, 3.0],
        "the newest, oldest first"
    );
}

#[test]
fn source_failures_count_up_and_reset() {
    use crate::store::{PollRecord, PollResult};
    let (_d, s) = temp_store();
    let ids = s
        .sync_sources(&[source("https://n.example/rss")])
        .unwrap()
        .0;
    let record = |at: &str, result: PollResult| PollRecord {
        source_id: ids[0],
        at: at.into(),
        result,
        next_check_at: "2026-01-01T01:00:00.000Z".into(),
        interval: std::time::Duration::from_secs(60),
        http_status: None,
        alert: None,
    };
    for (at, error) in [
        ("2026-01-01T00:00:00Z", "boom"),
        ("2026-01-01T00:01:00Z", "boom again"),
    ] {
        let failed = PollResult::Failed {
            error: error.into(),
        };
        s.record_poll(record(at, failed)).unwrap();
    }
    s.flush_polls().unwrap();
    let st = &s.source_statuses().unwrap()[0];
    assert_eq!(
        (st.consecutive_failures, st.last_error.as_deref()),
        (2, Some("boom again"))
    );
    assert_eq!(
        s.source_states().unwrap()[&ids[0]].consecutive_failures,
        2,
        "read back as the scheduler reads it"
    );
    s.record_poll(record("2026-01-01T00:02:00Z", PollResult::NotModified))
        .unwrap();
    s.flush_polls().unwrap();
    let st = &s.source_statuses().unwrap()[0];
    assert_eq!(
        (st.consecutive_failures, st.last_error.as_deref()),
        (0, None)
    );
    assert_eq!(st.last_ok_at.as_deref(), Some("2026-01-01T00:02:00Z"));
    assert_eq!(
        st.next_check_at.as_deref(),
        Some("2026-01-01T01:00:00.000Z")
    );
}

#[test]
fn article_claims_hold_resume_and_free() {
    use crate::store::{Claim, NextCheck};
    let (_d, s) = temp_store();
    let ids = s
        .sync_sources(&[source("https://n.example/rss")])
        .unwrap()
        .0;
    let mut articles = Vec::new();
    for i in 0..3 {
        let (id, _) = s
            .article_for(&format!("https://n.example/{i}"), ids[0], None, true)
            .unwrap();
        let next = NextCheck::at(format!("2026-01-01T00:0{i}:00.000Z"));
        s.article_fetched(id, "2026-01-01T00:00:00.000Z", None, None, &next)
            .unwrap();
        articles.push(id);
    }
    let claim = |owner: &str, after: Option<(&str, i64)>| {
        s.claim_articles(&Claim {
            due_by: "2026-01-01T01:00:00.000Z",
            checked_before: "2026-01-01T00:30:00.000Z",
            sources: None,
            now: "2026-01-01T00:30:00.000Z",
            until: "2026-01-01T00:35:00.000Z",
            owner,
            after,
            limit: 2,
        })
        .unwrap()
    };
    // Soonest due first; a second claim resumes after the first's last row.
    let first = claim("a", None);
    assert_eq!(
        first.iter().map(|a| a.id).collect::<Vec<_>>(),
        articles[..2]
    );
    let last = first.last().unwrap();
    let second = claim("a", Some((&last.due_at, last.id)));
    assert_eq!(
        second.iter().map(|a| a.id).collect::<Vec<_>>(),
        articles[2..]
    );
    // All three are held: another process gets none, until they are freed.
    assert!(claim("b", None).is_empty());
    assert_eq!(s.article_lease_holders().unwrap(), vec!["a".to_string()]);
    assert_eq!(s.free_article_leases("a").unwrap(), 3);
    assert_eq!(claim("b", None).len(), 2);
    // A 304 writes the next check and frees the claim; a retirement takes it off the schedule.
    s.article_not_modified(
        articles[0],
        "2026-01-01T00:31:00.000Z",
        NextCheck::at("2026-01-01T02:00:00.000Z".into()),
    )
    .unwrap();
    s.reschedule_article(
        articles[1],
        "2026-01-01T00:31:00.000Z",
        &NextCheck::retired(),
    )
    .unwrap();
    s.flush_polls().unwrap();
    let a0 = s.article_schedule(articles[0]).unwrap().unwrap();
    assert_eq!(
        a0.next_check_at.as_deref(),
        Some("2026-01-01T02:00:00.000Z")
    );
    assert_eq!(
        a0.last_checked_at.as_deref(),
        Some("2026-01-01T00:31:00.000Z")
    );
    let a1 = s.article_schedule(articles[1]).unwrap().unwrap();
    assert_eq!(
        (a1.next_check_at, a1.retired_at.as_deref()),
        (None, Some("2026-01-01T00:31:00.000Z"))
    );
    let st = &s.source_statuses().unwrap()[0];
    // Due within the hour of now: the one left in 2026-01 is long due.
    assert_eq!((st.watched, st.due_within_hour, st.retired), (2, 2, 1));
    // Revived by a feed listing it anew: watched from then, due at once.
    s.revive_article(articles[1], "2026-01-02T00:00:00.000Z")
        .unwrap();
    let a1 = s.article_schedule(articles[1]).unwrap().unwrap();
    assert_eq!(a1.retired_at, None);
    assert_eq!(a1.age_from, "2026-01-02T00:00:00.000Z");
}

#[test]
fn date_arithmetic_saturates_at_the_year_9999() {
    let t = super::parse_timestamp("2026-01-01T00:00:00Z").unwrap();
    assert_eq!(
        super::timestamp(super::later(t, std::time::Duration::from_secs(3600))),
        "2026-01-01T01:00:00.000Z"
    );
    for huge in [
        std::time::Duration::MAX,
        std::time::Duration::from_secs(999_999_999_999 * 86_400),
    ] {
        assert_eq!(
            super::timestamp(super::later(t, huge)),
            "9999-12-31T23:59:59.000Z"
        );
    }
}

#[test]
fn a_store_from_before_listing_kinds_keeps_its_sources_and_what_refers_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fw.db");
    {
        // The schema as it was (every migration before 0011), with a source and an article.
        let conn = rusqlite::Connection::open(&path).unwrap();
        let before = super::sqlite::MIGRATIONS.len() - 1;
        for sql in &super::sqlite::MIGRATIONS[..before] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", before as i64)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO sources (id, url, kind, added_at, etag) VALUES (7, 'https://n.example/rss', 'feed', '2025-01-01T00:00:00Z', '\"e1\"');
             INSERT INTO articles (id, url, source_id, first_seen_at) VALUES (3, 'https://n.example/a', 7, '2025-01-01T00:00:00Z');",
        )
        .unwrap();
    }
    let s = Store::open(&path).unwrap();
    let conn = s.conn().unwrap();
    let kept: (String, String, i64) = conn
        .query_row(
            "SELECT s.url, s.etag, a.source_id FROM articles a JOIN sources s ON s.id = a.source_id",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(kept, ("https://n.example/rss".into(), "\"e1\"".into(), 7));
    // A sitemap is now a kind of source; foreign keys hold again after the rebuild.
    conn.execute(
        "INSERT INTO sources (url, kind, added_at) VALUES ('https://n.example/sitemap.xml', 'sitemap', '2025-01-02T00:00:00Z')",
        params![],
    )
    .unwrap();
    let orphan = conn.execute(
        "INSERT INTO articles (url, source_id, first_seen_at) VALUES ('https://n.example/b', 999, '2025-01-01T00:00:00Z')",
        params![],
    );
    assert!(
        orphan.is_err(),
        "foreign keys are enforced after the migrations"
    );
}
