//! Resumable HTTP downloads of bundle archives. A download writes into a `.part` file
//! under `models/.downloads/`; a later attempt asks for the rest with an HTTP `Range`
//! request and appends, so an interrupted multi-gigabyte download is not lost.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::install::InstallEvent;
use super::store::DOWNLOADS_DIR;
use super::ModelsError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a download may stall (no byte arriving) before it counts as interrupted.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest model index accepted, in bytes.
const MAX_INDEX_BYTES: u64 = 1 << 20;
const BUFFER_BYTES: usize = 256 * 1024;

/// Whether `text` is an `http://` or `https://` URL.
pub(crate) fn is_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The last path segment of a URL, for messages and partial file names; `bundle.tar.gz`
/// when the URL has none.
pub(crate) fn archive_name_from_url(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    let after_scheme = without_query.split_once("://").map_or(without_query, |(_, rest)| rest);
    match after_scheme.split_once('/') {
        Some((_, path)) => match path.rsplit('/').next() {
            Some(last) if !last.is_empty() => last.to_string(),
            _ => "bundle.tar.gz".to_string(),
        },
        None => "bundle.tar.gz".to_string(),
    }
}

/// The `host[:port]` part of a URL.
fn host_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or(after_scheme);
    authority.rsplit('@').next().unwrap_or(authority).to_string()
}

/// The partial file for `url`: its file name plus a hash of the whole URL, so two
/// sources with the same file name never resume into each other's bytes.
pub(crate) fn part_path(models_dir: &Path, url: &str) -> PathBuf {
    let safe_name: String = archive_name_from_url(url)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    let url_hash: String = Sha256::digest(url.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect();
    models_dir.join(DOWNLOADS_DIR).join(format!("{safe_name}-{url_hash}.part"))
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(READ_TIMEOUT))
        .timeout_per_read(Some(READ_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into()
}

/// Sends a GET request, turning transport failures into [`ModelsError::Unreachable`]
/// and everything else that fails before a response into
/// [`ModelsError::DownloadFailed`].
fn get(url: &str, range_start: u64) -> Result<ureq::http::Response<ureq::Body>, ModelsError> {
    let mut request = agent().get(url);
    if range_start > 0 {
        request = request.header("Range", format!("bytes={range_start}-"));
    }
    request.call().map_err(|error| match error {
        ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
            ModelsError::Unreachable {
                host: host_of(url),
                url: url.to_string(),
                reason: error.to_string(),
                archive_name: archive_name_from_url(url),
            }
        }
        other => ModelsError::DownloadFailed { url: url.to_string(), reason: other.to_string() },
    })
}

/// Downloads a small text file, such as the model index.
pub(crate) fn fetch_text(url: &str) -> Result<String, ModelsError> {
    let response = get(url, 0)?;
    let status = response.status();
    if !status.is_success() {
        return Err(ModelsError::DownloadFailed { url: url.to_string(), reason: format!("HTTP status {status}") });
    }
    response
        .into_body()
        .into_with_config()
        .limit(MAX_INDEX_BYTES)
        .read_to_string()
        .map_err(|e| ModelsError::DownloadFailed { url: url.to_string(), reason: e.to_string() })
}

/// Downloads `url` into `part`, continuing from the bytes already there. Returns once
/// the file is complete; on a broken connection the partial file stays for the next
/// attempt. `expected_bytes`, when known, lets a complete file skip the request.
pub(crate) fn download(
    url: &str,
    part: &Path,
    expected_bytes: Option<u64>,
    progress: &mut dyn FnMut(InstallEvent),
) -> Result<(), ModelsError> {
    let mut offset = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    if let Some(total) = expected_bytes {
        if offset == total {
            tracing::debug!(part = %part.display(), "partial file is already complete");
            return Ok(());
        }
        if offset > total {
            tracing::debug!(part = %part.display(), offset, total, "partial file is longer than the archive; starting over");
            offset = 0;
        }
    }

    let mut response = get(url, offset)?;
    let status = response.status().as_u16();
    match status {
        206 => {
            let start = content_range_start(&response);
            if start != Some(offset) {
                tracing::debug!(?start, offset, "server sent another range than requested; starting over");
                offset = 0;
                response = get(url, 0)?;
                require_success(url, response.status().as_u16())?;
            }
        }
        200 if offset > 0 => {
            tracing::debug!(offset, "server ignored the range request; starting over");
            offset = 0;
        }
        416 if offset > 0 => {
            // Nothing lies past the partial file, so it is taken as complete; the
            // checksums that follow catch a partial file that is in fact stale.
            tracing::debug!(offset, "server has no bytes past the partial file");
            return Ok(());
        }
        _ => require_success(url, status)?,
    }

    let total_bytes = response.body().content_length().map(|n| n + offset).or(expected_bytes);
    if offset > 0 {
        tracing::info!(url, offset, "resuming download");
    } else {
        tracing::info!(url, ?total_bytes, "downloading");
    }
    progress(InstallEvent::DownloadStarted { url: url.to_string(), resumed_from_bytes: offset, total_bytes });

    let reader = response.into_body().into_reader();
    copy_into_part(url, reader, part, offset, total_bytes, progress)?;
    progress(InstallEvent::DownloadFinished);
    Ok(())
}

fn require_success(url: &str, status: u16) -> Result<(), ModelsError> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(ModelsError::DownloadFailed { url: url.to_string(), reason: format!("HTTP status {status}") })
    }
}

/// The first byte position of a `Content-Range: bytes START-END/TOTAL` header.
fn content_range_start(response: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let value = response.headers().get("content-range")?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes")?.trim();
    range.split('-').next()?.trim().parse().ok()
}

fn copy_into_part(
    url: &str,
    mut reader: impl Read,
    part: &Path,
    offset: u64,
    total_bytes: Option<u64>,
    progress: &mut dyn FnMut(InstallEvent),
) -> Result<(), ModelsError> {
    let io_error = |e| ModelsError::io(part, e);
    if let Some(parent) = part.parent() {
        fs::create_dir_all(parent).map_err(|e| ModelsError::io(parent, e))?;
    }
    let mut file = OpenOptions::new().write(true).create(true).truncate(false).open(part).map_err(io_error)?;
    file.set_len(offset).map_err(io_error)?;
    file.seek(SeekFrom::End(0)).map_err(io_error)?;

    let interrupted = |received_bytes: u64, reason: String| ModelsError::DownloadInterrupted {
        url: url.to_string(),
        received_bytes,
        expected_bytes: total_bytes.map_or_else(|| "unknown".to_string(), |n| n.to_string()),
        reason,
        part_path: part.to_path_buf(),
    };
    let mut buffer = vec![0u8; BUFFER_BYTES];
    let mut received_bytes = offset;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                file.flush().map_err(io_error)?;
                tracing::warn!(url, received_bytes, %error, "download interrupted; the partial file is kept");
                return Err(interrupted(received_bytes, error.to_string()));
            }
        };
        file.write_all(&buffer[..read]).map_err(io_error)?;
        received_bytes += read as u64;
        progress(InstallEvent::DownloadProgress { received_bytes });
    }
    file.sync_all().map_err(io_error)?;

    match total_bytes {
        Some(total) if received_bytes < total => Err(interrupted(received_bytes, "the connection closed early".to_string())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_name_comes_from_url_path() {
        assert_eq!(archive_name_from_url("https://example.org/m/fg-clip2-base.tar.gz"), "fg-clip2-base.tar.gz");
        assert_eq!(archive_name_from_url("https://example.org/m/x.zip?token=1#f"), "x.zip");
        assert_eq!(archive_name_from_url("https://example.org/"), "bundle.tar.gz");
        assert_eq!(archive_name_from_url("https://example.org"), "bundle.tar.gz");
    }

    #[test]
    fn host_drops_path_and_credentials() {
        assert_eq!(host_of("http://127.0.0.1:9/a.tar"), "127.0.0.1:9");
        assert_eq!(host_of("https://user:pw@example.org/a"), "example.org");
    }

    #[test]
    fn part_files_differ_per_url() {
        let dir = Path::new("/m");
        let a = part_path(dir, "http://a.example/x/bundle.tar.gz");
        let b = part_path(dir, "http://b.example/x/bundle.tar.gz");
        assert_ne!(a, b);
        assert!(a.starts_with("/m/.downloads"));
        assert!(a.file_name().unwrap().to_str().unwrap().starts_with("bundle.tar.gz-"));
    }
}
