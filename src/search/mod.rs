//! Search: text and image queries against the library. Candidates come from the vector
//! indexes (nearest photos, nearest regions) and from the keyword index. Each candidate
//! photo is then rescored exactly from the catalog's vectors, fused (see [`fusion`]) and
//! filtered. A photo found only through its regions is scored by the best of the
//! nearest regions, and any other candidate by the best of all its regions. So a search
//! does not read every region of every candidate. The text walk is chosen by length:
//! short for queries that fit 64 tokens, long otherwise, and the box walk is used against
//! regions. A long query's best region is shown but does not count in the ranking.

pub mod duplicates;
pub mod fusion;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::{ContentId, FileId, PhotoRow, RegionId};
use crate::library::progress::NullSink;
use crate::library::{Library, LibraryError};
use crate::model::{l2_normalize, WalkType};
use fusion::{fuse, normalize_keyword_score, FusionWeights, DEFAULT_WEAK_BELOW};

/// Errors a search can end with.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Neither text nor an example photo was given.
    #[error("The query is empty. Type what you remember, such as \"a red circle\" or \"海边的日落\".\n查询为空。请输入你记得的内容，例如“红色的圆形”或“海边的日落”。")]
    EmptyQuery,
    /// The example photo does not exist.
    #[error("There is no file at {0}; give the path of a photo to search by.\n{0} 不存在；请给出用来搜索的照片路径。")]
    ExampleMissing(PathBuf),
    /// The example photo could not be read.
    #[error("Cannot use {path} as an example photo.\n无法将 {path} 用作示例照片。\n{reason}")]
    BadExample {
        /// The file.
        path: PathBuf,
        /// Why, in English and then in Chinese.
        reason: String,
    },
    /// A date filter is not a date.
    #[error("Invalid date `{0}`; use YYYY, YYYY-MM or YYYY-MM-DD.\n日期 `{0}` 无效；请使用 YYYY、YYYY-MM 或 YYYY-MM-DD。")]
    BadDate(String),
    /// The date range ends before it starts.
    #[error("The date range is empty: --after {after} is later than --before {before}. Swap the two dates.\n日期范围为空：--after {after} 晚于 --before {before}。请交换这两个日期。")]
    EmptyDateRange {
        /// The start as given.
        after: String,
        /// The end as given.
        before: String,
    },
    /// The folder filter is neither a library folder nor inside or above one.
    #[error("{0} is not in the library, so no photo can match. `xunying status` lists the library's folders.\n{0} 不在图库中，因此没有照片可以匹配。`xunying status` 会列出图库中的文件夹。")]
    FolderNotInLibrary(PathBuf),
    /// The library failed.
    #[error(transparent)]
    Library(#[from] LibraryError),
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    /// The model failed.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// A vector index failed.
    #[error(transparent)]
    Vectors(#[from] crate::vectors::VectorError),
    /// The keyword index failed.
    #[error(transparent)]
    Keywords(#[from] crate::keywords::KeywordError),
}

/// Filters applied to every result.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Only photos under this folder.
    pub folder: Option<PathBuf>,
    /// Only photos taken (else modified) on or after this date, `YYYY[-MM[-DD]]`.
    pub after: Option<String>,
    /// Only photos taken (else modified) on or before this date, `YYYY[-MM[-DD]]`.
    pub before: Option<String>,
    /// Only photos whose camera make, model or lens contains this text (case-insensitive).
    pub camera: Option<String>,
    /// Only these file extensions (lowercase, without the dot).
    pub types: Vec<String>,
}

impl Filters {
    fn is_empty(&self) -> bool {
        self.folder.is_none() && self.after.is_none() && self.before.is_none() && self.camera.is_none() && self.types.is_empty()
    }
}

/// A search request.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// Query text as the user typed it.
    pub text: Option<String>,
    /// An example photo, in the library or not.
    pub like: Option<PathBuf>,
    /// Maximum results.
    pub limit: usize,
    /// Filters.
    pub filters: Filters,
    /// Results below this score are dropped; without it weak results are kept and marked.
    pub min_score: Option<f32>,
    /// Fusion weights.
    pub weights: FusionWeights,
    /// Forces a walk instead of choosing by length.
    pub walk: Option<WalkType>,
}

impl SearchRequest {
    /// Creates a text query with default settings.
    pub fn text(text: &str, limit: usize) -> Self {
        SearchRequest {
            text: Some(text.to_string()),
            like: None,
            limit,
            filters: Filters::default(),
            min_score: None,
            weights: FusionWeights::default(),
            walk: None,
        }
    }
}

/// The matched region of a result.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RegionMatch {
    /// `[x0, y0, x1, y1]` in pixels of the upright photo.
    #[serde(rename = "box")]
    pub region_box: [f32; 4],
    /// The region's match probability.
    pub score: f32,
}

/// One result.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    /// The photo file.
    pub path: String,
    /// The fused score, 0–1.
    pub score: f32,
    /// The whole-photo match probability.
    pub photo_score: f32,
    /// The best region, when regions contributed.
    pub region: Option<RegionMatch>,
    /// Width of the upright photo in pixels.
    pub width: Option<u32>,
    /// Height of the upright photo in pixels.
    pub height: Option<u32>,
    /// When the photo was taken, from EXIF.
    pub taken_at: Option<String>,
    /// Whether the score is below the weak-match threshold.
    pub weak: bool,
    /// The keyword score from names and metadata, when any matched.
    pub keyword_score: Option<f32>,
    /// Catalog id of the file.
    pub file_id: i64,
    /// Catalog id of the content.
    pub content_id: i64,
}

/// Results and how the query was read.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResponse {
    /// Results, best first.
    pub results: Vec<SearchResult>,
    /// The walk used against photos, when there was text.
    pub walk: Option<WalkType>,
    /// Whether the text was longer than the long walk allows and was shortened.
    pub truncated: bool,
    /// Messages for the user, in both languages.
    pub notices: Vec<String>,
}

struct QueryVectors {
    photo: Option<Vec<f32>>,
    region: Option<Vec<f32>>,
    example: Option<Vec<f32>>,
    walk: Option<WalkType>,
    truncated: bool,
    /// Whether every token of the text was the unknown token, so the text was not embedded.
    unknown_words: bool,
    /// Words of the text that became the unknown token while others did not.
    unknown_pieces: Vec<String>,
}

/// Removes control characters, which carry no meaning for the model.
pub fn clean_query(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
}

/// Runs a search.
pub fn search(library: &mut Library, request: &SearchRequest) -> Result<SearchResponse, SearchError> {
    let text = request.text.as_deref().map(clean_query).filter(|t| !t.is_empty());
    if text.is_none() && request.like.is_none() {
        return Err(SearchError::EmptyQuery);
    }
    let (after, before) = (parse_bound(request.filters.after.as_deref(), false)?, parse_bound(request.filters.before.as_deref(), true)?);
    if let (Some(start), Some(end)) = (&after, &before) {
        if start > end {
            return Err(SearchError::EmptyDateRange {
                after: request.filters.after.clone().unwrap_or_default(),
                before: request.filters.before.clone().unwrap_or_default(),
            });
        }
    }
    let folder = match &request.filters.folder {
        Some(folder) => Some(check_folder_in_library(library, folder)?),
        None => None,
    };
    let queries = query_vectors(library, text.as_deref(), request)?;
    let mut notices = Vec::new();
    if queries.unknown_words {
        notices.push(
            "The model recognises none of the words in this query, so photos were not matched by what they show; only file and folder names were searched. Try describing the photo in words.\n模型无法识别这个查询里的任何词，因此没有按照片内容匹配，只搜索了文件名和文件夹名。请试着用文字描述照片。"
                .to_string(),
        );
    }
    if !queries.unknown_pieces.is_empty() {
        let pieces = queries.unknown_pieces.join(", ");
        notices.push(format!(
            "The model does not know these words, so they add nothing to the match: {pieces}.\n模型不认识这些词，它们不会影响匹配：{pieces}。"
        ));
    }
    if queries.truncated {
        notices.push(
            "The model reads at most 196 tokens and the query is longer, so only its first 196 tokens were used.\n模型最多读取 196 个词元，查询超出这一长度，只使用了开头的 196 个词元。"
                .to_string(),
        );
    }

    let limit = request.limit.max(1);
    let mut candidates = gather_candidates(library, &queries, text.as_deref(), limit)?;
    let model = library.model().ok_or(LibraryError::NoModel)?;
    let catalog = library.catalog();

    let content_ids: Vec<ContentId> = candidates.contents.iter().copied().collect();
    let rows = catalog.photos_for_contents(&content_ids)?;
    let mut files_by_content: HashMap<ContentId, Vec<PhotoRow>> = HashMap::new();
    for row in rows {
        if passes(&row, &request.filters, folder.as_deref(), after.as_deref(), before.as_deref()) {
            files_by_content.entry(row.content_id).or_default().push(row);
        }
    }

    // Rescoring reads the stored vectors of every candidate that passed the filters, in
    // a few queries for the whole set rather than a few per photo.
    let filtered: Vec<ContentId> = files_by_content.keys().copied().collect();
    let model_id = model.model_id();
    let mut photo_cos: HashMap<ContentId, f32> = HashMap::new();
    let mut example_cos: HashMap<ContentId, f32> = HashMap::new();
    if queries.photo.is_some() || queries.example.is_some() {
        catalog.visit_content_embeddings(model_id, &filtered, |content, vector| {
            if let Some(q) = &queries.photo {
                photo_cos.insert(content, dot(q, vector));
            }
            if let Some(q) = &queries.example {
                example_cos.insert(content, dot(q, vector));
            }
        })?;
    }
    let best_region = std::mem::take(&mut candidates.best_region);

    // A query on the long walk describes the whole photo. The box walk reads only its
    // first 64 tokens and learned from phrases that name one region, so for such a query
    // the best region is shown with its score but does not raise the photo's.
    let regions_rank = queries.walk != Some(WalkType::Long);
    let mut results = Vec::new();
    for (content, files) in files_by_content {
        let photo_cos = photo_cos.get(&content).copied();
        let example_cos = example_cos.get(&content).copied();
        let region = best_region.get(&content).map(|best| (best.region_box, best.cos));
        let keyword = files.iter().filter_map(|f| candidates.keywords.get(&f.file_id).copied()).fold(None, |best: Option<f32>, k| {
            Some(best.map_or(k, |b| b.max(k)))
        });

        let photo_score = photo_cos.map(|c| model.probability(c));
        let region_match = region.map(|(b, cos)| RegionMatch { region_box: b, score: model.probability(cos) });
        let fused_region = region_match.as_ref().filter(|_| regions_rank).map(|r| r.score);
        let text_score = photo_score.map(|p| fuse(p, fused_region, keyword, request.weights));
        let score = match (text_score, example_cos) {
            (Some(t), Some(e)) => 0.5 * (t + e.clamp(0.0, 1.0)),
            (Some(t), None) => t,
            (None, Some(e)) => e.clamp(0.0, 1.0),
            (None, None) => keyword.map(|k| request.weights.keyword * k).unwrap_or(0.0),
        };
        // Copies of one photo share a result, which shows the copy whose name or folder
        // matched the words best, else the first path.
        let keyword_of = |f: &PhotoRow| candidates.keywords.get(&f.file_id).copied().unwrap_or(f32::NEG_INFINITY);
        let file = files.iter().fold(&files[0], |best, f| if keyword_of(f) > keyword_of(best) { f } else { best });
        results.push(SearchResult {
            path: file.path.clone(),
            score,
            photo_score: photo_score.or(example_cos.map(|e| e.clamp(0.0, 1.0))).unwrap_or(0.0),
            region: region_match.filter(|_| queries.photo.is_some()),
            width: file.metadata.width,
            height: file.metadata.height,
            taken_at: file.metadata.taken_at.clone(),
            weak: score < DEFAULT_WEAK_BELOW,
            keyword_score: keyword,
            file_id: file.file_id.0,
            content_id: content.0,
        });
    }

    results.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.path.cmp(&b.path)));
    if let Some(min) = request.min_score {
        results.retain(|r| r.score >= min);
    }
    results.truncate(limit);
    if results.is_empty() && library.catalog().stats()?.files == 0 {
        notices.push(
            "The library has no photos yet. Add a folder with `xunying index FOLDER` or on the Library screen.\n图库里还没有照片。请用 `xunying index 文件夹` 或在“图库”页面添加文件夹。"
                .to_string(),
        );
    }
    Ok(SearchResponse { results, walk: queries.walk, truncated: queries.truncated, notices })
}

fn query_vectors(library: &mut Library, text: Option<&str>, request: &SearchRequest) -> Result<QueryVectors, SearchError> {
    let model = library.model().ok_or(LibraryError::NoModel)?;
    let mut vectors = QueryVectors { photo: None, region: None, example: None, walk: None, truncated: false, unknown_words: false, unknown_pieces: Vec::new() };
    if let Some(text) = text {
        let unknown = model.tokenizer().unknown_words(text)?;
        vectors.unknown_words = unknown.all;
        if !unknown.all {
            vectors.unknown_pieces = unknown.pieces;
        }
    }
    if let Some(text) = text.filter(|_| !vectors.unknown_words) {
        let walk = match request.walk {
            Some(walk) => walk,
            None => model.tokenizer().choose_photo_walk(text)?,
        };
        let photo = model.embed_texts(&[text], walk)?.remove(0);
        vectors.truncated = photo.truncated && walk == WalkType::Long;
        vectors.walk = Some(walk);
        vectors.photo = Some(photo.embedding);
        vectors.region = Some(model.embed_texts(&[text], WalkType::Box)?.remove(0).embedding);
    }
    if let Some(path) = &request.like {
        vectors.example = Some(example_embedding(library, path)?);
    }
    Ok(vectors)
}

/// The pooled embedding of an example photo: from the catalog when the file is in the
/// library with a current embedding, else decoded and embedded now.
fn example_embedding(library: &Library, path: &Path) -> Result<Vec<f32>, SearchError> {
    let model = library.model().ok_or(LibraryError::NoModel)?;
    let bad = |reason: String| SearchError::BadExample { path: path.to_path_buf(), reason };
    let text = path.canonicalize().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| path.to_string_lossy().into_owned());
    if let Some(file) = library.catalog().file_by_path(&text)? {
        if let Some(stored) = library.catalog().content_embedding(file.content_id)? {
            if stored.model_id == model.model_id() {
                return Ok(stored.vector);
            }
        }
    }
    if path.is_dir() {
        return Err(bad("It is a folder; give the path of one photo.\n这是一个文件夹；请给出一张照片的路径。".to_string()));
    }
    let bytes = std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => SearchError::ExampleMissing(path.to_path_buf()),
        _ => bad(crate::imaging::ImagingError::Io { path: path.to_path_buf(), source }.to_string()),
    })?;
    let needed = |full_size| model.preprocessor().min_decode_size(full_size);
    let decoded = crate::imaging::decode_file_bytes_reduced(&bytes, path, &library.options().decode_limits, &needed)
        .map_err(|e| bad(e.to_string()))?;
    let prepared = model.prepare_as(&decoded.rgb, decoded.full_size)?;
    let mut embedding = model.embed_images(std::slice::from_ref(&prepared), false)?.remove(0).embedding;
    l2_normalize(&mut embedding);
    Ok(embedding)
}

struct Candidates {
    contents: HashSet<ContentId>,
    /// The best region per content, scored at full precision: among all its regions for
    /// a content found by its own vector or by keywords, else among the nearest regions.
    best_region: HashMap<ContentId, BestRegion>,
    /// Normalised keyword score per file.
    keywords: HashMap<FileId, f32>,
}

/// The best region of a photo for a query: id, box in upright pixels, cosine.
#[derive(Debug, Clone, Copy)]
struct BestRegion {
    id: RegionId,
    region_box: [f32; 4],
    cos: f32,
}

impl BestRegion {
    /// Keeps the higher cosine, and of equal ones the region with the higher id.
    fn keep_best(best: &mut HashMap<ContentId, BestRegion>, content: ContentId, candidate: BestRegion) {
        best.entry(content)
            .and_modify(|current| {
                if candidate.cos > current.cos || (candidate.cos == current.cos && candidate.id > current.id) {
                    *current = candidate;
                }
            })
            .or_insert(candidate);
    }

    fn of(region: &crate::catalog::RegionRow, cos: f32) -> BestRegion {
        let b = region.region_box;
        BestRegion { id: region.id, region_box: [b.x0, b.y0, b.x1, b.y1], cos }
    }
}

/// Below this many vectors an exact scan is as fast as the graph and has perfect recall.
const EXACT_BELOW: usize = 20_000;
/// The BM25 score that counts as a half-strength keyword match.
const KEYWORD_HALF_SCORE: f32 = 4.0;

/// Collects the candidate photos and the best region of each. The region index is
/// walked on a thread of its own while this thread walks the photo index, searches the
/// keywords and reads every region of the photos found so far, which is most of a
/// search's catalog reads. The nearest regions are read by id once the walk ends.
fn gather_candidates(library: &mut Library, queries: &QueryVectors, text: Option<&str>, limit: usize) -> Result<Candidates, SearchError> {
    let model_id = library.model().ok_or(LibraryError::NoModel)?.model_id().to_string();
    let (derived, catalog) = library.derived_with_catalog(&NullSink)?;
    // Asking an index for more neighbours than it holds only allocates room for them.
    let photo_k = limit.saturating_mul(4).max(100).min(derived.photos.len().max(1));
    let region_k = limit.saturating_mul(8).max(200).min(derived.regions.len().max(1));

    std::thread::scope(|scope| {
        let region_walk = queries.region.as_deref().map(|query| {
            let regions = &derived.regions;
            scope.spawn(move || if regions.len() < EXACT_BELOW { regions.exact_search(query, region_k) } else { regions.search(query, region_k) })
        });

        let mut contents = HashSet::new();
        for query in [&queries.photo, &queries.example].into_iter().flatten() {
            let photos = &derived.photos;
            let hits = if photos.len() < EXACT_BELOW { photos.exact_search(query, photo_k)? } else { photos.search(query, photo_k)? };
            contents.extend(hits.into_iter().map(|(key, _)| ContentId(key as i64)));
        }
        let keyword_hits = match text {
            Some(text) => derived.keywords.search(text, 200)?,
            None => Vec::new(),
        };
        let mut keywords = HashMap::new();
        let file_ids: Vec<FileId> = keyword_hits.iter().map(|(id, _)| FileId(*id as i64)).collect();
        let scores: HashMap<i64, f32> = keyword_hits.iter().map(|(id, s)| (*id as i64, *s)).collect();
        for row in catalog.photos_for_files(&file_ids)? {
            let score = normalize_keyword_score(scores.get(&row.file_id.0).copied().unwrap_or(0.0), KEYWORD_HALF_SCORE);
            keywords.insert(row.file_id, score);
            contents.insert(row.content_id);
        }

        // A photo found by its own vector or by keywords may match through any of its
        // regions, so all of them are read. A photo found only through its nearest
        // regions keeps the best of those.
        let mut best_region = HashMap::new();
        if let Some(query) = &queries.region {
            let found: Vec<ContentId> = contents.iter().copied().collect();
            catalog.visit_region_embeddings(&model_id, &found, |region, vector| {
                BestRegion::keep_best(&mut best_region, region.content_id, BestRegion::of(region, dot(query, vector)));
            })?;
        }
        if let (Some(walk), Some(query)) = (region_walk, &queries.region) {
            let hits = walk.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            let found_by_photo = contents.clone();
            let region_keys: Vec<RegionId> = hits.into_iter().map(|(key, _)| RegionId(key as i64)).collect();
            catalog.visit_regions_by_id(&model_id, &region_keys, |region, vector| {
                if !found_by_photo.contains(&region.content_id) {
                    contents.insert(region.content_id);
                    BestRegion::keep_best(&mut best_region, region.content_id, BestRegion::of(region, dot(query, vector)));
                }
            })?;
        }
        Ok(Candidates { contents, best_region, keywords })
    })
}

/// Accepts a folder filter that is a library folder, lies inside one, or contains one,
/// and returns it canonicalised. Offline folders count, because their photos stay
/// searchable.
fn check_folder_in_library(library: &Library, folder: &Path) -> Result<PathBuf, SearchError> {
    let folder = folder.canonicalize().unwrap_or_else(|_| folder.to_path_buf());
    let known = library
        .catalog()
        .folders()?
        .into_iter()
        .filter(|f| f.state != crate::catalog::FolderState::Removed)
        .any(|f| folder.starts_with(&f.path) || f.path.starts_with(&folder));
    if known { Ok(folder) } else { Err(SearchError::FolderNotInLibrary(folder)) }
}

/// Applies the filters to one photo. `folder` is the canonical folder filter, resolved
/// once per search.
fn passes(row: &PhotoRow, filters: &Filters, folder: Option<&Path>, after: Option<&str>, before: Option<&str>) -> bool {
    if filters.is_empty() {
        return true;
    }
    if let Some(folder) = folder {
        if !Path::new(&row.path).starts_with(folder) {
            return false;
        }
    }
    if !filters.types.is_empty() {
        let ext = Path::new(&row.path).extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
        let ext = if ext == "jpeg" { "jpg".to_string() } else { ext };
        if !filters.types.iter().any(|t| {
            let t = t.trim_start_matches('.').to_lowercase();
            t == ext || (t == "jpeg" && ext == "jpg")
        }) {
            return false;
        }
    }
    if let Some(camera) = &filters.camera {
        let needle = camera.to_lowercase();
        let m = &row.metadata;
        let haystack = [&m.camera_make, &m.camera_model, &m.lens_model]
            .into_iter()
            .flatten()
            .map(|s| s.to_lowercase())
            .collect::<Vec<_>>()
            .join(" ");
        if !haystack.contains(&needle) {
            return false;
        }
    }
    if after.is_some() || before.is_some() {
        let date = photo_date(row);
        if after.is_some_and(|a| date.as_str() < a) || before.is_some_and(|b| date.as_str() > b) {
            return false;
        }
    }
    true
}

/// The photo's date as `YYYY-MM-DD`: the EXIF capture date, else the file's
/// modification date (UTC).
pub fn photo_date(row: &PhotoRow) -> String {
    if let Some(taken) = row.metadata.taken_at.as_deref().filter(|t| t.len() >= 10) {
        return taken[..10].replace(':', "-");
    }
    let days = row.mtime_ns.div_euclid(86_400_000_000_000);
    civil_from_days(days)
}

/// Formats days since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD` into a comparable `YYYY-MM-DD` bound; an
/// upper bound of a year or month extends to its last day.
fn parse_bound(value: Option<&str>, upper: bool) -> Result<Option<String>, SearchError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    let parts: Vec<&str> = value.split(['-', '/', '.']).collect();
    let number = |s: &str, max: u32| s.parse::<u32>().ok().filter(|n| (1..=max).contains(n));
    let bad = || SearchError::BadDate(value.to_string());
    let year = parts.first().and_then(|y| y.parse::<u32>().ok()).filter(|y| (1000..=9999).contains(y)).ok_or_else(bad)?;
    let month = match parts.get(1) {
        Some(m) => Some(number(m, 12).ok_or_else(bad)?),
        None => None,
    };
    let day = match (parts.get(2), month) {
        (Some(d), Some(m)) => Some(number(d, days_in_month(year, m)).ok_or_else(bad)?),
        _ => None,
    };
    if parts.len() > 3 {
        return Err(bad());
    }
    let (month, day) = match (month, day, upper) {
        (Some(m), Some(d), _) => (m, d),
        (Some(m), None, false) => (m, 1),
        (Some(m), None, true) => (m, 31),
        (None, _, false) => (1, 1),
        (None, _, true) => (12, 31),
    };
    Ok(Some(format!("{year:04}-{month:02}-{day:02}")))
}

/// Days in a month of the proleptic Gregorian calendar.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_bounds_parse() {
        assert_eq!(parse_bound(Some("2023"), false).unwrap().unwrap(), "2023-01-01");
        assert_eq!(parse_bound(Some("2023"), true).unwrap().unwrap(), "2023-12-31");
        assert_eq!(parse_bound(Some("2023-07"), true).unwrap().unwrap(), "2023-07-31");
        assert_eq!(parse_bound(Some("2023-07-14"), false).unwrap().unwrap(), "2023-07-14");
        assert!(parse_bound(Some("yesterday"), false).is_err());
        assert!(parse_bound(Some("2023-13"), false).is_err());
        assert!(parse_bound(Some("2023-02-30"), false).is_err(), "February has no 30th");
        assert!(parse_bound(Some("2023-02-29"), true).is_err(), "2023 is not a leap year");
        assert!(parse_bound(Some("2023-04-31"), false).is_err(), "April has 30 days");
        assert_eq!(parse_bound(Some("2024-02-29"), false).unwrap().unwrap(), "2024-02-29", "2024 is a leap year");
        assert!(parse_bound(Some("1900-02-29"), false).is_err(), "1900 is not a leap year");
        assert_eq!(parse_bound(Some("2000-02-29"), false).unwrap().unwrap(), "2000-02-29", "2000 is a leap year");
        assert!(parse_bound(None, false).unwrap().is_none());
    }

    #[test]
    fn days_convert_to_dates() {
        assert_eq!(civil_from_days(0), "1970-01-01");
        assert_eq!(civil_from_days(19_552), "2023-07-14");
    }

    #[test]
    fn control_characters_are_removed() {
        assert_eq!(clean_query("red\u{0}\u{7} circle\n"), "red   circle");
        assert_eq!(clean_query("\u{1b}\t "), "");
    }
}
