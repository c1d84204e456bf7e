//! Routes and handlers.

use crate::error::ApiError;
use crate::{assets, outlets, AppState};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rhetor_fetch::{Article, FetchError};
use rhetor_store::{ListFilter, NewArticle, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// Content Security Policy of every response: only the app's own scripts and styles run, so even
/// markup that slipped into a page could not execute (the UI never inserts text as HTML anyway).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub(crate) fn routes(state: AppState) -> Router {
    let body_limit = state.inner.config.max_body_bytes;
    Router::new()
        .route("/", get(assets::index))
        .route("/archive", get(assets::index))
        .route("/outlets", get(assets::index))
        .route("/a/{id}", get(assets::index))
        .route("/assets/app.js", get(assets::app_js))
        .route("/assets/app.css", get(assets::app_css))
        .route("/assets/spanview.js", get(assets::spanview_js))
        .route("/assets/spanview.css", get(assets::spanview_css))
        .route("/healthz", get(healthz))
        .route("/api/openapi.json", get(assets::openapi))
        .route("/api/techniques", get(techniques))
        .route("/api/analyze", axum::routing::post(analyze))
        .route("/api/articles", get(list_articles))
        .route(
            "/api/articles/{id}",
            get(get_article).delete(delete_article),
        )
        .route("/api/stats", get(stats))
        .route("/api/outlets/report", get(outlets::report))
        .route("/api/outlets/report.csv", get(outlets::report_csv))
        .route("/api/outlets/compare", get(outlets::compare))
        .route("/api/outlets/compare.csv", get(outlets::compare_csv))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), time_limit))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::internal("a handler panicked").into_response()
            },
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(state)
}

/// Runs analyses on blocking threads: at most `workers` at once, at most `max_queued` waiting.
pub(crate) struct Limiter {
    workers: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_queued: usize,
}

struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Limiter {
    pub(crate) fn new(workers: usize, max_queued: usize) -> Limiter {
        Limiter {
            workers: Arc::new(Semaphore::new(workers.max(1))),
            waiting: AtomicUsize::new(0),
            max_queued,
        }
    }

    /// Runs `f` on a blocking thread once a worker is free. The worker stays taken until `f`
    /// returns, even when the request is dropped meanwhile, so CPU use stays bounded.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        wait: Duration,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = match self.workers.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::Relaxed) >= self.max_queued {
                    self.waiting.fetch_sub(1, Ordering::Relaxed);
                    return Err(ApiError::unavailable(
                        "the server is busy (too many analyses waiting); try again shortly",
                    ));
                }
                let _waiting = Waiting(&self.waiting);
                match tokio::time::timeout(wait, self.workers.clone().acquire_owned()).await {
                    Ok(Ok(p)) => p,
                    Ok(Err(_)) => return Err(ApiError::unavailable("the server is stopping")),
                    Err(_) => return Err(ApiError::unavailable(
                        "the server is busy (no analysis worker free in time); try again shortly",
                    )),
                }
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        })
        .await
        .map_err(ApiError::internal)
    }
}

async fn time_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let limit = state.inner.config.request_timeout;
    let resp = match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::unavailable(format!(
            "the request took longer than {} s",
            limit.as_secs()
        ))
        .into_response(),
    };
    tracing::debug!(
        "{method} {path} -> {} in {:.1} ms",
        resp.status().as_u16(),
        started.elapsed().as_secs_f64() * 1e3
    );
    resp
}

async fn not_found(req: Request) -> ApiError {
    ApiError::not_found(format!("no such page: {}", req.uri().path()))
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
    )
}

async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let db = state.archive().clone();
    let n = tokio::task::spawn_blocking(move || db.count())
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| {
            tracing::error!("health check: archive: {e}");
            ApiError::unavailable("the archive is not readable")
        })?;
    Ok(Json(json!({
        "status": "ok",
        "model": state.inner.analyzer.model_name(),
        "articles": n,
        "version": env!("CARGO_PKG_VERSION"),
    })))
}

async fn techniques() -> Json<Vec<rhetor::render::TechniqueInfo>> {
    Json(rhetor::render::technique_list())
}

/// The body of `POST /api/analyze`: exactly one of `text`, `html` or `url`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnalyzeRequest {
    #[serde(default, deserialize_with = "string_not_null")]
    text: Option<String>,
    #[serde(default, deserialize_with = "string_not_null")]
    html: Option<String>,
    #[serde(default, deserialize_with = "string_not_null")]
    url: Option<String>,
    #[serde(default, deserialize_with = "string_not_null")]
    source: Option<String>,
    #[serde(default, deserialize_with = "string_not_null")]
    title: Option<String>,
    #[serde(default)]
    save: bool,
}

/// A field that may be left out but, when given, is a string: `null` is refused as the OpenAPI
/// document says, rather than read as absent.
fn string_not_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

fn json_rejection(r: JsonRejection) -> ApiError {
    let status = r.status();
    let reason = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is over the size limit".to_string(),
        _ => r.body_text(),
    };
    ApiError::new(status, reason)
}

fn fetch_error(e: FetchError) -> ApiError {
    match e {
        FetchError::BadUrl(m) | FetchError::Refused(m) => ApiError::unprocessable(m),
        e @ (FetchError::TooLarge(_) | FetchError::NotText(_) | FetchError::Extract(_)) => {
            ApiError::unprocessable(e.to_string())
        }
        e @ FetchError::Timeout(_) => ApiError::new(StatusCode::GATEWAY_TIMEOUT, e.to_string()),
        FetchError::Upstream(m) => ApiError::new(StatusCode::BAD_GATEWAY, m),
        e => ApiError::internal(e),
    }
}

/// An archive failure: logged, 500 without details.
pub(crate) fn store_error(e: StoreError) -> ApiError {
    ApiError::internal(e)
}

/// An optional short field: at most `max` characters as sent (as the OpenAPI document counts
/// them), then trimmed; blank is absent.
fn short(s: Option<String>, what: &str, max: usize) -> Result<Option<String>, ApiError> {
    match s {
        Some(s) if s.chars().count() > max => Err(ApiError::unprocessable(format!(
            "{what} is longer than {max} characters"
        ))),
        s => Ok(s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())),
    }
}

/// The first non-empty line, cut to 200 characters.
fn first_line(text: &str) -> Option<String> {
    let l = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(if l.chars().count() > 200 {
        format!("{}…", l.chars().take(199).collect::<String>())
    } else {
        l.to_string()
    })
}

async fn analyze(
    State(state): State<AppState>,
    body: Result<Json<AnalyzeRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(json_rejection)?;
    let inner = &state.inner;
    let cfg = &inner.config;
    let given = [req.text.is_some(), req.html.is_some(), req.url.is_some()]
        .iter()
        .filter(|&&b| b)
        .count();
    if given != 1 {
        return Err(ApiError::unprocessable(
            "give exactly one of \"text\", \"html\" or \"url\"",
        ));
    }
    let mut meta = Article::default();
    let mut url = None;
    let text = if let Some(text) = req.text {
        text
    } else {
        // HTML to extract the article from, with the page's address when known.
        let mut plain = String::new();
        let html = if let Some(html) = req.html {
            Some((html, None))
        } else {
            let u = req.url.unwrap_or_default();
            let fetched = inner.fetcher.fetch_page(&u).await.map_err(fetch_error)?;
            url = Some(fetched.url.to_string());
            if fetched.is_html {
                Some((fetched.body, url.clone()))
            } else {
                plain = fetched.body;
                None
            }
        };
        match html {
            Some((html, page_url)) => {
                meta = inner
                    .limiter
                    .run(cfg.queue_timeout, move || {
                        rhetor_fetch::extract(&html, page_url.as_deref())
                    })
                    .await?
                    .map_err(|e| ApiError::unprocessable(e.to_string()))?;
                meta.text()
            }
            None => plain,
        }
    };
    if text.len() > cfg.max_text_bytes {
        return Err(ApiError::too_large(format!(
            "the article is {} bytes, over the limit of {} bytes",
            text.len(),
            cfg.max_text_bytes
        )));
    }
    if text.trim().is_empty() {
        return Err(ApiError::unprocessable("empty text, nothing to analyse"));
    }
    if text.contains('\0') {
        return Err(ApiError::unprocessable(
            "the text contains NUL characters; rhetor reads plain text",
        ));
    }
    let source = short(req.source, "source", 200)?
        .or(meta.site_name.clone())
        .or_else(|| {
            url.as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| {
                    u.host_str()
                        .map(|h| h.trim_start_matches("www.").to_string())
                })
        });
    let title = short(req.title, "title", 500)?
        .or(meta.title.clone())
        .or_else(|| first_line(&text));

    let analyzer = inner.analyzer.clone();
    let analysis = inner
        .limiter
        .run(cfg.queue_timeout, move || analyzer.analyze(&text))
        .await?
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let density = analysis.density();

    let mut id = None;
    if req.save {
        let db = inner.archive.clone();
        let new = NewArticle {
            source: source.clone(),
            url: url.clone(),
            title: title.clone(),
            byline: meta.byline.clone(),
            published: meta.published.clone(),
            feed: None,
            analysis: analysis.clone(),
        };
        id = Some(
            tokio::task::spawn_blocking(move || db.insert(&new))
                .await
                .map_err(ApiError::internal)?
                .map_err(|e| {
                    tracing::error!("saving an analysis: {e:#}");
                    ApiError::unavailable("the archive could not save the analysis")
                })?,
        );
    }

    let mut out = serde_json::to_value(&analysis).map_err(ApiError::internal)?;
    if let Value::Object(m) = &mut out {
        m.insert(
            "article".into(),
            json!({
                "id": id,
                "permalink": id.map(|i| format!("/a/{i}")),
                "saved": id.is_some(),
                "source": source,
                "url": url,
                "title": title,
                "byline": meta.byline,
                "published": meta.published,
                "density": density,
            }),
        );
    }
    let mut resp = Json(out).into_response();
    if let Some(i) = id {
        *resp.status_mut() = StatusCode::CREATED;
        if let Ok(v) = HeaderValue::from_str(&format!("/api/articles/{i}")) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
    }
    Ok(resp)
}

/// Unknown parameters are refused (400), so that a typo is not silently ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    source: Option<String>,
    technique: Option<String>,
    q: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

pub(crate) fn technique_name(t: Option<String>) -> Result<Option<String>, ApiError> {
    // Given but empty is an unknown name too: the OpenAPI document lists the names.
    match t {
        None => Ok(None),
        Some(t) if rhetor::Technique::ALL.iter().any(|k| k.name() == t) => Ok(Some(t)),
        Some(t) => Err(ApiError::bad_request(format!(
            "unknown technique {t:?}; GET /api/techniques lists the names"
        ))),
    }
}

async fn list_articles(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let filter = ListFilter {
        source: q.source.filter(|s| !s.is_empty()),
        technique: technique_name(q.technique)?,
        q: q.q.filter(|s| !s.trim().is_empty()),
        since: None,
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(20),
    };
    if filter.page == 0 {
        return Err(ApiError::bad_request("pages are numbered from 1"));
    }
    if !(1..=100).contains(&filter.per_page) {
        return Err(ApiError::bad_request("per_page must be from 1 to 100"));
    }
    let db = state.archive().clone();
    let page = tokio::task::spawn_blocking(move || db.list(&filter))
        .await
        .map_err(ApiError::internal)?
        .map_err(store_error)?;
    Ok(Json(
        serde_json::to_value(page).map_err(ApiError::internal)?,
    ))
}

fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse::<i64>()
        .ok()
        .filter(|&i| i > 0)
        .ok_or_else(|| ApiError::not_found(format!("no article {id:?}: ids are positive numbers")))
}

/// The id of `/api/articles/{id}`. A path axum cannot decode (percent-encoded bytes that are not
/// UTF-8) names no article either: 404 in JSON like any other bad id, not axum's plain-text 400.
fn article_id(path: Result<Path<String>, PathRejection>) -> Result<i64, ApiError> {
    match path {
        Ok(Path(id)) => parse_id(&id),
        Err(e) => Err(ApiError::not_found(format!(
            "no article: {}; ids are positive numbers",
            e.body_text()
        ))),
    }
}

async fn get_article(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = article_id(id)?;
    let db = state.archive().clone();
    let rec = tokio::task::spawn_blocking(move || db.get(id))
        .await
        .map_err(ApiError::internal)?
        .map_err(store_error)?
        .ok_or_else(|| ApiError::not_found(format!("no article {id}")))?;
    let mut v = serde_json::to_value(rec).map_err(ApiError::internal)?;
    if let Value::Object(m) = &mut v {
        m.insert("permalink".into(), json!(format!("/a/{id}")));
    }
    Ok(Json(v))
}

async fn delete_article(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = article_id(id)?;
    let db = state.archive().clone();
    let deleted = tokio::task::spawn_blocking(move || db.delete(id))
        .await
        .map_err(ApiError::internal)?
        .map_err(store_error)?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no article {id}")))
    }
}

/// Unknown parameters are refused (400), so that a typo is not silently ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsQuery {
    source: Option<String>,
}

async fn stats(
    State(state): State<AppState>,
    query: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let db = state.archive().clone();
    let source = q.source.filter(|s| !s.is_empty());
    let s = tokio::task::spawn_blocking(move || db.stats(source.as_deref()))
        .await
        .map_err(ApiError::internal)?
        .map_err(store_error)?;
    Ok(Json(serde_json::to_value(s).map_err(ApiError::internal)?))
}
