//! Creating the streams and the writer's consumer, idempotently, and reading
//! their configuration back: nats-server 2.9 accepts and silently drops some
//! settings of newer servers, so what was asked for is checked, not assumed.

use std::time::Duration;

use async_nats::jetstream::{
    self,
    consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull},
    stream::{Config, RetentionPolicy, StorageType},
};

use crate::{
    BusError,
    subjects::{
        ALERTS_STREAM, ALERTS_SUBJECTS, CHECKPOINT, CHECKPOINTS_STREAM, COSIGNATURES_STREAM,
        COSIGNATURES_SUBJECTS, DEAD_STREAM, DEAD_SUBJECTS, DECISION, DECISIONS_STREAM,
        EVENTS_STREAM, EVENTS_SUBJECTS, MSG_ID, SUBMISSIONS_STREAM, SUBMISSIONS_SUBJECTS,
        WRITER_CONSUMER,
    },
};

/// How long submissions wait in the broker for the writer. Publishers retry
/// until they hold a receipt, so this bounds storage, not durability.
pub const SUBMISSIONS_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long dead letters are kept on the bus (the log keeps them forever).
pub const DEAD_MAX_AGE: Duration = Duration::from_secs(90 * 24 * 3600);
/// The broker's deduplication window by `Nats-Msg-Id`; the log deduplicates
/// forever by submission id, so this only spares it work.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// How long a fetched submission may stay unacked before the broker offers
/// it again. A batch commits in milliseconds; this is far above that.
pub const WRITER_ACK_WAIT: Duration = Duration::from_secs(30);
/// Unacked submissions the writer may hold (several batches).
pub const WRITER_MAX_ACK_PENDING: i64 = 4096;

/// Checkpoints `DOTPHA_CHECKPOINTS` keeps: the newest are what witnesses
/// need (the latest always stays, however long the log is idle); older
/// ones are history, which the log itself keeps in full.
pub const CHECKPOINTS_KEPT: i64 = 100_000;
/// The deduplication window of `DOTPHA_CHECKPOINTS`: long enough to absorb
/// the writer's retries of one publish, short enough that a note signed
/// again for a size (a restored log) still reaches witnesses.
pub const CHECKPOINT_DUPLICATE_WINDOW: Duration = Duration::from_secs(60);
/// How long cosignatures wait on the bus for the log to take them (the log
/// keeps them for good).
pub const COSIGNATURES_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// How long reminders stay on the bus: a month of a commune's feed (they are
/// recomputed from the read model every day, so nothing is lost after).
pub const ALERTS_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);
/// The deduplication window of `DOTPHA_ALERTS`: a whole day in Vietnam and
/// a margin, so a reminder (its `Nats-Msg-Id` names its day) is kept once
/// per day however many projection workers publish it and however often
/// they restart.
pub const ALERTS_DUPLICATE_WINDOW: Duration = Duration::from_secs(26 * 3600);

/// Most replicas a JetStream stream may have.
pub const MAX_REPLICAS: usize = 5;

fn stream_configs(replicas: usize) -> [Config; 7] {
    [
        Config {
            name: DECISIONS_STREAM.to_owned(),
            subjects: vec![DECISION.to_owned()],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            duplicate_window: DUPLICATE_WINDOW,
            description: Some(
                "dotpha: the log's committed decisions, batch by batch, for standby writers"
                    .to_owned(),
            ),
            num_replicas: replicas,
            ..Default::default()
        },
        Config {
            name: SUBMISSIONS_STREAM.to_owned(),
            subjects: vec![SUBMISSIONS_SUBJECTS.to_owned()],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            max_age: SUBMISSIONS_MAX_AGE,
            duplicate_window: DUPLICATE_WINDOW,
            description: Some(
                "dotpha: submissions from publishers, awaiting the log writer".to_owned(),
            ),
            num_replicas: replicas,
            ..Default::default()
        },
        Config {
            name: EVENTS_STREAM.to_owned(),
            subjects: vec![EVENTS_SUBJECTS.to_owned()],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            duplicate_window: DUPLICATE_WINDOW,
            description: Some("dotpha: committed events, in log order".to_owned()),
            num_replicas: replicas,
            ..Default::default()
        },
        Config {
            name: DEAD_STREAM.to_owned(),
            subjects: vec![DEAD_SUBJECTS.to_owned()],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            max_age: DEAD_MAX_AGE,
            duplicate_window: DUPLICATE_WINDOW,
            description: Some("dotpha: messages that could not be read or answered".to_owned()),
            num_replicas: replicas,
            ..Default::default()
        },
        Config {
            name: CHECKPOINTS_STREAM.to_owned(),
            subjects: vec![CHECKPOINT.to_owned()],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            max_messages_per_subject: CHECKPOINTS_KEPT,
            duplicate_window: CHECKPOINT_DUPLICATE_WINDOW,
            description: Some("dotpha: the log's signed checkpoints (C2SP notes)".to_owned()),
            num_replicas: replicas,
            ..Default::default()
        },
        Config {
            name: COSIGNATURES_STREAM.to_owned(),
            subjects: vec![COSIGNATURES_SUBJECTS.to_owned()],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            max_age: COSIGNATURES_MAX_AGE,
            duplicate_window: DUPLICATE_WINDOW,
            description: Some("dotpha: witnesses' cosignatures of checkpoints".to_owned()),
            num_replicas: replicas,
            ..Default::default()
        },
        Config {
            name: ALERTS_STREAM.to_owned(),
            subjects: vec![ALERTS_SUBJECTS.to_owned()],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            max_age: ALERTS_MAX_AGE,
            duplicate_window: ALERTS_DUPLICATE_WINDOW,
            description: Some(
                "dotpha: reminders of what needs attention, per unit and day".to_owned(),
            ),
            num_replicas: replicas,
            ..Default::default()
        },
    ]
}

/// Creates the three streams, or updates them to the wanted settings, and
/// checks that the server kept every setting that matters.
///
/// `replicas` is how many servers keep each stream: 1 on a single server;
/// 3 on a 3-node cluster, where a stream with one replica is lost (until
/// its node returns) when that node dies. The consumers dotpha creates
/// leave their replica count unset and so inherit the stream's. An existing
/// stream is scaled to `replicas` (the server moves its data); a single
/// server refuses more than one replica, and that is reported as an error.
pub async fn ensure_streams(js: &jetstream::Context, replicas: usize) -> Result<(), BusError> {
    if !(1..=MAX_REPLICAS).contains(&replicas) {
        return Err(BusError::config(format!(
            "{replicas} stream replicas: JetStream keeps 1 to {MAX_REPLICAS}"
        )));
    }
    for wanted in stream_configs(replicas) {
        let info = match js.get_stream(&wanted.name).await {
            Ok(mut stream) => {
                let current = stream
                    .info()
                    .await
                    .map_err(|e| BusError::nats(wanted.name.clone(), e))?
                    .config
                    .clone();
                if stream_differs(&wanted, &current).is_some() {
                    // Sources are managed apart (communes on leaf nodes,
                    // `crate::leaf`): an update keeps them.
                    let mut update = wanted.clone();
                    update.sources = current.sources.clone();
                    js.update_stream(update)
                        .await
                        .map_err(|e| BusError::nats(wanted.name.clone(), e))?
                } else {
                    stream
                        .info()
                        .await
                        .map_err(|e| BusError::nats(wanted.name.clone(), e))?
                        .clone()
                }
            }
            Err(_) => {
                let mut stream = js
                    .create_stream(wanted.clone())
                    .await
                    .map_err(|e| BusError::nats(format!("creating stream {}", wanted.name), e))?;
                stream
                    .info()
                    .await
                    .map_err(|e| BusError::nats(wanted.name.clone(), e))?
                    .clone()
            }
        };
        if let Some(difference) = stream_differs(&wanted, &info.config) {
            return Err(BusError::config(format!(
                "stream {} was not configured as asked ({difference}); the server may be too old or the stream \
                 was created by something else",
                wanted.name
            )));
        }
    }
    Ok(())
}

fn stream_differs(wanted: &Config, got: &Config) -> Option<String> {
    if got.subjects != wanted.subjects {
        return Some(format!(
            "subjects {:?}, wanted {:?}",
            got.subjects, wanted.subjects
        ));
    }
    if got.storage != wanted.storage {
        return Some(format!(
            "storage {:?}, wanted {:?}",
            got.storage, wanted.storage
        ));
    }
    if got.retention != wanted.retention {
        return Some(format!(
            "retention {:?}, wanted {:?}",
            got.retention, wanted.retention
        ));
    }
    if got.max_age != wanted.max_age {
        return Some(format!(
            "max_age {:?}, wanted {:?}",
            got.max_age, wanted.max_age
        ));
    }
    if got.duplicate_window != wanted.duplicate_window {
        return Some(format!(
            "duplicate_window {:?}, wanted {:?}",
            got.duplicate_window, wanted.duplicate_window
        ));
    }
    // Unlimited is 0 when asked for and -1 when reported.
    if got.max_messages_per_subject.max(0) != wanted.max_messages_per_subject.max(0) {
        return Some(format!(
            "max_messages_per_subject {}, wanted {}",
            got.max_messages_per_subject, wanted.max_messages_per_subject
        ));
    }
    // The server reports 1 for a stream created with the count unset (0).
    if got.num_replicas.max(1) != wanted.num_replicas.max(1) {
        return Some(format!(
            "num_replicas {}, wanted {}",
            got.num_replicas, wanted.num_replicas
        ));
    }
    None
}

/// The writer's consumer, delivering from `start_sequence` on (or from the
/// stream's start when it was reset), with the sequence it starts at.
///
/// The writer, not the broker, knows where it stopped: it commits its read
/// position with its decisions. A consumer's ack state cannot keep order
/// across a crash (an unacked batch comes back after `ack_wait`, behind later
/// messages), so the consumer is made anew at every start, beginning right
/// after the committed position. Only one writer runs per NATS deployment
/// (it holds the writer's [`crate::lease`]), so nobody else uses this
/// consumer.
///
/// `last_read_tag` is the `Nats-Msg-Id` of the message at `start_sequence -
/// 1` as the writer read it: when the stream now holds another message
/// there, it was lost and refilled (a new NATS store that has since taken
/// as many messages), and is read from its start instead of skipping the
/// new messages.
pub async fn writer_consumer(
    js: &jetstream::Context,
    start_sequence: u64,
    last_read_tag: Option<&str>,
) -> Result<(PullConsumer, u64), BusError> {
    let mut stream = js
        .get_stream(SUBMISSIONS_STREAM)
        .await
        .map_err(|e| BusError::nats(SUBMISSIONS_STREAM, e))?;
    let last = stream
        .info()
        .await
        .map_err(|e| BusError::nats(SUBMISSIONS_STREAM, e))?
        .state
        .last_sequence;
    let start_sequence = if start_sequence > last + 1 {
        // The stream holds less than the log has read: it was recreated (a
        // new NATS store). Its messages are all new to the log; decisions
        // are deduplicated by submission id, so reading it all is safe.
        tracing::warn!(
            start_sequence,
            last,
            "the submissions stream is behind the log's read position; it was reset, reading it from the start"
        );
        1
    } else if start_sequence > 1
        && let Some(expected) = last_read_tag
        && let Ok(message) = stream.get_raw_message(start_sequence - 1).await
        && message.headers.get(MSG_ID).map(|v| v.as_str()) != Some(expected)
    {
        tracing::warn!(
            start_sequence,
            expected,
            "the submissions stream holds another message where the log stopped reading; it was reset, reading it from the start"
        );
        1
    } else {
        start_sequence.max(1)
    };
    match stream.delete_consumer(WRITER_CONSUMER).await {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(BusError::nats("removing the old writer consumer", e)),
    }
    let wanted = pull::Config {
        durable_name: Some(WRITER_CONSUMER.to_owned()),
        description: Some("dotpha: the log writer".to_owned()),
        deliver_policy: DeliverPolicy::ByStartSequence { start_sequence },
        // The writer decides in stream order and commits whole batches, so
        // acking a batch's last message may release all before it: one ack
        // per batch instead of hundreds.
        ack_policy: AckPolicy::All,
        ack_wait: WRITER_ACK_WAIT,
        max_ack_pending: WRITER_MAX_ACK_PENDING,
        filter_subject: SUBMISSIONS_SUBJECTS.to_owned(),
        ..Default::default()
    };
    let consumer = create_checked(&stream, wanted, "the writer consumer").await?;
    Ok((consumer, start_sequence))
}

/// Creates the consumer `wanted` on `stream` and reads its configuration
/// back: a server that dropped a setting (nats-server 2.9 ignores some of
/// newer servers silently) is a [`BusErrorKind::Config`] error naming it.
async fn create_checked(
    stream: &jetstream::stream::Stream,
    wanted: pull::Config,
    what: &str,
) -> Result<PullConsumer, BusError> {
    let mut consumer: PullConsumer = stream
        .create_consumer(wanted.clone())
        .await
        .map_err(|e| BusError::nats(format!("creating {what}"), e))?;
    let got = consumer
        .info()
        .await
        .map_err(|e| BusError::nats(format!("reading {what}"), e))?
        .config
        .clone();
    if let Some(difference) = consumer_differs(&wanted, &got) {
        return Err(BusError::config(format!(
            "{what} was not configured as asked ({difference}); the server may be too old"
        )));
    }
    Ok(consumer)
}

/// The first setting of `wanted` that `got` (as the server returned it)
/// does not hold. A zero `ack_wait` or `inactive_threshold` asks for the
/// server's default, which it then reports.
fn consumer_differs(wanted: &pull::Config, got: &jetstream::consumer::Config) -> Option<String> {
    if got.deliver_policy != wanted.deliver_policy {
        return Some(format!(
            "deliver_policy {:?}, wanted {:?}",
            got.deliver_policy, wanted.deliver_policy
        ));
    }
    if got.ack_policy != wanted.ack_policy {
        return Some(format!(
            "ack_policy {:?}, wanted {:?}",
            got.ack_policy, wanted.ack_policy
        ));
    }
    if !wanted.ack_wait.is_zero() && got.ack_wait != wanted.ack_wait {
        return Some(format!(
            "ack_wait {:?}, wanted {:?}",
            got.ack_wait, wanted.ack_wait
        ));
    }
    if got.max_ack_pending != wanted.max_ack_pending {
        return Some(format!(
            "max_ack_pending {}, wanted {}",
            got.max_ack_pending, wanted.max_ack_pending
        ));
    }
    if got.filter_subject != wanted.filter_subject {
        return Some(format!(
            "filter_subject {:?}, wanted {:?}",
            got.filter_subject, wanted.filter_subject
        ));
    }
    if !wanted.inactive_threshold.is_zero() && got.inactive_threshold != wanted.inactive_threshold {
        return Some(format!(
            "inactive_threshold {:?}, wanted {:?}",
            got.inactive_threshold, wanted.inactive_threshold
        ));
    }
    None
}

/// How long the server keeps a projection consumer nobody pulls from (its
/// worker died without deleting it).
pub const PROJECTOR_IDLE: Duration = Duration::from_secs(300);
/// Unacked events a projection worker may hold (a few batches).
pub const PROJECTOR_MAX_ACK_PENDING: i64 = 4096;

/// A projection worker's consumer of `DOTPHA_EVENTS`, named `name` (one
/// per process, so workers of one name on other hosts never delete each
/// other's), delivering from the first event a read model lacks: the one
/// after `stream_sequence` when the read model recorded it, and otherwise
/// the one after `position` (the relay publishes position p at sequence p
/// plus an offset; the stream's last message gives it).
///
/// The read model, not the broker, knows where it stopped (it commits its
/// stream sequence with each batch), so the consumer is made anew at every
/// start; the server drops one left by a dead worker after
/// [`PROJECTOR_IDLE`]. Its configuration is read back and checked.
pub async fn projector_consumer(
    js: &jetstream::Context,
    name: &str,
    position: u64,
    stream_sequence: Option<u64>,
) -> Result<PullConsumer, BusError> {
    let start_sequence = match stream_sequence {
        Some(sequence) => sequence + 1,
        None => {
            let last = last_relayed(js).await?;
            if position >= last.position {
                last.sequence + 1
            } else {
                last.sequence
                    .saturating_sub(last.position - (position + 1))
                    .max(1)
            }
        }
    };
    let stream = js
        .get_stream(EVENTS_STREAM)
        .await
        .map_err(|e| BusError::nats(EVENTS_STREAM, e))?;
    match stream.delete_consumer(name).await {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) => {
            return Err(BusError::nats(
                format!("removing the old consumer {name}"),
                e,
            ));
        }
    }
    let wanted = pull::Config {
        durable_name: Some(name.to_owned()),
        description: Some("dotpha: a projection worker".to_owned()),
        deliver_policy: DeliverPolicy::ByStartSequence { start_sequence },
        ack_policy: AckPolicy::All,
        filter_subject: EVENTS_SUBJECTS.to_owned(),
        max_ack_pending: PROJECTOR_MAX_ACK_PENDING,
        inactive_threshold: PROJECTOR_IDLE,
        ..Default::default()
    };
    create_checked(&stream, wanted, &format!("the projection consumer {name}")).await
}

/// Deletes a projection worker's consumer (a clean stop leaves none).
pub async fn delete_projector_consumer(js: &jetstream::Context, name: &str) {
    if let Ok(stream) = js.get_stream(EVENTS_STREAM).await {
        let _ = stream.delete_consumer(name).await;
    }
}

/// Whether deleting a consumer failed only because there was none.
/// Whether `DOTPHA_SUBMISSIONS` holds a message at `sequence` (false when
/// it was removed: by age, or by hand).
pub async fn submission_held(js: &jetstream::Context, sequence: u64) -> Result<bool, BusError> {
    let stream = js
        .get_stream(SUBMISSIONS_STREAM)
        .await
        .map_err(|e| BusError::nats(SUBMISSIONS_STREAM, e))?;
    match stream.get_raw_message(sequence).await {
        Ok(_) => Ok(true),
        Err(error)
            if error.kind() == jetstream::stream::LastRawMessageErrorKind::NoMessageFound =>
        {
            Ok(false)
        }
        Err(error) => Err(BusError::nats(
            format!("reading {SUBMISSIONS_STREAM} at {sequence}"),
            error,
        )),
    }
}

fn is_not_found(error: &jetstream::stream::ConsumerError) -> bool {
    matches!(
        error.kind(),
        jetstream::stream::ConsumerErrorKind::JetStream(e)
            if e.error_code() == jetstream::ErrorCode::CONSUMER_NOT_FOUND
    )
}

/// Deletes the events stream (after the log was restored from a backup, it
/// holds events the log no longer has); the relay recreates it and refills
/// it from the log. True when there was a stream to delete.
pub async fn delete_events_stream(js: &jetstream::Context) -> Result<bool, BusError> {
    if js.get_stream(EVENTS_STREAM).await.is_err() {
        return Ok(false);
    }
    js.delete_stream(EVENTS_STREAM)
        .await
        .map_err(|e| BusError::nats(format!("deleting {EVENTS_STREAM}"), e))?;
    Ok(true)
}

/// The last event on the events stream: where the relay resumes, and the
/// hash it must find at that position in the log to continue from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastRelayed {
    /// Its stream sequence (0 when the stream is empty).
    pub sequence: u64,
    /// Its log position, from `Nats-Msg-Id` (0 when the stream is empty).
    pub position: u64,
    /// Its `hash` (`None` when the stream is empty).
    pub hash: Option<String>,
}

/// An event on the events stream, as far as telling logs apart needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayedEvent {
    /// Its stream sequence.
    pub sequence: u64,
    /// Its log position (`Nats-Msg-Id`).
    pub position: u64,
    /// Its `hash`.
    pub hash: String,
    /// Its `type`, `unit` and `recorded_at`, to name the log it belongs to.
    pub summary: String,
}

/// The first event the events stream holds (`None` when it is empty or
/// does not exist): with the log's event at the same position, it tells
/// whether the stream carries this log's events or another's.
pub async fn first_relayed(js: &jetstream::Context) -> Result<Option<RelayedEvent>, BusError> {
    let Ok(mut stream) = js.get_stream(EVENTS_STREAM).await else {
        return Ok(None);
    };
    let state = stream
        .info()
        .await
        .map_err(|e| BusError::nats(EVENTS_STREAM, e))?
        .state
        .clone();
    if state.messages == 0 {
        return Ok(None);
    }
    let sequence = state.first_sequence;
    let message = stream
        .get_raw_message(sequence)
        .await
        .map_err(|e| BusError::nats("reading the first event on the bus", e))?;
    let foreign = |what: &str| {
        BusError::config(format!(
            "message {sequence} of {EVENTS_STREAM} has no {what}: something other than the relay published there"
        ))
    };
    let position = message
        .headers
        .get(MSG_ID)
        .and_then(|v| v.as_str().parse::<u64>().ok())
        .ok_or_else(|| foreign(&format!("numeric {MSG_ID}")))?;
    let event = serde_json::from_slice::<serde_json::Value>(&message.payload)
        .map_err(|_| foreign("event object"))?;
    let text = |name: &str| {
        event
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_owned()
    };
    let hash = event
        .get("hash")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| foreign("event object with a hash"))?;
    Ok(Some(RelayedEvent {
        sequence,
        position,
        hash,
        summary: format!(
            "{} of {}, recorded {}",
            text("type"),
            text("unit"),
            text("recorded_at")
        ),
    }))
}

/// What the events stream holds last, read once.
pub async fn last_relayed(js: &jetstream::Context) -> Result<LastRelayed, BusError> {
    let mut stream = js
        .get_stream(EVENTS_STREAM)
        .await
        .map_err(|e| BusError::nats(EVENTS_STREAM, e))?;
    let last = stream
        .info()
        .await
        .map_err(|e| BusError::nats(EVENTS_STREAM, e))?
        .state
        .last_sequence;
    if last == 0 {
        return Ok(LastRelayed {
            sequence: 0,
            position: 0,
            hash: None,
        });
    }
    let message = stream
        .get_raw_message(last)
        .await
        .map_err(|e| BusError::nats("reading the last event on the bus", e))?;
    let foreign = |what: &str| {
        BusError::config(format!(
            "message {last} of {EVENTS_STREAM} has no {what}: something other than the relay published there"
        ))
    };
    let position = message
        .headers
        .get(MSG_ID)
        .and_then(|v| v.as_str().parse::<u64>().ok())
        .ok_or_else(|| foreign(&format!("numeric {MSG_ID}")))?;
    let hash = serde_json::from_slice::<serde_json::Value>(&message.payload)
        .ok()
        .and_then(|event| event.get("hash")?.as_str().map(str::to_owned))
        .ok_or_else(|| foreign("event object with a hash"))?;
    Ok(LastRelayed {
        sequence: last,
        position,
        hash: Some(hash),
    })
}

/// How long the server keeps a follower consumer nobody pulls from (its
/// process died without deleting it).
pub const FOLLOWER_IDLE: Duration = Duration::from_secs(300);

/// A consumer of `stream` (only `filter_subject`) for one process that
/// follows it from `deliver` on, acking each message; the caller keeps its
/// own place and makes it anew after any failure. Named `name` (unique per
/// process); the server removes it after [`FOLLOWER_IDLE`] unused.
pub async fn follower(
    js: &jetstream::Context,
    stream: &str,
    filter_subject: &str,
    name: &str,
    deliver: DeliverPolicy,
) -> Result<PullConsumer, BusError> {
    let stream = js
        .get_stream(stream)
        .await
        .map_err(|e| BusError::nats(stream, e))?;
    let _ = stream.delete_consumer(name).await;
    stream
        .create_consumer(pull::Config {
            durable_name: Some(name.to_owned()),
            deliver_policy: deliver,
            ack_policy: AckPolicy::Explicit,
            filter_subject: filter_subject.to_owned(),
            inactive_threshold: FOLLOWER_IDLE,
            ..Default::default()
        })
        .await
        .map_err(|e| BusError::nats(format!("creating consumer {name}"), e))
}
