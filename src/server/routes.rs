//! The JSON API routes. Each handler runs its service call on the blocking pool and
//! maps [`ApiError`] kinds to HTTP statuses.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use crate::api::{
    ApiError, ApiErrorKind, FolderRequest, ImageVariant, ModelInstallRequest, SearchQuery, Service, Settings,
};

/// An API error as an HTTP response with its JSON body.
pub struct HttpError(ApiError);

impl From<ApiError> for HttpError {
    fn from(error: ApiError) -> Self {
        HttpError(error)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = self.0.body();
        let status = match body.kind {
            ApiErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
            ApiErrorKind::NotFound => StatusCode::NOT_FOUND,
            ApiErrorKind::NoModel | ApiErrorKind::Busy => StatusCode::CONFLICT,
            ApiErrorKind::Internal => {
                tracing::error!(error = %self.0, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (status, Json(body)).into_response()
    }
}

type ApiResult<T> = Result<T, HttpError>;

/// A JSON request body. A body that is not JSON, or not of the expected shape, is
/// rejected like any other invalid input: status 400 with a JSON error in both
/// languages, instead of axum's plain-text rejection.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(HttpError(ApiError::InvalidBody(rejection.body_text()))),
        }
    }
}

/// A path parameter. One that does not parse (a photo id that is not a number) is
/// rejected with a JSON error in both languages, instead of axum's plain text.
pub struct PathParam<T>(pub T);

impl<S, T> FromRequestParts<S> for PathParam<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParam(value)),
            Err(rejection) => Err(HttpError(ApiError::InvalidInput(format!(
                "This address is not valid: {0}\n地址无效：{0}",
                rejection.body_text()
            )))),
        }
    }
}

/// An uploaded file. A body over the upload limit is rejected with a JSON error in both
/// languages that names the limit, instead of axum's plain text.
pub struct Upload(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(Upload(bytes)),
            Err(rejection) => {
                tracing::info!(error = %rejection.body_text(), "rejected an upload");
                let limit_mib = super::MAX_UPLOAD_BYTES >> 20;
                Err(HttpError(ApiError::InvalidInput(format!(
                    "The upload could not be read; uploads may be at most {limit_mib} MiB.\n无法读取上传的文件；上传文件最大为 {limit_mib} MiB。"
                ))))
            }
        }
    }
}

/// Runs a blocking service call off the async workers.
async fn blocking<T: Send + 'static>(service: Service, call: impl FnOnce(&Service) -> Result<T, ApiError> + Send + 'static) -> ApiResult<T> {
    match tokio::task::spawn_blocking(move || call(&service)).await {
        Ok(result) => result.map_err(HttpError),
        Err(error) => Err(HttpError(ApiError::InvalidInput(format!("The request was cancelled: {error}\n请求已取消：{error}")))),
    }
}

pub async fn status(State(service): State<Service>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, |s| s.status()).await?))
}

pub async fn search(State(service): State<Service>, JsonBody(query): JsonBody<SearchQuery>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, move |s| s.search(&query)).await?))
}

#[derive(Deserialize)]
pub struct ImageSearchParams {
    /// The rest of the query (text, filters, limit) as JSON.
    query: Option<String>,
}

pub async fn search_by_image(
    State(service): State<Service>,
    Query(params): Query<ImageSearchParams>,
    Upload(body): Upload,
) -> ApiResult<impl IntoResponse> {
    let query: SearchQuery = match params.query.as_deref() {
        Some(text) => serde_json::from_str(text).map_err(|e| {
            HttpError(ApiError::InvalidInput(format!("The `query` parameter is not valid search JSON: {e}\n`query` 参数不是有效的搜索 JSON：{e}")))
        })?,
        None => SearchQuery::default(),
    };
    if body.is_empty() {
        return Err(HttpError(ApiError::InvalidInput("The uploaded photo is empty.\n上传的照片是空的。".into())));
    }
    Ok(Json(blocking(service, move |s| s.search_by_image(&body, &query)).await?))
}

pub async fn photo(State(service): State<Service>, PathParam(id): PathParam<i64>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, move |s| s.photo(id)).await?))
}

pub async fn image(State(service): State<Service>, PathParam((id, variant)): PathParam<(i64, String)>) -> ApiResult<Response> {
    let variant = match variant.as_str() {
        "thumb" => ImageVariant::Thumb,
        "large" => ImageVariant::Large,
        "original" => ImageVariant::Original,
        other => return Err(HttpError(ApiError::InvalidInput(format!("unknown image variant `{other}` / 未知的图像类型 `{other}`")))),
    };
    let image = blocking(service, move |s| s.image(id, variant)).await?;
    let headers = [(header::CONTENT_TYPE, image.content_type), (header::CACHE_CONTROL, "private, max-age=3600")];
    Ok((headers, image.bytes).into_response())
}

pub async fn add_folder(State(service): State<Service>, JsonBody(request): JsonBody<FolderRequest>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, move |s| s.add_folder(&request.path)).await?))
}

pub async fn remove_folder(State(service): State<Service>, JsonBody(request): JsonBody<FolderRequest>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, move |s| s.remove_folder(&request.path)).await?))
}

#[derive(Deserialize)]
pub struct SuggestParams {
    prefix: String,
}

pub async fn suggest_folders(State(service): State<Service>, Query(params): Query<SuggestParams>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, move |s| Ok(s.suggest_folders(&params.prefix))).await?))
}

pub async fn pause(State(service): State<Service>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, |s| {
        s.pause_indexing();
        s.status()
    })
    .await?))
}

pub async fn resume(State(service): State<Service>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, |s| {
        s.resume_indexing();
        s.status()
    })
    .await?))
}

pub async fn settings(State(service): State<Service>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, |s| Ok(s.settings())).await?))
}

pub async fn update_settings(State(service): State<Service>, JsonBody(settings): JsonBody<Settings>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, move |s| s.update_settings(settings)).await?))
}

pub async fn models(State(service): State<Service>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, |s| s.model_status()).await?))
}

pub async fn install_model(State(service): State<Service>, JsonBody(request): JsonBody<ModelInstallRequest>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, move |s| s.install_model(&request)).await?))
}

#[derive(Deserialize, Default)]
pub struct VerifyRequest {
    name: Option<String>,
}

pub async fn verify_model(State(service): State<Service>, JsonBody(request): JsonBody<VerifyRequest>) -> ApiResult<impl IntoResponse> {
    Ok(Json(blocking(service, move |s| s.verify_model(request.name.as_deref())).await?))
}

/// Server-sent events: one `progress` event per [`crate::api::ProgressUpdate`].
/// Updates a slow client missed are skipped, not queued.
pub async fn events(State(service): State<Service>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(service.subscribe()).filter_map(|update| {
        let update = update.ok()?;
        Event::default().event("progress").json_data(&update).ok().map(Ok)
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
