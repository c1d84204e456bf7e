//! The HTTP API in process, through the real router: `POST /api/analyze` bodies (JSON in any
//! shape: text, HTML to extract, URLs, titles, sources, `save` into a real SQLite archive) and the
//! query strings of the listing, stats and outlet endpoints. Whatever a client sends, the answer
//! is never a 500 and every JSON endpoint answers JSON.
//!
//! The first byte chooses the request; the rest is its body, query string or path segment.
#![no_main]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use rhetor_server::{AppState, Config, Fetcher, SqliteArchive};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tower::ServiceExt;

struct World {
    rt: tokio::runtime::Runtime,
    app: Router,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let dir = if std::path::Path::new("/dev/shm").is_dir() {
            std::path::PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let db = dir.join(format!("rhetor-fuzz-api-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&db);
        let archive = Arc::new(SqliteArchive::open(&db).expect("archive"));
        let mut config = Config {
            db: db.display().to_string(),
            request_timeout: Duration::from_secs(5),
            ..Config::default()
        };
        config.fetch.timeout = Duration::from_millis(200);
        // No request leaves the machine: every name resolves to nothing.
        let lookup: rhetor_fetch::Lookup = Arc::new(|_| Ok(Vec::new()));
        let fetcher = Fetcher::with_lookup(config.fetch.clone(), lookup).expect("fetcher");
        let analyzer = rhetor::Analyzer::load_fast().expect("built-in model");
        let state = AppState::with_parts(analyzer, config, archive, fetcher);
        World {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            app: rhetor_server::router(state),
        }
    })
}

/// Bytes as a query string or path: bytes a URI may carry as they are (the fuzzer keeps control of
/// `&`, `=` and `%`), every other byte percent-encoded.
fn uri_part(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"&=%+-._~,:;!*'()@$".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let w = world();
    let get = |path: &str| Request::get(path).body(Body::empty());
    let req = match mode % 8 {
        0 => Request::post("/api/analyze")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(rest.to_vec())),
        1 => get(&format!("/api/articles?{}", uri_part(rest))),
        2 => get(&format!("/api/stats?{}", uri_part(rest))),
        3 => get(&format!("/api/outlets/report?{}", uri_part(rest))),
        4 => get(&format!("/api/outlets/compare?{}", uri_part(rest))),
        5 => get(&format!("/api/outlets/report.csv?{}", uri_part(rest))),
        6 => get(&format!("/api/outlets/compare.csv?{}", uri_part(rest))),
        _ => get(&format!("/api/articles/{}", uri_part(rest))),
    };
    let Ok(req) = req else {
        return;
    };
    let path = req.uri().path().to_string();
    let (status, body) = w.rt.block_on(async {
        let resp = w
            .app
            .clone()
            .oneshot(req)
            .await
            .expect("the router answers");
        let status = resp.status();
        let body = resp.into_body().collect().await.expect("a body").to_bytes();
        (status, body)
    });
    // 502 and 504: a URL that could not be fetched (here, none can); never a 500.
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{path}: {body:?}"
    );
    assert!(
        !status.is_server_error()
            || (path == "/api/analyze" && matches!(status.as_u16(), 502 | 503 | 504)),
        "{path}: {status}"
    );
    if !path.ends_with(".csv") || !status.is_success() {
        serde_json::from_slice::<serde_json::Value>(&body)
            .unwrap_or_else(|e| panic!("{path} {status}: not JSON ({e}): {body:?}"));
    }
});
