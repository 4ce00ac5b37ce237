//! `xunying serve`: the JSON API, server-sent progress events and the built web UI over
//! HTTP, for people who open Xunying in a browser. It binds loopback by default, and
//! every request needs the random access token and an expected `Host` header. Photos
//! are served only by catalog id. All behaviour lives in [`crate::api::Service`]; this
//! module only routes, guards and encodes.

mod guard;
mod routes;
mod static_files;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use rand::RngCore;

use crate::api::Service;
pub use guard::Guard;
pub use static_files::resolve as resolve_static_file;

/// The largest example photo a query by image may upload, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;
/// Content Security Policy of every response: only this origin's scripts, styles,
/// images and connections.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Errors of the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address cannot be bound.
    #[error("Failed to listen on {address}: {source}\n无法监听 {address}：{source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The server stopped with an error.
    #[error("The server failed: {0}\n服务器出错：{0}")]
    Serve(std::io::Error),
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Address to bind; loopback unless the user asks otherwise.
    pub bind: IpAddr,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// The built UI (`ui/dist`); `None` serves a page with build instructions.
    pub ui_dir: Option<PathBuf>,
    /// The access token; `None` draws a random one.
    pub token: Option<String>,
}

/// The address and token of a running server.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// The bound address.
    pub address: SocketAddr,
    /// The access token.
    pub token: String,
    /// The URL to open, with the token.
    pub url: String,
}

/// Draws a 256-bit token as 64 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds the router for a server listening on `address`.
pub fn router(service: Service, guard: Guard, ui_dir: Option<PathBuf>) -> Router {
    let api = Router::new()
        .route("/status", get(routes::status))
        .route("/search", post(routes::search))
        .route("/search/image", post(routes::search_by_image).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)))
        .route("/photos/{id}", get(routes::photo))
        .route("/photos/{id}/{variant}", get(routes::image))
        .route("/folders", post(routes::add_folder).delete(routes::remove_folder))
        .route("/folders/suggest", get(routes::suggest_folders))
        .route("/indexing/pause", post(routes::pause))
        .route("/indexing/resume", post(routes::resume))
        .route("/settings", get(routes::settings).put(routes::update_settings))
        .route("/models", get(routes::models))
        .route("/models/install", post(routes::install_model))
        .route("/models/verify", post(routes::verify_model))
        .route("/events", get(routes::events))
        .with_state(service);
    Router::new()
        .nest("/api", api)
        .fallback(move |uri| static_files::serve(ui_dir.clone(), uri))
        .layer(axum::middleware::from_fn_with_state(Arc::new(guard), guard::check))
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Binds, calls `ready` with the address and token, runs the background indexer and
/// serves until `shutdown` completes.
pub async fn serve(
    service: Service,
    options: ServerOptions,
    ready: impl FnOnce(&ServerInfo),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let requested = SocketAddr::new(options.bind, options.port);
    let listener = tokio::net::TcpListener::bind(requested).await.map_err(|source| ServerError::Bind { address: requested, source })?;
    let address = listener.local_addr().map_err(|source| ServerError::Bind { address: requested, source })?;
    let token = options.token.clone().unwrap_or_else(random_token);
    let host = if address.ip().is_unspecified() || address.ip().is_loopback() { format!("127.0.0.1:{}", address.port()) } else { address.to_string() };
    let info = ServerInfo { address, token: token.clone(), url: format!("http://{host}/?token={token}") };
    if !address.ip().is_loopback() {
        tracing::warn!(%address, "serving beyond this machine; anyone who has the token can read the library");
    }

    let background = service.start_background();
    let app = router(service, Guard::new(address, token), options.ui_dir.clone());
    ready(&info);
    tracing::info!(%address, "serving");
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await.map_err(ServerError::Serve);
    drop(background);
    tracing::info!("server stopped");
    result
}
