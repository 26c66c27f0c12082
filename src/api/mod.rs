//! The Prometheus / VictoriaMetrics HTTP API served by every shard's front.
//!
//! A front parses the request, fans work out to the shards that own the data
//! (one message per shard), waits for their answers and writes the response.

pub mod error;
pub mod fanout;
pub mod json;
pub mod metadata;
pub mod params;
pub mod query;
pub mod status;
pub mod write;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use glommio::channels::channel_mesh::Senders;

use self::error::ApiError;
use crate::config::ServerFlags;
use crate::http::server::Handler;
use crate::http::{Request, Response};
use crate::shard::message::ShardRequest;
use crate::shard::Shard;

/// The API of one shard's front.
pub struct Api {
    /// The shard this front runs on.
    pub shard: Rc<Shard>,
    /// Channels to every other shard.
    pub senders: Senders<ShardRequest>,
    /// Number of shards.
    pub shards: usize,
    /// Server flags.
    pub flags: Arc<ServerFlags>,
    /// Requests being handled now (graceful shutdown waits for zero).
    pub in_flight: Rc<Cell<usize>>,
}

/// Methods a route accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Methods {
    Get,
    GetPost,
    Post,
}

impl Methods {
    fn allows(self, method: &str) -> bool {
        match self {
            Methods::Get => matches!(method, "GET" | "HEAD"),
            Methods::GetPost => matches!(method, "GET" | "HEAD" | "POST"),
            Methods::Post => method == "POST",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Methods::Get => "GET",
            Methods::GetPost => "GET or POST",
            Methods::Post => "POST",
        }
    }
}

/// The route names used as the `path` label in `/metrics` (bounded: unknown paths count as "other").
fn route_of(path: &str) -> Option<(&'static str, Methods)> {
    let path = path
        .strip_prefix("/prometheus")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(path);
    let route = match path {
        "/api/v1/write" | "/api/v1/push" => ("/api/v1/write", Methods::Post),
        "/api/v1/query" => ("/api/v1/query", Methods::GetPost),
        "/api/v1/query_range" => ("/api/v1/query_range", Methods::GetPost),
        "/api/v1/series" => ("/api/v1/series", Methods::GetPost),
        "/api/v1/labels" => ("/api/v1/labels", Methods::GetPost),
        "/api/v1/status/buildinfo" => ("/api/v1/status/buildinfo", Methods::Get),
        "/health" | "/-/healthy" | "/-/ready" => ("/health", Methods::Get),
        "/metrics" => ("/metrics", Methods::Get),
        "/internal/force_flush" => ("/internal/force_flush", Methods::GetPost),
        "/internal/force_merge" => ("/internal/force_merge", Methods::GetPost),
        _ if label_values_name(path).is_some() => ("/api/v1/label/:name/values", Methods::GetPost),
        _ => return None,
    };
    Some(route)
}

/// The label name of `/api/v1/label/<name>/values`.
fn label_values_name(path: &str) -> Option<&str> {
    let path = path
        .strip_prefix("/prometheus")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(path);
    path.strip_prefix("/api/v1/label/")?
        .strip_suffix("/values")
        .filter(|n| !n.is_empty() && !n.contains('/'))
}

impl Handler for Api {
    async fn handle(&self, request: Request) -> Response {
        self.in_flight.set(self.in_flight.get() + 1);
        let (route, response) = match route_of(&request.head.path) {
            None => (
                "other",
                ApiError::not_found(format!("unknown path {}", request.head.path)).into_response(),
            ),
            Some((route, methods)) if !methods.allows(&request.head.method) => (
                route,
                ApiError::method_not_allowed(
                    &request.head.method,
                    &request.head.path,
                    methods.describe(),
                )
                .into_response(),
            ),
            Some((route, _)) => (
                route,
                self.dispatch(route, &request)
                    .await
                    .unwrap_or_else(ApiError::into_response),
            ),
        };
        self.shard
            .front_metrics
            .borrow_mut()
            .count_request(route, response.status);
        self.in_flight.set(self.in_flight.get().saturating_sub(1));
        response
    }
}

impl Api {
    async fn dispatch(&self, route: &'static str, request: &Request) -> Result<Response, ApiError> {
        match route {
            "/api/v1/write" => self.remote_write(request).await,
            "/api/v1/query" => self.query(&request.params(), true).await,
            "/api/v1/query_range" => self.query(&request.params(), false).await,
            "/api/v1/series" => self.series(&request.params()).await,
            "/api/v1/labels" => self.labels(&request.params()).await,
            "/api/v1/label/:name/values" => {
                let name = label_values_name(&request.head.path).unwrap_or_default();
                let name = crate::http::params::percent_decode(name.as_bytes());
                self.label_values(&name, &request.params()).await
            }
            "/api/v1/status/buildinfo" => Ok(status::buildinfo()),
            "/health" => Ok(Response::text(200, "OK")),
            "/metrics" => self.metrics().await,
            "/internal/force_flush" => self.force_flush().await,
            "/internal/force_merge" => self.force_merge(&request.params()).await,
            _ => Err(ApiError::not_found(format!(
                "unknown path {}",
                request.head.path
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route_of("/prometheus/api/v1/query").map(|r| r.0),
            Some("/api/v1/query")
        );
        assert_eq!(route_of("/api/v1/push").map(|r| r.0), Some("/api/v1/write"));
        assert_eq!(label_values_name("/api/v1/label/job/values"), Some("job"));
        assert_eq!(label_values_name("/api/v1/label//values"), None);
        assert!(route_of("/nope").is_none());
        assert!(route_of("/prometheusx").is_none());
    }
}
