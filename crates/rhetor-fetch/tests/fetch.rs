//! The fetcher against a real web site on loopback: articles, plain text, redirects (each one
//! checked against the address policy), size, type, status and time limits, bad URLs.

use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use rhetor_fetch::{ExtractError, FetchConfig, FetchError, Fetcher};
use std::net::SocketAddr;
use std::time::Duration;

const ARTICLE: &str = r#"<!DOCTYPE html><html lang="en"><head><title>They are a gang of traitors | Daily Example</title>
<meta property="og:site_name" content="Daily Example">
<meta property="article:published_time" content="2026-03-01T10:00:00Z">
<meta name="author" content="Jane Roe"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sports">Sports</a></nav>
<article><h1>They are a gang of traitors</h1>
<p>The senators are a gang of traitors and cowards, the speaker told a cheering crowd on Sunday,
and every patriot in this great nation knows it. This shameful, cowardly surrender must end now.</p>
<p>Take back our streets! Make our country great again! Everyone is joining the movement, because
the corrupt elites have destroyed everything we hold dear, and only we can save the nation.</p>
</article><footer>© Daily Example</footer></body></html>"#;

/// A small web site on 127.0.0.1; `/to-private` redirects to `[::1]` on the same port.
async fn site() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let port = addr.port();
    let app = axum::Router::new()
        .route(
            "/article",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    ARTICLE,
                )
            }),
        )
        .route(
            "/redirect",
            get(|| async { Redirect::temporary("/article") }),
        )
        .route(
            "/to-private",
            get(
                move || async move { Redirect::temporary(&format!("http://[::1]:{port}/article")) },
            ),
        )
        .route(
            "/to-metadata",
            get(|| async { Redirect::temporary("http://169.254.169.254/latest/meta-data/") }),
        )
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route(
            "/big",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], "x".repeat(200_000)) }),
        )
        .route(
            "/big-stream",
            get(|| async {
                // No Content-Length: the limit must hold while the body streams in.
                let chunks = (0..50).map(|_| Ok::<_, std::io::Error>("y".repeat(10_000)));
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    axum::body::Body::from_stream(futures_util::stream::iter(chunks)),
                )
            }),
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
            "/empty",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    "<html><body></body></html>",
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
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    addr
}

/// A fetcher that may reach 127.0.0.1 (and nothing else private).
fn local_fetcher(tweak: impl FnOnce(&mut FetchConfig)) -> Fetcher {
    let mut config = FetchConfig {
        allow_ips: vec!["127.0.0.1".parse().unwrap()],
        max_bytes: 100_000,
        ..FetchConfig::default()
    };
    tweak(&mut config);
    Fetcher::new(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_and_extracts_an_article_through_a_redirect() {
    let site = site().await;
    let f = local_fetcher(|_| {});
    let got = f
        .fetch(&format!("http://127.0.0.1:{}/redirect", site.port()))
        .await
        .unwrap();
    assert_eq!(got.url.path(), "/article");
    let a = &got.article;
    assert_eq!(a.title.as_deref(), Some("They are a gang of traitors"));
    assert_eq!(a.byline.as_deref(), Some("Jane Roe"));
    assert_eq!(a.site_name.as_deref(), Some("Daily Example"));
    assert!(a.published.as_deref().unwrap().starts_with("2026-03-01"));
    assert!(a.body.contains("\n\nTake back our streets!"), "{}", a.body);
    assert!(!a.body.contains("Sports"), "{}", a.body);
    assert!(got.text().starts_with("They are a gang of traitors\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_text_is_the_article_as_it_is() {
    let site = site().await;
    let f = local_fetcher(|_| {});
    let url = format!("http://127.0.0.1:{}/plain", site.port());
    let page = f.fetch_page(&url).await.unwrap();
    assert!(!page.is_html);
    let got = f.fetch(&url).await.unwrap();
    assert_eq!(got.article.title, None);
    assert_eq!(got.text(), "Plain headline\n\nThey are a gang of traitors.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_by_default() {
    let site = site().await;
    let f = Fetcher::new(FetchConfig::default()).unwrap();
    for url in [
        format!("http://127.0.0.1:{}/article", site.port()),
        format!("http://localhost:{}/article", site.port()),
        format!("http://[::1]:{}/article", site.port()),
        format!("http://[::ffff:127.0.0.1]:{}/article", site.port()),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.1/".to_string(),
        "http://0.0.0.0/".to_string(),
    ] {
        match f.fetch(&url).await {
            Err(FetchError::Refused(m)) => assert!(m.contains("refused"), "{url}: {m}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    // The flag opens them all.
    let open = Fetcher::new(FetchConfig {
        allow_private: true,
        ..FetchConfig::default()
    })
    .unwrap();
    let got = open
        .fetch(&format!("http://localhost:{}/article", site.port()))
        .await
        .unwrap();
    assert!(got.text().contains("gang of traitors"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_redirect_is_checked() {
    let site = site().await;
    let f = local_fetcher(|_| {});
    for path in ["/to-private", "/to-metadata"] {
        let r = f
            .fetch(&format!("http://127.0.0.1:{}{path}", site.port()))
            .await;
        assert!(matches!(r, Err(FetchError::Refused(_))), "{path}: {r:?}");
    }
    let r = f
        .fetch(&format!("http://127.0.0.1:{}/loop", site.port()))
        .await;
    match r {
        Err(FetchError::Upstream(m)) => assert!(m.contains("more than 5 redirects"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_types_and_statuses() {
    let site = site().await;
    let f = local_fetcher(|c| c.timeout = Duration::from_millis(800));
    let at = |p: &str| format!("http://127.0.0.1:{}{p}", site.port());
    assert!(matches!(
        f.fetch(&at("/big")).await,
        Err(FetchError::TooLarge(100_000))
    ));
    assert!(matches!(
        f.fetch(&at("/big-stream")).await,
        Err(FetchError::TooLarge(100_000))
    ));
    match f.fetch(&at("/image")).await {
        Err(FetchError::NotText(t)) => assert_eq!(t, "image/png"),
        other => panic!("{other:?}"),
    }
    match f.fetch(&at("/missing")).await {
        Err(FetchError::Upstream(m)) => assert!(m.contains("404"), "{m}"),
        other => panic!("{other:?}"),
    }
    let started = std::time::Instant::now();
    let r = f.fetch(&at("/slow")).await;
    assert!(
        matches!(
            r,
            Err(FetchError::Timeout(_)) | Err(FetchError::Upstream(_))
        ),
        "{r:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    let r = f.fetch(&at("/empty")).await;
    assert!(
        matches!(
            r,
            Err(FetchError::Extract(
                ExtractError::Empty | ExtractError::NoArticle(_)
            ))
        ),
        "{r:?}"
    );
}

#[tokio::test]
async fn bad_urls_are_refused_before_any_request() {
    let f = Fetcher::new(FetchConfig::default()).unwrap();
    for (url, says) in [
        ("not a url", "not a valid URL"),
        ("ftp://example.com/a", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:pw@example.com/", "credentials"),
    ] {
        match f.fetch(url).await {
            Err(FetchError::BadUrl(m)) => assert!(m.contains(says), "{url}: {m}"),
            other => panic!("{url}: {other:?}"),
        }
    }
}
