//! The app's shared state: the library service opened from the environment, its
//! background indexer and the progress forwarder. A service that fails to open does not
//! stop the window from showing: every command then returns the error, so the UI can
//! show it.

use std::sync::Arc;

use xunying::api::{ApiErrorBody, ApiErrorKind, BackgroundHandle, Service};
use xunying::config;
use xunying::library::LibraryOptions;

use crate::progress::ProgressForwarder;

/// State shared by every command and the image protocol. Cloning is cheap.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    service: Result<Service, ApiErrorBody>,
    progress: ProgressForwarder,
    // Dropping the handle stops the background indexer, so it lives as long as the app.
    _background: Option<BackgroundHandle>,
}

impl AppState {
    /// Opens the library in the data directory that `XUNYING_DATA_DIR` or the platform
    /// default names, with the model bundle of `XUNYING_MODEL` or the active one.
    pub fn open_from_environment() -> AppState {
        match options_from_environment() {
            Ok(options) => AppState::open(options),
            Err(error) => AppState::failed(error),
        }
    }

    /// Opens the library service with `options` and starts indexing in the background.
    pub fn open(options: LibraryOptions) -> AppState {
        let data_dir = options.data_dir.clone();
        match Service::open(options) {
            Ok(service) => {
                tracing::info!(data_dir = %data_dir.display(), "library opened");
                let background = service.start_background();
                let progress = ProgressForwarder::start(&service);
                let inner = Inner { service: Ok(service), progress, _background: Some(background) };
                AppState { inner: Arc::new(inner) }
            }
            Err(error) => {
                tracing::error!(data_dir = %data_dir.display(), %error, "failed to open the library");
                AppState::failed(error.body())
            }
        }
    }

    /// Creates a state whose every call returns `error`.
    pub fn failed(error: ApiErrorBody) -> AppState {
        let inner = Inner { service: Err(error), progress: ProgressForwarder::idle(), _background: None };
        AppState { inner: Arc::new(inner) }
    }

    /// Returns the library service, or the error that kept it from opening.
    pub fn service(&self) -> Result<&Service, ApiErrorBody> {
        self.inner.service.as_ref().map_err(Clone::clone)
    }

    /// Returns the forwarder that sends progress updates to the webviews.
    pub fn progress(&self) -> &ProgressForwarder {
        &self.inner.progress
    }
}

fn options_from_environment() -> Result<LibraryOptions, ApiErrorBody> {
    let data_dir = config::data_dir(None).ok_or_else(|| ApiErrorBody {
        kind: ApiErrorKind::Internal,
        message: format!(
            "No data directory: this system has no home folder. Set {} and restart.\n\
             没有数据目录：系统没有主文件夹。请设置 {} 后重新启动。",
            config::DATA_DIR_ENV,
            config::DATA_DIR_ENV
        ),
    })?;
    let mut options = LibraryOptions::new(&data_dir);
    options.model_dir = config::model_dir(None, Some(&data_dir));
    Ok(options)
}
