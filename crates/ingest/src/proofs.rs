//! Answers proof requests over NATS from the log, the same answers as the
//! HTTP routes: `dotpha.v1.proof.inclusion` (`{"position": P, "size": N}`;
//! without `size`, against the latest checkpoint, whose note is added as
//! `checkpoint`) and `dotpha.v1.proof.consistency` (`{"from": M, "to":
//! N}`). Witnesses and `dotpha submit --prove` use them: they already hold
//! a NATS connection and may have no route to the HTTP API. Sizes beyond
//! the latest signed checkpoint are refused (`beyond_checkpoint`).

use async_nats::{Client, Subscriber};
use dotpha_bus::subjects::{PROOF_CONSISTENCY, PROOF_INCLUSION};
use dotpha_store::StoreError;
use dotpha_tlog::TreeError;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::watch;

use crate::logfile::{Failed, SharedLog};

/// Queue group, so several services may answer.
const QUEUE: &str = "dotpha-proofs";
/// Largest request body read.
const MAX_REQUEST_BYTES: usize = 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Inclusion {
    position: u64,
    size: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Consistency {
    from: u64,
    to: u64,
}

/// The error answer, with the code the HTTP routes use for the same case.
pub fn error_body(code: &str, message: &str) -> Vec<u8> {
    json!({ "error": { "code": code, "message": message } })
        .to_string()
        .into_bytes()
}

fn failure(failed: Failed) -> Vec<u8> {
    match failed {
        Failed::Store(StoreError::Tree(e @ TreeError::BeyondCheckpoint { .. })) => {
            error_body("beyond_checkpoint", &e.to_string())
        }
        Failed::Store(StoreError::Tree(e @ TreeError::OutOfRange(_))) => {
            error_body("out_of_range", &e.to_string())
        }
        other => error_body("unavailable", &other.to_string()),
    }
}

async fn subscribe(client: &Client, subject: &str) -> Option<Subscriber> {
    match client
        .queue_subscribe(subject.to_owned(), QUEUE.to_owned())
        .await
    {
        Ok(s) => Some(s),
        Err(error) => {
            tracing::error!(%error, subject, "cannot answer proof requests");
            None
        }
    }
}

pub(crate) async fn serve(client: Client, log: SharedLog, mut shutdown: watch::Receiver<bool>) {
    let (Some(mut inclusion), Some(mut consistency)) = (
        subscribe(&client, PROOF_INCLUSION).await,
        subscribe(&client, PROOF_CONSISTENCY).await,
    ) else {
        return;
    };
    loop {
        let (request, is_inclusion) = tokio::select! {
            _ = shutdown.changed() => return,
            r = inclusion.next() => match r { Some(r) => (r, true), None => return },
            r = consistency.next() => match r { Some(r) => (r, false), None => return },
        };
        let Some(reply) = request.reply.clone() else {
            continue;
        };
        let body = if request.payload.len() > MAX_REQUEST_BYTES {
            error_body("malformed", "the request is too large")
        } else if is_inclusion {
            match serde_json::from_slice::<Inclusion>(&request.payload) {
                Err(e) => error_body(
                    "malformed",
                    &format!("send {{\"position\": P, \"size\": N}} (size optional): {e}"),
                ),
                Ok(asked) => match log
                    .call(move |log| log.signed_inclusion_proof(asked.position, asked.size))
                    .await
                {
                    Ok((proof, checkpoint)) => {
                        let mut answer = serde_json::to_value(&proof).unwrap_or_default();
                        answer["checkpoint"] = checkpoint.note.into();
                        answer.to_string().into_bytes()
                    }
                    Err(failed) => failure(failed),
                },
            }
        } else {
            match serde_json::from_slice::<Consistency>(&request.payload) {
                Err(e) => error_body(
                    "malformed",
                    &format!("send {{\"from\": M, \"to\": N}}: {e}"),
                ),
                Ok(asked) => match log
                    .call(move |log| log.signed_consistency_proof(asked.from, asked.to))
                    .await
                {
                    Ok(proof) => serde_json::to_vec(&proof).unwrap_or_default(),
                    Err(failed) => failure(failed),
                },
            }
        };
        if let Err(error) = client.publish(reply, body.into()).await {
            tracing::warn!(%error, "answering a proof request failed");
        }
    }
}
