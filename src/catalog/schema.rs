//! The schema, its ordered migrations, and the connection settings every open applies.
//!
//! `PRAGMA user_version` is the schema version. `MIGRATIONS[i]` takes a catalog from
//! version `i` to `i + 1` and runs in its own transaction together with the version
//! bump, so an interrupted migration leaves the previous version intact. Released
//! migrations are never edited: a schema change is a new entry at the end.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::error::CatalogError;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// `PRAGMA application_id` of catalog files: "XYNG" in ASCII.
pub(crate) const APPLICATION_ID: i32 = 0x5859_4e47;

/// How long a statement waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Lines of integrity-check output kept in a [`CatalogError::Corrupt`] message.
const MAX_CHECK_LINES: usize = 5;

const MIGRATION_1: &str = "
CREATE TABLE folders (
    id INTEGER PRIMARY KEY,
    path TEXT UNIQUE NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'offline', 'removed')),
    added_at INTEGER NOT NULL
);

CREATE TABLE contents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hash TEXT UNIQUE NOT NULL,
    width INTEGER,
    height INTEGER,
    format TEXT,
    taken_at TEXT,
    camera_make TEXT,
    camera_model TEXT,
    lens_model TEXT,
    gps_lat REAL,
    gps_lon REAL,
    model_id TEXT,
    embedding BLOB,
    embedded_at INTEGER,
    CHECK ((model_id IS NULL) = (embedding IS NULL))
);
CREATE INDEX contents_pending ON contents(id) WHERE model_id IS NULL;

CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    folder_id INTEGER NOT NULL REFERENCES folders(id),
    path TEXT UNIQUE NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sample_hash TEXT,
    content_id INTEGER NOT NULL REFERENCES contents(id),
    seen_at INTEGER NOT NULL
);
CREATE INDEX files_folder ON files(folder_id);
CREATE INDEX files_content ON files(content_id);

CREATE TABLE regions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
    x0 REAL NOT NULL,
    y0 REAL NOT NULL,
    x1 REAL NOT NULL,
    y1 REAL NOT NULL,
    source TEXT NOT NULL,
    score REAL NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX regions_content ON regions(content_id);

CREATE TABLE failures (
    id INTEGER PRIMARY KEY,
    path TEXT UNIQUE NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    reason TEXT NOT NULL,
    permanent INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL
);

CREATE TABLE models (
    model_id TEXT PRIMARY KEY,
    embed_dim INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('generation', '0');
";

/// `MIGRATIONS[i]` migrates version `i` to `i + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [MIGRATION_1];

/// Opens a catalog for writing: creates the file if needed, applies the connection
/// settings, runs pending migrations and a quick integrity check.
///
/// Two processes opening a new catalog at once (a `watch` starting while `status`
/// runs) can get "database is locked" without SQLite's busy handler being consulted,
/// as switching to WAL does. Such an open is retried until [`BUSY_TIMEOUT`].
pub(crate) fn open_writable(path: &Path) -> Result<Connection, CatalogError> {
    retry_while_busy(path, || try_open_writable(path))
}

/// Opens an existing catalog read-only. It must already be at [`SCHEMA_VERSION`],
/// because only a writer may migrate. A locked database is retried as in
/// [`open_writable`].
pub(crate) fn open_read_only(path: &Path) -> Result<Connection, CatalogError> {
    retry_while_busy(path, || try_open_read_only(path))
}

fn retry_while_busy(path: &Path, open: impl Fn() -> Result<Connection, CatalogError>) -> Result<Connection, CatalogError> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match open() {
            Err(error) if is_busy(&error) && std::time::Instant::now() < deadline => {
                tracing::debug!(path = %path.display(), %error, "the catalog is locked by another process; retrying");
                std::thread::sleep(Duration::from_millis(50));
            }
            result => return result,
        }
    }
}

fn is_busy(error: &CatalogError) -> bool {
    let source = match error {
        CatalogError::Database { source, .. } | CatalogError::Migration { source, .. } => source,
        _ => return false,
    };
    matches!(
        source,
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(failure.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn try_open_writable(path: &Path) -> Result<Connection, CatalogError> {
    let conn = Connection::open(path).map_err(|source| database(path, source))?;
    configure(&conn).map_err(|source| database(path, source))?;
    conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get::<_, String>(0))
        .map_err(|source| database(path, source))?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(|source| database(path, source))?;

    check_application(&conn, path)?;
    let found = user_version(&conn).map_err(|source| database(path, source))?;
    if found > SCHEMA_VERSION {
        return Err(CatalogError::SchemaTooNew { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
    }
    migrate(&conn, path, found)?;
    quick_check(&conn, path)?;
    Ok(conn)
}

fn try_open_read_only(path: &Path) -> Result<Connection, CatalogError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|source| database(path, source))?;
    configure(&conn).map_err(|source| database(path, source))?;

    check_application(&conn, path)?;
    let found = user_version(&conn).map_err(|source| database(path, source))?;
    if found > SCHEMA_VERSION {
        return Err(CatalogError::SchemaTooNew { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
    }
    if found < SCHEMA_VERSION {
        return Err(CatalogError::NeedsMigration { path: path.to_path_buf(), found, expected: SCHEMA_VERSION });
    }
    quick_check(&conn, path)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

fn database(path: &Path, source: rusqlite::Error) -> CatalogError {
    CatalogError::Database { path: path.to_path_buf(), source }
}

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Rejects SQLite files of other applications: a foreign application id, or tables in
/// a file that has no id and no schema version.
fn check_application(conn: &Connection, path: &Path) -> Result<(), CatalogError> {
    // One read transaction, so that all three reads see the same state even while
    // another process is creating the catalog.
    let snapshot =
        rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Deferred).map_err(|source| database(path, source))?;
    let checked = check_application_in(&snapshot, path);
    snapshot.commit().map_err(|source| database(path, source))?;
    checked
}

fn check_application_in(conn: &Connection, path: &Path) -> Result<(), CatalogError> {
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(|source| database(path, source))?;
    if application_id == APPLICATION_ID {
        return Ok(());
    }
    let not_a_catalog = CatalogError::NotACatalog { path: path.to_path_buf(), application_id };
    if application_id != 0 {
        return Err(not_a_catalog);
    }

    let version = user_version(conn).map_err(|source| database(path, source))?;
    let num_tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'table'", [], |row| row.get(0))
        .map_err(|source| database(path, source))?;
    if version == 0 && num_tables > 0 {
        return Err(not_a_catalog);
    }
    Ok(())
}

/// Runs the migrations from version `found` up to [`SCHEMA_VERSION`], each in its own
/// immediate transaction that re-reads the version, so two processes opening the same
/// old catalog at once migrate it once.
fn migrate(conn: &Connection, path: &Path, found: u32) -> Result<(), CatalogError> {
    for version in found + 1..=SCHEMA_VERSION {
        migrate_to(conn, version).map_err(|source| CatalogError::Migration {
            path: path.to_path_buf(),
            version,
            source,
        })?;
        tracing::info!(path = %path.display(), version, "migrated the catalog schema");
    }
    Ok(())
}

fn migrate_to(conn: &Connection, version: u32) -> rusqlite::Result<()> {
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    if user_version(&tx)? >= version {
        return Ok(());
    }
    tx.execute_batch(MIGRATIONS[version as usize - 1])?;
    tx.pragma_update(None, "user_version", version)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()
}

/// Runs `PRAGMA quick_check`, which checks the structure of every page but not index
/// contents, in time proportional to the file size.
fn quick_check(conn: &Connection, path: &Path) -> Result<(), CatalogError> {
    let lines = check_lines(conn, "quick_check").map_err(|source| database(path, source))?;
    if lines.len() == 1 && lines[0] == "ok" {
        return Ok(());
    }
    Err(CatalogError::Corrupt { path: path.to_path_buf(), detail: lines.join("; ") })
}

/// Returns the first lines of an integrity pragma's report; `["ok"]` means no damage.
pub(crate) fn check_lines(conn: &Connection, pragma: &str) -> rusqlite::Result<Vec<String>> {
    let mut lines = Vec::new();
    conn.pragma_query(None, pragma, |row| {
        if lines.len() < MAX_CHECK_LINES {
            lines.push(row.get(0)?);
        }
        Ok(())
    })?;
    Ok(lines)
}
