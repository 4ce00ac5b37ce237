//! The `photo:` URI scheme that serves photo renderings by catalog id, as the HTTP
//! server's image routes do: `photo://localhost/<variant>/<id>` on Linux and macOS,
//! `http://photo.localhost/<variant>/<id>` on Windows, where the variant is `thumb`,
//! `large` or `original`. File paths never appear in these URLs, so no path encoding
//! is involved and the webview can reach no file that the service would not serve.

use tauri::http::{header, Request, Response, StatusCode};
use xunying::api::{ApiErrorBody, ApiErrorKind, ImageVariant, PhotoId};

use crate::AppState;

/// Name of the scheme, as the webview's URLs use it.
pub const SCHEME: &str = "photo";

/// Parses `/<variant>/<id>` from a request path.
pub fn parse_path(path: &str) -> Option<(ImageVariant, PhotoId)> {
    let mut parts = path.trim_start_matches('/').split('/');
    let variant = match parts.next()? {
        "thumb" => ImageVariant::Thumb,
        "large" => ImageVariant::Large,
        "original" => ImageVariant::Original,
        _ => return None,
    };
    let id = parts.next()?.parse::<PhotoId>().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some((variant, id))
}

/// Builds the response to one request of the scheme: the image, or an error status
/// with the bilingual error message as text.
pub fn respond(state: &AppState, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let path = request.uri().path();
    let Some((variant, id)) = parse_path(path) else {
        let message = format!(
            "Invalid photo URL path `{path}`: expected /thumb/<id>, /large/<id> or /original/<id>.\n\
             照片地址路径 `{path}` 无效：应为 /thumb/<id>、/large/<id> 或 /original/<id>。"
        );
        return text_response(StatusCode::BAD_REQUEST, message);
    };

    let image = state.service().and_then(|service| service.image(id, variant).map_err(|error| error.body()));
    match image {
        Ok(image) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, image.content_type)
            // A photo's file can change under the same id, so the webview revalidates.
            .header(header::CACHE_CONTROL, "no-cache")
            .body(image.bytes)
            .unwrap_or_else(|error| text_response(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())),
        Err(error) => {
            tracing::debug!(id, path, message = %error.message, "photo request failed");
            text_response(status_for(&error), error.message)
        }
    }
}

fn status_for(error: &ApiErrorBody) -> StatusCode {
    match error.kind {
        ApiErrorKind::NotFound => StatusCode::NOT_FOUND,
        ApiErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ApiErrorKind::NoModel | ApiErrorKind::Busy => StatusCode::SERVICE_UNAVAILABLE,
        ApiErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn text_response(status: StatusCode, message: String) -> Response<Vec<u8>> {
    let mut response = Response::new(message.into_bytes());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use xunying::library::LibraryOptions;

    fn get(state: &AppState, uri: &str) -> Response<Vec<u8>> {
        let request = Request::builder().uri(uri).body(Vec::new()).unwrap();
        respond(state, &request)
    }

    #[test]
    fn parse_path_accepts_each_variant() {
        assert_eq!(parse_path("/thumb/12"), Some((ImageVariant::Thumb, 12)));
        assert_eq!(parse_path("/large/3"), Some((ImageVariant::Large, 3)));
        assert_eq!(parse_path("/original/7"), Some((ImageVariant::Original, 7)));
    }

    #[test]
    fn parse_path_rejects_paths_and_junk() {
        for path in ["/thumb", "/thumb/", "/thumb/x", "/full/1", "/thumb/1/2", "/..%2F..%2Fetc%2Fpasswd", "/thumb/%2e%2e"] {
            assert_eq!(parse_path(path), None, "{path}");
        }
    }

    #[test]
    fn unknown_photo_is_not_found() {
        let data_dir = tempfile::tempdir().unwrap();
        let state = AppState::open(LibraryOptions::new(data_dir.path()));

        let response = get(&state, "photo://localhost/thumb/999");

        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(String::from_utf8_lossy(response.body()).contains("找不到照片 999"));
    }

    #[test]
    fn bad_path_is_bad_request() {
        let data_dir = tempfile::tempdir().unwrap();
        let state = AppState::open(LibraryOptions::new(data_dir.path()));

        let response = get(&state, "photo://localhost/etc/passwd");

        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn failed_startup_returns_its_error() {
        let state = AppState::failed(ApiErrorBody { kind: ApiErrorKind::Internal, message: "catalog damaged".into() });

        let response = get(&state, "photo://localhost/thumb/1");

        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.body().as_slice(), b"catalog damaged");
    }
}
