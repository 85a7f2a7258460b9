//! The publisher: submit one submission and hold its receipt.
//!
//! It subscribes to the unit's receipts before publishing, publishes with
//! `Nats-Msg-Id: <submission_id>`, waits for the broker's PubAck and then for
//! the receipt; on a time-out it publishes again with the same id (however
//! often, the log decides the submission once) and asks `receipt.get` in
//! case the receipt went by while it was not listening.

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use dotpha_domain::wire::Receipt;
use futures::StreamExt;
use tokio::time::{Instant, sleep, timeout_at};

use crate::{
    connect::Connection,
    subjects::{RECEIPT_GET, receipt, submit},
};

/// How patient a publisher is.
#[derive(Clone, Debug)]
pub struct PublisherOptions {
    /// How long to wait for the broker's PubAck.
    pub ack_timeout: Duration,
    /// How long to wait for the receipt after the PubAck.
    pub receipt_timeout: Duration,
    /// How many times to publish before giving up.
    pub attempts: u32,
    /// The pause between attempts (doubled each time, capped at 5 s).
    pub retry_delay: Duration,
}

impl Default for PublisherOptions {
    fn default() -> PublisherOptions {
        PublisherOptions {
            ack_timeout: Duration::from_secs(5),
            receipt_timeout: Duration::from_secs(10),
            attempts: 5,
            retry_delay: Duration::from_millis(200),
        }
    }
}

/// Why a submission has no receipt.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The server refused this client the subject.
    #[error("permission denied by the NATS server: {0}")]
    Permission(String),
    /// Every attempt timed out or failed.
    #[error("no receipt after {attempts} attempts: {last}")]
    Undelivered {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The submission cannot be sent as given.
    #[error("{0}")]
    Invalid(String),
}

/// A client that submits and waits for receipts.
#[derive(Clone, Debug)]
pub struct Publisher {
    connection: Connection,
    js: jetstream::Context,
    options: PublisherOptions,
}

impl Publisher {
    /// A publisher on `connection`.
    pub fn new(connection: Connection, options: PublisherOptions) -> Publisher {
        let js = jetstream::new(connection.client.clone());
        Publisher {
            connection,
            js,
            options,
        }
    }

    fn permission_error(&self) -> Option<String> {
        self.connection.permission_errors.borrow().clone()
    }

    /// Publishes `body` (a submission whose id is `submission_id`) for
    /// `unit`, and returns its receipt.
    pub async fn submit(
        &self,
        unit: &str,
        submission_id: &str,
        body: Bytes,
    ) -> Result<Receipt, PublishError> {
        if dotpha_domain::Slug::parse(unit).is_none() {
            return Err(PublishError::Invalid(format!(
                "{unit:?} is not a unit code"
            )));
        }
        let client = &self.connection.client;
        let mut receipts =
            client
                .subscribe(receipt(unit))
                .await
                .map_err(|e| PublishError::Undelivered {
                    attempts: 0,
                    last: format!("subscribing to receipts: {e}"),
                })?;
        // The subscription must reach the server before the publish can
        // produce a receipt, or the receipt could pass unheard.
        let _ = client.flush().await;
        let mut permissions = self.connection.permission_errors.clone();
        permissions.mark_unchanged();
        let mut last = String::new();
        let mut delay = self.options.retry_delay;
        // Whether the broker held this id before this call published it: then
        // whatever receipt this call finds is a repeat's, `duplicate: true`,
        // however it is found (the writer's answer to a receipt request is
        // the stored original).
        let mut held_before: Option<bool> = None;
        let as_found = |mut r: Receipt, held_before: Option<bool>| {
            // A refusal of an id another unit used is this sender's first
            // answer, however often the broker saw the id before.
            if held_before == Some(true) && !is_refused_repeat(&r) {
                r.duplicate = true;
            }
            r
        };
        for attempt in 1..=self.options.attempts {
            if attempt > 1 {
                sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            if let Some(error) = self.permission_error() {
                return Err(PublishError::Permission(error));
            }
            let publish = PublishMessage::build()
                .payload(body.clone())
                .message_id(submission_id);
            let ack = match self.js.send_publish(submit(unit), publish).await {
                Ok(ack) => ack,
                Err(e) => {
                    last = format!("publishing: {e}");
                    continue;
                }
            };
            let ack_deadline = Instant::now() + self.options.ack_timeout;
            tokio::select! {
                result = timeout_at(ack_deadline, ack.into_future()) => match result {
                    Ok(Ok(ack)) if ack.duplicate => {
                        // The broker already held this id: the submission may
                        // be decided already, and its receipt long gone by.
                        held_before.get_or_insert(true);
                        if let Ok(Some(r)) = self.receipt_for(unit, submission_id).await {
                            return Ok(as_found(r, held_before));
                        }
                    }
                    Ok(Ok(_)) => {
                        held_before.get_or_insert(false);
                    }
                    Ok(Err(e)) => {
                        last = format!("no PubAck: {e}");
                        if let Some(error) = self.permission_error() {
                            return Err(PublishError::Permission(error));
                        }
                        continue;
                    }
                    Err(_) => {
                        last = format!("no PubAck within {:?}", self.options.ack_timeout);
                        if let Some(error) = self.permission_error() {
                            return Err(PublishError::Permission(error));
                        }
                        continue;
                    }
                },
                _ = permissions.changed() => {
                    if let Some(error) = self.permission_error() {
                        return Err(PublishError::Permission(error));
                    }
                }
            }
            let deadline = Instant::now() + self.options.receipt_timeout;
            loop {
                match timeout_at(deadline, receipts.next()).await {
                    Ok(Some(message)) => {
                        if let Ok(r) = serde_json::from_slice::<Receipt>(&message.payload)
                            && r.submission_id == submission_id
                        {
                            return Ok(as_found(r, held_before));
                        }
                    }
                    Ok(None) => {
                        last = "the receipt subscription closed".to_owned();
                        break;
                    }
                    Err(_) => {
                        last = format!("no receipt within {:?}", self.options.receipt_timeout);
                        break;
                    }
                }
            }
            if let Ok(Some(r)) = self.receipt_for(unit, submission_id).await {
                return Ok(as_found(r, held_before));
            }
        }
        Err(PublishError::Undelivered {
            attempts: self.options.attempts,
            last,
        })
    }

    /// Asks the writer for the receipt of `submission_id`, whatever unit it
    /// was decided for (a trusted reader's question); `None` when the log
    /// has not decided it.
    pub async fn receipt(&self, submission_id: &str) -> Result<Option<Receipt>, PublishError> {
        self.ask(serde_json::json!({ "submission_id": submission_id }))
            .await
    }

    /// Asks the writer for `unit`'s receipt of `submission_id`: the decision
    /// made for `unit`, or `unit`'s refusal when the id was decided for
    /// another unit (it learns nothing of that decision); `None` when
    /// nothing is decided under the id.
    pub async fn receipt_for(
        &self,
        unit: &str,
        submission_id: &str,
    ) -> Result<Option<Receipt>, PublishError> {
        self.ask(serde_json::json!({ "submission_id": submission_id, "unit": unit }))
            .await
    }

    async fn ask(&self, question: serde_json::Value) -> Result<Option<Receipt>, PublishError> {
        let body = question.to_string();
        let reply = tokio::time::timeout(
            self.options.ack_timeout,
            self.connection.client.request(RECEIPT_GET, body.into()),
        )
        .await
        .map_err(|_| PublishError::Undelivered {
            attempts: 0,
            last: "receipt.get timed out".to_owned(),
        })?
        .map_err(|e| PublishError::Undelivered {
            attempts: 0,
            last: format!("receipt.get: {e}"),
        })?;
        Ok(serde_json::from_slice::<Receipt>(&reply.payload).ok())
    }
}

/// Whether `receipt` refuses an id that was decided for another unit
/// (`already_exists` on the field `submission_id`).
fn is_refused_repeat(receipt: &Receipt) -> bool {
    receipt
        .error
        .as_ref()
        .is_some_and(|e| e.code == "already_exists" && e.field.as_deref() == Some("submission_id"))
}
