//! Progress updates from the library service to the UI, through one
//! `tauri::ipc::Channel` per webview. A webview that subscribes again (after a reload)
//! replaces its earlier channel, so updates are never sent to a page that is gone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tauri::ipc::Channel;
use tokio::sync::broadcast::error::RecvError;
use xunying::api::{ProgressUpdate, Service};

/// Sends the service's progress updates to the subscribed webviews.
#[derive(Clone, Default)]
pub struct ProgressForwarder {
    channels: Arc<Mutex<HashMap<String, Channel<ProgressUpdate>>>>,
}

impl ProgressForwarder {
    /// Starts a thread that forwards every update of `service` until the service closes.
    pub fn start(service: &Service) -> ProgressForwarder {
        let forwarder = ProgressForwarder::default();
        let mut updates = service.subscribe();
        let sender = forwarder.clone();
        let spawned = std::thread::Builder::new().name("progress-forwarder".into()).spawn(move || loop {
            match updates.blocking_recv() {
                Ok(update) => sender.send(&update),
                Err(RecvError::Lagged(skipped)) => {
                    tracing::warn!(skipped, "progress updates dropped because the UI fell behind");
                }
                Err(RecvError::Closed) => break,
            }
        });
        if let Err(error) = spawned {
            tracing::error!(%error, "failed to start the progress forwarder; the UI gets no progress updates");
        }
        forwarder
    }

    /// Creates a forwarder with no source, for an app whose library failed to open.
    pub fn idle() -> ProgressForwarder {
        ProgressForwarder::default()
    }

    /// Sends updates to `channel` from now on, in place of any earlier channel of the
    /// same webview.
    pub fn subscribe(&self, webview_label: &str, channel: Channel<ProgressUpdate>) {
        self.lock().insert(webview_label.to_string(), channel);
    }

    /// Number of webviews subscribed.
    pub fn num_subscribers(&self) -> usize {
        self.lock().len()
    }

    fn send(&self, update: &ProgressUpdate) {
        let mut channels = self.lock();
        channels.retain(|label, channel| match channel.send(update.clone()) {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(webview = %label, %error, "dropping a progress channel that failed");
                false
            }
        });
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Channel<ProgressUpdate>>> {
        self.channels.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting_channel(count: Arc<AtomicUsize>) -> Channel<ProgressUpdate> {
        Channel::new(move |_body| {
            count.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    }

    #[test]
    fn resubscribe_replaces_channel() {
        let forwarder = ProgressForwarder::idle();
        let first = Arc::new(AtomicUsize::new(0));
        let second = Arc::new(AtomicUsize::new(0));
        forwarder.subscribe("main", counting_channel(first.clone()));
        forwarder.subscribe("main", counting_channel(second.clone()));

        forwarder.send(&ProgressUpdate::LibraryChanged { photos: 3 });

        assert_eq!(forwarder.num_subscribers(), 1);
        assert_eq!(first.load(Ordering::SeqCst), 0);
        assert_eq!(second.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn failing_channel_is_dropped() {
        let forwarder = ProgressForwarder::idle();
        forwarder.subscribe("main", Channel::new(|_body| Err(tauri::Error::WebviewNotFound)));

        forwarder.send(&ProgressUpdate::LibraryChanged { photos: 1 });

        assert_eq!(forwarder.num_subscribers(), 0);
    }
}
