//! What wraps every answer: compression (gzip, brotli; `tower-http`),
//! validators and caching headers, and request metrics.
//!
//! - **ETag.** A read answer (JSON, the page, an export) carries a weak
//!   `ETag` made from its bytes, so it changes exactly when the answer does
//!   (a new log position, the clock crossing a due date, another token's
//!   scope); `If-None-Match` with it is answered `304 Not Modified` with no
//!   body. `Cache-Control: no-cache` makes browsers and proxies ask again
//!   each time (answers follow the log), `Vary: Authorization` keeps one
//!   token's answer from another. `/metrics`, `/healthz` and the live
//!   stream are `no-store`.
//! - **Metrics.** `dotpha_http_requests_total{route, method, status}` and
//!   `dotpha_http_request_duration_seconds{route}`, the route being the
//!   matched pattern (`/api/v1/tasks/{task_id}`), never the raw path.

use std::time::Instant;

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body::Body as _;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

/// Largest answer whose bytes are hashed for an `ETag` (exports can be
/// big; larger answers go without a validator rather than be held twice).
pub const MAX_ETAG_BYTES: u64 = 16 * 1024 * 1024;

/// Latency buckets, in seconds: 1 ms to 10 s.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A request's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The matched route pattern, or `unmatched`.
    pub route: String,
    /// GET, POST, ...
    pub method: String,
    /// The status code.
    pub status: u16,
}

/// A route's label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The matched route pattern.
    pub route: String,
}

/// The server's request metrics. Cloning shares them.
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: Family<RouteLabels, Histogram>,
}

impl Default for HttpMetrics {
    fn default() -> HttpMetrics {
        HttpMetrics {
            requests: Family::default(),
            duration: Family::new_with_constructor(|| Histogram::new(BUCKETS)),
        }
    }
}

impl HttpMetrics {
    /// Adds the metrics to `registry` under `dotpha_http_`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "dotpha_http_requests",
            "HTTP requests answered, by route pattern, method and status",
            self.requests.clone(),
        );
        registry.register(
            "dotpha_http_request_duration_seconds",
            "Time to answer an HTTP request (until its headers), by route pattern",
            self.duration.clone(),
        );
    }

    fn observe(&self, route: &str, method: &Method, status: StatusCode, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.as_str().to_owned(),
                status: status.as_u16(),
            })
            .inc();
        self.duration
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }
}

/// Counts and times each routed request (a route layer: the route is known).
pub(crate) async fn measure(
    State(metrics): State<HttpMetrics>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.observe(
        &route,
        &method,
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Counts a request no route matched (the fallbacks).
pub(crate) fn unmatched(metrics: &HttpMetrics, method: &Method, status: StatusCode) {
    metrics.observe("unmatched", method, status, 0.0);
}

/// Paths whose answers are never stored: they say how things are now.
fn never_stored(path: &str) -> bool {
    matches!(path, "/metrics" | "/healthz" | "/api/v1/live")
}

/// Adds `ETag`, answers `If-None-Match` with 304, and sets `Cache-Control`
/// and `Vary` (see the module's documentation).
pub(crate) async fn validators(request: Request, next: Next) -> Response {
    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    let path = request.uri().path().to_owned();
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if never_stored(&path) {
        return with_header(response, header::CACHE_CONTROL, "no-store");
    }
    if !is_read || response.status() != StatusCode::OK || is_stream(&response) {
        return response;
    }
    // A kept answer comes tagged (and maybe encoded) already
    // (`answers::Kept::response`): its tag stands, its bytes are not read.
    if let Some(tag) = response.headers().get(header::ETAG).cloned() {
        let (parts, body) = response.into_parts();
        return tagged(parts, body, &tag, if_none_match.as_ref());
    }
    let fits = response
        .body()
        .size_hint()
        .upper()
        .is_some_and(|n| n <= MAX_ETAG_BYTES);
    if !fits {
        return with_header(response, header::CACHE_CONTROL, "no-cache");
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_ETAG_BYTES as usize).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::warn!(%error, path, "reading an answer to tag it failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let tag = crate::answers::weak_etag(&bytes);
    tagged(parts, Body::from(bytes), &tag, if_none_match.as_ref())
}

/// An answer with its weak `ETag` `tag`, `Cache-Control: no-cache` and
/// `Vary: authorization`; `304 Not Modified` without a body when
/// `If-None-Match` names the tag (weak comparison, RFC 9110 §13.1.2).
fn tagged(
    mut parts: axum::http::response::Parts,
    body: Body,
    tag: &HeaderValue,
    if_none_match: Option<&HeaderValue>,
) -> Response {
    parts.headers.insert(header::ETAG, tag.clone());
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // One `Vary` line naming all it varies by (a kept answer's says
    // accept-encoding already).
    let mut vary: Vec<String> = parts
        .headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    vary.push("authorization".to_owned());
    if let Ok(value) = HeaderValue::from_str(&vary.join(", ")) {
        parts.headers.insert(header::VARY, value);
    }
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let ours = tag.to_str().map(opaque).unwrap_or_default();
    let matches = if_none_match
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').map(opaque).any(|t| t == "*" || t == ours));
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_ENCODING);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, body)
}

fn is_stream(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

fn with_header(mut response: Response, name: header::HeaderName, value: &'static str) -> Response {
    response
        .headers_mut()
        .insert(name, HeaderValue::from_static(value));
    response
}
