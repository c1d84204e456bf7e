//! A real server on a loopback port with a temporary archive, for the integration tests.
#![allow(dead_code)]

use rhetor_server::{AppState, Config};
use std::path::Path;
use std::sync::OnceLock;

pub fn analyzer() -> rhetor::Analyzer {
    static A: OnceLock<rhetor::Analyzer> = OnceLock::new();
    A.get_or_init(|| rhetor::Analyzer::load_fast().expect("built-in fast model"))
        .clone()
}

pub struct TestServer {
    pub base: String,
    pub addr: std::net::SocketAddr,
    /// The archive: a SQLite path or a `postgres://` URL.
    pub db: String,
    state: Option<AppState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// A server with a fresh archive in a temporary folder; `tweak` adjusts the settings.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rhetor.db");
        let mut s = TestServer::start_at(&path, tweak).await;
        s._dir = Some(dir);
        s
    }

    /// A server on an archive file that may already exist.
    pub async fn start_at(db_path: &Path, tweak: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_db(&db_path.display().to_string(), tweak).await
    }

    /// A server on the archive `db`: a SQLite path or a `postgres://` URL.
    pub async fn start_db(db: &str, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config {
            db: db.to_string(),
            ..Config::default()
        };
        tweak(&mut config);
        // Off the runtime: PostgreSQL's blocking client connects with a runtime of its own.
        let state = tokio::task::spawn_blocking(move || AppState::new(analyzer(), config))
            .await
            .unwrap()
            .expect("server state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = state.clone();
        let task = tokio::spawn(async move {
            rhetor_server::serve(listener, served, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            base: format!("http://{addr}"),
            addr,
            db: db.to_string(),
            state: Some(state),
            shutdown: Some(tx),
            task: Some(task),
            _dir: None,
        }
    }

    /// The server's archive.
    pub fn archive(&self) -> std::sync::Arc<dyn rhetor_server::Archive> {
        self.state
            .as_ref()
            .expect("a running server")
            .archive()
            .clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A fixture article in PTC layout (`tests/fixtures/ptc`), e.g. `article("9001")`.
pub fn article(id: &str) -> String {
    rhetor_testkit::fixture_article(id)
}
