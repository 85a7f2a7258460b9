//! The cosignature collector: takes witnesses' cosigned notes from
//! `DOTPHA_COSIGNATURES`, keeps each cosignature that a configured
//! witness's key verifies over a checkpoint this log signed, and records
//! how far it read in the log, so a restart neither skips nor needs the
//! broker's ack state.
//!
//! A cosignature from a witness the log was not told about is not kept (it
//! could be anyone's): the operator adds the witness's verifier key to the
//! `witnesses` setting.

use std::collections::HashSet;

use async_nats::jetstream::{self, consumer::DeliverPolicy};
use dotpha_bus::subjects::{COSIGNATURES_STREAM, COSIGNATURES_SUBJECTS};
use dotpha_tlog::{CosignatureVerifier, LogVerifier, cosign::verified_cosignatures};
use futures::StreamExt;
use tokio::sync::watch;

use dotpha_host::SharedClock;

use crate::{BACKOFF, IngestMetrics, logfile::SharedLog};

/// The log checkpoint recording the collector's place in
/// `DOTPHA_COSIGNATURES` (a stream sequence).
pub const COSIGNATURES_READ: &str = "cosignatures.read_position";

pub(crate) struct Collector {
    pub(crate) js: jetstream::Context,
    pub(crate) log: SharedLog,
    pub(crate) verifier: LogVerifier,
    pub(crate) witnesses: Vec<CosignatureVerifier>,
    pub(crate) metrics: IngestMetrics,
    pub(crate) clock: SharedClock,
}

pub(crate) async fn run(collector: Collector, mut shutdown: watch::Receiver<bool>) {
    let name = format!("dotpha-cosignatures-{}", nuid::next());
    let mut unknown: HashSet<String> = HashSet::new();
    'restart: loop {
        if *shutdown.borrow() {
            return;
        }
        let read = match collector
            .log
            .call(|log| log.checkpoint(COSIGNATURES_READ))
            .await
        {
            Ok(read) => read.unwrap_or(0),
            Err(error) => {
                tracing::warn!(%error, "the cosignature collector cannot read the log; retrying");
                if pause(&mut shutdown).await {
                    return;
                }
                continue;
            }
        };
        let consumer = match dotpha_bus::follower(
            &collector.js,
            COSIGNATURES_STREAM,
            COSIGNATURES_SUBJECTS,
            &name,
            DeliverPolicy::ByStartSequence {
                start_sequence: read + 1,
            },
        )
        .await
        {
            Ok(c) => c,
            Err(error) => {
                tracing::warn!(%error, "cannot follow DOTPHA_COSIGNATURES; retrying");
                if pause(&mut shutdown).await {
                    return;
                }
                continue;
            }
        };
        let mut messages = match consumer.messages().await {
            Ok(m) => m,
            Err(error) => {
                tracing::warn!(%error, "cannot follow DOTPHA_COSIGNATURES; retrying");
                if pause(&mut shutdown).await {
                    return;
                }
                continue;
            }
        };
        loop {
            let message = tokio::select! {
                _ = shutdown.changed() => {
                    if let Ok(stream) = collector.js.get_stream(COSIGNATURES_STREAM).await {
                        let _ = stream.delete_consumer(&name).await;
                    }
                    return;
                }
                next = messages.next() => next,
            };
            let message = match message {
                Some(Ok(m)) => m,
                Some(Err(error)) => {
                    tracing::warn!(%error, "following DOTPHA_COSIGNATURES failed; resuming");
                    if pause(&mut shutdown).await {
                        return;
                    }
                    continue 'restart;
                }
                None => continue 'restart,
            };
            let Ok(sequence) = message.info().map(|i| i.stream_sequence) else {
                continue;
            };
            take(&collector, &message.subject, &message.payload, &mut unknown).await;
            let _ = message.ack().await;
            if let Err(error) = collector
                .log
                .call(move |log| log.set_checkpoint(COSIGNATURES_READ, sequence))
                .await
            {
                tracing::warn!(%error, "the cosignature collector's place was not recorded");
            }
        }
    }
}

/// Keeps the cosignatures of one message that verify.
async fn take(collector: &Collector, subject: &str, note: &[u8], unknown: &mut HashSet<String>) {
    let opened = match collector.verifier.open(note) {
        Ok(o) => o,
        Err(error) => {
            tracing::warn!(%subject, %error, "a message on the cosignature subjects is not a cosigned checkpoint of this log; ignored");
            return;
        }
    };
    let size = opened.checkpoint.size;
    let found = match verified_cosignatures(note, &collector.witnesses) {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(%subject, %error, "a cosigned note could not be read; ignored");
            return;
        }
    };
    if found.is_empty() {
        if unknown.insert(subject.to_owned()) {
            tracing::warn!(
                %subject,
                tree_size = size,
                "a cosignature from a witness this log does not know (or that does not verify); add its verifier key to the witnesses setting to keep its cosignatures"
            );
        }
        return;
    }
    let body = opened.body.clone();
    let lines: Vec<(String, String, u64)> = found
        .iter()
        .map(|(verifier, line)| {
            let timestamp = verifier.check_line(body.as_bytes(), line).unwrap_or(0);
            (verifier.witness().to_owned(), line.clone(), timestamp)
        })
        .collect();
    let received_at = collector.clock.now().as_str().to_owned();
    let outcome = collector
        .log
        .call(move |log| {
            // Only cosignatures of a note this log signed, exactly.
            let Some(ours) = log.checkpoint_at(size)? else {
                return Ok(None);
            };
            if !ours.note.starts_with(&body) {
                return Ok(None);
            }
            let mut new = 0;
            for (witness, line, timestamp) in &lines {
                if log.record_cosignature(size, witness, line, *timestamp, &received_at)? {
                    new += 1;
                }
            }
            Ok(Some(new))
        })
        .await;
    match outcome {
        Ok(Some(new)) => {
            collector.metrics.cosignatures.inc_by(new);
            tracing::debug!(tree_size = size, new, "cosignatures kept");
        }
        Ok(None) => tracing::warn!(
            %subject,
            tree_size = size,
            "a cosignature of a checkpoint this log does not hold (signed by its key before a restore, or forged); not kept"
        ),
        Err(error) => tracing::warn!(%error, "a cosignature could not be recorded"),
    }
}

/// Sleeps for the backoff; true when shutdown was asked for meanwhile.
async fn pause(shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = shutdown.changed() => true,
        _ = tokio::time::sleep(BACKOFF) => *shutdown.borrow(),
    }
}
