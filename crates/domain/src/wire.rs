//! What the system emits, in the contract's JSON shapes: the event object
//! (as `DOTPHA_EVENTS` and the history route carry it) and the receipt.
//! Readers ignore members they do not know, so these may gain members.

use serde::{Deserialize, Serialize};

use crate::{Date, Event, EventType, Payload, Slug, Timestamp};
use serde_json::value::RawValue;

/// The `schema` of every event object.
pub const EVENT_SCHEMA: &str = "dotpha.event.v1";
/// The `schema` of every receipt.
pub const RECEIPT_SCHEMA: &str = "dotpha.receipt.v1";
/// `prev_hash` of the first event: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A committed event, as `DOTPHA_EVENTS` carries it and the history route
/// lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(title = "dotpha event, v1"))]
pub struct RecordedEvent {
    /// Always [`EVENT_SCHEMA`].
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::event_schema_tag")
    )]
    pub schema: String,
    /// Place in the log, from 1, without gaps.
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub position: u64,
    /// The stream, e.g. `task-ndp-2021-07`.
    pub stream: String,
    /// Version within the stream, from 1, without gaps.
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub version: u64,
    /// The event's type, e.g. `progress.reported`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "schema", schemars(with = "EventType"))]
    pub event_type: String,
    /// The unit the submission was sent for.
    #[cfg_attr(feature = "schema", schemars(with = "Slug"))]
    pub unit: String,
    /// Who acted.
    #[cfg_attr(feature = "schema", schemars(with = "Slug"))]
    pub actor: String,
    /// When it happened, as the publisher said.
    #[cfg_attr(feature = "schema", schemars(with = "Timestamp"))]
    pub occurred_at: String,
    /// When the log committed it, UTC with milliseconds.
    #[cfg_attr(feature = "schema", schemars(with = "Timestamp"))]
    pub recorded_at: String,
    /// The submission it came from.
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::submission_id")
    )]
    pub submission_id: String,
    /// The data, in RFC 8785 canonical form.
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::event_data")
    )]
    pub data: Box<RawValue>,
    /// Hash of the previous event ([`GENESIS_HASH`] for the first).
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::hash"))]
    pub prev_hash: String,
    /// SHA-256 of this object's canonical JSON without `hash`.
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::hash"))]
    pub hash: String,
}

impl RecordedEvent {
    /// Where the event sits, as a receipt lists it.
    pub fn reference(&self) -> EventRef {
        EventRef {
            position: self.position,
            stream: self.stream.clone(),
            version: self.version,
            event_type: self.event_type.clone(),
            hash: self.hash.clone(),
        }
    }
}

/// Accepted or rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// The submission's events are in the log.
    Accepted,
    /// The submission was decided against; nothing was appended.
    Rejected,
}

impl ReceiptStatus {
    /// As written on the wire and in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptStatus::Accepted => "accepted",
            ReceiptStatus::Rejected => "rejected",
        }
    }
}

/// An event as a receipt names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EventRef {
    /// Place in the log.
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub position: u64,
    /// The stream.
    pub stream: String,
    /// Version within the stream.
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub version: u64,
    /// The event's type.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "schema", schemars(with = "EventType"))]
    pub event_type: String,
    /// The event's hash.
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::hash"))]
    pub hash: String,
}

/// A rejection as a receipt carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorBody {
    /// The contract's rejection code.
    #[cfg_attr(feature = "schema", schemars(with = "crate::RejectionCode"))]
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
    /// The offending field's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The same for a person who reads Vietnamese: the code's sentence and
    /// the field's name and rule (`dotpha_domain::messages::explain`), never
    /// a parser's words. Absent from receipts of writers before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_vi: Option<String>,
}

impl ErrorBody {
    /// A rejection as a receipt carries it, with its Vietnamese sentence.
    pub fn new(code: &str, message: String, field: Option<String>) -> ErrorBody {
        let message_vi = crate::RejectionCode::parse(code)
            .map(|c| crate::messages::explain(c, field.as_deref(), crate::Lang::Vi));
        ErrorBody {
            code: code.to_owned(),
            message,
            field,
            message_vi,
        }
    }
}

/// The promise: a submission's decision, committed to the log.
///
/// Accepted: `events` lists what was appended and `error` is null. Rejected:
/// `events` is empty and `error` says why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(title = "dotpha receipt, v1"))]
pub struct Receipt {
    /// Always [`RECEIPT_SCHEMA`].
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::receipt_schema_tag")
    )]
    pub schema: String,
    /// The submission.
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::submission_id")
    )]
    pub submission_id: String,
    /// Accepted or rejected.
    pub status: ReceiptStatus,
    /// True when this answers a repeat of an already decided submission.
    pub duplicate: bool,
    /// The events appended (empty when rejected).
    pub events: Vec<EventRef>,
    /// Why it was rejected.
    pub error: Option<ErrorBody>,
    /// When the decision was committed.
    #[cfg_attr(feature = "schema", schemars(with = "Timestamp"))]
    pub recorded_at: String,
    /// The unit the submission was sent for, when it could be read; the
    /// receipt is published on `dotpha.v1.receipt.<unit>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Slug>"))]
    pub unit: Option<String>,
}

/// Why an event the log holds could not be decoded. Decoding checks only
/// grammar, never a write-time limit ([`crate::admit`]), so this means a
/// record from a newer writer or a damaged log, never a limit that changed.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The type is not one this build knows (a newer writer's).
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    /// The data does not have its type's shape.
    #[error("data of {event_type} cannot be read: {source}")]
    Data {
        /// The event's type.
        event_type: EventType,
        /// What serde found.
        #[source]
        source: serde_json::Error,
    },
    /// An envelope member (`unit`, `actor`, `occurred_at`) breaks its
    /// grammar.
    #[error("{member} {value:?} is not {expected}")]
    Member {
        /// The member's name.
        member: &'static str,
        /// Its stored text.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
}

impl RecordedEvent {
    /// The domain event this record holds, for folding into state or a read
    /// model. Fails on a record this build cannot read (a type from a newer
    /// writer, or corrupt data), naming what is wrong.
    pub fn decode(&self) -> Result<Event, DecodeError> {
        decode_event(
            &self.stream,
            self.version,
            &self.event_type,
            &self.unit,
            &self.actor,
            &self.occurred_at,
            &self.submission_id,
            self.data.get(),
        )
    }
}

/// Decodes an event from its stored members (see [`RecordedEvent::decode`]):
/// the one decoder every reader of the log uses (the writer's fold, the
/// projection, audit, verify).
#[allow(clippy::too_many_arguments)]
pub fn decode_event(
    stream: &str,
    version: u64,
    event_type: &str,
    unit: &str,
    actor: &str,
    occurred_at: &str,
    submission_id: &str,
    data: &str,
) -> Result<Event, DecodeError> {
    let kind = EventType::parse(event_type)
        .ok_or_else(|| DecodeError::UnknownType(event_type.to_owned()))?;
    let mut de = serde_json::Deserializer::from_str(data);
    let payload = Payload::from_data(kind, &mut de).map_err(|source| DecodeError::Data {
        event_type: kind,
        source,
    })?;
    let member = |member, value: &str, expected| DecodeError::Member {
        member,
        value: value.to_owned(),
        expected,
    };
    Ok(Event {
        stream: stream.to_owned(),
        version,
        unit: Slug::parse(unit).ok_or_else(|| member("unit", unit, "a slug"))?,
        actor: Slug::parse(actor).ok_or_else(|| member("actor", actor, "a slug"))?,
        occurred_at: Timestamp::parse(occurred_at)
            .ok_or_else(|| member("occurred_at", occurred_at, "an RFC 3339 instant"))?,
        submission_id: submission_id.to_owned(),
        payload,
    })
}

/// The `schema` of every reminder on `DOTPHA_ALERTS`.
pub const ALERT_SCHEMA: &str = "dotpha.alert.v1";

/// A reminder: what needs attention about one task on one day (Vietnam),
/// published once per task, kind (and milestone) and day on
/// `dotpha.v1.alert.<unit>` of JetStream stream `DOTPHA_ALERTS` with
/// `Nats-Msg-Id` = [`Alert::alert_id`], so a commune's systems can route it
/// (to Zalo, SMS, e-mail). `schemas/alert.v1.json`. Readers ignore members
/// they do not know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(title = "dotpha alert, v1"))]
pub struct Alert {
    /// Always [`ALERT_SCHEMA`].
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::alert_schema_tag")
    )]
    pub schema: String,
    /// `<day>.<task_id>.<kind>`, and `.<n>` for the n-th milestone (from
    /// 1): the same alert on the same day has the same id.
    pub alert_id: String,
    /// The day in Vietnam (UTC+7) the alert is for.
    pub day: Date,
    /// What it warns of.
    pub kind: crate::vocabulary::AlertKind,
    /// The unit of the task's assignee; the subject's last token.
    #[cfg_attr(feature = "schema", schemars(with = "Slug"))]
    pub unit: String,
    /// That unit's name.
    pub unit_name: String,
    /// The task.
    #[cfg_attr(feature = "schema", schemars(with = "Slug"))]
    pub task_id: String,
    /// The task's title.
    pub title: String,
    /// The assignee's cadre id.
    #[cfg_attr(feature = "schema", schemars(with = "Slug"))]
    pub assignee: String,
    /// The assignee's full name.
    pub assignee_name: String,
    /// For `milestone_due`, the milestone's title as in the current plan;
    /// otherwise null.
    pub milestone: Option<String>,
    /// The due date warned of: the milestone's for `milestone_due`, else
    /// the task's.
    pub due: Date,
    /// Whole days left before that due date ends (0 on the day itself,
    /// negative: days late).
    pub days_left: i64,
    /// For `no_report`, the date of the last report (or of the task's
    /// creation, before one); otherwise null.
    pub last_report_on: Option<Date>,
    /// The read model's log position the alert was judged at.
    pub position: u64,
    /// One sentence for a person, in Vietnamese.
    pub text: String,
}
