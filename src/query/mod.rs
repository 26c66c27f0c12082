//! Queries: PromQL parsing and evaluation. Rollups run on the shards that own the series.

pub mod eval;
pub mod promql;
pub mod rollup;
