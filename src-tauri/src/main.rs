//! Xunying desktop app.

// Without this, Windows release builds would open a console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use tracing_subscriber::EnvFilter;

fn main() {
    let filter = EnvFilter::try_from_env("XUNYING_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

    if let Err(error) = xunying_app::run() {
        tracing::error!(%error, "the desktop app failed");
        eprintln!("The desktop app failed: {error}\n桌面应用出错：{error}");
        std::process::exit(1);
    }
}
