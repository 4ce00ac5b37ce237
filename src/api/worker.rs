//! The background indexer: a thread that scans the library's folders, then follows
//! them with the folder watcher, and reports progress to the service's subscribers.
//! Searches preempt it: a run stops after its batch in flight, the search runs, and
//! the run starts again with a fresh plan (unchanged files cost a stat each).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::service::{path_text, Service};
use super::types::{IndexingProgress, ProgressUpdate};
use crate::catalog::FolderId;
use crate::library::progress::{ProgressEvent, ProgressSink};
use crate::library::watch::{FolderWatcher, WatchMode, WatchSignal};
use crate::library::{IndexSummary, Library, LibraryError};
use crate::models::InstallEvent;

/// How often a folder the watcher cannot follow natively is polled.
const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// The shortest gap between two progress updates of the same phase sent to subscribers.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(150);

/// The indexer's shared state.
#[derive(Default)]
pub(crate) struct IndexerState {
    pub(crate) progress: IndexingProgress,
    pub(crate) full_index_requested: bool,
    pub(crate) folder_modes: Vec<(PathBuf, WatchMode)>,
    shutdown: bool,
    /// Indexing runs that failed in a row, for the retry delay.
    failed_runs: u32,
    /// The message of the last failed run, so a repeat is not logged as an error again.
    last_failure: Option<String>,
}

/// The wait after a first failed indexing run. Each further failure in a row doubles
/// it, up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(5);
/// The maximum wait between two failed indexing runs.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);

/// Returns the wait after the `failed_runs`-th failure in a row (counting from 1).
fn retry_delay(failed_runs: u32) -> Duration {
    let doublings = failed_runs.saturating_sub(1).min(16);
    FIRST_RETRY_DELAY.saturating_mul(1 << doublings).min(MAX_RETRY_DELAY)
}

/// Owns the background thread; dropping it stops the thread after the batch in flight.
pub struct BackgroundHandle {
    service: Service,
    thread: Option<JoinHandle<()>>,
}

impl Drop for BackgroundHandle {
    fn drop(&mut self) {
        self.service.lock_indexer().shutdown = true;
        self.service.shared.preempt.store(true, Ordering::SeqCst);
        self.service.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub(super) fn start(service: Service) -> BackgroundHandle {
    service.lock_indexer().full_index_requested = true;
    let worker = service.clone();
    let thread = std::thread::Builder::new().name("xunying-indexer".into()).spawn(move || run(worker));
    match thread {
        Ok(thread) => BackgroundHandle { service, thread: Some(thread) },
        Err(error) => {
            tracing::error!(%error, "failed to start the background indexer");
            BackgroundHandle { service, thread: None }
        }
    }
}

/// The loop's next action.
enum Step {
    Stop,
    Wait,
    FullIndex,
    Follow,
}

fn run(service: Service) {
    tracing::info!("background indexer started");
    warm_text_encoder(&service);
    let mut watcher: Option<FolderWatcher> = None;
    let mut roots: Vec<PathBuf> = Vec::new();
    loop {
        match next_step(&service, watcher.is_some()) {
            Step::Stop => break,
            Step::Wait => wait_for_wake(&service, Duration::from_millis(500)),
            Step::FullIndex => {
                if let Some(summary) = run_index(&service, &[], true) {
                    service.lock_indexer().full_index_requested = false;
                    report_summary(&service, &summary);
                    let current = current_roots(&service);
                    if watcher.is_none() || current != roots {
                        roots = current;
                        watcher = start_watcher(&service, &roots);
                    }
                }
            }
            Step::Follow => {
                let Some(active) = watcher.as_mut() else { continue };
                let signals = active.next_signals(Duration::from_millis(500));
                service.lock_indexer().folder_modes = active.modes();
                follow(&service, signals);
            }
        }
    }
    tracing::info!("background indexer stopped");
}

/// Readies the text encoder before any indexing, so that the first search is as fast
/// as later ones. A search that arrives meanwhile waits for the same work.
fn warm_text_encoder(service: &Service) {
    let library = service.shared.library.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(model) = library.model() else { return };
    let started = std::time::Instant::now();
    match model.warm_text_encoder() {
        Ok(()) => tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "text encoder ready"),
        Err(error) => tracing::warn!(%error, "cannot warm up the text encoder; the first search will load it"),
    }
}

fn next_step(service: &Service, watching: bool) -> Step {
    let state = service.lock_indexer();
    if state.shutdown {
        Step::Stop
    } else if state.progress.paused || service.shared.waiting.load(Ordering::SeqCst) > 0 {
        Step::Wait
    } else if state.full_index_requested {
        Step::FullIndex
    } else if watching {
        Step::Follow
    } else {
        Step::Wait
    }
}

fn wait_for_wake(service: &Service, timeout: Duration) {
    let state = service.lock_indexer();
    let _ = service.shared.wake.wait_timeout(state, timeout);
}

/// Reconciles `scopes` (every folder when `full`). Returns `None` when the run was
/// preempted or failed; a failure is logged and shown in the progress.
fn run_index(service: &Service, scopes: &[(FolderId, PathBuf)], full: bool) -> Option<IndexSummary> {
    let mut library = service.lock_library();
    if library.model().is_none() {
        // Without a model nothing can be embedded; the user installs one first.
        drop(library);
        wait_for_wake(service, Duration::from_secs(2));
        return None;
    }
    // A search increments `waiting` before it sets `preempt`, so one that arrives
    // during this check is either counted here or sets `preempt` after the reset.
    service.shared.preempt.store(false, Ordering::SeqCst);
    if service.shared.waiting.load(Ordering::SeqCst) > 0 {
        service.lock_indexer().full_index_requested = true;
        return None;
    }
    set_running(service, true);
    let sink = ServiceSink::new(service.clone());
    let result = if full { library.index(&[], &sink, &service.shared.preempt) } else { library.reconcile(scopes, &sink, &service.shared.preempt) };
    drop(library);
    let preempted = service.shared.preempt.load(Ordering::SeqCst);
    set_running(service, false);
    if result.is_ok() {
        let mut state = service.lock_indexer();
        state.failed_runs = 0;
        state.last_failure = None;
    }
    match result {
        Ok(summary) if !preempted => Some(summary),
        Ok(summary) => {
            report_summary(service, &summary);
            service.lock_indexer().full_index_requested = true;
            None
        }
        Err(error) => {
            let message = error.to_string();
            let delay = {
                let mut state = service.lock_indexer();
                state.failed_runs += 1;
                let repeated = state.last_failure.as_deref() == Some(message.as_str());
                if repeated {
                    tracing::debug!(%error, failed_runs = state.failed_runs, "background indexing failed again");
                } else {
                    tracing::error!(%error, "background indexing failed");
                }
                state.last_failure = Some(message);
                retry_delay(state.failed_runs)
            };
            record_error(service, &error);
            tracing::info!(retry_in_s = delay.as_secs(), "indexing will be retried");
            wait_for_wake(service, delay);
            None
        }
    }
}

fn set_running(service: &Service, running: bool) {
    {
        let mut state = service.lock_indexer();
        state.progress.running = running;
        if running {
            state.progress.last_error = None;
        } else {
            state.progress.current_file = None;
            state.progress.eta_seconds = None;
        }
    }
    service.publish_progress();
}

fn record_error(service: &Service, error: &LibraryError) {
    service.lock_indexer().progress.last_error = Some(error.to_string());
    service.publish_progress();
}

fn report_summary(service: &Service, summary: &IndexSummary) {
    let counts = &summary.counts;
    if counts.new + counts.changed + counts.moved + counts.removed + summary.failed() > 0 {
        service.notify_library_changed();
    }
    for folder in &summary.offline_folders {
        tracing::warn!(folder = %folder.display(), "folder is offline; its photos are kept");
    }
}

fn current_roots(service: &Service) -> Vec<PathBuf> {
    let library = service.lock_library();
    match library.watch_roots() {
        Ok(roots) => roots,
        Err(error) => {
            tracing::error!(%error, "failed to list library folders");
            Vec::new()
        }
    }
}

fn start_watcher(service: &Service, roots: &[PathBuf]) -> Option<FolderWatcher> {
    let settle = service.lock_library().options().settle;
    match FolderWatcher::new(roots, settle, POLL_INTERVAL) {
        Ok(watcher) => {
            service.lock_indexer().folder_modes = watcher.modes();
            tracing::info!(folders = roots.len(), "watching library folders");
            Some(watcher)
        }
        Err(error) => {
            tracing::error!(%error, "failed to watch library folders; they are scanned again on resume");
            service.lock_indexer().progress.last_error = Some(error.to_string());
            None
        }
    }
}

/// Reconciles what the watcher reported, as `xunying watch` does.
fn follow(service: &Service, signals: Vec<WatchSignal>) {
    let mut changed: Vec<PathBuf> = Vec::new();
    for signal in signals {
        match signal {
            WatchSignal::Paths(paths) => changed.extend(paths),
            WatchSignal::Rescan(root) | WatchSignal::Online(root) => changed.push(root),
            WatchSignal::Offline(root) => tracing::warn!(folder = %root.display(), "folder went offline; its photos are kept"),
        }
    }
    if changed.is_empty() {
        return;
    }
    let scopes = match scopes_for(&service.lock_library(), &changed) {
        Ok(scopes) => scopes,
        Err(error) => {
            record_error(service, &error);
            return;
        }
    };
    if scopes.is_empty() {
        return;
    }
    if let Some(summary) = run_index(service, &scopes, false) {
        report_summary(service, &summary);
        if summary.counts.deferred > 0 {
            // Files still being written send no further event once they settle.
            service.lock_indexer().full_index_requested = true;
        }
    }
}

/// Maps changed paths to reconcile scopes within their library folders, dropping paths
/// covered by another scope.
fn scopes_for(library: &Library, paths: &[PathBuf]) -> Result<Vec<(FolderId, PathBuf)>, LibraryError> {
    let mut scopes: Vec<(FolderId, PathBuf)> = Vec::new();
    for path in paths {
        if let Some((folder_id, _root)) = library.folder_of(path)? {
            if !scopes.iter().any(|(_, scope)| path.starts_with(scope)) {
                scopes.retain(|(_, scope)| !scope.starts_with(path));
                scopes.push((folder_id, path.clone()));
            }
        }
    }
    Ok(scopes)
}

/// Turns library progress events into the indexer's state and subscriber updates,
/// sending an `Advance` at most every [`PROGRESS_INTERVAL`].
struct ServiceSink {
    service: Service,
    last_sent: Mutex<Option<Instant>>,
    changed: AtomicBool,
}

impl ServiceSink {
    fn new(service: Service) -> Self {
        ServiceSink { service, last_sent: Mutex::new(None), changed: AtomicBool::new(false) }
    }

    fn due(&self) -> bool {
        let mut last = self.last_sent.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < PROGRESS_INTERVAL) {
            return false;
        }
        *last = Some(now);
        true
    }
}

impl ProgressSink for ServiceSink {
    fn event(&self, event: ProgressEvent) {
        let send_now = {
            let mut state = self.service.lock_indexer();
            let progress = &mut state.progress;
            match event {
                ProgressEvent::Phase { phase, total } => {
                    progress.phase = Some(phase_name(phase).to_string());
                    progress.total = total;
                    progress.done = 0;
                    progress.failed = 0;
                    progress.files_per_second = 0.0;
                    progress.eta_seconds = None;
                    true
                }
                ProgressEvent::Advance { phase, done, total, failed, current, per_second, eta } => {
                    progress.phase = Some(phase_name(phase).to_string());
                    progress.done = done;
                    progress.total = Some(total);
                    progress.failed = failed;
                    progress.files_per_second = per_second;
                    progress.eta_seconds = eta.map(|d| d.as_secs_f64());
                    progress.current_file = current.as_deref().map(path_text);
                    self.changed.store(true, Ordering::SeqCst);
                    done == total || self.due()
                }
                ProgressEvent::Failed { path, reason } => {
                    drop(state);
                    let _ = self.service.shared.events.send(ProgressUpdate::FileFailed { path: path_text(&path), reason });
                    return;
                }
                ProgressEvent::Finished { .. } => {
                    progress.current_file = None;
                    progress.eta_seconds = None;
                    true
                }
            }
        };
        if send_now {
            self.service.publish_progress();
        }
    }
}

fn phase_name(phase: crate::library::progress::Phase) -> &'static str {
    use crate::library::progress::Phase;
    match phase {
        Phase::Scan => "scan",
        Phase::Embed => "embed",
        Phase::RebuildVectors => "rebuild_vectors",
        Phase::RebuildKeywords => "rebuild_keywords",
        Phase::Thumbnails => "thumbnails",
    }
}

/// Converts one model install event to a subscriber update.
pub(super) fn install_update(event: &InstallEvent) -> ProgressUpdate {
    let (stage, received_bytes, total_bytes) = match event {
        InstallEvent::DownloadStarted { resumed_from_bytes, total_bytes, .. } => ("downloading", Some(*resumed_from_bytes), *total_bytes),
        InstallEvent::DownloadProgress { received_bytes } => ("downloading", Some(*received_bytes), None),
        InstallEvent::DownloadFinished => ("downloading", None, None),
        InstallEvent::CheckingArchive => ("checking_archive", None, None),
        InstallEvent::Unpacking => ("unpacking", None, None),
        InstallEvent::CheckingBundle => ("checking_bundle", None, None),
    };
    ProgressUpdate::ModelInstall { stage: stage.to_string(), received_bytes, total_bytes, error: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_to_cap() {
        assert_eq!(retry_delay(1), Duration::from_secs(5));
        assert_eq!(retry_delay(2), Duration::from_secs(10));
        assert_eq!(retry_delay(4), Duration::from_secs(40));
        assert_eq!(retry_delay(7), MAX_RETRY_DELAY);
        assert_eq!(retry_delay(u32::MAX), MAX_RETRY_DELAY);
    }
}
