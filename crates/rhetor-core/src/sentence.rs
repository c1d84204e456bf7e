//! The sentence splitter, over tokens (the rule attribution was tuned with; [`crate::Prepared`]
//! runs it once per document), and the word-list file format it and attribution read.

use crate::text::{Token, TokenKind};
use std::ops::Range;
use std::sync::OnceLock;

/// The words of a word-list file: one per line, blank lines and `#` comments skipped, surrounding
/// white space trimmed.
pub fn word_list(src: &str) -> impl Iterator<Item = &str> {
    src.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Lower-cased abbreviations whose period ends no sentence, sorted.
fn abbreviations() -> &'static [&'static str] {
    static L: OnceLock<Vec<&'static str>> = OnceLock::new();
    L.get_or_init(|| {
        let mut v: Vec<&str> = word_list(include_str!("../data/abbreviations.txt")).collect();
        v.sort_unstable();
        v
    })
}

/// Is this word (any case; curly apostrophes count as straight) a listed abbreviation?
fn is_abbreviation(word: &str) -> bool {
    let mut low = String::with_capacity(word.len());
    for c in word.chars() {
        if c == '’' || c == '‘' {
            low.push('\'');
        } else {
            low.extend(c.to_lowercase());
        }
    }
    abbreviations().binary_search(&low.as_str()).is_ok()
}

/// Can a token with this text open a sentence after a sentence-ending mark?
fn is_upper_start(s: &str) -> bool {
    s.chars().next().is_some_and(|c| {
        c.is_uppercase() || c.is_ascii_digit() || matches!(c, '"' | '“' | '\'' | '‘')
    })
}

/// Splits tokens into sentences (token ranges, in order, covering every token). A line break always
/// ends a sentence (PTC puts one per line). Within a line, `.`, `!` or `?` (with closing quotes or
/// a bracket right after it) ends one when a space and an upper-case letter, digit or opening quote
/// follow; the period of a single capital letter, of a word with an inner period ("U.S.") or of a
/// listed abbreviation ("Mr.", `data/abbreviations.txt`) ends none.
pub(crate) fn split(text: &str, tokens: &[Token]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    // Whether the tokens so far end a sentence if the next one may open one.
    let mut end_cand = false;
    for (i, t) in tokens.iter().enumerate() {
        let s = t.text(text);
        let prev = i.checked_sub(1).map(|k| &tokens[k]);
        if let Some(prev) = prev {
            let gap = &text[prev.byte_end..t.byte_start];
            if gap.contains('\n') || (end_cand && !gap.is_empty() && is_upper_start(s)) {
                out.push(start..i);
                start = i;
            }
        }
        let adjacent = prev.is_some_and(|p| p.byte_end == t.byte_start);
        end_cand = match s {
            "!" | "?" => true,
            "." => {
                let abbrev = adjacent
                    && prev.is_some_and(|p| {
                        let w = p.text(text);
                        let mut cs = w.chars();
                        let single_cap =
                            cs.next().is_some_and(char::is_uppercase) && cs.next().is_none();
                        p.kind == TokenKind::Word
                            && (single_cap || w.contains('.') || is_abbreviation(w))
                    });
                !abbrev || end_cand
            }
            "\"" | "”" | "’" | "'" | ")" => end_cand && adjacent,
            _ => false,
        };
    }
    if !tokens.is_empty() {
        out.push(start..tokens.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Document, Prepared};

    fn sents(text: &str) -> Vec<String> {
        let doc = Document::new(text).unwrap();
        let p = Prepared::new(&doc);
        p.sentences()
            .iter()
            .map(|s| doc.slice(s.span).to_string())
            .collect()
    }

    #[test]
    fn lines_end_sentences_abbreviations_do_not() {
        assert_eq!(
            sents("Title\n\nMr. Smith met U.S. officials. They left! \"Go,\" he said. “No.” Then.\nLast"),
            [
                "Title",
                "Mr. Smith met U.S. officials.",
                "They left!",
                "\"Go,\" he said.",
                "“No.”",
                "Then.",
                "Last"
            ]
        );
        // A listed abbreviation in any case, a single initial, a lower-case next word.
        assert_eq!(
            sents("Gen. Lee and J. Doe met on Jan. 5. It rained. then it stopped"),
            [
                "Gen. Lee and J. Doe met on Jan. 5.",
                "It rained. then it stopped"
            ]
        );
        // A line break ends a sentence even after an abbreviation.
        assert_eq!(sents("Dr.\nWho"), ["Dr.", "Who"]);
    }

    #[test]
    fn word_lists_skip_comments_and_blanks() {
        let v: Vec<&str> = word_list("# head\n\n  mr \n#x\nmrs\n").collect();
        assert_eq!(v, ["mr", "mrs"]);
        assert!(is_abbreviation("Mr") && is_abbreviation("SEPT") && !is_abbreviation("Smith"));
    }
}
