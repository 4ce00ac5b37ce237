//! Comparing what a folder walk found with what the catalog knows, and deciding the
//! work: unchanged files are skipped, moved files keep their content (no inference),
//! files with known content only get a file row, and everything else is embedded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rayon::prelude::*;

use crate::catalog::{
    hash_file, Catalog, CatalogError, CatalogOp, ContentId, ContentRef, FileRecord, FolderId, NewFailure, NewFile,
};

use super::scan::{is_settled, FoundFile};

/// A distinct content to decode and embed, with the file rows to write once it is.
#[derive(Debug, Clone)]
pub struct EmbedJob {
    /// BLAKE3 of the file bytes.
    pub hash: String,
    /// The file to decode.
    pub decode_path: PathBuf,
    /// File rows that point at this content once committed.
    pub files: Vec<NewFile>,
    /// The content row when it exists already and only needs (re-)embedding.
    pub existing: Option<ContentId>,
}

/// The work a scan of one scope calls for.
#[derive(Debug, Default)]
pub struct Plan {
    /// Cheap catalog changes: moves, file rows of known contents, removals, failures.
    pub ops: Vec<CatalogOp>,
    /// Contents to embed.
    pub jobs: Vec<EmbedJob>,
    /// Counts for the summary.
    pub counts: PlanCounts,
    /// Files still being written, left for a later run.
    pub deferred: Vec<PathBuf>,
}

/// What a plan found, for the summary line.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct PlanCounts {
    /// Paths the catalog did not have.
    pub new: u64,
    /// Known paths whose content changed.
    pub changed: u64,
    /// Files that moved or were renamed, keeping their content.
    pub moved: u64,
    /// Files that are gone.
    pub removed: u64,
    /// Files with the same size and modification time as catalogued.
    pub unchanged: u64,
    /// Files skipped because they failed before and have not changed since.
    pub known_failures: u64,
    /// Files still being written, left for a later run.
    pub deferred: u64,
    /// Files that could not be read to hash.
    pub failed: u64,
}

struct Candidate {
    found: FoundFile,
    previous: Option<FileRecord>,
}

/// Plans the work for files found under `scope` in folder `folder_id`. `known` holds the
/// catalog's file rows under the same scope; the rows not found on disk are removals or
/// the old side of moves.
pub fn plan_scope(
    catalog: &Catalog,
    folder_id: FolderId,
    found: Vec<FoundFile>,
    known: Vec<FileRecord>,
    active_model_id: &str,
    settle: Duration,
) -> Result<Plan, CatalogError> {
    let mut plan = Plan::default();
    let mut known_by_path: HashMap<String, FileRecord> = known.into_iter().map(|r| (r.path.clone(), r)).collect();
    let mut candidates = Vec::new();

    for file in found {
        let path = path_string(&file.path);
        let previous = known_by_path.remove(&path);
        if !is_settled(file.mtime_ns, settle) {
            plan.counts.deferred += 1;
            plan.deferred.push(file.path);
            continue;
        }
        match previous {
            Some(record) if record.size == file.size && record.mtime_ns == file.mtime_ns => {
                plan.counts.unchanged += 1;
            }
            Some(record) => candidates.push(Candidate { found: file, previous: Some(record) }),
            None => {
                let failed_before = catalog.failure_for(&path)?.is_some_and(|f| f.is_permanent_for(file.size, file.mtime_ns));
                if failed_before {
                    plan.counts.known_failures += 1;
                } else {
                    candidates.push(Candidate { found: file, previous: None });
                }
            }
        }
    }

    // Hashing reads every candidate file whole, so it runs on all cores.
    let hashed: Vec<(Candidate, std::io::Result<String>)> =
        candidates.into_par_iter().map(|c| {
            let hash = hash_file(&c.found.path);
            (c, hash)
        }).collect();

    let mut missing_by_content: HashMap<ContentId, Vec<FileRecord>> = HashMap::new();
    for record in known_by_path.into_values() {
        missing_by_content.entry(record.content_id).or_default().push(record);
    }
    let mut jobs_by_hash: HashMap<String, usize> = HashMap::new();

    for (candidate, hash) in hashed {
        let path = path_string(&candidate.found.path);
        let hash = match hash {
            Ok(hash) => hash,
            Err(error) => {
                plan.counts.failed += 1;
                plan.ops.push(CatalogOp::RecordFailure(NewFailure {
                    path,
                    size: candidate.found.size,
                    mtime_ns: candidate.found.mtime_ns,
                    reason: format!("Failed to read the file: {error}\n无法读取文件：{error}"),
                    permanent: false,
                }));
                continue;
            }
        };
        let new_file = NewFile {
            folder_id,
            path: path.clone(),
            size: candidate.found.size,
            mtime_ns: candidate.found.mtime_ns,
            sample_hash: None,
            content: ContentRef::Hash(hash.clone()),
        };
        let is_change = candidate.previous.is_some();

        if let Some(&index) = jobs_by_hash.get(&hash) {
            plan.jobs[index].files.push(new_file);
            count_new_or_changed(&mut plan.counts, is_change);
            continue;
        }

        let existing = catalog.content_by_hash(&hash)?;
        match existing {
            Some(content) => {
                let moved_from = missing_by_content.get_mut(&content.id).and_then(|records| records.pop());
                if let Some(from) = moved_from {
                    plan.counts.moved += 1;
                    plan.ops.push(CatalogOp::MoveFile { from: from.path, to: path.clone(), folder_id });
                    plan.ops.push(CatalogOp::UpsertFile(NewFile { content: ContentRef::Id(content.id), ..new_file.clone() }));
                } else if candidate.previous.as_ref().is_some_and(|p| p.content_id == content.id) {
                    // Touched but not changed: only the size or time moved.
                    plan.counts.unchanged += 1;
                    plan.ops.push(CatalogOp::UpsertFile(NewFile { content: ContentRef::Id(content.id), ..new_file.clone() }));
                } else {
                    count_new_or_changed(&mut plan.counts, is_change);
                    plan.ops.push(CatalogOp::UpsertFile(NewFile { content: ContentRef::Id(content.id), ..new_file.clone() }));
                }
                if content.model_id.as_deref() != Some(active_model_id) {
                    jobs_by_hash.insert(hash.clone(), plan.jobs.len());
                    plan.jobs.push(EmbedJob {
                        hash,
                        decode_path: candidate.found.path.clone(),
                        files: Vec::new(),
                        existing: Some(content.id),
                    });
                }
            }
            None => {
                count_new_or_changed(&mut plan.counts, is_change);
                jobs_by_hash.insert(hash.clone(), plan.jobs.len());
                plan.jobs.push(EmbedJob { hash, decode_path: candidate.found.path.clone(), files: vec![new_file], existing: None });
            }
        }
    }

    for record in missing_by_content.into_values().flatten() {
        plan.counts.removed += 1;
        plan.ops.push(CatalogOp::RemoveFile { path: record.path });
    }
    Ok(plan)
}

fn count_new_or_changed(counts: &mut PlanCounts, is_change: bool) {
    if is_change {
        counts.changed += 1;
    } else {
        counts.new += 1;
    }
}

/// The catalog's spelling of a path.
pub fn path_string(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Whether `path` is `scope` or lies below it.
pub fn in_scope(path: &str, scope: &Path) -> bool {
    Path::new(path).starts_with(scope)
}
