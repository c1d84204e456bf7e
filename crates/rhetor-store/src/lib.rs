//! rhetor's article archive: saved analyses with their outlet, address and headline, listed,
//! searched, aggregated and deleted through the [`Archive`] trait.
//!
//! Two implementations, picked by [`open`] from the `--db` value: [`SqliteArchive`] (a file path:
//! one SQLite file in WAL mode, the embedded default) and [`PgArchive`] (a `postgres://` URL: one
//! PostgreSQL database shared by several `rhetor serve` and `rhetor watch` processes on several
//! machines). Both are migrated at open by the same timestamped migrations, one SQL file per
//! dialect (`migrations/sqlite/`, `migrations/postgres/`), and pass the same tests. The trait
//! speaks only this crate's types (no SQL driver in its signatures).
//!
//! Feed items are claimed before they are analysed ([`Archive::claim_item`]): a claim is a row
//! keyed by the item's URL with a lease, taken by one atomic upsert, so each item is analysed once
//! across processes; a process that dies leaves its claim to expire and be taken again.
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

mod export;
mod outlet;
mod postgres;
mod sqlite;

pub use export::{csv_header, csv_rows, export, jsonl_line, ptc_rows, ExportFilter, ExportFormat};

pub use outlet::{
    csv as outlet_csv, is_date, week_of, Aggregator, OutletQuery, OutletReport, OutletRow,
    OutletSpeaker, OutletTable, OutletTechnique, OutletVoice, OutletWeek,
};
pub use postgres::PgArchive;
pub use sqlite::SqliteArchive;

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Opens the archive named by `db`: a `postgres://` or `postgresql://` URL opens [`PgArchive`],
/// anything else is the path of a SQLite file ([`SqliteArchive`], created when missing).
pub fn open(db: &str) -> Result<Arc<dyn Archive>, StoreError> {
    if is_postgres_url(db) {
        Ok(Arc::new(PgArchive::open(db)?))
    } else {
        Ok(Arc::new(SqliteArchive::open(Path::new(db))?))
    }
}

/// Whether `db` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// The content hash stored with every article: SHA-256 of its text, in hex. Two items whose pages
/// give the same text (one story under two URLs) have the same hash and are analysed once.
pub fn content_hash(text: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `YYYY-MM-DD` day a publication date starts with, if it starts with one; aggregates over
/// time use it (and the day of saving when there is none), the same on every database.
pub fn day_of(published: &str) -> Option<String> {
    let d = published.trim().get(..10)?;
    let b = d.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10)) {
        return None;
    }
    let (m, day): (u32, u32) = (d[5..7].parse().ok()?, d[8..10].parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&day)).then(|| d.to_string())
}

/// The archive's operations, whatever database holds it.
///
/// Synchronous on purpose: SQLite's API is blocking, the server already runs archive calls on
/// blocking threads (`spawn_blocking`), and a synchronous trait stays object-safe, so the server
/// holds an `Arc<dyn Archive>` chosen at start-up. PostgreSQL fits the same shape with the
/// blocking client and a connection pool (`postgres` + `r2d2`); like SQLite's calls, its calls
/// must not be made on an async runtime's own threads.
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

    /// The conditional-GET validators saved for a feed, if it was read before.
    fn feed_state(&self, url: &str) -> Result<Option<FeedState>, StoreError>;

    /// Saves a feed's validators (after its items were all handled).
    fn save_feed_state(&self, url: &str, outlet: &str, state: &FeedState)
        -> Result<(), StoreError>;

    /// Claims a feed item for `claim.worker`, atomically across processes: [`Claim::Claimed`]
    /// when it is new, its earlier claim's lease ran out, or it failed fewer than
    /// `claim.max_attempts` times; otherwise why not.
    fn claim_item(&self, claim: &ItemClaim) -> Result<Claim, StoreError>;

    /// Saves the analysis of a claimed item and marks it done, in one transaction. An item done
    /// meanwhile (by a process that took over an expired claim) or an article with the same
    /// content hash is not saved again: [`Completed::Duplicate`].
    fn complete_item(
        &self,
        url: &str,
        worker: &str,
        article: &NewArticle,
    ) -> Result<Completed, StoreError>;

    /// Records that a claimed item failed; it is claimed again while it has attempts left.
    fn fail_item(&self, url: &str, worker: &str, error: &str) -> Result<(), StoreError>;

    /// Counts of feed items by state (`claimed`, `done`, `failed`).
    fn item_counts(&self) -> Result<BTreeMap<String, i64>, StoreError>;

    /// Hands `each` every saved article of `query.outlet` whose day (publication day, else the
    /// day saved) lies in `query.from..=query.to`, oldest first; stops at its first error.
    fn for_each_outlet_row(
        &self,
        query: &OutletQuery,
        each: &mut dyn FnMut(OutletRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// The outlet view's aggregates ([`OutletReport`]): the rows of
    /// [`Archive::for_each_outlet_row`] folded by the one [`Aggregator`].
    fn outlet_report(&self, query: &OutletQuery) -> Result<OutletReport, StoreError> {
        let mut agg = Aggregator::new(query);
        self.for_each_outlet_row(query, &mut |row| agg.add(&row))?;
        Ok(agg.finish())
    }
}

/// The claim outcome for an item that was not won: its state and its lease's seconds left.
pub(crate) fn claim_from(state: &str, lease_left: i64) -> Claim {
    match state {
        "done" => Claim::Done,
        "claimed" => Claim::Busy(lease_left.max(0)),
        _ => Claim::GaveUp,
    }
}

/// A feed's conditional-GET validators.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedState {
    /// The `ETag` it last answered.
    pub etag: Option<String>,
    /// The `Last-Modified` it last answered.
    pub last_modified: Option<String>,
}

/// A request to claim one feed item.
#[derive(Debug, Clone)]
pub struct ItemClaim {
    /// The item's link (the key: one item per URL).
    pub url: String,
    /// The outlet of its feed.
    pub outlet: String,
    /// The feed it came from.
    pub feed: String,
    /// Who claims it (unique per process, e.g. host and pid).
    pub worker: String,
    /// Seconds the claim holds before another process may take it.
    pub lease_secs: i64,
    /// Failed attempts after which the item is left alone.
    pub max_attempts: i64,
}

/// The outcome of [`Archive::claim_item`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Claimed: analyse it, then [`Archive::complete_item`] or [`Archive::fail_item`].
    Claimed,
    /// Already analysed (or an article with this URL is in the archive).
    Done,
    /// Claimed by another process whose lease has this many seconds left.
    Busy(i64),
    /// Failed `max_attempts` times.
    GaveUp,
}

/// The outcome of [`Archive::complete_item`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completed {
    /// Saved as this article.
    Stored(i64),
    /// Not saved: this article already holds it (same item or same content hash).
    Duplicate(i64),
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
        /// The archive's file, or its database URL without the password.
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
    /// The feed it came from, when `rhetor watch` found it.
    pub feed: Option<String>,
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
            feed: None,
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
    /// The feed it came from, if any.
    pub feed: Option<String>,
    /// SHA-256 of its text ([`content_hash`]).
    pub content_hash: Option<String>,
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
    /// Articles of this day (`YYYY-MM-DD`) or later: publication day, else the day saved.
    pub since: Option<String>,
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
