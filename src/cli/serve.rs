//! `xunying serve`: opens the library service and runs the HTTP server until Ctrl-C.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use xunying::api::Service;
use xunying::library::LibraryOptions;
use xunying::server::{self, ServerOptions};

/// `xunying serve`.
pub fn serve(options: LibraryOptions, bind: IpAddr, port: u16, ui: Option<PathBuf>) -> Result<()> {
    // Checked before the library opens, so that a mistyped --ui leaves no data folder behind.
    if let Some(dir) = ui.as_ref().filter(|dir| !dir.join("index.html").is_file()) {
        let missing = if dir.is_dir() { "has no index.html" } else { "is not a folder" };
        let missing_zh = if dir.is_dir() { "中没有 index.html" } else { "不是文件夹" };
        anyhow::bail!(
            "--ui {0} {missing}; give the folder of the built web UI (`npm run build:ui` makes ui/dist)\n\
             --ui {0} {missing_zh}；请给出已构建的网页界面文件夹（`npm run build:ui` 会生成 ui/dist）",
            dir.display()
        );
    }
    let service = Service::open(options)?;
    let ui_dir = ui.or_else(default_ui_dir);
    if ui_dir.is_none() {
        eprintln!("the web UI is not built; run `npm run build:ui` / 网页界面尚未构建；请运行 `npm run build:ui`");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("failed to start the async runtime")?;
    let options = ServerOptions { bind, port, ui_dir, token: None };
    runtime.block_on(server::serve(
        service,
        options,
        |info| {
            println!("Xunying is serving at / 寻影正在提供服务：{}", info.url);
            println!("press Ctrl-C to stop / 按 Ctrl-C 停止");
            let _ = std::io::stdout().flush();
        },
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    ))?;
    Ok(())
}

/// Returns the first folder with an `index.html` of: `ui/` next to the executable, `ui/dist`
/// in the working folder, `ui/dist` of the source checkout this binary was built from.
fn default_ui_dir() -> Option<PathBuf> {
    let beside_exe = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("ui")));
    let candidates = [beside_exe, Some(PathBuf::from("ui/dist")), Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui/dist"))];
    candidates.into_iter().flatten().find(|dir| dir.join("index.html").is_file())
}
