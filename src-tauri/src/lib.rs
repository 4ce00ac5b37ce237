//! The Xunying desktop app: a Tauri window over the shared UI, whose commands call the
//! library's API service (`xunying::api::Service`) exactly as the HTTP server does.
//! It owns the window, the IPC commands, the progress channel, the `photo:` image
//! protocol and the native folder picker. Search and indexing logic stays in the library.

#![warn(missing_docs)]

pub mod commands;
pub mod photo_protocol;
pub mod progress;
pub mod startup;

use tauri::Manager;

pub use startup::AppState;

/// Starts the app: opens the library service, registers the commands and the image
/// protocol, and runs the window until it closes.
pub fn run() -> Result<(), tauri::Error> {
    let state = AppState::open_from_environment();

    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .register_asynchronous_uri_scheme_protocol(photo_protocol::SCHEME, |context, request, responder| {
            let state = context.app_handle().state::<AppState>().inner().clone();
            tauri::async_runtime::spawn_blocking(move || {
                responder.respond(photo_protocol::respond(&state, &request));
            });
        })
        .manage(state)
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!())
}
