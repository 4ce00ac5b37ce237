//! [`VectorIndex`]: one usearch HNSW index file with its JSON header.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use usearch::{Index, IndexOptions, MetricKind};

use super::file::{remove_if_present, replace_file};
use super::spec::{header_path, Header, HEADER_FORMAT, HEADER_FORMAT_VERSION};
use super::{IndexSpec, OpenOutcome, RebuildReason, VectorError, VectorKind};

/// Rows gathered before each insertion during a rebuild; progress is reported per batch.
const REBUILD_BATCH_ROWS: usize = 4096;

/// Batches at least this long are inserted from several threads.
const PARALLEL_MIN_ROWS: usize = 64;

/// Largest accepted dimension; embedding models stay far below it, and it keeps a
/// corrupted spec from asking usearch for absurd allocations.
const MAX_DIM: usize = 65_536;

/// Rebuild progress callback: rows inserted so far, and the total when the row
/// iterator knows it exactly.
pub type ProgressFn<'a> = &'a dyn Fn(usize, Option<usize>);

/// An HNSW index of `u64` keys to unit-length embeddings, compared by cosine.
///
/// Searches take `&self` and may run from several threads at once. usearch gives
/// each running search one of its thread slots (at least the machine's core count),
/// and a search that finds none free fails with [`VectorError::Usearch`].
pub struct VectorIndex {
    inner: Index,
    path: PathBuf,
    spec: IndexSpec,
    /// Set for memory-mapped views, which usearch cannot change.
    read_only: bool,
    /// The catalog generation of the last save or of the file opened.
    generation: AtomicU64,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("path", &self.path)
            .field("spec", &self.spec)
            .field("len", &self.len())
            .field("read_only", &self.read_only)
            .field("generation", &self.generation())
            .finish()
    }
}

impl VectorIndex {
    /// Creates an empty index that [`save`](Self::save) will write to `path`. Nothing
    /// is written until then.
    pub fn create(path: impl Into<PathBuf>, spec: &IndexSpec) -> Result<Self, VectorError> {
        validate_spec(spec)?;
        let path = path.into();
        let inner = Index::new(&index_options(spec))
            .map_err(|e| VectorError::usearch(format!("creating an index for {}", path.display()), e))?;
        Ok(VectorIndex { inner, path, spec: spec.clone(), read_only: false, generation: AtomicU64::new(0) })
    }

    /// Opens the index at `path`, loading it into memory, if its header matches
    /// `expected` and `catalog_generation`. A missing, damaged, mismatched or stale file
    /// gives [`OpenOutcome::NeedsRebuild`], logged at info; this never fails otherwise.
    pub fn open(path: &Path, expected: &IndexSpec, catalog_generation: u64) -> OpenOutcome {
        Self::open_with(path, expected, catalog_generation, false)
    }

    /// Opens the index at `path` as a read-only memory map, with the same checks as
    /// [`open`](Self::open).
    ///
    /// A view starts in milliseconds whatever the index size and shares pages with
    /// the OS file cache, which suits search-only processes. It cannot be changed or
    /// saved ([`VectorError::ReadOnly`]), and the first searches are slower while the
    /// pages they touch are read from disk. On Windows a mapped file cannot be
    /// replaced, so a writer's [`save`](Self::save) fails while a view is open.
    pub fn open_view(path: &Path, expected: &IndexSpec, catalog_generation: u64) -> OpenOutcome {
        Self::open_with(path, expected, catalog_generation, true)
    }

    /// Builds a fresh index from `rows` and saves it to `path` for `generation`,
    /// replacing any file there only once the new one is complete.
    ///
    /// Rows that cannot be indexed (wrong length, NaN or infinite values) are skipped
    /// with a warning rather than failing the rebuild, so one bad catalog row does not
    /// leave search without an index. A key given twice keeps its last vector.
    pub fn rebuild(
        path: &Path,
        spec: &IndexSpec,
        rows: impl IntoIterator<Item = (u64, Vec<f32>)>,
        generation: u64,
        progress: ProgressFn<'_>,
    ) -> Result<Self, VectorError> {
        let mut index = Self::create(path, spec)?;
        let rows = rows.into_iter();
        let total = match rows.size_hint() {
            (lower, Some(upper)) if lower == upper => Some(lower),
            _ => None,
        };
        index.reserve(rows.size_hint().0)?;

        let mut batch: Vec<(u64, Vec<f32>)> = Vec::with_capacity(REBUILD_BATCH_ROWS);
        let mut num_done = 0;
        let mut skipped: Vec<u64> = Vec::new();
        for (key, vector) in rows {
            match check_vector(spec, key, &vector) {
                Ok(()) => batch.push((key, vector)),
                Err(_) => skipped.push(key),
            }
            if batch.len() == REBUILD_BATCH_ROWS {
                num_done += index.insert_checked(&batch)?;
                batch.clear();
                progress(num_done, total);
            }
        }
        num_done += index.insert_checked(&batch)?;
        progress(num_done, total);

        if !skipped.is_empty() {
            tracing::warn!(
                path = %path.display(),
                num_skipped = skipped.len(),
                first_keys = ?&skipped[..skipped.len().min(8)],
                "rebuild skipped vectors of the wrong length or with NaN or infinite values"
            );
        }
        index.save(generation)?;
        tracing::info!(path = %path.display(), num_vectors = index.len(), generation, "vector index rebuilt");
        Ok(index)
    }

    /// Adds or replaces vectors. Every vector is checked first, so on an error nothing
    /// was added. A key already present is removed and added again.
    pub fn add_batch(&mut self, items: &[(u64, &[f32])]) -> Result<(), VectorError> {
        self.check_writable()?;
        for (key, vector) in items {
            check_vector(&self.spec, *key, vector)?;
        }
        self.insert_checked(items)?;
        Ok(())
    }

    /// Removes the given keys; absent keys are ignored. Returns how many were removed.
    pub fn remove(&mut self, keys: &[u64]) -> Result<usize, VectorError> {
        self.check_writable()?;
        let mut num_removed = 0;
        for &key in keys {
            num_removed += self
                .inner
                .remove(key)
                .map_err(|e| VectorError::usearch(format!("removing key {key} from {}", self.path.display()), e))?;
        }
        Ok(num_removed)
    }

    /// Returns up to `k` nearest keys by HNSW search, with their cosine similarity
    /// (1 − cosine distance), most similar first.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<(u64, f32)>, VectorError> {
        self.run_search(query, k, "searching", |index, query| match query {
            Query::F32(q) => index.search(q, k),
            Query::I8(q) => index.search(&q[..], k),
        })
    }

    /// Like [`search`](Self::search), but only keys for which `keep` returns true are
    /// returned, for folder and date filters.
    ///
    /// NOTE: the graph walk skips rejected keys but stops after the usual number of
    /// steps, so when `keep` accepts only a tiny share of the index it can return
    /// fewer than `k` keys. For a small known set of keys, search them exactly.
    pub fn search_filtered<F>(&self, query: &[f32], k: usize, keep: F) -> Result<Vec<(u64, f32)>, VectorError>
    where
        F: Fn(u64) -> bool,
    {
        self.run_search(query, k, "searching with a filter", |index, query| match query {
            Query::F32(q) => index.filtered_search(q, k, &keep),
            Query::I8(q) => index.filtered_search(&q[..], k, &keep),
        })
    }

    /// Returns the `k` nearest keys by comparing the query with every stored vector.
    /// It is exact over the stored (quantised) vectors, and takes time linear in the
    /// index size: use it for small libraries and to measure HNSW recall.
    pub fn exact_search(&self, query: &[f32], k: usize) -> Result<Vec<(u64, f32)>, VectorError> {
        self.run_search(query, k, "searching exhaustively", |index, query| match query {
            Query::F32(q) => index.exact_search(q, k),
            Query::I8(q) => index.exact_search(&q[..], k),
        })
    }

    /// Writes the index and then its header, each atomically, recording that it
    /// reflects catalog `generation`. The old header is deleted first, so a crash at
    /// any point leaves either the old pair, the new pair, or a file without a header,
    /// which opens as [`OpenOutcome::NeedsRebuild`].
    pub fn save(&self, generation: u64) -> Result<(), VectorError> {
        self.check_writable()?;
        let header_file = header_path(&self.path);
        remove_if_present(&header_file)?;

        let file_bytes = replace_file(&self.path, |temporary| {
            let temporary = utf8_path(temporary)?;
            self.inner
                .save(temporary)
                .map_err(|e| VectorError::usearch(format!("saving {}", self.path.display()), e))
        })?;

        let header = Header {
            format: HEADER_FORMAT.to_string(),
            format_version: HEADER_FORMAT_VERSION,
            model_id: self.spec.model_id.clone(),
            dim: self.spec.dim,
            kind: self.spec.kind,
            connectivity: self.spec.hnsw.connectivity,
            count: self.len(),
            generation,
            file_bytes,
            usearch_version: usearch::version().to_string(),
        };
        let json = serde_json::to_vec_pretty(&header).map_err(|e| VectorError::io(&header_file, e.into()))?;
        replace_file(&header_file, |temporary| {
            std::fs::write(temporary, &json).map_err(|e| VectorError::io(temporary, e))
        })?;

        self.generation.store(generation, Ordering::Release);
        tracing::debug!(path = %self.path.display(), num_vectors = header.count, file_bytes, generation, "vector index saved");
        Ok(())
    }

    /// Returns the number of vectors in the index (removed ones excluded).
    pub fn len(&self) -> usize {
        self.inner.size()
    }

    /// Returns true when the index holds no vectors.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns true when `key` has a vector in the index.
    pub fn contains(&self, key: u64) -> bool {
        self.inner.contains(key)
    }

    /// Returns usearch's estimate of the memory the index uses, in bytes (vectors,
    /// graph and reserved capacity; usearch states its error is below 10%).
    pub fn memory_usage(&self) -> usize {
        self.inner.memory_usage()
    }

    /// Returns the size the index file will have when saved, in bytes.
    pub fn serialized_bytes(&self) -> usize {
        self.inner.serialized_length()
    }

    /// Returns the spec the index was created or opened with.
    pub fn spec(&self) -> &IndexSpec {
        &self.spec
    }

    /// Returns the index file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the catalog generation of the last save, or of the file opened.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Returns true for an index opened with [`open_view`](Self::open_view).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Sets the search candidate list size for later searches: higher raises recall
    /// and costs time. It is not saved with the file.
    pub fn set_expansion_search(&self, expansion_search: usize) {
        self.inner.change_expansion_search(expansion_search.max(1));
    }

    fn open_with(path: &Path, expected: &IndexSpec, catalog_generation: u64, view: bool) -> OpenOutcome {
        match Self::try_open(path, expected, catalog_generation, view) {
            Ok(index) => {
                tracing::debug!(path = %path.display(), num_vectors = index.len(), view, "vector index opened");
                OpenOutcome::Ready(index)
            }
            Err(reason) => {
                tracing::info!(path = %path.display(), %reason, "vector index needs a rebuild");
                OpenOutcome::NeedsRebuild { reason }
            }
        }
    }

    fn try_open(path: &Path, expected: &IndexSpec, catalog_generation: u64, view: bool) -> Result<Self, RebuildReason> {
        if !path.is_file() {
            return Err(RebuildReason::Missing { path: path.to_path_buf() });
        }
        let header = read_header(&header_path(path))?;
        compare_header(&header, expected)?;
        if header.generation != catalog_generation {
            return Err(RebuildReason::Stale { index_generation: header.generation, catalog_generation });
        }
        check_file(path, &header, expected)?;

        let unreadable = |detail: String| RebuildReason::Unreadable { path: path.to_path_buf(), detail };
        let path_text = path.to_str().ok_or_else(|| unreadable("the path is not valid UTF-8".to_string()))?;
        let inner = Index::new(&index_options(expected)).map_err(|e| unreadable(e.to_string()))?;
        let loaded = if view { inner.view(path_text) } else { inner.load(path_text) };
        loaded.map_err(|e| unreadable(e.to_string()))?;
        if inner.size() != header.count || inner.dimensions() != expected.dim {
            return Err(unreadable(format!(
                "the file holds {} vectors of dimension {}, the header records {} of dimension {}",
                inner.size(),
                inner.dimensions(),
                header.count,
                expected.dim
            )));
        }

        inner.change_expansion_add(expected.hnsw.expansion_add);
        inner.change_expansion_search(expected.hnsw.expansion_search);
        Ok(VectorIndex {
            inner,
            path: path.to_path_buf(),
            spec: expected.clone(),
            read_only: view,
            generation: AtomicU64::new(header.generation),
        })
    }

    /// Inserts vectors that passed [`check_vector`]: removes keys already present,
    /// grows the capacity, then adds, in parallel for long batches. A key given twice
    /// keeps its last vector. Returns the number of distinct keys inserted.
    fn insert_checked<V: AsRef<[f32]> + Sync>(&mut self, items: &[(u64, V)]) -> Result<usize, VectorError> {
        let mut last_of_key = std::collections::HashMap::with_capacity(items.len());
        for (position, (key, _)) in items.iter().enumerate() {
            last_of_key.insert(*key, position);
        }
        let unique: Vec<&(u64, V)> =
            items.iter().enumerate().filter(|(position, (key, _))| last_of_key[key] == *position).map(|(_, item)| item).collect();

        let keys: Vec<u64> = unique.iter().map(|(key, _)| *key).filter(|key| self.inner.contains(*key)).collect();
        self.remove(&keys)?;
        self.reserve(self.len() + unique.len())?;

        let add = |(key, vector): &&(u64, V)| self.add_one(*key, vector.as_ref());
        if unique.len() >= PARALLEL_MIN_ROWS {
            unique.par_iter().try_for_each(add)?;
        } else {
            unique.iter().try_for_each(add)?;
        }
        Ok(unique.len())
    }

    fn add_one(&self, key: u64, vector: &[f32]) -> Result<(), VectorError> {
        let added = match self.spec.kind {
            VectorKind::I8 => self.inner.add(key, &quantize_i8(vector)),
            VectorKind::F16 | VectorKind::F32 => self.inner.add(key, vector),
        };
        added.map_err(|e| VectorError::usearch(format!("adding key {key} to {}", self.path.display()), e))
    }

    /// Grows the capacity to at least `needed` vectors, doubling it when it grows, and
    /// reserves one usearch thread slot per core and per rayon worker.
    fn reserve(&self, needed: usize) -> Result<(), VectorError> {
        let capacity = self.inner.capacity();
        if needed <= capacity && capacity > 0 {
            return Ok(());
        }
        let target = needed.max(capacity.saturating_mul(2)).max(64);
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let threads = cores.max(rayon::current_num_threads());
        self.inner
            .reserve_capacity_and_threads(target, threads)
            .map_err(|e| VectorError::usearch(format!("reserving {target} vectors in {}", self.path.display()), e))
    }

    fn run_search<S, E>(&self, query: &[f32], k: usize, operation: &str, search: S) -> Result<Vec<(u64, f32)>, VectorError>
    where
        S: FnOnce(&Index, Query<'_>) -> Result<usearch::ffi::Matches, E>,
        E: std::fmt::Display,
    {
        if query.len() != self.spec.dim {
            return Err(VectorError::QueryLength { expected_dim: self.spec.dim, actual_len: query.len() });
        }
        if query.iter().any(|x| !x.is_finite()) {
            return Err(VectorError::NonFiniteQuery);
        }
        if k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }

        let query = match self.spec.kind {
            VectorKind::I8 => Query::I8(quantize_i8(query)),
            VectorKind::F16 | VectorKind::F32 => Query::F32(query),
        };
        let matches = search(&self.inner, query)
            .map_err(|e| VectorError::usearch(format!("{operation} {}", self.path.display()), e))?;
        Ok(matches.keys.into_iter().zip(matches.distances).map(|(key, distance)| (key, 1.0 - distance)).collect())
    }

    /// Replaces a view with the same index loaded into memory, so that it can be
    /// changed and saved. A loaded index is left as it is. This costs what
    /// [`open`](Self::open) would have cost, once, at the first change.
    pub fn make_writable(&mut self) -> Result<(), VectorError> {
        if !self.read_only {
            return Ok(());
        }
        let path_text = utf8_path(&self.path)?;
        let loading = |e| VectorError::usearch(format!("loading {}", self.path.display()), e);
        let loaded = Index::new(&index_options(&self.spec)).map_err(loading)?;
        loaded.load(path_text).map_err(loading)?;
        loaded.change_expansion_add(self.spec.hnsw.expansion_add);
        loaded.change_expansion_search(self.inner.expansion_search());
        self.inner = loaded;
        self.read_only = false;
        tracing::debug!(path = %self.path.display(), "vector index loaded for writing");
        Ok(())
    }

    fn check_writable(&self) -> Result<(), VectorError> {
        if self.read_only {
            return Err(VectorError::ReadOnly { path: self.path.clone() });
        }
        Ok(())
    }
}

/// A query in the form the index's scalar kind is searched with.
enum Query<'a> {
    F32(&'a [f32]),
    I8(Vec<i8>),
}

fn validate_spec(spec: &IndexSpec) -> Result<(), VectorError> {
    let invalid = |reason: String| Err(VectorError::InvalidSpec { reason });
    if spec.dim == 0 || spec.dim > MAX_DIM {
        return invalid(format!("dimension {} is outside 1..={MAX_DIM}", spec.dim));
    }
    if spec.hnsw.connectivity < 2 {
        return invalid(format!("connectivity {} is below 2", spec.hnsw.connectivity));
    }
    if spec.hnsw.expansion_add == 0 || spec.hnsw.expansion_search == 0 {
        return invalid("expansion factors must be at least 1".to_string());
    }
    Ok(())
}

fn index_options(spec: &IndexSpec) -> IndexOptions {
    IndexOptions {
        dimensions: spec.dim,
        metric: MetricKind::Cos,
        quantization: spec.kind.scalar_kind(),
        connectivity: spec.hnsw.connectivity,
        expansion_add: spec.hnsw.expansion_add,
        expansion_search: spec.hnsw.expansion_search,
        multi: false,
    }
}

fn check_vector(spec: &IndexSpec, key: u64, vector: &[f32]) -> Result<(), VectorError> {
    if vector.len() != spec.dim {
        return Err(VectorError::WrongLength { key, expected_dim: spec.dim, actual_len: vector.len() });
    }
    if vector.iter().any(|x| !x.is_finite()) {
        return Err(VectorError::NonFinite { key });
    }
    Ok(())
}

/// Quantises a vector to i8 with its largest component at ±127, rounding to nearest.
///
/// Cosine ignores scale, so per-vector scaling loses nothing. usearch's own f32→i8
/// cast (2.26) scales by the vector norm and truncates, which for a 768-dimensional
/// unit vector uses only about ±5 of the ±127 range.
fn quantize_i8(vector: &[f32]) -> Vec<i8> {
    let max_abs = vector.iter().fold(0.0f32, |max, x| max.max(x.abs()));
    if max_abs == 0.0 {
        return vec![0; vector.len()];
    }
    let scale = 127.0 / max_abs;
    vector.iter().map(|x| (x * scale).round().clamp(-127.0, 127.0) as i8).collect()
}

fn read_header(header_file: &Path) -> Result<Header, RebuildReason> {
    let bytes = match std::fs::read(header_file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RebuildReason::Missing { path: header_file.to_path_buf() })
        }
        Err(e) => return Err(RebuildReason::Unreadable { path: header_file.to_path_buf(), detail: e.to_string() }),
    };
    let header: Header = serde_json::from_slice(&bytes)
        .map_err(|e| RebuildReason::Unreadable { path: header_file.to_path_buf(), detail: e.to_string() })?;
    if header.format != HEADER_FORMAT {
        return Err(RebuildReason::Unreadable {
            path: header_file.to_path_buf(),
            detail: format!("`format` is {:?}, not {HEADER_FORMAT:?}", header.format),
        });
    }
    Ok(header)
}

fn compare_header(header: &Header, expected: &IndexSpec) -> Result<(), RebuildReason> {
    let mismatch = |field: &'static str, expected: String, found: String| {
        Err(RebuildReason::Mismatch { field, expected, found })
    };
    if header.format_version != HEADER_FORMAT_VERSION {
        return mismatch("format_version", HEADER_FORMAT_VERSION.to_string(), header.format_version.to_string());
    }
    if header.model_id != expected.model_id {
        return mismatch("model_id", expected.model_id.clone(), header.model_id.clone());
    }
    if header.dim != expected.dim {
        return mismatch("dim", expected.dim.to_string(), header.dim.to_string());
    }
    if header.kind != expected.kind {
        return mismatch("kind", expected.kind.to_string(), header.kind.to_string());
    }
    if header.connectivity != expected.hnsw.connectivity {
        return mismatch("connectivity", expected.hnsw.connectivity.to_string(), header.connectivity.to_string());
    }
    Ok(())
}

/// Checks the file's size against the header and its usearch metadata against the
/// spec, before usearch reads the whole file.
fn check_file(path: &Path, header: &Header, expected: &IndexSpec) -> Result<(), RebuildReason> {
    let unreadable = |detail: String| Err(RebuildReason::Unreadable { path: path.to_path_buf(), detail });
    let file_bytes = match std::fs::metadata(path) {
        Ok(metadata) => metadata.len(),
        Err(e) => return unreadable(e.to_string()),
    };
    if file_bytes != header.file_bytes {
        return unreadable(format!("the file has {file_bytes} bytes, the header records {}", header.file_bytes));
    }

    let Some(path_text) = path.to_str() else {
        return unreadable("the path is not valid UTF-8".to_string());
    };
    let metadata = match Index::metadata(path_text) {
        Ok(metadata) => metadata,
        Err(e) => return unreadable(e.to_string()),
    };
    let matches_spec = metadata.dimensions == expected.dim as u64
        && metadata.metric == MetricKind::Cos
        && metadata.quantization == expected.kind.scalar_kind()
        && !metadata.multi
        && metadata.count_present == header.count as u64;
    if !matches_spec {
        return unreadable(format!(
            "the file's own header ({} dimensions, {} vectors) does not match the JSON header",
            metadata.dimensions, metadata.count_present
        ));
    }
    Ok(())
}

fn utf8_path(path: &Path) -> Result<&str, VectorError> {
    path.to_str().ok_or_else(|| {
        VectorError::io(path, std::io::Error::new(std::io::ErrorKind::InvalidInput, "usearch needs a UTF-8 path"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        dot / (norm(a) * norm(b))
    }

    #[test]
    fn quantize_i8_keeps_direction() {
        // A 768-dimensional vector with a smooth spread of positive and negative values.
        let vector: Vec<f32> = (0..768).map(|i| ((i as f32) * 0.37).sin() * (1.0 + (i % 7) as f32)).collect();
        let quantized: Vec<f32> = quantize_i8(&vector).into_iter().map(f32::from).collect();
        assert!(quantized.iter().any(|&x| x == 127.0 || x == -127.0));
        assert!(cosine(&vector, &quantized) > 0.9999, "{}", cosine(&vector, &quantized));
    }

    #[test]
    fn quantize_i8_of_zero_vector() {
        assert_eq!(quantize_i8(&[0.0; 4]), [0; 4]);
    }

    #[test]
    fn validate_spec_rejects_bad_settings() {
        let good = IndexSpec::new("m", 8);
        assert!(validate_spec(&good).is_ok());
        assert!(validate_spec(&IndexSpec::new("m", 0)).is_err());
        assert!(validate_spec(&IndexSpec::new("m", MAX_DIM + 1)).is_err());
        let mut no_links = good.clone();
        no_links.hnsw.connectivity = 1;
        assert!(validate_spec(&no_links).is_err());
        let mut no_expansion = good;
        no_expansion.hnsw.expansion_search = 0;
        assert!(validate_spec(&no_expansion).is_err());
    }

    #[test]
    fn header_path_appends_json() {
        assert_eq!(header_path(Path::new("/d/photos.usearch")), Path::new("/d/photos.usearch.json"));
    }
}
