//! The outlet view's API on both archives: a real server on loopback over a SQLite file, and over a
//! PostgreSQL database created for the test (skipped with the reason when no server answers, a
//! failure under CI). The archive holds the store's outlet fixture, whose numbers are worked out
//! by hand there; every JSON and CSV answer is checked against them and against the store's own
//! report, and every bad parameter gets 400 or 404 with a reason.

mod common;

#[path = "../../rhetor-store/tests/fixtures/outlets.rs"]
mod fixture;

use common::{client, TestServer};
use reqwest::StatusCode;
use rhetor_store::{outlet_csv, OutletQuery, OutletTable};
use serde_json::{json, Value};

/// Where the test's archive lives; kept until the test ends.
enum Db {
    Sqlite(tempfile::TempDir),
    Postgres(rhetor_testkit::TempDb),
}

impl Db {
    fn url(&self) -> String {
        match self {
            Db::Sqlite(d) => d.path().join("rhetor.db").display().to_string(),
            Db::Postgres(t) => t.url.clone(),
        }
    }
}

/// A server over the fixture archive.
async fn server(db: &Db) -> TestServer {
    let s = TestServer::start_db(&db.url(), |_| {}).await;
    let archive = s.archive();
    tokio::task::spawn_blocking(move || fixture::load(&*archive))
        .await
        .unwrap();
    s
}

async fn get(s: &TestServer, path: &str) -> (StatusCode, Value) {
    let r = client().get(s.url(path)).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get_text(s: &TestServer, path: &str) -> (StatusCode, String, String, String) {
    let r = client().get(s.url(path)).send().await.unwrap();
    let status = r.status();
    let header = |h: &str| {
        r.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (status, ct, cd, r.text().await.unwrap())
}

/// The store's own report of a query, as the server should answer it.
async fn store_report(s: &TestServer, q: OutletQuery) -> rhetor_store::OutletReport {
    let archive = s.archive();
    tokio::task::spawn_blocking(move || archive.outlet_report(&q).unwrap())
        .await
        .unwrap()
}

/// A report as a client reads it: through JSON text, as the answer came.
fn as_read(r: &rhetor_store::OutletReport) -> Value {
    serde_json::from_str(&serde_json::to_string(r).unwrap()).unwrap()
}

fn q(outlet: &str) -> OutletQuery {
    OutletQuery {
        outlet: outlet.into(),
        speakers: 10,
        ..OutletQuery::default()
    }
}

const DAILY: &str = "Daily%20Example";

async fn reports_match_the_hand_counts(db: Db) {
    let s = server(&db).await;

    let (st, r) = get(&s, &format!("/api/outlets/report?outlet={DAILY}")).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["outlet"], fixture::DAILY);
    assert_eq!(
        (
            &r["articles"],
            &r["words"],
            &r["spans"],
            &r["words_in_spans"]
        ),
        (&json!(3), &json!(28), &json!(7), &json!(15))
    );
    assert_eq!(r["spans_per_1000_words"], 250.0);
    assert_eq!(
        (&r["first_day"], &r["last_day"]),
        (&json!("2026-03-02"), &json!("2026-03-18"))
    );
    let weeks: Vec<(&str, i64, i64)> = r["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["week"].as_str().unwrap(),
                w["articles"].as_i64().unwrap(),
                w["spans"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        weeks,
        [
            ("2026-03-02", 2, 6),
            ("2026-03-09", 0, 0),
            ("2026-03-16", 1, 1)
        ]
    );
    let voices: Vec<(&str, i64)> = r["voices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["voice"].as_str().unwrap(), v["spans"].as_i64().unwrap()))
        .collect();
    assert_eq!(voices, [("author", 4), ("quoted", 3)]);
    let speakers: Vec<(&str, &str, i64)> = r["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["speaker"].as_str().unwrap(),
                v["kind"].as_str().unwrap(),
                v["spans"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        speakers,
        [("Mayor Smith", "person", 2), ("Officials", "group", 1)]
    );
    assert_eq!(r["techniques"].as_array().unwrap().len(), 14);
    // One source: the server answers the store's report, field for field.
    assert_eq!(r, as_read(&store_report(&s, q(fixture::DAILY)).await));

    // A date range and a technique filter: rates stay over every article of the range.
    let (st, r) = get(
        &s,
        &format!(
            "/api/outlets/report?outlet={DAILY}&from=2026-03-01&to=2026-03-10&technique=Slogans"
        ),
    )
    .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (&r["articles"], &r["words"], &r["spans"]),
        (&json!(2), &json!(22), &json!(2))
    );
    assert_eq!(r["technique"], "Slogans");
    assert_eq!(r["techniques"].as_array().unwrap().len(), 1);
    let (st, r) = get(
        &s,
        &format!("/api/outlets/report?outlet={DAILY}&speakers=1"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(r["speakers"].as_array().unwrap().len(), 1);

    // An outlet with no article in the range is a report of zeros, not an error.
    let (st, r) = get(
        &s,
        &format!("/api/outlets/report?outlet={DAILY}&from=2026-04-01"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!((&r["articles"], &r["spans"]), (&json!(0), &json!(0)));
    assert_eq!(r["weeks"], json!([]));
    // So is a range that ends before it starts.
    let (st, r) = get(
        &s,
        &format!("/api/outlets/report?outlet={DAILY}&from=2026-04-01&to=2026-03-01"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!((&r["articles"], &r["first_day"]), (&json!(0), &Value::Null));

    // Two side by side, over the same range.
    let (st, c) = get(
        &s,
        &format!("/api/outlets/compare?a={DAILY}&b=Gazette&to=2026-03-31"),
    )
    .await;
    assert_eq!(st, 200, "{c}");
    let both = c["outlets"].as_array().unwrap();
    assert_eq!(both.len(), 2);
    assert_eq!(both[0]["outlet"], fixture::DAILY);
    assert_eq!(both[1]["outlet"], fixture::GAZETTE);
    // The Gazette's undated article counts on the day it was saved, after the range.
    assert_eq!(
        (&both[1]["articles"], &both[1]["spans"]),
        (&json!(1), &json!(2))
    );
    let mut gq = q(fixture::GAZETTE);
    gq.to = Some("2026-03-31".into());
    assert_eq!(both[1], as_read(&store_report(&s, gq).await));
    s.stop().await;
}

async fn every_table_downloads_as_csv(db: Db) {
    let s = server(&db).await;
    let daily = store_report(&s, q(fixture::DAILY)).await;
    let gazette = store_report(&s, q(fixture::GAZETTE)).await;
    for table in OutletTable::ALL {
        let (st, ct, cd, body) = get_text(
            &s,
            &format!(
                "/api/outlets/report.csv?outlet={DAILY}&table={}",
                table.name()
            ),
        )
        .await;
        assert_eq!(st, 200, "{}: {body}", table.name());
        assert_eq!(ct, "text/csv; charset=utf-8");
        assert_eq!(
            cd,
            format!(
                "attachment; filename=\"rhetor-daily-example-{}.csv\"",
                table.name()
            )
        );
        assert_eq!(body, outlet_csv(table, std::slice::from_ref(&daily)));
        assert!(body.starts_with("outlet,"), "{body}");

        let (st, _, cd, body) = get_text(
            &s,
            &format!(
                "/api/outlets/compare.csv?a={DAILY}&b=Gazette&table={}",
                table.name()
            ),
        )
        .await;
        assert_eq!(st, 200);
        assert!(cd.contains("rhetor-daily-example-vs-gazette-"), "{cd}");
        assert_eq!(body, outlet_csv(table, &[daily.clone(), gazette.clone()]));
    }
    // Spot checks of the shapes against the hand counts.
    let (_, _, _, body) = get_text(
        &s,
        &format!("/api/outlets/report.csv?outlet={DAILY}&table=weeks"),
    )
    .await;
    assert_eq!(
        body,
        "outlet,week,articles,words,spans,spans_per_1000_words\n\
         Daily Example,2026-03-02,2,22,6,272.7273\n\
         Daily Example,2026-03-09,0,0,0,0.0000\n\
         Daily Example,2026-03-16,1,6,1,166.6667\n"
    );
    let (_, _, _, body) = get_text(
        &s,
        &format!("/api/outlets/report.csv?outlet={DAILY}&table=techniques"),
    )
    .await;
    assert_eq!(body.lines().count(), 15, "a header and the 14 techniques");
    s.stop().await;
}

async fn bad_parameters_get_reasons(db: Db) {
    let s = server(&db).await;
    for (path, want) in [
        ("/api/outlets/report", 400),
        ("/api/outlets/report?outlet=", 400),
        ("/api/outlets/report?outlet=Nobody", 404),
        (
            "/api/outlets/report?outlet=Daily%20Example&from=2026-02-30",
            400,
        ),
        (
            "/api/outlets/report?outlet=Daily%20Example&to=tomorrow",
            400,
        ),
        (
            "/api/outlets/report?outlet=Daily%20Example&technique=Lies",
            400,
        ),
        ("/api/outlets/report?outlet=Daily%20Example&speakers=0", 400),
        (
            "/api/outlets/report?outlet=Daily%20Example&speakers=101",
            400,
        ),
        (
            "/api/outlets/report?outlet=Daily%20Example&speakers=ten",
            400,
        ),
        ("/api/outlets/report.csv?outlet=Daily%20Example", 400),
        (
            "/api/outlets/report.csv?outlet=Daily%20Example&table=everything",
            400,
        ),
        ("/api/outlets/compare?a=Daily%20Example", 400),
        ("/api/outlets/report?outlet=Gazette&outlets=typo", 400),
        ("/api/outlets/report?outlet=Gazette&outlet=Gazette", 400),
        ("/api/outlets/compare?a=Gazette&b=Gazette&table=weeks", 400),
        ("/api/outlets/compare?a=Daily%20Example&b=Nobody", 404),
        ("/api/outlets/compare.csv?a=Daily%20Example&b=Gazette", 400),
        // Hostile outlet names are values, never SQL: no outlet matches them.
        ("/api/outlets/report?outlet=x%27%20OR%20%271%27%3D%271", 404),
        ("/api/outlets/report?outlet=%25", 404),
        (
            "/api/outlets/compare?a=Gazette&b=Gazette%22%3B%20DROP%20TABLE%20articles%3B--",
            404,
        ),
    ] {
        let (st, v) = get(&s, path).await;
        assert_eq!(st.as_u16(), want, "{path}: {v}");
        assert!(
            v["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{path}: no reason in {v}"
        );
    }
    // The hostile names changed nothing.
    let (st, r) = get(&s, "/api/outlets/report?outlet=Gazette").await;
    assert_eq!((st.as_u16(), &r["articles"]), (200, &json!(2)));
    s.stop().await;
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(super::Db::Sqlite(tempfile::tempdir().unwrap())).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(server) = rhetor_testkit::require(rhetor_testkit::postgres()) else {
                    return;
                };
                super::$name(super::Db::Postgres(server.create_db())).await
            })*
        }
    };
}

on_both!(
    reports_match_the_hand_counts,
    every_table_downloads_as_csv,
    bad_parameters_get_reasons,
);

/// The OpenAPI document describes the four endpoints, and its report schema names every field the
/// server answers (and requires them all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_outlet_endpoints() {
    let db = Db::Sqlite(tempfile::tempdir().unwrap());
    let s = server(&db).await;
    let (_, doc) = get(&s, "/api/openapi.json").await;
    for path in [
        "/api/outlets/report",
        "/api/outlets/report.csv",
        "/api/outlets/compare",
        "/api/outlets/compare.csv",
    ] {
        let op = &doc["paths"][path]["get"];
        assert!(op.is_object(), "{path} missing from OpenAPI");
        for status in ["200", "400", "404", "500", "503"] {
            assert!(op["responses"][status].is_object(), "{path}: no {status}");
        }
    }
    let schema = &doc["components"]["schemas"]["OutletReport"];
    let (_, r) = get(&s, &format!("/api/outlets/report?outlet={DAILY}")).await;
    let mut fields: Vec<&String> = r.as_object().unwrap().keys().collect();
    let mut described: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    let mut required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    fields.sort();
    described.sort();
    required.sort();
    assert_eq!(fields, described);
    assert_eq!(
        fields.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        required
    );
    for (list, item) in [
        ("techniques", &r["techniques"][0]),
        ("weeks", &r["weeks"][0]),
        ("voices", &r["voices"][0]),
        ("speakers", &r["speakers"][0]),
    ] {
        let props = &schema["properties"][list]["items"]["properties"];
        for k in item.as_object().unwrap().keys() {
            assert!(props[k].is_object(), "{list}.{k} not described");
        }
    }
    s.stop().await;
}
