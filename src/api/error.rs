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
}

impl ApiError {
    /// 400 `bad_data`.
    pub fn bad_data(message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            error_type: "bad_data",
            message: message.into(),
        }
    }

    /// 500 `internal`.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: 500,
            error_type: "internal",
            message: message.into(),
        }
    }

    /// 503 `unavailable`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            status: 503,
            error_type: "unavailable",
            message: message.into(),
        }
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: 404,
            error_type: "not_found",
            message: message.into(),
        }
    }

    /// 405 for a known path with the wrong method.
    pub fn method_not_allowed(method: &str, path: &str, allowed: &str) -> Self {
        ApiError {
            status: 405,
            error_type: "bad_data",
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
        if self.status == 405 {
            return response.with_header("Allow", "GET, POST");
        }
        response
    }
}
