//! Integration tests: the real server on loopback with a temporary SQLite file, every endpoint, the
//! error paths, URL ingestion (private addresses refused) and persistence across restarts.

mod common;

use axum::response::IntoResponse;
use common::{analyzer, article, client, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::net::SocketAddr;

async fn post(s: &TestServer, body: Value) -> (StatusCode, Value) {
    let r = client()
        .post(s.url("/api/analyze"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(s: &TestServer, path: &str) -> (StatusCode, Value) {
    let r = client().get(s.url(path)).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn assert_reason(v: &Value) {
    assert!(
        v["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "error body without a reason: {v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_openapi_and_techniques() {
    let s = TestServer::start(|_| {}).await;
    let (st, h) = get(&s, "/healthz").await;
    assert_eq!(st, 200);
    assert_eq!(h["status"], "ok");
    assert_eq!(h["articles"], 0);

    let (st, doc) = get(&s, "/api/openapi.json").await;
    assert_eq!(st, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/analyze",
        "/api/articles",
        "/api/articles/{id}",
        "/api/stats",
        "/api/techniques",
        "/healthz",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
    assert!(doc["paths"]["/api/articles/{id}"]["delete"].is_object());
    let names = doc["components"]["schemas"]["TechniqueName"]["enum"]
        .as_array()
        .unwrap();
    assert_eq!(names.len(), 14);
    for t in rhetor::Technique::ALL {
        assert!(names.contains(&json!(t.name())), "{}", t.name());
    }

    let (st, t) = get(&s, "/api/techniques").await;
    assert_eq!(st, 200);
    assert_eq!(t.as_array().unwrap().len(), 14);
    assert_eq!(t[0]["name"], rhetor::Technique::ALL[0].name());
    assert!(t[0]["definition"].as_str().unwrap().len() > 10);

    // Pages of the app, with the security headers.
    for page in [
        "/",
        "/archive",
        "/a/1",
        "/assets/app.js",
        "/assets/app.css",
        "/assets/spanview.js",
        "/assets/spanview.css",
    ] {
        let r = client().get(s.url(page)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{page}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }
    // The span view is the library's, the one `rhetor analyze --format html` embeds.
    let js = client()
        .get(s.url("/assets/spanview.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.text().await.unwrap(), rhetor::render::SPANVIEW_JS);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyze_returns_the_library_analysis() {
    library_analysis_of(&article("9001")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyze_returns_the_library_analysis_of_a_real_article() {
    let ptc = rhetor_testkit::require!(rhetor_testkit::ptc());
    let text = std::fs::read_to_string(ptc.join("test-articles/article813452859.txt")).unwrap();
    library_analysis_of(&text).await;
}

/// `POST /api/analyze` of `text` answers the library's analysis, unsaved.
async fn library_analysis_of(text: &str) {
    let s = TestServer::start(|_| {}).await;
    let (st, v) = post(&s, json!({ "text": text })).await;
    assert_eq!(st, 200, "{v}");
    let expected = analyzer().analyze(text).unwrap();
    // The Analysis JSON of `rhetor analyze --format json`, plus the server's `article` object.
    let mut obj = v.as_object().unwrap().clone();
    let article = obj.remove("article").unwrap();
    let got: rhetor::Analysis = serde_json::from_value(Value::Object(obj)).unwrap();
    assert_eq!(got, expected);
    assert_eq!(article["saved"], false);
    assert!(article["id"].is_null());
    assert!((article["density"].as_f64().unwrap() - expected.density()).abs() < 1e-9);
    assert!(
        !expected.spans.is_empty(),
        "a real article should have spans"
    );
    assert_eq!(
        article["title"].as_str().unwrap(),
        text.lines().find(|l| !l.trim().is_empty()).unwrap().trim()
    );
    // Nothing saved.
    let (_, list) = get(&s, "/api/articles").await;
    assert_eq!(list["total"], 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_list_filter_stats_get_delete() {
    let s = TestServer::start(|_| {}).await;
    let a1 = article("9001");
    let a2 = article("9002");
    let r = client()
        .post(s.url("/api/analyze"))
        .json(&json!({ "text": a1, "source": "Outlet A", "save": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    let id1 = v["article"]["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/articles/{id1}"));
    assert_eq!(v["article"]["permalink"], format!("/a/{id1}"));
    let (st, v2) = post(
        &s,
        json!({ "text": a2, "source": "Outlet B", "title": "Second", "save": true }),
    )
    .await;
    assert_eq!(st, 201);
    let id2 = v2["article"]["id"].as_i64().unwrap();

    let (st, rec) = get(&s, &format!("/api/articles/{id1}")).await;
    assert_eq!(st, 200);
    assert_eq!(rec["source"], "Outlet A");
    assert_eq!(rec["analysis"]["text"], a1.as_str());
    let saved: rhetor::Analysis = serde_json::from_value(rec["analysis"].clone()).unwrap();
    assert_eq!(saved, analyzer().analyze(&a1).unwrap());
    assert_eq!(rec["permalink"], format!("/a/{id1}"));

    let (st, list) = get(&s, "/api/articles").await;
    assert_eq!(st, 200);
    assert_eq!(list["total"], 2);
    assert_eq!(list["articles"][0]["id"], id2, "newest first");
    assert_eq!(list["articles"][0]["title"], "Second");
    assert!(list["articles"][0].get("analysis").is_none());

    let (_, list) = get(&s, "/api/articles?source=Outlet%20B").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["articles"][0]["id"], id2);

    // A technique only one of them has, if any; else one both have.
    let c1 = v["counts"].as_object().unwrap();
    let c2 = v2["counts"].as_object().unwrap();
    let tech = c1
        .keys()
        .find(|k| !c2.contains_key(k.as_str()))
        .or_else(|| c1.keys().next())
        .unwrap()
        .clone();
    let n = 1 + c2.contains_key(tech.as_str()) as i64;
    let (st, list) = get(&s, &format!("/api/articles?technique={}", urlencode(&tech))).await;
    assert_eq!(st, 200);
    assert_eq!(list["total"], n, "technique {tech}");

    // q: a word of the first article's headline, case-insensitively; LIKE wildcards are literal.
    let word = a1
        .split_whitespace()
        .find(|w| w.len() > 6 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .unwrap();
    let (_, list) = get(&s, &format!("/api/articles?q={}", word.to_uppercase())).await;
    assert!(list["total"].as_i64().unwrap() >= 1);
    assert!(list["articles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == id1));
    let (_, list) = get(&s, "/api/articles?q=%25%25%25zzqx").await;
    assert_eq!(list["total"], 0);
    let (_, list) = get(&s, "/api/articles?per_page=1&page=2").await;
    assert_eq!(list["articles"][0]["id"], id1);
    assert_eq!(list["page"], 2);

    let (st, stats) = get(&s, "/api/stats").await;
    assert_eq!(st, 200);
    assert_eq!(stats["articles"], 2);
    let spans = v["spans"].as_array().unwrap().len() + v2["spans"].as_array().unwrap().len();
    assert_eq!(stats["spans"], spans);
    assert_eq!(stats["sources"].as_array().unwrap().len(), 2);
    assert_eq!(stats["techniques"].as_array().unwrap().len(), 14);
    let total: i64 = stats["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["spans"].as_i64().unwrap())
        .sum();
    assert_eq!(total as usize, spans);
    assert_eq!(stats["over_time"].as_array().unwrap().len(), 1);
    assert_eq!(stats["over_time"][0]["articles"], 2);
    let (_, only_a) = get(&s, "/api/stats?source=Outlet%20A").await;
    assert_eq!(only_a["articles"], 1);

    let r = client()
        .delete(s.url(&format!("/api/articles/{id1}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (st, e) = get(&s, &format!("/api/articles/{id1}")).await;
    assert_eq!(st, 404);
    assert_reason(&e);
    let r = client()
        .delete(s.url(&format!("/api/articles/{id1}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let (_, stats) = get(&s, "/api/stats").await;
    assert_eq!(stats["articles"], 1);
    s.stop().await;
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Found by fuzzing (`fuzz/fuzz_targets/api.rs`): an article id of percent-encoded bytes that are
/// not UTF-8 got axum's plain-text 400 ("Invalid URL: Invalid UTF-8 in `id`"), not the API's JSON
/// error. It names no article: 404 with a reason, for GET and DELETE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn article_id_that_is_not_utf8_gets_a_json_404() {
    let s = TestServer::start(|_| {}).await;
    let (status, v) = get(&s, "/api/articles/%FF%FE1").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert_reason(&v);
    let r = client()
        .delete(s.url("/api/articles/%C0%AF"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_reason(&r.json().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_with_the_right_status() {
    let s = TestServer::start(|c| {
        c.max_body_bytes = 64 * 1024;
        c.max_text_bytes = 32 * 1024;
    })
    .await;
    let raw = |body: &'static str, ctype: &'static str| {
        client()
            .post(s.url("/api/analyze"))
            .header("content-type", ctype)
            .body(body)
    };
    for (req, want) in [
        (raw("{not json", "application/json"), 400),
        (raw("{\"text\": 5}", "application/json"), 422),
        (raw("{\"txt\": \"typo\"}", "application/json"), 422),
        (raw("{\"text\": \"a\"}", "text/plain"), 415),
    ] {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), want);
        assert_reason(&r.json().await.unwrap());
    }
    for (body, want) in [
        (json!({}), 422),
        (json!({ "text": null, "html": "<p>x</p>" }), 422),
        (json!({ "text": "a", "title": null }), 422),
        (json!({ "text": "a", "url": "http://example.com/" }), 422),
        (json!({ "text": "  \n " }), 422),
        (json!({ "text": "a\u{0}b" }), 422),
        (json!({ "text": "x", "source": "s".repeat(300) }), 422),
        (
            json!({ "text": "x", "source": format!(" {}", "s".repeat(200)) }),
            422,
        ), // counted as sent
        (json!({ "text": "word ".repeat(10_000) }), 413), // under the body limit, over the text limit
        (json!({ "text": "word ".repeat(20_000) }), 413), // over the body limit
        (json!({ "url": "not a url" }), 422),
        (json!({ "url": "file:///etc/passwd" }), 422),
    ] {
        let (st, v) = post(&s, body.clone()).await;
        assert_eq!(
            st,
            want,
            "{}: {v}",
            &body.to_string()[..body.to_string().len().min(80)]
        );
        assert_reason(&v);
    }
    // A declared length over the limit is refused before the body is read.
    let big = "x".repeat(200 * 1024);
    let r = client()
        .post(s.url("/api/analyze"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    for (path, want) in [
        ("/api/articles/999", 404),
        ("/api/articles/abc", 404),
        ("/api/articles/-1", 404),
        ("/api/articles?technique=Nonsense", 400),
        ("/api/articles?page=0", 400),
        ("/api/articles?page=abc", 400),
        ("/api/articles?page=4294967296", 400), // past the documented maximum
        ("/api/articles?per_page=0", 400),
        ("/api/articles?sorce=typo", 400),
        ("/api/stats?outlet=typo", 400),
        ("/api/articles?per_page=101", 400),
        ("/api/nope", 404),
        ("/nope", 404),
    ] {
        let (st, v) = get(&s, path).await;
        assert_eq!(st, want, "{path}");
        assert_reason(&v);
    }
    // The largest documented page is an empty page, not an error.
    let (st, v) = get(&s, "/api/articles?page=4294967295&per_page=100").await;
    assert_eq!((st.as_u16(), &v["articles"]), (200, &json!([])));
    let r = client().get(s.url("/api/analyze")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_reason(&r.json().await.unwrap());
    let r = client()
        .delete(s.url("/api/articles/12345"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_reason(&r.json().await.unwrap());
    // The server is still fine.
    let (st, _) = get(&s, "/healthz").await;
    assert_eq!(st, 200);
    s.stop().await;
}

/// A small web site on loopback: an article page, redirects, a big page, a 404, plain text.
async fn test_site(other: SocketAddr) -> SocketAddr {
    use axum::http::header;
    use axum::routing::get;
    let article = r#"<!DOCTYPE html><html lang="en"><head><title>They are a gang of traitors | Daily Example</title>
<meta property="og:site_name" content="Daily Example">
<meta property="article:published_time" content="2026-03-01T10:00:00Z">
<meta name="author" content="Jane Roe"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sports">Sports</a></nav>
<article><h1>They are a gang of traitors</h1>
<p>The senators are a gang of traitors and cowards, the speaker told a cheering crowd on Sunday,
and every patriot in this great nation knows it. This shameful, cowardly surrender must end now.</p>
<p>Take back our streets! Make our country great again! Everyone is joining the movement, because
the corrupt elites have destroyed everything we hold dear, and only we can save the nation.</p>
<p>Experts agree that the radical left will destroy the economy, the speaker said, while the crowd
chanted the slogan over and over. Enough is enough, he said. It is what it is.</p>
</article><footer>© Daily Example</footer></body></html>"#;
    let app = axum::Router::new()
        .route(
            "/article",
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    article,
                )
            }),
        )
        .route(
            "/redirect",
            get(|| async { axum::response::Redirect::temporary("/article") }),
        )
        .route(
            "/to-private",
            get(move || async move {
                axum::response::Redirect::temporary(&format!(
                    "http://[::1]:{}/article",
                    other.port()
                ))
            }),
        )
        .route(
            "/to-metadata",
            get(|| async {
                axum::response::Redirect::temporary("http://169.254.169.254/latest/meta-data/")
            }),
        )
        .route(
            "/loop",
            get(|| async { axum::response::Redirect::temporary("/loop") }),
        )
        .route(
            "/big",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], "x".repeat(2_000_000)) }),
        )
        .route(
            "/plain",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/plain")],
                    "Plain headline\n\nThey are a gang of traitors.",
                )
            }),
        )
        .route(
            "/image",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![0u8; 10]) }),
        )
        .route(
            "/missing",
            get(|| async { (axum::http::StatusCode::NOT_FOUND, "no").into_response() }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_urls_are_refused() {
    let s = TestServer::start(|_| {}).await;
    let site = test_site(s.addr).await;
    for url in [
        format!("http://127.0.0.1:{}/article", site.port()),
        format!("http://localhost:{}/article", site.port()),
        format!("http://[::1]:{}/article", site.port()),
        format!("http://[::ffff:127.0.0.1]:{}/article", site.port()),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.1/".to_string(),
        "http://192.168.1.1/".to_string(),
        "http://0.0.0.0/".to_string(),
    ] {
        let (st, v) = post(&s, json!({ "url": url })).await;
        assert_eq!(st, 422, "{url}: {v}");
        assert!(
            v["reason"].as_str().unwrap().contains("refused"),
            "{url}: {v}"
        );
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_ingestion_extracts_and_checks_every_redirect() {
    // Only 127.0.0.1 is allowed (as a known host would be); ::1 and metadata stay refused.
    let s = TestServer::start(|c| {
        c.fetch.allow_ips = vec!["127.0.0.1".parse().unwrap()];
        c.fetch.max_bytes = 1_000_000;
    })
    .await;
    let site = test_site(s.addr).await;
    let u = |p: &str| format!("http://127.0.0.1:{}{p}", site.port());

    let (st, v) = post(&s, json!({ "url": u("/redirect"), "save": true })).await;
    assert_eq!(st, 201, "{v}");
    let a = &v["article"];
    assert_eq!(a["title"], "They are a gang of traitors");
    assert_eq!(a["byline"], "Jane Roe");
    assert_eq!(a["source"], "Daily Example");
    assert_eq!(a["url"], u("/article"));
    assert!(a["published"].as_str().unwrap().starts_with("2026-03-01"));
    let text = v["text"].as_str().unwrap();
    assert!(
        text.starts_with("They are a gang of traitors\n\n"),
        "{text}"
    );
    assert!(text.contains("Take back our streets!"));
    assert!(!text.contains("Sports") && !text.contains("©"), "{text}");
    let got: rhetor::Analysis = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(got, analyzer().analyze(text).unwrap());
    let (_, stats) = get(&s, "/api/stats").await;
    assert_eq!(stats["over_time"][0]["day"], "2026-03-01");

    let (st, v) = post(&s, json!({ "url": u("/plain") })).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["text"], "Plain headline\n\nThey are a gang of traitors.");

    for (path, want, needle) in [
        ("/to-private", 422, "refused"),
        ("/to-metadata", 422, "refused"),
        ("/big", 422, "limit"),
        ("/image", 422, "image/png"),
        ("/loop", 502, "redirects"),
        ("/missing", 502, "404"),
    ] {
        let (st, v) = post(&s, json!({ "url": u(path) })).await;
        assert_eq!(st, want, "{path}: {v}");
        assert!(
            v["reason"].as_str().unwrap().contains(needle),
            "{path}: {v}"
        );
    }

    // The same page as HTML in the request.
    let html = reqwest::get(u("/article"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (st, v) = post(&s, json!({ "html": html, "source": "Given" })).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["article"]["source"], "Given");
    assert_eq!(v["article"]["title"], "They are a gang of traitors");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_analysis_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.db");
    let s = TestServer::start_at(&path, |_| {}).await;
    let text = article("9003");
    let (st, v) = post(&s, json!({ "text": text, "save": true, "source": "X" })).await;
    assert_eq!(st, 201);
    let id = v["article"]["id"].as_i64().unwrap();
    s.stop().await;

    let s = TestServer::start_at(&path, |_| {}).await;
    let (st, rec) = get(&s, &format!("/api/articles/{id}")).await;
    assert_eq!(st, 200);
    assert_eq!(rec["analysis"]["text"], text.as_str());
    assert_eq!(rec["source"], "X");
    let (_, h) = get(&s, "/healthz").await;
    assert_eq!(h["articles"], 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overload_gets_503_and_the_server_stays_responsive() {
    // One worker, nobody may wait: concurrent analyses beyond the first are refused at once.
    let s = TestServer::start(|c| {
        c.analysis_workers = 1;
        c.max_queued = 0;
    })
    .await;
    let text = article("9001").repeat(150); // ~0.2 s of analysis each
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let url = s.url("/api/analyze");
        let body = json!({ "text": text });
        tasks.push(tokio::spawn(async move {
            let r = client().post(url).json(&body).send().await.unwrap();
            let st = r.status();
            let v: Value = r.json().await.unwrap();
            (st, v)
        }));
    }
    let (st, _) = get(&s, "/healthz").await;
    assert_eq!(st, 200, "health must answer while analyses run");
    let mut ok = 0;
    let mut busy = 0;
    for t in tasks {
        let (st, v) = t.await.unwrap();
        match st.as_u16() {
            200 => ok += 1,
            503 => {
                busy += 1;
                assert!(v["reason"].as_str().unwrap().contains("busy"), "{v}");
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert!(ok >= 1 && busy >= 1, "ok {ok}, busy {busy}");
    s.stop().await;

    // With a queue, the same burst all succeeds.
    let s = TestServer::start(|c| {
        c.analysis_workers = 1;
        c.max_queued = 16;
    })
    .await;
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let url = s.url("/api/analyze");
        let body = json!({ "text": text });
        tasks.push(tokio::spawn(async move {
            client()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    s.stop().await;
}
