//! The outlet view's endpoints: one outlet's report, two outlets side by side, and every table of
//! either as CSV. Thin: the parameters are checked here; the numbers are `rhetor-store`'s
//! ([`Archive::outlet_report`](rhetor_store::Archive::outlet_report)), and the CSV tables are
//! written from the same reports the JSON carries.

use crate::api::{store_error, technique_name};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rhetor_store::{is_date, outlet_csv, ListFilter, OutletQuery, OutletReport, OutletTable};
use serde_json::json;

/// Quoted speakers listed when `speakers` is not given.
const DEFAULT_SPEAKERS: usize = 10;
/// The most quoted speakers one report lists.
const MAX_SPEAKERS: usize = 100;

/// Every parameter of the four endpoints. Strings throughout, so that a bad value gets a reason
/// naming the parameter rather than a deserializer's message.
#[derive(Debug, Default)]
pub(crate) struct Params {
    outlet: Option<String>,
    a: Option<String>,
    b: Option<String>,
    from: Option<String>,
    to: Option<String>,
    technique: Option<String>,
    speakers: Option<String>,
    table: Option<String>,
}

/// A given, non-blank parameter.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn date(v: &Option<String>, name: &str) -> Result<Option<String>, ApiError> {
    match v.as_deref() {
        None => Ok(None),
        Some(d) if is_date(d) => Ok(Some(d.to_string())),
        Some(d) => Err(ApiError::bad_request(format!(
            "{name} must be a date YYYY-MM-DD, not {d:?}"
        ))),
    }
}

fn outlet(v: &Option<String>, name: &str) -> Result<String, ApiError> {
    match given(v) {
        Some(o) if o.chars().count() <= 200 => Ok(o.to_string()),
        Some(_) => Err(ApiError::bad_request(format!(
            "{name} is longer than 200 characters"
        ))),
        None => Err(ApiError::bad_request(format!(
            "name the outlet with {name}= (GET /api/stats lists them)"
        ))),
    }
}

/// The query of one outlet from the shared parameters.
fn query(outlet: String, p: &Params) -> Result<OutletQuery, ApiError> {
    let from = date(&p.from, "from")?;
    let to = date(&p.to, "to")?;
    // A range that ends before it starts is valid and empty: its report counts no article.
    let technique = technique_name(p.technique.clone())?
        .and_then(|t| rhetor::Technique::ALL.into_iter().find(|k| k.name() == t));
    let speakers = match p.speakers.as_deref() {
        None => DEFAULT_SPEAKERS,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_SPEAKERS).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "speakers must be a whole number from 1 to {MAX_SPEAKERS}, not {s:?}"
                ))
            })?,
    };
    Ok(OutletQuery {
        outlet,
        from,
        to,
        technique,
        speakers,
    })
}

fn table(p: &Params) -> Result<OutletTable, ApiError> {
    let names = || {
        OutletTable::ALL
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match given(&p.table) {
        None => Err(ApiError::bad_request(format!(
            "name the table with table= (one of {})",
            names()
        ))),
        Some(t) => OutletTable::from_name(t).ok_or_else(|| {
            ApiError::bad_request(format!("unknown table {t:?}; the tables are {}", names()))
        }),
    }
}

/// The reports of `queries`, in order; 404 for an outlet with no saved article at all (in any
/// range: an outlet that exists but has none in the range gets a report of zeros).
async fn reports(
    state: &AppState,
    queries: Vec<OutletQuery>,
) -> Result<Vec<OutletReport>, ApiError> {
    let db = state.archive().clone();
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(queries.len());
        for q in &queries {
            let report = db.outlet_report(q).map_err(store_error)?;
            // Only an empty report needs asking whether the outlet has articles outside the range.
            if report.articles == 0 {
                let any = ListFilter {
                    source: Some(q.outlet.clone()),
                    page: 1,
                    per_page: 1,
                    ..ListFilter::default()
                };
                if db.list(&any).map_err(store_error)?.total == 0 {
                    return Err(ApiError::not_found(format!(
                        "no saved article from the outlet {:?}",
                        q.outlet
                    )));
                }
            }
            out.push(report);
        }
        Ok(out)
    })
    .await
    .map_err(ApiError::internal)?
}

/// The parameters every outlet endpoint takes; each takes its own besides.
const SHARED: [&str; 4] = ["from", "to", "technique", "speakers"];

/// Reads the query string: only the parameters the endpoint documents (`own` and [`SHARED`]), each
/// at most once; anything else is a 400 naming it, so that a typo is not silently ignored.
fn params(query: Option<String>, own: &[&str]) -> Result<Params, ApiError> {
    let mut p = Params::default();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let known = own.contains(&k.as_ref()) || SHARED.contains(&k.as_ref());
        let slot = match k.as_ref() {
            "outlet" if known => &mut p.outlet,
            "a" if known => &mut p.a,
            "b" if known => &mut p.b,
            "from" => &mut p.from,
            "to" => &mut p.to,
            "technique" => &mut p.technique,
            "speakers" => &mut p.speakers,
            "table" if known => &mut p.table,
            _ => {
                let takes: Vec<&str> = own.iter().chain(SHARED.iter()).copied().collect();
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {k:?}; this endpoint takes {}",
                    takes.join(", ")
                )));
            }
        };
        if slot.replace(v.into_owned()).is_some() {
            return Err(ApiError::bad_request(format!("{k} is given twice")));
        }
    }
    Ok(p)
}

fn one(p: &Params) -> Result<Vec<OutletQuery>, ApiError> {
    Ok(vec![query(outlet(&p.outlet, "outlet")?, p)?])
}

fn two(p: &Params) -> Result<Vec<OutletQuery>, ApiError> {
    let a = outlet(&p.a, "a")?;
    let b = outlet(&p.b, "b")?;
    Ok(vec![query(a, p)?, query(b, p)?])
}

/// `GET /api/outlets/report`: one outlet's [`OutletReport`].
pub(crate) async fn report(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<OutletReport>, ApiError> {
    let p = params(query, &["outlet"])?;
    let mut r = reports(&state, one(&p)?).await?;
    Ok(Json(r.remove(0)))
}

/// `GET /api/outlets/compare`: two outlets over the same range and filter, `{"outlets": [a, b]}`.
pub(crate) async fn compare(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let p = params(query, &["a", "b"])?;
    let r = reports(&state, two(&p)?).await?;
    Ok(Json(json!({ "outlets": r })).into_response())
}

/// `GET /api/outlets/report.csv`: one table of one outlet.
pub(crate) async fn report_csv(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let p = params(query, &["outlet", "table"])?;
    let t = table(&p)?;
    let r = reports(&state, one(&p)?).await?;
    Ok(csv(t, &r))
}

/// `GET /api/outlets/compare.csv`: one table of two outlets, `outlet` the first column.
pub(crate) async fn compare_csv(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let p = params(query, &["a", "b", "table"])?;
    let t = table(&p)?;
    let r = reports(&state, two(&p)?).await?;
    Ok(csv(t, &r))
}

/// A file name's part for an outlet: ASCII letters and digits, other runs as one `-` (a header
/// value never carries what the client sent).
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    let out: String = out.chars().take(40).collect();
    if out.is_empty() {
        "outlet".into()
    } else {
        out
    }
}

fn csv(t: OutletTable, reports: &[OutletReport]) -> Response {
    let name = reports
        .iter()
        .map(|r| slug(&r.outlet))
        .collect::<Vec<_>>()
        .join("-vs-");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"rhetor-{name}-{}.csv\"", t.name()),
            ),
        ],
        outlet_csv(t, reports),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        let mut p = Params::default();
        for &(k, v) in pairs {
            let v = Some(v.to_string());
            match k {
                "from" => p.from = v,
                "to" => p.to = v,
                "technique" => p.technique = v,
                "speakers" => p.speakers = v,
                "table" => p.table = v,
                _ => panic!("{k}"),
            }
        }
        p
    }

    #[test]
    fn parameters_are_checked_and_named_in_the_reason() {
        let q = query(
            "X".into(),
            &p(&[("from", "2026-03-01"), ("to", "2026-03-31")]),
        )
        .unwrap();
        assert_eq!(q.from.as_deref(), Some("2026-03-01"));
        assert_eq!(q.speakers, DEFAULT_SPEAKERS);
        let q = query(
            "X".into(),
            &p(&[("from", "2026-04-01"), ("to", "2026-03-01")]),
        )
        .unwrap();
        assert_eq!(
            (q.from.as_deref(), q.to.as_deref()),
            (Some("2026-04-01"), Some("2026-03-01"))
        );
        let q = query("X".into(), &p(&[("technique", "Doubt"), ("speakers", "3")])).unwrap();
        assert_eq!(q.technique, Some(rhetor::Technique::Doubt));
        assert_eq!(q.speakers, 3);
        for (bad, says) in [
            (vec![("from", "2026-02-30")], "from must be a date"),
            (vec![("to", "March")], "to must be a date"),
            (vec![("technique", "Lies")], "unknown technique"),
            (vec![("technique", "")], "unknown technique"),
            (vec![("from", "")], "from must be a date"),
            (vec![("speakers", "")], "speakers must be"),
            (vec![("speakers", "0")], "speakers must be"),
            (vec![("speakers", "101")], "speakers must be"),
            (vec![("speakers", "-1")], "speakers must be"),
        ] {
            let e = query("X".into(), &p(&bad)).unwrap_err();
            assert_eq!(e.status, 400, "{bad:?}");
            assert!(e.reason.contains(says), "{bad:?}: {}", e.reason);
        }
        assert!(outlet(&None, "a").unwrap_err().reason.contains("a="));
        assert!(table(&p(&[("table", "x")]))
            .unwrap_err()
            .reason
            .contains("speakers"));
        assert_eq!(
            table(&p(&[("table", "weeks")])).unwrap(),
            OutletTable::Weeks
        );
    }

    #[test]
    fn only_the_documented_parameters_are_taken_once_each() {
        let q = |s: &str| Some(s.to_string());
        let p = params(
            q("outlet=Daily+Example&from=2026-03-01&speakers=3"),
            &["outlet"],
        )
        .unwrap();
        assert_eq!(p.outlet.as_deref(), Some("Daily Example"));
        assert_eq!(p.speakers.as_deref(), Some("3"));
        for (bad, own, says) in [
            ("outlet=X&a=Y", &["outlet"][..], "unknown parameter \"a\""),
            (
                "a=X&b=Y&table=weeks",
                &["a", "b"][..],
                "unknown parameter \"table\"",
            ),
            (
                "outlet=X&outlets=Y",
                &["outlet"][..],
                "unknown parameter \"outlets\"",
            ),
            (
                "outlet=X&outlet=Y",
                &["outlet"][..],
                "outlet is given twice",
            ),
        ] {
            let e = params(q(bad), own).unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.reason.contains(says), "{bad}: {}", e.reason);
        }
        assert!(params(None, &["outlet"]).unwrap().outlet.is_none());
    }

    #[test]
    fn file_names_keep_only_ascii_letters_and_digits() {
        assert_eq!(slug("Daily Example"), "daily-example");
        assert_eq!(slug("\"; rm -rf /\r\nX: y"), "rm-rf-x-y");
        assert_eq!(slug("Пра́вда"), "outlet");
    }
}
