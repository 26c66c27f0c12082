//! The route table: path → route name (the bounded `path` label in `/metrics`), methods, admin.

/// Methods a route accepts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Methods {
    /// GET (and HEAD).
    Get,
    /// GET, HEAD or POST (form bodies).
    GetPost,
    /// POST only.
    Post,
}

impl Methods {
    /// Whether `method` is accepted.
    pub fn allows(self, method: &str) -> bool {
        match self {
            Methods::Get => matches!(method, "GET" | "HEAD"),
            Methods::GetPost => matches!(method, "GET" | "HEAD" | "POST"),
            Methods::Post => method == "POST",
        }
    }

    /// For error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Methods::Get => "GET",
            Methods::GetPost => "GET or POST",
            Methods::Post => "POST",
        }
    }
}

/// A known route.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Route {
    /// Its name.
    pub name: &'static str,
    /// Accepted methods.
    pub methods: Methods,
    /// Admin routes also need `--admin-auth-key`.
    pub admin: bool,
}

/// Removes the `/prometheus` prefix VictoriaMetrics also serves every path under.
pub fn strip_prefix(path: &str) -> &str {
    path.strip_prefix("/prometheus")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(path)
}

/// The route of a request path.
pub fn route_of(path: &str) -> Option<Route> {
    use Methods::{Get, GetPost, Post};
    let path = strip_prefix(path);
    let (name, methods, admin) = match path {
        "/api/v1/write" | "/api/v1/push" => ("/api/v1/write", Post, false),
        "/api/v1/query" => ("/api/v1/query", GetPost, false),
        "/api/v1/query_range" => ("/api/v1/query_range", GetPost, false),
        "/api/v1/series" => ("/api/v1/series", GetPost, false),
        "/api/v1/labels" => ("/api/v1/labels", GetPost, false),
        "/api/v1/metadata" => ("/api/v1/metadata", GetPost, false),
        "/api/v1/export" => ("/api/v1/export", GetPost, false),
        "/federate" => ("/federate", GetPost, false),
        "/api/v1/query_exemplars" => ("/api/v1/query_exemplars", GetPost, false),
        "/api/v1/rules" => ("/api/v1/rules", GetPost, false),
        "/api/v1/alerts" => ("/api/v1/alerts", GetPost, false),
        "/api/v1/format_query" => ("/api/v1/format_query", GetPost, false),
        "/api/v1/status/buildinfo" => ("/api/v1/status/buildinfo", Get, false),
        "/api/v1/status/flags" => ("/api/v1/status/flags", Get, false),
        "/api/v1/status/runtimeinfo" => ("/api/v1/status/runtimeinfo", Get, false),
        "/health" | "/-/healthy" | "/-/ready" => ("/health", Get, false),
        "/ping" | "/influx/ping" => ("/ping", GetPost, false),
        "/metrics" => ("/metrics", Get, false),
        "/internal/force_flush" => ("/internal/force_flush", GetPost, true),
        "/internal/force_merge" => ("/internal/force_merge", GetPost, true),
        "/snapshot/create" => ("/snapshot/create", GetPost, true),
        "/snapshot/list" => ("/snapshot/list", GetPost, true),
        "/snapshot/delete" => ("/snapshot/delete", GetPost, true),
        "/snapshot/delete_all" => ("/snapshot/delete_all", GetPost, true),
        _ if label_values_name(path).is_some() => ("/api/v1/label/:name/values", GetPost, false),
        _ if super::import::ImportKind::of_path(path).is_some() => ("/api/v1/import", Post, false),
        _ => return None,
    };
    Some(Route {
        name,
        methods,
        admin,
    })
}

/// The label name of `/api/v1/label/<name>/values`.
pub fn label_values_name(path: &str) -> Option<&str> {
    strip_prefix(path)
        .strip_prefix("/api/v1/label/")?
        .strip_suffix("/values")
        .filter(|n| !n.is_empty() && !n.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route_of("/prometheus/api/v1/query").map(|r| r.name),
            Some("/api/v1/query")
        );
        assert_eq!(
            route_of("/api/v1/push").map(|r| r.name),
            Some("/api/v1/write")
        );
        assert_eq!(label_values_name("/api/v1/label/job/values"), Some("job"));
        assert_eq!(label_values_name("/api/v1/label//values"), None);
        assert!(route_of("/nope").is_none());
        assert!(route_of("/prometheusx").is_none());
        assert!(route_of("/internal/force_merge").is_some_and(|r| r.admin));
    }
}
