//! The IPC commands the UI's Tauri transport invokes. Each one runs the matching
//! `xunying::api::Service` call on a blocking thread and returns its response, or the
//! error as `ApiErrorBody`, the same JSON the HTTP server sends. Commands hold no logic
//! beyond that, except the two that only a desktop has: the native folder picker and
//! "show in folder".

// The closures passed to `call` return the library's `ApiError` (at least 128 bytes)
// once per command, so boxing it would cost an allocation and save nothing.
#![allow(clippy::result_large_err)]

use std::path::PathBuf;

use tauri::ipc::{Channel, InvokeBody, Request};
use tauri::{AppHandle, State, Webview};
use tauri_plugin_dialog::DialogExt;
use xunying::api::{
    ApiError, ApiErrorBody, ApiErrorKind, LibraryStatus, ModelInstallRequest, ModelStatus, ModelVerifyReport,
    ModelBundleInfo, PathSuggestions, PhotoDetail, PhotoId, ProgressUpdate, SearchQuery, SearchResults, Service,
    Settings, SettingsView,
};

use crate::AppState;

/// Header of `search_by_image` that carries the `SearchQuery` as percent-encoded JSON,
/// because the body is the image itself.
pub const QUERY_HEADER: &str = "x-xunying-query";

/// The invoke handler with every command of the app.
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        search,
        search_by_image,
        photo,
        status,
        add_folder,
        remove_folder,
        suggest_folders,
        pick_folder,
        reveal_photo,
        pause_indexing,
        resume_indexing,
        settings,
        update_settings,
        models,
        install_model,
        verify_model,
        subscribe,
    ]
}

include!("command_names.rs");

/// Runs `work` with the service on a blocking thread, so the window stays responsive
/// while a search or an install runs.
async fn call<T, F>(state: &AppState, work: F) -> Result<T, ApiErrorBody>
where
    T: Send + 'static,
    F: FnOnce(&Service) -> Result<T, ApiError> + Send + 'static,
{
    let service = state.service()?.clone();
    tauri::async_runtime::spawn_blocking(move || work(&service).map_err(|error| error.body()))
        .await
        .map_err(|error| internal(format!("The request stopped unexpectedly: {error}\n请求意外中止：{error}")))?
}

fn internal(message: String) -> ApiErrorBody {
    ApiErrorBody { kind: ApiErrorKind::Internal, message }
}

fn invalid_input(message: String) -> ApiErrorBody {
    ApiErrorBody { kind: ApiErrorKind::InvalidInput, message }
}

#[tauri::command]
async fn search(state: State<'_, AppState>, query: SearchQuery) -> Result<SearchResults, ApiErrorBody> {
    call(&state, move |service| service.search(&query)).await
}

/// Searches by an example photo sent as the raw request body, with the rest of the
/// query in [`QUERY_HEADER`].
#[tauri::command]
async fn search_by_image(state: State<'_, AppState>, request: Request<'_>) -> Result<SearchResults, ApiErrorBody> {
    let InvokeBody::Raw(image) = request.body() else {
        return Err(invalid_input(
            "Send the example photo as the raw request body.\n请将示例照片作为原始请求体发送。".to_string(),
        ));
    };
    let image = image.clone();
    let query = match request.headers().get(QUERY_HEADER) {
        Some(value) => parse_query_header(value.as_bytes())?,
        None => SearchQuery::default(),
    };
    call(&state, move |service| service.search_by_image(&image, &query)).await
}

/// Decodes the percent-encoded JSON of [`QUERY_HEADER`].
pub fn parse_query_header(value: &[u8]) -> Result<SearchQuery, ApiErrorBody> {
    let json = percent_encoding::percent_decode(value).decode_utf8().map_err(|error| {
        invalid_input(format!("The query header is not UTF-8: {error}\n查询请求头不是 UTF-8：{error}"))
    })?;
    serde_json::from_str(&json)
        .map_err(|error| invalid_input(format!("The query header is invalid: {error}\n查询请求头无效：{error}")))
}

#[tauri::command]
async fn photo(state: State<'_, AppState>, id: PhotoId) -> Result<PhotoDetail, ApiErrorBody> {
    call(&state, move |service| service.photo(id)).await
}

#[tauri::command]
async fn status(state: State<'_, AppState>) -> Result<LibraryStatus, ApiErrorBody> {
    call(&state, |service| service.status()).await
}

#[tauri::command]
async fn add_folder(state: State<'_, AppState>, path: String) -> Result<LibraryStatus, ApiErrorBody> {
    call(&state, move |service| service.add_folder(&path)).await
}

#[tauri::command]
async fn remove_folder(state: State<'_, AppState>, path: String) -> Result<LibraryStatus, ApiErrorBody> {
    call(&state, move |service| service.remove_folder(&path)).await
}

#[tauri::command]
async fn suggest_folders(state: State<'_, AppState>, prefix: String) -> Result<PathSuggestions, ApiErrorBody> {
    call(&state, move |service| Ok(service.suggest_folders(&prefix))).await
}

/// Opens the native folder picker and returns the chosen folder, or `None` when the
/// user cancels. Adding it to the library is a separate `add_folder` call.
#[tauri::command]
async fn pick_folder(app: AppHandle) -> Result<Option<String>, ApiErrorBody> {
    let picked = tauri::async_runtime::spawn_blocking(move || {
        app.dialog().file().set_title("Choose a photo folder / 选择照片文件夹").blocking_pick_folder()
    })
    .await
    .map_err(|error| internal(format!("The folder picker failed: {error}\n文件夹选择器出错：{error}")))?;

    let Some(picked) = picked else {
        return Ok(None);
    };
    let path = picked.into_path().map_err(|error| {
        internal(format!("The picked folder is not a local path: {error}\n所选文件夹不是本地路径：{error}"))
    })?;
    Ok(Some(path.to_string_lossy().into_owned()))
}

/// Shows the photo's file selected in the system file manager.
#[tauri::command]
async fn reveal_photo(state: State<'_, AppState>, id: PhotoId) -> Result<(), ApiErrorBody> {
    let detail = call(&state, move |service| service.photo(id)).await?;
    let path = PathBuf::from(&detail.path);
    if !path.is_file() {
        return Err(ApiErrorBody {
            kind: ApiErrorKind::NotFound,
            message: format!("File not found: {}\n找不到文件：{}", detail.path, detail.path),
        });
    }
    tauri_plugin_opener::reveal_item_in_dir(&path).map_err(|error| {
        internal(format!(
            "Failed to show {} in the file manager: {error}\n无法在文件管理器中显示 {}：{error}",
            detail.path, detail.path
        ))
    })
}

#[tauri::command]
async fn pause_indexing(state: State<'_, AppState>) -> Result<LibraryStatus, ApiErrorBody> {
    call(&state, |service| {
        service.pause_indexing();
        service.status()
    })
    .await
}

#[tauri::command]
async fn resume_indexing(state: State<'_, AppState>) -> Result<LibraryStatus, ApiErrorBody> {
    call(&state, |service| {
        service.resume_indexing();
        service.status()
    })
    .await
}

#[tauri::command]
async fn settings(state: State<'_, AppState>) -> Result<SettingsView, ApiErrorBody> {
    call(&state, |service| Ok(service.settings())).await
}

#[tauri::command]
async fn update_settings(state: State<'_, AppState>, settings: Settings) -> Result<SettingsView, ApiErrorBody> {
    call(&state, move |service| service.update_settings(settings)).await
}

#[tauri::command]
async fn models(state: State<'_, AppState>) -> Result<ModelStatus, ApiErrorBody> {
    call(&state, |service| service.model_status()).await
}

#[tauri::command]
async fn install_model(state: State<'_, AppState>, request: ModelInstallRequest) -> Result<ModelBundleInfo, ApiErrorBody> {
    call(&state, move |service| service.install_model(&request)).await
}

#[tauri::command]
async fn verify_model(state: State<'_, AppState>, name: Option<String>) -> Result<ModelVerifyReport, ApiErrorBody> {
    call(&state, move |service| service.verify_model(name.as_deref())).await
}

/// Sends every progress update to `channel` until the page subscribes again.
#[tauri::command]
fn subscribe(state: State<'_, AppState>, webview: Webview, channel: Channel<ProgressUpdate>) {
    state.progress().subscribe(webview.label(), channel);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_header_decodes_chinese_text() {
        let encoded = "%7B%22text%22%3A%22%E7%BA%A2%E8%89%B2%E7%9A%84%E5%9C%86%22%2C%22limit%22%3A5%7D";

        let query = parse_query_header(encoded.as_bytes()).unwrap();

        assert_eq!(query.text.as_deref(), Some("红色的圆"));
        assert_eq!(query.limit, 5);
    }

    #[test]
    fn query_header_rejects_bad_json() {
        let error = parse_query_header(b"%7Bnot-json").unwrap_err();

        assert_eq!(error.kind, ApiErrorKind::InvalidInput);
        assert!(error.message.contains("查询请求头无效"), "{}", error.message);
    }

    #[test]
    fn query_header_rejects_bad_utf8() {
        let error = parse_query_header(b"%FF%FE").unwrap_err();

        assert_eq!(error.kind, ApiErrorKind::InvalidInput);
    }
}
