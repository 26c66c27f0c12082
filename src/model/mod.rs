//! The data model shared by every layer: label sets, label matchers, samples.

pub mod labels;
pub mod matcher;

pub use labels::{Label, Labels};
pub use matcher::{MatchOp, Matcher, MatcherError};

/// The NaN bit pattern Prometheus writes to mark a series as stale.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `value` is Prometheus' stale marker (compared by bits: any other NaN is a value).
pub fn is_stale_nan(value: f64) -> bool {
    value.to_bits() == STALE_NAN_BITS
}

/// The label that holds a series' metric name.
pub const METRIC_NAME_LABEL: &str = "__name__";
