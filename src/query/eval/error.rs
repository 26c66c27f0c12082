//! Evaluation errors, each carrying the error type Prometheus' HTTP API reports.

use std::fmt;

/// The `errorType` of Prometheus' API response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// `bad_data`: the query itself is wrong (HTTP 400).
    BadData,
    /// `execution`: evaluation failed (HTTP 422).
    Execution,
    /// `timeout`: the query ran too long (HTTP 503).
    Timeout,
}

impl ErrorType {
    /// The name used in the API's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::BadData => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Timeout => "timeout",
        }
    }
}

/// Why a query could not be evaluated.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EvalError {
    /// The query text does not parse.
    Parse(String),
    /// A selector or subquery would hold more samples than allowed at once.
    TooManySamples {
        /// The configured limit.
        limit: usize,
    },
    /// A selector matched more series than allowed.
    TooManySeries {
        /// The configured limit.
        limit: usize,
    },
    /// Any other evaluation failure, with Prometheus' message.
    Execution(String),
    /// A bad parameter value detected during evaluation.
    BadData(String),
    /// The source failed to deliver data.
    Source(String),
    /// The query ran longer than its timeout.
    Timeout,
}

impl EvalError {
    /// The error type Prometheus would report.
    pub fn error_type(&self) -> ErrorType {
        match self {
            EvalError::Parse(_) | EvalError::BadData(_) => ErrorType::BadData,
            EvalError::Timeout => ErrorType::Timeout,
            _ => ErrorType::Execution,
        }
    }

    pub(crate) fn execution(message: impl Into<String>) -> Self {
        EvalError::Execution(message.into())
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::Parse(m) | EvalError::Execution(m) | EvalError::BadData(m) => f.write_str(m),
            EvalError::Source(m) => write!(f, "fetching series: {m}"),
            EvalError::Timeout => f.write_str("query timed out in expression evaluation"),
            EvalError::TooManySamples { .. } => f.write_str(
                "query processing would load too many samples into memory in query execution",
            ),
            EvalError::TooManySeries { limit } => {
                write!(
                    f,
                    "the query hit the max number of series limit (limit: {limit})"
                )
            }
        }
    }
}

impl std::error::Error for EvalError {}
