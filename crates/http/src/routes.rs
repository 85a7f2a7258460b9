//! The routes.

use std::{collections::HashMap, time::Instant};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State, rejection::QueryRejection},
    http::{HeaderValue, Method, StatusCode, Uri, header, request::Parts},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::get,
};
use bytes::Bytes;
use dotpha_domain::{TaskStatus, Timestamp, vocabulary::TaskFlag, vocabulary::TaskKind};
use dotpha_views::{
    ReadModel,
    evaluation::AssessmentFilter,
    query::{StatusFilter, TaskFilter, Tree},
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    AppState, LIVE_POLL, MAX_BODY_BYTES, MIN_POSITION_WAIT, access::Grant, error::ApiError,
};

/// The header naming the log position a read-model answer reflects.
pub const POSITION_HEADER: &str = "x-dotpha-position";

/// Every route this module serves, as (method, path); the OpenAPI document
/// must list exactly these (a test checks both ways).
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/"),
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/dashboard"),
    ("get", "/api/v1/cycles"),
    ("get", "/api/v1/tasks"),
    ("get", "/api/v1/tasks/{task_id}"),
    ("get", "/api/v1/tasks/{task_id}/history"),
    ("get", "/api/v1/units/{code}"),
    ("get", "/api/v1/cadres/{id}"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/cadres/{id}/assessments"),
    ("get", "/api/v1/periods"),
    ("get", "/api/v1/periods/{period}/assessments"),
    ("get", "/api/v1/periods/{period}/quota"),
    ("post", "/api/v1/submissions"),
    ("get", "/api/v1/submissions/{id}"),
    ("get", "/api/v1/log/verify"),
    ("get", "/api/v1/log/key"),
    ("get", "/api/v1/log/checkpoint"),
    ("get", "/api/v1/log/attestations"),
    ("get", "/api/v1/log/proof/inclusion"),
    ("get", "/api/v1/log/proof/consistency"),
    ("get", "/api/v1/live"),
];

/// Every route of the API and the page.
pub fn router(state: AppState) -> Router {
    let http_metrics = state.inner.http_metrics.clone();
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/dashboard", get(dashboard))
        .route("/api/v1/cycles", get(cycles))
        .route("/api/v1/tasks", get(tasks))
        .route("/api/v1/tasks/{task_id}", get(task))
        .route("/api/v1/tasks/{task_id}/history", get(history))
        .route("/api/v1/units/{code}", get(unit))
        .route("/api/v1/cadres/{id}", get(cadre))
        .route("/api/v1/me", get(me))
        .route("/api/v1/cadres/{id}/assessments", get(cadre_assessments))
        .route("/api/v1/periods", get(periods))
        .route(
            "/api/v1/periods/{period}/assessments",
            get(period_assessments),
        )
        .route("/api/v1/periods/{period}/quota", get(period_quota))
        .route(
            "/api/v1/submissions",
            axum::routing::post(crate::routes::act),
        )
        .route("/api/v1/submissions/{id}", get(receipt))
        .route("/api/v1/log/verify", get(verify))
        .route("/api/v1/live", get(live))
        .merge(crate::export::routes())
        .merge(crate::export_period::routes())
        .merge(crate::routes_log::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            http_metrics,
            crate::layers::measure,
        ))
        .fallback(|method: Method, State(state): State<AppState>| async move {
            crate::layers::unmatched(&state.inner.http_metrics, &method, StatusCode::NOT_FOUND);
            ApiError::not_found("no such route")
        })
        .method_not_allowed_fallback(|method: Method, State(state): State<AppState>| async move {
            let status = StatusCode::METHOD_NOT_ALLOWED;
            crate::layers::unmatched(&state.inner.http_metrics, &method, status);
            ApiError {
                status,
                code: "method_not_allowed",
                message: "this route does not take that method".into(),
            }
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(crate::layers::validators))
        // Outside every layer that can answer an error, inside compression
        // (it reads plain-text error bodies to keep their words).
        .layer(axum::middleware::from_fn(
            crate::contract_errors::json_errors,
        ))
        .layer(tower_http::compression::CompressionLayer::new().quality(
            tower_http::CompressionLevel::Precise(crate::answers::COMPRESSION_QUALITY as i32),
        ))
        .with_state(state)
}

pub(crate) type Params = HashMap<String, String>;

fn params(query: Result<Query<Params>, QueryRejection>) -> Result<Params, ApiError> {
    query
        .map(|q| q.0)
        .map_err(|e| ApiError::bad_request(format!("bad query string: {e}")))
}

/// A path parameter (`{task_id}`, `{code}`, ...) whose rejection (a
/// segment that is not UTF-8 once percent-decoded) is a JSON error like
/// every other, not axum's plain-text one.
pub(crate) struct Segment(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Segment, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(segment)) => Ok(Segment(segment)),
            Err(e) if e.status().is_client_error() => Err(ApiError {
                status: e.status(),
                code: "bad_request",
                message: e.body_text(),
            }),
            Err(e) => Err(ApiError::internal(e.body_text())),
        }
    }
}

fn slug_param(params: &Params, name: &str) -> Result<Option<String>, ApiError> {
    match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if dotpha_domain::Slug::parse(v).is_some() => Ok(Some(v.to_owned())),
        Some(v) => Err(ApiError::bad_request(format!(
            "{name}={v:?} is not a code (lowercase letters, digits, '-')"
        ))),
    }
}

pub(crate) fn number_param(params: &Params, name: &str) -> Result<Option<u64>, ApiError> {
    params
        .get(name)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("{name}={v:?} is not a whole number")))
        })
        .transpose()
}

/// The instant flags are judged at: now, or `?at=` (RFC 3339) to look at
/// the state as of another day.
fn now_ms(state: &AppState, params: &Params) -> Result<i64, ApiError> {
    match params.get("at") {
        Some(at) => Timestamp::parse(at)
            .map(|t| t.unix_millis())
            .ok_or_else(|| ApiError::bad_request(format!("at={at:?} is not an RFC 3339 instant"))),
        None => Ok(state.inner.clock.unix_millis()),
    }
}

/// What every read route starts from, the one preamble of them all: the
/// server's state, the query string, the token's grant when reads need one
/// (401 without a valid token), and the instant the answer is judged at
/// (`?at=`, else now). Also the request's URI, which names a kept answer.
pub(crate) struct Reading {
    pub(crate) state: AppState,
    pub(crate) params: Params,
    pub(crate) grant: Option<Grant>,
    pub(crate) now: i64,
    uri: Uri,
    /// What a kept answer is sent in (`Accept-Encoding`).
    encoding: crate::answers::Encoding,
}

impl FromRequestParts<AppState> for Reading {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Reading, ApiError> {
        let query = Query::<Params>::from_request_parts(parts, state).await;
        let params = params(query)?;
        let grant = state.inner.tokens.read_scope(&parts.headers)?.cloned();
        let now = now_ms(state, &params)?;
        Ok(Reading {
            state: state.clone(),
            params,
            grant,
            now,
            uri: parts.uri.clone(),
            encoding: crate::answers::Encoding::preferred(&parts.headers),
        })
    }
}

/// Whether an answer may be kept and served again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// Computed for every request (one task, a cadre, a history).
    No,
    /// Kept while the read model and the clock's flags stay put (answers
    /// that scan many tasks).
    Yes,
}

impl Reading {
    /// Answers `f` from the read model (see [`answer`]); `f` gets the read
    /// model and this request.
    async fn answer<T: Serialize + Send + 'static>(
        self,
        kept: Kept,
        f: impl FnOnce(&mut ReadModel, &Reading) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<Response, ApiError> {
        let keep = match kept {
            Kept::Yes => Keep::at(&self.uri, self.grant.as_ref(), self.now, self.encoding),
            Kept::No => Keep::No,
        };
        let (state, params) = (self.state.clone(), self.params.clone());
        answer(&state, &params, keep, move |rm| f(rm, &self)).await
    }

    /// Fails with 403 unless `unit` lies within the grant's unit (on the
    /// day judged, by the domain's [`dotpha_domain::UnitTree`]).
    fn check_within(&self, rm: &ReadModel, unit: &str) -> Result<(), ApiError> {
        if within(rm, self.grant.as_ref(), unit, self.now)? {
            Ok(())
        } else {
            Err(outside(self.grant.as_ref()))
        }
    }
}

fn tree(params: &Params) -> Result<Tree, ApiError> {
    match params.get("view").map(String::as_str) {
        None | Some("today") => Ok(Tree::Today),
        Some("as_was") => Ok(Tree::AsItWas),
        Some(other) => Err(ApiError::bad_request(format!(
            "view={other:?}: use today or as_was"
        ))),
    }
}

/// Whether an answer may be kept and served again (see `answers.rs`).
enum Keep {
    /// Computed for every request.
    No,
    /// Kept under `key`; `now` is the instant its flags are judged at;
    /// sent in `encoding`.
    Yes {
        key: String,
        now: i64,
        encoding: crate::answers::Encoding,
    },
}

impl Keep {
    /// Kept, for the request `uri` under `grant`, judged at `now`, sent in
    /// `encoding`.
    fn at(uri: &Uri, grant: Option<&Grant>, now: i64, encoding: crate::answers::Encoding) -> Keep {
        Keep::Yes {
            key: crate::answers::key(uri, grant.map(|g| g.unit.as_str())),
            now,
            encoding,
        }
    }
}

/// A JSON answer, as `Json` writes it, with `X-Dotpha-Position`.
fn json_answer(body: Bytes, position: u64) -> Response {
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    response
        .headers_mut()
        .insert(POSITION_HEADER, HeaderValue::from(position));
    response
}

/// Answers `f` from the read model with `X-Dotpha-Position`, first waiting
/// (up to five seconds) for `?min_position=`. The position and the answer
/// come from one snapshot of the read model.
async fn answer<T: Serialize + Send + 'static>(
    state: &AppState,
    params: &Params,
    keep: Keep,
    f: impl FnOnce(&mut ReadModel) -> Result<T, ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    let min_position = number_param(params, "min_position")?;
    if let Some(min) = min_position {
        let deadline = Instant::now() + MIN_POSITION_WAIT;
        loop {
            let position = state.read(|rm| Ok(rm.refresh()?.position)).await?;
            if position >= min || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
    let Keep::Yes { key, now, encoding } = keep else {
        let (position, body) = state
            .read(move |rm| {
                rm.snapshot(|rm| {
                    let position = rm.refresh()?.position;
                    let body = serde_json::to_vec(&f(rm)?).map_err(ApiError::internal)?;
                    Ok((position, body))
                })
            })
            .await?;
        return Ok(json_answer(body.into(), position));
    };
    let (file, observed) = state
        .read_file(|file, rm| Ok((file.to_owned(), rm.refresh()?.position)))
        .await?;
    let slot = state.inner.answers.slot(key);
    let current = |slot: &crate::answers::SlotInner| {
        slot.kept()
            .filter(|kept| kept.serves(&file, observed, now))
            .map(|kept| kept.response(encoding, POSITION_HEADER))
    };
    if let Some(response) = current(&slot) {
        return Ok(response);
    }
    // Whoever holds `computing` computes the slot's next answer. A request
    // whose kept answer may still serve (recent, at its `min_position`)
    // gets it at once; if nobody computes, it starts the next answer in
    // the background for the requests after it. A request that no kept
    // answer serves computes, or waits for whoever computes (answers.rs).
    let meanwhile = |slot: &crate::answers::SlotInner| {
        slot.kept()
            .filter(|kept| kept.serves_meanwhile(&file, min_position.unwrap_or(0), now))
    };
    let computing = match slot.computing.clone().try_lock_owned() {
        Ok(guard) => {
            if let Some(kept) = meanwhile(&slot) {
                let (state, slot) = (state.clone(), slot.clone());
                tokio::spawn(async move {
                    if let Err(e) = compute(&state, &slot, guard, now, f).await {
                        tracing::warn!(code = e.code, error = %e.message, "computing an answer in the background failed");
                    }
                });
                return Ok(kept.response(encoding, POSITION_HEADER));
            }
            guard
        }
        Err(_) => {
            if let Some(kept) = meanwhile(&slot) {
                return Ok(kept.response(encoding, POSITION_HEADER));
            }
            let guard = slot.computing.clone().lock_owned().await;
            if let Some(response) = current(&slot) {
                return Ok(response);
            }
            guard
        }
    };
    let kept = compute(state, &slot, computing, now, f).await?;
    Ok(kept.response(encoding, POSITION_HEADER))
}

/// Computes `f` at the read model's current position and keeps it in
/// `slot`, whose `computing` lock is `guard`; held to the end, so nobody
/// computes the same answer side by side.
async fn compute<T: Serialize + Send + 'static>(
    state: &AppState,
    slot: &crate::answers::Slot,
    guard: tokio::sync::OwnedMutexGuard<()>,
    now: i64,
    f: impl FnOnce(&mut ReadModel) -> Result<T, ApiError> + Send + 'static,
) -> Result<crate::answers::Kept, ApiError> {
    let computing = state.clone();
    let kept = state
        .read_file(move |file, rm| {
            rm.snapshot(|rm| {
                let position = rm.refresh()?.position;
                let mut body = serde_json::to_vec(&f(rm)?).map_err(ApiError::internal)?;
                // A kept answer holds its bytes, not the spare capacity the
                // writing doubled into (up to as much again: 4 MB for the
                // 2.3 MB dashboard at 100 districts).
                body.shrink_to_fit();
                computing
                    .inner
                    .answers
                    .kept(rm, file, position, now, body.into())
            })
        })
        .await?;
    state.inner.answers.keep(slot, kept.clone());
    drop(guard);
    Ok(kept)
}

/// Whether `unit` lies within the grant's unit on the day of `now`: the
/// domain's [`dotpha_domain::UnitTree::is_within`], for reading as for
/// acting.
pub(crate) fn within(
    rm: &ReadModel,
    grant: Option<&Grant>,
    unit: &str,
    now: i64,
) -> Result<bool, ApiError> {
    match grant {
        None => Ok(true),
        Some(g) => Ok(rm.is_within(unit, &g.unit, now)?),
    }
}

fn outside(grant: Option<&Grant>) -> ApiError {
    ApiError::forbidden(format!(
        "outside the unit of this token ({})",
        grant.map_or("", |g| g.unit.as_str())
    ))
}

/// The placeholder in `page.html` the vocabulary's labels replace.
pub const VOCABULARY_PLACEHOLDER: &str = "/*VOCABULARY*/{}";
/// The placeholder the domain's refusal sentences replace
/// ([`dotpha_domain::messages::messages_json`]).
pub const MESSAGES_PLACEHOLDER: &str = "/*MESSAGES*/{}";
/// The placeholder the JSON Schemas of the submissions replace, by type
/// (`dotpha_domain::schema::submission_schema`, the committed
/// `schemas/submission/*.json`): what the page checks a form against
/// before it sends.
pub const SCHEMAS_PLACEHOLDER: &str = "/*SCHEMAS*/{}";

/// The schemas the page checks forms against, without their prose.
fn form_schemas() -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                o.remove("description");
                o.remove("title");
                // The page names no address elsewhere, not even a
                // meta-schema's.
                o.remove("$schema");
                o.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut out = serde_json::Map::new();
    for t in dotpha_domain::EventType::ALL {
        let mut schema = dotpha_domain::schema::submission_schema(t);
        strip(&mut schema);
        out.insert(t.as_str().to_owned(), schema);
    }
    serde_json::Value::Object(out)
}

/// The page as served: `page.html` with the domain's vocabulary and labels
/// ([`dotpha_domain::vocabulary::tables_json`]) generated into it, so the
/// page spells no word or label of its own.
pub fn page_html() -> &'static str {
    static PAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PAGE.get_or_init(|| {
        // `</` never occurs in JSON the page could mistake for its end:
        // escape it anyway, as the labels are text.
        let json = |v: serde_json::Value| v.to_string().replace("</", "<\\/");
        include_str!("page.html")
            .replacen(
                VOCABULARY_PLACEHOLDER,
                &json(dotpha_domain::vocabulary::tables_json()),
                1,
            )
            .replacen(
                MESSAGES_PLACEHOLDER,
                &json(dotpha_domain::messages::messages_json()),
                1,
            )
            .replacen(SCHEMAS_PLACEHOLDER, &json(form_schemas()), 1)
    })
}

async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page_html(),
    )
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
}

/// Every part this process runs, each with its state and last error:
/// `{"status": "ok"|"unhealthy", "parts": {"writer": {...}, "relay": ...,
/// "receipts": ..., "projector": ..., "http": ...}, "projection": {...}}`;
/// 503 when any part is unhealthy.
async fn healthz(State(state): State<AppState>) -> Response {
    let mut parts = match &state.inner.parts {
        Some(parts) => parts.report().parts,
        None => Default::default(),
    };
    // This server answers, so the HTTP part runs (unless it is stopping).
    parts
        .entry("http".to_owned())
        .or_insert_with(|| dotpha_health::PartReport {
            state: dotpha_health::PartState::Running,
            for_seconds: 0,
            healthy: true,
            last_error: None,
            last_error_seconds_ago: None,
        });
    let role = state.inner.parts.as_ref().and_then(|parts| parts.role());
    let projection = state.inner.health.as_ref().map(|health| health.report());
    if let Some(report) = &projection {
        parts.insert("projector".to_owned(), report.part());
    }
    let healthy = parts.values().all(|p| p.healthy);
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut body = json!({ "status": if healthy { "ok" } else { "unhealthy" }, "parts": parts });
    if let Some(report) = projection {
        body["projection"] = json!(report);
    }
    // The writer's role: active, or a standby and how far behind.
    if let Some(role) = role {
        body["role"] = json!(role);
    }
    (status, Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut text = String::new();
    {
        let registry = state
            .inner
            .registry
            .lock()
            .map_err(|_| ApiError::internal("metrics registry poisoned"))?;
        prometheus_client::encoding::text::encode(&mut text, &registry)
            .map_err(ApiError::internal)?;
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

async fn dashboard(read: Reading) -> Result<Response, ApiError> {
    let cycle = slug_param(&read.params, "cycle")?;
    read.answer(Kept::Yes, move |rm, read| {
        if let Some(g) = &read.grant
            && !rm.is_root(&g.unit)?
        {
            return Err(ApiError::forbidden(format!(
                "the dashboard covers the whole cycle; a token of {} reads /api/v1/units/{}",
                g.unit, g.unit
            )));
        }
        Ok(rm.dashboard(cycle.as_deref(), read.now)?)
    })
    .await
}

async fn cycles(read: Reading) -> Result<Response, ApiError> {
    read.answer(Kept::No, |rm, _| {
        let cycles: Vec<Value> = rm
            .cycles()?
            .into_iter()
            .map(|(id, starts_on, ends_on, closed)| json!({"cycle": id, "starts_on": starts_on, "ends_on": ends_on, "closed": closed}))
            .collect();
        Ok(json!({ "cycles": cycles }))
    })
    .await
}

/// The words of a vocabulary list, for error messages: "a, b or c".
fn words(words: impl IntoIterator<Item = &'static str>) -> String {
    let words: Vec<&str> = words.into_iter().collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => words.join(""),
    }
}

async fn tasks(read: Reading) -> Result<Response, ApiError> {
    let params = &read.params;
    let status = match params.get("status").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(StatusFilter::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "status={s:?} is not a task status: use {}",
                words(
                    TaskStatus::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .chain(TaskFlag::ALL.iter().map(|f| f.as_str()))
                )
            ))
        })?),
    };
    let kind = match params.get("kind").filter(|s| !s.is_empty()) {
        None => None,
        Some(k) => Some(TaskKind::parse(k).ok_or_else(|| {
            ApiError::bad_request(format!(
                "kind={k:?}: use {}",
                words(TaskKind::ALL.iter().map(|k| k.as_str()))
            ))
        })?),
    };
    let q = params.get("q").filter(|s| !s.trim().is_empty()).cloned();
    if q.as_ref().is_some_and(|q| q.len() > 200) {
        return Err(ApiError::bad_request("q is longer than 200 characters"));
    }
    let mut filter = TaskFilter {
        cycle: slug_param(params, "cycle")?,
        unit: slug_param(params, "unit")?,
        status,
        assignee: slug_param(params, "assignee")?,
        kind,
        q,
        tree: tree(params)?,
        limit: number_param(params, "limit")?.map(|n| n as usize),
        offset: number_param(params, "offset")?.map(|n| n as usize),
    };
    read.answer(Kept::Yes, move |rm, read| {
        if let Some(g) = &read.grant {
            match &filter.unit {
                Some(unit) => read.check_within(rm, unit)?,
                None => filter.unit = Some(g.unit.clone()),
            }
        }
        let (tasks, total) = rm.tasks(&filter, read.now)?;
        Ok(json!({ "tasks": tasks, "total": total }))
    })
    .await
}

async fn task(Segment(task_id): Segment, read: Reading) -> Result<Response, ApiError> {
    read.answer(Kept::No, move |rm, read| visible_task(rm, &task_id, read))
        .await
}

/// The task, when it exists and lies within the grant's unit.
fn visible_task(
    rm: &ReadModel,
    task_id: &str,
    read: &Reading,
) -> Result<dotpha_views::query::TaskDetail, ApiError> {
    let task = rm
        .task(task_id, read.now)?
        .ok_or_else(|| ApiError::not_found(format!("no task {task_id:?}")))?;
    read.check_within(rm, &task.summary.unit)?;
    Ok(task)
}

async fn history(Segment(task_id): Segment, read: Reading) -> Result<Response, ApiError> {
    read.answer(Kept::No, move |rm, read| {
        visible_task(rm, &task_id, read)?;
        // Events the read model applied from the log beside it are read
        // there (`dotpha_project::history` opens it only then).
        let log = log_path(&read.state);
        let events = dotpha_project::history(rm, Some(&log), &task_id)?.unwrap_or_default();
        Ok(json!({ "events": events }))
    })
    .await
}

async fn unit(Segment(code): Segment, read: Reading) -> Result<Response, ApiError> {
    let tree = tree(&read.params)?;
    let cycle = slug_param(&read.params, "cycle")?;
    read.answer(Kept::Yes, move |rm, read| {
        let unit = rm
            .unit(&code, tree, cycle.as_deref(), read.now)?
            .ok_or_else(|| ApiError::not_found(format!("no unit {code:?}")))?;
        read.check_within(rm, &code)?;
        Ok(unit)
    })
    .await
}

async fn cadre(Segment(id): Segment, read: Reading) -> Result<Response, ApiError> {
    read.answer(Kept::No, move |rm, read| {
        let cadre = rm
            .cadre(&id, read.now)?
            .ok_or_else(|| ApiError::not_found(format!("no cadre {id:?}")))?;
        read.check_within(rm, &cadre.unit)?;
        Ok(cadre)
    })
    .await
}

/// `GET /api/v1/me`: who the token acts as, what they may send, and their
/// tasks: `{"cadre": CadreView (with its tasks, newest cycle first),
/// "unit": code, "unit_name", "closed_unit": successor when the token's
/// unit was merged away, "forms": [submission types]}`. `forms` is the
/// domain's [`dotpha_domain::decide::may_send`]; the rules still judge
/// each submission. 401 without a token.
async fn me(headers: axum::http::HeaderMap, read: Reading) -> Result<Response, ApiError> {
    let grant = read
        .state
        .inner
        .tokens
        .grant(&headers)?
        .cloned()
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
    read.answer(Kept::No, move |rm, read| {
        let cadre = rm.cadre(&grant.cadre, read.now)?.ok_or_else(|| {
            ApiError::not_found(format!(
                "the token's cadre {} is not registered",
                grant.cadre
            ))
        })?;
        let unit_name = rm
            .unit_ref(&grant.unit, read.now)?
            .map_or_else(|| grant.unit.clone(), |u| u.name);
        let at_root = rm.is_root(&grant.unit)?;
        let forms: Vec<&str> = dotpha_domain::decide::may_send(cadre.standing_committee, at_root)
            .into_iter()
            .map(|t| t.as_str())
            .collect();
        Ok(serde_json::json!({
            "cadre": cadre,
            "unit": grant.unit,
            "unit_name": unit_name,
            "closed_unit": rm.closed_on(&grant.unit, read.now)?,
            "forms": forms,
        }))
    })
    .await
}

// ------------------------------------------- evaluation by period (part A)

async fn periods(read: Reading) -> Result<Response, ApiError> {
    read.answer(Kept::No, |rm, _| Ok(json!({ "periods": rm.periods()? })))
        .await
}

fn no_period(period: &str) -> ApiError {
    ApiError::not_found(format!("no evaluation period {period:?}"))
}

/// `GET /api/v1/periods/{period}/assessments?unit=&peer_group=&q=`: every
/// cadre with a product or an assessment in the period; with `--access`,
/// only those within the token's unit.
async fn period_assessments(Segment(period): Segment, read: Reading) -> Result<Response, ApiError> {
    let params = &read.params;
    let q = params.get("q").filter(|s| !s.trim().is_empty()).cloned();
    if q.as_ref().is_some_and(|q| q.len() > 200) {
        return Err(ApiError::bad_request("q is longer than 200 characters"));
    }
    let mut filter = AssessmentFilter {
        unit: slug_param(params, "unit")?,
        peer_group: slug_param(params, "peer_group")?,
        q,
        tree: tree(params)?,
    };
    read.answer(Kept::Yes, move |rm, read| {
        if let Some(g) = &read.grant {
            match &filter.unit {
                Some(unit) => read.check_within(rm, unit)?,
                None => filter.unit = Some(g.unit.clone()),
            }
        }
        let lines = rm
            .assessments(&period, &filter, read.now)?
            .ok_or_else(|| no_period(&period))?;
        Ok(json!({ "period": period, "assessments": lines }))
    })
    .await
}

/// `GET /api/v1/periods/{period}/quota`: the excellent quota per
/// evaluating body and peer group; with `--access`, the bodies within the
/// token's unit.
async fn period_quota(Segment(period): Segment, read: Reading) -> Result<Response, ApiError> {
    read.answer(Kept::Yes, move |rm, read| {
        let mut groups = rm.quota(&period)?.ok_or_else(|| no_period(&period))?;
        if read.grant.is_some() {
            let mut visible = Vec::with_capacity(groups.len());
            for g in groups {
                if within(rm, read.grant.as_ref(), &g.evaluating_unit, read.now)? {
                    visible.push(g);
                }
            }
            groups = visible;
        }
        Ok(json!({ "period": period, "groups": groups }))
    })
    .await
}

/// `GET /api/v1/cadres/{id}/assessments`: the cadre's assessments over
/// every period.
async fn cadre_assessments(Segment(id): Segment, read: Reading) -> Result<Response, ApiError> {
    read.answer(Kept::No, move |rm, read| {
        let cadre = rm
            .cadre(&id, read.now)?
            .ok_or_else(|| ApiError::not_found(format!("no cadre {id:?}")))?;
        read.check_within(rm, &cadre.unit)?;
        let lines = rm.cadre_assessments(&id)?.unwrap_or_default();
        Ok(json!({ "cadre": id, "assessments": lines }))
    })
    .await
}

fn log_path(state: &AppState) -> std::path::PathBuf {
    dotpha_host::DataDir::new(&state.inner.data_dir).log_path()
}

/// `GET /api/v1/submissions/{id}[?unit=U]`: a receipt, private to the
/// unit it was decided for (CONTRACT.md part C). Asked for a unit, the
/// answer is that unit's: its decision, or its refusal of an id decided for
/// another unit (`already_exists`, nothing of that other decision). The
/// unit asked for is `?unit=`; with `--access`, it must be within the
/// token's subtree, and without `?unit=` a decision outside that subtree is
/// answered as asked for the token's own unit. On an open server (a
/// trusted network) without `?unit=`, the decision recorded under the id.
async fn receipt(Segment(id): Segment, read: Reading) -> Result<Response, ApiError> {
    let (state, grant, now) = (read.state.clone(), read.grant.clone(), read.now);
    let prove = match read.params.get("proof").map(String::as_str) {
        None | Some("0") | Some("false") => false,
        Some("1") | Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "proof={other:?}: use proof=1"
            )));
        }
    };
    if !dotpha_domain::values::is_submission_id(&id) {
        return Err(ApiError::bad_request(format!(
            "{id:?} is not a submission id"
        )));
    }
    let asked = slug_param(&read.params, "unit")?;
    if let (Some(g), Some(unit)) = (&grant, &asked) {
        let (g2, unit) = (g.clone(), unit.clone());
        if !state
            .read(move |rm| within(rm, Some(&g2), &unit, now))
            .await?
        {
            return Err(outside(Some(g)));
        }
    }
    let not_found = || ApiError::not_found(format!("submission {id} has not been decided"));
    let view = match (&asked, &grant) {
        (Some(unit), _) => Some(unit.clone()),
        (None, None) => None,
        (None, Some(g)) => {
            let Some(original) = lookup(&state, &id, None).await? else {
                return Err(not_found());
            };
            let inside = match original.unit.clone() {
                Some(unit) => {
                    let g2 = g.clone();
                    state
                        .read(move |rm| within(rm, Some(&g2), &unit, now))
                        .await?
                }
                None => false,
            };
            if inside {
                return with_proof(&state, original, prove).await;
            }
            Some(g.unit.clone())
        }
    };
    let receipt = lookup(&state, &id, view.as_deref())
        .await?
        .ok_or_else(not_found)?;
    with_proof(&state, receipt, prove).await
}

/// The receipt, with its inclusion proof when `prove` (`?proof=1`).
async fn with_proof(
    state: &AppState,
    receipt: dotpha_store::Receipt,
    prove: bool,
) -> Result<Response, ApiError> {
    if !prove {
        return Ok(Json(receipt).into_response());
    }
    let proof = crate::routes_log::receipt_proof(state, &receipt).await?;
    let mut shown = serde_json::to_value(&receipt).map_err(ApiError::internal)?;
    shown["proof"] = proof.unwrap_or(Value::Null);
    Ok(Json(shown).into_response())
}

/// The receipt of `id` from the log beside this server, or else over NATS
/// (`receipt.get`): as recorded, or as `unit` is answered.
async fn lookup(
    state: &AppState,
    id: &str,
    unit: Option<&str>,
) -> Result<Option<dotpha_store::Receipt>, ApiError> {
    let path = log_path(state);
    if path.exists() {
        let (id, unit) = (id.to_owned(), unit.map(str::to_owned));
        // A refusal answered now is stamped with the clock, not `?at=`.
        let now = state.inner.clock.now();
        return tokio::task::spawn_blocking(move || {
            let log = dotpha_store::Log::open_read_only(&path)?;
            match unit {
                None => log.receipt(&id),
                Some(unit) => log.answer_for(&id, &unit, now.as_str()),
            }
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::unavailable(e.to_string()));
    }
    let publisher = state.inner.publisher.as_ref().ok_or_else(|| {
        ApiError::unavailable("neither the log nor NATS is reachable from this server")
    })?;
    match unit {
        None => publisher.receipt(id).await,
        Some(unit) => publisher.receipt_for(unit, id).await,
    }
    .map_err(|e| ApiError::unavailable(e.to_string()))
}

async fn verify(read: Reading) -> Result<Response, ApiError> {
    let state = read.state;
    let path = log_path(&state);
    if !path.exists() {
        return Err(ApiError::unavailable(
            "the log is not on this machine; run `dotpha verify` where it is",
        ));
    }
    let report = tokio::task::spawn_blocking(move || {
        dotpha_store::Log::open_read_only(&path).and_then(|log| log.verify(None))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::unavailable(e.to_string()))?;
    Ok(Json(report).into_response())
}

/// Server-sent events: `position` each time the read model applies more of
/// the log, so an open page refreshes what it shows without reloading.
async fn live(read: Reading) -> Result<Response, ApiError> {
    let state = read.state;
    let stream = futures::stream::unfold((state, None::<u64>), |(state, last)| async move {
        loop {
            if state.stopping() {
                return None;
            }
            let position = state.read(|rm| Ok(rm.refresh()?.position)).await.ok();
            if position.is_some() && position != last {
                let event = Event::default()
                    .event("position")
                    .data(position.unwrap_or(0).to_string());
                return Some((Ok::<_, std::convert::Infallible>(event), (state, position)));
            }
            tokio::time::sleep(LIVE_POLL).await;
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

pub(crate) use crate::routes_act::act;
