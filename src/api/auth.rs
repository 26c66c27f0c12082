//! Optional HTTP auth (`--http.auth.*`) on every endpoint but `/health`, and `--admin-auth-key`
//! on admin endpoints (passed as `authKey=`, as VictoriaMetrics takes it).

use super::error::ApiError;
use super::routes::Route;
use crate::config::ServerFlags;
use crate::http::request::RequestHead;
use crate::http::Params;

/// Whether the request may use `route`.
pub fn check(flags: &ServerFlags, head: &RequestHead, route: Route) -> Result<(), ApiError> {
    if route.name == "/health" {
        return Ok(());
    }
    let unauthorized = |message: &str| ApiError {
        status: 401,
        error_type: "unauthorized",
        retry_after_secs: None,
        message: message.to_string(),
    };
    if let (Some(user), Some(password)) = (&flags.http_auth_username, &flags.http_auth_password) {
        let want = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
        if !constant_time_eq(head.authorization.as_bytes(), want.as_bytes()) {
            return Err(unauthorized("missing or wrong basic auth credentials (--http.auth.username/--http.auth.password)"));
        }
    }
    if let Some(token) = &flags.http_auth_bearer_token {
        let want = format!("Bearer {token}");
        if !constant_time_eq(head.authorization.as_bytes(), want.as_bytes()) {
            return Err(unauthorized(
                "missing or wrong bearer token (--http.auth.bearer-token)",
            ));
        }
    }
    if route.admin {
        if let Some(key) = &flags.admin_auth_key {
            let mut params = Params::default();
            params.parse_into(head.query.as_bytes());
            let given = params.get("authKey").unwrap_or_default();
            if !constant_time_eq(given.as_bytes(), key.as_bytes()) {
                return Err(unauthorized(
                    "this admin endpoint needs authKey=<--admin-auth-key>",
                ));
            }
        }
    }
    Ok(())
}

/// Compares without an early exit, so the time taken does not reveal the matching prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Standard base64 with padding.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(
                    ALPHABET
                        .get(((n >> (18 - 6 * i)) & 63) as usize)
                        .copied()
                        .unwrap_or(b'='),
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("user:pass", "dXNlcjpwYXNz"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }
}
