//! How far behind the worker is, as metrics and as a health check that says
//! "unhealthy" when the worker has been behind the log for too long, so a
//! stuck projection is never silent.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use prometheus_client::{
    metrics::{counter::Counter, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// Behind the log for longer than this without catching up is unhealthy.
pub const STUCK_LIMIT: Duration = Duration::from_secs(60);

/// The worker's metrics. Cloning shares them.
#[derive(Clone, Debug)]
pub struct ProjectMetrics {
    /// Position applied.
    pub applied: Gauge,
    /// Log head minus applied position.
    pub lag: Gauge,
    /// Events applied.
    pub events: Counter,
    /// Seconds per applied batch.
    pub batch_seconds: Histogram,
}

impl Default for ProjectMetrics {
    fn default() -> ProjectMetrics {
        ProjectMetrics {
            applied: Gauge::default(),
            lag: Gauge::default(),
            events: Counter::default(),
            batch_seconds: Histogram::new([0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0]),
        }
    }
}

impl ProjectMetrics {
    /// Adds the metrics to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "dotpha_projection_applied_position",
            "Log position the read model has applied",
            self.applied.clone(),
        );
        registry.register(
            "dotpha_projection_lag",
            "Events committed to the log but not yet applied",
            self.lag.clone(),
        );
        registry.register(
            "dotpha_projection_events",
            "Events applied to the read model",
            self.events.clone(),
        );
        registry.register(
            "dotpha_projection_batch_seconds",
            "Seconds per applied batch",
            self.batch_seconds.clone(),
        );
    }
}

#[derive(Debug)]
struct State {
    applied: u64,
    head: u64,
    behind_since: Option<Instant>,
    error: Option<String>,
    last_retry_error: Option<String>,
}

/// The worker's health, shared with whoever reports it.
#[derive(Clone, Debug)]
pub struct Health(Arc<Mutex<State>>);

/// A health answer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HealthReport {
    /// False when behind for longer than [`STUCK_LIMIT`] or stopped by an error.
    pub healthy: bool,
    /// Position applied.
    pub applied_position: u64,
    /// The log's head as last seen.
    pub head_position: u64,
    /// Seconds the worker has been behind.
    pub behind_seconds: u64,
    /// Why the worker stopped, if it did.
    pub error: Option<String>,
    /// The last error it retried after (NATS away), if any.
    pub last_retry_error: Option<String>,
}

impl HealthReport {
    /// The worker as one part of a process (`/healthz`): failed when it
    /// stopped by an error, retrying when behind for too long, else running.
    pub fn part(&self) -> dotpha_health::PartReport {
        let state = if self.error.is_some() {
            dotpha_health::PartState::Failed
        } else if !self.healthy {
            // Behind the log for too long: something keeps it from catching up.
            dotpha_health::PartState::Retrying
        } else {
            dotpha_health::PartState::Running
        };
        dotpha_health::PartReport {
            state,
            for_seconds: self.behind_seconds,
            healthy: self.healthy,
            last_error: self.error.clone().or_else(|| self.last_retry_error.clone()),
            last_error_seconds_ago: None,
        }
    }
}

impl Default for Health {
    fn default() -> Health {
        Health(Arc::new(Mutex::new(State {
            applied: 0,
            head: 0,
            behind_since: None,
            error: None,
            last_retry_error: None,
        })))
    }
}

impl Health {
    /// Records progress.
    pub fn observe(&self, applied: u64, head: u64) {
        if let Ok(mut s) = self.0.lock() {
            s.applied = applied;
            s.head = s.head.max(head);
            s.behind_since = if s.applied >= s.head {
                None
            } else {
                s.behind_since.or(Some(Instant::now()))
            };
        }
    }

    /// Records the error that stopped the worker.
    pub fn fail(&self, error: String) {
        if let Ok(mut s) = self.0.lock() {
            s.error = Some(error);
        }
    }

    /// Records an error the worker retries after.
    pub fn retrying(&self, error: String) {
        if let Ok(mut s) = self.0.lock() {
            s.last_retry_error = Some(error);
        }
    }

    /// The current answer.
    pub fn report(&self) -> HealthReport {
        match self.0.lock() {
            Ok(s) => {
                let behind = s.behind_since.map_or(Duration::ZERO, |t| t.elapsed());
                HealthReport {
                    healthy: s.error.is_none() && behind < STUCK_LIMIT,
                    applied_position: s.applied,
                    head_position: s.head,
                    behind_seconds: behind.as_secs(),
                    error: s.error.clone(),
                    last_retry_error: s.last_retry_error.clone(),
                }
            }
            Err(_) => HealthReport {
                healthy: false,
                applied_position: 0,
                head_position: 0,
                behind_seconds: 0,
                error: Some("health state poisoned".to_owned()),
                last_retry_error: None,
            },
        }
    }
}
