//! Queries: PromQL parsing and evaluation. Rollups run on the shards that own the series.

pub mod lookback;
pub mod promql;
