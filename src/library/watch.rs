//! Watching photo folders for changes. Directories are watched (recursively), not
//! files. Events are collected per path and released once the path has been quiet for
//! the settle time, so a file still being written is looked at only when it stops
//! changing. A watcher overflow or rescan flag asks for a full reconcile of that folder.
//! When the operating system's watch limit is reached, the folder is polled instead and
//! the user is told how to raise the limit. A folder root that disappears (an unplugged
//! drive, an unmounted share) is reported offline; nothing is deleted for it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::{Config, PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};

/// How a folder is being watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchMode {
    /// Operating-system notifications.
    Watching,
    /// Periodic polling, because notifications could not be set up.
    Polling,
    /// The folder root is missing.
    Offline,
}

/// What the watcher asks the library to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchSignal {
    /// These paths (files or folders) changed and have settled.
    Paths(Vec<PathBuf>),
    /// Events were lost: reconcile the whole folder.
    Rescan(PathBuf),
    /// The folder root disappeared.
    Offline(PathBuf),
    /// The folder root is back.
    Online(PathBuf),
}

struct Root {
    path: PathBuf,
    mode: WatchMode,
    polled: bool,
}

/// Watches folder roots and turns raw events into settled signals.
pub struct FolderWatcher {
    roots: Vec<Root>,
    native: RecommendedWatcher,
    poll: Option<PollWatcher>,
    events: Receiver<notify::Result<notify::Event>>,
    poll_events: Receiver<notify::Result<notify::Event>>,
    pending: HashMap<PathBuf, Instant>,
    rescans: Vec<PathBuf>,
    settle: Duration,
    poll_interval: Duration,
    last_root_check: Instant,
}

/// Errors from setting up the watcher.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The platform watcher could not be created.
    #[error("Failed to start watching folders: {0}\n无法开始监视文件夹：{0}")]
    Start(notify::Error),
}

impl FolderWatcher {
    /// Starts watching `roots`. Folders whose notifications cannot be set up are polled
    /// every `poll_interval`.
    pub fn new(roots: &[PathBuf], settle: Duration, poll_interval: Duration) -> Result<Self, WatchError> {
        let (tx, events) = channel();
        let (_unused_tx, poll_events) = channel();
        let native = notify::recommended_watcher(tx).map_err(WatchError::Start)?;
        let mut watcher = FolderWatcher {
            roots: Vec::new(),
            native,
            poll: None,
            events,
            poll_events,
            pending: HashMap::new(),
            rescans: Vec::new(),
            settle,
            poll_interval,
            last_root_check: Instant::now(),
        };
        for root in roots {
            watcher.add_root(root);
        }
        Ok(watcher)
    }

    /// Adds a folder root.
    pub fn add_root(&mut self, root: &Path) {
        let mut entry = Root { path: root.to_path_buf(), mode: WatchMode::Watching, polled: false };
        if !root.is_dir() {
            entry.mode = WatchMode::Offline;
        } else if let Err(error) = self.native.watch(root, RecursiveMode::Recursive) {
            self.fall_back_to_polling(&mut entry, &error);
        }
        self.roots.push(entry);
    }

    fn fall_back_to_polling(&mut self, root: &mut Root, error: &notify::Error) {
        if matches!(error.kind, notify::ErrorKind::MaxFilesWatch) {
            tracing::warn!(
                folder = %root.path.display(),
                "the system's file watch limit is reached, so this folder is polled every {}s instead; \
                 raise the limit with `sudo sysctl fs.inotify.max_user_watches=524288` \
                 (系统文件监视数已达上限，改为定时轮询；可用该命令提高上限)",
                self.poll_interval.as_secs()
            );
        } else {
            tracing::warn!(folder = %root.path.display(), %error, "cannot watch this folder; polling it instead");
        }
        if self.poll.is_none() {
            let (tx, rx) = channel();
            match PollWatcher::new(tx, Config::default().with_poll_interval(self.poll_interval)) {
                Ok(poll) => {
                    self.poll = Some(poll);
                    self.poll_events = rx;
                }
                Err(error) => tracing::error!(%error, "cannot start the polling watcher"),
            }
        }
        if let Some(poll) = self.poll.as_mut() {
            if poll.watch(&root.path, RecursiveMode::Recursive).is_ok() {
                root.polled = true;
            }
        }
        root.mode = WatchMode::Polling;
    }

    /// Each root with how it is watched.
    pub fn modes(&self) -> Vec<(PathBuf, WatchMode)> {
        self.roots.iter().map(|r| (r.path.clone(), r.mode)).collect()
    }

    /// Waits up to `timeout` and returns the signals that are due.
    pub fn next_signals(&mut self, timeout: Duration) -> Vec<WatchSignal> {
        let deadline = Instant::now() + timeout;
        loop {
            self.drain_events(Duration::from_millis(50));
            let mut signals = self.check_roots();
            signals.extend(self.rescans.drain(..).map(WatchSignal::Rescan));
            let due = self.take_settled();
            if !due.is_empty() {
                signals.push(WatchSignal::Paths(due));
            }
            if !signals.is_empty() || Instant::now() >= deadline {
                return signals;
            }
        }
    }

    fn drain_events(&mut self, wait: Duration) {
        let first = match self.events.recv_timeout(wait) {
            Ok(event) => Some(event),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        };
        let more: Vec<_> = self.events.try_iter().chain(self.poll_events.try_iter()).collect();
        for event in first.into_iter().chain(more) {
            match event {
                Ok(event) => self.record(event),
                Err(error) => {
                    // An error from the backend (such as an inotify queue overflow) means
                    // events may be lost, so every root is reconciled.
                    tracing::warn!(%error, "file watcher reported an error; rescanning watched folders");
                    self.rescans.extend(self.roots.iter().map(|r| r.path.clone()));
                }
            }
        }
    }

    fn record(&mut self, event: notify::Event) {
        if event.need_rescan() {
            let roots: Vec<PathBuf> = if event.paths.is_empty() {
                self.roots.iter().map(|r| r.path.clone()).collect()
            } else {
                event.paths.iter().filter_map(|p| self.root_of(p)).collect()
            };
            self.rescans.extend(roots);
            return;
        }
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        let now = Instant::now();
        for path in event.paths {
            self.pending.insert(path, now);
        }
    }

    fn root_of(&self, path: &Path) -> Option<PathBuf> {
        self.roots.iter().find(|r| path.starts_with(&r.path)).map(|r| r.path.clone())
    }

    fn take_settled(&mut self) -> Vec<PathBuf> {
        let now = Instant::now();
        let mut due: Vec<PathBuf> =
            self.pending.iter().filter(|(_, &at)| now.duration_since(at) >= self.settle).map(|(p, _)| p.clone()).collect();
        for path in &due {
            self.pending.remove(path);
        }
        due.sort();
        due
    }

    fn check_roots(&mut self) -> Vec<WatchSignal> {
        if self.last_root_check.elapsed() < Duration::from_secs(1) {
            return Vec::new();
        }
        self.last_root_check = Instant::now();
        let mut signals = Vec::new();
        for index in 0..self.roots.len() {
            let exists = self.roots[index].path.is_dir();
            let offline = self.roots[index].mode == WatchMode::Offline;
            if !exists && !offline {
                tracing::warn!(folder = %self.roots[index].path.display(), "folder is offline; its photos are kept");
                let _ = self.native.unwatch(&self.roots[index].path);
                self.roots[index].mode = WatchMode::Offline;
                signals.push(WatchSignal::Offline(self.roots[index].path.clone()));
            } else if exists && offline {
                tracing::info!(folder = %self.roots[index].path.display(), "folder is back online");
                let path = self.roots[index].path.clone();
                let mut root = Root { path: path.clone(), mode: WatchMode::Watching, polled: false };
                if let Err(error) = self.native.watch(&path, RecursiveMode::Recursive) {
                    self.fall_back_to_polling(&mut root, &error);
                }
                self.roots[index] = root;
                signals.push(WatchSignal::Online(path.clone()));
                signals.push(WatchSignal::Rescan(path));
            }
        }
        signals
    }
}
