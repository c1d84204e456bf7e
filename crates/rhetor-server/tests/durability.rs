//! Killing the server (SIGKILL) in the middle of a stream of saves loses nothing it had answered
//! as saved, and leaves an archive that opens and passes SQLite's integrity check.
//!
//! The server runs in a child process: this test binary itself, started on the `child_server`
//! test with an environment variable that makes it serve instead of returning at once.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_DB: &str = "RHETOR_DURABILITY_CHILD_DB";
const CHILD_PORT_FILE: &str = "RHETOR_DURABILITY_CHILD_PORT_FILE";

#[test]
fn child_server() {
    // A no-op unless started by `killing_the_server_loses_nothing_committed`.
    let (Ok(db), Ok(port_file)) = (std::env::var(CHILD_DB), std::env::var(CHILD_PORT_FILE)) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let config = rhetor_server::Config {
            db_path: PathBuf::from(db),
            ..Default::default()
        };
        let state = rhetor_server::AppState::new(common::analyzer(), config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tmp = format!("{port_file}.tmp");
        std::fs::write(&tmp, port.to_string()).unwrap();
        std::fs::rename(&tmp, &port_file).unwrap();
        rhetor_server::serve(listener, state, std::future::pending())
            .await
            .unwrap();
    });
}

#[test]
fn killing_the_server_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("archive.db");
    let port_file = dir.path().join("port");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_server", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, &db)
        .env(CHILD_PORT_FILE, &port_file)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let port: u16 = loop {
        if let Ok(s) = std::fs::read_to_string(&port_file) {
            break s.trim().parse().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "child server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    };

    let rt = tokio::runtime::Runtime::new().unwrap();
    let saved: Vec<i64> = rt.block_on(async move {
        let url = format!("http://127.0.0.1:{port}/api/analyze");
        let text = common::article("9000001");
        let stop = Instant::now() + Duration::from_millis(1500);
        let mut writers = Vec::new();
        for w in 0..6 {
            let (url, text) = (url.clone(), text.clone());
            writers.push(tokio::spawn(async move {
                let client = common::client();
                let mut ids = Vec::new();
                let mut k = 0;
                loop {
                    k += 1;
                    let body = serde_json::json!({
                        "text": format!("{text}\n\nWriter {w}, save {k}."),
                        "save": true,
                        "source": format!("writer {w}"),
                    });
                    let Ok(r) = client.post(&url).json(&body).send().await else {
                        break; // the server is gone
                    };
                    if r.status() != 201 {
                        break;
                    }
                    let Ok(v) = r.json::<serde_json::Value>().await else {
                        break;
                    };
                    ids.push(v["article"]["id"].as_i64().unwrap());
                    if Instant::now() > stop + Duration::from_secs(30) {
                        break;
                    }
                }
                ids
            }));
        }
        tokio::time::sleep_until(stop.into()).await;
        child.kill().unwrap(); // SIGKILL, mid-stream
        child.wait().unwrap();
        let mut all = Vec::new();
        for w in writers {
            all.extend(w.await.unwrap());
        }
        all
    });
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
    let archive = rhetor_server::Db::open(&db).unwrap();
    for id in &saved {
        let rec = archive.get(*id).unwrap();
        assert!(
            rec.is_some(),
            "article {id} was answered as saved but is lost"
        );
    }
    eprintln!(
        "{} saves answered before SIGKILL, all present after",
        saved.len()
    );
}
