//! What `dotpha status` tells an operator on any host, from NATS alone
//! (issue 16): who holds the writer's lease and whether it is alive, where
//! `DOTPHA_DECISIONS` ends, every writer process's role and how many
//! records its log is behind, and the last takeover.
//!
//! Whether a holder is alive is judged as a claimant judges it, by watching
//! its record change, never by comparing this host's clock with another's:
//! [`status`] reads the lease and every role record, then reads them again
//! until each has been written anew or [`OBSERVE`] has passed. A holder
//! that wrote no renewal for [`OBSERVE`] no longer counts its own lease as
//! valid (it holds its writes), so it is not a valid active writer.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use async_nats::jetstream::{
    self, ErrorCode,
    context::GetStreamErrorKind,
    kv::{Entry, Operation, Store},
};
use futures::StreamExt;
use serde::Serialize;

use crate::{
    BusError,
    lease::{HOLD_MARGIN, Holder, LEASE_BUCKET, LEASE_TTL, WATCH_EVERY, WRITER_KEY},
    roles::{ROLES_BUCKET, RoleRecord},
    subjects::DECISIONS_STREAM,
};

/// The longest [`status`] watches for renewals: the time a holder keeps
/// believing in its lease after its last acknowledged renewal. A live
/// holder renews every second, so [`status`] usually returns within one.
pub const OBSERVE: Duration = LEASE_TTL.saturating_sub(HOLD_MARGIN);

/// Where the writer's lease stands, as [`status`] saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaseState {
    /// No writer ever held it on this NATS (no bucket, no key, or a record
    /// that names no holder).
    None,
    /// Its holder renewed it while [`status`] watched: a valid active
    /// writer.
    Active,
    /// Its holder stopped cleanly: the lease is free and nobody writes.
    Released,
    /// Not renewed for [`OBSERVE`]: its holder is dead, paused or cut off
    /// from NATS, and holds its writes; a standby takes the lease once it
    /// saw no renewal for `LEASE_TTL`.
    NotRenewing,
}

/// The writer's lease.
#[derive(Clone, Debug, Serialize)]
pub struct WriterLease {
    /// Where it stands.
    pub state: LeaseState,
    /// Its record, when there is one.
    pub holder: Option<Holder>,
    /// The key's revision (it grows with every renewal and taking).
    pub revision: Option<u64>,
    /// When the server stored the record (RFC 3339, UTC, the NATS server's
    /// clock): the last renewal.
    pub written_at: Option<String>,
}

/// Where `DOTPHA_DECISIONS` ends.
#[derive(Clone, Debug, Serialize)]
pub struct StreamEnd {
    /// The sequence of its last record (0: none yet).
    pub last_sequence: u64,
    /// Records it holds.
    pub messages: u64,
    /// When the server stored the last record (RFC 3339, UTC), if any.
    pub last_at: Option<String>,
}

/// One writer process, as its record in the roles bucket says it.
#[derive(Clone, Debug, Serialize)]
pub struct WriterProcess {
    /// Its key (the data directory's writer id).
    pub key: String,
    /// What it said.
    #[serde(flatten)]
    pub record: RoleRecord,
    /// Whether it wrote its record again while [`status`] watched.
    pub renewing: bool,
    /// When the server stored its record (RFC 3339, UTC).
    pub written_at: String,
    /// Records of `DOTPHA_DECISIONS` its log did not hold when it last
    /// wrote its record: the stream's last sequence now minus
    /// [`RoleRecord::applied`] (a record is at most about a second old, so
    /// a writer under load shows the records of its last second).
    pub lag_records: u64,
    /// Whether it is the process the writer's lease names (same host and
    /// process id).
    pub holds_lease: bool,
}

/// The last time the lease passed from one owner to another.
#[derive(Clone, Debug, Serialize)]
pub struct Takeover {
    /// When (RFC 3339, UTC, by the clock of the claimant that took it).
    pub at: String,
    /// Who held it before.
    pub from: Option<String>,
}

/// Everything `dotpha status` prints.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// The writer's lease.
    pub lease: WriterLease,
    /// The end of `DOTPHA_DECISIONS`; `None` when the stream does not
    /// exist.
    pub decisions: Option<StreamEnd>,
    /// Every writer process with a record, the lease's holder first, then
    /// by key.
    pub writers: Vec<WriterProcess>,
    /// The last takeover, from the lease's record.
    pub last_takeover: Option<Takeover>,
    /// How long [`status`] watched for renewals (milliseconds).
    pub observed_ms: u64,
}

impl Status {
    /// Whether a valid writer holds the lease: it renewed it just now.
    pub fn has_active_writer(&self) -> bool {
        self.lease.state == LeaseState::Active
    }
}

/// Opens the bucket `bucket` if its stream exists (`None` when no writer
/// ever made it on this NATS).
async fn open_bucket(js: &jetstream::Context, bucket: &str) -> Result<Option<Store>, BusError> {
    let stream = format!("KV_{bucket}");
    match js.get_stream(&stream).await {
        Ok(_) => {}
        Err(error)
            if matches!(error.kind(), GetStreamErrorKind::JetStream(ref e)
                if e.error_code() == ErrorCode::STREAM_NOT_FOUND) =>
        {
            return Ok(None);
        }
        Err(error) => return Err(BusError::nats(format!("reading {stream}"), error)),
    }
    js.get_key_value(bucket)
        .await
        .map(Some)
        .map_err(|e| BusError::nats(format!("opening the bucket {bucket}"), e))
}

/// RFC 3339 in UTC, to the millisecond, of a server's timestamp.
fn rfc3339(at: async_nats::datetime::DateTime) -> String {
    let millis = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    dotpha_domain::Timestamp::from_unix_millis(millis)
        .as_str()
        .to_owned()
}

async fn entry(kv: &Store, key: &str) -> Result<Option<Entry>, BusError> {
    let entry = kv
        .entry(key)
        .await
        .map_err(|e| BusError::nats(format!("reading {key:?}"), e))?;
    Ok(entry.filter(|e| e.operation == Operation::Put))
}

/// Every live key of the roles bucket.
async fn role_keys(kv: &Store) -> Result<Vec<String>, BusError> {
    let mut keys = kv
        .keys()
        .await
        .map_err(|e| BusError::nats(format!("listing {ROLES_BUCKET}"), e))?;
    let mut all = Vec::new();
    while let Some(key) = keys.next().await {
        all.push(key.map_err(|e| BusError::nats(format!("listing {ROLES_BUCKET}"), e))?);
    }
    Ok(all)
}

/// A record watched: the first revision seen, and the latest entry.
struct Watched {
    first: u64,
    latest: Option<Entry>,
}

impl Watched {
    fn moved(&self) -> bool {
        self.latest
            .as_ref()
            .is_some_and(|e| e.revision != self.first)
    }
}

fn holder_of(entry: &Entry) -> Option<Holder> {
    serde_json::from_slice(&entry.value).ok()
}

/// Reads where the writer's lease, `DOTPHA_DECISIONS` and every writer
/// process stand, watching the lease and the role records for renewals for
/// at most [`OBSERVE`] (see the module's documentation). Fails only when
/// NATS does not answer; a NATS where no writer ever ran gives
/// [`LeaseState::None`] and no writers.
pub async fn status(js: &jetstream::Context) -> Result<Status, BusError> {
    let started = Instant::now();
    let lease_kv = open_bucket(js, LEASE_BUCKET).await?;
    let roles_kv = open_bucket(js, ROLES_BUCKET).await?;
    let mut lease = match &lease_kv {
        Some(kv) => entry(kv, WRITER_KEY).await?.map(|e| Watched {
            first: e.revision,
            latest: Some(e),
        }),
        None => None,
    };
    let mut roles: BTreeMap<String, Watched> = BTreeMap::new();
    if let Some(kv) = &roles_kv {
        for key in role_keys(kv).await? {
            if let Some(e) = entry(kv, &key).await? {
                roles.insert(
                    key,
                    Watched {
                        first: e.revision,
                        latest: Some(e),
                    },
                );
            }
        }
    }
    // A lease worth watching: held by someone who did not release it.
    let watch_lease = |lease: &Option<Watched>| {
        lease.as_ref().is_some_and(|w| {
            !w.moved()
                && w.latest
                    .as_ref()
                    .and_then(holder_of)
                    .is_some_and(|h| !h.released)
        })
    };
    loop {
        let waiting_roles = roles.values().any(|w| w.latest.is_some() && !w.moved());
        if (!watch_lease(&lease) && !waiting_roles) || started.elapsed() >= OBSERVE {
            break;
        }
        tokio::time::sleep(WATCH_EVERY).await;
        if let (Some(kv), true) = (&lease_kv, watch_lease(&lease)) {
            let now = entry(kv, WRITER_KEY).await?;
            if let Some(watched) = &mut lease {
                watched.latest = now;
            }
        }
        if let Some(kv) = &roles_kv {
            for (key, watched) in roles.iter_mut() {
                if watched.latest.is_some() && !watched.moved() {
                    watched.latest = entry(kv, key).await?;
                }
            }
        }
    }
    let observed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

    let decisions = stream_end(js).await?;
    let last_sequence = decisions.as_ref().map_or(0, |d| d.last_sequence);

    let lease_entry = lease.as_ref().and_then(|w| w.latest.clone());
    let holder = lease_entry.as_ref().and_then(holder_of);
    let state = match (&holder, &lease) {
        (None, _) | (_, None) => LeaseState::None,
        (Some(h), _) if h.released => LeaseState::Released,
        (Some(_), Some(w)) if w.moved() => LeaseState::Active,
        (Some(_), Some(_)) => LeaseState::NotRenewing,
    };
    let last_takeover = holder.as_ref().and_then(|h| {
        h.taken_at.clone().map(|at| Takeover {
            at,
            from: h.taken_from.clone(),
        })
    });
    let mut writers: Vec<WriterProcess> = roles
        .into_iter()
        .filter_map(|(key, watched)| {
            let renewing = watched.moved();
            let entry = watched.latest?;
            let record: RoleRecord = serde_json::from_slice(&entry.value).ok()?;
            let holds_lease = state == LeaseState::Active
                && holder
                    .as_ref()
                    .is_some_and(|h| h.host == record.host && h.pid == record.pid);
            Some(WriterProcess {
                key,
                lag_records: last_sequence.saturating_sub(record.applied),
                renewing,
                written_at: rfc3339(entry.created),
                holds_lease,
                record,
            })
        })
        .collect();
    writers.sort_by_key(|w| !w.holds_lease);
    Ok(Status {
        lease: WriterLease {
            state,
            holder,
            revision: lease_entry.as_ref().map(|e| e.revision),
            written_at: lease_entry.map(|e| rfc3339(e.created)),
        },
        decisions,
        writers,
        last_takeover,
        observed_ms,
    })
}

/// Where `DOTPHA_DECISIONS` ends; `None` when it does not exist.
async fn stream_end(js: &jetstream::Context) -> Result<Option<StreamEnd>, BusError> {
    let mut stream = match js.get_stream(DECISIONS_STREAM).await {
        Ok(stream) => stream,
        Err(error)
            if matches!(error.kind(), GetStreamErrorKind::JetStream(ref e)
                if e.error_code() == ErrorCode::STREAM_NOT_FOUND) =>
        {
            return Ok(None);
        }
        Err(error) => return Err(BusError::nats(format!("reading {DECISIONS_STREAM}"), error)),
    };
    let info = stream
        .info()
        .await
        .map_err(|e| BusError::nats(format!("reading {DECISIONS_STREAM}"), e))?;
    let state = &info.state;
    Ok(Some(StreamEnd {
        last_sequence: state.last_sequence,
        messages: state.messages,
        last_at: (state.last_sequence > 0).then(|| rfc3339(state.last_timestamp)),
    }))
}
