//! `rhetor batch`: record shapes, bad records, inputs (stdin, folders, WARC), CSV, resume after
//! `kill -9`, and the Spark example under PySpark local mode.

use crate::util::{rhetor, rhetor_stdin, s, stderr, stdout, TestDir};
use rhetor::records::{CsvRow, ErrorKind, OutputLine};
use rhetor_testkit::{fixture_article, require};
use std::io::Write as _;
use std::process::{Command, Stdio};

const IDS: [&str; 6] = ["9001", "9002", "9003", "9004", "9005", "9006"];

fn record(id: &str, text: &str) -> String {
    serde_json::json!({"id": id, "text": text, "outlet": "Fixture Daily"}).to_string() + "\n"
}

/// `n` records cycling through the fixture articles, ids `r0`, `r1`, ….
fn records(n: usize) -> String {
    let texts: Vec<String> = IDS.iter().map(|i| fixture_article(i)).collect();
    (0..n)
        .map(|i| record(&format!("r{i}"), &texts[i % texts.len()]))
        .collect()
}

fn lines(out: &str) -> Vec<OutputLine> {
    out.lines()
        .map(|l| OutputLine::parse(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn batch_writes_one_line_per_record_in_order_and_bad_records_get_their_kind() {
    let dir = TestDir::new();
    let mut input = records(4).into_bytes();
    input.extend_from_slice(b"this is not JSON\n");
    input.extend_from_slice(b"{\"id\": \"no-text\", \"url\": \"https://x.test/1\"}\n");
    input.extend_from_slice(b"{\"id\": \"bad-bytes\", \"text\": \"caf\xe9 \xff\"}\n");
    let big = "word ".repeat(4 << 20); // 20 MB
    input.extend_from_slice(record("huge", &big).as_bytes());
    input.extend_from_slice(record("empty", "").as_bytes());
    input.extend_from_slice(record("last", &fixture_article("9001")).as_bytes());
    let path = dir.write("in.jsonl", &input);
    let out = dir.join("out.jsonl");
    let o = rhetor(&["batch", s(&path), "--model", "fast", "--out", s(&out)]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "some records failed: {}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("10 records, 5 failed"),
        "{}",
        stderr(&o)
    );
    let got = lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(got.len(), 10);
    let kinds: Vec<Option<ErrorKind>> = got
        .iter()
        .map(|l| match l {
            OutputLine::Failed(f) => Some(f.error.kind),
            OutputLine::Analysed { .. } => None,
        })
        .collect();
    use ErrorKind::*;
    assert_eq!(
        kinds,
        [
            None,
            None,
            None,
            None,
            Some(BadJson),
            Some(MissingText),
            Some(InvalidUtf8),
            Some(TooLong),
            Some(Empty),
            None
        ]
    );
    let ids: Vec<Option<&str>> = got.iter().map(|l| l.id()).collect();
    assert_eq!(ids[..4], [Some("r0"), Some("r1"), Some("r2"), Some("r3")]);
    assert_eq!(ids[4], None, "a line that is not JSON has no id");
    assert_eq!(
        ids[5..],
        [
            Some("no-text"),
            Some("bad-bytes"),
            Some("huge"),
            Some("empty"),
            Some("last")
        ]
    );
    let OutputLine::Failed(f) = &got[4] else {
        unreachable!()
    };
    assert_eq!(f.line, Some(5), "it is named by its line");
    // Each analysis is the library's for the same text, with the passed-through field.
    let an = rhetor::Analyzer::load_fast().unwrap();
    for (l, text_id) in got[..4].iter().zip(IDS) {
        let OutputLine::Analysed { meta, analysis, .. } = l else {
            unreachable!()
        };
        assert_eq!(meta.outlet.as_deref(), Some("Fixture Daily"));
        assert_eq!(**analysis, an.analyze(&fixture_article(text_id)).unwrap());
    }

    // The same through stdin, to stdout: the same bytes.
    let piped = rhetor_stdin(&["batch", "--model", "fast"], &input);
    assert_eq!(piped.status.code(), Some(1));
    assert_eq!(stdout(&piped), std::fs::read_to_string(&out).unwrap());
    // --jobs 1 changes nothing but speed.
    let one = rhetor_stdin(&["batch", "-", "--model", "fast", "--jobs", "1"], &input);
    assert_eq!(one.stdout, piped.stdout);
}

#[test]
fn batch_csv_has_one_quoted_row_per_span_and_folders_are_read_by_file_name() {
    let dir = TestDir::new();
    let folder = crate::util::fixtures().join("train-articles");
    let o = rhetor(&["batch", s(&folder), "--model", "fast", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut r = csv::Reader::from_reader(o.stdout.as_slice());
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        rhetor::records::CSV_HEADER
    );
    let rows: Vec<CsvRow> = r.deserialize().map(|x| x.unwrap()).collect();
    let an = rhetor::Analyzer::load_fast().unwrap();
    let mut want = Vec::new();
    for id in IDS {
        let a = an.analyze(&fixture_article(id)).unwrap();
        for sp in &a.spans {
            want.push((format!("article{id}"), sp.start, sp.end, sp.snippet.clone()));
        }
    }
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.id.clone(), r.start, r.end, r.snippet.clone()))
        .collect();
    assert_eq!(got, want);
    assert!(rows
        .iter()
        .any(|r| r.snippet.contains('"') || r.snippet.contains(',')));
    assert!(rows
        .iter()
        .all(|r| r.voice == "author" || r.voice.starts_with("quoted(")));
    // Errors of a CSV run go to stderr, one line each.
    let bad = dir.write("bad.jsonl", "{\"id\":\"e\",\"text\":\"\"}\n");
    let o = rhetor(&["batch", s(&bad), "--model", "fast", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("rhetor: record e: empty: "),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        stdout(&o),
        "id,start,end,technique,confidence,voice,snippet\n"
    );
}

fn http_response(html: &str, ctype: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n{html}",
        html.len()
    )
    .into_bytes()
}

fn warc_record(kind: &str, uri: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Record-ID: <urn:uuid:{:08x}-0000-0000-0000-000000000000>\r\n\
         WARC-Date: 2024-01-01T00:00:00Z\r\nWARC-Target-URI: {uri}\r\n\
         Content-Type: application/http; msgtype=response\r\nContent-Length: {}\r\n\r\n",
        uri.len() * 7919 + body.len(),
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r.extend_from_slice(b"\r\n\r\n");
    r
}

fn page(title: &str, text: &str) -> String {
    let paras: String = text
        .split("\n\n")
        .skip(1)
        .map(|p| format!("<p>{}</p>\n", p.replace('&', "&amp;").replace('<', "&lt;")))
        .collect();
    format!(
        "<html><head><title>{title}</title></head><body><nav><a href=\"/\">Home</a></nav>\
         <article><h1>{title}</h1>{paras}</article><footer>(c) Fixture Daily</footer></body></html>"
    )
}

#[test]
fn batch_reads_one_record_per_html_response_of_a_warc_file() {
    let dir = TestDir::new();
    let mut warc = Vec::new();
    warc.extend(warc_record("warcinfo", "urn:x", b"software: test\r\n"));
    warc.extend(warc_record(
        "request",
        "https://news.test/a",
        b"GET /a HTTP/1.1\r\n\r\n",
    ));
    let a = page("Council votes on the budget", &fixture_article("9001"));
    warc.extend(warc_record(
        "response",
        "https://news.test/a",
        &http_response(&a, "text/html; charset=utf-8"),
    ));
    warc.extend(warc_record(
        "response",
        "https://news.test/logo.png",
        &http_response("PNG", "image/png"),
    ));
    let b = page("Senator warns", &fixture_article("9006"));
    warc.extend(warc_record(
        "response",
        "https://news.test/b",
        &http_response(&b, "text/html"),
    ));
    let plain = dir.write("crawl.warc", &warc);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&warc).unwrap();
    let gzipped = dir.write("crawl.warc.gz", gz.finish().unwrap());
    let mut outs = Vec::new();
    for input in [&plain, &gzipped] {
        let o = rhetor(&["batch", s(input), "--model", "fast"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let got = lines(&stdout(&o));
        assert_eq!(
            got.iter().map(|l| l.id().unwrap()).collect::<Vec<_>>(),
            ["https://news.test/a", "https://news.test/b"]
        );
        let OutputLine::Analysed { meta, analysis, .. } = &got[0] else {
            panic!("{:?}", got[0])
        };
        assert_eq!(meta.url.as_deref(), Some("https://news.test/a"));
        assert_eq!(meta.title.as_deref(), Some("Council votes on the budget"));
        // The extracted text is the article (the same extraction as URL ingestion), not the page.
        assert!(
            analysis.text.starts_with("Council votes on the budget"),
            "{}",
            analysis.text
        );
        assert!(!analysis.text.contains("Home") && !analysis.text.contains("(c)"));
        let OutputLine::Analysed { analysis: b, .. } = &got[1] else {
            panic!()
        };
        let last_sentence = "Both bills will be debated in committee next week.";
        assert!(fixture_article("9006").contains(last_sentence));
        assert!(b.text.contains(last_sentence), "{}", b.text);
        outs.push(o.stdout);
    }
    assert_eq!(outs[0], outs[1], "gzipped or not, the same records");
}

#[test]
fn batch_resumes_after_kill_9_with_every_record_exactly_once() {
    let dir = TestDir::new();
    let n = 3000;
    let input = dir.write("in.jsonl", records(n));
    let started = std::time::Instant::now();
    let whole = rhetor(&["batch", s(&input), "--model", "fast"]);
    // Kill moments are fractions of an uninterrupted run, so that a fast machine still kills
    // mid-run rather than after the end.
    let took = started.elapsed();
    assert!(whole.status.success(), "{}", stderr(&whole));
    let out = dir.join("out.jsonl");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_rhetor"))
            .args([
                "batch",
                s(&input),
                "--model",
                "fast",
                "--out",
                s(&out),
                "--resume",
            ])
            .args(["--commit-every", "97"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Kills at moments spread over the first 60% of a run (a different seed each run: the time in
    // nanoseconds).
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let mut kills = 0;
    for _ in 0..5 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait = took.mul_f64(0.05 + ((seed >> 33) % 1000) as f64 / 1000.0 * 0.55);
        let mut child = run();
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_some() {
            break; // finished before the kill
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        // Whatever is on disk: complete lines of the right records, in order, maybe a torn tail.
        let partial = std::fs::read_to_string(&out).unwrap_or_default();
        let done = partial
            .lines()
            .filter(|l| OutputLine::parse(l).is_ok())
            .count();
        assert!(done <= n);
    }
    let last = run().wait_with_output().unwrap();
    assert!(last.status.success(), "{}", stderr(&last));
    let text = std::fs::read_to_string(&out).unwrap();
    let got = lines(&text);
    let ids: Vec<String> = got.iter().map(|l| l.id().unwrap().to_string()).collect();
    assert_eq!(
        ids,
        (0..n).map(|i| format!("r{i}")).collect::<Vec<_>>(),
        "after {kills} kills"
    );
    assert_eq!(
        text.as_bytes(),
        whole.stdout.as_slice(),
        "the same bytes as one uninterrupted run"
    );
    assert!(
        !rhetor::resume::journal_path(&out).exists(),
        "the journal is removed at the end"
    );
    eprintln!("uninterrupted run {took:?}; killed {kills} times");
    assert!(kills >= 1, "the run was killed at least once");
    // Resuming a finished run adds nothing.
    let again = run().wait_with_output().unwrap();
    assert!(again.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), whole.stdout);
}

#[test]
fn batch_usage_errors_are_one_line() {
    let o = rhetor(&["batch", "--resume", "--model", "fast"]);
    assert_eq!(o.status.code(), Some(2), "--resume needs --out");
    let o = rhetor(&["batch", "/nonexistent/in.jsonl", "--model", "fast"]);
    crate::util::assert_error(&o, "/nonexistent/in.jsonl");
}

#[test]
fn spark_example_matches_single_machine_batch_output() {
    let python = require!(rhetor_testkit::pyspark());
    let dir = TestDir::new();
    let mut input = records(40);
    input.push_str(&record("empty", " "));
    let path = dir.write("in.jsonl", &input);
    let single = rhetor(&["batch", s(&path), "--model", "fast"]);
    assert_eq!(single.status.code(), Some(1), "{}", stderr(&single));
    let out = dir.join("spark-out");
    let o = Command::new(python)
        .arg(crate::util::root().join("examples/spark/rhetor_spark.py"))
        .args([
            "--rhetor",
            env!("CARGO_BIN_EXE_rhetor"),
            "--input",
            s(&path),
        ])
        .args([
            "--output",
            s(&out),
            "--model",
            "fast",
            "--partitions",
            "3",
            "--jobs",
            "1",
        ])
        .env("PYSPARK_SUBMIT_ARGS", "--master local[2] pyspark-shell")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mut parts: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("part-")
        })
        .collect();
    parts.sort();
    assert!(parts.len() >= 3, "{parts:?}");
    let spark: String = parts
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let spark: Vec<&str> = spark.lines().collect();
    let single = stdout(&single);
    let single: Vec<&str> = single.lines().collect();
    assert_eq!(spark.len(), 41);
    for (i, (a, b)) in spark.iter().zip(&single).enumerate() {
        assert_eq!(a, b, "record {i}");
    }
}
