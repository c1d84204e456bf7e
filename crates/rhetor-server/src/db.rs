//! The archive: an SQLite file in WAL mode, migrated at open by the versioned SQL files embedded
//! from `migrations/`. All SQL takes its values through bound parameters.
//!
//! One connection behind a mutex: SQLite serialises writers anyway, queries here are short, and
//! callers run them on blocking threads.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Migrations in the order they apply: (version, SQL). A version is a UTC timestamp and a name;
/// never edit one that has shipped, add a new one.
const MIGRATIONS: &[(&str, &str)] = &[(
    "20261125170000_init",
    include_str!("../migrations/20261125170000_init.sql"),
)];

/// A handle on the archive; cheap to clone.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

/// An analysis to save.
#[derive(Debug, Clone)]
pub struct NewArticle {
    /// The outlet.
    pub source: Option<String>,
    /// Where it was fetched from.
    pub url: Option<String>,
    /// Headline.
    pub title: Option<String>,
    /// Author line.
    pub byline: Option<String>,
    /// Publication date, as the page gives it.
    pub published: Option<String>,
    /// The analysis.
    pub analysis: rhetor::Analysis,
}

/// An article of the archive, without its text.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleSummary {
    /// Id (permalink `/a/{id}`).
    pub id: i64,
    /// When it was saved (UTC, RFC 3339).
    pub created_at: String,
    /// The outlet.
    pub source: Option<String>,
    /// Where it came from.
    pub url: Option<String>,
    /// Headline.
    pub title: Option<String>,
    /// Author line.
    pub byline: Option<String>,
    /// Publication date as given.
    pub published: Option<String>,
    /// Model that analysed it.
    pub model: String,
    /// Length in code points.
    pub length: i64,
    /// Number of spans.
    pub span_count: i64,
    /// Share of code points inside a span.
    pub density: f64,
    /// Spans per technique (present techniques only).
    pub counts: BTreeMap<String, i64>,
}

/// A saved article with its analysis.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleRecord {
    /// Everything but the analysis.
    #[serde(flatten)]
    pub summary: ArticleSummary,
    /// The Analysis JSON as saved.
    pub analysis: serde_json::Value,
}

/// Filters of the article list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Exact outlet.
    pub source: Option<String>,
    /// Articles with at least one span of this technique.
    pub technique: Option<String>,
    /// Substring of the title or the text (ASCII case-insensitive).
    pub q: Option<String>,
    /// 1-based page.
    pub page: u32,
    /// Articles per page.
    pub per_page: u32,
}

/// One page of the article list.
#[derive(Debug, Clone, Serialize)]
pub struct ArticlePage {
    /// This page (1-based).
    pub page: u32,
    /// Articles per page.
    pub per_page: u32,
    /// Articles matching the filters, on all pages.
    pub total: i64,
    /// This page's articles, newest first.
    pub articles: Vec<ArticleSummary>,
}

/// Aggregates of the archive.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Articles (matching the source filter, if any).
    pub articles: i64,
    /// Spans in them.
    pub spans: i64,
    /// Mean density of the articles.
    pub mean_density: f64,
    /// Per outlet, most articles first.
    pub sources: Vec<SourceStats>,
    /// Per technique, all 14 in the taxonomy's order.
    pub techniques: Vec<TechniqueStats>,
    /// Per day (publication date when the page gave one, else the day it was saved).
    pub over_time: Vec<DayStats>,
}

/// One outlet's aggregates.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStats {
    /// Outlet (null: none given).
    pub source: Option<String>,
    /// Articles.
    pub articles: i64,
    /// Spans.
    pub spans: i64,
    /// Mean density.
    pub mean_density: f64,
}

/// One technique's aggregates.
#[derive(Debug, Clone, Serialize)]
pub struct TechniqueStats {
    /// Technique name.
    pub technique: String,
    /// Spans of it.
    pub spans: i64,
    /// Articles with at least one.
    pub articles: i64,
}

/// One day's aggregates.
#[derive(Debug, Clone, Serialize)]
pub struct DayStats {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Articles.
    pub articles: i64,
    /// Spans.
    pub spans: i64,
    /// Mean density.
    pub mean_density: f64,
    /// Spans per technique (present techniques only).
    pub techniques: BTreeMap<String, i64>,
}

fn summary_columns() -> &'static str {
    "a.id, a.created_at, a.source, a.url, a.title, a.byline, a.published, a.model, a.length, \
     a.span_count, a.density, \
     (SELECT json_group_object(technique, spans) FROM article_techniques WHERE article_id = a.id)"
}

fn summary_from_row(row: &rusqlite::Row) -> rusqlite::Result<ArticleSummary> {
    let counts: Option<String> = row.get(11)?;
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
        model: row.get(7)?,
        length: row.get(8)?,
        span_count: row.get(9)?,
        density: row.get(10)?,
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

impl Db {
    /// Opens the archive at `path`, creating it if missing, in WAL mode, and applies the
    /// migrations it lacks. Refuses an archive written by a newer rhetor.
    pub fn open(path: &Path) -> anyhow::Result<Db> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            anyhow::bail!("could not switch to WAL mode (journal mode is {mode})");
        }
        // FULL: a commit is on disk before the client hears of it, so killing the server (or the
        // machine) loses nothing committed.
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        migrate(&mut conn)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable (SQLite rolls back).
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Versions of the migrations applied, in order.
    pub fn migrations(&self) -> rusqlite::Result<Vec<String>> {
        let conn = self.lock();
        let mut st = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
        let v = st
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(v)
    }

    /// Saves an analysis; returns its id.
    pub fn insert(&self, a: &NewArticle) -> anyhow::Result<i64> {
        let json = serde_json::to_string(&a.analysis)?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO articles (source, url, title, byline, published, model, length, span_count, \
             density, text, analysis) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                a.source,
                a.url,
                a.title,
                a.byline,
                a.published,
                a.analysis.model,
                a.analysis.length as i64,
                a.analysis.spans.len() as i64,
                a.analysis.density(),
                a.analysis.text,
                json,
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut st = tx.prepare(
                "INSERT INTO article_techniques (technique, article_id, spans) VALUES (?1, ?2, ?3)",
            )?;
            for (t, n) in &a.analysis.counts {
                st.execute(params![t, id, *n as i64])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// A saved article, or `None`.
    pub fn get(&self, id: i64) -> anyhow::Result<Option<ArticleRecord>> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {}, a.analysis FROM articles a WHERE a.id = ?1",
            summary_columns()
        );
        let row = conn
            .query_row(&sql, params![id], |r| {
                Ok((summary_from_row(r)?, r.get::<_, String>(12)?))
            })
            .optional()?;
        Ok(match row {
            None => None,
            Some((summary, json)) => Some(ArticleRecord {
                summary,
                analysis: serde_json::from_str(&json)?,
            }),
        })
    }

    /// Deletes a saved article; false when there was none.
    pub fn delete(&self, id: i64) -> anyhow::Result<bool> {
        let conn = self.lock();
        Ok(conn.execute("DELETE FROM articles WHERE id = ?1", params![id])? > 0)
    }

    /// Number of saved articles.
    pub fn count(&self) -> anyhow::Result<i64> {
        let conn = self.lock();
        Ok(conn.query_row("SELECT count(*) FROM articles", [], |r| r.get(0))?)
    }

    /// One page of saved articles matching `f`, newest first.
    pub fn list(&self, f: &ListFilter) -> anyhow::Result<ArticlePage> {
        let per_page = f.per_page.clamp(1, 100);
        let page = f.page.max(1);
        let q = f.q.as_deref().map(like_pattern);
        let filter = "(?1 IS NULL OR a.source = ?1) \
             AND (?2 IS NULL OR EXISTS (SELECT 1 FROM article_techniques t \
                                       WHERE t.technique = ?2 AND t.article_id = a.id)) \
             AND (?3 IS NULL OR a.title LIKE ?3 ESCAPE '\\' OR a.text LIKE ?3 ESCAPE '\\')";
        let conn = self.lock();
        let total: i64 = conn.query_row(
            &format!("SELECT count(*) FROM articles a WHERE {filter}"),
            params![f.source, f.technique, q],
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
                params![f.source, f.technique, q, per_page as i64, offset],
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

    /// Aggregates over the archive, or over one outlet.
    pub fn stats(&self, source: Option<&str>) -> anyhow::Result<Stats> {
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
        let techniques = rhetor::Technique::ALL
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

        const DAY: &str = "coalesce(date(a.published), date(a.created_at))";
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

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    TEXT PRIMARY KEY,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
         )",
    )?;
    let applied: Vec<String> = {
        let mut st = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
        let v = st
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        v
    };
    if let Some(unknown) = applied
        .iter()
        .find(|v| !MIGRATIONS.iter().any(|(m, _)| m == v))
    {
        anyhow::bail!(
            "the archive has migration {unknown}, unknown to this rhetor: it was written by a newer \
             version; use that version or another --db file"
        );
    }
    for (version, sql) in MIGRATIONS {
        if applied.iter().any(|v| v == version) {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .map_err(|e| anyhow::anyhow!("migration {version}: {e}"))?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES (?1)",
            params![version],
        )?;
        tx.commit()?;
        tracing::info!("archive: applied migration {version}");
    }
    Ok(())
}

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

    #[test]
    fn reopening_keeps_data_and_does_not_reapply() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let analyzer = rhetor::Analyzer::load_fast().unwrap();
        let analysis = analyzer.analyze("They are a gang of traitors.").unwrap();
        let id = {
            let db = Db::open(&path).unwrap();
            db.insert(&NewArticle {
                source: Some("Example".into()),
                url: None,
                title: None,
                byline: None,
                published: None,
                analysis,
            })
            .unwrap()
        };
        let db = Db::open(&path).unwrap();
        assert_eq!(db.migrations().unwrap().len(), MIGRATIONS.len());
        let rec = db.get(id).unwrap().unwrap();
        assert_eq!(rec.summary.source.as_deref(), Some("Example"));
        assert!(db.delete(id).unwrap());
        assert!(db.get(id).unwrap().is_none());
        assert!(!db.delete(id).unwrap());
    }
}
