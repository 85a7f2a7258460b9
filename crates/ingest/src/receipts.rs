//! Answers `dotpha.v1.receipt.get` from the log: a publisher that missed its
//! receipt (it was offline, or timed out) asks for it by submission id.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use async_nats::Client;
use dotpha_bus::subjects::RECEIPT_GET;
use dotpha_store::Log;
use futures::StreamExt;
use serde_json::json;
use tokio::sync::watch;

/// Queue group, so several writers' standbys could share the subject.
const QUEUE: &str = "dotpha-receipts";

pub(crate) async fn serve(client: Client, path: PathBuf, mut shutdown: watch::Receiver<bool>) {
    let mut requests = match client.queue_subscribe(RECEIPT_GET, QUEUE.to_owned()).await {
        Ok(s) => s,
        Err(error) => {
            tracing::error!(%error, "cannot answer receipt.get");
            return;
        }
    };
    // One read connection, used by one blocking lookup at a time.
    let log: Arc<Mutex<Option<Log>>> = Arc::new(Mutex::new(None));
    loop {
        let request = tokio::select! {
            _ = shutdown.changed() => return,
            request = requests.next() => match request {
                Some(r) => r,
                None => return,
            },
        };
        let Some(reply) = request.reply.clone() else {
            continue;
        };
        let submission_id = serde_json::from_slice::<serde_json::Value>(&request.payload)
            .ok()
            .and_then(|v| {
                v.get("submission_id")
                    .and_then(|id| id.as_str())
                    .map(str::to_owned)
            });
        let body = match submission_id {
            None => error("malformed", "send {\"submission_id\": \"...\"}"),
            Some(id) => {
                let log = log.clone();
                let path = path.clone();
                let found = tokio::task::spawn_blocking(move || {
                    let mut guard = log
                        .lock()
                        .map_err(|_| "the receipt reader panicked".to_owned())?;
                    if guard.is_none() {
                        *guard = Some(Log::open_read_only(&path).map_err(|e| e.to_string())?);
                    }
                    match guard.as_ref() {
                        Some(log) => log.receipt(&id).map_err(|e| e.to_string()),
                        None => Err("no log".to_owned()),
                    }
                })
                .await;
                match found {
                    Ok(Ok(Some(receipt))) => serde_json::to_vec(&receipt).unwrap_or_default(),
                    Ok(Ok(None)) => {
                        error("not_found", "the log has not decided this submission (yet)")
                    }
                    Ok(Err(e)) => error("unavailable", &e),
                    Err(e) => error("unavailable", &e.to_string()),
                }
            }
        };
        if let Err(e) = client.publish(reply, body.into()).await {
            tracing::warn!(error = %e, "answering receipt.get failed");
        }
    }
}

fn error(code: &str, message: &str) -> Vec<u8> {
    json!({ "error": { "code": code, "message": message } })
        .to_string()
        .into_bytes()
}
