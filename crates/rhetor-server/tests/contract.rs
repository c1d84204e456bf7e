//! The API holds to its OpenAPI document: schemathesis (from PyPI) runs every check and every phase
//! (coverage, fuzzing, and the stateful links: analyse and save, read, list, delete) against a
//! live server on loopback over the store's outlet fixture, at 100 examples per operation, and
//! must find nothing. `tests/contract/schemathesis.toml` says which parameters draw from the
//! fixture and the one operation whose remote-dependent answers count as accepted, with why.
//!
//! The seed is fixed so that a red run replays (`RHETOR_SCHEMATHESIS_SEED` picks another and
//! `RHETOR_SCHEMATHESIS_EXAMPLES` more cases; any failure found that way becomes a fix here). Skips with the reason when schemathesis is not
//! installed; under CI that is a failure (`.ci/run` installs the pinned version).

mod common;

#[path = "../../rhetor-store/tests/fixtures/outlets.rs"]
mod fixture;

use common::TestServer;
use std::path::PathBuf;
use std::process::Command;

const SEED: &str = "20261202";

/// What one schemathesis pass printed, and whether it passed.
struct Pass {
    ok: bool,
    text: String,
}

/// Runs schemathesis with the config file `config` (in `tests/contract/`) and `extra` arguments
/// against the server's document.
async fn pass(st: &std::path::Path, s: &TestServer, config: &str, extra: &[&str]) -> Pass {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/contract");
    let reports = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("schemathesis");
    let seed = std::env::var("RHETOR_SCHEMATHESIS_SEED").unwrap_or_else(|_| SEED.into());
    let examples = std::env::var("RHETOR_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "100".into());
    let mut cmd = Command::new(st);
    // schemathesis keeps a cache (the crashes it found, to replay first) in its working folder:
    // the build's, never the source tree.
    std::fs::create_dir_all(&reports).expect("the report folder");
    cmd.current_dir(&reports);
    cmd.arg("--config-file")
        .arg(dir.join(config))
        .args(["run", &s.url("/api/openapi.json"), "--checks", "all"])
        // One worker: with the seed fixed, the same cases in the same order on every run.
        .args([
            "--max-examples",
            &examples,
            "--workers",
            "1",
            "--seed",
            &seed,
        ])
        .args(["--no-color", "--report", "junit", "--report-dir"])
        .arg(&reports)
        .args(extra)
        .env("NO_COLOR", "1");
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("running schemathesis"))
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("generated") || l.contains("Tested:"))
        .map(str::trim)
        .collect();
    eprintln!("schemathesis ({config}): {}", summary.join("; "));
    Pass {
        ok: out.status.success(),
        text,
    }
}

/// The `N` of a `label N` or `label N/M` line of the summary.
fn count<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .map(str::trim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schemathesis_finds_no_contract_failure() {
    let Some(st) = rhetor_testkit::require(rhetor_testkit::schemathesis()) else {
        return;
    };
    let s = TestServer::start(|_| {}).await;
    let archive = s.archive();
    tokio::task::spawn_blocking(move || fixture::load(&*archive))
        .await
        .unwrap();

    // The outlet operations, valid data naming the fixture's outlets and days: first, while the
    // fixture is whole (the stateful phase of the next pass deletes articles).
    let outlets = pass(
        &st,
        &s,
        "outlets.toml",
        &[
            "--include-path-regex",
            "^/api/outlets/",
            "--mode",
            "positive",
            "--phases",
            "coverage,fuzzing",
        ],
    )
    .await;
    // Every operation, positive and negative data, every phase.
    let all = pass(&st, &s, "schemathesis.toml", &[]).await;
    s.stop().await;
    for (name, p) in [
        ("every operation", &all),
        ("the outlet operations", &outlets),
    ] {
        assert!(
            p.ok,
            "schemathesis found contract failures in {name}:\n{}",
            p.text
        );
    }
    // Every operation schemathesis found in the document was selected and tested.
    let selected = count(&all.text, "Selected:").expect("a Selected: line");
    let (chosen, found) = selected.split_once('/').expect("Selected: N/M");
    assert_eq!(chosen, found, "operations left out: {selected}");
    assert_eq!(count(&all.text, "Tested:"), Some(chosen), "{}", all.text);
    assert!(chosen.parse::<usize>().unwrap() >= 11, "{selected}");
    assert_eq!(
        count(&outlets.text, "Tested:"),
        Some("4"),
        "{}",
        outlets.text
    );
    // The fixture's outlets were reached: some reports counted articles.
    assert!(
        !outlets.text.contains("Missing test data"),
        "the outlet pass kept missing the fixture:\n{}",
        outlets.text
    );
}
