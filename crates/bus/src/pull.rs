//! The pull loop every long-lived consumer of dotpha runs (the writer on
//! `DOTPHA_SUBMISSIONS`, the projection workers on `DOTPHA_EVENTS`): set a
//! consumer up from the place the caller committed, pull, gather a batch
//! (the first message, then whatever else arrives within the linger, up to
//! the batch's size), hand it over, and start over from the committed place
//! after anything that may have lost messages in flight: a pull error, the
//! end of the stream of messages, and a reconnect (a pull left pending on a
//! server that died may hang there without an error, seen with nats-server
//! 2.9 and async-nats 0.51).
//!
//! The caller keeps its own place and says what to do with each batch
//! ([`Puller`]); [`PullLoop::run`] owns the rest, so every consumer retries,
//! backs off and reconnects alike.

use std::{future::Future, time::Duration};

use async_nats::jetstream::{Message, consumer::PullConsumer};
use futures::StreamExt;
use tokio::sync::watch;

/// What [`Puller::consumer`] gives the loop.
#[derive(Debug)]
pub enum Setup {
    /// Pull from this consumer (boxed: a consumer carries its whole
    /// configuration).
    Ready(Box<PullConsumer>),
    /// Not now (NATS away, the stream not there yet): try again after a
    /// pause, reporting why.
    Retry(String),
    /// Stop pulling (shutdown was asked for while setting up).
    Stop,
}

/// What to do after a batch ([`Puller::batch`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on pulling.
    Next,
    /// Set the consumer up again at once, from the place committed.
    Restart,
    /// Set it up again after a pause (the batch failed in a way time may
    /// fix), reporting why.
    Retry(String),
    /// Stop pulling.
    Stop,
}

/// One consumer's part of the pull loop.
pub trait Puller: Send {
    /// What stops the loop for good.
    type Error: Send;

    /// What is pulled, for logs ("submissions", "DOTPHA_EVENTS").
    fn what(&self) -> &'static str;

    /// Makes the consumer anew from the place committed.
    fn consumer(&mut self) -> impl Future<Output = Result<Setup, Self::Error>> + Send;

    /// The consumer is set up and pulling.
    fn pulling(&mut self) {}

    /// Handles a batch of one or more messages, in stream order.
    fn batch(
        &mut self,
        batch: Vec<Message>,
    ) -> impl Future<Output = Result<Flow, Self::Error>> + Send;

    /// The loop is retrying after `why` (for health reports).
    fn retrying(&mut self, why: &str) {
        let _ = why;
    }

    /// Resolves when the loop must stop at once, even while idle (the
    /// writer's lease taken by another process). Never, by default.
    fn interrupted(&mut self) -> impl Future<Output = Self::Error> + Send {
        std::future::pending()
    }
}

/// How the loop pulls and retries.
#[derive(Clone, Copy, Debug)]
pub struct PullLoop {
    /// Most messages in one batch.
    pub max_batch: usize,
    /// Longest a batch waits for more messages after its first one arrived.
    pub linger: Duration,
    /// The pull's idle heartbeat, when the server should send one (a pull
    /// whose heartbeats stop fails, and the loop starts over).
    pub heartbeat: Option<Duration>,
    /// First pause after a failure; doubled after each failure in a row up
    /// to `max_backoff`, back to this after a batch goes through.
    pub backoff: Duration,
    /// Longest pause.
    pub max_backoff: Duration,
}

impl PullLoop {
    /// Pulls for `puller` until shutdown is asked for (`Ok`), the puller
    /// says stop (`Ok`) or fails (`Err`). `connects` is the connection's
    /// count of (re)connections ([`crate::Connection::connects`]): any
    /// change after the first makes the loop pull anew.
    pub async fn run<P: Puller>(
        &self,
        puller: &mut P,
        mut connects: watch::Receiver<u64>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), P::Error> {
        let what = puller.what();
        let mut delay = self.backoff;
        'consumer: loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let consumer = match puller.consumer().await? {
                Setup::Ready(consumer) => consumer,
                Setup::Stop => return Ok(()),
                Setup::Retry(why) => {
                    self.retry(puller, &why, &mut shutdown, &mut delay).await;
                    continue;
                }
            };
            let mut stream = consumer.stream().max_messages_per_batch(self.max_batch);
            if let Some(heartbeat) = self.heartbeat {
                stream = stream.heartbeat(heartbeat);
            }
            let mut messages = match stream.messages().await {
                Ok(messages) => messages,
                Err(error) => {
                    let why = format!("pulling {what}: {error}");
                    self.retry(puller, &why, &mut shutdown, &mut delay).await;
                    continue;
                }
            };
            connects.mark_unchanged();
            puller.pulling();
            loop {
                let first = tokio::select! {
                    biased;
                    _ = shutdown.changed() => return Ok(()),
                    error = puller.interrupted() => return Err(error),
                    Ok(()) = connects.changed() => {
                        if *connects.borrow_and_update() <= 1 {
                            // The first connection's event, come late.
                            continue;
                        }
                        // Reconnected, possibly to another server of a
                        // cluster after its own died: what was in flight
                        // there is lost, so pull anew from the place
                        // committed.
                        tracing::warn!("NATS reconnected; pulling {what} anew from the place committed");
                        continue 'consumer;
                    }
                    next = messages.next() => next,
                };
                let first = match first {
                    Some(Ok(message)) => message,
                    Some(Err(error)) => {
                        // Heartbeats missed, server restarted, consumer
                        // gone: start again from the place committed.
                        let why = format!("pulling {what} failed: {error}");
                        self.retry(puller, &why, &mut shutdown, &mut delay).await;
                        continue 'consumer;
                    }
                    None => continue 'consumer,
                };
                let mut batch = vec![first];
                let deadline = tokio::time::Instant::now() + self.linger;
                while batch.len() < self.max_batch {
                    match tokio::time::timeout_at(deadline, messages.next()).await {
                        Ok(Some(Ok(message))) => batch.push(message),
                        Ok(Some(Err(error))) => {
                            tracing::warn!(%error, "pulling {what} failed mid-batch; handling what arrived");
                            break;
                        }
                        Ok(None) | Err(_) => break,
                    }
                }
                match puller.batch(batch).await? {
                    Flow::Next => delay = self.backoff,
                    Flow::Restart => continue 'consumer,
                    Flow::Retry(why) => {
                        self.retry(puller, &why, &mut shutdown, &mut delay).await;
                        continue 'consumer;
                    }
                    Flow::Stop => return Ok(()),
                }
            }
        }
    }

    /// Reports `why`, then pauses (shorter when shutdown is asked for).
    async fn retry<P: Puller>(
        &self,
        puller: &mut P,
        why: &str,
        shutdown: &mut watch::Receiver<bool>,
        delay: &mut Duration,
    ) {
        tracing::warn!(retry_in = ?*delay, "{why}; resuming from the place committed");
        puller.retrying(why);
        tokio::select! {
            _ = shutdown.changed() => {}
            _ = tokio::time::sleep(*delay) => {}
        }
        *delay = (*delay * 2).min(self.max_backoff);
    }
}
