//! The log writer: pull a batch, decide it, commit it with the read
//! position, then ack and answer.

use std::time::Instant;

use async_nats::{Client, jetstream};
use dotpha_bus::{
    Flow, PullLoop, Puller, Setup,
    leaf::{self, check_source},
    lease::{LeaseError, LeaseGuard},
    subjects::{self, MSG_ID},
};
use dotpha_host::SharedClock;
use dotpha_store::{Arrival, Batch, DeadLetter, Ledger, Receipt};
use tokio::sync::watch;
use tracing::Instrument;

use crate::{BACKOFF, IngestError, IngestMetrics, LINGER, MAX_BACKOFF, MAX_BATCH, Part};

/// A crash to inject at a chosen point, so tests can prove recovery
/// (`DOTPHA_FAULT` in the binary). The process aborts, as SIGKILL would end it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Abort after the `n`th commit, before acking or answering it.
    AfterCommit(u64),
    /// Abort holding the `n`th fetched batch, before deciding it.
    BeforeCommit(u64),
    /// Stop the whole process (SIGSTOP, as a frozen VM) after the `n`th
    /// commit, before appending it to `DOTPHA_DECISIONS`; it goes on where
    /// it stopped when sent SIGCONT.
    StopAfterCommit(u64),
    /// Abort after the `n`th commit's append to `DOTPHA_DECISIONS`, before
    /// acking or answering it: the stream holds a batch nobody answered.
    AfterAppend(u64),
    /// Abort after appending the first part of the `n`th record cut into
    /// parts (`RecordPart`), before its other parts: the stream ends with a
    /// record cut short.
    AfterFirstPart(u64),
}

impl Fault {
    /// Reads `after-commit:N`, `before-commit:N`, `stop-after-commit:N`,
    /// `after-append:N` or `after-first-part:N`.
    pub fn parse(text: &str) -> Option<Fault> {
        let (point, n) = text.split_once(':')?;
        let n = n.parse().ok()?;
        match point {
            "after-commit" => Some(Fault::AfterCommit(n)),
            "before-commit" => Some(Fault::BeforeCommit(n)),
            "stop-after-commit" => Some(Fault::StopAfterCommit(n)),
            "after-first-part" => Some(Fault::AfterFirstPart(n)),
            "after-append" => Some(Fault::AfterAppend(n)),
            _ => None,
        }
    }
}

pub(crate) struct Writer {
    /// The ledger; `None` only while a blocking task is committing with it.
    pub(crate) ledger: Option<Ledger>,
    /// The read position committed with the last batch.
    pub(crate) read_position: u64,
    /// The `Nats-Msg-Id` of the message at the read position.
    pub(crate) read_tag: Option<String>,
    pub(crate) js: jetstream::Context,
    pub(crate) client: Client,
    pub(crate) head: watch::Sender<u64>,
    pub(crate) metrics: IngestMetrics,
    pub(crate) fault: Option<Fault>,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Batches pulled so far (for [`Fault::BeforeCommit`]).
    pub(crate) batches: u64,
    /// Records cut into parts appended so far (for
    /// [`Fault::AfterFirstPart`]).
    pub(crate) part_groups: u64,
    /// The writer's lease: nothing is committed or answered without it.
    pub(crate) lease: LeaseGuard,
    /// Where the writer reports how it is.
    pub(crate) part: Part,
    /// The clock `recorded_at` is read from.
    pub(crate) clock: SharedClock,
}

/// Waits until the lease is valid again: `Ok(true)` to go on, `Ok(false)`
/// when shutdown was asked for meanwhile, an error when it was lost.
async fn hold_until_valid(writer: &mut Writer) -> Result<bool, IngestError> {
    if let Err(error) = writer.lease.check() {
        if let LeaseError::Lost { .. } = error {
            return Err(error.into());
        }
        writer.part.retrying(&error);
    }
    match writer.lease.wait_valid(&mut writer.shutdown).await {
        Ok(()) => Ok(true),
        Err(LeaseError::Stopped) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// How the writer pulls: batches of up to [`MAX_BATCH`] gathered for at
/// most [`LINGER`], a heartbeat so a pull left on a dead server fails, and
/// backoff from [`BACKOFF`] to [`MAX_BACKOFF`].
const PULL: PullLoop = PullLoop {
    max_batch: MAX_BATCH,
    linger: LINGER,
    heartbeat: Some(std::time::Duration::from_secs(5)),
    backoff: BACKOFF,
    max_backoff: MAX_BACKOFF,
};

/// Runs the writer until shutdown (`Ok`) or until it must stop (its lease
/// lost, its ledger gone).
pub(crate) async fn run(
    mut writer: Writer,
    connects: watch::Receiver<u64>,
) -> Result<(), IngestError> {
    let shutdown = writer.shutdown.clone();
    PULL.run(&mut writer, connects, shutdown).await
}

impl Puller for Writer {
    type Error = IngestError;

    fn what(&self) -> &'static str {
        "submissions"
    }

    /// Nothing is decided without the lease (it lapses while NATS is away,
    /// and comes back when a renewal gets through); the consumer starts
    /// right after the committed read position.
    async fn consumer(&mut self) -> Result<Setup, IngestError> {
        if !hold_until_valid(self).await? {
            return Ok(Setup::Stop);
        }
        match dotpha_bus::writer_consumer(
            &self.js,
            self.read_position + 1,
            self.read_tag.as_deref(),
        )
        .await
        {
            Ok((consumer, start)) => {
                // A reset stream is read from its start: nothing before
                // `start` counts as already decided any more.
                self.read_position = self.read_position.min(start.saturating_sub(1));
                Ok(Setup::Ready(Box::new(consumer)))
            }
            Err(error) => Ok(Setup::Retry(format!(
                "setting up the writer's consumer: {error}"
            ))),
        }
    }

    fn pulling(&mut self) {
        tracing::info!(
            from_sequence = self.read_position + 1,
            "writer pulling submissions"
        );
        self.part.running();
    }

    async fn batch(&mut self, batch: Vec<jetstream::Message>) -> Result<Flow, IngestError> {
        self.batches += 1;
        let number = self.batches;
        if self.fault == Some(Fault::BeforeCommit(number)) {
            tracing::error!(
                number,
                "injected fault: aborting while holding an undecided batch"
            );
            std::process::abort();
        }
        match step(self, batch, number).await {
            Ok(Step::Done) => Ok(Flow::Next),
            Ok(Step::Stopped) => Ok(Flow::Stop),
            Ok(Step::Skipped) => Ok(Flow::Restart),
            Err(error @ IngestError::LeaseLost(_)) => Err(error),
            Err(IngestError::LeaseLapsed(why)) => {
                // Nothing of the batch was committed: it comes again.
                tracing::warn!(%why, "holding the batch in hand: the lease lapsed; resuming from the log's read position once it is renewed");
                Ok(Flow::Restart)
            }
            Err(error) => {
                tracing::error!(%error, "a batch could not be committed; resuming from the log's read position");
                Ok(Flow::Retry(format!("committing a batch: {error}")))
            }
        }
    }

    fn retrying(&mut self, why: &str) {
        self.part.retrying(why);
    }

    /// Taken by someone else while idle: stop now, not at the next
    /// submission.
    async fn interrupted(&mut self) -> IngestError {
        self.lease.lost().await;
        self.lease.check().err().map_or_else(
            || IngestError::LeaseLost("taken by another process".to_owned()),
            IngestError::from,
        )
    }
}

fn headers_text(message: &async_nats::Message) -> String {
    message
        .headers
        .as_ref()
        .map(|headers| {
            headers
                .iter()
                .flat_map(|(name, values)| {
                    values
                        .iter()
                        .map(move |v| format!("{name}: {}", v.as_str()))
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// `message`, kept whole, with why it was not decided.
fn dead_letter(message: &async_nats::Message, sequence: u64, reason: String) -> DeadLetter {
    DeadLetter {
        stream_sequence: Some(sequence),
        subject: message.subject.to_string(),
        headers: headers_text(message),
        payload: message.payload.to_vec(),
        reason,
        submission_id: None,
        unit: None,
    }
}

/// Every `Nats-Stream-Source` value of `message`, whatever the header
/// name's case.
fn stream_sources(message: &async_nats::Message) -> Vec<&str> {
    message
        .headers
        .as_ref()
        .map(|headers| {
            headers
                .iter()
                .filter(|(name, _)| name.to_string().eq_ignore_ascii_case(leaf::STREAM_SOURCE))
                .flat_map(|(_, values)| values.iter().map(|v| v.as_str()))
                .collect()
        })
        .unwrap_or_default()
}

/// The first stream sequence after `committed` that `batch` skips, with
/// the one it has instead.
fn first_gap(batch: &[jetstream::Message], committed: u64) -> Option<(u64, u64)> {
    batch
        .iter()
        .filter_map(|m| m.info().ok().map(|i| i.stream_sequence))
        .filter(|sequence| *sequence > committed)
        .zip(committed + 1..)
        .find(|(sequence, expected)| sequence != expected)
        .map(|(sequence, expected)| (expected, sequence))
}

/// How a step ended.
enum Step {
    /// The batch is decided and answered (or was all decided before).
    Done,
    /// Shutdown was asked for while the batch waited for the lease, after
    /// its commit: its answers are left to its redelivery.
    Stopped,
    /// The batch does not follow the read position; nothing was decided.
    Skipped,
}

/// Decides and commits one batch, then acks it and publishes its receipts.
async fn step(
    writer: &mut Writer,
    batch: Vec<jetstream::Message>,
    number: u64,
) -> Result<Step, IngestError> {
    let committed = writer.read_position;
    // The new messages must follow the read position without a gap. A
    // message missing went to another puller of the writer's consumer (a
    // writer frozen past its lease whose pull request reached the consumer
    // this writer made anew) and, once this batch is acked (ack-all),
    // would never come back: nothing of the batch is decided, and the
    // consumer is made anew from the read position. A message the stream
    // no longer holds (removed by age, or by hand) is no gap.
    if let Some((missing, got)) = first_gap(&batch, committed)
        && dotpha_bus::submission_held(&writer.js, missing).await?
    {
        tracing::warn!(
            missing,
            got,
            read_position = committed,
            "the writer's consumer skipped a submission another process pulled; setting it up again from the read position"
        );
        return Ok(Step::Skipped);
    }
    let mut arrivals = Vec::with_capacity(batch.len());
    let mut dead_letters = Vec::new();
    let mut read_position = None;
    let mut read_tag = None;
    for message in &batch {
        let sequence = match message.info() {
            Ok(info) => info.stream_sequence,
            Err(error) => {
                tracing::warn!(%error, "a message without JetStream metadata; ignoring it");
                continue;
            }
        };
        if sequence <= committed {
            // Decided before a crash or a reconnect; only the ack is missing.
            continue;
        }
        read_position = Some(sequence);
        let subject = message.subject.as_str();
        let subject_unit = subject.strip_prefix("dotpha.v1.submit.").unwrap_or(subject);
        let msg_id = message
            .headers
            .as_ref()
            .and_then(|h| h.get(MSG_ID))
            .map(|v| v.as_str());
        read_tag = msg_id.map(str::to_owned);
        // A message sourced from a commune's leaf node carries the subject
        // that commune's server gave it: it counts as the subject's unit's
        // only if it came over that unit's own link.
        if let Err(foreign) = check_source(subject_unit, &stream_sources(message)) {
            let actual = writer.ledger.as_ref().and_then(|ledger| {
                leaf::source_unit(
                    &foreign.came_from,
                    ledger.state().units().map(|u| u.code.as_str()),
                )
            });
            tracing::warn!(
                submission_id = msg_id.unwrap_or(""),
                claimed_unit = %foreign.claimed,
                actual_unit = actual.unwrap_or("unknown"),
                source = %foreign.came_from,
                stream_sequence = sequence,
                "refused a sourced submission whose subject names another unit than the link it came over; kept as a dead letter, nothing decided"
            );
            let reason = match actual {
                Some(actual) => format!("{foreign} (the outbox of {actual})"),
                None => foreign.to_string(),
            };
            dead_letters.push(dead_letter(message, sequence, reason));
            continue;
        }
        match Arrival::read(&message.payload, Some(subject_unit), msg_id) {
            Ok(arrival) => arrivals.push(arrival),
            Err(rejection) => dead_letters.push(dead_letter(message, sequence, rejection.message)),
        }
    }
    let span = tracing::info_span!("batch", number, size = batch.len(), read_position);
    if let Some(read_position) = read_position {
        let taken = Batch {
            arrivals,
            dead_letters: dead_letters.clone(),
            read_position: Some(read_position),
            read_tag: read_tag.clone(),
        };
        // Right before the commit: a writer whose lease lapsed or was taken
        // decides nothing.
        writer.lease.check()?;
        let started = Instant::now();
        let recorded_at = writer.clock.now();
        let ledger = writer.ledger.take().ok_or_else(|| {
            IngestError::Task("the ledger was lost by an earlier failed commit".to_owned())
        })?;
        let (ledger, outcome) = tokio::task::spawn_blocking({
            let span = span.clone();
            move || {
                let _entered = span.enter();
                let mut ledger = ledger;
                let outcome = ledger.commit_batch(taken, &recorded_at);
                (ledger, outcome)
            }
        })
        .await
        .map_err(|e| IngestError::Task(e.to_string()))?;
        writer.ledger = Some(ledger);
        let committed = outcome?;
        let receipts = committed.receipts;
        let replicated = committed.replicated;
        // Repeats of ids decided for another unit, refused: announced with
        // the batch's own dead letters.
        let mut dead_letters = dead_letters;
        dead_letters.extend(committed.refusals);
        writer.read_position = read_position;
        writer.read_tag = read_tag;
        writer
            .metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        writer.metrics.batch_size.observe(batch.len() as f64);
        if writer.fault == Some(Fault::AfterCommit(number)) {
            tracing::error!(
                number,
                "injected fault: aborting after commit, before acks and receipts"
            );
            std::process::abort();
        }
        if writer.fault == Some(Fault::StopAfterCommit(number)) {
            tracing::error!(
                number,
                "injected fault: stopping the process (SIGSTOP) after commit, before the append"
            );
            let stopped = std::process::Command::new("kill")
                .args(["-STOP", &std::process::id().to_string()])
                .status();
            tracing::warn!(?stopped, "injected fault: the process goes on (SIGCONT)");
        }
        // The commit point: no receipt before the replicated stream holds
        // the batch. A writer fenced off by a takeover stops here. Nothing
        // is appended without a valid lease either: a writer paused
        // between its commit and here (a frozen VM) finds its lease lapsed
        // or lost, so it does not append after a standby took over even
        // before that standby's first append.
        if let Some(replicated) = &replicated {
            if !hold_until_valid(writer).await? {
                return Ok(Step::Stopped);
            }
            if let Some(Fault::AfterFirstPart(n)) = writer.fault {
                fail_after_first_part(writer, replicated, n).await?;
            }
            let started = Instant::now();
            append_records(&writer.js, replicated, Some(&writer.lease)).await?;
            writer
                .metrics
                .replicate_seconds
                .observe(started.elapsed().as_secs_f64());
            writer
                .metrics
                .replica_record
                .set(i64::try_from(replicated.last_sequence()).unwrap_or(i64::MAX));
        }
        if writer.fault == Some(Fault::AfterAppend(number)) {
            tracing::error!(
                number,
                "injected fault: aborting after the append, before acks and receipts"
            );
            std::process::abort();
        }
        // Right before the answers: a receipt is a promise made under the
        // lease. A lapsed lease holds them until it is renewed; a lost one
        // sends none (the messages stay unacked).
        if !hold_until_valid(writer).await? {
            return Ok(Step::Stopped);
        }
        writer.part.running();
        acknowledge(&batch).instrument(span.clone()).await;
        answer(
            &writer.client,
            &writer.js,
            &writer.metrics,
            &receipts,
            &dead_letters,
        )
        .instrument(span)
        .await;
        let head = writer
            .ledger
            .as_ref()
            .map_or(0, |l| l.log().head().position);
        writer.metrics.log_head.set(head as i64);
        writer.head.send_replace(head);
    } else {
        acknowledge(&batch).instrument(span).await;
    }
    Ok(Step::Done)
}

/// [`Fault::AfterFirstPart`]: when `replicated` holds the `n`th record cut
/// into parts this writer appends, appends up to that record's first part
/// and aborts.
async fn fail_after_first_part(
    writer: &mut Writer,
    replicated: &dotpha_store::Replicated,
    n: u64,
) -> Result<(), IngestError> {
    let firsts = replicated.records.iter().enumerate().filter(|(_, r)| {
        r.as_bytes().starts_with(dotpha_store::PART_PREFIX)
            && matches!(
                dotpha_store::ReplicaMessage::parse(r.as_bytes()),
                Ok(dotpha_store::ReplicaMessage::Part(p)) if p.part == 1
            )
    });
    for (index, _) in firsts {
        writer.part_groups += 1;
        if writer.part_groups == n {
            let cut = dotpha_store::Replicated {
                first_sequence: replicated.first_sequence,
                records: replicated.records[..=index].to_vec(),
            };
            append_records(&writer.js, &cut, Some(&writer.lease)).await?;
            tracing::error!(
                n,
                "injected fault: aborting after the first part of a record cut into parts"
            );
            std::process::abort();
        }
    }
    Ok(())
}

/// Appends a committed batch's records to `DOTPHA_DECISIONS`, each
/// fenced by the sequence before it, sending the same record again while
/// NATS fails (the `Nats-Msg-Id` makes a repeat land once) and the lease,
/// when given, is not lost. A stream that moved on is a takeover: this
/// writer was fenced and stops ([`IngestError::LeaseLost`]). With a lease,
/// each record after the first waits for it to be valid (the caller
/// checked it before the first): a writer frozen between two records (or
/// two parts of one) that thaws after a standby took over appends nothing
/// more.
pub(crate) async fn append_records(
    js: &jetstream::Context,
    replicated: &dotpha_store::Replicated,
    lease: Option<&LeaseGuard>,
) -> Result<(), IngestError> {
    use dotpha_bus::decisions::{AppendError, append};
    for (i, record) in replicated.records.iter().enumerate() {
        if i > 0
            && let Some(lease) = lease
        {
            // The batch is committed: a lapse is waited out (the rest must
            // follow), a loss stops the writer.
            let (_never, mut no_shutdown) = watch::channel(false);
            lease.clone().wait_valid(&mut no_shutdown).await?;
        }
        let expected = replicated.first_sequence + i as u64 - 1;
        let mut backoff = BACKOFF;
        loop {
            match append(js, expected, record.clone()).await {
                Ok(()) => break,
                Err(fenced @ AppendError::Fenced { .. }) => {
                    return Err(IngestError::LeaseLost(fenced.to_string()));
                }
                Err(AppendError::Misplaced { expected, got }) => {
                    return Err(IngestError::Replica(format!(
                        "DOTPHA_DECISIONS took record {expected} at sequence {got}; something else appends to it"
                    )));
                }
                Err(AppendError::Bus(error)) => {
                    if let Some(Err(lost @ LeaseError::Lost { .. })) = lease.map(LeaseGuard::check)
                    {
                        return Err(lost.into());
                    }
                    tracing::warn!(%error, sequence = expected + 1, "appending to DOTPHA_DECISIONS failed; sending the same record again");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
    Ok(())
}

/// Acks a decided batch. The consumer's policy is ack-all, so acking the
/// last message releases every one before it.
async fn acknowledge(batch: &[jetstream::Message]) {
    if let Some(last) = batch.last()
        && let Err(error) = last.ack().await
    {
        // The decisions are committed; unacked messages come back and are
        // recognised by their sequence.
        tracing::warn!(%error, "ack failed");
    }
}

/// Publishes the receipts and dead letters of a committed batch. Takes the
/// parts it needs, not the writer: the ledger (a SQLite connection) must not
/// be shared across an await.
async fn answer(
    client: &Client,
    js: &jetstream::Context,
    metrics: &IngestMetrics,
    receipts: &[Receipt],
    dead_letters: &[DeadLetter],
) {
    for receipt in receipts {
        let position = receipt.events.last().map(|e| e.position);
        tracing::debug!(
            submission_id = %receipt.submission_id,
            unit = receipt.unit.as_deref().unwrap_or(""),
            position,
            status = receipt.status.as_str(),
            duplicate = receipt.duplicate,
            "decided"
        );
        metrics.decided(receipt);
        let Some(unit) = receipt
            .unit
            .as_deref()
            .filter(|u| dotpha_domain::Slug::parse(u).is_some())
        else {
            continue;
        };
        match serde_json::to_vec(receipt) {
            Ok(body) => {
                if let Err(error) = client.publish(subjects::receipt(unit), body.into()).await {
                    tracing::warn!(%error, "publishing a receipt failed; receipt.get still answers it");
                }
            }
            Err(error) => tracing::error!(%error, "a receipt could not be encoded"),
        }
    }
    for dead in dead_letters {
        metrics.dead_letters.inc();
        tracing::warn!(subject = %dead.subject, reason = %dead.reason, "kept a dead letter");
        let mut headers = async_nats::HeaderMap::new();
        if let Some(sequence) = dead.stream_sequence {
            headers.insert("Dotpha-Stream-Sequence", sequence.to_string().as_str());
        }
        headers.insert(
            "Dotpha-Reason",
            dead.reason.replace(['\r', '\n'], " ").as_str(),
        );
        let publish = js
            .publish_with_headers(
                subjects::dead(&dead.subject),
                headers,
                dead.payload.clone().into(),
            )
            .await;
        if let Err(error) = publish {
            tracing::warn!(%error, "publishing a dead letter failed; the log keeps it");
        }
    }
}
