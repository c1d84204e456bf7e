//! `rhetor watch` end to end: a real HTTP server on loopback (started here, on std's TCP) serves
//! an RSS 2.0 feed, an Atom feed, article pages, one broken item and one redirect; the real binary
//! polls it into a SQLite archive, and, two processes at once (one killed mid-item), into one
//! PostgreSQL database that `rhetor serve` then lists.

use crate::util::{rhetor, s, stderr, stdout, TestDir};
use rhetor_store::{Archive, ListFilter};
use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the site answered.
#[derive(Debug, Clone)]
struct Hit {
    path: String,
    headers: BTreeMap<String, String>,
    status: u16,
    at: Instant,
}

/// The news site: two feeds and their pages, on a loopback port.
struct Site {
    port: u16,
    hits: Arc<Mutex<Vec<Hit>>>,
}

const RSS_ETAG: &str = "\"rss-v1\"";
const ATOM_MODIFIED: &str = "Tue, 01 Dec 2026 10:00:00 GMT";

fn page(id: &str) -> String {
    let text = rhetor_testkit::fixture_article(id);
    let mut paras = text.split("\n\n").filter(|p| !p.trim().is_empty());
    let title = paras.next().unwrap_or("Untitled").trim().to_string();
    let body: String = paras
        .map(|p| format!("<p>{}</p>\n", p.replace('&', "&amp;").replace('<', "&lt;")))
        .collect();
    format!(
        "<!doctype html><html><head><title>{title}</title></head><body><nav>Home | World</nav>\
         <article><h1>{title}</h1>{body}</article><footer>(c) the site</footer></body></html>"
    )
}

impl Site {
    /// `page_delay`: how long each article page takes to answer.
    fn start(page_delay: Duration) -> Site {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let log = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve_one(stream, port, page_delay, &log));
            }
        });
        Site { port, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

fn serve_one(stream: TcpStream, port: u16, page_delay: Duration, log: &Mutex<Vec<Hit>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let at = Instant::now();
    let base = format!("http://127.0.0.1:{port}");
    let (status, extra, ctype, body): (u16, String, &str, String) = match path.as_str() {
        "/rss.xml" if headers.get("if-none-match").map(String::as_str) == Some(RSS_ETAG) => {
            (304, format!("ETag: {RSS_ETAG}\r\n"), "", String::new())
        }
        "/rss.xml" => (
            200,
            format!("ETag: {RSS_ETAG}\r\n"),
            "application/rss+xml",
            format!(
                r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Daily Example</title>
<link>{base}/</link><description>news</description>
<item><title>Council vote</title><link>{base}/a/1</link><author>ed@daily.example (Ed Reporter)</author><pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate></item>
<item><title>Second story</title><link>{base}/a/2</link><pubDate>Tue, 01 Dec 2026 09:00:00 GMT</pubDate></item>
<item><title>Moved story</title><link>{base}/old/3</link><pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate></item>
<item><title>Broken story</title><link>{base}/broken</link><pubDate>Tue, 01 Dec 2026 11:00:00 GMT</pubDate></item>
</channel></rss>"#
            ),
        ),
        "/atom.xml"
            if headers.get("if-modified-since").map(String::as_str) == Some(ATOM_MODIFIED) =>
        {
            (304, String::new(), "", String::new())
        }
        "/atom.xml" => (
            200,
            format!("Last-Modified: {ATOM_MODIFIED}\r\n"),
            "application/atom+xml",
            format!(
                r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Gazette</title><id>urn:gazette</id><updated>2026-12-01T10:00:00Z</updated>
<entry><title>Gazette one</title><id>urn:g1</id><link rel="alternate" href="{base}/g/1"/><published>2026-11-29T07:00:00Z</published><updated>2026-11-29T07:00:00Z</updated><author><name>Gail Writer</name></author></entry>
<entry><title>Gazette two</title><id>urn:g2</id><link href="/g/2"/><updated>2026-12-01T07:30:00Z</updated></entry>
</feed>"#
            ),
        ),
        "/old/3" => (301, format!("Location: {base}/a/3\r\n"), "", String::new()),
        "/broken" => (500, String::new(), "text/plain", "internal error".into()),
        p => match p.strip_prefix("/a/").or(p.strip_prefix("/g/")) {
            Some(n) => {
                std::thread::sleep(page_delay);
                let id = match (p.starts_with("/a/"), n) {
                    (true, "1") => "9001",
                    (true, "2") => "9002",
                    (true, "3") => "9003",
                    (false, "1") => "9004",
                    _ => "9005",
                };
                (200, String::new(), "text/html; charset=utf-8", page(id))
            }
            None => (404, String::new(), "text/plain", "not found".into()),
        },
    };
    log.lock().unwrap().push(Hit {
        path,
        headers,
        status,
        at,
    });
    let mut stream = stream;
    let ctype = if ctype.is_empty() {
        String::new()
    } else {
        format!("Content-Type: {ctype}\r\n")
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\n{extra}{ctype}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn feeds_file(dir: &TestDir, site: &Site) -> String {
    let f = dir.write(
        "feeds.tsv",
        format!(
            "# outlets\nDaily Example\t{}\n\nGazette\t{}\n",
            site.url("/rss.xml"),
            site.url("/atom.xml")
        ),
    );
    s(&f).to_string()
}

fn watch_args<'a>(feeds: &'a str, db: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "watch",
        "--once",
        "--feeds",
        feeds,
        "--db",
        db,
        "--model",
        "fast",
        "--host-delay",
        "150ms",
    ];
    a.extend_from_slice(extra);
    a
}

const GOOD: [&str; 5] = ["/a/1", "/a/2", "/old/3", "/g/1", "/g/2"];

#[test]
fn watch_once_stores_each_good_item_and_polls_unchanged_feeds_conditionally() {
    let site = Site::start(Duration::ZERO);
    let dir = TestDir::new();
    let feeds = feeds_file(&dir, &site);
    let db = dir.join("archive.db");
    let db = s(&db);

    // Without the flag the loopback feeds are refused, and nothing is stored.
    let o = rhetor(&watch_args(&feeds, db, &[]));
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("refused") && err.contains("--allow-private-addresses"),
        "{err}"
    );
    assert!(
        stdout(&o).contains("feeds: 0 read, 0 unchanged, 2 failed"),
        "{}",
        stdout(&o)
    );
    assert!(site.hits().is_empty(), "{:?}", site.hits());

    let o = rhetor(&watch_args(&feeds, db, &["--allow-private-addresses"]));
    let (out, err) = (stdout(&o), stderr(&o));
    // The broken item fails the run (exit 1), is counted, and is logged with its URL.
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(
        out.contains("feeds: 2 read, 0 unchanged, 0 failed; items: 6 seen, 5 stored"),
        "{out}"
    );
    assert!(out.contains(", 1 failed,"), "{out}");
    assert!(
        err.contains("item failed") && err.contains("/broken"),
        "{err}"
    );
    assert!(err.contains("500"), "{err}");

    let archive = rhetor_store::open(db).unwrap();
    let page = archive
        .list(&ListFilter {
            per_page: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.total, 5);
    let by_url: BTreeMap<String, _> = page
        .articles
        .iter()
        .map(|a| (a.url.clone().unwrap(), a.clone()))
        .collect();
    for path in GOOD {
        let a = &by_url[&site.url(path)];
        let outlet = if path.starts_with("/g/") {
            "Gazette"
        } else {
            "Daily Example"
        };
        assert_eq!(a.source.as_deref(), Some(outlet), "{path}");
        assert!(a.title.is_some() && a.published.is_some(), "{path}: {a:?}");
        assert!(
            a.feed.as_deref().is_some_and(|f| f.ends_with(".xml")),
            "{path}"
        );
        assert_eq!(a.content_hash.as_ref().map(String::len), Some(64), "{path}");
    }
    let one = &by_url[&site.url("/a/1")];
    assert_eq!(one.title.as_deref(), Some("Council vote"));
    assert_eq!(one.published.as_deref(), Some("2026-11-30T08:00:00+00:00"));
    assert_eq!(
        by_url[&site.url("/g/1")].byline.as_deref(),
        Some("Gail Writer")
    );
    // The redirected item is stored under its feed link, with the page it led to.
    let moved = archive
        .get(by_url[&site.url("/old/3")].id)
        .unwrap()
        .unwrap();
    let first_line = rhetor_testkit::fixture_article("9003");
    let first_line = first_line.lines().next().unwrap();
    assert!(
        moved.analysis["text"]
            .as_str()
            .unwrap()
            .starts_with(first_line),
        "{}",
        moved.analysis["text"]
    );
    let stats = archive.stats(None).unwrap();
    assert_eq!(stats.sources.len(), 2);
    assert!(stats.over_time.iter().any(|d| d.day == "2026-11-30"));

    // Fetches from the one host started at least --host-delay apart (a redirect's next hop is
    // part of its fetch).
    let mut hits = site.hits();
    hits.sort_by_key(|h| h.at);
    for w in hits.windows(2) {
        if w[0].status != 301 {
            assert!(w[1].at - w[0].at >= Duration::from_millis(100), "{hits:?}");
        }
    }

    // A second pass: both feeds unchanged (conditional GET answered 304), nothing fetched or added.
    let before = hits.len();
    let o = rhetor(&watch_args(&feeds, db, &["--allow-private-addresses"]));
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("feeds: 0 read, 2 unchanged, 0 failed; items: 0 seen, 0 stored"),
        "{}",
        stdout(&o)
    );
    let again = &site.hits()[before..];
    assert_eq!(again.len(), 2, "{again:?}");
    for h in again {
        assert_eq!(h.status, 304, "{h:?}");
        match h.path.as_str() {
            "/rss.xml" => assert_eq!(h.headers["if-none-match"], RSS_ETAG),
            "/atom.xml" => assert_eq!(h.headers["if-modified-since"], ATOM_MODIFIED),
            p => panic!("{p} fetched again"),
        }
    }
    assert!(
        again[0].headers["user-agent"].starts_with("rhetor/"),
        "{again:?}"
    );
    assert_eq!(archive.count().unwrap(), 5);

    export_writes_the_batch_shapes(&dir, db, &archive);
}

/// `rhetor export` of the archive the pass above filled.
fn export_writes_the_batch_shapes(dir: &TestDir, db: &str, archive: &std::sync::Arc<dyn Archive>) {
    let export = |extra: &[&str], name: &str| -> String {
        let out = dir.join(name);
        let mut args = vec!["export", "--db", db, "--out", s(&out)];
        args.extend_from_slice(extra);
        let o = rhetor(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(out).unwrap()
    };
    let jsonl = export(&["--format", "jsonl", "--outlet", "Gazette"], "g.jsonl");
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{jsonl}");
    for v in &lines {
        assert_eq!(v["outlet"], "Gazette", "{v}");
        for k in ["id", "url", "title", "published", "text", "model"] {
            assert!(v[k].is_string(), "{k}: {v}");
        }
        assert_eq!(v["schema_version"], 1);
        assert!(v["spans"].is_array());
    }
    // Oldest first: Gazette one was saved before Gazette two.
    assert_eq!(lines[0]["title"], "Gazette one");

    // --since: the publication day (Nov 29 and 30 left out).
    let recent = export(&["--format", "jsonl", "--since", "2026-12-01"], "r.jsonl");
    let mut titles: Vec<String> = recent
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["title"].to_string())
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        ["\"Gazette two\"", "\"Moved story\"", "\"Second story\""]
    );

    let spans = archive.stats(None).unwrap().spans as usize;
    assert!(spans > 0);
    let csv = export(&["--format", "csv"], "all.csv");
    assert!(
        csv.starts_with("id,start,end,technique,confidence,voice,snippet\n"),
        "{csv}"
    );
    let ptc = export(&["--format", "ptc"], "all.tsv");
    assert_eq!(ptc.lines().count(), spans, "{ptc}");
    for row in ptc.lines() {
        let f: Vec<&str> = row.split('\t').collect();
        assert_eq!(f.len(), 4, "{row}");
        let id: i64 = f[0].parse().unwrap();
        assert!(archive.get(id).unwrap().is_some());
        assert!(
            rhetor::Technique::ALL.iter().any(|t| t.name() == f[1]),
            "{row}"
        );
        assert!(
            f[2].parse::<usize>().unwrap() < f[3].parse::<usize>().unwrap(),
            "{row}"
        );
    }
    // Snippets may hold commas, quotes and line breaks: the CSV has one record per span.
    let records = csv_records(&csv);
    assert_eq!(records, spans + 1, "{csv}");

    let o = rhetor(&[
        "export",
        "--db",
        db,
        "--format",
        "csv",
        "--since",
        "Dec 1",
        "--out",
        s(&dir.join("x.csv")),
    ]);
    crate::util::assert_error(&o, "--since \"Dec 1\" is not a date");
}

/// Number of records in RFC 4180 CSV (line breaks inside quotes do not end one).
fn csv_records(csv: &str) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for c in csv.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => n += 1,
            _ => {}
        }
    }
    n
}

#[test]
fn a_malformed_feeds_file_names_file_and_line() {
    let dir = TestDir::new();
    let feeds = dir.write("feeds.tsv", "# ok\nDaily http://daily.example/rss\n");
    let db = dir.join("a.db");
    let o = rhetor(&["watch", "--once", "--feeds", s(&feeds), "--db", s(&db)]);
    crate::util::assert_error(&o, "feeds.tsv:2: expected OUTLET<TAB>FEED_URL");
}

/// `rhetor watch` as a child process, output captured.
fn spawn_watch(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_rhetor"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn feed_item_rows(db: &str, sql: &str) -> i64 {
    let mut c = postgres::Client::connect(db, postgres::NoTls).unwrap();
    c.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn two_watchers_on_one_postgres_store_each_item_once_even_when_one_is_killed() {
    let Some(server) = rhetor_testkit::require(rhetor_testkit::postgres()) else {
        return;
    };
    // Slow pages, so that the killed process holds a claim when it dies.
    let site = Site::start(Duration::from_millis(400));
    let dir = TestDir::new();
    let feeds = feeds_file(&dir, &site);
    let tmp = server.create_db();
    let db = tmp.url.as_str();
    let extra = ["--allow-private-addresses", "--lease", "2s"];

    // Together, to the end: every good item once.
    let a = spawn_watch(&watch_args(&feeds, db, &extra));
    let b = spawn_watch(&watch_args(&feeds, db, &extra));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let archive = rhetor_store::open(db).unwrap();
    assert_eq!(
        archive.count().unwrap(),
        5,
        "{}\n{}",
        stderr(&a),
        stderr(&b)
    );
    let distinct = feed_item_rows(db, "SELECT count(DISTINCT url) FROM articles");
    assert_eq!(distinct, 5);
    let stored = |o: &std::process::Output| -> usize {
        let out = stdout(o);
        let n = out
            .split(" stored")
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap();
        n.parse().unwrap_or_else(|_| panic!("{out}"))
    };
    assert_eq!(stored(&a) + stored(&b), 5, "{}\n{}", stdout(&a), stdout(&b));

    // Again on a fresh database, killing one process while it holds a claim.
    drop(archive);
    let tmp2 = server.create_db();
    let db = tmp2.url.as_str();
    let mut a = spawn_watch(&watch_args(&feeds, db, &extra));
    let b = spawn_watch(&watch_args(&feeds, db, &extra));
    let held = format!(
        "SELECT count(*) FROM feed_items WHERE state = 'claimed' AND worker LIKE '%:{}:%'",
        a.id()
    );
    let started = Instant::now();
    loop {
        let n = std::panic::catch_unwind(|| feed_item_rows(db, &held)).unwrap_or(0);
        if n > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "A never claimed an item"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    a.kill().unwrap(); // SIGKILL while A holds an item
    a.wait().unwrap();
    let b = b.wait_with_output().unwrap();
    let archive = rhetor_store::open(db).unwrap();
    assert_eq!(
        archive.count().unwrap(),
        5,
        "{}\n{}",
        stdout(&b),
        stderr(&b)
    );
    assert_eq!(
        feed_item_rows(db, "SELECT count(DISTINCT url) FROM articles"),
        5
    );
    assert_eq!(
        feed_item_rows(
            db,
            "SELECT count(*) FROM feed_items WHERE state = 'claimed'"
        ),
        0
    );

    // `rhetor serve` on that database lists them, and stops cleanly on SIGTERM (closing the
    // PostgreSQL pool once aborted it).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let serve = Command::new(env!("CARGO_BIN_EXE_rhetor"))
        .args(["serve", "--db", db, "--addr", &addr, "--model", "fast"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let body = (0..300)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            http_get(&addr, "/api/articles?per_page=100")
        })
        .expect("rhetor serve answered");
    let term = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let out = serve.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !err.contains("panicked"),
        "rhetor serve did not stop cleanly ({}):\n{err}",
        out.status
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["total"], 5, "{v}");
    let outlets: std::collections::BTreeSet<&str> = v["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        outlets.into_iter().collect::<Vec<_>>(),
        ["Daily Example", "Gazette"]
    );
}

/// The body of a 200 answer to `GET path`, or `None` (not listening yet, or another status).
fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let (head, body) = resp.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}
