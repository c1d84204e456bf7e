//! `rhetor watch` as a library: poll RSS/Atom feeds, fetch each new item's page under
//! rhetor-fetch's guards, analyse it, and save it once in a rhetor-store archive that several
//! processes (on several machines, with PostgreSQL) may share.
//!
//! Its own crate because it joins three others (the analyzer, the fetcher, the archive); putting it
//! in rhetor-fetch or rhetor-store would make either depend on the models.
//!
//! A pass ([`Watcher::run_once`]) reads every feed with a conditional GET (an unchanged feed costs
//! a `304`), claims each item in the archive ([`rhetor_store::Archive::claim_item`]: one process
//! wins each item, and a dead process's claim expires after its lease), fetches, extracts and
//! analyses it, and saves it unless the archive already holds its URL or its text. Requests go one
//! at a time, with a minimum delay between two to the same host. A failing feed or item is logged
//! (tracing) and counted, and the pass goes on. A feed's validators are saved only once all its
//! items are settled, so an item whose claimer died is still seen by the next pass. A pass ends
//! when every item it saw is done, failed or given up: items another process holds are waited for,
//! and taken over when that process's lease runs out.

#![deny(missing_docs)]

mod feeds;
mod items;

pub use feeds::{parse_feeds, read_feeds, FeedSpec, FeedsFileError};
pub use items::{parse_items, FeedItem, FeedParseError};

use rhetor_fetch::{FeedFetch, FetchConfig, Fetcher};
use rhetor_store::{Archive, Claim, Completed, FeedState, ItemClaim, NewArticle, StoreError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Settings of a watcher.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// Limits and address policy of every request (feeds and pages).
    pub fetch: FetchConfig,
    /// Least time between two requests to one host.
    pub host_delay: Duration,
    /// How long a claim on an item holds before another process may take it over.
    pub lease: Duration,
    /// Failed attempts after which an item is left alone.
    pub max_attempts: i64,
    /// This process's name in claims (unique per process).
    pub worker: String,
}

impl Default for WatchConfig {
    fn default() -> WatchConfig {
        WatchConfig {
            fetch: FetchConfig {
                private_flag: "--allow-private-addresses",
                ..FetchConfig::default()
            },
            host_delay: Duration::from_secs(1),
            lease: Duration::from_secs(300),
            max_attempts: 3,
            worker: worker_name(),
        }
    }
}

/// `host:pid:nanos`: unique per process, and says where a claim comes from.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{host}:{}:{nanos}", std::process::id())
}

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Feeds read (changed since the last pass, or new).
    pub feeds_read: usize,
    /// Feeds that answered `304 Not Modified`.
    pub feeds_unchanged: usize,
    /// Feeds that failed (unreachable, refused, an HTTP error, not a feed).
    pub feeds_failed: usize,
    /// Items listed by the feeds read.
    pub items_seen: usize,
    /// Items analysed and saved.
    pub stored: usize,
    /// Items analysed whose text the archive already held (same story, another URL).
    pub duplicates: usize,
    /// Items already in the archive, or done by another process.
    pub already_done: usize,
    /// Items that failed (fetch, extraction, analysis).
    pub items_failed: usize,
    /// Items left alone after failing too often.
    pub gave_up: usize,
}

/// Why a pass stopped before its end: the archive itself failed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// An archive operation failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HTTP client or the runtime could not be set up.
    #[error("{0}")]
    Setup(String),
}

/// A flag that stops a watcher between two items, and wakes it from its waits.
#[derive(Clone, Default)]
pub struct Stop {
    flag: Arc<AtomicBool>,
    notify: Arc<tokio::sync::Notify>,
}

impl Stop {
    /// Asks the watcher to stop after the item in hand.
    pub fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Sleeps for `d`, or less when a stop is asked for.
    async fn sleep(&self, d: Duration) {
        let woken = self.notify.notified();
        if self.is_stopped() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = woken => {}
        }
    }
}

/// An item this pass is working on, and the feed that listed it.
struct Pending {
    item: FeedItem,
    feed: usize,
}

/// Polls feeds into an archive.
pub struct Watcher {
    archive: Arc<dyn Archive>,
    analyzer: Arc<rhetor::Analyzer>,
    fetcher: Fetcher,
    config: WatchConfig,
    /// Network I/O only; archive calls and analyses run on the calling thread, outside it (the
    /// blocking PostgreSQL client must not run on a runtime thread).
    rt: tokio::runtime::Runtime,
    last_request: HashMap<String, Instant>,
    stop: Stop,
}

impl Watcher {
    /// A watcher saving into `archive`, analysing with `analyzer`.
    pub fn new(
        archive: Arc<dyn Archive>,
        analyzer: Arc<rhetor::Analyzer>,
        config: WatchConfig,
    ) -> Result<Watcher, WatchError> {
        // One worker thread: the signal listener runs on it while this thread does the work.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| WatchError::Setup(format!("starting the I/O runtime: {e}")))?;
        let fetcher = {
            let _guard = rt.enter();
            Fetcher::new(config.fetch.clone()).map_err(|e| WatchError::Setup(e.to_string()))?
        };
        Ok(Watcher {
            archive,
            analyzer,
            fetcher,
            config,
            rt,
            last_request: HashMap::new(),
            stop: Stop::default(),
        })
    }

    /// The handle that stops this watcher.
    pub fn stopper(&self) -> Stop {
        self.stop.clone()
    }

    /// Stops the watcher (cleanly, after the item in hand) on SIGINT or SIGTERM.
    pub fn stop_on_signals(&self) {
        let stop = self.stop.clone();
        self.rt.spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{signal, SignalKind};
                let Ok(mut term) = signal(SignalKind::terminate()) else {
                    return;
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("stopping after the item in hand");
            stop.stop();
        });
    }

    /// Runs passes every `interval` until stopped; a pass whose archive fails is logged and the
    /// next one tried. Gives the totals.
    pub fn run(
        &mut self,
        feeds: &[FeedSpec],
        interval: Duration,
        progress: &mut dyn FnMut(&Report, &str),
    ) -> Report {
        let mut total = Report::default();
        while !self.stop.is_stopped() {
            let started = Instant::now();
            match self.run_once(feeds, progress) {
                Ok(r) => {
                    tracing::info!(?r, "pass done");
                    add(&mut total, &r);
                }
                Err(e) => tracing::error!("pass failed: {e}"),
            }
            let wait = interval.saturating_sub(started.elapsed());
            let stop = self.stop.clone();
            self.rt.block_on(stop.sleep(wait));
        }
        total
    }

    /// One pass over every feed; `progress` hears the running totals and what is being done.
    pub fn run_once(
        &mut self,
        feeds: &[FeedSpec],
        progress: &mut dyn FnMut(&Report, &str),
    ) -> Result<Report, WatchError> {
        let mut r = Report::default();
        // Per feed: its new validators, and items not yet settled.
        let mut validators: Vec<Option<FeedState>> = vec![None; feeds.len()];
        let mut unsettled = vec![0usize; feeds.len()];
        let mut busy: Vec<Pending> = Vec::new();
        for (i, feed) in feeds.iter().enumerate() {
            if self.stop.is_stopped() {
                break;
            }
            progress(&r, &format!("feed {}", feed.url));
            let Some((items, state)) = self.read_feed(feed, &mut r)? else {
                continue;
            };
            validators[i] = Some(state);
            r.items_seen += items.len();
            for item in items {
                if self.stop.is_stopped() {
                    break;
                }
                progress(&r, &item.url);
                if !self.try_item(Pending { item, feed: i }, feeds, &mut r, &mut busy)? {
                    unsettled[i] += 1;
                }
            }
            self.settle(feeds, i, &validators, &unsettled)?;
        }
        // Items other processes hold: wait for them to finish, or for their leases to run out.
        while !busy.is_empty() && !self.stop.is_stopped() {
            progress(
                &r,
                &format!("waiting for {} items other processes hold", busy.len()),
            );
            let stop = self.stop.clone();
            self.rt.block_on(stop.sleep(Duration::from_millis(500)));
            for p in std::mem::take(&mut busy) {
                let feed = p.feed;
                let mut again = Vec::new();
                let settled = self.try_item(p, feeds, &mut r, &mut again)?;
                busy.extend(again);
                if settled {
                    unsettled[feed] -= 1;
                    self.settle(feeds, feed, &validators, &unsettled)?;
                }
            }
        }
        progress(&r, "done");
        Ok(r)
    }

    /// Saves a feed's validators once all its items are settled.
    fn settle(
        &self,
        feeds: &[FeedSpec],
        i: usize,
        validators: &[Option<FeedState>],
        unsettled: &[usize],
    ) -> Result<(), WatchError> {
        if let (Some(state), 0) = (&validators[i], unsettled[i]) {
            if !self.stop.is_stopped() {
                self.archive
                    .save_feed_state(&feeds[i].url, &feeds[i].outlet, state)?;
            }
        }
        Ok(())
    }

    /// Fetches a feed (conditionally) and lists its items; `None` when unchanged or failed.
    fn read_feed(
        &mut self,
        feed: &FeedSpec,
        r: &mut Report,
    ) -> Result<Option<(Vec<FeedItem>, FeedState)>, WatchError> {
        let old = self.archive.feed_state(&feed.url)?.unwrap_or_default();
        self.wait_for_host(&feed.url);
        let got = self.rt.block_on(self.fetcher.fetch_feed(
            &feed.url,
            old.etag.as_deref(),
            old.last_modified.as_deref(),
        ));
        match got {
            Ok(FeedFetch::NotModified) => {
                tracing::debug!(feed = %feed.url, "unchanged");
                r.feeds_unchanged += 1;
                Ok(None)
            }
            Ok(FeedFetch::Fetched {
                url,
                body,
                etag,
                last_modified,
            }) => match parse_items(&body, &url) {
                Ok(items) => {
                    r.feeds_read += 1;
                    tracing::info!(feed = %feed.url, items = items.len(), "feed read");
                    Ok(Some((
                        items,
                        FeedState {
                            etag,
                            last_modified,
                        },
                    )))
                }
                Err(e) => {
                    r.feeds_failed += 1;
                    tracing::warn!(feed = %feed.url, error = %e, "feed failed");
                    Ok(None)
                }
            },
            Err(e) => {
                r.feeds_failed += 1;
                tracing::warn!(feed = %feed.url, error = %e, "feed failed");
                Ok(None)
            }
        }
    }

    /// Claims and processes one item; false when another process holds it (pushed on `busy`).
    fn try_item(
        &mut self,
        p: Pending,
        feeds: &[FeedSpec],
        r: &mut Report,
        busy: &mut Vec<Pending>,
    ) -> Result<bool, WatchError> {
        let feed = &feeds[p.feed];
        let claim = ItemClaim {
            url: p.item.url.clone(),
            outlet: feed.outlet.clone(),
            feed: feed.url.clone(),
            worker: self.config.worker.clone(),
            lease_secs: self.config.lease.as_secs().max(1) as i64,
            max_attempts: self.config.max_attempts,
        };
        match self.archive.claim_item(&claim)? {
            Claim::Done => r.already_done += 1,
            Claim::GaveUp => r.gave_up += 1,
            Claim::Busy(_) => {
                busy.push(p);
                return Ok(false);
            }
            Claim::Claimed => match self.process(&p.item, feed) {
                Ok(article) => {
                    match self
                        .archive
                        .complete_item(&p.item.url, &self.config.worker, &article)?
                    {
                        Completed::Stored(id) => {
                            r.stored += 1;
                            tracing::info!(item = %p.item.url, id, "stored");
                        }
                        Completed::Duplicate(id) => {
                            r.duplicates += 1;
                            tracing::info!(item = %p.item.url, same_as = id, "already archived");
                        }
                    }
                }
                Err(e) => {
                    r.items_failed += 1;
                    tracing::warn!(item = %p.item.url, feed = %feed.url, error = %e, "item failed");
                    self.archive
                        .fail_item(&p.item.url, &self.config.worker, &e)?;
                }
            },
        }
        Ok(true)
    }

    /// Fetches, extracts and analyses one item.
    fn process(&mut self, item: &FeedItem, feed: &FeedSpec) -> Result<NewArticle, String> {
        self.wait_for_host(&item.url);
        let page = self
            .rt
            .block_on(self.fetcher.fetch_page(&item.url))
            .map_err(|e| e.to_string())?;
        let article = page.into_article().map_err(|e| e.to_string())?;
        let analysis = self
            .analyzer
            .analyze(&article.text())
            .map_err(|e| format!("analysis failed: {e}"))?;
        Ok(NewArticle {
            source: Some(feed.outlet.clone()),
            url: Some(item.url.clone()),
            title: item.title.clone().or(article.title),
            byline: item.author.clone().or(article.byline),
            published: item.published.clone().or(article.published),
            feed: Some(feed.url.clone()),
            analysis,
        })
    }

    /// Sleeps until the host of `url` may be asked again.
    fn wait_for_host(&mut self, url: &str) {
        let Some(host) = url::Url::parse(url).ok().and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
        }) else {
            return;
        };
        if let Some(last) = self.last_request.get(&host) {
            let wait = self.config.host_delay.saturating_sub(last.elapsed());
            if !wait.is_zero() {
                let stop = self.stop.clone();
                self.rt.block_on(stop.sleep(wait));
            }
        }
        self.last_request.insert(host, Instant::now());
    }
}

fn add(total: &mut Report, r: &Report) {
    total.feeds_read += r.feeds_read;
    total.feeds_unchanged += r.feeds_unchanged;
    total.feeds_failed += r.feeds_failed;
    total.items_seen += r.items_seen;
    total.stored += r.stored;
    total.duplicates += r.duplicates;
    total.already_done += r.already_done;
    total.items_failed += r.items_failed;
    total.gave_up += r.gave_up;
}
