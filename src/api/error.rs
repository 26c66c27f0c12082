//! API errors: a Prometheus error type, a status code and a message.

use crate::http::Response;

/// An error answered in the Prometheus JSON shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Prometheus `errorType`: `bad_data`, `execution`, `timeout`, `internal`, `not_found`, `unavailable`.
    pub error_type: &'static str,
    /// The message.
    pub message: String,
    /// Sent as `Retry-After` (seconds) when the refusal is temporary (a full disk).
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    /// 400 `bad_data`.
    pub fn bad_data(message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            error_type: "bad_data",
            retry_after_secs: None,
            message: message.into(),
        }
    }

    /// 500 `internal`.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: 500,
            error_type: "internal",
            retry_after_secs: None,
            message: message.into(),
        }
    }

    /// 503 `unavailable`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            status: 503,
            error_type: "unavailable",
            retry_after_secs: None,
            message: message.into(),
        }
    }

    /// 503 `unavailable` for a refused write; `Retry-After` when retrying later will help.
    pub fn write_refused(refused: crate::storage::write_gate::WriteRefused) -> Self {
        let mut error = ApiError::unavailable(refused.message);
        // Whole seconds, rounded up: `Retry-After: 0` would invite a busy loop.
        error.retry_after_secs = refused
            .retry_after
            .map(|d| d.as_millis().div_ceil(1000).max(1) as u64);
        error
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: 404,
            error_type: "not_found",
            retry_after_secs: None,
            message: message.into(),
        }
    }

    /// 405 for a known path with the wrong method.
    pub fn method_not_allowed(method: &str, path: &str, allowed: &str) -> Self {
        ApiError {
            status: 405,
            error_type: "bad_data",
            retry_after_secs: None,
            message: format!("method {method} is not allowed on {path}; use {allowed}"),
        }
    }

    /// An invalid query parameter, worded as Prometheus does.
    pub fn invalid_param(name: &str, reason: impl std::fmt::Display) -> Self {
        ApiError::bad_data(format!("invalid parameter {name:?}: {reason}"))
    }

    /// The response.
    pub fn into_response(self) -> Response {
        let response = Response::prometheus_error(self.status, self.error_type, &self.message);
        if let Some(seconds) = self.retry_after_secs {
            return response.with_header("Retry-After", seconds.to_string());
        }
        if self.status == 405 {
            return response.with_header("Allow", "GET, POST");
        }
        response
    }
}
