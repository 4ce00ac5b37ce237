//! Near-duplicate groups: photos whose whole-photo embeddings are nearly identical
//! (re-encoded, resized or lightly edited copies), linked transitively.

use std::collections::HashMap;

use serde::Serialize;

use crate::catalog::ContentId;
use crate::library::progress::NullSink;
use crate::library::Library;

use super::SearchError;

/// Cosine similarity above which two photos count as near-duplicates by default.
pub const DEFAULT_DUPLICATE_THRESHOLD: f32 = 0.97;

/// One group of near-duplicate photos.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateGroup {
    /// The files, sorted by path.
    pub paths: Vec<String>,
    /// The lowest pairwise similarity that linked the group.
    pub min_similarity: f32,
}

/// Groups photos whose embeddings have cosine similarity ≥ `threshold`. Files with the
/// same content (exact copies) are always in one group.
pub fn find_duplicates(library: &mut Library, threshold: f32) -> Result<Vec<DuplicateGroup>, SearchError> {
    let mut embeddings: Vec<(ContentId, Vec<f32>)> = Vec::new();
    let model_id = library.model().map(|m| m.model_id().to_string()).unwrap_or_default();
    library.catalog().for_each_content_embedding(&model_id, |id, vector| embeddings.push((id, vector.to_vec())))?;
    let derived = library.derived(&NullSink)?;

    let mut parent: HashMap<ContentId, ContentId> = embeddings.iter().map(|(id, _)| (*id, *id)).collect();
    let mut weakest: HashMap<(ContentId, ContentId), f32> = HashMap::new();
    for (id, vector) in &embeddings {
        let hits = derived.photos.search(vector, 16)?;
        for (key, similarity) in hits {
            let other = ContentId(key as i64);
            if other != *id && similarity >= threshold {
                let (a, b) = (find(&mut parent, *id), find(&mut parent, other));
                if a != b {
                    parent.insert(a, b);
                }
                weakest.insert((*id.min(&other), *id.max(&other)), similarity);
            }
        }
    }

    let mut groups: HashMap<ContentId, Vec<ContentId>> = HashMap::new();
    let ids: Vec<ContentId> = parent.keys().copied().collect();
    for id in ids {
        let root = find(&mut parent, id);
        groups.entry(root).or_default().push(id);
    }

    let catalog = library.catalog();
    let mut result = Vec::new();
    for members in groups.into_values() {
        let rows = catalog.photos_for_contents(&members)?;
        if rows.len() < 2 {
            continue;
        }
        let member_set: std::collections::HashSet<ContentId> = members.iter().copied().collect();
        let min_similarity = weakest
            .iter()
            .filter(|((a, b), _)| member_set.contains(a) && member_set.contains(b))
            .map(|(_, s)| *s)
            .fold(1.0f32, f32::min);
        let mut paths: Vec<String> = rows.into_iter().map(|r| r.path).collect();
        paths.sort();
        result.push(DuplicateGroup { paths, min_similarity });
    }
    result.sort_by(|a, b| a.paths.cmp(&b.paths));
    Ok(result)
}

fn find(parent: &mut HashMap<ContentId, ContentId>, id: ContentId) -> ContentId {
    let mut root = id;
    while let Some(&next) = parent.get(&root) {
        if next == root {
            break;
        }
        root = next;
    }
    let mut current = id;
    while current != root {
        let next = parent[&current];
        parent.insert(current, root);
        current = next;
    }
    root
}
