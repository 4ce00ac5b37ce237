//! The request guard: every request must name an expected `Host` and carry the access
//! token, as the `token` query parameter, the session cookie, an
//! `Authorization: Bearer` header or an `X-Xunying-Token` header. A page load that
//! carries a valid token in the query gets the cookie and is redirected to the same
//! path without the token, so the token does not stay in the address bar.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The values requests are checked against.
pub struct Guard {
    /// The access token.
    pub token: String,
    /// `Host` header values accepted, such as `127.0.0.1:7840` and `localhost:7840`.
    pub allowed_hosts: Vec<String>,
    /// Name of the session cookie; it carries the port, because browsers share cookies
    /// between ports of one host.
    pub cookie_name: String,
}

impl Guard {
    /// Creates a guard for a server listening on `address`.
    pub fn new(address: SocketAddr, token: String) -> Self {
        let port = address.port();
        let mut allowed_hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")];
        let own = match address {
            SocketAddr::V4(v4) => format!("{}:{port}", v4.ip()),
            SocketAddr::V6(v6) => format!("[{}]:{port}", v6.ip()),
        };
        if !allowed_hosts.contains(&own) && !address.ip().is_unspecified() {
            allowed_hosts.push(own);
        }
        Guard { token, allowed_hosts, cookie_name: format!("xunying_token_{port}") }
    }

    fn host_allowed(&self, request: &Request) -> bool {
        let Some(host) = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
        self.allowed_hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host.trim()))
    }

    fn token_matches(&self, candidate: &str) -> bool {
        constant_time_eq(candidate.as_bytes(), self.token.as_bytes())
    }

    fn query_token<'a>(&self, request: &'a Request) -> Option<std::borrow::Cow<'a, str>> {
        let query = request.uri().query()?;
        query.split('&').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name == "token").then(|| percent_encoding::percent_decode_str(value).decode_utf8_lossy())
        })
    }

    fn header_token(&self, request: &Request) -> bool {
        let headers = request.headers();
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| self.token_matches(t.trim()));
        let custom = headers.get("x-xunying-token").and_then(|v| v.to_str().ok()).is_some_and(|t| self.token_matches(t.trim()));
        let cookie = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).any(|cookies| {
            cookies.split(';').filter_map(|c| c.trim().split_once('=')).any(|(name, value)| name == self.cookie_name && self.token_matches(value))
        });
        bearer || custom || cookie
    }

    fn session_cookie(&self) -> String {
        format!("{}={}; Path=/; HttpOnly; SameSite=Strict", self.cookie_name, self.token)
    }
}

/// Compares without stopping at the first difference, so response time reveals nothing
/// about how much of a guessed token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Checks the Host header and the token, then passes the request on.
pub async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    if !guard.host_allowed(&request) {
        tracing::debug!(host = ?request.headers().get(header::HOST), "rejected a request for an unexpected host");
        return plain(StatusCode::FORBIDDEN, "Unexpected Host header.\nHost 请求头不符。");
    }
    if let Some(token) = guard.query_token(&request) {
        if !guard.token_matches(&token) {
            return plain(StatusCode::UNAUTHORIZED, "Invalid access token. Open the URL that `xunying serve` printed.\n访问令牌无效。请打开 `xunying serve` 输出的网址。");
        }
        let cookie = HeaderValue::from_str(&guard.session_cookie()).ok();
        if request.method() == Method::GET && !request.uri().path().starts_with("/api/") {
            let location = request.uri().path().to_string();
            let mut response = Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, location)
                .body(Body::empty())
                .unwrap_or_default();
            if let Some(cookie) = cookie {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            return response;
        }
        let mut response = next.run(request).await;
        if let Some(cookie) = cookie {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
        return response;
    }
    if !guard.header_token(&request) {
        return plain(StatusCode::UNAUTHORIZED, "Missing or invalid access token. Open the URL that `xunying serve` printed.\n缺少访问令牌或令牌无效。请打开 `xunying serve` 输出的网址。");
    }
    next.run(request).await
}

fn plain(status: StatusCode, message: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_for_loopback_address() {
        let guard = Guard::new("127.0.0.1:4000".parse().unwrap(), "t".into());
        assert!(guard.allowed_hosts.contains(&"localhost:4000".to_string()));
        assert!(guard.allowed_hosts.contains(&"127.0.0.1:4000".to_string()));
        assert!(!guard.allowed_hosts.iter().any(|h| h.ends_with(":80")));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
