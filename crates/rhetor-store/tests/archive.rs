//! The SQLite archive on a real file in a temporary folder: saving, reading back, listing with
//! filters and search, aggregates, deleting, reopening, and refusing a newer schema.

use rhetor_store::{Archive, ListFilter, NewArticle, SqliteArchive, StoreError};
use std::sync::OnceLock;

fn analyzer() -> &'static rhetor::Analyzer {
    static A: OnceLock<rhetor::Analyzer> = OnceLock::new();
    A.get_or_init(|| rhetor::Analyzer::load_fast().expect("built-in fast model"))
}

fn article(text: &str, source: &str) -> NewArticle {
    NewArticle::new(analyzer().analyze(text).unwrap()).with_source(source)
}

const LOADED: &str = "They are a gang of traitors. This shameful, cowardly surrender must end now!";
const PLAIN: &str = "The committee met on Tuesday. It will meet again next month.";

#[test]
fn reopening_keeps_data_and_does_not_reapply() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let id = {
        let db = SqliteArchive::open(&path).unwrap();
        db.insert(&article(LOADED, "Example")).unwrap()
    };
    let db = SqliteArchive::open(&path).unwrap();
    assert_eq!(db.migrations().unwrap(), ["20261125170000_init"]);
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

#[test]
fn list_filters_searches_and_pages_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteArchive::open(&dir.path().join("a.db")).unwrap();
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

#[test]
fn stats_aggregate_per_outlet_technique_and_day() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteArchive::open(&dir.path().join("a.db")).unwrap();
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

#[test]
fn an_archive_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    drop(SqliteArchive::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO schema_migrations (version) VALUES ('29990101000000_future')",
        [],
    )
    .unwrap();
    drop(conn);
    let err = SqliteArchive::open(&path).err().expect("refused");
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

#[test]
fn the_archive_works_behind_the_trait_object() {
    let dir = tempfile::tempdir().unwrap();
    let db: std::sync::Arc<dyn Archive> =
        std::sync::Arc::new(SqliteArchive::open(&dir.path().join("a.db")).unwrap());
    let id = db.insert(&article(PLAIN, "Gazette")).unwrap();
    let shared = db.clone();
    let got = std::thread::spawn(move || shared.get(id).unwrap())
        .join()
        .unwrap();
    assert_eq!(got.unwrap().summary.id, id);
}
