//! rhetor's article archive: saved analyses with their outlet, address and headline, listed,
//! searched, aggregated and deleted through the [`Archive`] trait.
//!
//! [`SqliteArchive`] is the implementation today: one SQLite file in WAL mode, migrated at open by
//! timestamped SQL files embedded from `migrations/sqlite/`. The trait speaks only this crate's
//! types (no SQL driver in its signatures), so another database can implement it beside SQLite.
//!
//! ```
//! use rhetor_store::{Archive, ListFilter, NewArticle, SqliteArchive};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let archive = SqliteArchive::open(&dir.path().join("rhetor.db")).unwrap();
//! let analysis = rhetor::Analyzer::load_fast().unwrap().analyze("They are a gang of traitors.").unwrap();
//! let id = archive.insert(&NewArticle::new(analysis).with_source("Example")).unwrap();
//! let page = archive.list(&ListFilter::default()).unwrap();
//! assert_eq!(page.articles[0].id, id);
//! assert_eq!(page.articles[0].source.as_deref(), Some("Example"));
//! assert!(archive.delete(id).unwrap());
//! ```

#![deny(missing_docs)]

mod sqlite;

pub use sqlite::SqliteArchive;

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The archive's operations, whatever database holds it.
///
/// Synchronous on purpose: SQLite's API is blocking, the server already runs archive calls on
/// blocking threads (`spawn_blocking`), and a synchronous trait stays object-safe, so the server
/// holds an `Arc<dyn Archive>` chosen at start-up. A PostgreSQL implementation fits the same
/// shape with a blocking client and a connection pool (`postgres` + `r2d2`), called the same way.
pub trait Archive: Send + Sync {
    /// Versions of the schema migrations applied, in order.
    fn migrations(&self) -> Result<Vec<String>, StoreError>;

    /// Saves an analysis; returns its id. Once this returns, the article survives a crash.
    fn insert(&self, article: &NewArticle) -> Result<i64, StoreError>;

    /// A saved article with its analysis, or `None`.
    fn get(&self, id: i64) -> Result<Option<ArticleRecord>, StoreError>;

    /// Deletes a saved article; false when there was none.
    fn delete(&self, id: i64) -> Result<bool, StoreError>;

    /// Number of saved articles.
    fn count(&self) -> Result<i64, StoreError>;

    /// One page of the saved articles matching `filter`, newest first.
    fn list(&self, filter: &ListFilter) -> Result<ArticlePage, StoreError>;

    /// Aggregates over the archive, or over one outlet.
    fn stats(&self, source: Option<&str>) -> Result<Stats, StoreError>;
}

/// A database driver's own error, kept as the cause of a [`StoreError`].
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// Why an archive operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The archive could not be opened or set up.
    #[error("cannot open the archive {}: {source}", path.display())]
    Open {
        /// The archive's file.
        path: PathBuf,
        /// The driver's error.
        #[source]
        source: BackendError,
    },
    /// The archive was migrated by a newer rhetor, whose schema this one does not know.
    #[error(
        "the archive {} has migration {version}, unknown to this rhetor: it was written by a \
         newer version; use that version or another archive file",
        path.display()
    )]
    NewerSchema {
        /// The archive's file.
        path: PathBuf,
        /// The unknown migration.
        version: String,
    },
    /// A schema migration failed (and was rolled back).
    #[error("the archive {}: migration {version} failed: {source}", path.display())]
    Migration {
        /// The archive's file.
        path: PathBuf,
        /// The migration.
        version: String,
        /// The driver's error.
        #[source]
        source: BackendError,
    },
    /// A query failed.
    #[error("archive query failed: {0}")]
    Backend(#[source] BackendError),
    /// A saved analysis could not be read back as JSON.
    #[error("the saved analysis of article {id} is not valid JSON: {source}")]
    Corrupt {
        /// The article.
        id: i64,
        /// Why it does not parse.
        #[source]
        source: serde_json::Error,
    },
    /// An analysis could not be encoded as JSON.
    #[error("could not encode the analysis: {0}")]
    Encode(#[source] serde_json::Error),
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
    pub analysis: rhetor_core::Analysis,
}

impl NewArticle {
    /// An analysis with no outlet, address, headline, author or date.
    pub fn new(analysis: rhetor_core::Analysis) -> NewArticle {
        NewArticle {
            source: None,
            url: None,
            title: None,
            byline: None,
            published: None,
            analysis,
        }
    }

    /// The same, with an outlet.
    pub fn with_source(mut self, source: impl Into<String>) -> NewArticle {
        self.source = Some(source.into());
        self
    }
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
    /// 1-based page (0 is read as 1).
    pub page: u32,
    /// Articles per page (clamped to 1..=100).
    pub per_page: u32,
}

impl ListFilter {
    /// The page and page size every implementation uses: `page` at least 1, `per_page` in 1..=100.
    pub fn page_and_size(&self) -> (u32, u32) {
        (self.page.max(1), self.per_page.clamp(1, 100))
    }
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
