//! The terminal progress bar: a progress sink drawn with indicatif (files/s, ETA,
//! current file, failures so far). Hidden when standard error is not a terminal.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use xunying::library::progress::{Phase, ProgressEvent, ProgressSink};

/// Draws library progress on standard error.
pub struct BarSink {
    bar: Mutex<Option<ProgressBar>>,
    quiet: bool,
}

impl BarSink {
    /// A sink that draws unless `quiet`.
    pub fn new(quiet: bool) -> Self {
        BarSink { bar: Mutex::new(None), quiet }
    }

    fn start(&self, phase: Phase, total: Option<u64>) {
        let bar = match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        };
        if self.quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        } else {
            bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
        }
        let template = if total.is_some() {
            "{prefix} [{bar:30}] {pos}/{len} {msg}"
        } else {
            "{prefix} {spinner} {msg}"
        };
        bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> "));
        bar.set_prefix(phase.label());
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.take() {
                old.finish_and_clear();
            }
            *slot = Some(bar);
        }
    }
}

impl ProgressSink for BarSink {
    fn event(&self, event: ProgressEvent) {
        match event {
            ProgressEvent::Phase { phase, total } => self.start(phase, total),
            ProgressEvent::Advance { done, failed, current, per_second, eta, .. } => {
                if let Ok(slot) = self.bar.lock() {
                    if let Some(bar) = slot.as_ref() {
                        bar.set_position(done);
                        let eta = eta.map(|d| format!("{}s", d.as_secs())).unwrap_or_else(|| "-".into());
                        let file = current
                            .as_ref()
                            .and_then(|p| p.file_name())
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        bar.set_message(format!("{per_second:.1} files/s, ETA {eta}, failed {failed} {file}"));
                    }
                }
            }
            ProgressEvent::Failed { path, reason } => {
                let first_line = reason.lines().next().unwrap_or_default().to_string();
                tracing::debug!(path = %path.display(), reason = first_line, "file failed");
            }
            ProgressEvent::Finished { .. } => {
                if let Ok(mut slot) = self.bar.lock() {
                    if let Some(bar) = slot.take() {
                        bar.finish_and_clear();
                    }
                }
            }
        }
    }
}
