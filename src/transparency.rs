//! The commands of CONTRACT.md part B: `dotpha key`, `dotpha witness`,
//! `dotpha verify --checkpoint` and `dotpha submit --prove`. Each parses,
//! calls `dotpha_tlog`, the store or the witness crate, and prints.

use std::{path::Path, process::ExitCode, time::Duration};

use anyhow::{Context, Result, anyhow, bail};
use dotpha_bus::subjects::PROOF_INCLUSION;
use dotpha_store::{Log, Receipt};
use dotpha_tlog::{Checkpoint, InclusionProof, LogVerifier, keyfile, tree::to_hex};
use serde_json::{Value, json};

use crate::services::{init_tracing, runtime, shutdown_signal};

/// How long `submit --prove` waits for a checkpoint that covers the
/// receipt's events (the writer signs one within a second of a commit).
const PROVE_WAIT: Duration = Duration::from_secs(15);
/// How long one proof request waits for its answer.
const PROOF_REQUEST: Duration = Duration::from_secs(5);

/// `dotpha key`: the log's verifier key (the key is made on first use).
pub(crate) fn log_key(data: &Path, transparency: &dotpha_ingest::Transparency) -> Result<ExitCode> {
    let key = dotpha_ingest::log_key(data, transparency)
        .with_context(|| format!("the log's key in {}", data.display()))?;
    println!("{}", key.verifier_key());
    Ok(ExitCode::SUCCESS)
}

/// `dotpha key --witness FILE [--name NAME]`.
pub(crate) fn witness_key(path: &Path, name: Option<&str>) -> Result<ExitCode> {
    if !path.exists() && name.is_none() {
        bail!(
            "{} does not exist; to make a witness key there, give its name: --name NAME (e.g. hop-thanh.example.vn/witness)",
            path.display()
        );
    }
    let (key, made) = keyfile::witness_key(path, name)?;
    if made {
        eprintln!(
            "made the witness key {} (owner-only); give this verifier key to the log's operator (setting `witnesses`):",
            path.display()
        );
    }
    println!("{}", key.verifier_key());
    Ok(ExitCode::SUCCESS)
}

/// `dotpha witness`: exit 0 when stopped, 1 when the log misbehaved (the
/// evidence directory is named), 2 when it could not run.
pub(crate) fn witness(
    config: dotpha_witness::Config,
    metrics_addr: Option<String>,
    log: &str,
) -> Result<ExitCode> {
    init_tracing(log);
    // Keys are checked before anything connects: a wrong key fails at once.
    dotpha_witness::keys(&config)?;
    runtime()?.block_on(async move {
        let shutdown = shutdown_signal()?;
        let metrics = dotpha_witness::WitnessMetrics::default();
        let server = match metrics_addr {
            Some(addr) => {
                let mut registry = prometheus_client::registry::Registry::default();
                metrics.register(&mut registry);
                let listener = tokio::net::TcpListener::bind(&addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} for metrics"))?;
                Some(tokio::spawn(serve_metrics(listener, registry, shutdown.clone())))
            }
            None => None,
        };
        let outcome = dotpha_witness::run(config, metrics, shutdown).await?;
        if let Some(server) = server {
            server.abort();
        }
        Ok(match outcome {
            dotpha_witness::Outcome::Stopped => {
                tracing::info!("witness stopped cleanly");
                ExitCode::SUCCESS
            }
            dotpha_witness::Outcome::Refused(evidence) => {
                eprintln!(
                    "dotpha witness: the log rolled back or forked; nothing was cosigned; evidence kept in {}",
                    evidence.display()
                );
                ExitCode::from(1)
            }
        })
    })
}

async fn serve_metrics(
    listener: tokio::net::TcpListener,
    registry: prometheus_client::registry::Registry,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let registry = std::sync::Arc::new(registry);
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let registry = registry.clone();
            async move {
                let mut text = String::new();
                let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    text,
                )
            }
        }),
    );
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await;
}

/// `dotpha verify --checkpoint FILE`: the log's own check, then the note's
/// signature and the tree's root at its size. Exit 0 when all hold, 1
/// naming what does not, 2 when something cannot be read.
pub(crate) fn verify_checkpoint(
    data: &Path,
    expect_head: Option<&dotpha_store::Head>,
    note_file: &Path,
    log_key: Option<String>,
    json: bool,
) -> Result<ExitCode> {
    let path = crate::log_path(data);
    let log = Log::open_read_only(&path)?;
    let report = log
        .verify(expect_head)
        .with_context(|| format!("verifying {}", path.display()))?;
    let note =
        std::fs::read(note_file).with_context(|| format!("reading {}", note_file.display()))?;
    let vkey = match log_key {
        Some(vkey) => vkey,
        None => keyfile::read_verifier_key(data).ok_or_else(|| {
            anyhow!(
                "no verifier key in {} (the writer writes log.vkey at its first start): pass --log-key VKEY",
                data.display()
            )
        })?,
    };
    let verifier = LogVerifier::new(&vkey)?;
    let checked = match verifier.open(&note) {
        Err(e) => Err(format!("{}: {e}", note_file.display())),
        Ok(signed) => {
            let size = signed.checkpoint.size;
            if size > report.head_position {
                Err(format!(
                    "the checkpoint covers {size} events but the log holds {}: the log was truncated or rolled back",
                    report.head_position
                ))
            } else {
                let root = log.tree_root(size)?;
                if root == signed.checkpoint.root {
                    Ok(signed)
                } else {
                    Err(format!(
                        "the log's tree of {size} events has root {}, the checkpoint says {}: the log was rewritten or forked",
                        to_hex(&root),
                        to_hex(&signed.checkpoint.root)
                    ))
                }
            }
        }
    };
    let ok = report.ok && checked.is_ok();
    if json {
        let mut shown = serde_json::to_value(&report)?;
        shown["ok"] = ok.into();
        shown["checkpoint"] = match &checked {
            Ok(signed) => json!({
                "ok": true,
                "tree_size": signed.checkpoint.size,
                "root_hash": to_hex(&signed.checkpoint.root),
                "origin": signed.checkpoint.origin,
                "other_signatures": signed.other_signatures.len(),
            }),
            Err(problem) => json!({ "ok": false, "problem": problem }),
        };
        println!("{}", serde_json::to_string_pretty(&shown)?);
    } else {
        crate::show_report(&path, &report);
        match &checked {
            Ok(signed) => println!(
                "{}: signed by the log's key ({}); the log's tree of {} events has its root {}",
                note_file.display(),
                verifier.verifier_key(),
                signed.checkpoint.size,
                to_hex(&signed.checkpoint.root)
            ),
            Err(problem) => println!("checkpoint NOT confirmed: {problem}"),
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `submit --prove`'s options.
pub(crate) struct Prove {
    /// The log's verifier key, when the caller has it.
    pub(crate) log_key: Option<String>,
}

/// Asks the log (over NATS) for an inclusion proof of each of the
/// receipt's events against one signed checkpoint, waiting until one
/// covers them; checks every proof against that checkpoint's root (and its
/// signature when the log's key is given) before returning them.
pub(crate) async fn prove(
    client: &async_nats::Client,
    receipt: &Receipt,
    options: &Prove,
) -> Result<Value> {
    let Some(last) = receipt.events.last() else {
        return Ok(Value::Null);
    };
    let started = std::time::Instant::now();
    // The proof of the last event fixes the checkpoint; the others use its
    // size.
    let (first, note) = loop {
        let answer = request(client, json!({ "position": last.position })).await?;
        match answer.get("error") {
            None => {
                let note = answer
                    .get("checkpoint")
                    .and_then(Value::as_str)
                    .ok_or_else(|| anyhow!("the log's proof came without its checkpoint"))?
                    .to_owned();
                break (serde_json::from_value::<InclusionProof>(answer)?, note);
            }
            Some(error) if error["code"] == "beyond_checkpoint" => {
                if started.elapsed() > PROVE_WAIT {
                    bail!(
                        "no checkpoint covers position {} after {PROVE_WAIT:?}: is the writer signing checkpoints?",
                        last.position
                    );
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Some(error) => bail!("the log refused the proof: {error}"),
        }
    };
    let checkpoint = match &options.log_key {
        Some(vkey) => LogVerifier::new(vkey)?.open(note.as_bytes())?.checkpoint,
        None => {
            let body = note
                .split_once("\n\n")
                .map(|(body, _)| format!("{body}\n"))
                .ok_or_else(|| anyhow!("the checkpoint is not a signed note"))?;
            Checkpoint::parse_body(body.as_bytes())?
        }
    };
    let mut proofs = Vec::new();
    for event in &receipt.events {
        let proof = if event.position == first.position {
            first.clone()
        } else {
            let answer = request(
                client,
                json!({ "position": event.position, "size": first.tree_size }),
            )
            .await?;
            if let Some(error) = answer.get("error") {
                bail!(
                    "the log refused the proof of position {}: {error}",
                    event.position
                );
            }
            serde_json::from_value::<InclusionProof>(answer)?
        };
        let expected = dotpha_tlog::tree::event_leaf_hash(&event.hash)
            .ok_or_else(|| anyhow!("the receipt's hash {} is not a hash", event.hash))?;
        if proof.leaf_hash != to_hex(&expected) || proof.tree_size != checkpoint.size {
            bail!(
                "the log's proof of position {} is not of the receipt's event in the checkpoint's tree",
                event.position
            );
        }
        proof
            .verify(checkpoint.root)
            .with_context(|| format!("the inclusion proof of position {}", event.position))?;
        proofs.push(proof);
    }
    Ok(json!({
        "checkpoint": note,
        "tree_size": checkpoint.size,
        "root_hash": to_hex(&checkpoint.root),
        "signature_checked": options.log_key.is_some(),
        "inclusion": proofs,
    }))
}

async fn request(client: &async_nats::Client, body: Value) -> Result<Value> {
    let reply = tokio::time::timeout(
        PROOF_REQUEST,
        client.request(PROOF_INCLUSION, body.to_string().into()),
    )
    .await
    .map_err(|_| anyhow!("the log did not answer a proof request within {PROOF_REQUEST:?}"))?
    .context("asking the log for an inclusion proof")?;
    serde_json::from_slice(&reply.payload).context("the log's proof answer is not JSON")
}
