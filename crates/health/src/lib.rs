//! The health of each part one dotpha process runs (the writer, the relay,
//! the receipt service, the projection worker, the HTTP server): its state,
//! since when, and the last error it met, so `/healthz` can say which part
//! is in trouble and why instead of one word for the whole process.
//!
//! Each part holds a [`Part`] handle and reports what happens to it as it
//! happens; whoever answers health questions reads [`Health::report`].
//! Nothing here knows what the parts do.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// A part retrying for longer than this is unhealthy: a NATS server away
/// for a moment is weather, for a minute it is an outage someone must see.
pub const RETRY_LIMIT: Duration = Duration::from_secs(60);
/// A part still starting after this long is unhealthy (it waits for
/// something that does not come: NATS, a lease).
pub const START_LIMIT: Duration = Duration::from_secs(60);

/// Where a part stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    /// Setting up (connecting, taking a lease, opening files).
    Starting,
    /// Doing its work.
    Running,
    /// Met an error and is trying again.
    Retrying,
    /// Stopped by an error it cannot get past.
    Failed,
    /// Stopped cleanly (shutdown).
    Stopped,
}

#[derive(Clone, Debug)]
struct Record {
    state: PartState,
    since: Instant,
    last_error: Option<(String, Instant)>,
}

/// The parts of one process and how each is; cloning shares them.
#[derive(Clone, Debug, Default)]
pub struct Health {
    parts: Arc<Mutex<BTreeMap<String, Record>>>,
    role: Arc<Mutex<Option<RoleReport>>>,
}

/// The role a process holds among processes of which one leads and the
/// others stand by (a log's writer and its standbys), as `/healthz` shows
/// it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RoleReport {
    /// `active` or `standby`.
    pub role: String,
    /// How far behind the leader's last record a standby is (records; 0
    /// for the leader).
    pub lag_records: u64,
    /// When this process last took over as the leader (RFC 3339, UTC).
    pub last_takeover: Option<String>,
}

/// One part's answer, as `/healthz` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PartReport {
    /// Its state.
    pub state: PartState,
    /// Seconds it has been in that state.
    pub for_seconds: u64,
    /// Whether this part is fine: running, or retrying or starting for less
    /// than [`RETRY_LIMIT`] / [`START_LIMIT`].
    pub healthy: bool,
    /// The last error it met, if any (kept after it recovered).
    pub last_error: Option<String>,
    /// Seconds since that error.
    pub last_error_seconds_ago: Option<u64>,
}

/// Every part's answer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// True when every part is healthy.
    pub healthy: bool,
    /// Each part by name.
    pub parts: BTreeMap<String, PartReport>,
    /// The process's role, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleReport>,
}

impl Health {
    /// A handle for the part `name`, registered as [`PartState::Starting`].
    pub fn part(&self, name: &str) -> Part {
        if let Ok(mut parts) = self.parts.lock() {
            parts.insert(
                name.to_owned(),
                Record {
                    state: PartState::Starting,
                    since: Instant::now(),
                    last_error: None,
                },
            );
        }
        Part {
            health: self.clone(),
            name: name.to_owned(),
        }
    }

    /// How every part is, now.
    pub fn report(&self) -> Report {
        let role = self.role();
        let Ok(parts) = self.parts.lock() else {
            return Report {
                healthy: false,
                parts: BTreeMap::new(),
                role,
            };
        };
        let parts: BTreeMap<String, PartReport> = parts
            .iter()
            .map(|(name, record)| {
                let for_time = record.since.elapsed();
                let healthy = match record.state {
                    PartState::Running => true,
                    PartState::Retrying => for_time < RETRY_LIMIT,
                    PartState::Starting => for_time < START_LIMIT,
                    PartState::Failed | PartState::Stopped => false,
                };
                let report = PartReport {
                    state: record.state,
                    for_seconds: for_time.as_secs(),
                    healthy,
                    last_error: record.last_error.as_ref().map(|(e, _)| e.clone()),
                    last_error_seconds_ago: record
                        .last_error
                        .as_ref()
                        .map(|(_, at)| at.elapsed().as_secs()),
                };
                (name.clone(), report)
            })
            .collect();
        Report {
            healthy: parts.values().all(|p| p.healthy),
            parts,
            role,
        }
    }

    /// Says which role the process holds now.
    pub fn set_role(&self, role: RoleReport) {
        if let Ok(mut held) = self.role.lock() {
            *held = Some(role);
        }
    }

    /// The role the process holds, if it has one.
    pub fn role(&self) -> Option<RoleReport> {
        self.role.lock().ok().and_then(|r| r.clone())
    }

    /// Forgets the part `name`: it no longer runs in this process (a
    /// writer that stepped down to a standby).
    pub fn remove(&self, name: &str) {
        if let Ok(mut parts) = self.parts.lock() {
            parts.remove(name);
        }
    }

    fn set(&self, name: &str, state: PartState, error: Option<String>) {
        if let Ok(mut parts) = self.parts.lock() {
            let record = parts.entry(name.to_owned()).or_insert_with(|| Record {
                state,
                since: Instant::now(),
                last_error: None,
            });
            if record.state != state {
                record.state = state;
                record.since = Instant::now();
            }
            if let Some(error) = error {
                record.last_error = Some((error, Instant::now()));
            }
        }
    }
}

/// One part's handle on its own health.
#[derive(Clone, Debug)]
pub struct Part {
    health: Health,
    name: String,
}

impl Part {
    /// A part that reports to nobody (a caller that does not ask).
    pub fn detached(name: &str) -> Part {
        Health::default().part(name)
    }

    /// It does its work.
    pub fn running(&self) {
        self.health.set(&self.name, PartState::Running, None);
    }

    /// It met `error` and tries again.
    pub fn retrying(&self, error: impl std::fmt::Display) {
        self.health
            .set(&self.name, PartState::Retrying, Some(error.to_string()));
    }

    /// It met `error` and stopped.
    pub fn failed(&self, error: impl std::fmt::Display) {
        self.health
            .set(&self.name, PartState::Failed, Some(error.to_string()));
    }

    /// It stopped cleanly.
    pub fn stopped(&self) {
        self.health.set(&self.name, PartState::Stopped, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_part_makes_the_whole_unhealthy_and_keeps_its_error() {
        let health = Health::default();
        let writer = health.part("writer");
        let relay = health.part("relay");
        writer.running();
        relay.running();
        assert!(health.report().healthy);
        relay.retrying("NATS away");
        let report = health.report();
        assert!(report.healthy, "a short retry is weather");
        assert_eq!(report.parts["relay"].state, PartState::Retrying);
        assert_eq!(
            report.parts["relay"].last_error.as_deref(),
            Some("NATS away")
        );
        relay.running();
        assert_eq!(
            health.report().parts["relay"].last_error.as_deref(),
            Some("NATS away"),
            "the last error stays visible after recovering"
        );
        writer.failed("the lease was taken");
        let report = health.report();
        assert!(!report.healthy);
        assert!(!report.parts["writer"].healthy);
        assert!(report.parts["relay"].healthy);
    }
}
