//! Strata: a thread-per-core time series database that speaks Prometheus'
//! protocols and stores samples the way VictoriaMetrics does.
#![deny(unsafe_code)]

pub mod encoding;
pub mod ingest;
pub mod model;
pub mod storage;
