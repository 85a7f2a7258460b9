//! The write side's counters and histograms, in a Prometheus registry the
//! HTTP server exposes on `/metrics`.

use prometheus_client::{
    metrics::{counter::Counter, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// Metrics of the writer and the relay. Cloning shares them.
#[derive(Clone, Debug)]
pub struct IngestMetrics {
    /// Submissions accepted.
    pub accepted: Counter,
    /// Submissions rejected.
    pub rejected: Counter,
    /// Repeats of decided submissions, answered with the original receipt.
    pub duplicates: Counter,
    /// Messages kept as dead letters.
    pub dead_letters: Counter,
    /// Messages per committed batch.
    pub batch_size: Histogram,
    /// Seconds per commit (decide + append + fsync).
    pub commit_seconds: Histogram,
    /// Seconds per batch from the local commit to the replicated stream's
    /// acknowledgement of its records (`DOTPHA_DECISIONS`).
    pub replicate_seconds: Histogram,
    /// The log's head position.
    pub log_head: Gauge,
    /// Events committed but not yet on `DOTPHA_EVENTS`.
    pub relay_lag: Gauge,
    /// Events published by the relay.
    pub relayed: Counter,
    /// Checkpoints signed.
    pub checkpoints_signed: Counter,
    /// The tree size of the latest signed checkpoint.
    pub checkpoint_size: Gauge,
    /// Witnesses' cosignatures verified and kept.
    pub cosignatures: Counter,
}

impl Default for IngestMetrics {
    fn default() -> IngestMetrics {
        IngestMetrics {
            accepted: Counter::default(),
            rejected: Counter::default(),
            duplicates: Counter::default(),
            dead_letters: Counter::default(),
            batch_size: Histogram::new([1.0, 4.0, 16.0, 64.0, 128.0, 256.0, 512.0]),
            commit_seconds: Histogram::new([
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5,
            ]),
            replicate_seconds: Histogram::new([
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5,
            ]),
            log_head: Gauge::default(),
            relay_lag: Gauge::default(),
            relayed: Counter::default(),
            checkpoints_signed: Counter::default(),
            checkpoint_size: Gauge::default(),
            cosignatures: Counter::default(),
        }
    }
}

impl IngestMetrics {
    /// Adds every metric to `registry` under `dotpha_`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "dotpha_submissions_accepted",
            "Submissions accepted",
            self.accepted.clone(),
        );
        registry.register(
            "dotpha_submissions_rejected",
            "Submissions rejected",
            self.rejected.clone(),
        );
        registry.register(
            "dotpha_submissions_duplicate",
            "Repeated submissions answered with their original receipt",
            self.duplicates.clone(),
        );
        registry.register(
            "dotpha_dead_letters",
            "Messages kept as dead letters",
            self.dead_letters.clone(),
        );
        registry.register(
            "dotpha_batch_size",
            "Messages per committed batch",
            self.batch_size.clone(),
        );
        registry.register(
            "dotpha_commit_seconds",
            "Seconds per batch commit",
            self.commit_seconds.clone(),
        );
        registry.register(
            "dotpha_replicate_seconds",
            "Seconds per batch from the local commit to DOTPHA_DECISIONS' acknowledgement",
            self.replicate_seconds.clone(),
        );
        registry.register(
            "dotpha_log_head",
            "Position of the log's last event",
            self.log_head.clone(),
        );
        registry.register(
            "dotpha_relay_lag",
            "Events committed but not yet published on DOTPHA_EVENTS",
            self.relay_lag.clone(),
        );
        registry.register(
            "dotpha_events_relayed",
            "Events published on DOTPHA_EVENTS",
            self.relayed.clone(),
        );
        registry.register(
            "dotpha_checkpoints_signed",
            "Checkpoints of the log's Merkle tree signed",
            self.checkpoints_signed.clone(),
        );
        registry.register(
            "dotpha_checkpoint_tree_size",
            "Tree size of the latest signed checkpoint",
            self.checkpoint_size.clone(),
        );
        registry.register(
            "dotpha_cosignatures",
            "Witnesses' cosignatures verified and kept",
            self.cosignatures.clone(),
        );
    }
}
