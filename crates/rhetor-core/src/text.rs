//! Text with exact offsets.
//!
//! Users and the PTC corpus count Unicode code points; Rust indexes bytes. A [`Document`] keeps the
//! original text untouched and converts between the two at the edges. Tokens and sentences carry
//! code-point offsets like everything else public in rhetor.

use crate::error::{Error, Result};
use crate::span::Span;

/// Every `BLOCK`-th code point's byte offset is stored, so a conversion scans at most `BLOCK - 1`
/// characters and the index costs 4 bytes per `BLOCK` characters (not 4 per character).
const BLOCK: usize = 64;

/// The largest input accepted by default (bytes). Articles are kilobytes; a bigger input is almost
/// always a mistake (a whole dump, a binary), and refusing it keeps memory bounded.
pub const DEFAULT_MAX_BYTES: usize = 8 * 1024 * 1024;

/// A text and the index that maps code-point offsets to byte offsets.
#[derive(Debug, Clone)]
pub struct Document {
    text: String,
    n_chars: usize,
    /// `blocks[i]` = byte offset of code point `i * BLOCK`. Empty when the text is ASCII.
    blocks: Vec<u32>,
}

impl Document {
    /// Wraps a text. Fails when it is larger than [`DEFAULT_MAX_BYTES`].
    pub fn new(text: impl Into<String>) -> Result<Document> {
        Document::with_limit(text, DEFAULT_MAX_BYTES)
    }

    /// Wraps a text, refusing one longer than `max_bytes`.
    pub fn with_limit(text: impl Into<String>, max_bytes: usize) -> Result<Document> {
        let text = text.into();
        if text.len() > max_bytes {
            return Err(Error::TooLarge {
                bytes: text.len(),
                limit: max_bytes,
            });
        }
        if text.len() > u32::MAX as usize {
            return Err(Error::TooLarge {
                bytes: text.len(),
                limit: u32::MAX as usize,
            });
        }
        let (n_chars, blocks) = if text.is_ascii() {
            (text.len(), Vec::new())
        } else {
            let mut blocks = Vec::with_capacity(text.len() / BLOCK + 1);
            let mut n = 0;
            for (b, _) in text.char_indices() {
                if n % BLOCK == 0 {
                    blocks.push(b as u32);
                }
                n += 1;
            }
            (n, blocks)
        };
        Ok(Document {
            text,
            n_chars,
            blocks,
        })
    }

    /// Decodes bytes as UTF-8; `origin` (usually a path) names the input in the error. An input with
    /// nothing but white space is an error too: there is nothing to analyse, and it is usually a mistake.
    pub fn from_bytes(bytes: Vec<u8>, origin: &str, max_bytes: usize) -> Result<Document> {
        if bytes.len() > max_bytes {
            return Err(Error::TooLarge {
                bytes: bytes.len(),
                limit: max_bytes,
            });
        }
        // A NUL byte never occurs in an article: treat it as a binary file even if it is valid UTF-8.
        if let Some(pos) = memchr0(&bytes) {
            return Err(Error::Binary {
                origin: origin.to_string(),
                byte: pos,
            });
        }
        match String::from_utf8(bytes) {
            Ok(s) if s.trim().is_empty() => Err(Error::Empty {
                origin: origin.to_string(),
            }),
            Ok(s) => Document::with_limit(s, max_bytes),
            Err(e) => Err(Error::NotUtf8 {
                origin: origin.to_string(),
                byte: e.utf8_error().valid_up_to(),
            }),
        }
    }

    /// Reads a file as a document.
    pub fn read(path: &std::path::Path, max_bytes: usize) -> Result<Document> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Document::from_bytes(bytes, &path.display().to_string(), max_bytes)
    }

    /// The original text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Length in code points.
    pub fn len_chars(&self) -> usize {
        self.n_chars
    }

    /// True when the text is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Byte offset of code point `c` (`c == len_chars()` gives the text's byte length).
    ///
    /// # Panics
    /// When `c > len_chars()`; use [`Document::check_span`] on untrusted offsets first.
    pub fn byte_of(&self, c: usize) -> usize {
        assert!(
            c <= self.n_chars,
            "code point {c} past the end ({})",
            self.n_chars
        );
        if self.blocks.is_empty() {
            return c;
        }
        if c == self.n_chars {
            return self.text.len();
        }
        let start = self.blocks[c / BLOCK] as usize;
        let skip = c % BLOCK;
        match self.text[start..].char_indices().nth(skip) {
            Some((b, _)) => start + b,
            None => self.text.len(),
        }
    }

    /// Code-point offset of byte `b`, which must lie on a character boundary.
    pub fn char_of(&self, b: usize) -> usize {
        debug_assert!(self.text.is_char_boundary(b));
        if self.blocks.is_empty() {
            return b;
        }
        let i = match self.blocks.binary_search(&(b as u32)) {
            Ok(i) => return i * BLOCK,
            Err(i) => i - 1,
        };
        let start = self.blocks[i] as usize;
        i * BLOCK + self.text[start..b].chars().count()
    }

    /// Checks that a span lies inside the text.
    pub fn check_span(&self, span: Span) -> Result<()> {
        if span.end() > self.n_chars {
            return Err(Error::OutOfRange {
                start: span.start(),
                end: span.end(),
                len: self.n_chars,
            });
        }
        Ok(())
    }

    /// The text of a span (code-point offsets).
    pub fn slice(&self, span: Span) -> &str {
        &self.text[self.byte_of(span.start())..self.byte_of(span.end())]
    }

    /// Splits the text into tokens: runs of letters and digits (with inner apostrophes, hyphens,
    /// periods and commas kept when letters or digits follow, as in `don't`, `U.S`, `1,000`), and single
    /// other non-space characters.
    pub fn tokens(&self) -> Vec<Token> {
        tokenize(&self.text)
    }
}

fn memchr0(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == 0)
}

/// What kind of characters a token is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Letters, digits and inner joiners.
    Word,
    /// One punctuation or symbol character.
    Punct,
}

/// A token with its offsets in code points and in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Code-point span.
    pub span: Span,
    /// Byte offsets, for slicing the original `&str` directly.
    pub byte_start: usize,
    /// End byte offset (exclusive).
    pub byte_end: usize,
    /// Word or punctuation.
    pub kind: TokenKind,
}

impl Token {
    /// The token's text.
    pub fn text<'a>(&self, doc: &'a str) -> &'a str {
        &doc[self.byte_start..self.byte_end]
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_mark(c)
}

/// Combining marks (accents written as separate code points) belong to the word they follow.
fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

fn is_joiner(c: char) -> bool {
    matches!(c, '\'' | '’' | '-' | '.' | ',' | '‐' | '‑')
}

/// Characters that are invisible formatting (BOM, direction marks, zero-width): skipped like spaces.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{FEFF}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}')
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len() / 5);
    let mut it = text.char_indices().peekable();
    // Code-point offsets are counted as we go: one pass, no index lookups.
    let mut cp = 0usize;
    while let Some((b, c)) = it.next() {
        let start_cp = cp;
        cp += 1;
        if c.is_whitespace() || is_invisible(c) {
            continue;
        }
        if is_word_char(c) {
            let mut end = b + c.len_utf8();
            loop {
                match it.peek() {
                    Some(&(_, n)) if is_word_char(n) => {
                        end += n.len_utf8();
                        cp += 1;
                        it.next();
                    }
                    Some(&(jb, j)) if is_joiner(j) => {
                        // Keep the joiner only if a word character follows it directly.
                        let after = text[jb + j.len_utf8()..].chars().next();
                        let keep = match after {
                            Some(a) if is_word_char(a) => {
                                // Commas and periods join digits only ("1,000", "3.5") or single
                                // letters ("U.S"), not two words ("end.Next").
                                if j == ',' || j == '.' {
                                    let prev = text[..jb].chars().next_back().unwrap_or(' ');
                                    (prev.is_ascii_digit() && a.is_ascii_digit())
                                        || (j == '.' && prev.is_uppercase() && a.is_uppercase())
                                } else {
                                    true
                                }
                            }
                            _ => false,
                        };
                        if !keep {
                            break;
                        }
                        end += j.len_utf8();
                        cp += 1;
                        it.next();
                    }
                    _ => break,
                }
            }
            out.push(Token {
                span: Span::new(start_cp, cp),
                byte_start: b,
                byte_end: end,
                kind: TokenKind::Word,
            });
        } else {
            out.push(Token {
                span: Span::new(start_cp, cp),
                byte_start: b,
                byte_end: b + c.len_utf8(),
                kind: TokenKind::Punct,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slice every token and sentence at its reported code-point offsets and compare with a
    /// `Vec<char>` slice: the offsets must agree with Python's `str` indexing.
    fn check_offsets(text: &str) {
        let doc = Document::new(text).unwrap();
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(doc.len_chars(), chars.len());
        for t in doc.tokens() {
            let by_chars: String = chars[t.span.start()..t.span.end()].iter().collect();
            assert_eq!(doc.slice(t.span), by_chars);
            assert_eq!(t.text(text), by_chars);
        }
        for s in crate::Prepared::new(&doc).sentences() {
            let by_chars: String = chars[s.span.start()..s.span.end()].iter().collect();
            assert_eq!(doc.slice(s.span), by_chars);
        }
        for c in 0..=chars.len() {
            let b = doc.byte_of(c);
            assert_eq!(doc.char_of(b), c);
        }
    }

    #[test]
    fn offsets_survive_emoji_cjk_marks_crlf_tabs() {
        check_offsets("Plain ASCII text.");
        check_offsets("Emoji 🇺🇸 flags 👍🏽 and 😀!\r\nNext line\tafter a tab.");
        check_offsets("中文的句子。日本語のテキスト and 한국어 mixed.");
        check_offsets("Cafe\u{301} and nai\u{308}ve use combining marks.");
        check_offsets("\u{FEFF}BOM first, then \u{200F}RLM marks.");
        let long: String = "é😀a".repeat(500);
        check_offsets(&long);
    }

    #[test]
    fn combining_marks_stay_in_their_word() {
        let doc = Document::new("Cafe\u{301} open").unwrap();
        let toks = doc.tokens();
        assert_eq!(toks.len(), 2);
        assert_eq!(doc.slice(toks[0].span), "Cafe\u{301}");
        assert_eq!(toks[1].span.start(), 6);
    }

    #[test]
    fn tokens_keep_inner_joiners() {
        let doc = Document::new("Don't pay $1,000 to the U.S. self-styled end.Next").unwrap();
        let words: Vec<&str> = doc.tokens().iter().map(|t| doc.slice(t.span)).collect();
        assert_eq!(
            words,
            [
                "Don't",
                "pay",
                "$",
                "1,000",
                "to",
                "the",
                "U.S",
                ".",
                "self-styled",
                "end",
                ".",
                "Next"
            ]
        );
    }

    #[test]
    fn sentences_split_on_lines_and_punctuation() {
        let doc = Document::new(
            "Title here\n\nFirst one. Second one! Mr. Smith said \"no.\" Then.\r\nLast",
        )
        .unwrap();
        let p = crate::Prepared::new(&doc);
        let s: Vec<&str> = p.sentences().iter().map(|s| doc.slice(s.span)).collect();
        assert_eq!(
            s,
            [
                "Title here",
                "First one.",
                "Second one!",
                "Mr. Smith said \"no.\"",
                "Then.",
                "Last"
            ]
        );
    }

    #[test]
    fn invalid_utf8_names_the_byte() {
        let err =
            Document::from_bytes(b"abc\xff\xfe".to_vec(), "x.txt", DEFAULT_MAX_BYTES).unwrap_err();
        assert_eq!(err.to_string(), "x.txt: not valid UTF-8 at byte 3");
    }

    #[test]
    fn binary_and_oversize_are_refused() {
        let err = Document::from_bytes(b"PK\x03\x04\x00\x00".to_vec(), "a.zip", DEFAULT_MAX_BYTES)
            .unwrap_err();
        assert!(err.to_string().contains("binary"), "{err}");
        let err = Document::from_bytes(b" \r\n".to_vec(), "e.txt", DEFAULT_MAX_BYTES).unwrap_err();
        assert_eq!(err.to_string(), "e.txt: empty input, nothing to analyse");
        let err = Document::with_limit("x".repeat(100), 10).unwrap_err();
        assert!(err.to_string().contains("100 bytes"), "{err}");
    }
}
