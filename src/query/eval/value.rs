//! The values an expression evaluates to: scalar, instant vector, range vector (matrix), string.
//!
//! Samples and series carry `drop_name`: Prometheus 3 removes `__name__` from the
//! results of functions and operators only at the end of evaluation ("delayed name
//! removal"), so label functions can still read or keep it meanwhile.

use crate::model::Labels;

/// One element of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The series' labels (`__name__` possibly still present, see `drop_name`).
    pub labels: Labels,
    /// The value.
    pub value: f64,
    /// Whether `__name__` is removed when the result leaves the engine.
    pub drop_name: bool,
}

/// One series of a range vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// `(timestamp_ms, value)` in time order.
    pub points: Vec<(i64, f64)>,
    /// Whether `__name__` is removed when the result leaves the engine.
    pub drop_name: bool,
}

/// The result of evaluating an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A float.
    Scalar(f64),
    /// An instant vector.
    Vector(Vec<Sample>),
    /// A range vector; the result of every range query.
    Matrix(Vec<Series>),
    /// A string.
    String(String),
}

impl Value {
    /// The Prometheus name of the value's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "scalar",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
            Value::String(_) => "string",
        }
    }
}
