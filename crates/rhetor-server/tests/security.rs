//! The server's edges against hostile requests, on a real server on loopback: path traversal in
//! the static assets, the security headers on every kind of response, and SQL built only with bound
//! parameters (hostile outlet, search and technique strings answer exact results and leave the
//! archive intact), on SQLite and on PostgreSQL when a server answers.

mod common;

use common::{analyzer, client, TestServer};
use reqwest::StatusCode;
use rhetor_server::{AppState, Config};
use serde_json::{json, Value};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An answer read off the wire.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `target` exactly as written (an HTTP client would normalise `..` and `%2e` away first).
async fn raw_get(addr: SocketAddr, target: &str) -> Raw {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Raw {
        status,
        headers,
        body: body.to_string(),
    }
}

/// The traversal guard is that assets are routes, not a directory: nothing maps a request path to
/// a file, so no spelling of `..` can name one. Were assets served from disk (e.g. a `ServeDir`
/// on `assets/` without normalisation), these would answer the files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_traversal_in_assets_finds_nothing() {
    let s = TestServer::start(|_| {}).await;
    for target in [
        "/assets/../Cargo.toml",
        "/assets/../../Cargo.toml",
        "/assets/../src/lib.rs",
        "/assets/%2e%2e/Cargo.toml",
        "/assets/%2E%2E/%2E%2E/Cargo.toml",
        "/assets/..%2fCargo.toml",
        "/assets/..%2fsrc%2flib.rs",
        "/assets/..%5csrc%5clib.rs",
        "/assets/%252e%252e/Cargo.toml",
        "/assets/%252e%252e%252fsrc%252flib.rs",
        "/assets/..%252fsrc%252flib.rs",
        "/assets/%c0%ae%c0%ae/Cargo.toml",
        "/assets/....//Cargo.toml",
        "/assets/app.js/../../Cargo.toml",
        "/assets/app.js%00.png",
        "/assets//etc/passwd",
        "/assets/index.html",
        "/assets/openapi.json",
        "/assets/",
        "/assets",
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
    ] {
        let r = raw_get(s.addr, target).await;
        assert_eq!(r.status, 404, "{target}: {}", r.body);
        for leak in ["[package]", "[dependencies]", "//!", "root:", "<html"] {
            assert!(!r.body.contains(leak), "{target} leaked a file: {}", r.body);
        }
        let v: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        assert!(v["reason"].is_string(), "{target}: {}", r.body);
    }
    // The assets that exist are still served.
    assert_eq!(raw_get(s.addr, "/assets/app.js").await.status, 200);
    s.stop().await;
}

/// Every response carries the CSP, `nosniff` and `no-referrer` (set by layers around the whole
/// router, fallbacks included): pages, assets, JSON, the OpenAPI document and each error status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_are_on_every_response() {
    let s = TestServer::start(|c| c.max_body_bytes = 4096).await;
    let c = client();
    let big = json!({ "text": "x".repeat(10_000) });
    let requests = vec![
        (c.get(s.url("/")), 200),
        (c.get(s.url("/archive")), 200),
        (c.get(s.url("/a/1")), 200),
        (c.get(s.url("/assets/app.js")), 200),
        (c.get(s.url("/assets/app.css")), 200),
        (c.get(s.url("/assets/spanview.js")), 200),
        (c.get(s.url("/assets/spanview.css")), 200),
        (c.get(s.url("/api/openapi.json")), 200),
        (c.get(s.url("/api/techniques")), 200),
        (c.get(s.url("/api/articles")), 200),
        (c.get(s.url("/api/stats")), 200),
        (c.get(s.url("/healthz")), 200),
        (
            c.post(s.url("/api/analyze"))
                .json(&json!({ "text": "They are a gang of traitors." })),
            200,
        ),
        (c.get(s.url("/api/articles?page=0")), 400),
        (c.get(s.url("/api/articles?page=x")), 400),
        (c.get(s.url("/api/articles?technique=Nope")), 400),
        (
            c.post(s.url("/api/analyze"))
                .header("content-type", "application/json")
                .body("{not json"),
            400,
        ),
        (c.get(s.url("/nope")), 404),
        (c.get(s.url("/api/articles/9")), 404),
        (c.get(s.url("/api/articles/x")), 404),
        (c.delete(s.url("/api/articles/9")), 404),
        (c.post(s.url("/api/techniques")), 405),
        (c.delete(s.url("/")), 405),
        (c.get(s.url("/api/analyze")), 405),
        (c.post(s.url("/api/analyze")).json(&big), 413),
        (c.post(s.url("/api/analyze")).json(&json!({})), 422),
    ];
    for (req, want) in requests {
        let r = req.send().await.unwrap();
        let what = format!("{} {}", r.status(), r.url().path());
        assert_eq!(r.status().as_u16(), want, "{what}");
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{what}: no CSP"))
            .to_str()
            .unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{what}: {csp}");
        }
        assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    }
    // Also on the answers to paths no client would send.
    for target in ["/assets/../Cargo.toml", "/%ff%fe", "/a/%00"] {
        let r = raw_get(s.addr, target).await;
        assert!(r.header("content-security-policy").is_some(), "{target}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    }
    s.stop().await;
}

/// Strings that would change the meaning of SQL spliced together by hand: quotes, comments,
/// statement ends, LIKE wildcards, backslashes (the LIKE escape character), non-ASCII text.
const HOSTILE: &[&str] = &[
    "O'Reilly \"Daily\"",
    "' OR '1'='1",
    "x'; DROP TABLE articles; --",
    "\"; DELETE FROM articles WHERE \"\"=\"",
    "50% off_news",
    "%",
    "_",
    "%_%",
    "back\\slash\\",
    "\\%",
    "Ünïcødé — 新闻 🗞",
    "$1::text",
    "?3",
];

/// A server over an archive opened off the async runtime (PostgreSQL's client blocks).
async fn server_on(db: String) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let state = tokio::task::spawn_blocking(move || {
        let config = Config {
            db,
            ..Config::default()
        };
        AppState::new(analyzer(), config).expect("server state")
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        rhetor_server::serve(listener, state, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (addr, tx)
}

async fn get_json(base: &str, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = client()
        .get(format!("{base}{path}"))
        .query(query)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The documented search (`ListFilter::q`): a substring of the title or the text, ASCII
/// case-insensitive, `%` and `_` literal. The queries below avoid non-ASCII case pairs, which the
/// two backends fold differently.
fn matches_q(title: &str, text: &str, q: &str) -> bool {
    let q = q.to_ascii_lowercase();
    title.to_ascii_lowercase().contains(&q) || text.to_ascii_lowercase().contains(&q)
}

async fn hostile_strings_are_data(db: String) {
    let (addr, stop) = server_on(db).await;
    let base = format!("http://{addr}");
    let mut saved = Vec::new(); // (source, title, text)
    for (i, h) in HOSTILE.iter().enumerate() {
        let title = format!("Headline {i}: {h}");
        let text = format!(
            "{title}\n\nThe corrupt elites are a gang of traitors, and article {i} says so: {h}."
        );
        let r = client()
            .post(format!("{base}/api/analyze"))
            .json(&json!({ "text": text, "source": h, "title": title, "save": true }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "saving {h:?}");
        saved.push((h.to_string(), title, text));
    }
    let n = saved.len() as i64;

    // Outlets: exact matches only, one article each; wildcards and quotes match themselves.
    for (source, _, _) in &saved {
        let (st, v) = get_json(&base, "/api/articles", &[("source", source)]).await;
        assert_eq!(st, 200, "{source:?}: {v}");
        assert_eq!(v["total"], 1, "source {source:?}: {v}");
        assert_eq!(v["articles"][0]["source"], json!(source), "{source:?}");
        let (st, v) = get_json(&base, "/api/stats", &[("source", source)]).await;
        assert_eq!(st, 200, "{source:?}: {v}");
        assert_eq!(v["articles"], 1, "stats of {source:?}: {v}");
        assert_eq!(v["sources"].as_array().unwrap().len(), 1, "{source:?}: {v}");
    }
    for absent in ["%%", "_%", "o'reilly \"daily\"", "' OR 1=1 --", "*", ".*"] {
        let (st, v) = get_json(&base, "/api/articles", &[("source", absent)]).await;
        assert_eq!((st, &v["total"]), (StatusCode::OK, &json!(0)), "{absent:?}");
        let (_, v) = get_json(&base, "/api/stats", &[("source", absent)]).await;
        assert_eq!(v["articles"], 0, "stats of {absent:?}: {v}");
    }

    // Search: what the documented substring match finds, no more, no less.
    let queries: Vec<&str> = HOSTILE
        .iter()
        .copied()
        .chain([
            "50%",
            "%_",
            "\\",
            "'",
            "\"",
            "; --",
            "新闻",
            "o'reilly",
            "HEADLINE 1",
        ])
        .collect();
    for q in queries {
        let (st, v) = get_json(&base, "/api/articles", &[("q", q), ("per_page", "100")]).await;
        assert_eq!(st, 200, "q={q:?}: {v}");
        let mut want: Vec<&str> = saved
            .iter()
            .filter(|(_, title, text)| matches_q(title, text, q))
            .map(|(s, _, _)| s.as_str())
            .collect();
        let mut got: Vec<&str> = v["articles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["source"].as_str().unwrap())
            .collect();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "q={q:?}");
        assert_eq!(v["total"], json!(want.len()), "q={q:?}");
    }

    // Techniques: a name from the taxonomy or 400, never spliced.
    for t in [
        "Loaded_Language' OR '1'='1",
        "Loaded%",
        "%",
        "_",
        "Loaded_Language; DROP TABLE articles",
    ] {
        let (st, v) = get_json(&base, "/api/articles", &[("technique", t)]).await;
        assert_eq!(st, 400, "technique {t:?}: {v}");
    }
    let (st, v) = get_json(
        &base,
        "/api/articles",
        &[("technique", "Loaded_Language"), ("source", "' OR '1'='1")],
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert!(v["total"].as_i64().unwrap() <= 1, "{v}");

    // Ids are numbers or 404.
    for id in ["1 OR 1=1", "1;DROP TABLE articles", "1'", "-1", "0x1"] {
        let r = client()
            .delete(format!("{base}/api/articles/{}", id.replace(' ', "%20")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "delete {id:?}");
    }

    // The archive is whole: every article, every outlet, each readable.
    let (_, v) = get_json(&base, "/api/articles", &[("per_page", "100")]).await;
    assert_eq!(v["total"], n, "{v}");
    let (_, v) = get_json(&base, "/api/stats", &[]).await;
    assert_eq!(v["articles"], n, "{v}");
    assert_eq!(v["sources"].as_array().unwrap().len(), saved.len(), "{v}");
    let (_, h) = get_json(&base, "/healthz", &[]).await;
    assert_eq!(h["articles"], n);
    for id in 1..=n {
        let (st, a) = get_json(&base, &format!("/api/articles/{id}"), &[]).await;
        assert_eq!(st, 200, "article {id}");
        assert_eq!(a["source"], json!(saved[id as usize - 1].0), "article {id}");
    }
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_outlet_search_and_technique_strings_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    hostile_strings_are_data(dir.path().join("rhetor.db").display().to_string()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_outlet_search_and_technique_strings_on_postgres() {
    let server =
        tokio::task::spawn_blocking(|| rhetor_testkit::require(rhetor_testkit::postgres()))
            .await
            .unwrap();
    let Some(server) = server else { return };
    let db = tokio::task::spawn_blocking(move || server.create_db())
        .await
        .unwrap();
    hostile_strings_are_data(db.url.clone()).await;
    // Dropping the database blocks: off the runtime.
    tokio::task::spawn_blocking(move || drop(db)).await.unwrap();
}
