//! Errors as the contract writes them: `{"error": {"code", "message"}}` with
//! a fitting status, never a bare 500 page.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A short machine code (`not_found`, `bad_request`, ...).
    pub code: &'static str,
    /// What is wrong, for a person.
    pub message: String,
}

impl ApiError {
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }
    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: message.into(),
        }
    }
    /// 403.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: message.into(),
        }
    }
    /// 503.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: message.into(),
        }
    }
    /// 500, for what should not happen; the message is logged, not hidden.
    pub fn internal(message: impl std::fmt::Display) -> ApiError {
        tracing::error!(%message, "internal error answering a request");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: message.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": { "code": self.code, "message": self.message } })),
        )
            .into_response()
    }
}

impl From<dotpha_project::ProjectError> for ApiError {
    fn from(e: dotpha_project::ProjectError) -> ApiError {
        match e {
            dotpha_project::ProjectError::View(e) => e.into(),
            e @ dotpha_project::ProjectError::HistoryNotInLog { .. } => {
                ApiError::unavailable(e.to_string())
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<dotpha_views::ViewError> for ApiError {
    fn from(e: dotpha_views::ViewError) -> ApiError {
        match e {
            dotpha_views::ViewError::NotAReadModel { .. }
            | dotpha_views::ViewError::OtherVersion { .. } => ApiError::unavailable(e.to_string()),
            other => ApiError::internal(other),
        }
    }
}
