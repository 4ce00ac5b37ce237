//! Turns a user's free text into a tantivy query without tantivy's query syntax:
//! the text is run through each field's own analyzer, and every term becomes a
//! should-clause, so quotes, brackets, `*` or `field:` in the text are plain
//! characters and no input can fail to parse.

use std::collections::HashSet;

use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::{TextAnalyzer, TokenStream};
use tantivy::Term;

use super::analysis::cjk_query_analyzer;
use super::document::Fields;

/// Characters of query text that are analysed; the rest is ignored. A description
/// longer than this is not a keyword query, and the cap bounds the work per search.
pub(crate) const MAX_QUERY_CHARS: usize = 1_000;

/// Most distinct terms taken from the query for one field.
pub(crate) const MAX_TERMS_PER_FIELD: usize = 64;

/// Builds the query for `text`, or returns `None` when the text yields no terms.
/// `analyzer_of` returns the analyzer a field was indexed with.
pub(crate) fn build_query(
    text: &str,
    fields: &Fields,
    mut analyzer_of: impl FnMut(&'static str) -> Option<TextAnalyzer>,
) -> Option<Box<dyn Query>> {
    let text = match text.char_indices().nth(MAX_QUERY_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    };

    let mut terms: Vec<Term> = Vec::new();
    let mut seen: HashSet<Term> = HashSet::new();
    for (field, tokenizer) in fields.text_fields() {
        if let Some(mut analyzer) = analyzer_of(tokenizer) {
            collect_terms(&mut analyzer, field, text, &mut terms, &mut seen);
        }
    }
    collect_terms(&mut cjk_query_analyzer(), fields.cjk, text, &mut terms, &mut seen);

    if terms.is_empty() {
        return None;
    }
    let clauses: Vec<(Occur, Box<dyn Query>)> = terms
        .into_iter()
        .map(|term| (Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>))
        .collect();
    Some(Box::new(BooleanQuery::new(clauses)))
}

fn collect_terms(analyzer: &mut TextAnalyzer, field: Field, text: &str, terms: &mut Vec<Term>, seen: &mut HashSet<Term>) {
    let mut stream = analyzer.token_stream(text);
    let mut num_field_terms = 0;
    while let Some(token) = stream.next() {
        if num_field_terms == MAX_TERMS_PER_FIELD {
            return;
        }
        let term = Term::from_field_text(field, &token.text);
        if seen.insert(term.clone()) {
            terms.push(term);
            num_field_terms += 1;
        }
    }
}
