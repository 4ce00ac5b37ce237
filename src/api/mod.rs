//! The typed boundary between the user interface and the library. It owns the request,
//! response, progress and error types (exported to TypeScript under `ui/src/bindings/`)
//! and [`Service`], which owns an opened library and runs indexing in the background.
//! The HTTP server and the desktop shell both call it, and neither contains logic of its
//! own. This module contains none that belongs in `library`, `search` or `models`.

mod convert;
mod error;
mod service;
mod types;
mod worker;

pub use error::ApiError;
pub use service::{Service, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, SETTINGS_FILE};
pub use types::*;
pub use worker::BackgroundHandle;

/// Path of the generated TypeScript bindings, relative to the repository root.
pub const BINDINGS_PATH: &str = "ui/src/bindings/api.ts";

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails when the committed bindings differ from the Rust types. Run with
    /// `XUNYING_UPDATE_BINDINGS=1` to rewrite them.
    #[test]
    fn typescript_bindings_are_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(BINDINGS_PATH);
        let generated = typescript_bindings();
        if std::env::var_os("XUNYING_UPDATE_BINDINGS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale; run `XUNYING_UPDATE_BINDINGS=1 cargo test --lib api::` and commit it",
            path.display()
        );
    }

    #[test]
    fn errors_serialise_with_kind() {
        let body = ApiError::PhotoNotFound(7).body();
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["kind"], "not_found");
        assert!(json["message"].as_str().unwrap().contains("照片 7"));
    }

    #[test]
    fn settings_fill_missing_fields() {
        let settings: Settings = serde_json::from_str(r#"{"language":"zh-CN"}"#).unwrap();
        assert_eq!(settings.language, Language::ZhCn);
        assert_eq!(settings.device, "auto");
        assert!(settings.regions_enabled);
    }
}
