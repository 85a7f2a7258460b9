//! Who writes the log and who stands by, as each writer process says it in
//! NATS (issue 16): so `dotpha status` on any host can list every writer,
//! its role and how far its log is behind `DOTPHA_DECISIONS`, with nothing
//! but a NATS connection.
//!
//! Each writer process (the active one and every standby) keeps one key of
//! the key-value bucket [`ROLES_BUCKET`] (stream `KV_dotpha_roles`, made by
//! hand as the lease's is): its data directory's writer id, holding a
//! [`RoleRecord`] it writes again every [`ANNOUNCE_EVERY`]. A process that
//! stops cleanly deletes its key; one that dies leaves it, and the stream
//! drops it [`ROLES_MAX_AGE`] after its last write. A record says what its
//! process believed when it wrote it; the lease (`lease.rs`), not this
//! bucket, decides who may write, and nothing but `dotpha status` reads
//! it.

use std::time::Duration;

use async_nats::jetstream::{
    self,
    kv::Store,
    stream::{Config, DiscardPolicy, StorageType},
};
use serde::{Deserialize, Serialize};

use crate::{
    BusError,
    lease::{RENEW_EVERY, kv_bucket},
};

/// The bucket holding each writer process's role; its stream is
/// `KV_dotpha_roles`.
pub const ROLES_BUCKET: &str = "dotpha_roles";
/// How often a writer process writes its record: as often as the lease is
/// renewed, so a record is never much older than the lease's.
pub const ANNOUNCE_EVERY: Duration = RENEW_EVERY;
/// How long the stream keeps a record after its last write: a process that
/// died without deleting its key is listed (as not renewing) for this
/// long, long enough for an operator to see which one went.
pub const ROLES_MAX_AGE: Duration = Duration::from_secs(60);
/// [`RoleRecord::role`] of the process that holds the writer's lease.
pub const ROLE_ACTIVE: &str = "active";
/// [`RoleRecord::role`] of a standby following `DOTPHA_DECISIONS`.
pub const ROLE_STANDBY: &str = "standby";

/// What a writer process says of itself (JSON, one key per data
/// directory). Readers ignore members they do not know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRecord {
    /// [`ROLE_ACTIVE`] or [`ROLE_STANDBY`].
    pub role: String,
    /// The host's name.
    pub host: String,
    /// The process id on that host.
    pub pid: u32,
    /// The log file it writes or follows (a path on `host`).
    pub log: String,
    /// The process's own id, new at every start (as the lease's
    /// `Holder::session`).
    pub session: String,
    /// The sequence of the last record of `DOTPHA_DECISIONS` its log holds
    /// (0: none).
    pub applied: u64,
    /// Its log's head position.
    pub log_head: u64,
    /// When this process last took over as the writer (RFC 3339, UTC, its
    /// own clock); `None` if it never did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_takeover: Option<String>,
}

fn bucket_config(replicas: usize) -> Config {
    Config {
        name: format!("KV_{ROLES_BUCKET}"),
        description: Some(
            "dotpha: each writer process's role and place (dotpha status)".to_owned(),
        ),
        subjects: vec![format!("$KV.{ROLES_BUCKET}.>")],
        // One value per key: only the last record matters.
        max_messages_per_subject: 1,
        max_age: ROLES_MAX_AGE,
        storage: StorageType::File,
        allow_rollup: true,
        // A process that stops cleanly deletes its own key.
        deny_delete: false,
        allow_direct: false,
        discard: DiscardPolicy::New,
        num_replicas: replicas,
        ..Default::default()
    }
}

/// Creates the roles bucket's stream (or brings it to `replicas`) and
/// opens the bucket; what a writer process announces itself in.
pub async fn roles_bucket(js: &jetstream::Context, replicas: usize) -> Result<Store, BusError> {
    kv_bucket(js, ROLES_BUCKET, bucket_config(replicas)).await
}

/// The key of a writer process: its data directory's writer id, with every
/// character a key may not hold dropped.
pub fn role_key(writer_id: &str) -> String {
    writer_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect()
}

/// Writes `record` under `key`.
pub async fn announce(kv: &Store, key: &str, record: &RoleRecord) -> Result<(), BusError> {
    let body = serde_json::to_vec(record)
        .map_err(|e| BusError::nats(format!("encoding the role record {key:?}"), e))?;
    kv.put(key, body.into())
        .await
        .map_err(|e| BusError::nats(format!("writing the role record {key:?}"), e))?;
    Ok(())
}

/// Deletes `key`: its process stopped cleanly.
pub async fn withdraw(kv: &Store, key: &str) -> Result<(), BusError> {
    kv.delete(key)
        .await
        .map_err(|e| BusError::nats(format!("deleting the role record {key:?}"), e))
}
