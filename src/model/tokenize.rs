//! Tokenisation for the text encoder. The reference lowercases the text, encodes it
//! without the tokenizer's own special tokens, keeps at most `L − 1` tokens, appends EOS
//! and right-pads with the pad id to exactly `L` (64 for the short and box walks, 196
//! for the long walk). No attention mask exists: the model pools the last position.
//!
//! Ids are built here rather than by the tokenizer's post-processor, because the Gemma
//! `tokenizer.json` stores a post-processor that adds BOS and no EOS.

use std::path::{Path, PathBuf};

use tokenizers::Tokenizer;

use super::ModelError;

/// Which text head an embedding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WalkType {
    /// Short captions and queries against whole photos (64 tokens).
    Short,
    /// Region phrases against region features (64 tokens).
    Box,
    /// Long descriptions against whole photos (196 tokens).
    Long,
}

impl WalkType {
    /// The walk's name as the manifest and the CLI spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            WalkType::Short => "short",
            WalkType::Box => "box",
            WalkType::Long => "long",
        }
    }
}

impl std::str::FromStr for WalkType {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "short" => Ok(WalkType::Short),
            "box" => Ok(WalkType::Box),
            "long" => Ok(WalkType::Long),
            other => Err(format!("unknown walk type `{other}`; expected short, box or long")),
        }
    }
}

/// The unknown token of Gemma's vocabulary and of the toy model's.
const UNKNOWN_TOKEN: &str = "<unk>";

/// The parts of a text that the tokenizer mapped to its unknown token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnknownWords {
    /// The unknown pieces, in order and without repeats.
    pub pieces: Vec<String>,
    /// Whether the text has tokens and every one is the unknown token, so the model
    /// reads nothing of it.
    pub all: bool,
}

/// Token ids for one text at one walk's fixed length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedText {
    /// Exactly `L` ids: content, EOS, then padding.
    pub ids: Vec<i64>,
    /// The walk these ids are for.
    pub walk: WalkType,
    /// Content tokens before truncation, not counting EOS.
    pub num_content_tokens: usize,
    /// Whether content tokens were dropped to fit `L − 1`.
    pub truncated: bool,
}

/// The bundle's tokenizer with the id layout rules of the text encoder.
#[derive(Debug, Clone)]
pub struct TextTokenizer {
    tokenizer: Tokenizer,
    path: PathBuf,
    lowercase: bool,
    pad_id: i64,
    eos_id: i64,
    unk_id: Option<i64>,
    short_len: usize,
    long_len: usize,
}

impl TextTokenizer {
    /// Loads `tokenizer.json` and the layout settings.
    pub fn from_file(
        path: &Path,
        lowercase: bool,
        pad_id: i64,
        eos_id: i64,
        short_len: usize,
        long_len: usize,
    ) -> Result<Self, ModelError> {
        let tokenizer = Tokenizer::from_file(path)
            .map_err(|e| ModelError::Tokenizer { path: path.to_path_buf(), reason: e.to_string() })?;
        let unk_id = tokenizer.token_to_id(UNKNOWN_TOKEN).map(i64::from);
        Ok(TextTokenizer { tokenizer, path: path.to_path_buf(), lowercase, pad_id, eos_id, unk_id, short_len, long_len })
    }

    /// Sequence length of a walk.
    pub fn walk_len(&self, walk: WalkType) -> usize {
        match walk {
            WalkType::Short | WalkType::Box => self.short_len,
            WalkType::Long => self.long_len,
        }
    }

    /// Encodes the (lowercased) text without special tokens.
    pub fn content_ids(&self, text: &str) -> Result<Vec<i64>, ModelError> {
        let normalized = if self.lowercase { text.to_lowercase() } else { text.to_string() };
        let encoding = self
            .tokenizer
            .encode(normalized, false)
            .map_err(|e| ModelError::Tokenizer { path: self.path.clone(), reason: e.to_string() })?;
        Ok(encoding.get_ids().iter().map(|&id| i64::from(id)).collect())
    }

    /// Finds the pieces of the (lowercased) text that became the unknown token, in order
    /// and without repeats, with one tokenisation. Gemma's byte fallback rarely produces
    /// the unknown token, but word-level vocabularies such as the toy model's produce it
    /// for every word outside them, emoji included.
    pub fn unknown_words(&self, text: &str) -> Result<UnknownWords, ModelError> {
        let mut found = UnknownWords::default();
        let Some(unk) = self.unk_id else { return Ok(found) };
        let normalized = if self.lowercase { text.to_lowercase() } else { text.to_string() };
        let encoding = self
            .tokenizer
            .encode(normalized.as_str(), false)
            .map_err(|e| ModelError::Tokenizer { path: self.path.clone(), reason: e.to_string() })?;
        let ids = encoding.get_ids();
        found.all = !ids.is_empty() && ids.iter().all(|&id| i64::from(id) == unk);
        for (&id, &(start, end)) in ids.iter().zip(encoding.get_offsets()) {
            if i64::from(id) != unk {
                continue;
            }
            let Some(piece) = normalized.get(start..end).map(str::trim).filter(|p| !p.is_empty()) else { continue };
            if !found.pieces.iter().any(|p| p == piece) {
                found.pieces.push(piece.to_string());
            }
        }
        Ok(found)
    }

    /// Picks the walk for a query against photos: short when the text and EOS fit the
    /// short length, long otherwise.
    pub fn choose_photo_walk(&self, text: &str) -> Result<WalkType, ModelError> {
        let count = self.content_ids(text)?.len();
        Ok(if count < self.short_len { WalkType::Short } else { WalkType::Long })
    }

    /// Tokenizes a text for a walk. Rejects text that is empty after trimming.
    pub fn tokenize(&self, text: &str, walk: WalkType) -> Result<TokenizedText, ModelError> {
        if text.trim().is_empty() {
            return Err(ModelError::EmptyText);
        }
        let content = self.content_ids(text)?;
        Ok(self.layout(content, walk))
    }

    /// Lays content ids out as `[content.., EOS, pad..]` of the walk's exact length.
    pub fn layout(&self, mut content: Vec<i64>, walk: WalkType) -> TokenizedText {
        let len = self.walk_len(walk);
        let num_content_tokens = content.len();
        let truncated = num_content_tokens > len - 1;
        content.truncate(len - 1);
        content.push(self.eos_id);
        content.resize(len, self.pad_id);
        TokenizedText { ids: content, walk, num_content_tokens, truncated }
    }
}
