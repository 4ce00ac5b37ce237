//! The model bundle: a folder with `manifest.json`, the ONNX graphs, `tokenizer.json`
//! and little-endian f32 side tables. The manifest carries every number the host needs,
//! so the same Rust code runs the toy model and every FG-CLIP 2 variant.
//!
//! Loading validates the manifest and the presence and size of every file it lists, and
//! names the file and field that is wrong. Checksums are checked only on request
//! ([`Bundle::verify_checksums`]), since hashing a gigabyte at every start is too slow.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ModelError;

/// The `format` value of a manifest.
pub const FORMAT_NAME: &str = "xunying-model-bundle";
/// The newest manifest format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// Manifest format version.
    pub format_version: u32,
    /// Model family, such as `fg-clip2` or `xunying-toy`.
    pub family: String,
    /// Variant within the family, such as `base`.
    pub variant: String,
    /// Identity of the embedding space; vectors with different ids are never compared.
    pub model_id: String,
    /// Weight precision of the graphs (`fp32` or `fp16`); inputs and outputs are f32.
    pub precision: String,
    /// Width of every embedding.
    pub embed_dim: usize,
    /// Log of the similarity scale.
    pub logit_scale: f32,
    /// Bias added to the scaled similarity.
    pub logit_bias: f32,
    /// Vision side.
    pub vision: VisionManifest,
    /// Text side.
    pub text: TextManifest,
    /// Every file of the bundle except the manifest, with size and SHA-256.
    pub files: BTreeMap<String, FileEntry>,
}

/// Size and checksum of one bundle file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    /// Size in bytes.
    pub bytes: u64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
}

/// The vision graphs and preprocessing settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisionManifest {
    /// Vision encoder graph file.
    pub graph: String,
    /// Dense-feature head graph file.
    pub dense_graph: String,
    /// Patch side in pixels.
    pub patch_size: u32,
    /// Allowed patch budgets, ascending.
    pub patch_budgets: Vec<usize>,
    /// Per-channel mean after scaling to [0, 1].
    pub image_mean: Vec<f32>,
    /// Per-channel standard deviation.
    pub image_std: Vec<f32>,
    /// The learned position grid.
    pub position_grid: PositionGridFile,
    /// Vision graph input names.
    pub inputs: VisionInputs,
    /// Vision graph output names.
    pub outputs: VisionOutputs,
    /// Dense graph input names.
    pub dense_inputs: DenseInputs,
    /// Dense graph output names.
    pub dense_outputs: DenseOutputs,
}

/// A `[side, side, D]` f32 table file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PositionGridFile {
    /// File name in the bundle.
    pub file: String,
    /// Rows and columns of the grid.
    pub side: usize,
}

/// Input names of `vision.onnx`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisionInputs {
    /// `[B, M, 3·p·p]` f32.
    pub pixel_values: String,
    /// `[B, M]` i64.
    pub pixel_attention_mask: String,
    /// `[B, M, D]` f32.
    pub position_embeddings: String,
}

/// Output names of `vision.onnx`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisionOutputs {
    /// `[B, D]` pooled embedding.
    pub image_embeds: String,
    /// `[B, M, D]` encoder output.
    pub last_hidden_state: String,
}

/// Input names of `dense.onnx`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DenseInputs {
    /// `[B, M, D]` encoder output.
    pub last_hidden_state: String,
    /// `[B, M]` i64.
    pub pixel_attention_mask: String,
}

/// Output names of `dense.onnx`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DenseOutputs {
    /// `[B, M, D]` per-patch features.
    pub dense_features: String,
}

/// The text graph, tokenizer and sequence layout.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TextManifest {
    /// Text graph file.
    pub graph: String,
    /// `tokenizer.json` file.
    pub tokenizer: String,
    /// Whether text is lowercased before tokenisation.
    pub lowercase: bool,
    /// Padding id.
    pub pad_id: i64,
    /// End-of-sequence id.
    pub eos_id: i64,
    /// Sequence length of the short and box walks.
    pub short_len: usize,
    /// Sequence length of the long walk.
    pub long_len: usize,
    /// Position table files.
    pub position_tables: TextPositionTables,
    /// Text graph input names.
    pub inputs: TextInputs,
    /// Text graph output names, one per walk.
    pub outputs: TextOutputs,
}

/// `[L, D]` f32 position tables of the text walks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TextPositionTables {
    /// Table for the short and box walks, `[short_len, D]`.
    pub short: String,
    /// Table for the long walk, `[long_len, D]`.
    pub long: String,
}

/// Input names of `text.onnx`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TextInputs {
    /// `[B, L]` i64.
    pub input_ids: String,
    /// `[L, D]` f32.
    pub position_embeddings: String,
}

/// Output names of `text.onnx`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TextOutputs {
    /// Short-walk embedding `[B, D]`.
    pub short: String,
    /// Box-walk embedding `[B, D]`.
    pub r#box: String,
    /// Long-walk embedding `[B, D]`.
    pub long: String,
}

/// A loaded and validated bundle folder.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The bundle folder.
    pub dir: PathBuf,
    /// The parsed manifest.
    pub manifest: Manifest,
}

impl Bundle {
    /// Reads and validates `dir/manifest.json` and checks that every listed file exists
    /// with its recorded size.
    pub fn load(dir: &Path) -> Result<Bundle, ModelError> {
        let manifest_path = dir.join("manifest.json");
        let text = fs::read_to_string(&manifest_path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ModelError::NotABundle { dir: dir.to_path_buf() }
            } else {
                ModelError::Io { path: manifest_path.clone(), source }
            }
        })?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| ModelError::ManifestParse { path: manifest_path.clone(), reason: e.to_string() })?;
        let bundle = Bundle { dir: dir.to_path_buf(), manifest };
        bundle.validate(&manifest_path)?;
        Ok(bundle)
    }

    /// Path of a file inside the bundle.
    pub fn path_of(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Total size of the bundle's files in bytes, as the manifest records it.
    pub fn total_bytes(&self) -> u64 {
        self.manifest.files.values().map(|f| f.bytes).sum()
    }

    /// Reads a little-endian f32 table of exactly `len` values.
    pub fn read_f32_table(&self, file: &str, len: usize) -> Result<Vec<f32>, ModelError> {
        let path = self.path_of(file);
        let bytes = fs::read(&path).map_err(|source| ModelError::Io { path: path.clone(), source })?;
        if bytes.len() != len * 4 {
            return Err(ModelError::FileSize { path, expected_bytes: (len * 4) as u64, actual_bytes: bytes.len() as u64 });
        }
        Ok(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// Hashes every listed file and compares it with the manifest.
    pub fn verify_checksums(&self) -> Result<(), ModelError> {
        for (name, entry) in &self.manifest.files {
            let path = self.path_of(name);
            let digest = sha256_file(&path)?;
            if !digest.eq_ignore_ascii_case(&entry.sha256) {
                return Err(ModelError::Checksum { path });
            }
        }
        Ok(())
    }

    fn validate(&self, manifest_path: &Path) -> Result<(), ModelError> {
        let m = &self.manifest;
        let bad = |field: &str, reason: String| ModelError::field(manifest_path, field, reason);

        if m.format != FORMAT_NAME {
            return Err(bad("format", format!("is `{}`; expected `{FORMAT_NAME}`", m.format)));
        }
        if m.format_version == 0 || m.format_version > FORMAT_VERSION {
            return Err(bad(
                "format_version",
                format!("is {}; this build reads version {FORMAT_VERSION}, so update Xunying", m.format_version),
            ));
        }
        if m.model_id.trim().is_empty() {
            return Err(bad("model_id", "is empty".into()));
        }
        if m.embed_dim == 0 {
            return Err(bad("embed_dim", "must be positive".into()));
        }
        if !m.logit_scale.is_finite() || !m.logit_bias.is_finite() {
            return Err(bad("logit_scale", "and `logit_bias` must be finite numbers".into()));
        }
        self.validate_vision(manifest_path)?;
        self.validate_text(manifest_path)?;
        self.validate_files(manifest_path)
    }

    fn validate_vision(&self, manifest_path: &Path) -> Result<(), ModelError> {
        let v = &self.manifest.vision;
        let bad = |field: &str, reason: &str| ModelError::field(manifest_path, field, reason);
        if v.patch_size == 0 {
            return Err(bad("vision.patch_size", "must be positive"));
        }
        if v.patch_budgets.is_empty() || v.patch_budgets.contains(&0) {
            return Err(bad("vision.patch_budgets", "must list at least one positive budget"));
        }
        if v.patch_budgets.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("vision.patch_budgets", "must be strictly ascending"));
        }
        if v.image_mean.len() != 3 {
            return Err(bad("vision.image_mean", "must have 3 values (R, G, B)"));
        }
        if v.image_std.len() != 3 || v.image_std.iter().any(|&s| !(s > 0.0)) {
            return Err(bad("vision.image_std", "must have 3 positive values (R, G, B)"));
        }
        if v.position_grid.side == 0 {
            return Err(bad("vision.position_grid.side", "must be positive"));
        }
        for (field, file) in [
            ("vision.graph", &v.graph),
            ("vision.dense_graph", &v.dense_graph),
            ("vision.position_grid.file", &v.position_grid.file),
        ] {
            self.require_listed(manifest_path, field, file)?;
        }
        let expected = (v.position_grid.side * v.position_grid.side * self.manifest.embed_dim * 4) as u64;
        self.require_size(manifest_path, "vision.position_grid", &v.position_grid.file, expected)
    }

    fn validate_text(&self, manifest_path: &Path) -> Result<(), ModelError> {
        let t = &self.manifest.text;
        let bad = |field: &str, reason: &str| ModelError::field(manifest_path, field, reason);
        if t.short_len < 2 {
            return Err(bad("text.short_len", "must be at least 2 (one token and EOS)"));
        }
        if t.long_len < t.short_len {
            return Err(bad("text.long_len", "must not be shorter than `text.short_len`"));
        }
        for (field, file) in [
            ("text.graph", &t.graph),
            ("text.tokenizer", &t.tokenizer),
            ("text.position_tables.short", &t.position_tables.short),
            ("text.position_tables.long", &t.position_tables.long),
        ] {
            self.require_listed(manifest_path, field, file)?;
        }
        let dim = self.manifest.embed_dim;
        self.require_size(manifest_path, "text.position_tables.short", &t.position_tables.short, (t.short_len * dim * 4) as u64)?;
        self.require_size(manifest_path, "text.position_tables.long", &t.position_tables.long, (t.long_len * dim * 4) as u64)
    }

    fn validate_files(&self, manifest_path: &Path) -> Result<(), ModelError> {
        for (name, entry) in &self.manifest.files {
            if name.contains("..") || Path::new(name).is_absolute() {
                return Err(ModelError::field(manifest_path, &format!("files.{name}"), "must be a plain file name inside the bundle"));
            }
            let path = self.path_of(name);
            let actual_bytes = match fs::metadata(&path) {
                Ok(meta) => meta.len(),
                Err(_) => return Err(ModelError::MissingFile { path }),
            };
            if actual_bytes != entry.bytes {
                return Err(ModelError::FileSize { path, expected_bytes: entry.bytes, actual_bytes });
            }
        }
        Ok(())
    }

    fn require_listed(&self, manifest_path: &Path, field: &str, file: &str) -> Result<(), ModelError> {
        if self.manifest.files.contains_key(file) {
            Ok(())
        } else {
            Err(ModelError::field(manifest_path, field, format!("names `{file}`, which is not listed in `files`")))
        }
    }

    fn require_size(&self, manifest_path: &Path, field: &str, file: &str, expected: u64) -> Result<(), ModelError> {
        let recorded = self.manifest.files.get(file).map(|f| f.bytes).unwrap_or(0);
        if recorded == expected {
            Ok(())
        } else {
            Err(ModelError::field(
                manifest_path,
                field,
                format!("`{file}` has {recorded} bytes; its shape and `embed_dim` call for {expected}"),
            ))
        }
    }
}

/// Returns the lowercase hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut file = fs::File::open(path).map_err(|source| ModelError::Io { path: path.to_path_buf(), source })?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer).map_err(|source| ModelError::Io { path: path.to_path_buf(), source })?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
