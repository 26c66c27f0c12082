//! Query layer: the PromQL language front end (and, later, its evaluator).

pub mod promql;
