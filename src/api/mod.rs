//! The Prometheus / VictoriaMetrics HTTP API served by every shard's front.
//!
//! A front parses the request, fans work out to the shards that own the data
//! (one message per shard), waits for their answers and writes the response.

pub mod auth;
pub mod error;
pub mod export;
pub mod fanout;
pub mod import;
pub mod json;
pub mod metadata;
pub mod metric_metadata;
pub mod misc;
pub mod params;
pub mod query;
pub mod routes;
pub mod snapshots;
pub mod status;
pub mod write;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use self::error::ApiError;
use self::import::ImportKind;
use self::routes::{route_of, strip_prefix, Route};
use crate::config::ServerFlags;
use crate::http::body_stream::BodyStream;
use crate::http::request::RequestHead;
use crate::http::server::Handler;
use crate::http::{Request, Response};
use crate::runtime::mesh::MeshSenders;
use crate::shard::Shard;

/// The API of one shard's front.
pub struct Api {
    /// The shard this front runs on.
    pub shard: Rc<Shard>,
    /// Channels to every other shard.
    pub senders: MeshSenders,
    /// Number of shards.
    pub shards: usize,
    /// Server flags.
    pub flags: Arc<ServerFlags>,
    /// Requests being handled now (graceful shutdown waits for zero).
    pub in_flight: Rc<Cell<usize>>,
    /// When the server started (ms), for `status/runtimeinfo`.
    pub started_ms: i64,
}

impl Handler for Api {
    async fn handle(&self, request: Request) -> Response {
        let route = route_of(&request.head.path);
        self.answer(route, &request.head, || async {
            let Some(route) = route else {
                return Err(ApiError::not_found(format!(
                    "unknown path {}",
                    request.head.path
                )));
            };
            self.dispatch(route, &request).await
        })
        .await
    }

    fn wants_stream(&self, head: &RequestHead) -> bool {
        head.method == "POST" && ImportKind::of_path(strip_prefix(&head.path)).is_some()
    }

    async fn handle_stream(&self, head: RequestHead, body: &mut BodyStream<'_>) -> Response {
        let kind = ImportKind::of_path(strip_prefix(&head.path));
        let route = kind.as_ref().map(|k| Route {
            name: k.route(),
            methods: routes::Methods::Post,
            admin: false,
        });
        self.answer(route, &head, || async {
            let Some(kind) = kind.as_ref() else {
                return Err(ApiError::not_found(format!("unknown path {}", head.path)));
            };
            self.import(kind, &head, body).await
        })
        .await
    }
}

impl Api {
    /// Checks method and auth, runs `work`, counts the answer.
    async fn answer<F, Fut>(&self, route: Option<Route>, head: &RequestHead, work: F) -> Response
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Response, ApiError>>,
    {
        self.in_flight.set(self.in_flight.get() + 1);
        let checked = match route {
            Some(route) if !route.methods.allows(&head.method) => Err(
                ApiError::method_not_allowed(&head.method, &head.path, route.methods.describe()),
            ),
            Some(route) => auth::check(&self.flags, head, route),
            None => Ok(()),
        };
        let response = match checked {
            Ok(()) => work().await.unwrap_or_else(ApiError::into_response),
            Err(error) => error.into_response(),
        };
        self.shard
            .front_metrics
            .borrow_mut()
            .count_request(route.map_or("other", |r| r.name), response.status);
        self.in_flight.set(self.in_flight.get().saturating_sub(1));
        response
    }

    async fn dispatch(&self, route: Route, request: &Request) -> Result<Response, ApiError> {
        let params = request.params();
        match route.name {
            "/api/v1/write" => self.remote_write(request).await,
            "/api/v1/query" => self.query(&params, true).await,
            "/api/v1/query_range" => self.query(&params, false).await,
            "/api/v1/series" => self.series(&params).await,
            "/api/v1/labels" => self.labels(&params).await,
            "/api/v1/label/:name/values" => {
                let name = routes::label_values_name(&request.head.path).unwrap_or_default();
                let name = crate::http::params::percent_decode(name.as_bytes());
                self.label_values(&name, &params).await
            }
            "/api/v1/metadata" => self.metric_metadata(&params).await,
            "/api/v1/export" => self.export(&params).await,
            "/federate" => self.federate(&params).await,
            "/api/v1/query_exemplars" => Ok(misc::query_exemplars()),
            "/api/v1/rules" => Ok(misc::rules()),
            "/api/v1/alerts" => Ok(misc::alerts()),
            "/api/v1/format_query" => misc::format_query(&params),
            "/api/v1/status/buildinfo" => Ok(status::buildinfo()),
            "/api/v1/status/flags" => Ok(status::flags(&self.flags)),
            "/api/v1/status/runtimeinfo" => Ok(status::runtimeinfo(&self.flags, self.started_ms)),
            "/health" => Ok(Response::text(200, "OK")),
            "/ping" => Ok(Response::empty(204)),
            "/metrics" => self.metrics().await,
            "/internal/force_flush" => self.force_flush().await,
            "/internal/force_merge" => self.force_merge(&params).await,
            "/snapshot/create" => self.snapshot_create().await,
            "/snapshot/list" => self.snapshot_list(),
            "/snapshot/delete" => self.snapshot_delete(params.get("snapshot").unwrap_or_default()),
            "/snapshot/delete_all" => self.snapshot_delete_all(),
            _ => Err(ApiError::not_found(format!(
                "unknown path {}",
                request.head.path
            ))),
        }
    }
}
