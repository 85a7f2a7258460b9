//! The routes of CONTRACT.md part B, answered from the log when it is on
//! this machine: the log's verifier key, the latest signed checkpoint (with
//! the cosignatures held), RFC 9162 inclusion and consistency proofs for
//! sizes up to that checkpoint's, which checkpoints attest the log (for the
//! page), and a receipt's inclusion proof (`?proof=1`).

use std::time::Instant;

use axum::{
    Json, Router,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use dotpha_store::{Log, Receipt, StoreError, StoredCheckpoint};
use dotpha_tlog::{InclusionProof, TreeError};
use serde_json::{Value, json};

use crate::{
    AppState, MIN_POSITION_WAIT,
    error::ApiError,
    routes::{Params, Reading, number_param},
};

/// The routes this module serves (they are in [`crate::ROUTES`] too).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/log/key", get(key))
        .route("/api/v1/log/checkpoint", get(checkpoint))
        .route("/api/v1/log/attestations", get(attestations))
        .route("/api/v1/log/proof/inclusion", get(inclusion))
        .route("/api/v1/log/proof/consistency", get(consistency))
}

fn required(params: &Params, name: &str) -> Result<u64, ApiError> {
    number_param(params, name)?.ok_or_else(|| ApiError::bad_request(format!("{name} is required")))
}

/// The store's refusals as the API's errors: a request outside the tree is
/// 400, a size beyond the latest checkpoint 409 (it may be answerable a
/// second later), a log that cannot be read 503.
fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::Tree(e @ TreeError::OutOfRange(_)) => ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "out_of_range",
            message: e.to_string(),
        },
        StoreError::Tree(e @ TreeError::BeyondCheckpoint { .. }) => ApiError {
            status: StatusCode::CONFLICT,
            code: "beyond_checkpoint",
            message: e.to_string(),
        },
        other => ApiError::unavailable(other.to_string()),
    }
}

/// Runs `f` on a read-only handle of the log, on a blocking thread.
async fn with_log<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Log) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let path = dotpha_host::DataDir::new(&state.inner.data_dir).log_path();
    if !path.exists() {
        return Err(ApiError::unavailable(
            "the log is not on this machine; ask the server where the writer runs",
        ));
    }
    tokio::task::spawn_blocking(move || Log::open_read_only(&path).and_then(|log| f(&log)))
        .await
        .map_err(ApiError::internal)?
        .map_err(store_error)
}

fn text(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

async fn key(Reading { state, .. }: Reading) -> Result<Response, ApiError> {
    let vkey = dotpha_tlog::keyfile::read_verifier_key(&state.inner.data_dir).ok_or_else(|| {
        ApiError::unavailable(
            "the log's key is not on this machine yet (the writer makes it at its first start)",
        )
    })?;
    Ok(text(format!("{vkey}\n")))
}

/// The latest checkpoint with the cosignature lines held for it.
fn latest_note(log: &Log) -> Result<Option<(StoredCheckpoint, String, usize)>, StoreError> {
    let Some(latest) = log.latest_checkpoint()? else {
        return Ok(None);
    };
    let cosignatures = log.cosignatures(latest.tree_size)?;
    let mut note = latest.note.clone();
    for (_, line) in &cosignatures {
        note.push_str(line);
    }
    Ok(Some((latest, note, cosignatures.len())))
}

async fn checkpoint(Reading { state, .. }: Reading) -> Result<Response, ApiError> {
    match with_log(&state, latest_note).await? {
        Some((_, note, _)) => Ok(text(note)),
        None => Err(ApiError {
            status: StatusCode::NOT_FOUND,
            code: "no_checkpoint",
            message: "the log has signed no checkpoint yet".to_owned(),
        }),
    }
}

async fn attestations(Reading { state, .. }: Reading) -> Result<Response, ApiError> {
    let checkpoints = with_log(&state, |log| log.attestations()).await?;
    Ok(Json(json!({ "checkpoints": checkpoints })).into_response())
}

async fn inclusion(Reading { state, params, .. }: Reading) -> Result<Response, ApiError> {
    let position = required(&params, "position")?;
    let size = number_param(&params, "size")?;
    let (proof, _) = with_log(&state, move |log| {
        log.signed_inclusion_proof(position, size)
    })
    .await?;
    Ok(Json(proof).into_response())
}

async fn consistency(Reading { state, params, .. }: Reading) -> Result<Response, ApiError> {
    let (from, to) = (required(&params, "from")?, required(&params, "to")?);
    let proof = with_log(&state, move |log| log.signed_consistency_proof(from, to)).await?;
    Ok(Json(proof).into_response())
}

/// A receipt's proof: each of its events' inclusion proof against the
/// latest checkpoint (with its cosignatures), waiting up to
/// [`MIN_POSITION_WAIT`] for a checkpoint that covers them. `None` for a
/// receipt without events.
pub(crate) async fn receipt_proof(
    state: &AppState,
    receipt: &Receipt,
) -> Result<Option<Value>, ApiError> {
    let Some(last) = receipt.events.last().map(|e| e.position) else {
        return Ok(None);
    };
    let positions: Vec<u64> = receipt.events.iter().map(|e| e.position).collect();
    let deadline = Instant::now() + MIN_POSITION_WAIT;
    loop {
        let positions = positions.clone();
        let found = with_log(state, move |log| {
            let Some((latest, note, cosigned)) = latest_note(log)? else {
                return Ok(None);
            };
            if latest.tree_size < last {
                return Ok(None);
            }
            let proofs = positions
                .iter()
                .map(|&p| log.inclusion_proof(p, latest.tree_size))
                .collect::<Result<Vec<InclusionProof>, _>>()?;
            Ok(Some(json!({
                "checkpoint": note,
                "tree_size": latest.tree_size,
                "root_hash": latest.root_hash,
                "cosigned_by": cosigned,
                "inclusion": proofs,
            })))
        })
        .await?;
        if let Some(proof) = found {
            return Ok(Some(proof));
        }
        if Instant::now() >= deadline {
            return Err(ApiError {
                status: StatusCode::CONFLICT,
                code: "beyond_checkpoint",
                message: format!(
                    "no signed checkpoint covers position {last} yet; ask again in a second"
                ),
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
