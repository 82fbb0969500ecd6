//! Errors of the dashboard's API, answered as 4xx/5xx with a JSON body
//! `{"error": "what is wrong", "field": "user_count"}` (unlike Locust's 200 + `success:false`),
//! so scripts and the page can tell what to fix.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::engine::EngineError;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A form field is missing or wrong.
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    /// The request body could not be read as a form.
    #[error("{0}")]
    BadRequest(String),
    /// The request is understood but not allowed (e.g. a target outside `--allow-target`).
    #[error("{message}")]
    Forbidden {
        field: Option<&'static str>,
        message: String,
    },
    /// The request body is over the limit.
    #[error("request body too large: at most {0} bytes")]
    TooLarge(usize),
    /// The engine is in a state where the command makes no sense (e.g. stopping).
    #[error("{0}")]
    Conflict(String),
    /// The engine refused the command.
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// No such thing (a saved run).
    #[error("{0}")]
    NotFound(String),
    /// Something on the server failed (writing a CSV, rendering a template).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A wrong field.
    pub fn field(field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Field {
            field,
            message: message.into(),
        }
    }

    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Field { .. } | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict(_) | ApiError::Engine(EngineError::Busy(_)) => StatusCode::CONFLICT,
            ApiError::Engine(EngineError::Invalid(_)) => StatusCode::BAD_REQUEST,
            ApiError::Engine(EngineError::NotRunning) => StatusCode::CONFLICT,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Engine(EngineError::Closed) | ApiError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match &self {
            ApiError::Field { field, message }
            | ApiError::Forbidden {
                field: Some(field),
                message,
            } => json!({"error": message, "field": field}),
            ApiError::Internal(_) => json!({"error": "internal error; see the Logs tab"}),
            other => json!({"error": other.to_string()}),
        };
        (self.status(), Json(body)).into_response()
    }
}
