//! `DOTPHA_DECISIONS`, the replicated commit point (issue 16): the writer
//! appends each committed batch's records with
//! `Nats-Expected-Last-Sequence`, so an append lands only right after the
//! record its writer last saw acknowledged; a writer that was paused or cut
//! off while another took over finds the stream moved on and is refused
//! ([`AppendError::Fenced`]). A standby follows the stream from its own
//! place.

use async_nats::{HeaderMap, jetstream};

use crate::{
    BusError,
    subjects::{DECISION, DECISIONS_STREAM, MSG_ID},
};

/// The server's error code for a wrong `Nats-Expected-Last-Sequence`
/// (`JSStreamWrongLastSequenceErrF`).
pub const WRONG_LAST_SEQUENCE: u64 = 10071;

/// Why an append failed.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The stream does not end where this writer expected: someone else
    /// appended (a writer that took over). This writer must stop.
    #[error(
        "DOTPHA_DECISIONS does not end at record {expected}: another writer appended after it (this writer was fenced)"
    )]
    Fenced {
        /// The sequence this writer expected to be last.
        expected: u64,
    },
    /// The stream took the record at another sequence than expected.
    #[error("DOTPHA_DECISIONS took record {expected} at sequence {got}")]
    Misplaced {
        /// Where it should be.
        expected: u64,
        /// Where it is.
        got: u64,
    },
    /// NATS failed (timeout, no leader): send the same record again.
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Appends `record` as stream sequence `expected_last + 1`, with
/// `Nats-Msg-Id: <that sequence>` (a retry after a lost ack is a duplicate,
/// acknowledged at the same sequence) and `Nats-Expected-Last-Sequence:
/// expected_last`. Waits for the replicated acknowledgement.
pub async fn append(
    js: &jetstream::Context,
    expected_last: u64,
    record: String,
) -> Result<(), AppendError> {
    let sequence = expected_last + 1;
    let mut headers = HeaderMap::new();
    headers.insert(MSG_ID, format!("decision-{sequence}").as_str());
    headers.insert(
        async_nats::header::NATS_EXPECTED_LAST_SEQUENCE,
        expected_last.to_string().as_str(),
    );
    let ack = js
        .publish_with_headers(DECISION, headers, record.into())
        .await
        .map_err(|e| BusError::nats(format!("appending to {DECISIONS_STREAM}"), e))?
        .await;
    match ack {
        Ok(ack) if ack.sequence == sequence => Ok(()),
        Ok(ack) => Err(AppendError::Misplaced {
            expected: sequence,
            got: ack.sequence,
        }),
        Err(error) => {
            if error.kind() == jetstream::context::PublishErrorKind::WrongLastSequence {
                Err(AppendError::Fenced {
                    expected: expected_last,
                })
            } else {
                Err(BusError::nats(format!("appending to {DECISIONS_STREAM}"), error).into())
            }
        }
    }
}

/// Where the stream ends: `(messages held, last sequence)`; `(0, 0)` for a
/// new stream.
pub async fn last(js: &jetstream::Context) -> Result<(u64, u64), BusError> {
    let mut stream = js
        .get_stream(DECISIONS_STREAM)
        .await
        .map_err(|e| BusError::nats(DECISIONS_STREAM, e))?;
    let info = stream
        .info()
        .await
        .map_err(|e| BusError::nats(DECISIONS_STREAM, e))?;
    Ok((info.state.messages, info.state.last_sequence))
}

/// The record the stream holds at `sequence` (`None` when it holds none
/// there).
pub async fn record_at(
    js: &jetstream::Context,
    sequence: u64,
) -> Result<Option<Vec<u8>>, BusError> {
    let stream = js
        .get_stream(DECISIONS_STREAM)
        .await
        .map_err(|e| BusError::nats(DECISIONS_STREAM, e))?;
    match stream.get_raw_message(sequence).await {
        Ok(message) => Ok(Some(message.payload.to_vec())),
        Err(error)
            if error.kind() == jetstream::stream::LastRawMessageErrorKind::NoMessageFound =>
        {
            Ok(None)
        }
        Err(error) => Err(BusError::nats(
            format!("reading {DECISIONS_STREAM} at {sequence}"),
            error,
        )),
    }
}

/// Deletes the stream (after a restore: it holds decisions the restored
/// log no longer has); the writer recreates it and replicates from its
/// head on. True when there was one.
pub async fn delete(js: &jetstream::Context) -> Result<bool, BusError> {
    if js.get_stream(DECISIONS_STREAM).await.is_err() {
        return Ok(false);
    }
    js.delete_stream(DECISIONS_STREAM)
        .await
        .map_err(|e| BusError::nats(format!("deleting {DECISIONS_STREAM}"), e))?;
    Ok(true)
}
