//! A document read once per analysis: its tokens, the line of each token and its sentences,
//! shared by every stage (the fast tier's features, the encoder's wordpiece alignment, attribution)
//! instead of each stage tokenising again.
//!
//! Offsets are code points, as everywhere public in rhetor. Character spans map to token ranges
//! through [`align`] with an explicit [`Alignment`] mode (as spaCy's `char_span(alignment_mode=…)`).

use crate::span::Span;
use crate::text::{Document, Token};
use std::ops::Range;
use std::sync::OnceLock;

/// How a character span that does not fall on token edges maps onto tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    /// Every token the span overlaps, even by one character.
    Expand,
    /// Only the tokens wholly inside the span.
    Contract,
    /// The span must start and end on token edges; otherwise there is no match.
    Strict,
}

/// The items of a sorted, non-overlapping sequence of spans (tokens, wordpieces) that `span` overlaps:
/// `a..b` with `a` the first item ending after `span` starts and `b` the first starting at or after it
/// ends. When none overlaps, the range is empty and sits where such an item would be inserted.
pub fn overlapping(items: &[Span], span: Span) -> Range<usize> {
    let a = items.partition_point(|t| t.end() <= span.start());
    let b = items.partition_point(|t| t.start() < span.end());
    a..b.max(a)
}

/// The items of a sorted, non-overlapping sequence of spans that `span` covers in `mode`, or `None`
/// when no item qualifies (or, in [`Alignment::Strict`], when the span's edges are not item edges).
pub fn align(items: &[Span], span: Span, mode: Alignment) -> Option<Range<usize>> {
    let r = overlapping(items, span);
    if r.is_empty() {
        return None;
    }
    let (first, last) = (items[r.start], items[r.end - 1]);
    match mode {
        Alignment::Expand => Some(r),
        Alignment::Strict => {
            (first.start() == span.start() && last.end() == span.end()).then_some(r)
        }
        Alignment::Contract => {
            let a = r.start + usize::from(first.start() < span.start());
            let b = r.end - usize::from(last.end() > span.end());
            (a < b).then_some(a..b)
        }
    }
}

/// A sentence: its character span and the tokens it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// Code-point span, from its first token's start to its last token's end.
    pub span: Span,
    /// Its tokens (indexes into [`Prepared::tokens`]).
    pub tokens: Range<usize>,
}

/// A document with its tokens, lines and sentences computed once.
#[derive(Debug)]
pub struct Prepared<'a> {
    doc: &'a Document,
    tokens: Vec<Token>,
    spans: Vec<Span>,
    lines: Vec<u32>,
    sentences: OnceLock<Vec<Sentence>>,
}

impl<'a> Prepared<'a> {
    /// Tokenises a document and finds the line of every token. Sentences are found on first use.
    pub fn new(doc: &'a Document) -> Prepared<'a> {
        let text = doc.text().as_bytes();
        let tokens = doc.tokens();
        let spans = tokens.iter().map(|t| t.span).collect();
        // A token's line is the number of '\n' before it.
        let mut lines = Vec::with_capacity(tokens.len());
        let (mut line, mut last) = (0u32, 0usize);
        for t in &tokens {
            line += text[last..t.byte_start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u32;
            last = t.byte_start;
            lines.push(line);
        }
        Prepared {
            doc,
            tokens,
            spans,
            lines,
            sentences: OnceLock::new(),
        }
    }

    /// The document.
    pub fn doc(&self) -> &'a Document {
        self.doc
    }

    /// The original text.
    pub fn text(&self) -> &'a str {
        self.doc.text()
    }

    /// The tokens, in text order.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The tokens' code-point spans (what [`align`] takes).
    pub fn token_spans(&self) -> &[Span] {
        &self.spans
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when the document has no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The line (0-based: the number of line breaks before it) of every token.
    pub fn lines(&self) -> &[u32] {
        &self.lines
    }

    /// The text of token `k`.
    pub fn token_text(&self, k: usize) -> &'a str {
        self.tokens[k].text(self.doc.text())
    }

    /// The tokens a character span covers, in `mode`.
    pub fn char_span(&self, span: Span, mode: Alignment) -> Option<Range<usize>> {
        align(&self.spans, span, mode)
    }

    /// The tokens a span overlaps (possibly an empty range; see [`overlapping`]).
    pub fn tokens_in(&self, span: Span) -> Range<usize> {
        overlapping(&self.spans, span)
    }

    /// The sentences, in text order (the rule is [`crate::sentence`]'s: a line break always ends
    /// one; "Mr. Smith", "U.S. officials" do not).
    pub fn sentences(&self) -> &[Sentence] {
        self.sentences.get_or_init(|| {
            crate::sentence::split(self.text(), &self.tokens)
                .into_iter()
                .map(|tokens| Sentence {
                    span: Span::new(
                        self.spans[tokens.start].start(),
                        self.spans[tokens.end - 1].end(),
                    ),
                    tokens,
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(v: &[(usize, usize)]) -> Vec<Span> {
        v.iter().map(|&(a, b)| Span::new(a, b)).collect()
    }

    #[test]
    fn alignment_modes() {
        // "gang of traitors" as tokens 0..4, 5..7, 8..16
        let t = spans(&[(0, 4), (5, 7), (8, 16)]);
        let s = |a, b| Span::new(a, b);
        assert_eq!(align(&t, s(0, 16), Alignment::Strict), Some(0..3));
        assert_eq!(align(&t, s(1, 16), Alignment::Strict), None);
        assert_eq!(align(&t, s(1, 10), Alignment::Expand), Some(0..3));
        assert_eq!(align(&t, s(1, 10), Alignment::Contract), Some(1..2));
        assert_eq!(align(&t, s(1, 3), Alignment::Contract), None);
        assert_eq!(align(&t, s(4, 5), Alignment::Expand), None);
        assert_eq!(overlapping(&t, s(4, 5)), 1..1);
        assert_eq!(overlapping(&t, s(20, 30)), 3..3);
    }

    #[test]
    fn lines_and_sentences_share_the_tokens() {
        let doc = Document::new("Title 😀\n\nOne two. Three four!\r\nFive").unwrap();
        let p = Prepared::new(&doc);
        let words: Vec<&str> = (0..p.len()).map(|k| p.token_text(k)).collect();
        assert_eq!(
            words,
            ["Title", "😀", "One", "two", ".", "Three", "four", "!", "Five"]
        );
        assert_eq!(p.lines(), &[0, 0, 2, 2, 2, 2, 2, 2, 3]);
        let s: Vec<(&str, Range<usize>)> = p
            .sentences()
            .iter()
            .map(|s| (doc.slice(s.span), s.tokens.clone()))
            .collect();
        assert_eq!(
            s,
            [
                ("Title 😀", 0..2),
                ("One two.", 2..5),
                ("Three four!", 5..8),
                ("Five", 8..9)
            ]
        );
        assert_eq!(p.char_span(Span::new(9, 16), Alignment::Strict), Some(2..4));
    }
}
