//! Answers `dotpha.v1.receipt.get` from the log: a publisher that missed its
//! receipt (it was offline, or timed out) asks for it by submission id.
//!
//! A receipt is private to the unit it was decided for (CONTRACT.md part
//! C). The asking unit is the one whose inbox the reply goes to
//! (`_INBOX_<unit>.`, which only that unit's NATS user may read under
//! `dotpha nats-config`), or else the request's optional `unit` member. A
//! unit asking after an id decided for another unit learns only that the id
//! is not its to use: its recorded refusal, or (when the broker dropped its
//! publish as a repeat of the id, so nothing reached the writer) the same
//! refusal answered now. A request that names no unit gets the decision
//! recorded under the id, as on a NATS without per-unit users anyone may
//! read every receipt subject anyway.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use async_nats::Client;
use dotpha_bus::{
    lease::{LeaseError, LeaseGuard},
    subjects::RECEIPT_GET,
};
use dotpha_domain::Slug;
use dotpha_host::SharedClock;
use dotpha_store::Log;
use futures::StreamExt;
use serde_json::json;
use tokio::sync::watch;

use crate::Part;

/// Queue group, so several writers' standbys could share the subject.
const QUEUE: &str = "dotpha-receipts";

pub(crate) async fn serve(
    client: Client,
    path: PathBuf,
    lease: LeaseGuard,
    part: Part,
    clock: SharedClock,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut requests = match client.queue_subscribe(RECEIPT_GET, QUEUE.to_owned()).await {
        Ok(s) => s,
        Err(error) => {
            tracing::error!(%error, "cannot answer receipt.get");
            part.failed(format!("subscribing to {RECEIPT_GET}: {error}"));
            return;
        }
    };
    part.running();
    // One read connection, used by one blocking lookup at a time.
    let log: Arc<Mutex<Option<Log>>> = Arc::new(Mutex::new(None));
    loop {
        let request = tokio::select! {
            _ = shutdown.changed() => break,
            request = requests.next() => match request {
                Some(r) => r,
                None => break,
            },
        };
        let Some(reply) = request.reply.clone() else {
            continue;
        };
        // Only the lease holder answers: a writer that lost it might hold
        // decisions its successor never made.
        match lease.check() {
            Ok(()) => {}
            Err(error @ LeaseError::Lost { .. }) => {
                part.failed(&error);
                return;
            }
            Err(_) => continue,
        }
        let body = match Question::read(&request.payload, reply.as_str()) {
            Err(problem) => problem,
            Ok(question) => {
                let log = log.clone();
                let path = path.clone();
                let now = clock.now();
                let found = tokio::task::spawn_blocking(move || {
                    let mut guard = log
                        .lock()
                        .map_err(|_| "the receipt reader panicked".to_owned())?;
                    if guard.is_none() {
                        *guard = Some(Log::open_read_only(&path).map_err(|e| e.to_string())?);
                    }
                    match guard.as_ref() {
                        Some(log) => question.answer(log, &now).map_err(|e| e.to_string()),
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
    part.stopped();
}

/// A receipt request: which submission, asked by which unit (if known).
#[derive(Debug)]
struct Question {
    submission_id: String,
    unit: Option<String>,
}

impl Question {
    /// Reads `{"submission_id": "...", "unit": "..."}` (`unit` optional)
    /// sent with `reply` as its reply subject; a malformed request is
    /// answered with an error body.
    fn read(payload: &[u8], reply: &str) -> Result<Question, Vec<u8>> {
        let value = serde_json::from_slice::<serde_json::Value>(payload).ok();
        let field = |name: &str| {
            value
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let Some(submission_id) = field("submission_id") else {
            return Err(error(
                "malformed",
                "send {\"submission_id\": \"...\", \"unit\": \"...\"} (unit optional)",
            ));
        };
        let asked = value.as_ref().and_then(|v| v.get("unit"));
        let named = match asked {
            None | Some(serde_json::Value::Null) => None,
            Some(unit) => match unit.as_str().and_then(Slug::parse) {
                Some(unit) => Some(unit.as_str().to_owned()),
                None => return Err(error("malformed", "\"unit\" must be a unit code")),
            },
        };
        let inbox = inbox_unit(reply);
        let unit = match (inbox, named) {
            (Some(inbox), Some(named)) if inbox != named => {
                return Err(error(
                    "forbidden",
                    &format!(
                        "this connection receives the replies of unit {inbox}; it cannot ask for unit {named}"
                    ),
                ));
            }
            (inbox, named) => inbox.or(named),
        };
        Ok(Question {
            submission_id,
            unit,
        })
    }

    /// The receipt this question may be answered with.
    fn answer(
        &self,
        log: &Log,
        now: &dotpha_domain::Timestamp,
    ) -> Result<Option<dotpha_store::Receipt>, dotpha_store::StoreError> {
        match &self.unit {
            None => log.receipt(&self.submission_id),
            Some(unit) => log.answer_for(&self.submission_id, unit, now.as_str()),
        }
    }
}

/// The unit whose inbox a reply subject is in: `_INBOX_<unit>.…`, the
/// prefix `dotpha nats-config` lets only that unit's user read.
fn inbox_unit(reply: &str) -> Option<String> {
    let rest = reply.strip_prefix("_INBOX_")?;
    let (unit, _) = rest.split_once('.')?;
    Slug::parse(unit).map(|u| u.as_str().to_owned())
}

fn error(code: &str, message: &str) -> Vec<u8> {
    json!({ "error": { "code": code, "message": message } })
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_asking_unit_is_the_inbox_s_and_a_named_other_unit_is_refused() {
        let q = Question::read(br#"{"submission_id": "abcdefgh"}"#, "_INBOX_hop-thanh.x.y")
            .expect("read");
        assert_eq!(q.unit.as_deref(), Some("hop-thanh"));
        let q = Question::read(
            br#"{"submission_id": "abcdefgh", "unit": "tan-trao"}"#,
            "_INBOX.abc.def",
        )
        .expect("read");
        assert_eq!(q.unit.as_deref(), Some("tan-trao"));
        let q = Question::read(br#"{"submission_id": "abcdefgh"}"#, "_INBOX.abc").expect("read");
        assert_eq!(q.unit, None, "nobody in particular");
        let refused = Question::read(
            br#"{"submission_id": "abcdefgh", "unit": "tan-trao"}"#,
            "_INBOX_hop-thanh.x",
        )
        .expect_err("refused");
        assert!(String::from_utf8_lossy(&refused).contains("forbidden"));
        assert!(Question::read(br#"{"unit": "tan-trao"}"#, "_INBOX.x").is_err());
        assert!(
            Question::read(
                br#"{"submission_id": "abcdefgh", "unit": "Bad Unit"}"#,
                "_INBOX.x"
            )
            .is_err()
        );
    }
}
