//! Checks that the built UI exists, then lets `tauri-build` generate the app context
//! and one `allow-<command>` permission per IPC command.

use std::path::Path;

include!("src/command_names.rs");

fn main() {
    // `tauri::generate_context!` embeds `frontendDist` at compile time and fails with a
    // bare "path doesn't exist" when the UI has not been built, so name the fix here.
    println!("cargo:rerun-if-changed=../ui/dist");
    if !Path::new("../ui/dist/index.html").is_file() {
        panic!(
            "the desktop app embeds the built UI, but ui/dist/index.html is missing: \
             run `npm run build:ui` in the repository root first"
        );
    }

    // Declaring the commands makes each one need a permission, so a window may call
    // only the commands its capability grants.
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    let attributes = tauri_build::Attributes::new().app_manifest(manifest);
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {error:#}");
    }
}
