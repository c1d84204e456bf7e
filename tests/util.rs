//! What every integration test shares: running the binary, a temp directory per test, slices of a
//! PTC-layout corpus, and the needs (`require!`) of corpus-scale tests.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use rhetor_testkit::{fixtures, require};

/// Runs the built `rhetor` with `args`.
pub fn rhetor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rhetor"))
        .args(args)
        .output()
        .expect("run rhetor")
}

/// Runs the built `rhetor` with `args`, `input` on its stdin.
pub fn rhetor_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rhetor"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rhetor");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// The workspace root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `examples/sample-article.txt`.
pub fn sample() -> PathBuf {
    root().join("examples/sample-article.txt")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A path as the `&str` a command line takes.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A failed run: non-zero exit, one line on stderr containing `needle`.
pub fn assert_error(o: &Output, needle: &str) {
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

/// A temporary directory for one test, removed when dropped.
pub struct TestDir(tempfile::TempDir);

impl TestDir {
    pub fn new() -> TestDir {
        TestDir(tempfile::tempdir().expect("temp dir"))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes `contents` to `name` and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }
}

/// A corpus in PTC layout: a folder of `articleN.txt` and its technique labels.
pub struct Corpus {
    pub articles: PathBuf,
    pub labels: PathBuf,
}

impl Corpus {
    /// The real PTC train set in `dir` (`shared/data/ptc`).
    pub fn ptc(dir: &Path) -> Corpus {
        Corpus {
            articles: dir.join("train-articles"),
            labels: dir.join("train-task2-TC.labels"),
        }
    }

    /// The project's own fixture articles (`tests/fixtures/ptc`).
    pub fn fixtures() -> Corpus {
        Corpus {
            articles: fixtures().join("train-articles"),
            labels: fixtures().join("tc.labels"),
        }
    }
}

/// The first `n` articles of a corpus, copied into `dir/articles`, with their label rows in
/// `dir/labels.tsv`.
pub struct Slice {
    pub ids: Vec<String>,
    pub articles: PathBuf,
    pub labels: PathBuf,
    /// The label rows, one per line, as in the corpus.
    pub gold: String,
}

pub fn slice(dir: &TestDir, corpus: &Corpus, n: usize) -> Slice {
    let src = &corpus.articles;
    let articles = dir.join("articles");
    std::fs::create_dir(&articles).unwrap();
    let ids: Vec<String> = rhetor::corpus::list_articles(src)
        .unwrap()
        .into_iter()
        .take(n)
        .map(|a| a.0)
        .collect();
    for id in &ids {
        let f = format!("article{id}.txt");
        std::fs::copy(src.join(&f), articles.join(&f)).unwrap();
    }
    let gold: String = std::fs::read_to_string(&corpus.labels)
        .unwrap()
        .lines()
        .filter(|l| ids.iter().any(|i| l.split('\t').next() == Some(i.as_str())))
        .map(|l| format!("{l}\n"))
        .collect();
    let labels = dir.write("labels.tsv", &gold);
    Slice {
        ids,
        articles,
        labels,
        gold,
    }
}

/// Label rows with the technique replaced by `?` (the input of `rhetor classify`).
pub fn unlabelled(gold: &str) -> String {
    gold.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            format!("{}\t?\t{}\t{}\n", f[0], f[2], f[3])
        })
        .collect()
}
