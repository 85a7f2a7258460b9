//! dotpha's HTTP API (CONTRACT.md's routes) and the dashboard page.
//!
//! Read routes answer from the read model and carry `X-Dotpha-Position`, the
//! log position the read model has applied; `?min_position=N` waits up to
//! five seconds for it. Errors are `{"error": {"code", "message"}}`. Acting
//! (`POST /api/v1/submissions`) publishes over NATS exactly as any publisher
//! does and answers with the receipt; the acting cadre is the token's.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

pub mod access;
mod answers;
pub mod contract_errors;
pub mod error;
mod export;
mod export_period;
pub mod layers;
mod routes;
mod routes_act;
mod routes_log;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use dotpha_bus::Publisher;
use dotpha_views::ReadModel;
use prometheus_client::registry::Registry;

pub use access::{Tokens, TokensError};
pub use answers::MAX_STALE;
pub use error::ApiError;
pub use routes::{
    MESSAGES_PLACEHOLDER, POSITION_HEADER, ROUTES, SCHEMAS_PLACEHOLDER, VOCABULARY_PLACEHOLDER,
    page_html, router,
};

/// Longest `min_position` waits.
pub const MIN_POSITION_WAIT: Duration = Duration::from_secs(5);
/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// How often the live stream looks for new events.
pub const LIVE_POLL: Duration = Duration::from_millis(250);
/// Requests reading the read model at once, at least: more wait their turn
/// (twice the cores when that is more). Without a bound, a burst of heavy
/// requests opens a connection and runs a query per request, all at once,
/// and each holds its memory until it ends.
pub const MIN_READERS: usize = 8;

/// What the server needs.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: PathBuf,
    name: String,
    readers: Mutex<Vec<(PathBuf, ReadModel)>>,
    /// Turns to read the read model (see [`MIN_READERS`]).
    permits: Arc<tokio::sync::Semaphore>,
    /// Answers kept while they cannot change.
    answers: answers::Answers,
    publisher: Option<Publisher>,
    registry: Mutex<Registry>,
    /// Requests by route, method and status; latency by route.
    http_metrics: layers::HttpMetrics,
    health: Option<dotpha_project::Health>,
    /// The other parts this process runs (writer, relay, receipt service,
    /// HTTP), for `/healthz`.
    parts: Option<dotpha_health::Health>,
    tokens: Tokens,
    /// The clock reads are judged at and submissions stamped with.
    clock: dotpha_host::SharedClock,
    /// Turns true when the server shuts down; ends the live streams, which
    /// would otherwise hold graceful shutdown open forever.
    stopping: Mutex<Option<tokio::sync::watch::Receiver<bool>>>,
}

impl AppState {
    /// A server over the read model of worker `name` in `data_dir`.
    pub fn new(
        data_dir: PathBuf,
        name: String,
        publisher: Option<Publisher>,
        mut registry: Registry,
        health: Option<dotpha_project::Health>,
        tokens: Tokens,
    ) -> AppState {
        let http_metrics = layers::HttpMetrics::default();
        http_metrics.register(&mut registry);
        AppState {
            inner: Arc::new(Inner {
                data_dir,
                name,
                readers: Mutex::new(Vec::new()),
                permits: Arc::new(tokio::sync::Semaphore::new(
                    std::thread::available_parallelism()
                        .map_or(MIN_READERS, |n| 2 * n.get())
                        .max(MIN_READERS),
                )),
                answers: answers::Answers::default(),
                publisher,
                registry: Mutex::new(registry),
                http_metrics,
                health,
                parts: None,
                tokens,
                clock: dotpha_host::SystemClock::shared(),
                stopping: Mutex::new(None),
            }),
        }
    }

    /// The same server, reading the time from `clock` (the system's by
    /// default). Call it on the value [`AppState::new`] returned, before it
    /// is cloned.
    pub fn with_clock(mut self, clock: dotpha_host::SharedClock) -> AppState {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.clock = clock,
            None => {
                tracing::error!("with_clock called on a shared server state; it keeps its clock")
            }
        }
        self
    }

    /// The same server, also answering `/healthz` for `parts` (the other
    /// parts this process runs). Call it on the value [`AppState::new`]
    /// returned, before it is cloned.
    pub fn with_parts(mut self, parts: dotpha_health::Health) -> AppState {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.parts = Some(parts),
            None => tracing::error!(
                "with_parts called on a shared server state; /healthz will not show the parts"
            ),
        }
        self
    }

    /// Whether the server is shutting down.
    pub(crate) fn stopping(&self) -> bool {
        self.inner
            .stopping
            .lock()
            .ok()
            .and_then(|s| s.as_ref().map(|r| *r.borrow()))
            .unwrap_or(false)
    }

    /// Runs `f` on a read-only handle of the current read model generation,
    /// on a blocking thread; handles are pooled and reopened after a rebuild.
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut ReadModel) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.read_file(move |_, rm| f(rm)).await
    }

    /// [`AppState::read`], telling `f` which generation file it reads.
    pub(crate) async fn read_file<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Path, &mut ReadModel) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        // Waiting here, a request whose client gave up is dropped before it
        // costs anything; a blocking task, once spawned, runs to its end.
        let permit = self
            .inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let base = dotpha_project::files::base_for(&state.inner.name);
            let link = dotpha_project::files::link(&state.inner.data_dir, &base);
            let current = std::fs::read_link(&link)
                .map(|target| {
                    if target.is_absolute() {
                        target
                    } else {
                        state.inner.data_dir.join(target)
                    }
                })
                .unwrap_or(link.clone());
            if !current.exists() {
                return Err(ApiError::unavailable(format!(
                    "no read model at {} yet: is `dotpha project` running?",
                    link.display()
                )));
            }
            let pooled = {
                let mut pool = state
                    .inner
                    .readers
                    .lock()
                    .map_err(|_| ApiError::internal("reader pool poisoned"))?;
                pool.retain(|(file, _)| *file == current);
                pool.pop()
            };
            let mut reader = match pooled {
                Some((_, reader)) => reader,
                None => ReadModel::open_read_only(&current)?,
            };
            let outcome = f(&current, &mut reader);
            if let Ok(mut pool) = state.inner.readers.lock() {
                pool.push((current, reader));
            }
            outcome
        })
        .await
        .map_err(ApiError::internal)?
    }
}

/// Serves the API on `listener` until `shutdown` turns true, then finishes
/// the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    if let Ok(mut stopping) = state.inner.stopping.lock() {
        *stopping = Some(shutdown.clone());
    }
    axum::serve(contract_errors::ContractListener(listener), router(state))
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
}
