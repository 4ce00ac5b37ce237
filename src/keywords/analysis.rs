//! Tokenizers for photo metadata in Chinese and other languages.
//!
//! Text is first cut into runs of Han characters, runs of other letters and digits,
//! and separators (spaces, punctuation, path separators, `_`, `-`, `.`). Han runs go
//! through jieba in search mode, which also emits the shorter words inside a long
//! one; other runs become one token each. Because jieba's cut of a run depends on its
//! neighbours, CJK text is also indexed as single characters and character bigrams in
//! a separate field, so "旅行" finds "2023旅行照片" however jieba cuts the folder name.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, TextAnalyzer, Token, TokenStream, Tokenizer, WhitespaceTokenizer,
};
use tantivy_jieba::JiebaTokenizer;

/// Name of the analyzer for names, paths, camera and free text.
pub(crate) const WORDS_TOKENIZER: &str = "xunying_words";
/// Name of the analyzer for the date field, which keeps forms like "2023年7月" whole.
pub(crate) const DATE_TOKENIZER: &str = "xunying_date";
/// Name of the analyzer emitting CJK characters and bigrams.
pub(crate) const CJK_GRAMS_TOKENIZER: &str = "xunying_cjk_grams";

/// Registers the three analyzers on an index; tantivy does not store them with it, so
/// every open must register them again.
pub(crate) fn register_tokenizers(index: &tantivy::Index) {
    let manager = index.tokenizers();
    manager.register(WORDS_TOKENIZER, words_analyzer());
    manager.register(DATE_TOKENIZER, date_analyzer());
    manager.register(CJK_GRAMS_TOKENIZER, TextAnalyzer::from(CjkGramTokenizer { query_mode: false }));
}

fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

fn date_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WhitespaceTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

/// Returns the analyzer that turns query text into CJK terms: a single character
/// stays a unigram, and a longer run becomes its bigrams only, so "旅行" does not
/// match every name that contains "行".
pub(crate) fn cjk_query_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(CjkGramTokenizer { query_mode: true })
}

/// Returns true for Han ideographs, the characters jieba segments.
fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}'
        | '\u{3007}')
}

/// Returns true for scripts written without spaces between words: Han, kana and
/// Hangul. These are indexed as character n-grams.
fn is_cjk(c: char) -> bool {
    is_han(c)
        || matches!(c,
            '\u{3040}'..='\u{30FF}'
            | '\u{31F0}'..='\u{31FF}'
            | '\u{1100}'..='\u{11FF}'
            | '\u{3130}'..='\u{318F}'
            | '\u{AC00}'..='\u{D7AF}')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Han,
    Word,
    Separator,
}

fn char_class(c: char) -> CharClass {
    if is_han(c) {
        CharClass::Han
    } else if c.is_alphanumeric() {
        CharClass::Word
    } else {
        CharClass::Separator
    }
}

/// Splits `text` into maximal runs of one class, as `(class, byte offset, run)`.
fn runs(text: &str) -> Vec<(CharClass, usize, &str)> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut current: Option<CharClass> = None;
    for (offset, c) in text.char_indices() {
        let class = char_class(c);
        if current != Some(class) {
            if let Some(previous) = current {
                runs.push((previous, start, &text[start..offset]));
            }
            start = offset;
            current = Some(class);
        }
    }
    if let Some(class) = current {
        runs.push((class, start, &text[start..]));
    }
    runs
}

/// A token stream over tokens computed up front.
pub(crate) struct VecTokenStream {
    tokens: Vec<Token>,
    /// Index of the current token plus one; zero before the first `advance`.
    next: usize,
    /// Returned by `token()` before the first or after the last token, where tantivy
    /// never reads it; it spares an index panic.
    placeholder: Token,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        match self.next.checked_sub(1) {
            Some(current) if current < self.tokens.len() => &self.tokens[current],
            _ => &self.placeholder,
        }
    }

    fn token_mut(&mut self) -> &mut Token {
        match self.next.checked_sub(1) {
            Some(current) if current < self.tokens.len() => &mut self.tokens[current],
            _ => &mut self.placeholder,
        }
    }
}

/// Collects tokens with consecutive positions.
#[derive(Default)]
struct TokenSink {
    tokens: Vec<Token>,
}

impl TokenSink {
    fn push(&mut self, offset_from: usize, text: &str) {
        if text.is_empty() {
            return;
        }
        self.tokens.push(Token {
            offset_from,
            offset_to: offset_from + text.len(),
            position: self.tokens.len(),
            text: text.to_string(),
            position_length: 1,
        });
    }

    fn finish(self) -> VecTokenStream {
        VecTokenStream { tokens: self.tokens, next: 0, placeholder: Token::default() }
    }
}

/// Segments mixed text: jieba for Han runs, one token per run of other letters and
/// digits (plus its letter-only and digit-only parts, so "DSC01234" also matches
/// "dsc"), and no tokens for separators. Single characters are kept.
#[derive(Clone, Default)]
pub(crate) struct WordTokenizer {
    jieba: JiebaTokenizer,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let mut sink = TokenSink::default();
        for (class, offset, run) in runs(text) {
            match class {
                CharClass::Han => {
                    let mut words = self.jieba.token_stream(run);
                    while let Some(word) = words.next() {
                        sink.push(offset + word.offset_from, &word.text);
                    }
                }
                CharClass::Word => {
                    sink.push(offset, run);
                    push_letter_digit_parts(&mut sink, offset, run);
                }
                CharClass::Separator => {}
            }
        }
        sink.finish()
    }
}

/// Emits the letter-only and digit-only parts of a run that mixes both.
fn push_letter_digit_parts(sink: &mut TokenSink, offset: usize, run: &str) {
    let is_digit = |c: char| c.is_numeric();
    let has_digit = run.chars().any(is_digit);
    let has_letter = run.chars().any(|c| !is_digit(c));
    if !(has_digit && has_letter) {
        return;
    }
    let mut start = 0;
    let mut start_is_digit = run.chars().next().is_some_and(is_digit);
    for (index, c) in run.char_indices() {
        if is_digit(c) != start_is_digit {
            sink.push(offset + start, &run[start..index]);
            start = index;
            start_is_digit = is_digit(c);
        }
    }
    sink.push(offset + start, &run[start..]);
}

/// Emits CJK characters and bigrams of CJK runs; other characters end a run and
/// produce nothing.
#[derive(Clone)]
pub(crate) struct CjkGramTokenizer {
    /// In query mode a run longer than one character gives only its bigrams.
    query_mode: bool,
}

impl Tokenizer for CjkGramTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let mut sink = TokenSink::default();
        let mut run: Vec<(usize, char)> = Vec::new();
        for (offset, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            if is_cjk(c) {
                run.push((offset, c));
                continue;
            }
            self.push_run(&mut sink, text, &run);
            run.clear();
        }
        sink.finish()
    }
}

impl CjkGramTokenizer {
    fn push_run(&self, sink: &mut TokenSink, text: &str, run: &[(usize, char)]) {
        let end_of = |(offset, c): (usize, char)| offset + c.len_utf8();
        let unigrams = !self.query_mode || run.len() == 1;
        for (position, &(offset, c)) in run.iter().enumerate() {
            if unigrams {
                sink.push(offset, &text[offset..end_of((offset, c))]);
            }
            if let Some(&next) = run.get(position + 1) {
                sink.push(offset, &text[offset..end_of(next)]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
        let mut stream = analyzer.token_stream(text);
        let mut texts = Vec::new();
        while let Some(token) = stream.next() {
            texts.push(token.text.clone());
        }
        texts
    }

    #[test]
    fn words_split_paths_on_separators() {
        let texts = tokens(&mut words_analyzer(), "/Pictures/Beach Trip/IMG_0001.JPG");
        assert_eq!(texts, ["pictures", "beach", "trip", "img", "0001", "jpg"]);
    }

    #[test]
    fn words_split_letters_from_digits() {
        let texts = tokens(&mut words_analyzer(), "DSC01234");
        assert_eq!(texts, ["dsc01234", "dsc", "01234"]);
    }

    #[test]
    fn words_keep_single_han_characters() {
        let texts = tokens(&mut words_analyzer(), "我的猫.jpg");
        assert!(texts.contains(&"猫".to_string()), "{texts:?}");
        assert!(texts.contains(&"jpg".to_string()), "{texts:?}");
    }

    #[test]
    fn words_cut_han_runs_with_jieba() {
        let texts = tokens(&mut words_analyzer(), "2023旅行照片");
        assert_eq!(texts, ["2023", "旅行", "照片"]);
    }

    #[test]
    fn words_fold_full_width_and_accents() {
        let texts = tokens(&mut words_analyzer(), "Ｃａｎｏｎ Café");
        assert_eq!(texts, ["canon", "cafe"]);
    }

    #[test]
    fn words_of_empty_and_separator_text() {
        assert!(tokens(&mut words_analyzer(), "").is_empty());
        assert!(tokens(&mut words_analyzer(), " /_-.()\"*\u{0007}").is_empty());
    }

    #[test]
    fn cjk_grams_index_unigrams_and_bigrams() {
        let mut analyzer = TextAnalyzer::from(CjkGramTokenizer { query_mode: false });
        let texts = tokens(&mut analyzer, "2023旅行照片");
        assert_eq!(texts, ["旅", "旅行", "行", "行照", "照", "照片", "片"]);
    }

    #[test]
    fn cjk_grams_query_uses_bigrams_of_runs() {
        assert_eq!(tokens(&mut cjk_query_analyzer(), "旅行 猫"), ["旅行", "猫"]);
        assert_eq!(tokens(&mut cjk_query_analyzer(), "北京大学"), ["北京", "京大", "大学"]);
        assert!(tokens(&mut cjk_query_analyzer(), "beach 2023").is_empty());
    }

    #[test]
    fn cjk_grams_cover_kana_and_hangul() {
        let mut analyzer = TextAnalyzer::from(CjkGramTokenizer { query_mode: false });
        assert_eq!(tokens(&mut analyzer, "ねこ"), ["ね", "ねこ", "こ"]);
        assert_eq!(tokens(&mut analyzer, "서울"), ["서", "서울", "울"]);
    }
}
