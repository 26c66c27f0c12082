//! The values an expression evaluates to: scalar, instant vector, range vector (matrix), string.
//!
//! Samples and series carry `drop_name`: Prometheus 3 removes `__name__` from the
//! results of functions and operators only at the end of evaluation ("delayed name
//! removal"), so label functions can still read or keep it meanwhile.

use std::collections::HashMap;

use crate::model::{Labels, METRIC_NAME_LABEL};

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

/// Gathers the samples of successive steps into series, one per label set,
/// in order of first appearance (labels are copied once per series).
#[derive(Debug, Default)]
pub(crate) struct SeriesBuilder {
    index: HashMap<Labels, usize>,
    series: Vec<Series>,
}

impl SeriesBuilder {
    /// Adds `sample` as the point at `t_ms` of its series.
    pub fn push(&mut self, t_ms: i64, sample: &Sample) {
        if let Some(series) = self
            .index
            .get(&sample.labels)
            .and_then(|&i| self.series.get_mut(i))
        {
            series.points.push((t_ms, sample.value));
            series.drop_name |= sample.drop_name;
            return;
        }
        self.index.insert(sample.labels.clone(), self.series.len());
        self.series.push(Series {
            labels: sample.labels.clone(),
            points: vec![(t_ms, sample.value)],
            drop_name: sample.drop_name,
        });
    }

    /// The series gathered.
    pub fn finish(self) -> Vec<Series> {
        self.series
    }
}

/// Whether `name` is removed with the metric name: `__name__`, and with
/// type-and-unit labels on (experimental) also `__type__` and `__unit__`.
pub(crate) fn is_name_label(name: &str, type_and_unit: bool) -> bool {
    name == METRIC_NAME_LABEL || (type_and_unit && (name == TYPE_LABEL || name == UNIT_LABEL))
}

/// Removes the metric name (and its type and unit labels when those are on).
pub(crate) fn remove_name(labels: &mut Labels, type_and_unit: bool) {
    labels.retain(|l| !is_name_label(&l.name, type_and_unit));
}

/// The experimental label carrying a metric's type.
const TYPE_LABEL: &str = "__type__";
/// The experimental label carrying a metric's unit.
const UNIT_LABEL: &str = "__unit__";
