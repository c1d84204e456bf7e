//! The `rhetor` commands end to end: analyze in every format, one-line errors, train → predict →
//! classify → eval on the fixture articles (and on real PTC articles when the corpus is there).

use crate::util::*;
use std::path::Path;
use std::process::Command;

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
        speakers.iter().any(|sp| sp["name"] == "Robert Haines"
            && sp["id"].is_string()
            && sp["kind"] == "person"),
        "{v}"
    );
    // Technique spans per voice kind add up to all spans.
    let by_kind: u64 = v["voices"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|c| c.as_object().unwrap().values())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(by_kind as usize, spans.len(), "{v}");
    assert!(v["voices"]["person"].is_object(), "{v}");
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
    let o = rhetor_stdin(&["analyze", "--format", "json", "-"], text.as_bytes());
    assert!(o.status.success(), "{}", stderr(&o));
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
    let dir = TestDir::new();
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
    let model = std::fs::read(root().join("models/fast.rhm")).unwrap();
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
    label_errors(d, &fixtures().join("train-articles"), "9001");
    assert!(!out.exists(), "no output is written when the input is bad");
}

/// Bad span rows for `classify`: a missing field, an offset past the end of article `id` of `arts`.
fn label_errors(d: &std::path::Path, arts: &std::path::Path, id: &str) {
    let out = d.join("labels-out.tsv");
    std::fs::write(
        d.join("short.tsv"),
        format!("{id}\t?\t10\t20\n{id}\t?\t30\t40\n{id}\t5\n"),
    )
    .unwrap();
    assert_error(
        &rhetor(&[
            "classify",
            "--articles",
            s(arts),
            "--spans",
            s(&d.join("short.tsv")),
            "--out",
            s(&out),
        ]),
        "short.tsv:3: expected 3 or 4 tab-separated fields, found 2",
    );
    std::fs::write(
        d.join("far.tsv"),
        format!("{id}\t?\t10\t20\n{id}\t?\t10\t999999\n"),
    )
    .unwrap();
    assert_error(
        &rhetor(&[
            "classify",
            "--articles",
            s(arts),
            "--spans",
            s(&d.join("far.tsv")),
            "--out",
            s(&out),
        ]),
        &format!("far.tsv:2: span 10-999999 is past the end of article {id}"),
    );
    assert!(!out.exists(), "no output is written when the spans are bad");
}

#[test]
fn label_errors_on_real_ptc() {
    let ptc = require!(rhetor_testkit::ptc());
    let dir = TestDir::new();
    label_errors(dir.path(), &ptc.join("train-articles"), "111111111");
}

/// Trains a tiny model on the first `n` articles of `corpus`, then runs predict, classify and eval
/// with it.
fn train_predict_classify_eval(corpus: &Corpus, n: usize) {
    let dir = TestDir::new();
    let Slice {
        ids: list,
        articles: sub,
        labels: gold_path,
        gold,
    } = slice(&dir, corpus, n);
    assert_eq!(list.len(), n);
    let model = dir.join("tiny.rhm");
    let o = rhetor(&[
        "train",
        "--articles",
        s(&sub),
        "--labels",
        s(&gold_path),
        "--out",
        s(&model),
        "--cv",
        "2",
        "--tagger-epochs",
        "10",
        "--classifier-epochs",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("2-fold CV"), "{}", stdout(&o));
    let info = stdout(&rhetor(&["model-info", "--model", s(&model)]));
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert!(info["scores"]["cv2_si_f1"].as_f64().is_some(), "{info}");

    let pred = dir.join("pred.tsv");
    let o = rhetor(&[
        "predict",
        "--articles",
        s(&sub),
        "--out",
        s(&pred),
        "--model",
        s(&model),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = rhetor::corpus::read_labels(&pred).unwrap();
    assert!(rows
        .iter()
        .all(|r| list.contains(&r.id) && r.technique.is_some()));

    // TC: the gold spans with `?`, classified back; same rows in the same order.
    let spans_path = dir.write("spans.tsv", unlabelled(&gold));
    let tc = dir.join("tc.tsv");
    let o = rhetor(&[
        "classify",
        "--articles",
        s(&sub),
        "--spans",
        s(&spans_path),
        "--out",
        s(&tc),
        "--model",
        s(&model),
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
        s(&gold_path),
        "--pred",
        s(&pred),
        "--tc",
        s(&tc),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["tc"]["f1"].as_f64().unwrap() > 0.3, "{v}");
    assert!(v["si"]["f1"].as_f64().unwrap() > 0.1, "{v}");
}

#[test]
fn train_predict_classify_eval_on_fixture_articles() {
    train_predict_classify_eval(&Corpus::fixtures(), 6);
}

#[test]
fn train_predict_classify_eval_on_real_articles() {
    let ptc = require!(rhetor_testkit::ptc());
    train_predict_classify_eval(&Corpus::ptc(&ptc), 8);
}

/// Self-training (`--unlabelled`, fold by fold under --cv) and distillation (`--silver-*`, labels a
/// teacher wrote, trained on and never scored) both train, say so in the manifest, and refuse
/// what would leak or clash.
#[test]
fn self_training_and_distillation_train_and_refuse_leaks() {
    let dir = TestDir::new();
    let Slice {
        articles: sub,
        labels,
        ..
    } = slice(&dir, &Corpus::fixtures(), 6);
    let fix = Corpus::fixtures().articles;
    let plain = dir.join("plain");
    let silver = dir.join("silver");
    std::fs::create_dir(&plain).unwrap();
    std::fs::create_dir(&silver).unwrap();
    for (k, id) in ["9001", "9002"].iter().enumerate() {
        let src = fix.join(format!("article{id}.txt"));
        std::fs::copy(&src, plain.join(format!("news-{k}.txt"))).unwrap();
        std::fs::copy(&src, silver.join(format!("article800{k}.txt"))).unwrap();
    }
    let quick = ["--tagger-epochs", "10", "--classifier-epochs", "2"];
    let train = |extra: &[&str], out: &Path| {
        let mut a = vec![
            "train",
            "--articles",
            s(&sub),
            "--labels",
            s(&labels),
            "--out",
            s(out),
        ];
        a.extend_from_slice(&quick);
        a.extend_from_slice(extra);
        rhetor(&a)
    };
    let trained_on = |m: &Path| {
        let info = stdout(&rhetor(&["model-info", "--model", s(m)]));
        let v: serde_json::Value = serde_json::from_str(&info).unwrap();
        v["trained_on"].as_str().unwrap().to_string()
    };
    let st = dir.join("st.rhm");
    let o = train(&["--cv", "2", "--unlabelled", s(&plain)], &st);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("2-fold CV"), "{}", stdout(&o));
    let on = trained_on(&st);
    assert!(on.contains("self-trained on 2 unlabelled articles"), "{on}");

    // Silver labels from a teacher: the tiny model above, on copies under new ids.
    let rows = dir.join("silver.tsv");
    let o = rhetor(&[
        "predict",
        "--model",
        s(&st),
        "--articles",
        s(&silver),
        "--out",
        s(&rows),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = dir.join("distilled.rhm");
    let o = train(
        &[
            "--holdout",
            "3",
            "--silver-articles",
            s(&silver),
            "--silver-labels",
            s(&rows),
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // 4 labelled articles trained on, 2 held out (and scored), and the 2 silver ones.
    assert!(
        stdout(&o).contains("held-out fold (2 articles)"),
        "{}",
        stdout(&o)
    );
    let on = trained_on(&d);
    assert!(on.starts_with("6 articles"), "{on}");

    // Such a model's decoding and calibration come from its held-out fold, and a final model
    // trained on every article takes them over.
    let info = |m: &Path| -> serde_json::Value {
        serde_json::from_str(&stdout(&rhetor(&["model-info", "--model", s(m)]))).unwrap()
    };
    let tuned = dir.join("tuned.rhm");
    let silver_args = ["--silver-articles", s(&silver), "--silver-labels", s(&rows)];
    let mut a = vec!["--holdout", "3", "--tune-decoding"];
    a.extend_from_slice(&silver_args);
    let o = train(&a, &tuned);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("cross-fitted"), "{}", stdout(&o));
    let t = info(&tuned);
    assert!(t["calibration"].is_object(), "{t}");
    assert!(t["scores"]["holdout_si_f1"].is_number(), "{t}");
    let fin = dir.join("final.rhm");
    let mut a = vec!["--settings-from", s(&tuned)];
    a.extend_from_slice(&silver_args);
    let o = train(&a, &fin);
    assert!(o.status.success(), "{}", stderr(&o));
    let f = info(&fin);
    assert_eq!(f["calibration"], t["calibration"]);
    assert_eq!(
        f["scores"]["settings_holdout_si_f1"],
        t["scores"]["holdout_si_f1"]
    );
    assert!(
        f["trained_on"]
            .as_str()
            .unwrap()
            .contains("decoding and calibration from"),
        "{f}"
    );
    // A fast model with no calibration cannot lend its settings.
    let o = train(&["--settings-from", s(&d)], &fin);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no calibration"), "{}", stderr(&o));

    // Refused: silver labels under --cv (their teacher saw every fold), an empty folder of
    // unlabelled articles, and a silver article that is also a labelled one.
    let o = train(
        &[
            "--cv",
            "2",
            "--silver-articles",
            s(&silver),
            "--silver-labels",
            s(&rows),
        ],
        &d,
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--cv"), "{}", stderr(&o));
    let empty = dir.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = train(&["--unlabelled", s(&empty)], &d);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no .txt files"), "{}", stderr(&o));
    let o = train(
        &[
            "--holdout",
            "3",
            "--silver-articles",
            s(&sub),
            "--silver-labels",
            s(&labels),
        ],
        &d,
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("both labelled and in --silver-articles"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn eval_prints_scores_and_table() {
    let dir = TestDir::new();
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

/// `bench` times both built-in tiers unless `--model` names one (load, throughput, p50 and p99
/// latency, attribution's share), and `--compare` says why the PyTorch peer did not run instead of
/// failing the run.
#[test]
fn bench_times_both_tiers_and_says_why_the_peer_did_not_run() {
    let arts = root().join("tests/fixtures/ptc/train-articles");
    let o = Command::new(env!("CARGO_BIN_EXE_rhetor"))
        .args([
            "bench",
            "--rounds",
            "2",
            "--articles",
            s(&arts),
            "--compare",
        ])
        .env("PEER_PYTHON", "/nonexistent/python")
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let fast = out.find("model           fast@").expect("the fast tier");
    let accurate = out
        .find("model           accurate@")
        .expect("the accurate tier");
    assert!(fast < accurate, "{out}");
    let latencies: Vec<(f64, f64)> = out
        .lines()
        .filter_map(|l| l.strip_prefix("latency         p50 "))
        .map(|l| {
            let (p50, rest) = l.split_once(" ms, p99 ").unwrap();
            let p99 = rest.split_once(" ms").unwrap().0;
            (p50.parse().unwrap(), p99.parse().unwrap())
        })
        .collect();
    assert_eq!(latencies.len(), 2, "{out}");
    for (p50, p99) in latencies {
        assert!(0.0 < p50 && p50 <= p99, "{out}");
    }
    // 6 articles, 2 rounds: 12 analyses a tier.
    assert!(out.contains("(one at a time, 12 analyses)"), "{out}");
    assert!(
        out.contains("peer            not run: bench/peer/run.sh failed"),
        "{out}"
    );
    // `--fast FILE` without `--model` is the accurate tier's partner; the fast tier runs alone.
    let o = rhetor(&[
        "bench",
        "--rounds",
        "1",
        "--articles",
        s(&arts),
        "--fast",
        s(&root().join("models/partner.rhm")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("model           accurate@"));
    let o = rhetor(&[
        "bench",
        "--rounds",
        "1",
        "--model",
        "fast",
        "--articles",
        s(&arts),
        "--compare",
        "/nonexistent/peer.sh",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains("accurate@"), "{out}");
    assert!(
        out.contains("not run: /nonexistent/peer.sh is not there"),
        "{out}"
    );
}

/// An error that names its cause says it once: "PATH: No such file…", not the cause twice.
#[test]
fn an_error_says_its_cause_once() {
    for args in [
        &["analyze", "/nonexistent/article.txt"][..],
        &["bench", "--articles", "/nonexistent/dir"],
        &["analyze", "--model", "/nonexistent/model.rhm", "-"],
    ] {
        let o = rhetor(args);
        assert!(!o.status.success());
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
        assert!(err.contains("/nonexistent/"), "{err}");
    }
}
