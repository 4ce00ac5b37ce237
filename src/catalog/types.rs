//! Row ids, the records the catalog returns, and the operations a write batch carries.

use std::fmt;
use std::path::PathBuf;

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

row_id!(
    /// Id of a watched folder.
    FolderId
);
row_id!(
    /// Id of a file row (one path on disk).
    FileId
);
row_id!(
    /// Id of a content: one distinct file body, shared by every path with the same bytes.
    /// Never reused after deletion, so derived indexes can key on it.
    ContentId
);
row_id!(
    /// Id of a region of a content. Never reused after deletion, so derived indexes can
    /// key on it.
    RegionId
);

/// Whether a folder is being indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FolderState {
    /// Watched and scanned.
    Active,
    /// Known but unreachable, such as an unplugged drive; its files are kept.
    Offline,
    /// Removed by the user; its file rows are gone and re-adding it reactivates the row.
    Removed,
}

impl FolderState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FolderState::Active => "active",
            FolderState::Offline => "offline",
            FolderState::Removed => "removed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<FolderState> {
        match text {
            "active" => Some(FolderState::Active),
            "offline" => Some(FolderState::Offline),
            "removed" => Some(FolderState::Removed),
            _ => None,
        }
    }
}

/// How a region was proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegionSource {
    /// A segment of the dense feature map.
    Segment,
    /// A window of a fixed grid.
    Grid,
    /// An object detector's box.
    Detector,
    /// The whole photo.
    Whole,
}

impl RegionSource {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RegionSource::Segment => "segment",
            RegionSource::Grid => "grid",
            RegionSource::Detector => "detector",
            RegionSource::Whole => "whole",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<RegionSource> {
        match text {
            "segment" => Some(RegionSource::Segment),
            "grid" => Some(RegionSource::Grid),
            "detector" => Some(RegionSource::Detector),
            "whole" => Some(RegionSource::Whole),
            _ => None,
        }
    }
}

/// A region's box in upright pixels of the photo (EXIF orientation applied):
/// `x0 <= x1`, `y0 <= y1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionBox {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
}

/// What the catalog stores about a photo besides its pixels and vectors. Every field is
/// optional because formats and cameras record different subsets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhotoMetadata {
    /// Width in upright pixels.
    pub width: Option<u32>,
    /// Height in upright pixels.
    pub height: Option<u32>,
    /// Image format, such as `jpeg`.
    pub format: Option<String>,
    /// Capture time as written by the camera, such as `2024-05-01T09:30:00`.
    pub taken_at: Option<String>,
    /// Camera maker.
    pub camera_make: Option<String>,
    /// Camera model.
    pub camera_model: Option<String>,
    /// Lens model.
    pub lens_model: Option<String>,
    /// Latitude in degrees, north positive.
    pub gps_lat: Option<f64>,
    /// Longitude in degrees, east positive.
    pub gps_lon: Option<f64>,
}

/// A watched folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Folder {
    /// Row id.
    pub id: FolderId,
    /// Absolute path as added.
    pub path: PathBuf,
    /// Indexing state.
    pub state: FolderState,
    /// When the folder was first added, in seconds since the Unix epoch.
    pub added_at: i64,
}

/// One path on disk and the content it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRecord {
    /// Row id; kept when the file is moved with [`CatalogOp::MoveFile`].
    pub id: FileId,
    /// The folder the file is in.
    pub folder_id: FolderId,
    /// Absolute path.
    pub path: String,
    /// Size in bytes when last catalogued.
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch when last catalogued.
    pub mtime_ns: i64,
    /// The [`sampled_hash`](super::sampled_hash) of the file, when the caller computed it.
    pub sample_hash: Option<String>,
    /// The content the file holds.
    pub content_id: ContentId,
    /// When the row was last written, in seconds since the Unix epoch.
    pub seen_at: i64,
}

/// One distinct file body, without its vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentRecord {
    /// Row id.
    pub id: ContentId,
    /// BLAKE3 of the file bytes, 64 lowercase hex digits.
    pub hash: String,
    /// Photo metadata.
    pub metadata: PhotoMetadata,
    /// The model whose embedding is stored, or `None` when the content needs embedding.
    pub model_id: Option<String>,
    /// When the embedding was written, in seconds since the Unix epoch.
    pub embedded_at: Option<i64>,
}

/// A recorded failure to ingest a path.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureRecord {
    /// The path that failed.
    pub path: String,
    /// File size in bytes at the last attempt.
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch at the last attempt.
    pub mtime_ns: i64,
    /// Why it failed, for display.
    pub reason: String,
    /// Whether retrying the unchanged file is pointless (an undecodable file, say).
    pub permanent: bool,
    /// Attempts since the file last changed size or mtime.
    pub attempts: u32,
    /// When the last attempt failed, in seconds since the Unix epoch.
    pub last_attempt_at: i64,
}

impl FailureRecord {
    /// Returns whether a file with this size and mtime should be skipped: the failure is
    /// permanent and the file has not changed since.
    pub fn is_permanent_for(&self, size: u64, mtime_ns: i64) -> bool {
        self.permanent && self.size == size && self.mtime_ns == mtime_ns
    }
}

/// A photo as search results and the keyword index show it: one file row joined with
/// its content. A content at two paths gives two rows.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoRow {
    /// The file row.
    pub file_id: FileId,
    /// The file's folder.
    pub folder_id: FolderId,
    /// Absolute path.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// The content.
    pub content_id: ContentId,
    /// The content's BLAKE3 hash.
    pub hash: String,
    /// Photo metadata.
    pub metadata: PhotoMetadata,
}

/// A region without its embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionRow {
    /// Row id.
    pub id: RegionId,
    /// The content the region is in.
    pub content_id: ContentId,
    /// The box in upright pixels.
    pub region_box: RegionBox,
    /// How the region was proposed.
    pub source: RegionSource,
    /// The proposer's score.
    pub score: f32,
}

/// A region with its embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionEmbedding {
    /// The region.
    pub region: RegionRow,
    /// The embedding, in the content's model space.
    pub embedding: Vec<f32>,
}

/// A stored content embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEmbedding {
    /// The embedding space.
    pub model_id: String,
    /// The vector.
    pub vector: Vec<f32>,
}

/// A content that has no embedding yet, with one of its files to decode.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingContent {
    /// The content.
    pub content_id: ContentId,
    /// The content's BLAKE3 hash.
    pub hash: String,
    /// The path of one of its files (the lowest file id).
    pub path: String,
}

/// Row counts for status displays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogStats {
    /// Folders in any state.
    pub folders: u64,
    /// File rows.
    pub files: u64,
    /// Distinct contents.
    pub contents: u64,
    /// Regions.
    pub regions: u64,
    /// Contents with no embedding.
    pub pending: u64,
    /// Recorded failures.
    pub failures: u64,
    /// Recorded failures marked permanent.
    pub permanent_failures: u64,
}

/// Refers to a content in a write batch: by id, or by hash when the content is inserted
/// in the same batch and its id is not known yet.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentRef {
    /// An existing content id.
    Id(ContentId),
    /// A BLAKE3 hash, resolved when the operation runs.
    Hash(String),
}

impl fmt::Display for ContentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContentRef::Id(id) => write!(f, "#{id}"),
            ContentRef::Hash(hash) => f.write_str(hash),
        }
    }
}

/// A content to insert or update.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContent {
    /// BLAKE3 of the file bytes, 64 lowercase hex digits.
    pub hash: String,
    /// Photo metadata; replaces what is stored.
    pub metadata: PhotoMetadata,
    /// The embedding and regions, or `None` to leave the content pending (new content)
    /// or keep its stored embedding and regions (existing content).
    pub embedding: Option<NewEmbedding>,
}

/// A content embedding with the content's regions, all in one model's space.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEmbedding {
    /// The embedding space; must be the catalog's active model.
    pub model_id: String,
    /// The whole-photo vector.
    pub vector: Vec<f32>,
    /// The regions; they replace every stored region of the content.
    pub regions: Vec<NewRegion>,
}

/// A region to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRegion {
    /// The box in upright pixels.
    pub region_box: RegionBox,
    /// How the region was proposed.
    pub source: RegionSource,
    /// The proposer's score.
    pub score: f32,
    /// The region vector, with the content embedding's dimension.
    pub embedding: Vec<f32>,
}

/// A file row to insert, or to update when the path is already catalogued.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFile {
    /// The folder the file is in.
    pub folder_id: FolderId,
    /// Absolute path.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// The [`sampled_hash`](super::sampled_hash) of the file, if computed.
    pub sample_hash: Option<String>,
    /// The content the file holds.
    pub content: ContentRef,
}

/// A failed ingest attempt to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFailure {
    /// The path that failed.
    pub path: String,
    /// File size in bytes at the attempt.
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch at the attempt.
    pub mtime_ns: i64,
    /// Why it failed, for display.
    pub reason: String,
    /// Whether retrying the unchanged file is pointless.
    pub permanent: bool,
}

/// One change in a write batch. A batch runs its operations in order in one
/// transaction, so a later operation sees what an earlier one wrote.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogOp {
    /// Inserts a content, or updates the content with this hash: the metadata is
    /// replaced, and the embedding and regions are replaced when given.
    UpsertContent(NewContent),
    /// Replaces the embedding and regions of an existing content, keeping its metadata.
    SetEmbedding {
        /// The content.
        content: ContentRef,
        /// The new embedding and regions.
        embedding: NewEmbedding,
    },
    /// Inserts a file row or updates the row with this path. Clears any failure
    /// recorded for the path.
    UpsertFile(NewFile),
    /// Moves a file row to a new path, keeping its id and content. A row already at
    /// `to` is replaced. Fails when no row has the path `from`.
    MoveFile {
        /// The current path.
        from: String,
        /// The new path.
        to: String,
        /// The folder of the new path.
        folder_id: FolderId,
    },
    /// Deletes the file row and any failure recorded for the path; a path with neither
    /// is not an error. The content stays until [`collect_orphans`](super::Catalog::collect_orphans).
    RemoveFile {
        /// The path.
        path: String,
    },
    /// Records a failed attempt. Attempts are counted while the file's size and mtime
    /// stay the same, and restart at 1 when either changes.
    RecordFailure(NewFailure),
    /// Deletes the failure recorded for a path, if any.
    ClearFailure {
        /// The path.
        path: String,
    },
}

/// What a committed batch changed, so derived indexes can be updated from exactly what
/// was committed. Every list is sorted and free of duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// The catalog generation after the batch.
    pub generation: u64,
    /// Contents inserted.
    pub contents_inserted: Vec<ContentId>,
    /// Contents whose embedding was written; their vectors must be added or replaced.
    pub contents_embedded: Vec<ContentId>,
    /// Contents whose metadata or set of file paths changed, including inserted ones.
    pub contents_changed: Vec<ContentId>,
    /// Regions inserted.
    pub regions_inserted: Vec<RegionId>,
    /// Regions deleted because their content got new regions.
    pub regions_deleted: Vec<RegionId>,
    /// File rows inserted, updated or moved.
    pub files_upserted: Vec<FileId>,
    /// File rows deleted.
    pub files_removed: Vec<FileId>,
}
