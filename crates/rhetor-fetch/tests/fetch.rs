//! The fetcher against a real web site on loopback: articles, plain text, redirects (each one
//! checked against the address policy), size, type, status and time limits, bad URLs, and the SSRF
//! cases: every spelling of an internal address, DNS rebinding, redirects, schemes, user info.

use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use rhetor_fetch::{ExtractError, FetchConfig, FetchError, Fetcher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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

// SSRF: each test below names the guard it holds to; without that guard the request would reach
// a loopback server that counts its hits (or answer something other than `Refused`/`BadUrl`).

/// A server on `ip` (port 0 picks one) that answers every path with the article and counts hits:
/// it stands for an internal service that must never be reached.
async fn counting_site(ip: &str, port: u16) -> (SocketAddr, Arc<AtomicUsize>) {
    let l = tokio::net::TcpListener::bind((ip, port)).await.unwrap();
    let addr = l.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                ARTICLE,
            )
        }
    });
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (addr, hits)
}

fn refused(r: Result<rhetor_fetch::FetchedArticle, FetchError>, url: &str) {
    match r {
        Err(FetchError::Refused(m)) => assert!(m.contains("refused"), "{url}: {m}"),
        other => panic!("{url}: expected a refusal, got {other:?}"),
    }
}

/// Guard: `Fetcher::check` on the host as the `url` crate parses it (WHATWG), which turns
/// decimal, octal, hex, short, percent-encoded and full-width forms into the IPv4 address they
/// mean. Without it the connector dials 127.0.0.1 itself and the internal site counts hits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spelling_of_a_loopback_ipv4_address_is_refused() {
    let (site, hits) = counting_site("127.0.0.1", 0).await;
    let p = site.port();
    let f = Fetcher::new(FetchConfig::default()).unwrap();
    for host in [
        "127.0.0.1",
        "2130706433",      // decimal
        "0177.0.0.1",      // octal
        "0177.0000.0.01",  // octal, padded
        "0x7f.1",          // hex, short
        "0x7f000001",      // hex, whole
        "127.1",           // short
        "127.0.1",         // short
        "127.0.0.1.",      // trailing dot
        "%31%32%37.0.0.1", // percent-encoded
        "１２７.０.０.１", // full-width digits (IDNA maps them)
    ] {
        let url = format!("http://{host}:{p}/article");
        refused(f.fetch(&url).await, &url);
    }
    // Cloud metadata in the same disguises (nothing listens there: the refusal is the point).
    for host in [
        "2852039166",
        "0251.0376.0251.0376",
        "0xa9.0xfe.0xa9.0xfe",
        "169.254.43518",
    ] {
        let url = format!("http://{host}/latest/meta-data/");
        refused(f.fetch(&url).await, &url);
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the internal site was reached"
    );
}

/// Guard: `Fetcher::check` with `is_public_v6` (mapped, compatible, NAT64, loopback, link-local,
/// unique-local). Sites listen on [::1] and 127.0.0.1, which the mapped forms reach on a dual-stack
/// host; without the guard `[fe80::1]` and `[fd00::1]` would fail to connect (`Upstream`), not
/// `Refused`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_literals_and_mapped_ipv4_are_refused() {
    let (v4, hits4) = counting_site("127.0.0.1", 0).await;
    let (v6, hits6) = counting_site("::1", 0).await;
    let f = Fetcher::new(FetchConfig::default()).unwrap();
    for url in [
        format!("http://[::1]:{}/article", v6.port()),
        format!("http://[0:0:0:0:0:0:0:1]:{}/article", v6.port()),
        format!("http://[::ffff:127.0.0.1]:{}/article", v4.port()),
        format!("http://[::ffff:7f00:1]:{}/article", v4.port()),
        format!("http://[::127.0.0.1]:{}/article", v4.port()),
        "http://[::ffff:169.254.169.254]/latest/meta-data/".to_string(),
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/".to_string(),
        "http://[64:ff9b::7f00:1]/".to_string(),
        "http://[fe80::1]/".to_string(),
        "http://[fe80::1%25eth0]/".to_string(),
        "http://[fd00::1]/".to_string(),
        "http://[fd00:ec2::254]/latest/meta-data/".to_string(),
        "http://[::]/".to_string(),
    ] {
        match f.fetch(&url).await {
            Err(FetchError::Refused(_)) => {}
            // A zone id is not valid in a URL: refused by the parser, before any request.
            Err(FetchError::BadUrl(_)) if url.contains("%25") => {}
            other => panic!("{url}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(hits4.load(Ordering::SeqCst), 0);
    assert_eq!(hits6.load(Ordering::SeqCst), 0);
}

/// Guard: `GuardedResolver`, the HTTP client's own resolver, which filters each answer and hands
/// the client only the allowed addresses, so the address checked is the address connected to.
/// The DNS here answers the allowed 127.0.0.2 (standing for a public address) the first time and
/// the internal 127.0.0.1 after: a fetcher that checked a name with one lookup and let the client
/// connect after another would reach the internal site.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_rebinding_cannot_switch_the_address_after_the_check() {
    let (public, public_hits) = counting_site("127.0.0.2", 0).await;
    let (_internal, internal_hits) = counting_site("127.0.0.1", public.port()).await;
    let config = FetchConfig {
        allow_ips: vec!["127.0.0.2".parse().unwrap()],
        ..FetchConfig::default()
    };
    let lookups = Arc::new(AtomicUsize::new(0));
    let n = lookups.clone();
    let rebinding: rhetor_fetch::Lookup = Arc::new(move |host: &str| {
        assert_eq!(host, "rebind.test");
        let ip = if n.fetch_add(1, Ordering::SeqCst) == 0 {
            "127.0.0.2"
        } else {
            "127.0.0.1"
        };
        Ok(vec![ip.parse().unwrap()])
    });
    let f = Fetcher::with_lookup(config.clone(), rebinding).unwrap();
    let url = format!("http://rebind.test:{}/article", public.port());
    for _ in 0..3 {
        match f.fetch(&url).await {
            // A later connection that looked the name up again is refused, never misdirected.
            Ok(got) => assert!(got.text().contains("gang of traitors")),
            Err(FetchError::Refused(_)) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(lookups.load(Ordering::SeqCst) >= 1);
    assert!(public_hits.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        internal_hits.load(Ordering::SeqCst),
        0,
        "rebinding reached the internal site"
    );

    // An answer mixing both: only the allowed address is dialled.
    let mixed: rhetor_fetch::Lookup = Arc::new(|_: &str| {
        Ok(vec![
            "127.0.0.1".parse().unwrap(),
            "127.0.0.2".parse().unwrap(),
        ])
    });
    let f = Fetcher::with_lookup(config.clone(), mixed).unwrap();
    for _ in 0..3 {
        assert!(f.fetch(&url).await.is_ok());
    }
    assert_eq!(internal_hits.load(Ordering::SeqCst), 0);

    // Only internal answers: refused, naming the address.
    let internal: rhetor_fetch::Lookup = Arc::new(|_: &str| Ok(vec!["127.0.0.1".parse().unwrap()]));
    let f = Fetcher::with_lookup(config, internal).unwrap();
    match f.fetch(&url).await {
        Err(FetchError::Refused(m)) => assert!(m.contains("127.0.0.1"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(internal_hits.load(Ordering::SeqCst), 0);
}

/// Guard: `Fetcher::check` run again on every redirect (redirects are followed by hand). The
/// allowed site on 127.0.0.2 redirects to an internal site on 127.0.0.1, in several spellings;
/// without the per-hop check the client would dial the literal addresses directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_internal_addresses_are_refused() {
    let (internal, internal_hits) = counting_site("127.0.0.1", 0).await;
    let ip = internal.port();
    let l = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let allowed = l.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/go",
        get(
            |q: axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                (
                    axum::http::StatusCode::FOUND,
                    [(header::LOCATION, q.0["to"].clone())],
                )
            },
        ),
    );
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let f = local_fetcher(|c| c.allow_ips = vec!["127.0.0.2".parse().unwrap()]);
    for (to, want_bad_url) in [
        (format!("http://127.0.0.1:{ip}/article"), false),
        (format!("http://2130706433:{ip}/article"), false),
        (format!("http://0x7f.1:{ip}/article"), false),
        (format!("http://[::ffff:127.0.0.1]:{ip}/article"), false),
        (format!("http://localhost:{ip}/article"), false),
        ("http://169.254.169.254/latest/meta-data/".into(), false),
        ("file:///etc/passwd".into(), true),
        ("gopher://127.0.0.1:25/".into(), true),
        (format!("http://user@127.0.0.2:{}/go", allowed.port()), true),
    ] {
        let enc: String = to
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let url = format!("http://127.0.0.2:{}/go?to={enc}", allowed.port());
        match f.fetch(&url).await {
            Err(FetchError::Refused(_)) if !want_bad_url => {}
            Err(FetchError::BadUrl(_)) if want_bad_url => {}
            other => panic!("redirect to {to}: {other:?}"),
        }
    }
    assert_eq!(
        internal_hits.load(Ordering::SeqCst),
        0,
        "a redirect reached the internal site"
    );
}

/// Guard: the scheme check of `Fetcher::check`. Without it the client's own error for an unknown
/// scheme would come back as `Upstream`, and `data:` is not a request at all.
#[tokio::test]
async fn only_http_and_https_are_fetched() {
    let f = Fetcher::new(FetchConfig::default()).unwrap();
    for url in [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "ftp://127.0.0.1/",
        "gopher://127.0.0.1:6379/_INFO",
        "data:text/html,<p>They are a gang of traitors</p>",
        "javascript:alert(1)",
        "ws://127.0.0.1/",
        "dict://127.0.0.1:11211/stats",
    ] {
        match f.fetch(url).await {
            Err(FetchError::BadUrl(m)) => assert!(m.contains("only http and https"), "{url}: {m}"),
            other => panic!("{url}: {other:?}"),
        }
    }
}

/// Guards: the credentials check of `Fetcher::check`, and the literal check on the host the URL
/// parser found (not on what a reader takes for the host). `public.example@127.0.0.1` is
/// 127.0.0.1 with a user name; a backslash or `#` ends the authority before the `@`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_tricks_do_not_reach_internal_addresses() {
    let (site, hits) = counting_site("127.0.0.1", 0).await;
    let p = site.port();
    let f = Fetcher::new(FetchConfig::default()).unwrap();
    for url in [
        format!("http://public.example@127.0.0.1:{p}/article"),
        format!("http://public.example:80@127.0.0.1:{p}/article"),
        format!("http://public.example%40@127.0.0.1:{p}/article"),
        format!("http://public.example:secret@127.0.0.1:{p}/article"),
    ] {
        match f.fetch(&url).await {
            Err(FetchError::BadUrl(m)) => assert!(m.contains("credentials"), "{url}: {m}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    // The host of these is 127.0.0.1 (the rest is a path or fragment): refused as an address.
    for url in [
        format!("http://127.0.0.1:{p}\\@public.example/article"),
        format!("http://127.0.0.1:{p}#@public.example/article"),
        format!("http://127.0.0.1:{p}?@public.example/article"),
    ] {
        refused(f.fetch(&url).await, &url);
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the internal site was reached"
    );
}
