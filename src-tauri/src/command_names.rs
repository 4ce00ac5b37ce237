/// Names of every IPC command. `build.rs` declares them to `tauri-build`, which makes
/// an `allow-<name>` permission for each, and `capabilities/main.json` grants them.
pub const COMMANDS: &[&str] = &[
    "search",
    "search_by_image",
    "photo",
    "status",
    "add_folder",
    "remove_folder",
    "suggest_folders",
    "pick_folder",
    "reveal_photo",
    "pause_indexing",
    "resume_indexing",
    "settings",
    "update_settings",
    "models",
    "install_model",
    "verify_model",
    "subscribe",
];
