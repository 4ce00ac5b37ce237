//! Handlers of the library commands (`index`, `watch`, `status`, `search`,
//! `duplicates`): each parses its arguments into a library call and renders the result.

pub mod bench;
pub mod embed;
pub mod progress;
pub mod serve;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use xunying::library::watch::{FolderWatcher, WatchSignal};
use xunying::library::{IndexSummary, Library, LibraryError, LibraryOptions};
use xunying::search::duplicates::find_duplicates;
use xunying::search::{search, Filters, SearchRequest, SearchResponse};

use progress::BarSink;

/// Installs a Ctrl-C handler that sets the returned flag, so work stops after the batch
/// in flight and everything committed is kept.
pub fn cancel_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    let _ = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nstopping after the current batch… / 正在完成当前批次后停止…");
    });
    flag
}

/// `xunying index`.
pub fn index(options: LibraryOptions, folders: &[PathBuf], json: bool, quiet: bool) -> Result<()> {
    let mut library = Library::open(options)?;
    // Without a model nothing can be embedded, so the folders are not added either.
    if library.model().is_none() {
        return Err(LibraryError::NoModel.into());
    }
    let sink = BarSink::new(quiet || json);
    let cancel = cancel_flag();
    let mut summary = library.index(folders, &sink, &cancel)?;
    // A one-off run waits for files still being written, so it does not end with work
    // left for a watcher that is not running.
    let wait = library.options().settle.max(Duration::from_millis(200));
    for _ in 0..DEFERRED_RETRIES {
        if summary.counts.deferred == 0 || cancel.load(Ordering::SeqCst) {
            break;
        }
        tracing::info!(files = summary.counts.deferred, "waiting for files that are still being written");
        std::thread::sleep(wait);
        // Only the deferred files: the rest were counted above.
        let retry = library.reconcile(&summary.deferred_scopes, &sink, &cancel)?;
        summary.absorb_retry(&retry);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary);
    }
    Ok(())
}

/// How many times a one-off `index` run waits for files that are still being written.
const DEFERRED_RETRIES: usize = 10;

fn print_summary(summary: &IndexSummary) {
    let c = &summary.counts;
    // `new` and `changed` count what planning found, and some of those files may then
    // fail to decode. The photos actually indexed are therefore counted apart.
    let indexed = (c.new + c.changed).saturating_sub(summary.failed_to_embed);
    let failed = summary.failed();
    println!(
        "found: new {} · changed {} · moved {} · removed {} · unchanged {}",
        c.new, c.changed, c.moved, c.removed, c.unchanged
    );
    println!("发现：新增 {} · 修改 {} · 移动 {} · 删除 {} · 未变 {}", c.new, c.changed, c.moved, c.removed, c.unchanged);
    println!("indexed {indexed} · failed {failed} / 已索引 {indexed} · 失败 {failed}");
    // Copies and files of merged folders join contents the library already has.
    let linked = indexed.saturating_sub(summary.inferences);
    if linked > 0 {
        println!("{linked} of them matched photos already embedded, so they cost no model run / 其中 {linked} 个与已嵌入的照片相同，无需再次运行模型");
    }
    if c.known_failures > 0 {
        let known = c.known_failures;
        let files = if known == 1 { "file that failed before and is" } else { "files that failed before and are" };
        println!("skipped {known} {files} unchanged / 跳过 {known} 个之前失败且未改变的文件");
    }
    if failed + c.known_failures > 0 {
        println!("`xunying status` lists each failure with its reason / `xunying status` 列出每个失败及其原因");
    }
    if c.deferred > 0 {
        let files = if c.deferred == 1 { "file is" } else { "files are" };
        println!("{} {files} still being written and will be indexed later / {} 个文件仍在写入，稍后索引", c.deferred, c.deferred);
    }
    for folder in &summary.offline_folders {
        println!("offline, photos kept / 离线，照片已保留: {}", folder.display());
    }
}

/// `xunying watch`: index, then follow changes until interrupted.
pub fn watch(options: LibraryOptions, folders: &[PathBuf], quiet: bool) -> Result<()> {
    let settle = options.settle;
    let mut library = Library::open(options)?;
    let sink = BarSink::new(quiet);
    let cancel = cancel_flag();
    let summary = library.index(folders, &sink, &cancel)?;
    print_summary(&summary);

    let roots = library.watch_roots()?;
    let mut watcher = FolderWatcher::new(&roots, settle, Duration::from_secs(5))?;
    for (root, mode) in watcher.modes() {
        eprintln!("{} {}", serde_json::to_string(&mode)?.trim_matches('"'), root.display());
    }
    eprintln!("watching; press Ctrl-C to stop / 正在监视；按 Ctrl-C 停止");
    // Files still being written are deferred by a reconcile and produce no further event
    // once they settle, so the folders are reconciled again after the settle time.
    let retry_after = settle + Duration::from_millis(100);
    let mut retry_at = (summary.counts.deferred > 0).then(|| std::time::Instant::now() + retry_after);
    while !cancel.load(Ordering::SeqCst) {
        let mut signals = watcher.next_signals(Duration::from_millis(500));
        if retry_at.is_some_and(|at| std::time::Instant::now() >= at) {
            retry_at = None;
            signals.extend(roots.iter().cloned().map(WatchSignal::Rescan));
        }
        for signal in signals {
            let scopes = match signal {
                WatchSignal::Paths(paths) => scopes_for(&library, &paths)?,
                WatchSignal::Rescan(root) | WatchSignal::Online(root) => scopes_for(&library, &[root])?,
                WatchSignal::Offline(root) => {
                    eprintln!("offline, photos kept / 离线，照片已保留: {}", root.display());
                    continue;
                }
            };
            if scopes.is_empty() {
                continue;
            }
            let summary = library.reconcile(&scopes, &sink, &cancel)?;
            if summary.counts.deferred > 0 {
                retry_at = Some(std::time::Instant::now() + retry_after);
            }
            let c = &summary.counts;
            if c.new + c.changed + c.moved + c.removed + summary.failed() > 0 {
                print_summary(&summary);
            }
        }
    }
    Ok(())
}

/// Maps changed paths to reconcile scopes: a path that is (or was) a folder is
/// reconciled whole, a file path by itself, both within their library folder.
fn scopes_for(library: &Library, paths: &[PathBuf]) -> Result<Vec<(xunying::catalog::FolderId, PathBuf)>> {
    let mut scopes: Vec<(xunying::catalog::FolderId, PathBuf)> = Vec::new();
    for path in paths {
        if let Some((folder_id, _root)) = library.folder_of(path)? {
            if !scopes.iter().any(|(_, s)| path.starts_with(s)) {
                scopes.retain(|(_, s)| !s.starts_with(path));
                scopes.push((folder_id, path.clone()));
            }
        }
    }
    Ok(scopes)
}

/// `xunying status`. The library opens without its model, which status does not need;
/// `model_dir` is the bundle the other commands would use, reported as it is.
pub fn status(options: LibraryOptions, model_dir: Option<PathBuf>, json: bool, with_paths: bool) -> Result<()> {
    let library = Library::open(options)?;
    let mut status = library.status()?;
    status.model_dir = model_dir;
    if with_paths {
        status.paths = Some(library.catalog().all_photos()?.into_iter().map(|p| p.path).collect());
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    println!("data directory / 数据目录: {}", status.data_dir.display());
    println!("model / 模型: {}", status.model_id.as_deref().unwrap_or("-"));
    println!(
        "photos / 照片: {} ({} distinct / 不重复), regions / 区域: {}, pending / 待处理: {}",
        status.photos, status.distinct_photos, status.regions, status.pending
    );
    for folder in &status.folders {
        // A removed folder inside an active one was merged into it; its photos are there.
        let outer = (folder.state == "removed")
            .then(|| status.folders.iter().find(|o| o.state == "active" && folder.path.starts_with(&o.path) && o.path != folder.path))
            .flatten();
        match outer {
            Some(outer) => println!(
                "  [merged] {} (part of / 属于 {})",
                folder.path.display(),
                outer.path.display()
            ),
            None => println!("  [{}] {}", folder.state, folder.path.display()),
        }
    }
    if !status.failures.is_empty() {
        println!("failed / 失败: {}", status.failures.len());
        for failure in &status.failures {
            println!("{}", failure_lines(&failure.path, &failure.reason));
        }
    }
    Ok(())
}

/// Formats a failure for `status`: the reason's lines (English, then Chinese)
/// indented, after the path unless the reason already names it.
fn failure_lines(path: &str, reason: &str) -> String {
    let mut lines: Vec<String> = reason.lines().filter(|line| !line.trim().is_empty()).map(|line| format!("    {line}")).collect();
    if !reason.contains(path) {
        lines.insert(0, format!("  {path}"));
    } else if let Some(first) = lines.first_mut() {
        *first = format!("  {}", first.trim_start());
    }
    lines.join("\n")
}

/// `xunying remove`: removes each folder from the library. Returns exit code 2 when a
/// folder was not in the library, after handling the others.
pub fn remove(options: LibraryOptions, folders: &[PathBuf]) -> Result<ExitCode> {
    let mut library = Library::open(options)?;
    let mut code = ExitCode::SUCCESS;
    for folder in folders {
        if library.remove_folder(folder, &xunying::library::progress::NullSink)? {
            println!("removed {} / 已移除 {}", folder.display(), folder.display());
        } else {
            eprintln!(
                "{0} is not a library folder; `xunying status` lists them.\n{0} 不是图库中的文件夹；`xunying status` 会列出图库中的文件夹。",
                folder.display()
            );
            code = ExitCode::from(2);
        }
    }
    Ok(code)
}

/// Arguments of `xunying search`.
pub struct SearchArgs {
    pub query: Option<String>,
    pub limit: usize,
    pub json: bool,
    pub filters: Filters,
    pub like: Option<PathBuf>,
    pub min_score: Option<f32>,
}

/// `xunying search`.
pub fn run_search(options: LibraryOptions, args: SearchArgs) -> Result<()> {
    let mut library = Library::open(options)?;
    let mut request = SearchRequest::text(args.query.as_deref().unwrap_or(""), args.limit);
    request.text = args.query;
    request.like = args.like;
    request.filters = args.filters;
    request.min_score = args.min_score;
    let response = search(&mut library, &request)?;
    for notice in &response.notices {
        eprintln!("{notice}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&response.results)?);
    } else {
        print_results(&response);
    }
    Ok(())
}

fn print_results(response: &SearchResponse) {
    if response.results.is_empty() {
        println!("no matches / 没有匹配的照片");
        return;
    }
    println!("{:>5}  {:>5}  {:<22}  path / 路径", "score", "photo", "region / 区域");
    for result in &response.results {
        let region = result
            .region
            .as_ref()
            .map(|r| format!("{:.0},{:.0},{:.0},{:.0}", r.region_box[0], r.region_box[1], r.region_box[2], r.region_box[3]))
            .unwrap_or_else(|| "-".into());
        let weak = if result.weak { " (weak / 弱)" } else { "" };
        println!("{:>5.3}  {:>5.3}  {:<22}  {}{}", result.score, result.photo_score, region, result.path, weak);
    }
}

/// `xunying duplicates`.
pub fn duplicates(options: LibraryOptions, threshold: f32, json: bool) -> Result<()> {
    let mut library = Library::open(options)?;
    let groups = find_duplicates(&mut library, threshold)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&groups)?);
        return Ok(());
    }
    if groups.is_empty() {
        println!("no near-duplicates / 没有近似重复的照片");
    }
    for (index, group) in groups.iter().enumerate() {
        // Rounded down, so that the bound shown is true (0.99985 shows as 0.999, not 1.000).
        let bound = (f64::from(group.min_similarity) * 1000.0).floor() / 1000.0;
        println!("group {} / 第 {} 组 (similarity ≥ {bound:.3}):", index + 1, index + 1);
        for path in &group.paths {
            println!("  {path}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::failure_lines;

    #[test]
    fn failure_path_is_printed_once() {
        let reason = "/p/a.jpg is empty (0 bytes).\n/p/a.jpg 是空文件（0 字节）。";
        assert_eq!(failure_lines("/p/a.jpg", reason), "  /p/a.jpg is empty (0 bytes).\n    /p/a.jpg 是空文件（0 字节）。");
        assert_eq!(failure_lines("/p/b.jpg", "model failed\n模型失败"), "  /p/b.jpg\n    model failed\n    模型失败");
    }
}
