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

/// PubAcks [`Publisher::submit_all`] keeps pending: enough to keep the
/// writer's batches full (it takes up to 512 at a time), few enough that a
/// failure resends little.
pub const IN_FLIGHT: usize = 1024;

/// One submission for [`Publisher::submit_all`].
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// The unit it is sent for (the subject's last token).
    pub unit: String,
    /// Its id (`Nats-Msg-Id`).
    pub submission_id: String,
    /// The submission's JSON.
    pub body: Bytes,
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

    /// Sends `items` in their order and holds a receipt for each, as a bulk
    /// import does: the first alone, then the rest on this one connection
    /// with up to [`IN_FLIGHT`] PubAcks pending, each expecting the one
    /// before it to be the stream's last message, so JetStream stores them,
    /// and the writer decides them, in the order given even when a publish
    /// fails or another publisher sends meanwhile; receipts are gathered as
    /// they come (one subscription per unit). An item whose PubAck failed or
    /// came back a duplicate, and every item after it that was not yet
    /// acknowledged, an item whose receipt did not come within the receipt
    /// time-out after the last one heard, are each sent again alone with
    /// [`Publisher::submit`] (same id: decided once), in order. `progress`
    /// hears how many receipts are held after each one. The receipts come
    /// back in the order of `items`.
    pub async fn submit_all(
        &self,
        items: &[Outgoing],
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<Receipt>, PublishError> {
        if let Some(bad) = items
            .iter()
            .find(|i| dotpha_domain::Slug::parse(&i.unit).is_none())
        {
            return Err(PublishError::Invalid(format!(
                "{:?} is not a unit code",
                bad.unit
            )));
        }
        let client = &self.connection.client;
        let mut units: Vec<&str> = items.iter().map(|i| i.unit.as_str()).collect();
        units.sort_unstable();
        units.dedup();
        let mut subscriptions = Vec::with_capacity(units.len());
        for unit in units {
            subscriptions.push(client.subscribe(receipt(unit)).await.map_err(|e| {
                PublishError::Undelivered {
                    attempts: 0,
                    last: format!("subscribing to receipts: {e}"),
                }
            })?);
        }
        let mut heard = futures::stream::select_all(subscriptions);
        let _ = client.flush().await;
        let index: std::collections::HashMap<&str, usize> = items
            .iter()
            .enumerate()
            .map(|(i, item)| (item.submission_id.as_str(), i))
            .collect();
        let mut receipts: Vec<Option<Receipt>> = vec![None; items.len()];
        // Items acknowledged by the broker as new, whose receipt is awaited.
        let mut awaited = vec![false; items.len()];
        // A receipt heard for one of the items (it may come before the
        // item's PubAck is read): where it goes.
        let take = |message: async_nats::Message, receipts: &mut Vec<Option<Receipt>>| {
            let r = serde_json::from_slice::<Receipt>(&message.payload).ok()?;
            let &i = index.get(r.submission_id.as_str())?;
            if receipts[i].is_some() {
                return None;
            }
            receipts[i] = Some(r);
            Some(i)
        };
        // The first one alone: it waits for the writer and its streams, and
        // leaves its id as the stream's last.
        let Some(first) = items.first() else {
            return Ok(Vec::new());
        };
        receipts[0] = Some(
            self.submit(&first.unit, &first.submission_id, first.body.clone())
                .await?,
        );
        let mut held = 1usize;
        progress(held);
        // Phase 1: publish in order, IN_FLIGHT PubAcks at a time, listening
        // meanwhile; stop at the first item that needs the slow path. Each
        // expects the one before it to be the stream's last message
        // (`Nats-Expected-Last-Msg-Id`), so the server stores none out of
        // order: once one fails, every later one fails too, and they all
        // take the slow path, in order.
        let mut acks = futures::stream::FuturesOrdered::new();
        let mut next = 1usize;
        let mut slow_from = items.len();
        loop {
            while next < items.len() && acks.len() < IN_FLIGHT && slow_from == items.len() {
                let item = &items[next];
                let publish = PublishMessage::build()
                    .payload(item.body.clone())
                    .message_id(&item.submission_id)
                    .expected_last_message_id(&items[next - 1].submission_id);
                match self.js.send_publish(submit(&item.unit), publish).await {
                    Ok(ack) => {
                        let deadline = Instant::now() + self.options.ack_timeout;
                        let i = next;
                        acks.push_back(async move {
                            (i, timeout_at(deadline, ack.into_future()).await)
                        });
                        next += 1;
                    }
                    Err(_) => slow_from = next,
                }
            }
            if acks.is_empty() {
                break;
            }
            tokio::select! {
                Some((i, outcome)) = acks.next() => match outcome {
                    Ok(Ok(ack)) if !ack.duplicate => awaited[i] = true,
                    // A duplicate, a failure, a time-out: this one and all
                    // after it take the slow path.
                    _ => slow_from = slow_from.min(i),
                },
                Some(message) = heard.next() => {
                    if take(message, &mut receipts).is_some() {
                        held += 1;
                        progress(held);
                    }
                }
            }
        }
        if let Some(error) = self.permission_error() {
            return Err(PublishError::Permission(error));
        }
        // Phase 2: the receipts of what the broker took, until all are held
        // or none came for a receipt time-out.
        let mut missing = (0..slow_from)
            .filter(|&i| awaited[i] && receipts[i].is_none())
            .count();
        while missing > 0 {
            let deadline = Instant::now() + self.options.receipt_timeout;
            match timeout_at(deadline, heard.next()).await {
                Ok(Some(message)) => {
                    if let Some(i) = take(message, &mut receipts) {
                        held += 1;
                        progress(held);
                        if i < slow_from && awaited[i] {
                            missing -= 1;
                        }
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        drop(heard);
        // Phase 3: one at a time, in order, whatever has no receipt yet.
        for (i, item) in items.iter().enumerate() {
            if receipts[i].is_some() {
                continue;
            }
            let r = self
                .submit(&item.unit, &item.submission_id, item.body.clone())
                .await?;
            receipts[i] = Some(r);
            held += 1;
            progress(held);
        }
        Ok(receipts.into_iter().flatten().collect())
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
