//! `POST /api/v1/submissions`: staff act from the page. The server builds
//! the envelope (the actor is the token's cadre, never a form field),
//! publishes it over NATS exactly as a commune's publisher does, and answers
//! with the receipt: 200 accepted, 422 rejected (the receipt names the field).

use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use dotpha_domain::{Timestamp, values::is_submission_id};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{AppState, error::ApiError};

/// What a form sends.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Act {
    #[serde(rename = "type")]
    kind: String,
    data: Value,
    #[serde(default)]
    expected_version: Option<u64>,
    #[serde(default)]
    submission_id: Option<String>,
    #[serde(default)]
    unit: Option<String>,
}

pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<Act>, JsonRejection>,
) -> Result<Response, ApiError> {
    let grant = state
        .inner
        .tokens
        .grant(&headers)?
        .cloned()
        .ok_or_else(|| ApiError::unauthorized("acting needs Authorization: Bearer <token>"))?;
    // A body over the limit is 413, as a proxy would say; one that is not
    // JSON by its type 415; others are 400.
    let Json(act) = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "too_large",
            message: format!(
                "{} (at most {} bytes)",
                e.body_text(),
                crate::MAX_BODY_BYTES
            ),
        },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: e.body_text(),
        },
        _ => ApiError::bad_request(e.body_text()),
    })?;
    let publisher = state.inner.publisher.clone().ok_or_else(|| {
        ApiError::unavailable("this server has no NATS connection to submit through")
    })?;
    let unit = act.unit.unwrap_or_else(|| grant.unit.clone());
    if dotpha_domain::Slug::parse(&unit).is_none() {
        return Err(ApiError::bad_request(format!(
            "unit {unit:?} is not a unit code"
        )));
    }
    let millis = state.inner.clock.unix_millis();
    // The token's unit and those within it, on the day the submission is
    // sent, by the same tree the rules decide with: what the door lets
    // through, the rules then judge.
    if unit != grant.unit {
        let (g, u) = (grant.clone(), unit.clone());
        let inside = state
            .read(move |rm| crate::routes::within(rm, Some(&g), &u, millis))
            .await?;
        if !inside {
            return Err(ApiError::forbidden(format!(
                "unit {unit} is outside this token's unit {}",
                grant.unit
            )));
        }
    }
    let submission_id = act
        .submission_id
        .unwrap_or_else(|| nuid::next().to_string());
    if !is_submission_id(&submission_id) {
        return Err(ApiError::bad_request(format!(
            "{submission_id:?} is not a submission id"
        )));
    }
    let mut envelope = json!({
        "schema": "dotpha.submission.v1",
        "submission_id": submission_id,
        "unit": unit,
        "actor": grant.cadre,
        "occurred_at": Timestamp::in_vietnam_from_unix_millis(millis).as_str(),
        "type": act.kind,
        "data": act.data,
    });
    if let Some(v) = act.expected_version {
        envelope["expected_version"] = json!(v);
    }
    let body = serde_json::to_vec(&envelope).map_err(ApiError::internal)?;
    let receipt = publisher
        .submit(&unit, &submission_id, body.into())
        .await
        .map_err(|e| match e {
            dotpha_bus::PublishError::Permission(m) => ApiError::forbidden(m),
            other => ApiError {
                status: StatusCode::GATEWAY_TIMEOUT,
                code: "undelivered",
                message: other.to_string(),
            },
        })?;
    let status = match receipt.status {
        dotpha_store::ReceiptStatus::Accepted => StatusCode::OK,
        dotpha_store::ReceiptStatus::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((status, Json(receipt)).into_response())
}
