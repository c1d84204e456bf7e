//! End-to-end tests of the `rhetor` binary: the real executable, real PTC articles, temp dirs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rhetor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rhetor"))
        .args(args)
        .output()
        .expect("run rhetor")
}

fn ptc() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ptc");
    assert!(
        p.is_dir(),
        "{} is needed (see shared/README.md)",
        p.display()
    );
    p
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sample-article.txt")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failed run: non-zero exit, one line on stderr containing `needle`.
fn assert_error(o: &Output, needle: &str) {
    assert!(
        !o.status.success(),
        "expected failure, got success: {}",
        stdout(o)
    );
    let err = stderr(o);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one-line error expected: {err}"
    );
    assert!(err.starts_with("rhetor: error: "), "{err}");
    assert!(err.contains(needle), "{needle:?} not in {err:?}");
}

#[test]
fn analyze_json_spans_slice_the_text_by_code_points() {
    let o = rhetor(&["analyze", "--format", "json", sample().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["schema_version"], 1);
    let text = std::fs::read_to_string(sample()).unwrap();
    let chars: Vec<char> = text.chars().collect();
    assert_eq!(v["length"].as_u64().unwrap() as usize, chars.len());
    let spans = v["spans"].as_array().unwrap();
    assert!(
        !spans.is_empty(),
        "the default model finds nothing in a loaded sample"
    );
    let mut total = 0;
    for s in spans {
        let (a, b) = (
            s["start"].as_u64().unwrap() as usize,
            s["end"].as_u64().unwrap() as usize,
        );
        assert!(a < b && b <= chars.len());
        assert_eq!(
            s["snippet"].as_str().unwrap(),
            chars[a..b].iter().collect::<String>()
        );
        let c = s["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c));
        s["technique"]
            .as_str()
            .unwrap()
            .parse::<rhetor::Technique>()
            .unwrap();
        total += 1;
    }
    // Every span has a voice; the sample quotes a councilman's loaded words.
    assert!(
        spans
            .iter()
            .all(|s| s["voice"] == "author" || s["voice"]["quoted"].is_string()),
        "{v}"
    );
    assert!(
        spans
            .iter()
            .any(|s| s["voice"]["quoted"] == "Robert Haines"),
        "{v}"
    );
    let speakers = v["speakers"].as_array().unwrap();
    assert!(
        speakers
            .iter()
            .any(|sp| sp["name"] == "Robert Haines" && sp["id"].is_string()),
        "{v}"
    );
    let counted: u64 = v["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(counted, total);
}

#[test]
fn analyze_non_ascii_stdin_keeps_offsets() {
    let text = "Title 😀 中文\r\n\r\nThis corrupt, shameful regime of traitors 👎🏽 lies, e\u{301}lite cowards said.\n";
    let mut child = Command::new(env!("CARGO_BIN_EXE_rhetor"))
        .args(["analyze", "--format", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let chars: Vec<char> = text.chars().collect();
    for s in v["spans"].as_array().unwrap() {
        let (a, b) = (
            s["start"].as_u64().unwrap() as usize,
            s["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            s["snippet"].as_str().unwrap(),
            chars[a..b].iter().collect::<String>()
        );
    }
    assert_eq!(
        v["text"].as_str().unwrap(),
        text,
        "the text comes back unchanged, CRLF included"
    );
}

#[test]
fn analyze_formats_ptc_html_and_plain_text() {
    let f = sample();
    let f = f.to_str().unwrap();
    let ptc_rows = stdout(&rhetor(&["analyze", "--format", "ptc", "--id", "42", f]));
    for line in ptc_rows.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 4, "{line}");
        assert_eq!(fields[0], "42");
        fields[1].parse::<rhetor::Technique>().unwrap();
    }
    let html = stdout(&rhetor(&["analyze", "--format", "html", f]));
    assert!(
        html.starts_with("<!DOCTYPE html>") || html.starts_with("<!doctype html>"),
        "{}",
        &html[..50]
    );
    assert!(html.contains("Loaded_Language") || html.contains("Name_Calling"));
    let plain = rhetor(&["analyze", f]);
    assert!(plain.status.success());
    assert!(
        !stdout(&plain).contains('\u{1b}'),
        "piped output must have no escape codes"
    );
    let colored = rhetor(&["analyze", "--color", "always", f]);
    assert!(stdout(&colored).contains('\u{1b}'));
}

#[test]
fn bad_inputs_give_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bad.txt"), b"caf\xe9 au lait").unwrap();
    assert_error(
        &rhetor(&["analyze", d.join("bad.txt").to_str().unwrap()]),
        "not valid UTF-8 at byte 3",
    );
    std::fs::write(d.join("bin.txt"), b"\x7fELF\x02\x01\x01\x00\x00\x00").unwrap();
    assert_error(
        &rhetor(&["analyze", d.join("bin.txt").to_str().unwrap()]),
        "binary",
    );
    std::fs::write(d.join("empty.txt"), b"").unwrap();
    assert_error(
        &rhetor(&["analyze", d.join("empty.txt").to_str().unwrap()]),
        "empty input",
    );
    assert_error(
        &rhetor(&["analyze", d.join("missing.txt").to_str().unwrap()]),
        "missing.txt",
    );
    std::fs::write(d.join("big.txt"), "word ".repeat(3000)).unwrap();
    assert_error(
        &rhetor(&[
            "analyze",
            "--max-bytes",
            "1000",
            d.join("big.txt").to_str().unwrap(),
        ]),
        "over the limit",
    );
    let out = d.join("p.tsv");
    assert_error(
        &rhetor(&[
            "predict",
            "--articles",
            d.join("nope").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]),
        "nope",
    );
    // A truncated model file.
    let model =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/fast.rhm")).unwrap();
    std::fs::write(d.join("cut.rhm"), &model[..model.len() / 2]).unwrap();
    assert_error(
        &rhetor(&[
            "analyze",
            "--model",
            d.join("cut.rhm").to_str().unwrap(),
            sample().to_str().unwrap(),
        ]),
        "truncated",
    );
    // Labels: a row with a missing field, and an offset past the end of its article.
    let arts = ptc().join("train-articles");
    std::fs::write(
        d.join("short.tsv"),
        "111111111\t?\t10\t20\n111111111\t?\t30\t40\n111111111\t5\n",
    )
    .unwrap();
    assert_error(
        &rhetor(&[
            "classify",
            "--articles",
            arts.to_str().unwrap(),
            "--spans",
            d.join("short.tsv").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]),
        "short.tsv:3: expected 3 or 4 tab-separated fields, found 2",
    );
    std::fs::write(
        d.join("far.tsv"),
        "111111111\t?\t10\t20\n111111111\t?\t10\t999999\n",
    )
    .unwrap();
    assert_error(
        &rhetor(&[
            "classify",
            "--articles",
            arts.to_str().unwrap(),
            "--spans",
            d.join("far.tsv").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]),
        "far.tsv:2: span 10-999999 is past the end of article 111111111",
    );
    assert!(!out.exists(), "no output is written when the input is bad");
}

/// Trains a tiny model on a few real articles, then runs predict, classify and eval with it.
#[test]
fn train_predict_classify_eval_on_real_articles() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ptc = ptc();
    let arts = ptc.join("train-articles");
    let labels = ptc.join("train-task2-TC.labels");
    // Eight articles copied into their own folder, with their labels.
    let sub = d.join("arts");
    std::fs::create_dir(&sub).unwrap();
    let list: Vec<String> = rhetor::corpus::list_articles(&arts)
        .unwrap()
        .into_iter()
        .take(8)
        .map(|a| a.0)
        .collect();
    for id in &list {
        std::fs::copy(
            arts.join(format!("article{id}.txt")),
            sub.join(format!("article{id}.txt")),
        )
        .unwrap();
    }
    let gold: String = std::fs::read_to_string(&labels)
        .unwrap()
        .lines()
        .filter(|l| list.iter().any(|id| l.starts_with(&format!("{id}\t"))))
        .map(|l| format!("{l}\n"))
        .collect();
    let gold_path = d.join("gold.tsv");
    std::fs::write(&gold_path, &gold).unwrap();
    let model = d.join("tiny.rhm");
    let o = rhetor(&[
        "train",
        "--articles",
        sub.to_str().unwrap(),
        "--labels",
        gold_path.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--cv",
        "2",
        "--tagger-epochs",
        "10",
        "--classifier-epochs",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("2-fold CV"), "{}", stdout(&o));
    let info = stdout(&rhetor(&["model-info", "--model", model.to_str().unwrap()]));
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert!(info["scores"]["cv2_si_f1"].as_f64().is_some(), "{info}");

    let pred = d.join("pred.tsv");
    let o = rhetor(&[
        "predict",
        "--articles",
        sub.to_str().unwrap(),
        "--out",
        pred.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = rhetor::corpus::read_labels(&pred).unwrap();
    assert!(rows
        .iter()
        .all(|r| list.contains(&r.id) && r.technique.is_some()));

    // TC: the gold spans with `?`, classified back; same rows in the same order.
    let spans: String = gold
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            format!("{}\t?\t{}\t{}\n", f[0], f[2], f[3])
        })
        .collect();
    let spans_path = d.join("spans.tsv");
    std::fs::write(&spans_path, &spans).unwrap();
    let tc = d.join("tc.tsv");
    let o = rhetor(&[
        "classify",
        "--articles",
        sub.to_str().unwrap(),
        "--spans",
        spans_path.to_str().unwrap(),
        "--out",
        tc.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tc_rows = rhetor::corpus::read_labels(&tc).unwrap();
    let in_rows = rhetor::corpus::read_labels(&spans_path).unwrap();
    assert_eq!(tc_rows.len(), in_rows.len());
    for (a, b) in tc_rows.iter().zip(&in_rows) {
        assert_eq!((&a.id, a.span), (&b.id, b.span));
        assert!(a.technique.is_some());
    }
    // A model trained on these articles scores well above zero on them.
    let o = rhetor(&[
        "eval",
        "--gold",
        gold_path.to_str().unwrap(),
        "--pred",
        pred.to_str().unwrap(),
        "--tc",
        tc.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["tc"]["f1"].as_f64().unwrap() > 0.3, "{v}");
    assert!(v["si"]["f1"].as_f64().unwrap() > 0.1, "{v}");
}

#[test]
fn eval_prints_scores_and_table() {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("g.tsv");
    let p = dir.path().join("p.tsv");
    std::fs::write(&g, "1\tDoubt\t0\t59\n1\tDoubt\t0\t9\n1\tDoubt\t115\t150\n").unwrap();
    std::fs::write(
        &p,
        "1\tDoubt\t0\t50\n1\tDoubt\t0\t10\n1\tDoubt\t115\t167\n1\tDoubt\t161\t172\n",
    )
    .unwrap();
    let o = rhetor(&[
        "eval",
        "--gold",
        g.to_str().unwrap(),
        "--pred",
        p.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("SI   P 0.8070  R 0.9237  F1 0.8614"), "{out}");
    assert!(out.contains("FLC  P 0.8070  R 0.9237  F1 0.8614"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("Doubt")), "{out}");
    assert_error(
        &rhetor(&["eval", "--gold", g.to_str().unwrap()]),
        "nothing to score",
    );
}

#[test]
fn techniques_lists_all_fourteen() {
    let out = stdout(&rhetor(&["techniques"]));
    for t in rhetor::Technique::ALL {
        assert!(out.contains(t.name()) && out.contains(t.definition()));
    }
}

#[test]
fn closed_pipe_ends_quietly() {
    // `rhetor techniques | true`: the reader is gone before rhetor prints; no panic message.
    let mut child = Command::new(env!("CARGO_BIN_EXE_rhetor"))
        .arg("techniques")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}
