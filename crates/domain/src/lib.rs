//! The domain of dotpha, pure: no I/O, no clock, no randomness.
//!
//! A submission arrives as bytes; [`parse_submission`] reads it strictly;
//! [`decide`] checks it against the [`State`] folded from the log and returns
//! the [`Event`]s to append or a [`Rejection`]; [`State::apply`] folds an
//! event in. Time and ids come in with the submission, so the same
//! submissions always make the same events, and a failure replays exactly.
//!
//! - [`payload`]: the data of each submission and event type (the JSON shapes
//!   of CONTRACT.md, serde only here at the edge).
//! - [`submission`]: the envelope, strict parsing, the `Event` type.
//! - [`decide`](mod@decide): the rules.
//! - [`admit`]: the admission step, every write-time limit (text and event
//!   sizes on the stored NFC form, leap seconds), run by `decide` and never
//!   by readers of the log.
//! - [`canonical`]: the RFC 8785 canonical form an event's data is stored,
//!   sized and hashed in.
//! - [`state`]: units, cadres, cycles, tasks, periods, assessments; `apply`.
//! - [`wire`]: the event object and the receipt, as emitted.
//! - [`values`], [`time`], [`text`]: validated slugs and texts, dates and
//!   instants, NFC and search folding.
//! - [`vocabulary`]: every closed word list of the contract (statuses,
//!   kinds, origins, ratings, event types, rejection codes, ...) with its
//!   Vietnamese and English labels, in one table.
//! - [`figures`]: completion, the latest value, mean completion, the
//!   clock's flags, the rating a score earns, the excellent quota.
//! - [`evaluation`]: evaluating cadres by period (CONTRACT part A): points
//!   in hundredths, products and their factors, task points, the rating's
//!   ceiling, the day a task is done.
//! - [`tree`]: the unit tree with validity dates: `is_within` for scope and
//!   authority, roll-ups for today's tree and the tree as it was.
//! - `schema` (feature `schema`): JSON Schemas of the wire shapes, generated
//!   from these types.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

pub mod admit;
pub mod canonical;
pub mod decide;
pub mod evaluation;
pub mod figures;
pub mod messages;
pub mod payload;
pub mod positions;
pub mod rejection;
#[cfg(feature = "schema")]
pub mod schema;
pub mod state;
pub mod strict;
pub mod submission;
pub mod text;
pub mod time;
pub mod tree;
pub mod values;
pub mod vocabulary;
pub mod wire;

pub use decide::decide;
pub use payload::{EventType, Payload, Rating, StreamId};
pub use rejection::{Rejection, RejectionCode};
pub use state::{State, TaskStatus};
pub use submission::{Event, Submission, Unreadable, parse_submission};
pub use time::{Date, Timestamp};
pub use tree::{TreeView, UnitTree};
pub use values::Slug;
pub use vocabulary::{Lang, Term};
