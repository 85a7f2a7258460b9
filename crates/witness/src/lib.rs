//! `dotpha witness`: a small long-running process a commune (or anyone)
//! runs to hold the log to its word. It follows `dotpha.v1.checkpoint` on
//! `DOTPHA_CHECKPOINTS`, checks each checkpoint's signature against the
//! log's verifier key and its consistency with the last checkpoint it
//! accepted (asking the log for the consistency proof over NATS, on
//! `dotpha.v1.proof.consistency`), and publishes its C2SP cosignature on
//! `dotpha.v1.cosignature.<witness name>`.
//!
//! A rollback or a fork is never cosigned: the witness keeps both notes in
//! its directory as evidence, logs at ERROR and stops with
//! [`Outcome::Refused`] (the binary exits non-zero). A note that is not the
//! log's (a bad signature) proves nothing against the log: it is refused,
//! counted and logged, and the witness goes on.
//!
//! The rules are `dotpha_tlog::witness`'; this crate is the NATS shell.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use async_nats::jetstream::{self, consumer::DeliverPolicy, message::PublishMessage};
use dotpha_bus::subjects::{
    CHECKPOINT, CHECKPOINTS_STREAM, PROOF_CONSISTENCY, cosignature, is_subject_safe,
};
use dotpha_tlog::{
    ConsistencyProof, Cosigner, LogVerifier, SignedCheckpoint,
    witness::{LOCK_FILE, Refusal, Verdict, Witness},
};
use futures::StreamExt;
use prometheus_client::{
    metrics::{counter::Counter, gauge::Gauge},
    registry::Registry,
};
use tokio::sync::watch;

/// First pause after a failure; doubled up to [`MAX_BACKOFF`].
pub const BACKOFF: Duration = Duration::from_millis(200);
/// Longest pause between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a proof request waits for the log's answer.
pub const PROOF_TIMEOUT: Duration = Duration::from_secs(5);
/// Tries at a consistency proof before a checkpoint is passed over (not
/// cosigned; the next one is checked from the same accepted tree).
pub const PROOF_TRIES: u32 = 5;

/// How to run a witness.
#[derive(Clone, Debug)]
pub struct Config {
    /// NATS server URL(s), comma-separated.
    pub nats_url: String,
    /// The log's verifier key (`dotpha key` prints it).
    pub log_key: String,
    /// The witness's private key file (`dotpha key --witness FILE`).
    pub key_file: PathBuf,
    /// The witness's own directory: its state and any evidence.
    pub data_dir: PathBuf,
}

/// How a witness run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Asked to stop.
    Stopped,
    /// The log rolled back or forked; the evidence is in this directory.
    Refused(PathBuf),
}

/// What stops a witness before it can watch.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// A key cannot be used.
    #[error("{0}")]
    Key(String),
    /// Another witness holds the directory.
    #[error("another witness is running on {0} (its lock file is held)")]
    Locked(String),
    /// The witness's files.
    #[error(transparent)]
    Files(#[from] dotpha_tlog::witness::WitnessError),
    /// NATS, in a way waiting will not fix.
    #[error(transparent)]
    Bus(#[from] dotpha_bus::BusError),
}

/// The witness's metrics.
#[derive(Clone, Debug, Default)]
pub struct WitnessMetrics {
    /// Checkpoints cosigned.
    pub cosigned: Counter,
    /// Checkpoints refused (not the log's, rollbacks, forks).
    pub refused: Counter,
    /// The tree size of the last accepted checkpoint.
    pub tree_size: Gauge,
}

impl WitnessMetrics {
    /// Adds the metrics to `registry` under `dotpha_witness_`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "dotpha_witness_cosigned",
            "Checkpoints this witness cosigned",
            self.cosigned.clone(),
        );
        registry.register(
            "dotpha_witness_refused",
            "Checkpoints this witness refused (bad signature, rollback, fork)",
            self.refused.clone(),
        );
        registry.register(
            "dotpha_witness_tree_size",
            "Tree size of the last checkpoint this witness accepted",
            self.tree_size.clone(),
        );
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn lock(dir: &Path) -> Result<std::fs::File, WitnessError> {
    std::fs::create_dir_all(dir).map_err(|source| dotpha_tlog::witness::WitnessError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| dotpha_tlog::witness::WitnessError::Io {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(WitnessError::Locked(dir.display().to_string()))
        }
        Err(std::fs::TryLockError::Error(source)) => {
            Err(dotpha_tlog::witness::WitnessError::Io { path, source }.into())
        }
    }
}

/// The witness's key and the log's verifier, checked before anything runs.
pub fn keys(config: &Config) -> Result<(Cosigner, LogVerifier), WitnessError> {
    let log = LogVerifier::new(&config.log_key).map_err(|e| WitnessError::Key(e.to_string()))?;
    if !config.key_file.exists() {
        return Err(WitnessError::Key(format!(
            "{} does not exist: make the witness's key with `dotpha key --witness {} --name NAME` (NAME: e.g. hop-thanh.example.vn/witness) and give its verifier key to the log's operator",
            config.key_file.display(),
            config.key_file.display()
        )));
    }
    let (cosigner, _) = dotpha_tlog::keyfile::witness_key(&config.key_file, None)
        .map_err(|e| WitnessError::Key(e.to_string()))?;
    if !is_subject_safe(cosigner.name()) {
        return Err(WitnessError::Key(format!(
            "the witness name {:?} cannot stand in a NATS subject (no '*', '>', spaces or empty tokens)",
            cosigner.name()
        )));
    }
    Ok((cosigner, log))
}

/// Runs the witness until `shutdown` turns true or the log is caught
/// misbehaving.
pub async fn run(
    config: Config,
    metrics: WitnessMetrics,
    mut shutdown: watch::Receiver<bool>,
) -> Result<Outcome, WitnessError> {
    let (cosigner, log) = keys(&config)?;
    let _lock = lock(&config.data_dir)?;
    let mut witness = Witness::open(&config.data_dir, log, cosigner)?;
    if let Some(last) = witness.last() {
        metrics.tree_size.set(last.checkpoint.size as i64);
    }
    tracing::info!(
        witness = witness.cosigner().name(),
        verifier_key = %witness.cosigner().verifier_key(),
        accepted = witness.last().map(|l| l.checkpoint.size),
        "witness started"
    );
    let connection = dotpha_bus::connect(&config.nats_url, "dotpha-witness", true).await?;
    let js = jetstream::new(connection.client.clone());
    let subject = cosignature(witness.cosigner().name());
    let consumer_name = format!("dotpha-witness-{}", nuid::next());
    // After a stop or a failure, only the latest checkpoint matters: one
    // consistency proof from the last accepted tree covers all between.
    let mut delay = BACKOFF;
    let outcome = 'restart: loop {
        if *shutdown.borrow() {
            break Outcome::Stopped;
        }
        let consumer = match dotpha_bus::follower(
            &js,
            CHECKPOINTS_STREAM,
            CHECKPOINT,
            &consumer_name,
            DeliverPolicy::Last,
        )
        .await
        {
            Ok(c) => c,
            Err(error) => {
                tracing::warn!(%error, retry_in = ?delay, "cannot follow the log's checkpoints yet");
                if pause(&mut shutdown, &mut delay).await {
                    break Outcome::Stopped;
                }
                continue;
            }
        };
        let mut messages = match consumer.messages().await {
            Ok(m) => m,
            Err(error) => {
                tracing::warn!(%error, "cannot follow the log's checkpoints yet");
                if pause(&mut shutdown, &mut delay).await {
                    break Outcome::Stopped;
                }
                continue;
            }
        };
        loop {
            let next = tokio::select! {
                _ = shutdown.changed() => break 'restart Outcome::Stopped,
                next = messages.next() => next,
            };
            let message = match next {
                Some(Ok(m)) => m,
                Some(Err(error)) => {
                    tracing::warn!(%error, "following the checkpoints failed; resuming from the latest");
                    if pause(&mut shutdown, &mut delay).await {
                        break 'restart Outcome::Stopped;
                    }
                    continue 'restart;
                }
                None => continue 'restart,
            };
            delay = BACKOFF;
            let step = judge(
                &connection.client,
                &js,
                &mut witness,
                &subject,
                &metrics,
                &message.payload,
                &mut shutdown,
            )
            .await;
            let _ = message.ack().await;
            if let Some(outcome) = step {
                break 'restart outcome;
            }
        }
    };
    if let Ok(stream) = js.get_stream(CHECKPOINTS_STREAM).await {
        let _ = stream.delete_consumer(&consumer_name).await;
    }
    let _ = connection.client.flush().await;
    Ok(outcome)
}

/// Judges one offered note; `Some` ends the run.
async fn judge(
    client: &async_nats::Client,
    js: &jetstream::Context,
    witness: &mut Witness,
    subject: &str,
    metrics: &WitnessMetrics,
    note: &[u8],
    shutdown: &mut watch::Receiver<bool>,
) -> Option<Outcome> {
    let verdict = match witness.check(note) {
        Ok(v) => v,
        Err(refusal) => return refuse(witness, metrics, note, &refusal, None),
    };
    let (checkpoint, proof) = match verdict {
        Verdict::First(c) | Verdict::Again(c) => (c, None),
        Verdict::NeedsProof { checkpoint, from } => {
            let to = checkpoint.checkpoint.size;
            match fetch_proof(client, from, to, shutdown).await {
                Some(proof) => (checkpoint, Some(proof)),
                None => {
                    tracing::warn!(
                        from,
                        to,
                        "no consistency proof could be had; this checkpoint is not cosigned (the next one will be checked)"
                    );
                    return None;
                }
            }
        }
    };
    if let Some(proof) = &proof
        && let Err(refusal) = witness.check_proof(&checkpoint, proof)
    {
        return refuse(witness, metrics, note, &refusal, Some(proof));
    }
    cosign(js, witness, subject, metrics, checkpoint, shutdown).await
}

fn refuse(
    witness: &Witness,
    metrics: &WitnessMetrics,
    note: &[u8],
    refusal: &Refusal,
    proof: Option<&ConsistencyProof>,
) -> Option<Outcome> {
    metrics.refused.inc();
    if !refusal.is_evidence() {
        tracing::error!(%refusal, "refused a checkpoint; not cosigned");
        return None;
    }
    match witness.keep_evidence(note, refusal, proof, now()) {
        Ok(dir) => {
            tracing::error!(%refusal, evidence = %dir.display(), "THE LOG MISBEHAVED: not cosigned; both notes are kept as evidence; stopping");
            Some(Outcome::Refused(dir))
        }
        Err(error) => {
            tracing::error!(%refusal, %error, "THE LOG MISBEHAVED and the evidence could not be written; stopping");
            Some(Outcome::Refused(PathBuf::new()))
        }
    }
}

/// Records the checkpoint as accepted, then publishes the cosigned note
/// until the broker holds it.
async fn cosign(
    js: &jetstream::Context,
    witness: &mut Witness,
    subject: &str,
    metrics: &WitnessMetrics,
    checkpoint: SignedCheckpoint,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<Outcome> {
    let size = checkpoint.checkpoint.size;
    let cosigned = match witness.accept(checkpoint, now()) {
        Ok(note) => note,
        Err(error) => {
            tracing::error!(%error, "the witness's state cannot be written; not cosigning");
            return None;
        }
    };
    metrics.tree_size.set(size as i64);
    let mut delay = BACKOFF;
    loop {
        let message = PublishMessage::build()
            .payload(cosigned.clone().into_bytes().into())
            .message_id(format!("{}:{size}", witness.cosigner().name()));
        let sent = async {
            js.send_publish(subject.to_owned(), message)
                .await
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        match sent {
            Ok(_) => {
                metrics.cosigned.inc();
                tracing::info!(tree_size = size, "cosigned");
                return None;
            }
            Err(error) => {
                tracing::warn!(%error, tree_size = size, "publishing the cosignature failed; retrying");
                if pause(shutdown, &mut delay).await {
                    return Some(Outcome::Stopped);
                }
            }
        }
    }
}

/// Asks the log for the consistency proof between `from` and `to`.
async fn fetch_proof(
    client: &async_nats::Client,
    from: u64,
    to: u64,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<ConsistencyProof> {
    let mut delay = BACKOFF;
    for _ in 0..PROOF_TRIES {
        let body = serde_json::json!({ "from": from, "to": to }).to_string();
        let answer = tokio::time::timeout(
            PROOF_TIMEOUT,
            client.request(PROOF_CONSISTENCY, body.into()),
        )
        .await;
        match answer {
            Ok(Ok(reply)) => match serde_json::from_slice::<ConsistencyProof>(&reply.payload) {
                Ok(proof) => return Some(proof),
                Err(_) => tracing::warn!(
                    from,
                    to,
                    answer = %String::from_utf8_lossy(&reply.payload),
                    "the log did not give the consistency proof"
                ),
            },
            Ok(Err(error)) => tracing::warn!(%error, "asking for a consistency proof failed"),
            Err(_) => tracing::warn!("the log did not answer a consistency proof request in time"),
        }
        if pause(shutdown, &mut delay).await {
            return None;
        }
    }
    None
}

/// Sleeps for the backoff; true when shutdown was asked for meanwhile.
async fn pause(shutdown: &mut watch::Receiver<bool>, delay: &mut Duration) -> bool {
    let stop = tokio::select! {
        _ = shutdown.changed() => true,
        _ = tokio::time::sleep(*delay) => *shutdown.borrow(),
    };
    *delay = (*delay * 2).min(MAX_BACKOFF);
    stop
}
