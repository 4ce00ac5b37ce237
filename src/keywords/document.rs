//! The index schema and the mapping from a photo's metadata to a tantivy document.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED,
};
use tantivy::TantivyDocument;

use super::analysis::{CJK_GRAMS_TOKENIZER, DATE_TOKENIZER, WORDS_TOKENIZER};

/// The schema layout version, stored in every commit. Bump it whenever fields or
/// analyzers change meaning; an index with another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 2;

/// The metadata of one photo that keyword search looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordDoc {
    /// The catalog's photo id, returned by searches.
    pub photo_id: u64,
    /// The photo's full path; the file name and folder names are taken from it.
    pub path: String,
    /// Camera make, model and lens, in any form.
    pub camera: Option<String>,
    /// When the photo was taken, ISO 8601 (`2023-07-14`, `2023-07-14T09:30:00`) or
    /// EXIF (`2023:07:14 09:30:00`) form. Other forms are not indexed.
    pub taken_at: Option<String>,
    /// Any other text the user sees for the photo, such as a caption or tags.
    pub text: Option<String>,
}

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub photo_id: Field,
    pub path: Field,
    pub file_name: Field,
    pub folder: Field,
    pub camera: Field,
    pub date: Field,
    pub text: Field,
    /// CJK characters and bigrams of the path, camera and text.
    pub cjk: Field,
}

impl Fields {
    /// Returns the fields searched by text, each with the name of the analyzer that
    /// indexed it.
    pub fn text_fields(&self) -> [(Field, &'static str); 6] {
        [
            (self.path, WORDS_TOKENIZER),
            (self.file_name, WORDS_TOKENIZER),
            (self.folder, WORDS_TOKENIZER),
            (self.camera, WORDS_TOKENIZER),
            (self.text, WORDS_TOKENIZER),
            (self.date, DATE_TOKENIZER),
        ]
    }
}

/// Builds the schema and returns it with its fields.
pub(crate) fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let indexing = |tokenizer: &str| {
        TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(IndexRecordOption::WithFreqs)
    };
    let indexed_text = |tokenizer: &str| TextOptions::default().set_indexing_options(indexing(tokenizer));
    // The date field spells one date in about 25 forms. With BM25's length
    // normalisation a match there would score below one word in a short path, so the
    // field keeps no norms and every date counts as one token long.
    let date = TextOptions::default().set_indexing_options(indexing(DATE_TOKENIZER).set_fieldnorms(false));
    let photo_id: NumericOptions = (INDEXED | FAST | STORED).into();
    let fields = Fields {
        photo_id: builder.add_u64_field("photo_id", photo_id),
        path: builder.add_text_field("path", indexed_text(WORDS_TOKENIZER)),
        file_name: builder.add_text_field("file_name", indexed_text(WORDS_TOKENIZER)),
        folder: builder.add_text_field("folder", indexed_text(WORDS_TOKENIZER)),
        camera: builder.add_text_field("camera", indexed_text(WORDS_TOKENIZER)),
        date: builder.add_text_field("date", date),
        text: builder.add_text_field("text", indexed_text(WORDS_TOKENIZER)),
        cjk: builder.add_text_field("cjk", indexed_text(CJK_GRAMS_TOKENIZER)),
    };
    (builder.build(), fields)
}

impl KeywordDoc {
    pub(crate) fn to_document(&self, fields: &Fields) -> TantivyDocument {
        let mut document = TantivyDocument::default();
        document.add_u64(fields.photo_id, self.photo_id);

        let (folder, file_name) = split_path(&self.path);
        document.add_text(fields.path, &self.path);
        document.add_text(fields.file_name, file_name);
        document.add_text(fields.folder, folder);
        document.add_text(fields.cjk, &self.path);
        if let Some(camera) = &self.camera {
            document.add_text(fields.camera, camera);
            document.add_text(fields.cjk, camera);
        }
        if let Some(text) = &self.text {
            document.add_text(fields.text, text);
            document.add_text(fields.cjk, text);
        }
        if let Some(date) = self.taken_at.as_deref().and_then(date_text) {
            document.add_text(fields.date, date);
        }
        document
    }
}

/// Splits a path at its last `/` or `\` into the folder and the file name.
fn split_path(path: &str) -> (&str, &str) {
    match path.rfind(['/', '\\']) {
        Some(at) => (&path[..at], &path[at + 1..]),
        None => ("", path),
    }
}

const MONTH_NAMES: [&str; 12] = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
];

/// Spells a taken date in the forms people type, separated by spaces: `2023`,
/// `2023-07`, `2023-07-14`, `2023/7/14`, `20230714`, `july`, `jul`, `2023年7月14日`,
/// `7月14日` and so on. Returns `None` when `taken_at` does not start with a date.
pub(crate) fn date_text(taken_at: &str) -> Option<String> {
    let (year, month, day) = parse_date(taken_at)?;
    let mut forms = vec![year.to_string()];
    let Some(month) = month else {
        forms.push(format!("{year}年"));
        return Some(forms.join(" "));
    };

    let month_name = MONTH_NAMES[usize::from(month - 1)];
    forms.extend([
        format!("{year}-{month:02}"),
        format!("{year}/{month:02}"),
        format!("{year}.{month:02}"),
        format!("{year}-{month}"),
        format!("{year}/{month}"),
        format!("{year}{month:02}"),
        format!("{month:02}"),
        month_name.to_string(),
        month_name[..3].to_string(),
        format!("{year}年"),
        format!("{year}年{month}月"),
        format!("{year}年{month:02}月"),
        format!("{month}月"),
    ]);
    if let Some(day) = day {
        forms.extend([
            format!("{year}-{month:02}-{day:02}"),
            format!("{year}/{month:02}/{day:02}"),
            format!("{year}.{month:02}.{day:02}"),
            format!("{year}-{month}-{day}"),
            format!("{year}/{month}/{day}"),
            format!("{year}.{month}.{day}"),
            format!("{year}{month:02}{day:02}"),
            format!("{day:02}"),
            format!("{year}年{month}月{day}日"),
            format!("{year}年{month:02}月{day:02}日"),
            format!("{month}月{day}日"),
            format!("{day}日"),
        ]);
    }
    // Months and days from 10 on spell some forms twice; a repeat would raise the
    // term frequency of those dates only.
    let mut unique: Vec<String> = Vec::with_capacity(forms.len());
    for form in forms {
        if !unique.contains(&form) {
            unique.push(form);
        }
    }
    Some(unique.join(" "))
}

/// Reads `YYYY`, then optionally `-MM` or `:MM`, then `-DD` or `:DD`, from the start
/// of `text`. Anything after the date (a time, a zone) is ignored.
fn parse_date(text: &str) -> Option<(u16, Option<u8>, Option<u8>)> {
    let text = text.trim();
    let year_digits = text.get(..4)?;
    if !year_digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: u16 = year_digits.parse().ok()?;
    let number_after = |at: usize| -> Option<u8> {
        let separator = *text.as_bytes().get(at)?;
        let digits = text.get(at + 1..at + 3)?;
        if !matches!(separator, b'-' | b':') || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    let month = number_after(4).filter(|m| (1..=12).contains(m));
    let day = month.and_then(|_| number_after(7)).filter(|d| (1..=31).contains(d));
    Some((year, month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_text_spells_iso_date() {
        let text = date_text("2023-07-14").unwrap();
        let forms: Vec<&str> = text.split(' ').collect();
        for expected in ["2023", "2023-07", "2023-07-14", "2023年7月", "2023年7月14日", "july", "jul", "7月", "20230714"] {
            assert!(forms.contains(&expected), "{expected} missing from {text}");
        }
    }

    #[test]
    fn date_text_reads_exif_and_times() {
        assert_eq!(date_text("2023:07:14 09:30:00"), date_text("2023-07-14"));
        assert_eq!(date_text("2023-07-14T09:30:00+08:00"), date_text("2023-07-14"));
    }

    #[test]
    fn date_text_of_partial_dates() {
        assert_eq!(date_text("2023").as_deref(), Some("2023 2023年"));
        assert!(date_text("2023-07").unwrap().contains("2023年7月"));
        assert!(!date_text("2023-07").unwrap().contains("日"));
    }

    #[test]
    fn date_text_rejects_non_dates() {
        for text in ["", "yesterday", "23-07-14", "+123-07-14", "２０２３-07-14"] {
            assert_eq!(date_text(text), None, "{text}");
        }
    }

    #[test]
    fn date_text_ignores_invalid_month() {
        assert_eq!(date_text("2023-13-01").as_deref(), Some("2023 2023年"));
    }

    #[test]
    fn date_text_spells_each_form_once() {
        let text = date_text("2023-11-12").unwrap();
        let forms: Vec<&str> = text.split(' ').collect();
        let mut unique = forms.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(forms.len(), unique.len(), "{text}");
    }

    #[test]
    fn split_path_handles_both_separators() {
        assert_eq!(split_path("/photos/2023旅行照片/IMG_0001.jpg"), ("/photos/2023旅行照片", "IMG_0001.jpg"));
        assert_eq!(split_path(r"C:\Users\a\猫.png"), (r"C:\Users\a", "猫.png"));
        assert_eq!(split_path("x.png"), ("", "x.png"));
    }
}
