//! dotpha on NATS JetStream: the names of subjects and streams, their setup
//! (checked, because nats-server 2.9 silently ignores some settings), and the
//! publisher a commune uses to submit and get its receipt.
//!
//! The broker's ack is a buffer, never the promise: a publisher holds a
//! submission as delivered only once it has the receipt, which exists only
//! after the decision is committed to the log.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

mod connect;
pub mod decisions;
mod error;
pub mod leaf;
pub mod lease;
pub mod nats_config;
mod publisher;
pub mod pull;
pub mod roles;
mod setup;
pub mod status;
pub mod subjects;

pub use connect::{
    Connection, PROBE_TIMEOUT, Probe, addresses, connect, probe, wait_for_nats, without_credentials,
};
pub use error::{BusError, BusErrorKind, Source};
pub use publisher::{IN_FLIGHT, Outgoing, PublishError, Publisher, PublisherOptions};
pub use pull::{Flow, PullLoop, Puller, Setup};
pub use setup::{
    ALERTS_DUPLICATE_WINDOW, ALERTS_MAX_AGE, CHECKPOINT_DUPLICATE_WINDOW, CHECKPOINTS_KEPT,
    COSIGNATURES_MAX_AGE, DEAD_MAX_AGE, DUPLICATE_WINDOW, FOLLOWER_IDLE, LastRelayed, MAX_REPLICAS,
    PROJECTOR_IDLE, PROJECTOR_MAX_ACK_PENDING, RelayedEvent, SUBMISSIONS_MAX_AGE, WRITER_ACK_WAIT,
    WRITER_MAX_ACK_PENDING, delete_events_stream, delete_projector_consumer, ensure_streams,
    first_relayed, follower, last_relayed, projector_consumer, submission_held, writer_consumer,
};
