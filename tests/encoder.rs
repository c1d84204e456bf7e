//! The accurate tier through the `rhetor` binary: the shipped encoder on fixture and real PTC
//! articles, the fast tier still one flag away, a corrupt encoder file, and fine-tuning steps with a
//! resume (on the fixtures, and on real articles when the corpus is there).

use crate::util::*;
use std::path::Path;

#[test]
fn accurate_is_the_default_and_fast_is_one_flag_away() {
    let sample = root().join("examples/sample-article.txt");
    let s = sample.to_str().unwrap();
    let acc = rhetor(&["analyze", "--format", "json", s]);
    assert!(acc.status.success(), "{}", stderr(&acc));
    let acc: serde_json::Value = serde_json::from_str(&stdout(&acc)).unwrap();
    assert!(
        acc["model"].as_str().unwrap().starts_with("accurate@"),
        "{}",
        acc["model"]
    );
    let fast = rhetor(&["analyze", "--model", "fast", "--format", "json", s]);
    assert!(fast.status.success(), "{}", stderr(&fast));
    let fast: serde_json::Value = serde_json::from_str(&stdout(&fast)).unwrap();
    assert!(fast["model"].as_str().unwrap().starts_with("fast@"));
    // Every span of the accurate tier slices the text at code points.
    let chars: Vec<char> = std::fs::read_to_string(&sample).unwrap().chars().collect();
    let spans = acc["spans"].as_array().unwrap();
    assert!(!spans.is_empty(), "the sample article has propaganda");
    for sp in spans {
        let (a, b) = (
            sp["start"].as_u64().unwrap() as usize,
            sp["end"].as_u64().unwrap() as usize,
        );
        assert!(a < b && b <= chars.len());
        assert_eq!(
            sp["snippet"].as_str().unwrap(),
            chars[a..b].iter().collect::<String>()
        );
    }
    let info = rhetor(&["model-info"]);
    let info: serde_json::Value = serde_json::from_str(&stdout(&info)).unwrap();
    assert_eq!(info["name"], "accurate");
}

/// `predict` and `classify` with the shipped accurate model on the first `n` articles of `corpus`;
/// returns the classified rows and the gold rows.
fn accurate_predict_and_classify(corpus: &Corpus, n: usize) -> (String, String) {
    let tmp = TestDir::new();
    let Slice {
        articles: dir,
        gold,
        ..
    } = slice(&tmp, corpus, n);
    let pred = tmp.join("pred.tsv");
    let o = rhetor(&["predict", "--articles", s(&dir), "--out", s(&pred)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = std::fs::read_to_string(&pred).unwrap();
    assert!(
        rows.lines().count() > 3,
        "some spans on {n} articles: {rows}"
    );
    // Classify the gold spans with the technique replaced by `?`: same rows, same order.
    let spans = unlabelled(&gold);
    let spans_path = tmp.write("spans.tsv", &spans);
    let out = tmp.join("tc.tsv");
    let o = rhetor(&[
        "classify",
        "--articles",
        s(&dir),
        "--spans",
        s(&spans_path),
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = std::fs::read_to_string(&out).unwrap();
    assert_eq!(got.lines().count(), spans.lines().count());
    for (g, s) in got.lines().zip(spans.lines()) {
        let (g, s): (Vec<&str>, Vec<&str>) = (g.split('\t').collect(), s.split('\t').collect());
        assert_eq!((g[0], g[2], g[3]), (s[0], s[2], s[3]));
        assert_ne!(g[1], "?");
    }
    (got, gold)
}

#[test]
fn accurate_predict_and_classify_on_fixture_articles() {
    accurate_predict_and_classify(&Corpus::fixtures(), 6);
}

#[test]
fn accurate_predict_and_classify_on_real_articles() {
    let ptc = require!(rhetor_testkit::ptc());
    let (got, gold) = accurate_predict_and_classify(&Corpus::ptc(&ptc), 3);
    // The shipped model has seen these articles: it must get most techniques right.
    let right = got
        .lines()
        .zip(gold.lines())
        .filter(|(a, b)| a.split('\t').nth(1) == b.split('\t').nth(1))
        .count();
    assert!(
        right * 2 > gold.lines().count(),
        "{right} of {}",
        gold.lines().count()
    );
}

#[test]
fn a_truncated_encoder_file_is_a_one_line_error() {
    let tmp = TestDir::new();
    let bytes = std::fs::read(root().join("models/accurate.rhn")).unwrap();
    let bad = tmp.write("cut.rhn", &bytes[..bytes.len() / 2]);
    let o = rhetor(&["analyze", "--model", bad.to_str().unwrap(), "-"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("truncated or corrupt"), "{err}");
}

/// Fine-tunes the base encoder (`scripts/fetch-encoder.sh`) one step on the first six articles of
/// `corpus`, resumes for a second, and runs the result.
fn encoder_trains_a_step_resumes_and_the_result_runs(base: &Path, corpus: &Corpus) {
    let tmp = TestDir::new();
    let Slice {
        articles: dir,
        labels,
        ..
    } = slice(&tmp, corpus, 6);
    let ckpt = tmp.join("ckpt");
    let out = tmp.join("tiny.rhn");
    let train = |steps: &str| {
        rhetor(&[
            "train",
            "--articles",
            dir.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
            "--encoder",
            base.to_str().unwrap(),
            "--holdout",
            "3",
            "--batch",
            "4",
            "--window",
            "64",
            "--max-steps",
            steps,
            "--checkpoints",
            ckpt.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let first = train("1");
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("step 1/1: loss"),
        "{}",
        stderr(&first)
    );
    assert!(ckpt.join("state.json").is_file());
    let second = train("2");
    let log = stderr(&second);
    assert!(second.status.success(), "{log}");
    assert!(
        log.contains("resumed from the checkpoint at step 1/2"),
        "{log}"
    );
    assert!(log.contains("step 2/2: loss"), "{log}");
    assert!(
        stdout(&second).contains("held-out fold (2 articles)"),
        "{}",
        stdout(&second)
    );
    // The tiny model loads and analyses (ensembled with the built-in fast model).
    let o = rhetor(&[
        "analyze",
        "--model",
        out.to_str().unwrap(),
        "--format",
        "json",
        root().join("examples/sample-article.txt").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["model"].as_str().unwrap().starts_with("accurate@"));
}

#[test]
fn encoder_trains_a_step_resumes_and_the_result_runs_on_fixture_articles() {
    let base = require!(rhetor_testkit::encoder_weights());
    encoder_trains_a_step_resumes_and_the_result_runs(&base, &Corpus::fixtures());
}

#[test]
fn encoder_trains_a_step_resumes_and_the_result_runs_on_real_articles() {
    let base = require!(rhetor_testkit::encoder_weights());
    let ptc = require!(rhetor_testkit::ptc());
    encoder_trains_a_step_resumes_and_the_result_runs(&base, &Corpus::ptc(&ptc));
}

/// A final model trained on every article takes its ensemble settings and calibration from a model
/// tuned on a held-out fold, and says so in its manifest; with a held-out fold of its own the flag
/// is refused.
#[test]
fn an_encoder_trained_on_everything_takes_settings_from_a_tuned_model() {
    let base = require!(rhetor_testkit::encoder_weights());
    let tmp = TestDir::new();
    let Slice {
        articles: dir,
        labels,
        ..
    } = slice(&tmp, &Corpus::fixtures(), 4);
    let out = tmp.join("all.rhn");
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--articles",
            dir.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
            "--encoder",
            base.to_str().unwrap(),
            "--batch",
            "4",
            "--window",
            "64",
            "--max-steps",
            "1",
            "--settings-from",
            "accurate",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        rhetor(&args)
    };
    let o = train(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let info = |model: &str| -> serde_json::Value {
        let o = rhetor(&["model-info", "--model", model]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let (mine, shipped) = (info(out.to_str().unwrap()), info("accurate"));
    assert!(shipped["calibration"].is_object());
    assert_eq!(mine["calibration"], shipped["calibration"]);
    assert_eq!(
        mine["scores"]["settings_holdout_si_f1"],
        shipped["scores"]["holdout_si_f1"]
    );
    assert!(mine["scores"].get("holdout_si_f1").is_none(), "{mine}");
    let on = mine["trained_on"].as_str().unwrap();
    assert!(
        on.contains("0 held out") && on.contains("settings and calibration from accurate"),
        "{on}"
    );
    // It runs.
    let o = rhetor(&[
        "analyze",
        "--model",
        out.to_str().unwrap(),
        "--format",
        "json",
        root().join("examples/sample-article.txt").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = train(&["--holdout", "2"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--settings-from"), "{}", stderr(&o));
}

#[test]
fn a_model_of_another_kind_format_or_version_is_refused_saying_what_to_do() {
    let tmp = TestDir::new();
    // The attribution model is a valid container, but not one `--model` can run.
    let att = root().join("crates/rhetor-attribution/model/attribution.bin");
    let o = rhetor(&["analyze", "--model", att.to_str().unwrap(), "-"]);
    assert_error(&o, "model of kind `attribution`");
    // Another container format (the version field of the header).
    let mut bytes = std::fs::read(root().join("models/fast.rhm")).unwrap();
    bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
    let old = tmp.write("old.rhm", &bytes);
    let o = rhetor(&["analyze", "--model", old.to_str().unwrap(), "-"]);
    assert_error(&o, "model format 1, this rhetor reads format 2; retrain it");
}

/// `tune --span-head` trains a span-level technique head over the encoder's span states on the
/// articles outside the held-out fold, then tunes the ensemble on the fold; `--settings-from`
/// trains it on every article and takes a tuned model's settings instead. The head is kept in the
/// model file, named in the manifest, and used by `classify`. Runs on the tiny encoder of the fuzz
/// seeds, so it needs no base weights.
#[test]
fn tune_trains_a_span_head_and_the_model_keeps_it() {
    let tmp = TestDir::new();
    let seed = std::fs::read(root().join("fuzz/seeds/model_accurate/tiny-file")).unwrap();
    let tiny = tmp.write("tiny.rhn", &seed[1..]);
    let Slice {
        articles: dir,
        labels,
        gold,
        ..
    } = slice(&tmp, &Corpus::fixtures(), 6);
    let (fold, all) = (tmp.join("fold.rhn"), tmp.join("all.rhn"));
    let tune = |extra: &[&str]| {
        let mut args = vec![
            "tune",
            "--model",
            s(&tiny),
            "--articles",
            s(&dir),
            "--labels",
            s(&labels),
            "--span-head",
        ];
        args.extend_from_slice(extra);
        rhetor(&args)
    };
    let o = tune(&["--holdout", "3", "--out", s(&fold)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("trained the span head"),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("held-out fold (2 articles)"),
        "{}",
        stdout(&o)
    );
    let info = |m: &Path| -> serde_json::Value {
        let o = rhetor(&["model-info", "--model", s(m)]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let on = info(&fold)["trained_on"].as_str().unwrap().to_string();
    assert!(on.contains("span head trained on 4 articles"), "{on}");
    // On every article, with the fold model's settings and calibration.
    let o = tune(&["--settings-from", s(&fold), "--out", s(&all)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (mine, from) = (info(&all), info(&fold));
    let on = mine["trained_on"].as_str().unwrap();
    assert!(on.contains("span head trained on 6 articles"), "{on}");
    assert!(on.contains("settings and calibration from"), "{on}");
    assert_eq!(mine["calibration"], from["calibration"]);
    // The head answers `classify`: with it the tiny model's techniques differ from without it.
    let spans = tmp.write("spans.tsv", unlabelled(&gold));
    let classify = |m: &Path| {
        let out = tmp.join("tc.tsv");
        let o = rhetor(&[
            "classify",
            "--model",
            s(m),
            "--articles",
            s(&dir),
            "--spans",
            s(&spans),
            "--out",
            s(&out),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(out).unwrap()
    };
    let (with, without) = (classify(&all), classify(&tiny));
    assert_eq!(with.lines().count(), without.lines().count());
    assert_ne!(with, without, "the span head changed no technique");
    // Neither fold nor source: refused with what to give.
    let o = tune(&[]);
    assert!(!o.status.success());
    let o = tune(&["--holdout", "3", "--settings-from", s(&fold)]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--settings-from"), "{}", stderr(&o));
}
