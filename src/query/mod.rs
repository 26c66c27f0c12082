//! Queries: PromQL evaluation. Rollups run on the shards that own the series.

pub mod lookback;
