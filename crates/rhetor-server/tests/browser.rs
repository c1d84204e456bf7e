//! End to end in headless Chromium (Debian's `chromium` and `chromium-driver`, driven over the
//! WebDriver protocol): paste an article, analyse, check the highlights and the legend counts
//! against the API, toggle a technique, follow the permalink, open the archive, analyse an article
//! full of markup and check none of it runs, and save screenshots. Then the page of `rhetor analyze
//! --format html`, opened from a file: the same span view draws its bars, labels and legend offline.
//!
//! Skips (with a message) only when Chromium or ChromeDriver is not installed; under CI their
//! absence is a failure, since `.ci/run` installs them (`rhetor_testkit::chromium`).

mod common;

#[path = "../../rhetor-store/tests/fixtures/outlets.rs"]
mod fixture;

use base64::Engine as _;
use common::{analyzer, article, client, TestServer};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Wd {
    base: String,
    http: reqwest::Client,
}

impl Wd {
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("webdriver request");
        let status = r.status();
        let v: Value = r.json().await.expect("webdriver json");
        assert!(status.is_success(), "webdriver {path}: {status} {v}");
        v["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }

    async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// Runs a script (a function body; `arguments` are the args) and returns its value.
    async fn js(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await;
        v[ELEMENT].as_str().expect("element id").to_string()
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{e}/click"), json!({})).await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{e}/value"), json!({ "text": text }))
            .await;
    }

    /// Waits until a script returns true.
    async fn wait(&self, what: &str, script: &str) {
        let start = Instant::now();
        loop {
            if self.js(script, json!([])).await == json!(true) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn screenshot(&self, path: &Path) {
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
    }

    /// Legend: technique -> count shown.
    async fn legend(&self) -> BTreeMap<String, u64> {
        let v = self
            .js(
                "return Array.from(document.querySelectorAll('#legend button')).map(b => \
                 [b.dataset.technique, b.querySelector('.count').textContent]);",
                json!([]),
            )
            .await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_string(),
                    p[1].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect()
    }

    /// Highlighted spans (one label per span): technique -> number.
    async fn labels(&self) -> BTreeMap<String, u64> {
        let v = self
            .js(
                "const m = {}; for (const l of document.querySelectorAll('#doc .lab')) \
                 m[l.dataset.technique] = (m[l.dataset.technique] || 0) + 1; return m;",
                json!([]),
            )
            .await;
        serde_json::from_value(v).unwrap()
    }

    /// The article's text as shown, without the labels.
    async fn shown_text(&self) -> String {
        self.js(
            "const c = document.getElementById('doc').cloneNode(true); \
             c.querySelectorAll('.bar').forEach(b => b.remove()); return c.textContent;",
            json!([]),
        )
        .await
        .as_str()
        .unwrap()
        .to_string()
    }

    async fn pwned(&self) -> Value {
        self.js(
            "return [window.__pwned === undefined ? null : window.__pwned, \
             document.querySelectorAll('main img, main script, main svg:not(.chart), main iframe, main b[onmouseover]').length];",
            json!([]),
        )
        .await
    }
}

fn counts(v: &Value) -> BTreeMap<String, u64> {
    serde_json::from_value(v["counts"].clone()).unwrap()
}

/// Sets the textarea as a paste would, then fires the input event.
const PASTE: &str =
    "const t = document.getElementById('input'); t.focus(); t.value = arguments[0]; \
                     t.dispatchEvent(new Event('input', {bubbles: true})); return true;";

/// Chromium under ChromeDriver with one WebDriver session; dropping it stops both.
struct Browser {
    wd: Wd,
    wd_base: String,
    session: String,
    _profile: tempfile::TempDir,
    _driver: Driver,
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium session, or says why it skips (`None`; under
    /// CI a failure), by the testkit's one rule.
    async fn start() -> Option<Browser> {
        let rhetor_testkit::Browser {
            chromium,
            chromedriver: driver,
        } = rhetor_testkit::require(rhetor_testkit::chromium())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Driver {
            child: Command::new(&driver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver"),
        };
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let wd_base = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while http.get(format!("{wd_base}/status")).send().await.is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let r = http
            .post(format!("{wd_base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        let wd = Wd {
            base: format!("{wd_base}/session/{session}"),
            http,
        };
        Some(Browser {
            wd,
            wd_base,
            session,
            _profile: profile,
            _driver: driver,
        })
    }

    /// Ends the session (the driver stops on drop).
    async fn close(self) {
        let _ = self
            .wd
            .http
            .delete(format!("{}/session/{}", self.wd_base, self.session))
            .send()
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_in_headless_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let s = TestServer::start(|_| {}).await;
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let result = run_scenario(&browser.wd, &s, &shots).await;
    browser.close().await;
    s.stop().await;
    result.unwrap_or_else(|e| panic!("{e}"));
}

/// The page of `rhetor analyze --format html` (which prints `rhetor::render::html` of the
/// analysis), opened from a file: the span view draws the bars, labels and legend, offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_page_opened_from_a_file_draws_the_span_view() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let result = static_page_scenario(&browser.wd, dir.path(), &shots).await;
    browser.close().await;
    result.unwrap_or_else(|e| panic!("{e}"));
}

/// The outlet view over the store's outlet fixture: one outlet, two side by side, the filters, the
/// CSV links, an outlet and a speaker named in markup, and a phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outlet_view_in_headless_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let s = TestServer::start(|_| {}).await;
    let archive = s.archive();
    tokio::task::spawn_blocking(move || {
        fixture::load(&*archive);
        let a = fixture::analysis(
            "They are traitors, said the man.",
            &[(
                "traitors",
                0,
                rhetor::Technique::NameCallingLabeling,
                Some(EVIL_SPEAKER),
            )],
            &[(EVIL_SPEAKER, rhetor::SpeakerKind::Person)],
        );
        let mut n = rhetor_store::NewArticle::new(a).with_source(EVIL_OUTLET);
        n.published = Some("2026-03-05".into());
        archive.insert(&n).unwrap();
    })
    .await
    .unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let result = outlet_scenario(&browser.wd, &s, &shots).await;
    browser.close().await;
    s.stop().await;
    result.unwrap_or_else(|e| panic!("{e}"));
}

const EVIL_OUTLET: &str = "<img src=x onerror=\"window.__pwned=7\">Evil & Co";
const EVIL_SPEAKER: &str =
    "<script>window.__pwned=8</script>Mr <b onmouseover=\"window.__pwned=9\">X</b>";

/// Texts of the elements matching `css`, in order.
async fn texts(wd: &Wd, css: &str) -> Vec<String> {
    let v = wd
        .js(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent);",
            json!([css]),
        )
        .await;
    serde_json::from_value(v).unwrap()
}

async fn outlet_scenario(wd: &Wd, s: &TestServer, shots: &Path) -> Result<(), String> {
    // The outlet with most articles is shown first.
    wd.goto(&s.url("/outlets")).await;
    wd.wait(
        "the outlet view",
        "return document.querySelectorAll('#o-cols .ocol').length === 1 && \
         document.querySelectorAll('#o-cols svg.chart.weeks rect').length > 0;",
    )
    .await;
    assert_eq!(texts(wd, ".oname").await, [fixture::DAILY]);
    let count = texts(wd, ".ocount").await;
    assert!(
        count[0].starts_with("3 articles · 28 words · 7 spans · 2026-03-02 to 2026-03-18"),
        "{count:?}"
    );
    assert_eq!(texts(wd, ".osum .big").await, ["250.0", "53.6%"]);
    // Three weeks, the empty one drawn with no height; five techniques used, most first.
    let heights = wd
        .js(
            "return Array.from(document.querySelectorAll('svg.chart.weeks rect')).map(r => Number(r.getAttribute('height')));",
            json!([]),
        )
        .await;
    let heights: Vec<f64> = serde_json::from_value(heights).unwrap();
    assert_eq!(heights, [90.0, 0.0, 45.0]);
    let techs = texts(wd, "[data-table=techniques] .hb-l").await;
    assert_eq!(techs.len(), 5, "{techs:?}");
    assert_eq!(techs[0], "Loaded_Language");
    assert_eq!(
        texts(wd, "[data-table=voices] .hb-l").await,
        ["The outlet's own voice", "Quoted voices"]
    );
    assert_eq!(
        texts(wd, "table.speakers tbody td:first-child").await,
        ["Mayor Smith", "Officials"]
    );
    wd.screenshot(&shots.join("rhetor-outlets-one.png")).await;
    // The trend lines: all spans and the three most used techniques, a point per week.
    assert_eq!(
        texts(wd, "[data-table=trends] .key").await,
        [
            "All counted spans",
            "Loaded_Language",
            "Slogans",
            "Appeal_to_Authority"
        ]
    );
    let points = wd
        .js(
            "return document.querySelectorAll('svg.chart.trends circle').length;",
            json!([]),
        )
        .await;
    assert_eq!(points, json!(4 * 3));
    wd.js(
        "document.querySelector('[data-table=trends]').scrollIntoView(); return true;",
        json!([]),
    )
    .await;
    wd.screenshot(&shots.join("rhetor-outlets-one-trends.png"))
        .await;

    // Two side by side, chosen in the form; the address says what is shown.
    wd.js(
        "document.getElementById('o-b').value = arguments[0]; return true;",
        json!([fixture::GAZETTE]),
    )
    .await;
    wd.click("#o-show").await;
    wd.wait(
        "two outlets",
        "return document.querySelectorAll('#o-cols .ocol').length === 2;",
    )
    .await;
    assert_eq!(
        texts(wd, ".oname").await,
        [fixture::DAILY, fixture::GAZETTE]
    );
    let search = wd.js("return location.search;", json!([])).await;
    assert_eq!(search, json!("?a=Daily+Example&b=Gazette"));
    // One technique order and scale for both: the union of what either uses.
    let techs = texts(wd, "[data-table=techniques] .hb-l").await;
    assert_eq!(techs.len(), 12, "{techs:?}");
    assert_eq!(techs[..6], techs[6..]);
    let two_cols = wd
        .js(
            "const c = document.querySelectorAll('.ocol'); \
             return c[0].getBoundingClientRect().top === c[1].getBoundingClientRect().top;",
            json!([]),
        )
        .await;
    assert_eq!(two_cols, json!(true), "side by side on a wide window");
    wd.screenshot(&shots.join("rhetor-outlets-compare.png"))
        .await;

    // Every table shown downloads as CSV: the top row (both outlets) and each figure's own.
    let hrefs: Vec<String> = serde_json::from_value(
        wd.js(
            "return Array.from(document.querySelectorAll('a.csv-link')).map(a => a.getAttribute('href'));",
            json!([]),
        )
        .await,
    )
    .unwrap();
    assert_eq!(hrefs.len(), 6 + 2 * 5, "{hrefs:?}");
    for h in &hrefs {
        let r = client().get(s.url(h)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{h}");
        assert_eq!(
            r.headers()["content-type"],
            "text/csv; charset=utf-8",
            "{h}"
        );
        assert!(r.text().await.unwrap().starts_with("outlet,"), "{h}");
    }

    // Filters: a technique and a date range, from the form.
    wd.js(
        "document.getElementById('o-technique').value = 'Slogans'; \
         document.getElementById('o-from').value = '2026-03-01'; \
         document.getElementById('o-to').value = '2026-03-10'; return true;",
        json!([]),
    )
    .await;
    wd.click("#o-show").await;
    wd.wait(
        "the filtered outlets",
        "return location.search.includes('technique=Slogans') && \
         document.querySelectorAll('.ocount').length === 2 && \
         document.querySelector('.ocount').textContent.startsWith('2 articles');",
    )
    .await;
    let count = texts(wd, ".ocount").await;
    assert!(
        count[0].starts_with("2 articles · 22 words · 2 spans"),
        "{count:?}"
    );
    assert!(
        count[1].starts_with("1 article · 11 words · 0 spans"),
        "{count:?}"
    );
    assert_eq!(
        wd.js(
            "return document.getElementById('o-technique').value;",
            json!([])
        )
        .await,
        json!("Slogans"),
        "the form shows the filter"
    );

    // An outlet and a speaker named in markup: shown as text, nothing runs.
    let q = format!(
        "/outlets?a={}",
        url::form_urlencoded::byte_serialize(EVIL_OUTLET.as_bytes()).collect::<String>()
    );
    wd.goto(&s.url(&q)).await;
    wd.wait(
        "the markup outlet",
        "return document.querySelectorAll('table.speakers tbody tr').length === 1;",
    )
    .await;
    assert_eq!(texts(wd, ".oname").await, [EVIL_OUTLET]);
    assert_eq!(
        texts(wd, "table.speakers tbody td:first-child").await,
        [EVIL_SPEAKER]
    );
    let options = texts(wd, "#o-a option").await;
    assert!(options.iter().any(|o| o == EVIL_OUTLET), "{options:?}");
    assert_eq!(
        wd.pwned().await,
        json!([null, 0]),
        "nothing from the names ran"
    );

    // A phone: one column, nothing wider than the screen.
    wd.post("/window/rect", json!({ "width": 390, "height": 844 }))
        .await;
    wd.goto(&s.url("/outlets?a=Daily+Example&b=Gazette")).await;
    wd.wait(
        "two outlets on a phone",
        "return document.querySelectorAll('#o-cols .ocol').length === 2 && \
         document.querySelectorAll('table.speakers').length === 2;",
    )
    .await;
    let layout = wd
        .js(
            "const c = document.querySelectorAll('.ocol'); \
             const w = document.documentElement.clientWidth; \
             const wide = Array.from(document.querySelectorAll('main *')) \
               .filter(e => e.getBoundingClientRect().right > w + 1) \
               .slice(0, 5).map(e => e.tagName + '.' + e.getAttribute('class') + '#' + e.id); \
             return [document.documentElement.scrollWidth - w, \
                     c[1].getBoundingClientRect().top > c[0].getBoundingClientRect().bottom - 1, wide];",
            json!([]),
        )
        .await;
    assert!(
        layout[0].as_f64().unwrap() <= 1.0,
        "horizontal overflow {layout}"
    );
    assert_eq!(layout[1], json!(true), "one column on a phone");
    wd.screenshot(&shots.join("rhetor-outlets-phone.png")).await;
    Ok(())
}

fn analysis(text: &str, spans: &[(usize, usize, rhetor::Technique)]) -> rhetor::Analysis {
    let detections = spans
        .iter()
        .map(|&(s, e, technique)| rhetor::Detection {
            span: rhetor::Span::new(s, e),
            technique,
            confidence: 0.876,
        })
        .collect();
    rhetor::Analysis::new(
        &rhetor::Document::new(text).unwrap(),
        "test-model",
        detections,
    )
}

/// On a phone-sized window the page at `url` draws its legend and is no wider than the screen.
async fn fits_a_phone(wd: &Wd, url: &str) {
    wd.post("/window/rect", json!({ "width": 390, "height": 844 }))
        .await;
    wd.goto(url).await;
    wd.wait(
        "the phone page",
        "return document.querySelectorAll('#legend button').length > 0;",
    )
    .await;
    let overflow = wd
        .js(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            json!([]),
        )
        .await;
    assert!(
        overflow.as_f64().unwrap() <= 1.0,
        "horizontal overflow {overflow}"
    );
}

/// Writes the HTML page of an analysis to a file and opens it.
async fn open_page(wd: &Wd, dir: &Path, name: &str, a: &rhetor::Analysis) {
    let path = dir.join(name);
    std::fs::write(&path, rhetor::render::html(a)).unwrap();
    wd.goto(&format!("file://{}", path.display())).await;
    wd.wait("the page", "return document.readyState === 'complete';")
        .await;
}

async fn static_page_scenario(wd: &Wd, dir: &Path, shots: &Path) -> Result<(), String> {
    use rhetor::Technique;

    // A fixture article through the built-in model.
    let text = article("9001");
    let a = analyzer().analyze(&text).unwrap();
    open_page(wd, dir, "article.html", &a).await;
    let want: BTreeMap<String, u64> = a
        .counts
        .iter()
        .map(|(k, v)| (k.clone(), *v as u64))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(wd.legend().await, want, "legend counts = analysis counts");
    assert_eq!(wd.labels().await, want, "one label per span");
    assert_eq!(
        wd.shown_text().await,
        text,
        "the article is shown unchanged"
    );
    let drawn = wd
        .js(
            "const bars = Array.from(document.querySelectorAll('#doc .bar')); \
             return [bars.length, \
                     bars.filter(b => getComputedStyle(b).display !== 'none' && \
                                      b.getBoundingClientRect().height >= 3 && \
                                      b.getBoundingClientRect().width > 0).length, \
                     document.querySelectorAll('#doc mark').length, \
                     document.getElementById('spans').hidden, \
                     document.querySelectorAll('#r-spans tbody tr').length];",
            json!([]),
        )
        .await;
    let bars = drawn[0].as_u64().unwrap();
    assert!(bars >= a.spans.len() as u64, "{drawn}");
    assert_eq!(drawn[1], bars, "every bar is drawn: {drawn}");
    assert_eq!(drawn[2], 0, "the script replaced the fallback marks");
    assert_eq!(drawn[3], false, "the span table is shown");
    assert_eq!(drawn[4], a.spans.len(), "a row per span");
    wd.screenshot(&shots.join("rhetor-html-page.png")).await;

    // Overlapping spans stack in slots, one label each; a quoted speaker's bars are dashed.
    let name = Technique::NameCallingLabeling;
    let loaded = Technique::LoadedLanguage;
    let mut a = analysis(
        "They are a gang of traitors and cowards.",
        &[(9, 27, name), (19, 39, loaded), (28, 39, Technique::Doubt)],
    );
    a.set_voices(
        vec![
            rhetor::Voice::Author,
            rhetor::Voice::Quoted {
                speaker: "<Senator>".into(),
            },
            rhetor::Voice::Author,
        ],
        &[(
            "senator".into(),
            "<Senator>".into(),
            rhetor::SpeakerKind::Person,
        )],
    );
    open_page(wd, dir, "overlap.html", &a).await;
    // Whose voice: counts per voice kind, then per quoted speaker with its kind.
    let voices = wd
        .js(
            "const b = document.getElementById('voices'); \
             return [b.hidden, Array.from(b.querySelectorAll('tbody tr')) \
               .map(r => Array.from(r.cells).map(c => c.textContent).join('|'))];",
            json!([]),
        )
        .await;
    assert_eq!(
        voices,
        json!([
            false,
            [
                "The outlet (author)|2|Doubt 1, Name_Calling,Labeling 1",
                "Quoted people|1|Loaded_Language 1",
                "<Senator>|person|1|Loaded_Language 1"
            ]
        ])
    );
    let v = wd
        .js(
            "const d = document.getElementById('doc'); \
             const bars = Array.from(d.querySelectorAll('.bar')); \
             const slot = s => bars.filter(b => b.dataset.s === s); \
             const top = s => slot(s)[0].getBoundingClientRect().top; \
             const tr = Array.from(d.querySelectorAll('.tk')).find(t => t.firstChild.textContent === 'traitors'); \
             return [d.dataset.slots, slot('0').length, slot('1').length, top('1') - top('0'), \
                     Array.from(d.querySelectorAll('.lab')).map(l => l.textContent), \
                     Array.from(tr.querySelectorAll('.bar')).map(b => b.className), \
                     d.querySelectorAll('.bar.q').length, \
                     getComputedStyle(slot('0')[0]).backgroundColor, tr.className, \
                     document.getElementById('r-spans').classList.contains('has-voice')];",
            json!([]),
        )
        .await;
    // Loaded (19–39) crosses Name (9–27); Doubt (28–39) lies inside Loaded but after Name ends,
    // so it reuses slot 0. Pieces "a ", "gang ", "of " (Name), "traitors" (Name + Loaded), " "
    // (Loaded), "and ", "cowards" (Loaded + Doubt): slot 0 = Name ×4 + Doubt ×2, slot 1 = Loaded ×4.
    assert_eq!(v[0], "2", "{v}");
    assert_eq!((v[1].as_u64(), v[2].as_u64()), (Some(6), Some(4)), "{v}");
    assert!(
        v[3].as_f64().unwrap() >= 10.0,
        "slot 1 sits below slot 0: {v}"
    );
    assert_eq!(
        v[4],
        json!(["1 Name_Calling,Labeling", "2 Loaded_Language", "3 Doubt"])
    );
    assert_eq!(v[5], json!(["bar t9 en", "bar t8 st q"]), "{v}");
    assert_eq!(v[6], 4, "the quoted speaker's bars are dashed");
    assert_eq!(v[7], "rgb(156, 117, 95)", "Name_Calling's colour");
    assert_eq!(v[8], "tk bg9", "tinted as the innermost (shortest) span");
    assert_eq!(v[9], true, "the speaker column is shown");
    assert_eq!(
        wd.legend().await,
        BTreeMap::from([
            ("Doubt".to_string(), 1),
            ("Loaded_Language".to_string(), 1),
            ("Name_Calling,Labeling".to_string(), 1)
        ])
    );
    let tip = wd
        .js(
            "const l = document.querySelectorAll('#doc .lab')[1]; l.focus(); \
             const t = document.getElementById('tip'); return [t.hidden, t.textContent];",
            json!([]),
        )
        .await;
    assert_eq!(tip[0], false, "tooltip shown on focus");
    let tip = tip[1].as_str().unwrap();
    assert!(
        tip.contains("2. Loaded_Language")
            && tip.contains("Speaker: <Senator> (quoted)")
            && tip.contains(loaded.definition()),
        "{tip}"
    );
    // Hiding Name_Calling hides its bars and tints "traitors" as Loaded_Language.
    wd.click("#legend button[data-technique=\"Name_Calling,Labeling\"]")
        .await;
    let v = wd
        .js(
            "const d = document.getElementById('doc'); \
             const tr = Array.from(d.querySelectorAll('.tk')).find(t => t.firstChild.textContent === 'traitors'); \
             return [Array.from(d.querySelectorAll('.bar.t9')).every(b => getComputedStyle(b).display === 'none'), \
                     tr.className];",
            json!([]),
        )
        .await;
    assert_eq!(v, json!([true, "tk bg8"]));
    wd.screenshot(&shots.join("rhetor-html-overlap.png")).await;

    // An article full of markup: shown as text, nothing runs.
    let evil =
        "<img src=x onerror=\"window.__pwned=1\"> Breaking: <script>window.__pwned=2</script> \
                news </script><!-- <b onmouseover=\"window.__pwned=3\">shameful</b>";
    let n = evil.chars().count();
    let a = analysis(evil, &[(0, 40, loaded), (30, n, name)]);
    open_page(wd, dir, "evil.html", &a).await;
    wd.wait(
        "the markup page",
        "return document.querySelectorAll('#legend button').length === 2;",
    )
    .await;
    assert_eq!(
        wd.pwned().await,
        json!([null, 0]),
        "nothing from the article ran"
    );
    assert_eq!(wd.shown_text().await, evil, "markup shown as text");

    // No spans: the legend says so, no table.
    open_page(wd, dir, "empty.html", &analysis("Nothing here.", &[])).await;
    let v = wd
        .js(
            "return [document.getElementById('legend').textContent, \
                     document.getElementById('spans').hidden];",
            json!([]),
        )
        .await;
    assert_eq!(v, json!(["No propaganda techniques found.", true]));

    fits_a_phone(
        wd,
        &format!("file://{}", dir.join("article.html").display()),
    )
    .await;
    Ok(())
}

async fn run_scenario(wd: &Wd, s: &TestServer, shots: &Path) -> Result<(), String> {
    // First paint.
    wd.goto(&s.url("/")).await;
    wd.wait("the page", "return document.readyState === 'complete';")
        .await;
    let fcp = wd
        .js(
            "const p = performance.getEntriesByName('first-contentful-paint')[0]; \
             return p ? p.startTime : null;",
            json!([]),
        )
        .await;
    if let Some(ms) = fcp.as_f64() {
        eprintln!("first contentful paint: {ms:.0} ms");
        assert!(ms < 1000.0, "first paint took {ms} ms");
    }

    // Paste an article, name the outlet by typing, analyse.
    let text = article("9001");
    wd.js(PASTE, json!([text])).await;
    wd.type_into("#source", "PTC test set").await;
    wd.click("#analyze-btn").await;
    wd.wait(
        "the analysis",
        "return document.querySelectorAll('#legend button').length > 0;",
    )
    .await;

    let r = client()
        .post(s.url("/api/analyze"))
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap();
    let api: Value = r.json().await.unwrap();
    let want = counts(&api);
    assert!(!want.is_empty());
    assert_eq!(wd.legend().await, want, "legend counts = API counts");
    assert_eq!(wd.labels().await, want, "one highlighted span per API span");
    assert_eq!(
        wd.shown_text().await,
        text,
        "the article is shown unchanged"
    );
    let density = wd
        .js(
            "return document.getElementById('r-density').textContent;",
            json!([]),
        )
        .await;
    assert_eq!(
        density,
        json!(format!(
            "{:.1}%",
            api["article"]["density"].as_f64().unwrap() * 100.0
        ))
    );
    wd.screenshot(&shots.join("rhetor-e2e-analysis.png")).await;

    // Hover/focus: the tooltip names the technique and gives its definition.
    let tip = wd
        .js(
            "const l = document.querySelector('#doc .lab'); l.focus(); \
             const t = document.getElementById('tip'); \
             return [l.dataset.technique, t.hidden, t.textContent, Number(l.dataset.span)];",
            json!([]),
        )
        .await;
    let tech = tip[0].as_str().unwrap();
    let def = rhetor::Technique::ALL
        .iter()
        .find(|t| t.name() == tech)
        .unwrap()
        .definition();
    assert_eq!(tip[1], false, "tooltip shown on focus");
    let tip_text = tip[2].as_str().unwrap();
    assert!(
        tip_text.contains(tech) && tip_text.contains(def) && tip_text.contains("confidence"),
        "{tip_text}"
    );
    // Who speaks, once the analysis says (attribution): `"author"` or `{"quoted": NAME}`.
    let voice = &api["spans"][tip[3].as_u64().unwrap() as usize]["voice"];
    if let Some(name) = voice["quoted"].as_str() {
        assert!(
            tip_text.contains(&format!("Speaker: {name} (quoted)")),
            "{tip_text}"
        );
    } else if voice == "author" {
        assert!(tip_text.contains("Speaker: the author"), "{tip_text}");
    }
    // The article view lists the technique spans per voice kind when attribution ran.
    let kinds = wd
        .js(
            "const b = document.getElementById('r-voices'); \
             return [b.hidden, Array.from(b.querySelectorAll('tr[data-kind]')).map(r => r.dataset.kind)];",
            json!([]),
        )
        .await;
    let want_kinds: Vec<&String> = api["voices"]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(kinds[0], want_kinds.is_empty(), "{kinds}");
    let mut got: Vec<&str> = kinds[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, want_kinds, "{kinds}");

    // Toggle the most frequent technique off.
    let (top, _) = want.iter().max_by_key(|(_, n)| **n).unwrap();
    let sel = format!("#legend button[data-technique=\"{top}\"]");
    wd.click(&sel).await;
    let state = wd
        .js(
            "const b = document.querySelector(arguments[0]); \
             const t = arguments[1]; \
             const bars = Array.from(document.querySelectorAll('#doc .bar')); \
             const mine = bars.filter(x => x.querySelector('.lab') && x.querySelector('.lab').dataset.technique === t); \
             const others = bars.filter(x => x.querySelector('.lab') && x.querySelector('.lab').dataset.technique !== t); \
             return [b.getAttribute('aria-pressed'), \
                     mine.every(x => getComputedStyle(x).display === 'none'), \
                     others.filter(x => getComputedStyle(x).display !== 'none').length, mine.length];",
            json!([sel, top]),
        )
        .await;
    assert_eq!(
        state[0], "false",
        "legend button shows the technique is off"
    );
    assert_eq!(state[1], true, "the technique's highlights are hidden");
    assert_eq!(state[3], want[top], "all its spans were found");
    let others: u64 = want.iter().filter(|(k, _)| *k != top).map(|(_, n)| n).sum();
    assert_eq!(state[2], others, "the other techniques stay visible");
    wd.screenshot(&shots.join("rhetor-e2e-toggled.png")).await;
    wd.click(&sel).await;
    let on = wd
        .js(
            "return document.querySelector(arguments[0]).getAttribute('aria-pressed');",
            json!([sel]),
        )
        .await;
    assert_eq!(on, "true");

    // Permalink of the saved analysis.
    let href = wd
        .js(
            "const a = document.getElementById('r-permalink'); return a.hidden ? null : a.getAttribute('href');",
            json!([]),
        )
        .await;
    let href = href.as_str().ok_or("no permalink shown")?.to_string();
    wd.goto(&s.url(&href)).await;
    wd.wait(
        "the permalink page",
        "return document.querySelectorAll('#legend button').length > 0;",
    )
    .await;
    assert_eq!(wd.legend().await, want, "permalink shows the same analysis");
    let meta = wd
        .js(
            "return document.getElementById('r-meta').textContent;",
            json!([]),
        )
        .await;
    assert!(meta.as_str().unwrap().contains("PTC test set"), "{meta}");

    // An article full of markup: shown as text, nothing runs, on every page that shows it.
    let evil = "<img src=x onerror=\"window.__pwned=1\"> Breaking: <script>window.__pwned=2</script> news\n\n\
                They are a gang of traitors and cowards, <b onmouseover=\"window.__pwned=3\">shameful</b> \
                liars who betrayed the nation. <svg onload=\"window.__pwned=4\"></svg> Take back our \
                streets! <iframe src=\"javascript:window.__pwned=5\"></iframe> &amp; &lt;done&gt;\n";
    wd.goto(&s.url("/")).await;
    wd.wait("the page", "return document.readyState === 'complete';")
        .await;
    wd.js(PASTE, json!([evil])).await;
    wd.js(
        "document.getElementById('source').value = arguments[0]; return true;",
        json!(["<img src=x onerror=window.__pwned=6>"]),
    )
    .await;
    wd.click("#analyze-btn").await;
    wd.wait(
        "the analysis of the markup article",
        "return document.getElementById('r-title').textContent.includes('<script>');",
    )
    .await;
    assert_eq!(
        wd.pwned().await,
        json!([null, 0]),
        "nothing from the article ran"
    );
    assert_eq!(wd.shown_text().await, evil, "markup shown as text");
    let href = wd
        .js(
            "return document.getElementById('r-permalink').getAttribute('href');",
            json!([]),
        )
        .await;
    wd.goto(&s.url(href.as_str().unwrap())).await;
    wd.wait(
        "the markup article's permalink",
        "return document.getElementById('r-title').textContent.includes('<script>');",
    )
    .await;
    assert_eq!(wd.pwned().await, json!([null, 0]));

    // The archive: both articles listed, charts drawn.
    wd.goto(&s.url("/archive")).await;
    wd.wait(
        "the archive",
        "return document.querySelectorAll('#articles li').length === 2 && \
         document.querySelectorAll('#chart-tech .hb').length > 0 && \
         document.querySelectorAll('#chart-source .hb').length === 2;",
    )
    .await;
    assert_eq!(wd.pwned().await, json!([null, 0]));
    // Filter by technique in the form.
    wd.js(
        "document.getElementById('f-technique').value = arguments[0]; return true;",
        json!([top]),
    )
    .await;
    wd.click("#filters button[type=submit]").await;
    wd.wait(
        "the filtered list",
        "return /^\\d+ articles?$/.test(document.getElementById('a-count').textContent) && \
         document.querySelectorAll('#articles li').length >= 1;",
    )
    .await;
    wd.screenshot(&shots.join("rhetor-e2e-archive.png")).await;

    fits_a_phone(wd, &s.url(&href_of_first_article(s).await)).await;
    wd.screenshot(&shots.join("rhetor-e2e-phone.png")).await;
    Ok(())
}

async fn href_of_first_article(s: &TestServer) -> String {
    let v: Value = client()
        .get(s.url("/api/articles?per_page=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = v["articles"].as_array().unwrap().last().unwrap().clone();
    format!("/a/{}", last["id"])
}
