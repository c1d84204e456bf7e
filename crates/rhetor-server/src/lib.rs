//! `rhetor serve`: the web app and the JSON API (described by an OpenAPI document at
//! `/api/openapi.json`) over [`rhetor::Analyzer`], an [`Archive`] of saved analyses
//! (`rhetor-store`) and URL ingestion (`rhetor-fetch`). This crate is HTTP only.
//!
//! [`router`] builds every route over a cloneable [`AppState`]; [`serve`] runs it on a listener the
//! caller bound (tests bind port 0) until a shutdown future resolves; [`run`] is what the `rhetor
//! serve` command calls. The analysis itself is the library's: the server only moves text in (pasted,
//! extracted from HTML, or fetched from a URL) and the library's `Analysis` JSON out.
//!
//! Safety: request bodies over [`Config::max_body_bytes`] get 413; analyses and article extraction
//! run on blocking threads, at most [`Config::analysis_workers`] at once, with a bounded queue and a
//! wait limit (503 past them); every request has a time limit (503); outbound fetches refuse private
//! addresses ([`FetchConfig`]). Every error is JSON `{"reason": ...}` with its status.

#![deny(missing_docs)]

mod api;
mod assets;
mod error;
mod outlets;

use anyhow::Context as _;
use axum::Router;
use rhetor::Analyzer;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use error::ApiError;
pub use rhetor_fetch::{FetchConfig, Fetcher};
pub use rhetor_store::{Archive, SqliteArchive};

/// Server settings. [`Config::default`] is what `rhetor serve` uses, apart from its flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// The archive, used by [`AppState::new`]: a SQLite file (created with its schema when
    /// missing) or a `postgres://` URL ([`rhetor_store::open`]).
    pub db: String,
    /// Largest request body accepted, in bytes (413 past it).
    pub max_body_bytes: usize,
    /// Largest article text analysed, in bytes (413 past it).
    pub max_text_bytes: usize,
    /// Analyses running at once (each takes a CPU core).
    pub analysis_workers: usize,
    /// Analyses waiting for a worker, beyond which requests get 503 at once.
    pub max_queued: usize,
    /// How long an analysis may wait for a worker before 503.
    pub queue_timeout: Duration,
    /// Time limit of any request (503 past it).
    pub request_timeout: Duration,
    /// Outbound fetches of `{url}` requests.
    pub fetch: FetchConfig,
    /// How long a client may take to send a request's headers, and how long a kept-alive
    /// connection may wait for its next request, before it is closed (slow clients).
    pub header_timeout: Duration,
    /// Connections open at once; past it, new ones wait in the listen queue until one closes.
    pub max_connections: usize,
}

impl Default for Config {
    fn default() -> Config {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Config {
            db: "rhetor.db".into(),
            max_body_bytes: 4 * 1024 * 1024,
            max_text_bytes: 2 * 1024 * 1024,
            analysis_workers: cores,
            max_queued: 256,
            queue_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(60),
            fetch: FetchConfig::default(),
            header_timeout: Duration::from_secs(10),
            max_connections: 512,
        }
    }
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// Shared, not cloned: a clone of an `Analyzer` copies its model.
    analyzer: Arc<Analyzer>,
    archive: Arc<dyn Archive>,
    fetcher: Fetcher,
    limiter: api::Limiter,
    config: Config,
}

impl AppState {
    /// Opens (or creates and migrates) the archive named by [`Config::db`] and prepares the
    /// fetcher. Call it outside an async runtime: PostgreSQL's blocking client connects here.
    pub fn new(analyzer: Analyzer, config: Config) -> anyhow::Result<AppState> {
        let archive = rhetor_store::open(&config.db)?;
        AppState::with_archive(analyzer, config, archive)
    }

    /// The same over an archive the caller opened (any [`Archive`] implementation).
    pub fn with_archive(
        analyzer: Analyzer,
        config: Config,
        archive: Arc<dyn Archive>,
    ) -> anyhow::Result<AppState> {
        let fetcher = Fetcher::new(config.fetch.clone()).context("preparing URL fetching")?;
        Ok(AppState::with_parts(analyzer, config, archive, fetcher))
    }

    /// The same with a fetcher the caller made (one with its own host-name lookup, say, as the
    /// fuzz target of the API uses so that no request leaves the machine).
    pub fn with_parts(
        analyzer: Analyzer,
        config: Config,
        archive: Arc<dyn Archive>,
        fetcher: Fetcher,
    ) -> AppState {
        let analyzer = Arc::new(analyzer.with_max_bytes(config.max_text_bytes));
        AppState {
            inner: Arc::new(Inner {
                limiter: api::Limiter::new(config.analysis_workers, config.max_queued),
                analyzer,
                archive,
                fetcher,
                config,
            }),
        }
    }

    /// The archive.
    pub fn archive(&self) -> &Arc<dyn Archive> {
        &self.inner.archive
    }
}

/// Every route: the API under `/api`, `/healthz`, the web app's pages and assets.
pub fn router(state: AppState) -> Router {
    api::routes(state)
}

/// Serves the app on `listener` until `shutdown` resolves, then finishes the requests in flight
/// (for at most [`Config::request_timeout`] more).
///
/// The accept loop is the server's own so that slow clients cost little: a connection must send
/// its headers within [`Config::header_timeout`] (on every request, and while kept alive between
/// them), headers over hyper's buffer get 431, and at most [`Config::max_connections`] are open at
/// once, the rest waiting in the listen queue, so a flood of idle sockets delays others by at most
/// the header timeout instead of exhausting file descriptors.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let config = state.inner.config.clone();
    let app = router(state);
    let open = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = open.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // the listener itself is fine; wait a little rather than spin.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(config.header_timeout);
        let conn = http.serve_connection(
            TokioIo::new(stream),
            hyper_util::service::TowerToHyperService::new(app.clone()),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = conn.await {
                tracing::debug!("connection: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(config.request_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("stopping with connections still open after the request time limit");
    }
    Ok(())
}

/// What `rhetor serve` does: logs to stderr, binds `addr`, serves until Ctrl-C or SIGTERM.
pub fn run(addr: &str, analyzer: Analyzer, config: Config) -> anyhow::Result<()> {
    // A client that hangs up must cost one connection, never the process: writes to a closed
    // socket fail with EPIPE instead of raising SIGPIPE (the binary may have restored its default
    // so that `rhetor analyze | head` ends quietly).
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    // glibc gives each thread that allocates its own malloc arena; under sustained load the
    // server's threads (async workers, analyses, archive calls) then keep fragments of many arenas,
    // and RSS crept up 14% over a 10-minute overload soak; with two arenas it levelled off after
    // two minutes (BENCHMARKS.md, "Soak and overload"). Set before the server's threads start;
    // `MALLOC_ARENA_MAX` in the environment still wins.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a malloc parameter (under malloc's own lock).
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let state = AppState::new(analyzer, config)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        let local = listener.local_addr()?;
        tracing::info!("rhetor serve: listening on http://{local}");
        eprintln!("rhetor serve: http://{local} (Ctrl-C stops)");
        serve(listener, state, shutdown_signal()).await?;
        tracing::info!("rhetor serve: stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
