//! The write side's counters and histograms, in a Prometheus registry the
//! HTTP server exposes on `/metrics`.

use dotpha_domain::{
    EventType, Timestamp,
    wire::{Receipt, ReceiptStatus},
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// A rejection's labels: the contract's code and the unit it was sent for
/// (`unknown` when the submission named none that could be read).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectionLabels {
    /// The rejection code (`invalid_value`, `forbidden`, ...).
    pub code: String,
    /// The unit.
    pub unit: String,
}

/// A unit's label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UnitLabels {
    /// The unit.
    pub unit: String,
}

/// [`IngestMetrics::role`] of a process that writes the log.
pub const ROLE_ACTIVE: i64 = 1;
/// [`IngestMetrics::role`] of a standby following `DOTPHA_DECISIONS`.
pub const ROLE_STANDBY: i64 = 0;

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
    /// Rejections by code and unit.
    pub rejections: Family<RejectionLabels, Counter>,
    /// When each unit's last progress report was committed (Unix seconds):
    /// what a "no report from this commune" alert in Prometheus watches.
    pub last_report: Family<UnitLabels, Gauge>,
    /// [`ROLE_ACTIVE`] while this process is the writer, [`ROLE_STANDBY`]
    /// while it follows `DOTPHA_DECISIONS`.
    pub role: Gauge,
    /// Records of `DOTPHA_DECISIONS` a standby has not applied yet (0 on
    /// the active writer).
    pub standby_lag: Gauge,
    /// The sequence of the last record of `DOTPHA_DECISIONS` this
    /// process's log holds (appended by the writer, applied by a standby).
    pub replica_record: Gauge,
    /// Times this process took over as the writer from a standby.
    pub takeovers: Counter,
    /// When it last took over (Unix seconds; 0: never).
    pub last_takeover: Gauge,
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
            rejections: Family::default(),
            last_report: Family::default(),
            role: Gauge::default(),
            standby_lag: Gauge::default(),
            replica_record: Gauge::default(),
            takeovers: Counter::default(),
            last_takeover: Gauge::default(),
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
        registry.register(
            "dotpha_rejections",
            "Submissions rejected, by rejection code and unit",
            self.rejections.clone(),
        );
        registry.register(
            "dotpha_last_report_timestamp_seconds",
            "When the unit's last progress report was committed, in Unix seconds",
            self.last_report.clone(),
        );
        registry.register(
            "dotpha_writer_role",
            "1 while this process is the log's writer, 0 while it is a standby",
            self.role.clone(),
        );
        registry.register(
            "dotpha_standby_lag_records",
            "Records of DOTPHA_DECISIONS the standby has not applied yet",
            self.standby_lag.clone(),
        );
        registry.register(
            "dotpha_replica_record",
            "The sequence of the last record of DOTPHA_DECISIONS this process's log holds",
            self.replica_record.clone(),
        );
        registry.register(
            "dotpha_takeovers",
            "Times this standby took over as the writer",
            self.takeovers.clone(),
        );
        registry.register(
            "dotpha_last_takeover_timestamp_seconds",
            "When this process last took over as the writer, in Unix seconds (0: never)",
            self.last_takeover.clone(),
        );
    }

    /// Counts one decision as its receipt tells it: accepted, rejected (by
    /// code and unit) or a repeat, and a unit's accepted progress report.
    pub fn decided(&self, receipt: &Receipt) {
        let unit = receipt.unit.as_deref().unwrap_or("unknown");
        match (receipt.duplicate, receipt.status) {
            (true, _) => {
                self.duplicates.inc();
            }
            (false, ReceiptStatus::Accepted) => {
                self.accepted.inc();
                let reported = receipt
                    .events
                    .iter()
                    .any(|e| e.event_type == EventType::ProgressReported.as_str());
                if reported && let Some(at) = Timestamp::parse(&receipt.recorded_at) {
                    self.last_report
                        .get_or_create(&UnitLabels {
                            unit: unit.to_owned(),
                        })
                        .set(at.unix_millis() / 1000);
                }
            }
            (false, ReceiptStatus::Rejected) => {
                self.rejected.inc();
                let code = receipt
                    .error
                    .as_ref()
                    .map_or("unknown", |e| e.code.as_str());
                self.rejections
                    .get_or_create(&RejectionLabels {
                        code: code.to_owned(),
                        unit: unit.to_owned(),
                    })
                    .inc();
            }
        }
    }
}
