//! Conversions between the API's wire types and the library's own types.

use std::path::{Path, PathBuf};

use super::error::ApiError;
use super::service::{DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT};
use super::types::{PhotoDetail, RegionBox, SearchHit, SearchQuery};
use crate::catalog::{self, PhotoRow};
use crate::search::{Filters, SearchRequest, SearchResult};

/// Builds the library's search request; `like` is the example photo's file.
pub(super) fn search_request(query: &SearchQuery, like: Option<PathBuf>) -> Result<SearchRequest, ApiError> {
    let limit = match query.limit {
        0 => DEFAULT_SEARCH_LIMIT,
        n if n > MAX_SEARCH_LIMIT => {
            return Err(ApiError::InvalidInput(format!("limit {n} is above {MAX_SEARCH_LIMIT} / 结果数 {n} 超过 {MAX_SEARCH_LIMIT}")));
        }
        n => n,
    };
    if let Some(min) = query.min_score {
        if !(0.0..=1.0).contains(&min) {
            return Err(ApiError::InvalidInput(format!("min_score {min} is outside 0–1 / min_score {min} 不在 0–1 之间")));
        }
    }
    let filters = &query.filters;
    let types: Vec<String> =
        filters.types.iter().map(|t| t.trim().trim_start_matches('.').to_lowercase()).filter(|t| !t.is_empty()).collect();
    if let Some(unknown) = types.iter().find(|t| !crate::imaging::SUPPORTED_EXTENSIONS.contains(&t.as_str())) {
        let known = crate::imaging::SUPPORTED_EXTENSIONS.join(", ");
        return Err(ApiError::InvalidInput(format!(
            "`{unknown}` is not a photo type Xunying indexes; use one of: {known}\n`{unknown}` 不是寻影索引的照片类型；可用：{known}"
        )));
    }
    let non_empty = |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let mut request = SearchRequest::text("", limit as usize);
    request.text = non_empty(&query.text);
    request.like = like;
    request.min_score = query.min_score;
    request.filters = Filters {
        folder: non_empty(&filters.folder).map(PathBuf::from),
        after: non_empty(&filters.after),
        before: non_empty(&filters.before),
        camera: non_empty(&filters.camera),
        types,
    };
    Ok(request)
}

pub(super) fn hit_from_result(result: &SearchResult) -> SearchHit {
    SearchHit {
        photo_id: result.file_id,
        name: file_name(&result.path),
        path: result.path.clone(),
        score: result.score,
        photo_score: result.photo_score,
        weak: result.weak,
        region: result.region.as_ref().map(|r| {
            let [x0, y0, x1, y1] = r.region_box;
            RegionBox { x0, y0, x1, y1, score: Some(r.score) }
        }),
        width: result.width,
        height: result.height,
        taken_at: result.taken_at.clone(),
    }
}

pub(super) fn detail_from_row(row: &PhotoRow, folder: Option<String>, regions: impl Iterator<Item = catalog::RegionBox>) -> PhotoDetail {
    let metadata = &row.metadata;
    PhotoDetail {
        photo_id: row.file_id.0,
        path: row.path.clone(),
        name: file_name(&row.path),
        folder,
        size_bytes: row.size,
        width: metadata.width,
        height: metadata.height,
        format: metadata.format.clone(),
        taken_at: metadata.taken_at.clone(),
        modified_ms: row.mtime_ns.div_euclid(1_000_000),
        camera_make: metadata.camera_make.clone(),
        camera_model: metadata.camera_model.clone(),
        lens_model: metadata.lens_model.clone(),
        regions: regions.map(|b| RegionBox { x0: b.x0, y0: b.y0, x1: b.x1, y1: b.y1, score: None }).collect(),
    }
}

fn file_name(path: &str) -> String {
    Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::SearchFilters;

    #[test]
    fn request_trims_filters() {
        let query = SearchQuery {
            text: Some("  red circle ".into()),
            filters: SearchFilters { folder: Some(" ".into()), types: vec![".PNG".into(), " ".into()], ..SearchFilters::default() },
            ..SearchQuery::default()
        };
        let request = search_request(&query, None).unwrap();
        assert_eq!(request.text.as_deref(), Some("red circle"));
        assert_eq!(request.filters.folder, None);
        assert_eq!(request.filters.types, vec!["png".to_string()]);
        assert_eq!(request.limit, DEFAULT_SEARCH_LIMIT as usize);
    }

    #[test]
    fn request_rejects_bad_limits() {
        let too_many = SearchQuery { limit: MAX_SEARCH_LIMIT + 1, ..SearchQuery::default() };
        assert!(matches!(search_request(&too_many, None), Err(ApiError::InvalidInput(_))));
        let bad_score = SearchQuery { min_score: Some(1.5), ..SearchQuery::default() };
        assert!(matches!(search_request(&bad_score, None), Err(ApiError::InvalidInput(_))));
        let mut bad_type = SearchQuery::default();
        bad_type.filters.types = vec!["xyz".into()];
        assert!(matches!(search_request(&bad_type, None), Err(ApiError::InvalidInput(_))));
        bad_type.filters.types = vec![".JPG".into()];
        assert_eq!(search_request(&bad_type, None).unwrap().filters.types, ["jpg"]);
    }
}
