//! The archive in SQLite: one file in WAL mode, migrated at open by the versioned SQL files
//! embedded from `migrations/sqlite/`. All SQL takes its values through bound parameters.

use crate::{
    Archive, ArticlePage, ArticleRecord, ArticleSummary, Claim, Completed, DayStats, FeedState,
    ItemClaim, ListFilter, NewArticle, OutletQuery, OutletRow, SourceStats, Stats, StoreError,
    TechniqueStats,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Migrations in the order they apply: (version, SQL). A version is a UTC timestamp and a name;
/// never edit one that has shipped, add a new one.
pub(crate) const MIGRATIONS: &[(&str, &str)] = &[
    (
        "20261125170000_init",
        include_str!("../migrations/sqlite/20261125170000_init.sql"),
    ),
    (
        "20261202060000_feeds",
        include_str!("../migrations/sqlite/20261202060000_feeds.sql"),
    ),
];

/// The database clock in epoch seconds: leases are compared on one clock, the database's.
const NOW: &str = "CAST(strftime('%s', 'now') AS INTEGER)";

/// The archive in one SQLite file; cheap to clone (clones share the connection).
///
/// One connection behind a mutex: SQLite serialises writers anyway, queries here are short, and
/// callers run them on blocking threads.
#[derive(Clone)]
pub struct SqliteArchive {
    conn: Arc<Mutex<Connection>>,
}

fn summary_columns() -> &'static str {
    "a.id, a.created_at, a.source, a.url, a.title, a.byline, a.published, a.feed, a.content_hash, \
     a.model, a.length, a.span_count, a.density, \
     (SELECT json_group_object(technique, spans) FROM article_techniques WHERE article_id = a.id)"
}

fn summary_from_row(row: &rusqlite::Row) -> rusqlite::Result<ArticleSummary> {
    let counts: Option<String> = row.get(13)?;
    let counts = counts
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or_default();
    Ok(ArticleSummary {
        id: row.get(0)?,
        created_at: row.get(1)?,
        source: row.get(2)?,
        url: row.get(3)?,
        title: row.get(4)?,
        byline: row.get(5)?,
        published: row.get(6)?,
        feed: row.get(7)?,
        content_hash: row.get(8)?,
        model: row.get(9)?,
        length: row.get(10)?,
        span_count: row.get(11)?,
        density: row.get(12)?,
        counts,
    })
}

/// `s` as a LIKE pattern matching it anywhere, with `\` as the escape character.
fn like_pattern(s: &str) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The journal mode SQLite answered instead of WAL.
#[derive(Debug)]
struct NotWal(String);

impl std::fmt::Display for NotWal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "could not switch to WAL mode (journal mode is {})",
            self.0
        )
    }
}

impl std::error::Error for NotWal {}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

impl SqliteArchive {
    /// Opens the archive at `path`, creating it if missing, in WAL mode, and applies the
    /// migrations it lacks. Refuses an archive written by a newer rhetor
    /// ([`StoreError::NewerSchema`]).
    pub fn open(path: &Path) -> Result<SqliteArchive, StoreError> {
        let open_err = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
            path: path.to_path_buf(),
            source: e,
        };
        let mut conn = Connection::open(path).map_err(|e| open_err(Box::new(e)))?;
        let setup = |conn: &Connection| -> rusqlite::Result<String> {
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        };
        let mode = setup(&conn).map_err(|e| open_err(Box::new(e)))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(open_err(Box::new(NotWal(mode))));
        }
        // FULL: a commit is on disk before the client hears of it, so killing the server (or the
        // machine) loses nothing committed.
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| open_err(Box::new(e)))?;
        migrate(&mut conn, path)?;
        Ok(SqliteArchive {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable (SQLite rolls back).
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn insert_sql(&self, a: &NewArticle, json: &str) -> rusqlite::Result<i64> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let id = insert_tx(&tx, a, json)?;
        tx.commit()?;
        Ok(id)
    }

    fn get_sql(&self, id: i64) -> rusqlite::Result<Option<(ArticleSummary, String)>> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {}, a.analysis FROM articles a WHERE a.id = ?1",
            summary_columns()
        );
        conn.query_row(&sql, params![id], |r| {
            Ok((summary_from_row(r)?, r.get::<_, String>(14)?))
        })
        .optional()
    }

    fn list_sql(&self, f: &ListFilter) -> rusqlite::Result<ArticlePage> {
        let (page, per_page) = f.page_and_size();
        let q = f.q.as_deref().map(like_pattern);
        let filter = "(?1 IS NULL OR a.source = ?1) \
             AND (?2 IS NULL OR EXISTS (SELECT 1 FROM article_techniques t \
                                       WHERE t.technique = ?2 AND t.article_id = a.id)) \
             AND (?3 IS NULL OR a.title LIKE ?3 ESCAPE '\\' OR a.text LIKE ?3 ESCAPE '\\') \
             AND (?6 IS NULL OR a.day >= ?6)";
        let conn = self.lock();
        let total: i64 = conn.query_row(
            &format!("SELECT count(*) FROM articles a WHERE {filter}"),
            params![f.source, f.technique, q, None::<i64>, None::<i64>, f.since],
            |r| r.get(0),
        )?;
        let sql = format!(
            "SELECT {} FROM articles a WHERE {filter} ORDER BY a.id DESC LIMIT ?4 OFFSET ?5",
            summary_columns()
        );
        let mut st = conn.prepare(&sql)?;
        let offset = (page as i64 - 1) * per_page as i64;
        let articles = st
            .query_map(
                params![f.source, f.technique, q, per_page as i64, offset, f.since],
                summary_from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ArticlePage {
            page,
            per_page,
            total,
            articles,
        })
    }

    fn stats_sql(&self, source: Option<&str>) -> rusqlite::Result<Stats> {
        let conn = self.lock();
        let (articles, spans, mean_density): (i64, i64, f64) = conn.query_row(
            "SELECT count(*), coalesce(sum(span_count), 0), coalesce(avg(density), 0) \
             FROM articles WHERE ?1 IS NULL OR source = ?1",
            params![source],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;

        let mut st = conn.prepare(
            "SELECT source, count(*), sum(span_count), avg(density) FROM articles \
             WHERE ?1 IS NULL OR source = ?1 GROUP BY source ORDER BY count(*) DESC, source",
        )?;
        let sources = st
            .query_map(params![source], |r| {
                Ok(SourceStats {
                    source: r.get(0)?,
                    articles: r.get(1)?,
                    spans: r.get(2)?,
                    mean_density: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;

        let mut per_t: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut st = conn.prepare(
            "SELECT t.technique, sum(t.spans), count(*) FROM article_techniques t \
             JOIN articles a ON a.id = t.article_id WHERE ?1 IS NULL OR a.source = ?1 \
             GROUP BY t.technique",
        )?;
        for row in st.query_map(params![source], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
        })? {
            let (t, s, a) = row?;
            per_t.insert(t, (s, a));
        }
        let techniques = rhetor_core::Technique::ALL
            .iter()
            .map(|t| {
                let (spans, articles) = per_t.get(t.name()).copied().unwrap_or((0, 0));
                TechniqueStats {
                    technique: t.name().to_string(),
                    spans,
                    articles,
                }
            })
            .collect();

        const DAY: &str = "a.day";
        let mut st = conn.prepare(&format!(
            "SELECT {DAY} AS day, count(*), sum(a.span_count), avg(a.density) FROM articles a \
             WHERE ?1 IS NULL OR a.source = ?1 GROUP BY day ORDER BY day"
        ))?;
        let mut over_time = st
            .query_map(params![source], |r| {
                Ok(DayStats {
                    day: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    articles: r.get(1)?,
                    spans: r.get(2)?,
                    mean_density: r.get(3)?,
                    techniques: BTreeMap::new(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut st = conn.prepare(&format!(
            "SELECT {DAY} AS day, t.technique, sum(t.spans) FROM article_techniques t \
             JOIN articles a ON a.id = t.article_id WHERE ?1 IS NULL OR a.source = ?1 \
             GROUP BY day, t.technique"
        ))?;
        for row in st.query_map(params![source], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })? {
            let (day, t, n) = row?;
            if let Some(d) = over_time.iter_mut().find(|d| d.day == day) {
                d.techniques.insert(t, n);
            }
        }
        Ok(Stats {
            articles,
            spans,
            mean_density,
            sources,
            techniques,
            over_time,
        })
    }
}

/// Inserts an article and its technique counts inside the caller's transaction.
fn insert_tx(tx: &rusqlite::Transaction, a: &NewArticle, json: &str) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO articles (source, url, title, byline, published, feed, content_hash, day, \
         model, length, span_count, density, text, analysis) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
         coalesce(?8, date('now')), ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            a.source,
            a.url,
            a.title,
            a.byline,
            a.published,
            a.feed,
            crate::content_hash(&a.analysis.text),
            a.published.as_deref().and_then(crate::day_of),
            a.analysis.model,
            a.analysis.length as i64,
            a.analysis.spans.len() as i64,
            a.analysis.density(),
            a.analysis.text,
            json,
        ],
    )?;
    let id = tx.last_insert_rowid();
    let mut st = tx.prepare(
        "INSERT INTO article_techniques (technique, article_id, spans) VALUES (?1, ?2, ?3)",
    )?;
    for (t, n) in &a.analysis.counts {
        st.execute(params![t, id, *n as i64])?;
    }
    Ok(id)
}

impl SqliteArchive {
    fn claim_sql(&self, c: &ItemClaim) -> rusqlite::Result<Claim> {
        let conn = self.lock();
        let in_archive: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM articles WHERE url = ?1)",
            params![c.url],
            |r| r.get(0),
        )?;
        if in_archive {
            return Ok(Claim::Done);
        }
        // One statement: SQLite runs it under the write lock, so two processes cannot both win.
        let won = conn
            .query_row(
                &format!(
                    "INSERT INTO feed_items (url, outlet, feed, state, worker, lease_until) \
                     VALUES (?1, ?2, ?3, 'claimed', ?4, {NOW} + ?5) \
                     ON CONFLICT (url) DO UPDATE SET state = 'claimed', worker = excluded.worker, \
                       lease_until = excluded.lease_until, attempts = feed_items.attempts + 1 \
                     WHERE (feed_items.state = 'claimed' AND feed_items.lease_until < {NOW}) \
                        OR (feed_items.state = 'failed' AND feed_items.attempts < ?6) \
                     RETURNING url"
                ),
                params![
                    c.url,
                    c.outlet,
                    c.feed,
                    c.worker,
                    c.lease_secs,
                    c.max_attempts
                ],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if won {
            return Ok(Claim::Claimed);
        }
        let (state, left): (String, i64) = conn.query_row(
            &format!("SELECT state, lease_until - {NOW} FROM feed_items WHERE url = ?1"),
            params![c.url],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(crate::claim_from(&state, left))
    }

    fn complete_sql(
        &self,
        url: &str,
        worker: &str,
        a: &NewArticle,
        json: &str,
    ) -> rusqlite::Result<Completed> {
        let mut conn = self.lock();
        // IMMEDIATE: the write lock from the first read, so the checks below stay true to commit.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done: Option<Option<i64>> = tx
            .query_row(
                "SELECT article_id FROM feed_items WHERE url = ?1 AND state = 'done'",
                params![url],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(Some(id)) = done {
            return Ok(Completed::Duplicate(id));
        }
        let hash = crate::content_hash(&a.analysis.text);
        let same: Option<i64> = tx
            .query_row(
                "SELECT id FROM articles WHERE content_hash = ?1 ORDER BY id LIMIT 1",
                params![hash],
                |r| r.get(0),
            )
            .optional()?;
        let outcome = match same {
            Some(id) => Completed::Duplicate(id),
            None => Completed::Stored(insert_tx(&tx, a, json)?),
        };
        let (Completed::Stored(id) | Completed::Duplicate(id)) = outcome;
        tx.execute(
            "UPDATE feed_items SET state = 'done', worker = ?2, article_id = ?3, error = NULL \
             WHERE url = ?1",
            params![url, worker, id],
        )?;
        tx.commit()?;
        Ok(outcome)
    }
}

/// Versions of the migrations applied, in order.
fn applied(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut st = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
    let v = st
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(v)
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let open_err = |e: rusqlite::Error| StoreError::Open {
        path: path.to_path_buf(),
        source: Box::new(e),
    };
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    TEXT PRIMARY KEY,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
         )",
    )
    .map_err(open_err)?;
    let applied = applied(conn).map_err(open_err)?;
    if let Some(unknown) = applied
        .iter()
        .find(|v| !MIGRATIONS.iter().any(|(m, _)| m == v))
    {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            version: unknown.clone(),
        });
    }
    for (version, sql) in MIGRATIONS {
        if applied.iter().any(|v| v == version) {
            continue;
        }
        let run = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES (?1)",
                params![version],
            )?;
            tx.commit()
        };
        run(conn).map_err(|e| StoreError::Migration {
            path: path.to_path_buf(),
            version: version.to_string(),
            source: Box::new(e),
        })?;
        tracing::info!("archive: applied migration {version}");
    }
    Ok(())
}

impl Archive for SqliteArchive {
    fn migrations(&self) -> Result<Vec<String>, StoreError> {
        applied(&self.lock()).map_err(backend)
    }

    fn insert(&self, article: &NewArticle) -> Result<i64, StoreError> {
        let json = serde_json::to_string(&article.analysis).map_err(StoreError::Encode)?;
        self.insert_sql(article, &json).map_err(backend)
    }

    fn get(&self, id: i64) -> Result<Option<ArticleRecord>, StoreError> {
        let Some((summary, json)) = self.get_sql(id).map_err(backend)? else {
            return Ok(None);
        };
        let analysis =
            serde_json::from_str(&json).map_err(|source| StoreError::Corrupt { id, source })?;
        Ok(Some(ArticleRecord { summary, analysis }))
    }

    fn delete(&self, id: i64) -> Result<bool, StoreError> {
        let conn = self.lock();
        let n = conn
            .execute("DELETE FROM articles WHERE id = ?1", params![id])
            .map_err(backend)?;
        Ok(n > 0)
    }

    fn count(&self) -> Result<i64, StoreError> {
        let conn = self.lock();
        conn.query_row("SELECT count(*) FROM articles", [], |r| r.get(0))
            .map_err(backend)
    }

    fn list(&self, filter: &ListFilter) -> Result<ArticlePage, StoreError> {
        self.list_sql(filter).map_err(backend)
    }

    fn stats(&self, source: Option<&str>) -> Result<Stats, StoreError> {
        self.stats_sql(source).map_err(backend)
    }

    fn feed_state(&self, url: &str) -> Result<Option<FeedState>, StoreError> {
        self.lock()
            .query_row(
                "SELECT etag, last_modified FROM feeds WHERE url = ?1",
                params![url],
                |r| {
                    Ok(FeedState {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(backend)
    }

    fn save_feed_state(&self, url: &str, outlet: &str, s: &FeedState) -> Result<(), StoreError> {
        self.lock()
            .execute(
                &format!(
                    "INSERT INTO feeds (url, outlet, etag, last_modified, checked_at) \
                     VALUES (?1, ?2, ?3, ?4, {NOW}) ON CONFLICT (url) DO UPDATE SET \
                     outlet = excluded.outlet, etag = excluded.etag, \
                     last_modified = excluded.last_modified, checked_at = excluded.checked_at"
                ),
                params![url, outlet, s.etag, s.last_modified],
            )
            .map(drop)
            .map_err(backend)
    }

    fn claim_item(&self, claim: &ItemClaim) -> Result<Claim, StoreError> {
        self.claim_sql(claim).map_err(backend)
    }

    fn complete_item(
        &self,
        url: &str,
        worker: &str,
        article: &NewArticle,
    ) -> Result<Completed, StoreError> {
        let json = serde_json::to_string(&article.analysis).map_err(StoreError::Encode)?;
        self.complete_sql(url, worker, article, &json)
            .map_err(backend)
    }

    fn fail_item(&self, url: &str, worker: &str, error: &str) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "UPDATE feed_items SET state = 'failed', error = ?3 \
                 WHERE url = ?1 AND worker = ?2 AND state = 'claimed'",
                params![url, worker, error],
            )
            .map(drop)
            .map_err(backend)
    }

    fn item_counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare("SELECT state, count(*) FROM feed_items GROUP BY state")
            .map_err(backend)?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(backend)?
            .collect::<rusqlite::Result<BTreeMap<String, i64>>>();
        rows.map_err(backend)
    }

    fn for_each_outlet_row(
        &self,
        q: &OutletQuery,
        each: &mut dyn FnMut(OutletRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare(&format!(
                "SELECT a.id, {DAY_OR_SAVED}, a.analysis FROM articles a WHERE a.source = ?1 \
                 AND (?2 IS NULL OR {DAY_OR_SAVED} >= ?2) AND (?3 IS NULL OR {DAY_OR_SAVED} <= ?3) \
                 ORDER BY 2, a.id"
            ))
            .map_err(backend)?;
        let mut rows = st.query(params![q.outlet, q.from, q.to]).map_err(backend)?;
        while let Some(r) = rows.next().map_err(backend)? {
            each(OutletRow {
                id: r.get(0).map_err(backend)?,
                day: r.get(1).map_err(backend)?,
                analysis: r.get(2).map_err(backend)?,
            })?;
        }
        Ok(())
    }
}

/// An article's day for the outlet view: its `day`, or the day it was saved.
const DAY_OR_SAVED: &str = "coalesce(a.day, substr(a.created_at, 1, 10))";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn migrations_are_sorted_and_unique() {
        for w in MIGRATIONS.windows(2) {
            assert!(w[0].0 < w[1].0);
        }
    }
}
