//! The archive in PostgreSQL: one database shared by any number of `rhetor serve` and
//! `rhetor watch` processes, migrated at open (under an advisory lock, so processes started
//! together migrate once) by the versioned SQL files embedded from `migrations/postgres/`, which
//! carry the same versions as SQLite's. All SQL takes its values through bound parameters.

use crate::{
    Archive, ArticlePage, ArticleRecord, ArticleSummary, Claim, Completed, DayStats, FeedState,
    ItemClaim, ListFilter, NewArticle, OutletQuery, OutletRow, SourceStats, Stats, StoreError,
    TechniqueStats,
};
use postgres::{GenericClient, NoTls, Row};
use r2d2_postgres::PostgresConnectionManager;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The same versions as SQLite's, in PostgreSQL's dialect; never edit one that has shipped.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "20261125170000_init",
        include_str!("../migrations/postgres/20261125170000_init.sql"),
    ),
    (
        "20261202060000_feeds",
        include_str!("../migrations/postgres/20261202060000_feeds.sql"),
    ),
];

/// The database clock in epoch seconds (one clock for every machine's leases).
const NOW: &str = "CAST(extract(epoch FROM now()) AS BIGINT)";

/// Key of the advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x7268_6574_6f72; // "rhetor"

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// The archive in one PostgreSQL database; cheap to clone (clones share the pool).
#[derive(Clone)]
pub struct PgArchive {
    pool: std::sync::Arc<SharedPool>,
}

/// The pool, closed on a thread of its own: closing a blocking `postgres` client runs a runtime,
/// which panics (and aborts, inside a destructor) when the last archive is dropped on an async
/// runtime's thread, as `rhetor serve` does when it stops.
struct SharedPool(Option<Pool>);

impl Drop for SharedPool {
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// The URL with its password hidden, for messages.
fn redacted(url: &str) -> PathBuf {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            PathBuf::from(u.to_string())
        }
        _ => PathBuf::from(url),
    }
}

const SUMMARY: &str = "a.id, a.created_at, a.source, a.url, a.title, a.byline, a.published, \
     a.feed, a.content_hash, a.model, a.length, a.span_count, a.density, \
     (SELECT json_object_agg(technique, spans)::text FROM article_techniques \
      WHERE article_id = a.id)";

fn summary_from_row(row: &Row) -> Result<ArticleSummary, postgres::Error> {
    let counts: Option<String> = row.try_get(13)?;
    Ok(ArticleSummary {
        id: row.try_get(0)?,
        created_at: row.try_get(1)?,
        source: row.try_get(2)?,
        url: row.try_get(3)?,
        title: row.try_get(4)?,
        byline: row.try_get(5)?,
        published: row.try_get(6)?,
        feed: row.try_get(7)?,
        content_hash: row.try_get(8)?,
        model: row.try_get(9)?,
        length: row.try_get(10)?,
        span_count: row.try_get(11)?,
        density: row.try_get(12)?,
        counts: counts
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default(),
    })
}

/// `s` as an ILIKE pattern matching it anywhere, with `\` as the escape character.
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

fn insert_tx(
    tx: &mut impl GenericClient,
    a: &NewArticle,
    json: &str,
) -> Result<i64, postgres::Error> {
    let row = tx.query_one(
        "INSERT INTO articles (source, url, title, byline, published, feed, content_hash, day, \
         model, length, span_count, density, text, analysis) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         coalesce($8, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')), $9, $10, $11, $12, $13, \
         $14) RETURNING id",
        &[
            &a.source,
            &a.url,
            &a.title,
            &a.byline,
            &a.published,
            &a.feed,
            &crate::content_hash(&a.analysis.text),
            &a.published.as_deref().and_then(crate::day_of),
            &a.analysis.model,
            &(a.analysis.length as i64),
            &(a.analysis.spans.len() as i64),
            &a.analysis.density(),
            &a.analysis.text,
            &json,
        ],
    )?;
    let id: i64 = row.try_get(0)?;
    let st = tx.prepare(
        "INSERT INTO article_techniques (technique, article_id, spans) VALUES ($1, $2, $3)",
    )?;
    for (t, n) in &a.analysis.counts {
        tx.execute(&st, &[t, &id, &(*n as i64)])?;
    }
    Ok(id)
}

impl PgArchive {
    /// Connects to the database at `url` (`postgres://user@host:port/db`), applies the
    /// migrations it lacks, and refuses a database written by a newer rhetor
    /// ([`StoreError::NewerSchema`]).
    pub fn open(url: &str) -> Result<PgArchive, StoreError> {
        let path = redacted(url);
        let open_err = |e: BackendErr| StoreError::Open {
            path: path.clone(),
            source: e,
        };
        let config: postgres::Config = url.parse().map_err(|e| open_err(Box::new(e)))?;
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)
            .map_err(|e| open_err(Box::new(e)))?;
        let archive = PgArchive {
            pool: std::sync::Arc::new(SharedPool(Some(pool))),
        };
        archive.migrate(&path)?;
        Ok(archive)
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, StoreError> {
        match &self.pool.0 {
            Some(pool) => pool.get().map_err(backend),
            None => unreachable!("the pool is taken only when the archive is dropped"),
        }
    }

    fn migrate(&self, path: &std::path::Path) -> Result<(), StoreError> {
        let open_err = |e: postgres::Error| StoreError::Open {
            path: path.to_path_buf(),
            source: Box::new(e),
        };
        let mut c = self.conn()?;
        c.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .map_err(open_err)?;
        let result = (|| {
            c.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version    TEXT PRIMARY KEY,
                     applied_at TEXT NOT NULL DEFAULT
                         to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
                 )",
            )
            .map_err(open_err)?;
            let applied = applied(&mut *c).map_err(open_err)?;
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
                let run = |c: &mut postgres::Client| -> Result<(), postgres::Error> {
                    let mut tx = c.transaction()?;
                    tx.batch_execute(sql)?;
                    tx.execute(
                        "INSERT INTO schema_migrations (version) VALUES ($1)",
                        &[version],
                    )?;
                    tx.commit()
                };
                run(&mut c).map_err(|e| StoreError::Migration {
                    path: path.to_path_buf(),
                    version: version.to_string(),
                    source: Box::new(e),
                })?;
                tracing::info!("archive: applied migration {version}");
            }
            Ok(())
        })();
        let _ = c.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
        result
    }
}

type BackendErr = Box<dyn std::error::Error + Send + Sync>;

fn applied(c: &mut impl GenericClient) -> Result<Vec<String>, postgres::Error> {
    c.query(
        "SELECT version FROM schema_migrations ORDER BY version",
        &[],
    )?
    .iter()
    .map(|r| r.try_get(0))
    .collect()
}

impl Archive for PgArchive {
    fn migrations(&self) -> Result<Vec<String>, StoreError> {
        applied(&mut *self.conn()?).map_err(backend)
    }

    fn insert(&self, article: &NewArticle) -> Result<i64, StoreError> {
        let json = serde_json::to_string(&article.analysis).map_err(StoreError::Encode)?;
        let mut c = self.conn()?;
        let mut tx = c.transaction().map_err(backend)?;
        let id = insert_tx(&mut tx, article, &json).map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(id)
    }

    fn get(&self, id: i64) -> Result<Option<ArticleRecord>, StoreError> {
        let row = self
            .conn()?
            .query_opt(
                &format!("SELECT {SUMMARY}, a.analysis FROM articles a WHERE a.id = $1"),
                &[&id],
            )
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let summary = summary_from_row(&row).map_err(backend)?;
        let json: String = row.try_get(14).map_err(backend)?;
        let analysis =
            serde_json::from_str(&json).map_err(|source| StoreError::Corrupt { id, source })?;
        Ok(Some(ArticleRecord { summary, analysis }))
    }

    fn delete(&self, id: i64) -> Result<bool, StoreError> {
        let n = self
            .conn()?
            .execute("DELETE FROM articles WHERE id = $1", &[&id])
            .map_err(backend)?;
        Ok(n > 0)
    }

    fn count(&self) -> Result<i64, StoreError> {
        let row = self
            .conn()?
            .query_one("SELECT count(*) FROM articles", &[])
            .map_err(backend)?;
        row.try_get(0).map_err(backend)
    }

    fn list(&self, f: &ListFilter) -> Result<ArticlePage, StoreError> {
        let (page, per_page) = f.page_and_size();
        let q = f.q.as_deref().map(like_pattern);
        let filter = "($1::text IS NULL OR a.source = $1) \
             AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM article_techniques t \
                                       WHERE t.technique = $2 AND t.article_id = a.id)) \
             AND ($3::text IS NULL OR a.title ILIKE $3 ESCAPE '\\' OR a.text ILIKE $3 ESCAPE '\\') \
             AND ($4::text IS NULL OR a.day >= $4)";
        let mut c = self.conn()?;
        let total: i64 = c
            .query_one(
                &format!("SELECT count(*) FROM articles a WHERE {filter}"),
                &[&f.source, &f.technique, &q, &f.since],
            )
            .and_then(|r| r.try_get(0))
            .map_err(backend)?;
        let offset = (page as i64 - 1) * per_page as i64;
        let articles = c
            .query(
                &format!(
                    "SELECT {SUMMARY} FROM articles a WHERE {filter} \
                     ORDER BY a.id DESC LIMIT $5 OFFSET $6"
                ),
                &[
                    &f.source,
                    &f.technique,
                    &q,
                    &f.since,
                    &(per_page as i64),
                    &offset,
                ],
            )
            .map_err(backend)?
            .iter()
            .map(summary_from_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
        Ok(ArticlePage {
            page,
            per_page,
            total,
            articles,
        })
    }

    fn stats(&self, source: Option<&str>) -> Result<Stats, StoreError> {
        let mut c = self.conn()?;
        let c = &mut *c;
        let e = backend;
        let row = c
            .query_one(
                "SELECT count(*), coalesce(sum(span_count), 0)::bigint, \
                 coalesce(avg(density), 0)::float8 FROM articles \
                 WHERE $1::text IS NULL OR source = $1",
                &[&source],
            )
            .map_err(e)?;
        let (articles, spans, mean_density): (i64, i64, f64) = (
            row.try_get(0).map_err(e)?,
            row.try_get(1).map_err(e)?,
            row.try_get(2).map_err(e)?,
        );
        let sources = c
            .query(
                "SELECT source, count(*), sum(span_count)::bigint, avg(density)::float8 \
                 FROM articles WHERE $1::text IS NULL OR source = $1 GROUP BY source \
                 ORDER BY count(*) DESC, source",
                &[&source],
            )
            .map_err(e)?
            .iter()
            .map(|r| {
                Ok(SourceStats {
                    source: r.try_get(0)?,
                    articles: r.try_get(1)?,
                    spans: r.try_get(2)?,
                    mean_density: r.try_get(3)?,
                })
            })
            .collect::<Result<Vec<_>, postgres::Error>>()
            .map_err(e)?;
        let mut per_t: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for r in c
            .query(
                "SELECT t.technique, sum(t.spans)::bigint, count(*) FROM article_techniques t \
                 JOIN articles a ON a.id = t.article_id WHERE $1::text IS NULL OR a.source = $1 \
                 GROUP BY t.technique",
                &[&source],
            )
            .map_err(e)?
        {
            per_t.insert(
                r.try_get(0).map_err(e)?,
                (r.try_get(1).map_err(e)?, r.try_get(2).map_err(e)?),
            );
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
        let mut over_time = c
            .query(
                "SELECT a.day, count(*), sum(a.span_count)::bigint, avg(a.density)::float8 \
                 FROM articles a WHERE $1::text IS NULL OR a.source = $1 \
                 GROUP BY a.day ORDER BY a.day",
                &[&source],
            )
            .map_err(e)?
            .iter()
            .map(|r| {
                Ok(DayStats {
                    day: r.try_get::<_, Option<String>>(0)?.unwrap_or_default(),
                    articles: r.try_get(1)?,
                    spans: r.try_get(2)?,
                    mean_density: r.try_get(3)?,
                    techniques: BTreeMap::new(),
                })
            })
            .collect::<Result<Vec<_>, postgres::Error>>()
            .map_err(e)?;
        for r in c
            .query(
                "SELECT a.day, t.technique, sum(t.spans)::bigint FROM article_techniques t \
                 JOIN articles a ON a.id = t.article_id WHERE $1::text IS NULL OR a.source = $1 \
                 GROUP BY a.day, t.technique",
                &[&source],
            )
            .map_err(e)?
        {
            let day: String = r
                .try_get::<_, Option<String>>(0)
                .map_err(e)?
                .unwrap_or_default();
            if let Some(d) = over_time.iter_mut().find(|d| d.day == day) {
                d.techniques
                    .insert(r.try_get(1).map_err(e)?, r.try_get(2).map_err(e)?);
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

    fn feed_state(&self, url: &str) -> Result<Option<FeedState>, StoreError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT etag, last_modified FROM feeds WHERE url = $1",
                &[&url],
            )
            .map_err(backend)?;
        row.map(|r| {
            Ok(FeedState {
                etag: r.try_get(0).map_err(backend)?,
                last_modified: r.try_get(1).map_err(backend)?,
            })
        })
        .transpose()
    }

    fn save_feed_state(&self, url: &str, outlet: &str, s: &FeedState) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                &format!(
                    "INSERT INTO feeds (url, outlet, etag, last_modified, checked_at) \
                     VALUES ($1, $2, $3, $4, {NOW}) ON CONFLICT (url) DO UPDATE SET \
                     outlet = excluded.outlet, etag = excluded.etag, \
                     last_modified = excluded.last_modified, checked_at = excluded.checked_at"
                ),
                &[&url, &outlet, &s.etag, &s.last_modified],
            )
            .map(drop)
            .map_err(backend)
    }

    fn claim_item(&self, c: &ItemClaim) -> Result<Claim, StoreError> {
        let mut conn = self.conn()?;
        let in_archive: bool = conn
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM articles WHERE url = $1)",
                &[&c.url],
            )
            .and_then(|r| r.try_get(0))
            .map_err(backend)?;
        if in_archive {
            return Ok(Claim::Done);
        }
        // INSERT … ON CONFLICT DO UPDATE … WHERE is atomic in PostgreSQL: of two processes
        // claiming the same item at once, one inserts or updates and the other gets no row.
        let won = conn
            .query_opt(
                &format!(
                    "INSERT INTO feed_items (url, outlet, feed, state, worker, lease_until) \
                     VALUES ($1, $2, $3, 'claimed', $4, {NOW} + $5) \
                     ON CONFLICT (url) DO UPDATE SET state = 'claimed', worker = excluded.worker, \
                       lease_until = excluded.lease_until, attempts = feed_items.attempts + 1 \
                     WHERE (feed_items.state = 'claimed' AND feed_items.lease_until < {NOW}) \
                        OR (feed_items.state = 'failed' AND feed_items.attempts < $6) \
                     RETURNING url"
                ),
                &[
                    &c.url,
                    &c.outlet,
                    &c.feed,
                    &c.worker,
                    &c.lease_secs,
                    &c.max_attempts,
                ],
            )
            .map_err(backend)?
            .is_some();
        if won {
            return Ok(Claim::Claimed);
        }
        let row = conn
            .query_one(
                &format!("SELECT state, lease_until - {NOW} FROM feed_items WHERE url = $1"),
                &[&c.url],
            )
            .map_err(backend)?;
        let state: String = row.try_get(0).map_err(backend)?;
        let left: i64 = row.try_get(1).map_err(backend)?;
        Ok(crate::claim_from(&state, left))
    }

    fn complete_item(
        &self,
        url: &str,
        worker: &str,
        a: &NewArticle,
    ) -> Result<Completed, StoreError> {
        let json = serde_json::to_string(&a.analysis).map_err(StoreError::Encode)?;
        let hash = crate::content_hash(&a.analysis.text);
        let mut c = self.conn()?;
        let mut tx = c.transaction().map_err(backend)?;
        // The item's row lock orders two completions of one item; the advisory lock on the hash
        // orders two items with the same text, so neither is saved twice.
        let state: Option<(String, Option<i64>)> = tx
            .query_opt(
                "SELECT state, article_id FROM feed_items WHERE url = $1 FOR UPDATE",
                &[&url],
            )
            .map_err(backend)?
            .map(|r| Ok::<_, postgres::Error>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()
            .map_err(backend)?;
        if let Some((s, Some(id))) = &state {
            if s == "done" {
                return Ok(Completed::Duplicate(*id));
            }
        }
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&hash])
            .map_err(backend)?;
        let same: Option<i64> = tx
            .query_opt(
                "SELECT id FROM articles WHERE content_hash = $1 ORDER BY id LIMIT 1",
                &[&hash],
            )
            .map_err(backend)?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(backend)?;
        let outcome = match same {
            Some(id) => Completed::Duplicate(id),
            None => Completed::Stored(insert_tx(&mut tx, a, &json).map_err(backend)?),
        };
        let (Completed::Stored(id) | Completed::Duplicate(id)) = outcome;
        tx.execute(
            "UPDATE feed_items SET state = 'done', worker = $2, article_id = $3, error = NULL \
             WHERE url = $1",
            &[&url, &worker, &id],
        )
        .map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(outcome)
    }

    fn fail_item(&self, url: &str, worker: &str, error: &str) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "UPDATE feed_items SET state = 'failed', error = $3 \
                 WHERE url = $1 AND worker = $2 AND state = 'claimed'",
                &[&url, &worker, &error],
            )
            .map(drop)
            .map_err(backend)
    }

    fn item_counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        self.conn()?
            .query("SELECT state, count(*) FROM feed_items GROUP BY state", &[])
            .map_err(backend)?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<BTreeMap<String, i64>, postgres::Error>>()
            .map_err(backend)
    }

    fn for_each_outlet_row(
        &self,
        q: &OutletQuery,
        each: &mut dyn FnMut(OutletRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        use postgres::fallible_iterator::FallibleIterator as _;
        const DAY: &str = "coalesce(a.day, substr(a.created_at, 1, 10))";
        let sql = format!(
            "SELECT a.id, {DAY}, a.analysis FROM articles a WHERE a.source = $1 \
             AND ($2::text IS NULL OR {DAY} >= $2) AND ($3::text IS NULL OR {DAY} <= $3) \
             ORDER BY 2, a.id"
        );
        let params: [&(dyn postgres::types::ToSql + Sync); 3] = [&q.outlet, &q.from, &q.to];
        let mut c = self.conn()?;
        // Streamed row by row: an outlet's analyses are never all in memory at once.
        let mut rows = c.query_raw(&sql, params).map_err(backend)?;
        while let Some(r) = rows.next().map_err(backend)? {
            each(OutletRow {
                id: r.try_get(0).map_err(backend)?,
                day: r.try_get(1).map_err(backend)?,
                analysis: r.try_get(2).map_err(backend)?,
            })?;
        }
        Ok(())
    }
}
