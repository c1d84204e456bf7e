//! Killing the process (SIGKILL) in the middle of a stream of saves loses no save that had
//! returned, and leaves an archive that opens and passes SQLite's integrity check.
//!
//! The writer runs in a child process: this test binary itself, started on the `child_writer`
//! test with an environment variable that makes it write instead of returning at once. It prints
//! each id once `insert` has returned, as the server answers 201 only then.

use rhetor_store::{Archive, NewArticle, SqliteArchive};
use std::io::{BufRead as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_DB: &str = "RHETOR_DURABILITY_CHILD_DB";

const TEXT: &str = "They are a gang of traitors, the speaker said. This shameful, cowardly \
                    surrender must end now! Take back our streets. Everyone knows it.";

#[test]
fn child_writer() {
    // A no-op unless started by `killing_the_writer_loses_nothing_committed`.
    let Ok(db) = std::env::var(CHILD_DB) else {
        return;
    };
    let archive = SqliteArchive::open(Path::new(&db)).unwrap();
    let analysis = rhetor::Analyzer::load_fast()
        .unwrap()
        .analyze(TEXT)
        .unwrap();
    let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let (archive, analysis, out) = (archive.clone(), analysis.clone(), out.clone());
            std::thread::spawn(move || loop {
                let id = archive
                    .insert(&NewArticle::new(analysis.clone()).with_source(format!("writer {w}")))
                    .unwrap();
                let mut out = out.lock().unwrap();
                writeln!(out, "saved {id}").unwrap();
                out.flush().unwrap();
            })
        })
        .collect();
    for w in writers {
        let _ = w.join();
    }
}

#[test]
fn killing_the_writer_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("archive.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_writer", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, &db)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| l.strip_prefix("saved ").and_then(|n| n.parse::<i64>().ok()))
            .collect::<Vec<i64>>()
    });
    // Kill once saves are flowing: a fixed time after the first rows appear in the file.
    let started = Instant::now();
    loop {
        // Read-only: never creates the file before the child does.
        let rows =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| {
                    c.query_row("SELECT count(*) FROM articles", [], |r| r.get::<_, i64>(0))
                })
                .unwrap_or(0);
        if rows >= 3 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the child writer did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap(); // SIGKILL, mid-stream
    child.wait().unwrap();
    let saved = reader.join().unwrap();
    assert!(
        saved.len() >= 3,
        "too few saves before the kill: {}",
        saved.len()
    );

    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let archive = SqliteArchive::open(&db).unwrap();
    for id in &saved {
        let rec = archive.get(*id).unwrap();
        assert!(rec.is_some(), "article {id} was saved but is lost");
    }
    eprintln!(
        "{} saves returned before SIGKILL, all present after",
        saved.len()
    );
}
