//! Strata: a thread-per-core time series database that speaks Prometheus'
//! protocols and stores samples the way VictoriaMetrics does.
#![deny(unsafe_code)]

pub mod api;
pub mod check_host;
pub mod config;
pub mod duration;
pub mod encoding;
pub mod http;
pub mod index;
pub mod ingest;
pub mod logging;
pub mod model;
pub mod query;
pub mod runtime;
pub mod shard;
pub mod storage;
pub mod sys;
