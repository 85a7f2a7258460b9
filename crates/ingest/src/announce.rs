//! A writer process says in NATS what it is (`dotpha_bus::roles`): every
//! [`ANNOUNCE_EVERY`] it writes its role, the last record of
//! `DOTPHA_DECISIONS` its log holds, its log's head and its last takeover,
//! read from its own metrics and health, so `dotpha status` on any host
//! lists every writer and its lag. It deletes its record when it stops
//! cleanly. Nothing here can stop or slow the writer: a record that cannot
//! be written is tried again at the next tick.

use async_nats::jetstream::{self, kv::Store};
use dotpha_bus::roles::{ANNOUNCE_EVERY, ROLE_ACTIVE, ROLE_STANDBY, RoleRecord};
use tokio::sync::watch;

use crate::{Health, IngestMetrics, metrics};

/// Who announces: what stays the same for the life of the process.
#[derive(Clone, Debug)]
pub(crate) struct Announcer {
    /// The connection's JetStream context (the bucket is made on first use).
    pub(crate) js: jetstream::Context,
    /// The bucket's replicas.
    pub(crate) replicas: usize,
    /// Its key (the data directory's writer id).
    pub(crate) key: String,
    /// The log file, as a path on this host.
    pub(crate) log: String,
    /// What it reads its last takeover from.
    pub(crate) health: Health,
}

impl Announcer {
    /// The record this process would write now, from its `metrics`.
    fn record(&self, metrics: &IngestMetrics, session: &str) -> RoleRecord {
        let role = if metrics.role.get() == metrics::ROLE_ACTIVE {
            ROLE_ACTIVE
        } else {
            ROLE_STANDBY
        };
        RoleRecord {
            role: role.to_owned(),
            host: dotpha_bus::lease::host_name(),
            pid: std::process::id(),
            log: self.log.clone(),
            session: session.to_owned(),
            applied: u64::try_from(metrics.replica_record.get()).unwrap_or(0),
            log_head: u64::try_from(metrics.log_head.get()).unwrap_or(0),
            last_takeover: self.health.role().and_then(|r| r.last_takeover),
        }
    }

    /// Writes the record, read from `metrics`, every [`ANNOUNCE_EVERY`]
    /// until `stop` turns true, then deletes it.
    pub(crate) async fn run(self, metrics: IngestMetrics, mut stop: watch::Receiver<bool>) {
        let session = nuid::next().to_string();
        let mut kv: Option<Store> = None;
        let mut ticks = tokio::time::interval(ANNOUNCE_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Failures in a row; said at the first and every tenth.
        let mut failing = 0u32;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
            let written = match &kv {
                Some(bucket) => {
                    dotpha_bus::roles::announce(bucket, &self.key, &self.record(&metrics, &session))
                        .await
                }
                None => match dotpha_bus::roles::roles_bucket(&self.js, self.replicas).await {
                    Ok(bucket) => {
                        let written = dotpha_bus::roles::announce(
                            &bucket,
                            &self.key,
                            &self.record(&metrics, &session),
                        )
                        .await;
                        kv = Some(bucket);
                        written
                    }
                    Err(error) => Err(error),
                },
            };
            match written {
                Ok(()) => failing = 0,
                Err(error) => {
                    failing += 1;
                    if failing == 1 || failing.is_multiple_of(10) {
                        tracing::warn!(%error, failures = failing, "writing this writer's role record failed (dotpha status will not list it meanwhile)");
                    }
                }
            }
        }
        if let Some(bucket) = kv
            && let Err(error) = tokio::time::timeout(
                ANNOUNCE_EVERY * 2,
                dotpha_bus::roles::withdraw(&bucket, &self.key),
            )
            .await
            .unwrap_or_else(|_| {
                Err(dotpha_bus::BusError::new(
                    dotpha_bus::BusErrorKind::Nats,
                    "deleting the role record timed out",
                ))
            })
        {
            tracing::debug!(%error, "the role record stays until it expires");
        }
    }
}
