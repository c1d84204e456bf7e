//! The archive on both backends: a real SQLite file in a temporary folder, and a real PostgreSQL
//! database created for the test and dropped after it (skipped with the reason when no server
//! answers, a failure under CI). Every behaviour test runs on both: saving, reading back, listing
//! with filters and search, aggregates, deleting, reopening, refusing a newer schema, and the
//! feed-item claims that let several processes share one archive.

use rhetor_store::{
    Archive, Claim, Completed, FeedState, ItemClaim, ListFilter, NewArticle, SqliteArchive,
    StoreError,
};
use std::sync::{Arc, OnceLock};

/// Where a test's archive lives; reopened by [`Backend::open`] as a new process would.
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(rhetor_testkit::TempDb),
}

impl Backend {
    fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }

    fn postgres() -> Option<Backend> {
        let server = rhetor_testkit::require(rhetor_testkit::postgres())?;
        Some(Backend::Postgres(server.create_db()))
    }

    fn db(&self) -> String {
        match self {
            Backend::Sqlite(d) => d.path().join("a.db").display().to_string(),
            Backend::Postgres(t) => t.url.clone(),
        }
    }

    fn open(&self) -> Arc<dyn Archive> {
        rhetor_store::open(&self.db()).unwrap()
    }

    /// Runs one statement straight on the database, behind the archive's back.
    fn execute(&self, sql: &str) {
        match self {
            Backend::Sqlite(_) => {
                rusqlite::Connection::open(self.db())
                    .unwrap()
                    .execute_batch(sql)
                    .unwrap();
            }
            Backend::Postgres(t) => {
                ::postgres::Client::connect(&t.url, ::postgres::NoTls)
                    .unwrap()
                    .batch_execute(sql)
                    .unwrap();
            }
        }
    }
}

/// One test per backend from one body taking the [`Backend`].
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(super::Backend::sqlite()) })*
        }
        mod postgres {
            $(#[test] fn $name() {
                if let Some(b) = super::Backend::postgres() { super::$name(b) }
            })*
        }
    };
}

on_both!(
    reopening_keeps_data_and_does_not_reapply,
    list_filters_searches_and_pages_newest_first,
    stats_aggregate_per_outlet_technique_and_day,
    an_archive_from_a_newer_version_is_refused,
    the_archive_works_behind_the_trait_object,
    an_item_is_claimed_once_and_done_once,
    an_expired_lease_is_taken_over_and_a_late_completion_is_not_saved_twice,
    failed_items_are_retried_up_to_the_limit,
    the_same_text_under_two_urls_is_saved_once,
    racing_threads_claim_each_item_once,
    feed_validators_are_saved_and_replaced,
    provenance_and_content_hash_are_stored,
    outlet_report_matches_the_hand_computed_numbers,
    outlet_report_filters_by_day_and_technique,
);

#[path = "fixtures/outlets.rs"]
mod outlets;

fn analyzer() -> &'static rhetor::Analyzer {
    static A: OnceLock<rhetor::Analyzer> = OnceLock::new();
    A.get_or_init(|| rhetor::Analyzer::load_fast().expect("built-in fast model"))
}

fn article(text: &str, source: &str) -> NewArticle {
    NewArticle::new(analyzer().analyze(text).unwrap()).with_source(source)
}

const LOADED: &str = "They are a gang of traitors. This shameful, cowardly surrender must end now!";
const PLAIN: &str = "The committee met on Tuesday. It will meet again next month.";

fn reopening_keeps_data_and_does_not_reapply(b: Backend) {
    let id = {
        let db = b.open();
        db.insert(&article(LOADED, "Example")).unwrap()
    };
    let db = b.open();
    assert_eq!(
        db.migrations().unwrap(),
        ["20261125170000_init", "20261202060000_feeds"]
    );
    let rec = db.get(id).unwrap().unwrap();
    assert_eq!(rec.summary.source.as_deref(), Some("Example"));
    assert_eq!(rec.analysis["text"], LOADED);
    assert_eq!(db.count().unwrap(), 1);
    assert!(db.delete(id).unwrap());
    assert!(db.get(id).unwrap().is_none());
    assert!(!db.delete(id).unwrap());
    assert_eq!(db.count().unwrap(), 0);
}

#[test]
fn a_postgres_url_that_answers_nothing_is_an_open_error_without_the_password() {
    let err = rhetor_store::open("postgres://someone:hunter2@127.0.0.1:1/nowhere")
        .err()
        .expect("refused");
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("127.0.0.1:1") && !msg.contains("hunter2"),
        "{msg}"
    );
}

#[test]
fn the_file_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let _db = SqliteArchive::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

fn list_filters_searches_and_pages_newest_first(b: Backend) {
    let db = b.open();
    let loaded = article(LOADED, "Daily Example");
    let technique = loaded.analysis.counts.keys().next().cloned();
    let a = db.insert(&loaded).unwrap();
    let b = db.insert(&article(PLAIN, "Gazette")).unwrap();
    let mut titled = article("100% sure_ of it, a plain sentence.", "Gazette");
    titled.title = Some("Budget 100% done".into());
    let c = db.insert(&titled).unwrap();

    let all = db
        .list(&ListFilter {
            per_page: 20,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all.total, 3);
    let ids: Vec<i64> = all.articles.iter().map(|s| s.id).collect();
    assert_eq!(ids, [c, b, a]);
    // Page 0 and size 0 are read as the first page of one.
    let first = db.list(&ListFilter::default()).unwrap();
    assert_eq!((first.page, first.per_page, first.total), (1, 1, 3));
    assert_eq!(first.articles.len(), 1);

    let gazette = db
        .list(&ListFilter {
            source: Some("Gazette".into()),
            per_page: 20,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(gazette.total, 2);

    // Search is a substring of title or text, case-insensitive, with LIKE wildcards taken literally.
    let q = |q: &str| {
        db.list(&ListFilter {
            q: Some(q.into()),
            per_page: 20,
            ..Default::default()
        })
        .unwrap()
    };
    assert_eq!(q("COMMITTEE").articles[0].id, b);
    assert_eq!(q("budget").articles[0].id, c);
    assert_eq!(q("100%").total, 1);
    assert_eq!(q("%").total, 1);
    assert_eq!(q("_").total, 1);
    assert_eq!(q("nowhere in any text").total, 0);

    if let Some(t) = technique {
        let with = db
            .list(&ListFilter {
                technique: Some(t.clone()),
                per_page: 20,
                ..Default::default()
            })
            .unwrap();
        assert!(with.articles.iter().any(|s| s.id == a), "{t}");
        assert!(with.articles.iter().all(|s| s.counts.contains_key(&t)));
    }

    let page2 = db
        .list(&ListFilter {
            page: 2,
            per_page: 2,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page2.total, 3);
    assert_eq!(page2.articles.len(), 1);
    assert_eq!(page2.articles[0].id, a);
    let huge = db
        .list(&ListFilter {
            per_page: 10_000,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(huge.per_page, 100);
}

fn stats_aggregate_per_outlet_technique_and_day(b: Backend) {
    let db = b.open();
    let mut loaded = article(LOADED, "Daily Example");
    loaded.published = Some("2026-03-01T10:00:00Z".into());
    let spans = loaded.analysis.spans.len() as i64;
    db.insert(&loaded).unwrap();
    db.insert(&article(PLAIN, "Gazette")).unwrap();
    db.insert(&article(PLAIN, "Gazette")).unwrap();

    let s = db.stats(None).unwrap();
    assert_eq!(s.articles, 3);
    assert_eq!(s.techniques.len(), rhetor::Technique::ALL.len());
    let total: i64 = s.techniques.iter().map(|t| t.spans).sum();
    assert_eq!(total, s.spans);
    assert_eq!(s.sources[0].source.as_deref(), Some("Gazette"));
    assert_eq!(s.sources[0].articles, 2);
    assert!(s.over_time.iter().any(|d| d.day == "2026-03-01"));

    let one = db.stats(Some("Daily Example")).unwrap();
    assert_eq!(one.articles, 1);
    assert_eq!(one.spans, spans);
    assert_eq!(one.over_time.len(), 1);
    assert_eq!(one.over_time[0].day, "2026-03-01");
    assert_eq!(one.over_time[0].spans, spans);
}

fn an_archive_from_a_newer_version_is_refused(b: Backend) {
    drop(b.open());
    b.execute("INSERT INTO schema_migrations (version) VALUES ('29990101000000_future')");
    let err = rhetor_store::open(&b.db()).err().expect("refused");
    assert!(
        matches!(&err, StoreError::NewerSchema { version, .. } if version == "29990101000000_future"),
        "{err}"
    );
    assert!(err.to_string().contains("newer version"), "{err}");
}

#[test]
fn a_file_that_is_not_sqlite_is_an_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    std::fs::write(&path, "this is not a database, just some text ".repeat(200)).unwrap();
    let err = SqliteArchive::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(err.to_string().contains("a.db"), "{err}");
}

fn the_archive_works_behind_the_trait_object(b: Backend) {
    let db = b.open();
    let id = db.insert(&article(PLAIN, "Gazette")).unwrap();
    let shared = db.clone();
    let got = std::thread::spawn(move || shared.get(id).unwrap())
        .join()
        .unwrap();
    assert_eq!(got.unwrap().summary.id, id);
}

fn claim(url: &str, worker: &str, lease_secs: i64) -> ItemClaim {
    ItemClaim {
        url: url.into(),
        outlet: "Gazette".into(),
        feed: "http://feeds.example/rss".into(),
        worker: worker.into(),
        lease_secs,
        max_attempts: 2,
    }
}

fn fed(text: &str, url: &str) -> NewArticle {
    let mut a = article(text, "Gazette");
    a.url = Some(url.into());
    a.feed = Some("http://feeds.example/rss".into());
    a
}

fn an_item_is_claimed_once_and_done_once(b: Backend) {
    let db = b.open();
    let url = "http://news.example/1";
    assert_eq!(db.claim_item(&claim(url, "a", 60)).unwrap(), Claim::Claimed);
    match db.claim_item(&claim(url, "b", 60)).unwrap() {
        Claim::Busy(left) => assert!((50..=60).contains(&left), "{left}"),
        other => panic!("{other:?}"),
    }
    let Completed::Stored(id) = db.complete_item(url, "a", &fed(LOADED, url)).unwrap() else {
        panic!("not stored")
    };
    assert_eq!(db.claim_item(&claim(url, "b", 60)).unwrap(), Claim::Done);
    assert_eq!(db.count().unwrap(), 1);
    assert_eq!(
        db.get(id).unwrap().unwrap().summary.url.as_deref(),
        Some(url)
    );
    // An article saved another way (the server's `{url}`) counts as done too.
    let other = "http://news.example/pasted";
    db.insert(&fed(PLAIN, other)).unwrap();
    assert_eq!(db.claim_item(&claim(other, "a", 60)).unwrap(), Claim::Done);
    assert_eq!(db.item_counts().unwrap()["done"], 1);
}

fn an_expired_lease_is_taken_over_and_a_late_completion_is_not_saved_twice(b: Backend) {
    let db = b.open();
    let url = "http://news.example/2";
    // A lease that ran out at once: the process that took it "died".
    assert_eq!(
        db.claim_item(&claim(url, "dead", -1)).unwrap(),
        Claim::Claimed
    );
    assert_eq!(
        db.claim_item(&claim(url, "alive", 60)).unwrap(),
        Claim::Claimed
    );
    let first = db.complete_item(url, "alive", &fed(LOADED, url)).unwrap();
    let Completed::Stored(id) = first else {
        panic!("{first:?}")
    };
    // The first claimer was only slow, and finishes after all: nothing is saved twice.
    assert_eq!(
        db.complete_item(url, "dead", &fed(LOADED, url)).unwrap(),
        Completed::Duplicate(id)
    );
    assert_eq!(db.count().unwrap(), 1);
}

fn failed_items_are_retried_up_to_the_limit(b: Backend) {
    let db = b.open();
    let url = "http://news.example/broken";
    assert_eq!(db.claim_item(&claim(url, "a", 60)).unwrap(), Claim::Claimed);
    db.fail_item(url, "a", "HTTP 500").unwrap();
    assert_eq!(db.item_counts().unwrap()["failed"], 1);
    assert_eq!(db.claim_item(&claim(url, "b", 60)).unwrap(), Claim::Claimed);
    db.fail_item(url, "b", "HTTP 500").unwrap();
    // Two attempts (the limit): left alone.
    assert_eq!(db.claim_item(&claim(url, "c", 60)).unwrap(), Claim::GaveUp);
    // A worker that lost its claim cannot mark the item failed.
    let next = "http://news.example/3";
    assert_eq!(
        db.claim_item(&claim(next, "a", 60)).unwrap(),
        Claim::Claimed
    );
    db.fail_item(next, "intruder", "no").unwrap();
    assert!(matches!(
        db.claim_item(&claim(next, "b", 60)).unwrap(),
        Claim::Busy(_)
    ));
}

fn the_same_text_under_two_urls_is_saved_once(b: Backend) {
    let db = b.open();
    let (u1, u2) = (
        "http://news.example/story",
        "http://news.example/story?utm=x",
    );
    assert_eq!(db.claim_item(&claim(u1, "a", 60)).unwrap(), Claim::Claimed);
    assert_eq!(db.claim_item(&claim(u2, "a", 60)).unwrap(), Claim::Claimed);
    let Completed::Stored(id) = db.complete_item(u1, "a", &fed(LOADED, u1)).unwrap() else {
        panic!()
    };
    assert_eq!(
        db.complete_item(u2, "a", &fed(LOADED, u2)).unwrap(),
        Completed::Duplicate(id)
    );
    assert_eq!(db.count().unwrap(), 1);
    assert_eq!(db.claim_item(&claim(u2, "b", 60)).unwrap(), Claim::Done);
}

fn racing_threads_claim_each_item_once(b: Backend) {
    let db = b.open();
    let urls: Vec<String> = (0..12)
        .map(|i| format!("http://news.example/r{i}"))
        .collect();
    let won: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|w| {
                // Each thread its own archive, as each process would have.
                let (db, urls) = (b.open(), &urls);
                s.spawn(move || {
                    let me = format!("w{w}");
                    urls.iter()
                        .filter(|u| db.claim_item(&claim(u, &me, 60)).unwrap() == Claim::Claimed)
                        .cloned()
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<&String> = won.iter().flatten().collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!((before, all.len()), (urls.len(), urls.len()), "{won:?}");
    assert_eq!(db.item_counts().unwrap()["claimed"], urls.len() as i64);
}

fn feed_validators_are_saved_and_replaced(b: Backend) {
    let db = b.open();
    let feed = "http://feeds.example/rss";
    assert_eq!(db.feed_state(feed).unwrap(), None);
    let s1 = FeedState {
        etag: Some("\"v1\"".into()),
        last_modified: Some("Tue, 01 Dec 2026 10:00:00 GMT".into()),
    };
    db.save_feed_state(feed, "Gazette", &s1).unwrap();
    assert_eq!(db.feed_state(feed).unwrap(), Some(s1));
    let s2 = FeedState {
        etag: None,
        last_modified: Some("Wed, 02 Dec 2026 10:00:00 GMT".into()),
    };
    db.save_feed_state(feed, "Gazette", &s2).unwrap();
    assert_eq!(db.feed_state(feed).unwrap(), Some(s2));
}

fn provenance_and_content_hash_are_stored(b: Backend) {
    let db = b.open();
    let url = "http://news.example/p";
    let mut a = fed(LOADED, url);
    a.title = Some("Outrage".into());
    a.byline = Some("A. Writer".into());
    a.published = Some("2026-11-30T08:00:00+00:00".into());
    let id = db.insert(&a).unwrap();
    let s = db.get(id).unwrap().unwrap().summary;
    assert_eq!(s.feed.as_deref(), Some("http://feeds.example/rss"));
    assert_eq!(s.byline.as_deref(), Some("A. Writer"));
    assert_eq!(
        s.content_hash.as_deref(),
        Some(rhetor_store::content_hash(LOADED).as_str())
    );
    assert_eq!(s.content_hash.as_ref().map(String::len), Some(64));
    assert_eq!(
        db.stats(Some("Gazette")).unwrap().over_time[0].day,
        "2026-11-30"
    );
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn report(db: &dyn Archive, outlet: &str) -> rhetor_store::OutletReport {
    db.outlet_report(&rhetor_store::OutletQuery {
        outlet: outlet.into(),
        ..Default::default()
    })
    .unwrap()
}

fn outlet_report_matches_the_hand_computed_numbers(b: Backend) {
    let db = b.open();
    let ids = outlets::load(&*db);
    let r = report(&*db, outlets::DAILY);
    assert_eq!(
        (r.articles, r.words, r.spans, r.words_in_spans),
        (3, 28, 7, 15)
    );
    assert!(close(r.spans_per_1000_words, 250.0), "{r:?}");
    assert!(close(r.share_of_words_in_spans, 15.0 / 28.0));
    assert_eq!(r.first_day.as_deref(), Some("2026-03-02"));
    assert_eq!(r.last_day.as_deref(), Some("2026-03-18"));
    // Profile: all 14 techniques, per 1,000 of the 28 words.
    assert_eq!(r.techniques.len(), 14);
    let t = |name: &str| r.techniques.iter().find(|t| t.technique == name).unwrap();
    assert_eq!(
        (t("Loaded_Language").spans, t("Loaded_Language").articles),
        (2, 1)
    );
    assert!(close(
        t("Loaded_Language").spans_per_1000_words,
        2000.0 / 28.0
    ));
    assert_eq!((t("Slogans").spans, t("Repetition").spans), (2, 1));
    assert_eq!(t("Appeal_to_Authority").spans, 1);
    assert_eq!(t("Doubt").spans, 0);
    // Weeks from Monday to Monday, the empty one included.
    let weeks: Vec<(&str, i64, i64, i64)> = r
        .weeks
        .iter()
        .map(|w| (w.week.as_str(), w.articles, w.words, w.spans))
        .collect();
    assert_eq!(
        weeks,
        [
            ("2026-03-02", 2, 22, 6),
            ("2026-03-09", 0, 0, 0),
            ("2026-03-16", 1, 6, 1)
        ]
    );
    assert!(close(r.weeks[0].spans_per_1000_words, 6000.0 / 22.0));
    assert_eq!(r.weeks[0].techniques["Slogans"], 2);
    assert_eq!(r.weeks[2].techniques["Appeal_to_Authority"], 1);
    // The outlet's own voice against quoted voices.
    let voices: Vec<(&str, i64)> = r
        .voices
        .iter()
        .map(|v| (v.voice.as_str(), v.spans))
        .collect();
    assert_eq!(voices, [("author", 4), ("quoted", 3)]);
    assert!(close(r.voices[0].share_of_spans, 4.0 / 7.0));
    assert_eq!(r.voices[1].techniques["Name_Calling,Labeling"], 1);
    // Speakers, most spans first.
    let sp: Vec<(&str, &str, i64, i64)> = r
        .speakers
        .iter()
        .map(|s| (s.speaker.as_str(), s.kind.as_str(), s.articles, s.spans))
        .collect();
    assert_eq!(
        sp,
        [
            ("Mayor Smith", "person", 1, 2),
            ("Officials", "group", 1, 1)
        ]
    );
    assert_eq!(r.speakers[0].techniques["Loaded_Language"], 1);

    // Gazette: the undated article counts on the day it was saved.
    let g = report(&*db, outlets::GAZETTE);
    assert_eq!(
        (g.articles, g.words, g.spans, g.words_in_spans),
        (2, 15, 2, 4)
    );
    let saved = db.get(ids[4]).unwrap().unwrap().summary.created_at[..10].to_string();
    assert_eq!(g.last_day.as_deref(), Some(saved.as_str()));
    assert_eq!(g.weeks.first().unwrap().week, "2026-03-02");
    assert_eq!(
        g.weeks.last().unwrap().week,
        rhetor_store::week_of(&saved).unwrap()
    );
    assert_eq!(g.weeks.iter().map(|w| w.articles).sum::<i64>(), 2);
    // An outlet with nothing saved: zeros, no weeks.
    let none = report(&*db, "Nobody");
    assert_eq!((none.articles, none.words, none.spans), (0, 0, 0));
    assert!(none.weeks.is_empty() && none.speakers.is_empty());
    assert_eq!(none.spans_per_1000_words, 0.0);
}

fn outlet_report_filters_by_day_and_technique(b: Backend) {
    use rhetor_store::OutletQuery;
    let db = b.open();
    outlets::load(&*db);
    let q = |from: Option<&str>, to: Option<&str>, technique, speakers| OutletQuery {
        outlet: outlets::DAILY.into(),
        from: from.map(Into::into),
        to: to.map(Into::into),
        technique,
        speakers,
    };
    let r = db
        .outlet_report(&q(None, None, Some(rhetor::Technique::LoadedLanguage), 0))
        .unwrap();
    // Only its spans count; articles and words stay all of the outlet's.
    assert_eq!(
        (r.articles, r.words, r.spans, r.words_in_spans),
        (3, 28, 2, 2)
    );
    assert_eq!(r.techniques.len(), 1);
    assert_eq!(r.technique.as_deref(), Some("Loaded_Language"));
    let voices: Vec<(&str, i64)> = r
        .voices
        .iter()
        .map(|v| (v.voice.as_str(), v.spans))
        .collect();
    assert_eq!(voices, [("author", 1), ("quoted", 1)]);
    assert_eq!(r.speakers.len(), 1, "Officials has no Loaded_Language");
    assert_eq!(r.speakers[0].spans, 1);

    let r = db
        .outlet_report(&q(Some("2026-03-10"), None, None, 0))
        .unwrap();
    assert_eq!((r.articles, r.words, r.spans), (1, 6, 1));
    assert_eq!(r.weeks.len(), 1);
    assert_eq!(r.weeks[0].week, "2026-03-16");
    // Both ends inclusive.
    let r = db
        .outlet_report(&q(Some("2026-03-02"), Some("2026-03-04"), None, 0))
        .unwrap();
    assert_eq!((r.articles, r.words, r.spans), (2, 22, 6));
    let r = db
        .outlet_report(&q(Some("2026-03-03"), Some("2026-03-03"), None, 0))
        .unwrap();
    assert_eq!(r.articles, 0);
    // One speaker asked for.
    let r = db.outlet_report(&q(None, None, None, 1)).unwrap();
    assert_eq!(r.speakers.len(), 1);
    assert_eq!(r.speakers[0].speaker, "Mayor Smith");
    // The undated Gazette article is out of a March range.
    let g = db
        .outlet_report(&OutletQuery {
            outlet: outlets::GAZETTE.into(),
            to: Some("2026-03-31".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((g.articles, g.words), (1, 11));
    // A value that looks like SQL is only ever a value.
    let r = db
        .outlet_report(&OutletQuery {
            outlet: "x' OR '1'='1".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.articles, 0);
}
