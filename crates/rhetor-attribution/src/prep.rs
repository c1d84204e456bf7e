//! A document prepared for the taggers, on top of the shared [`rhetor_core::Prepared`] (tokens,
//! lines, sentences): tokens with hashed word forms, sentence and paragraph ids, and quotation
//! regions (straight and curly quotes, quotes running over several paragraphs).

use crate::lexicon::{fx, hash_str, lexicon};
use rhetor_core::{Span, TokenKind};

/// Punctuation classes of a token.
pub(crate) mod class {
    pub const WORD: u8 = 0;
    pub const COMMA: u8 = 1;
    pub const STOP: u8 = 2;
    pub const QOPEN: u8 = 3;
    pub const QCLOSE: u8 = 4;
    pub const COLON: u8 = 5;
    pub const DASH: u8 = 6;
    pub const PAREN: u8 = 7;
    pub const OTHER: u8 = 8;
    pub const SQUOTE: u8 = 9;
    /// How many classes there are (the argument tagger's tables are sized by it).
    pub const COUNT: usize = 10;
}

/// Token flags.
pub(crate) mod flag {
    pub const PRONOUN: u8 = 1;
    pub const CAP: u8 = 2;
    pub const TITLE: u8 = 4;
    pub const SENT_START: u8 = 8;
    pub const SENT_END: u8 = 16;
    pub const PARA_START: u8 = 32;
    /// The second mark of a `''` pair (a double quote written as two apostrophes, as the New
    /// York Times does): it goes with the first, which carries the quote class.
    pub const PAIR2: u8 = 64;
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Tok {
    pub span: Span,
    pub b0: u32,
    pub b1: u32,
    /// Hash of the lower-cased form.
    pub w: u64,
    /// Hash of a crude lemma (lower case, -s/-ed/-ing stripped).
    pub lem: u64,
    pub shape: u8,
    pub class: u8,
    pub flags: u8,
    /// Inside a double-quoted passage (the quote marks included).
    pub inq: bool,
    pub sent: u32,
    pub para: u32,
}

pub(crate) struct Prepared<'a> {
    pub text: &'a str,
    /// The shared tokens' spans (what the core alignment helper takes).
    pub spans: &'a [Span],
    pub toks: Vec<Tok>,
    /// Token ranges `[start, end)` of sentences.
    pub sents: Vec<(u32, u32)>,
    /// Token ranges of paragraphs (lines).
    pub paras: Vec<(u32, u32)>,
    /// Per paragraph: whether a single line break (no blank line) parts it from the one before,
    /// as between the sentences of one paragraph in PTC's one-sentence-per-line layout.
    pub soft: Vec<bool>,
    /// Prefix counts (length `toks.len() + 1`).
    pub n_comma: Vec<u32>,
    pub n_quote: Vec<u32>,
}

/// Lower-cases into `buf` (ASCII fast path); curly apostrophes become straight.
pub(crate) fn lower_into(s: &str, buf: &mut String) {
    buf.clear();
    if s.is_ascii() {
        for b in s.bytes() {
            buf.push(b.to_ascii_lowercase() as char);
        }
    } else {
        for c in s.chars() {
            if c == '’' || c == '‘' {
                buf.push('\'');
            } else {
                buf.extend(c.to_lowercase());
            }
        }
    }
}

pub(crate) fn lemma(w: &str) -> &str {
    let n = w.len();
    if n > 5 && w.ends_with("ing") {
        return &w[..n - 3];
    }
    if n > 4 && w.ends_with("ied") {
        return &w[..n - 3];
    }
    if n > 4 && w.ends_with("ed") {
        return &w[..n - 2];
    }
    if n > 4 && w.ends_with("ies") {
        return &w[..n - 3];
    }
    if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("'s") {
        return &w[..n - 1];
    }
    w
}

fn shape(s: &str, ascii: bool) -> u8 {
    // ASCII (nearly every token): the same answers from the bytes.
    let b = s.as_bytes();
    if ascii {
        let Some(&first) = b.first() else { return 4 };
        return if first.is_ascii_digit() {
            3
        } else if !first.is_ascii_alphanumeric() {
            4
        } else if first.is_ascii_uppercase() {
            if b.len() > 1 && !b[1..].iter().any(u8::is_ascii_lowercase) {
                2
            } else {
                1
            }
        } else {
            0
        };
    }
    shape_chars(s)
}

/// [`shape`] by characters (the reference; what non-ASCII tokens take).
fn shape_chars(s: &str) -> u8 {
    let mut chars = s.chars();
    let Some(first) = chars.next() else { return 4 };
    if first.is_ascii_digit() {
        return 3;
    }
    if !first.is_alphanumeric() {
        return 4;
    }
    if first.is_uppercase() {
        if s.len() > first.len_utf8() && chars.all(|c| !c.is_lowercase()) {
            2
        } else {
            1
        }
    } else {
        0
    }
}

fn is_dquote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '„' | '«' | '»' | '″')
}

/// Hash of a token's last three letters, lower-cased (the same value as hashing the lower-cased
/// string's last three characters). Only the cue tagger reads it, for its candidates, so it is
/// computed there ([`Prepared::suffix`]) rather than for every token.
pub(crate) fn suffix_hash(s: &str) -> u64 {
    if !s.is_ascii() {
        let mut buf = String::new();
        lower_into(s, &mut buf);
        let suf_start = buf.char_indices().rev().nth(2).map(|(i, _)| i).unwrap_or(0);
        return fx(hash_str(&buf[suf_start..]), 3);
    }
    let b = s.as_bytes();
    let mut hs = 0xcbf2_9ce4_8422_2325u64;
    for &c in &b[b.len().saturating_sub(3)..] {
        hs = fx(hs, LOWER[c as usize] as u64);
    }
    fx(fx(hs, 0xff), 3)
}

/// ASCII lower case by table (one load a byte).
static LOWER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).to_ascii_lowercase();
        i += 1;
    }
    t
};

/// Hashes of a token's lower-cased form and its lemma, in one pass for ASCII (the same values as
/// hashing the lower-cased strings). `ascii`: whether `s` is ASCII.
fn hashes(s: &str, ascii: bool, buf: &mut String) -> (u64, u64) {
    if !ascii {
        lower_into(s, buf);
        return (hash_str(buf), hash_str(lemma(buf)));
    }
    let b = s.as_bytes();
    let n = b.len();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    // prefix[k] = hash of the first n - 3 + k bytes and tail = the last three bytes lower-cased,
    // for the lemma (read only when n > 3). The last three bytes are hashed outside the loop,
    // which then needs no test per byte; lower case comes from a table.
    let head = n.saturating_sub(3);
    for &c in &b[..head] {
        h = fx(h, LOWER[c as usize] as u64);
    }
    let mut prefix = [h; 3];
    // The last three bytes, lower-cased, in one register (the last in the low byte): written a
    // byte at a time into an array and read back whole, they stalled on store forwarding.
    let mut tail = 0u32;
    for (k, &c) in b[head..].iter().enumerate() {
        let c = LOWER[c as usize];
        prefix[k + 3 - (n - head)] = h;
        tail = tail << 8 | c as u32;
        h = fx(h, c as u64);
    }
    let w = fx(h, 0xff);
    let word = |s: &[u8]| s.iter().fold(0u32, |t, &c| t << 8 | c as u32);
    // -ing (n > 5), -ied / -ies (n > 4): 3 bytes off; -ed (n > 4): 2; -s but not -ss or -'s: 1.
    let (y, z) = ((tail >> 8) as u8, tail as u8);
    let lem = if n > 5 && tail == word(b"ing")
        || n > 4 && (tail == word(b"ied") || tail == word(b"ies"))
    {
        fx(prefix[0], 0xff)
    } else if n > 4 && tail & 0xffff == word(b"ed") {
        fx(prefix[1], 0xff)
    } else if n > 3 && z == b's' && y != b's' && y != b'\'' {
        fx(prefix[2], 0xff)
    } else {
        w
    };
    (w, lem)
}

impl<'a> Prepared<'a> {
    /// Builds on the shared prepared document: its tokens, lines (paragraphs) and sentences.
    pub fn new(doc: &'a rhetor_core::Prepared) -> Prepared<'a> {
        let text = doc.text();
        let raw = doc.tokens();
        let lines = doc.lines();
        let lex = lexicon();
        let mut toks: Vec<Tok> = Vec::with_capacity(raw.len());
        let mut buf = String::new();
        let sents: Vec<(u32, u32)> = doc
            .sentences()
            .iter()
            .map(|s| (s.tokens.start as u32, s.tokens.end as u32))
            .collect();
        // Paragraphs are lines with tokens, numbered densely. Their ranges and the prefix counts
        // of commas and double quotes are built in the same pass over the tokens (the quote
        // count covers both directions, so fixing directions later does not change it).
        let mut para = 0u32;
        let mut sent = 0u32;
        let mut paras: Vec<(u32, u32)> = Vec::new();
        let mut nc = Vec::with_capacity(raw.len() + 1);
        let mut nq = Vec::with_capacity(raw.len() + 1);
        let (mut commas, mut quotes) = (0u32, 0u32);
        nc.push(0);
        nq.push(0);
        // Whether the token before opened a `''` pair.
        let mut pair1 = false;
        for (i, t) in raw.iter().enumerate() {
            let s = &text[t.byte_start..t.byte_end];
            let ascii = s.is_ascii();
            let mut flags = 0u8;
            // `''` is one double quote: the first mark takes the class, the second follows it.
            let pair2 = pair1;
            pair1 = !pair2
                && s == "'"
                && raw.get(i + 1).is_some_and(|n| {
                    n.byte_start == t.byte_end && &text[n.byte_start..n.byte_end] == "'"
                });
            if i == 0 || lines[i] != lines[i - 1] {
                if i > 0 {
                    para += 1;
                }
                paras.push((i as u32, i as u32 + 1));
                flags |= flag::PARA_START;
            } else if let Some(last) = paras.last_mut() {
                last.1 = i as u32 + 1;
            }
            if sents[sent as usize].1 as usize <= i {
                sent += 1;
            }
            let (class, shape_v) = if t.kind == TokenKind::Word {
                (class::WORD, shape(s, ascii))
            } else {
                let c = s.chars().next().unwrap_or(' ');
                let cl = match c {
                    ',' => class::COMMA,
                    '.' | '!' | '?' | ';' | '…' => class::STOP,
                    ':' => class::COLON,
                    // The horizontal bar (U+2015) signs quotes in some outlets ("” ― Jane Doe").
                    '-' | '—' | '–' | '―' | '‒' => class::DASH,
                    '(' | ')' | '[' | ']' => class::PAREN,
                    _ if pair1 => class::QOPEN, // `''`: direction fixed below
                    _ if pair2 => {
                        flags |= flag::PAIR2;
                        class::OTHER
                    }
                    '\'' | '‘' | '’' => class::SQUOTE,
                    c if is_dquote(c) => class::QOPEN, // direction fixed below
                    _ => class::OTHER,
                };
                (cl, 4)
            };
            commas += (class == class::COMMA) as u32;
            quotes += (class == class::QOPEN) as u32;
            nc.push(commas);
            nq.push(quotes);
            let (w, lem) = hashes(s, ascii, &mut buf);
            if t.kind == TokenKind::Word && lex.pronouns_or_titles.contains(w) {
                if lex.pronouns.contains(w) {
                    flags |= flag::PRONOUN;
                }
                if lex.tagger_titles.contains(w) {
                    flags |= flag::TITLE;
                }
            }
            if shape_v == 1 || shape_v == 2 {
                flags |= flag::CAP;
            }
            toks.push(Tok {
                span: t.span,
                b0: t.byte_start as u32,
                b1: t.byte_end as u32,
                w,
                lem,
                shape: shape_v,
                class,
                flags,
                inq: false,
                sent,
                para,
            });
        }
        // Paragraph ids must be dense 0..n for indexing.
        debug_assert!(paras.len() as u32 == toks.last().map_or(0, |t| t.para + 1));
        for &(s, e) in &sents {
            toks[s as usize].flags |= flag::SENT_START;
            toks[e as usize - 1].flags |= flag::SENT_END;
        }
        let soft = paras
            .iter()
            .map(|&(s, _)| {
                let s = s as usize;
                s > 0 && {
                    let gap = &text[toks[s - 1].b1 as usize..toks[s].b0 as usize];
                    gap.bytes().filter(|&b| b == b'\n').count() == 1
                }
            })
            .collect();
        let mut p = Prepared {
            text,
            spans: doc.token_spans(),
            soft,
            toks,
            sents,
            paras,
            n_comma: nc,
            n_quote: nq,
        };
        p.mark_quotes();
        p.mark_single_quotes();
        p
    }

    /// [`suffix_hash`] of token `i`.
    pub fn suffix(&self, i: usize) -> u64 {
        suffix_hash(&self.text[self.toks[i].b0 as usize..self.toks[i].b1 as usize])
    }

    fn ch_before(&self, i: usize) -> char {
        self.text[..self.toks[i].b0 as usize]
            .chars()
            .next_back()
            .unwrap_or(' ')
    }

    fn ch_after(&self, i: usize) -> char {
        self.text[self.toks[i].b1 as usize..]
            .chars()
            .next()
            .unwrap_or(' ')
    }

    fn qchar(&self, i: usize) -> char {
        self.text[self.toks[i].b0 as usize..]
            .chars()
            .next()
            .unwrap_or(' ')
    }

    /// Does double-quote token `i` look like an opening one (by its neighbours)?
    fn looks_open(&self, i: usize) -> Option<bool> {
        match self.qchar(i) {
            '“' | '„' | '«' => return Some(true),
            '”' | '»' => return Some(false),
            _ => {}
        }
        let before = self.ch_before(i);
        // A `''` pair looks out from its second mark.
        let after = match self.toks.get(i + 1) {
            Some(n) if n.flags & flag::PAIR2 != 0 => self.ch_after(i + 1),
            _ => self.ch_after(i),
        };
        let space_before = before.is_whitespace() || matches!(before, '(' | '[' | '—' | '–' | '―');
        let space_after = after.is_whitespace() || matches!(after, ',' | '.' | ';' | ':' | ')');
        match (space_before, space_after) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => None,
        }
    }

    /// Marks quoted passages. Quotes toggle within a paragraph; one left open at a paragraph's end
    /// runs on when the next paragraph opens with a quote (the news convention for a quote over
    /// several paragraphs) or closes one before opening any (one sentence per line, as in PTC).
    fn mark_quotes(&mut self) {
        let n_para = self.paras.len();
        let mut open: Option<usize> = None;
        for p in 0..n_para {
            let (s, e) = self.paras[p];
            let (s, e) = (s as usize, e as usize);
            let mut first_in_para = true;
            for i in s..e {
                if self.toks[i].class == class::QOPEN {
                    let looks = self.looks_open(i);
                    let is_open = match open {
                        None => looks != Some(false),
                        Some(_) => {
                            // Already open: a continuation mark at a paragraph start, or a close.
                            if first_in_para && looks != Some(false) {
                                self.toks[i].inq = true;
                                first_in_para = false;
                                continue;
                            }
                            false
                        }
                    };
                    if is_open {
                        if open.is_none() {
                            open = Some(i);
                        }
                        self.toks[i].class = class::QOPEN;
                    } else {
                        self.toks[i].class = class::QCLOSE;
                        self.toks[i].inq = true;
                        open = None;
                        first_in_para = false;
                        continue;
                    }
                }
                first_in_para = false;
                if open.is_some() {
                    self.toks[i].inq = true;
                }
            }
            if open.is_some() && !self.continues(p + 1) {
                open = None;
            }
        }
        // A closing `''` closes at its second mark, so that the passage takes both.
        for i in 1..self.toks.len() {
            if self.toks[i].flags & flag::PAIR2 != 0 && self.toks[i - 1].class == class::QCLOSE {
                self.toks[i - 1].class = class::OTHER;
                self.toks[i].class = class::QCLOSE;
                self.toks[i].inq = true;
            }
        }
    }

    /// Marks quotations in single quotes, as tabloids write them ('We will fight,' he said):
    /// outside double quotes, an opening mark (space before, a letter or digit after) and the next
    /// closing one of its paragraph (no space before, a space or punctuation after), with at least
    /// three words between, so that scare quotes ('Brexit') and a plural possessive (voters') are
    /// left alone. The marks take the double quote's classes.
    fn mark_single_quotes(&mut self) {
        let mut marked = false;
        for k in 0..self.paras.len() {
            let (s, e) = (self.paras[k].0 as usize, self.paras[k].1 as usize);
            let mut open: Option<usize> = None;
            let mut words = 0;
            for i in s..e {
                let t = self.toks[i];
                if t.inq {
                    open = None;
                    continue;
                }
                if t.class == class::WORD {
                    words += 1;
                    continue;
                }
                if t.class != class::SQUOTE {
                    continue;
                }
                let (before, after, q) = (self.ch_before(i), self.ch_after(i), self.qchar(i));
                let opens = q != '’'
                    && (i == s || before.is_whitespace() || matches!(before, '(' | '—' | '–'))
                    && after.is_alphanumeric();
                let closes = q != '‘'
                    && !before.is_whitespace()
                    && (after.is_whitespace()
                        || matches!(after, ',' | '.' | ';' | ':' | '?' | '!' | ')' | '—' | '–'));
                match open {
                    Some(o) if closes => {
                        if words >= 3 {
                            self.toks[o].class = class::QOPEN;
                            self.toks[i].class = class::QCLOSE;
                            for t in &mut self.toks[o..=i] {
                                t.inq = true;
                            }
                            marked = true;
                        }
                        open = None;
                    }
                    None if opens => {
                        open = Some(i);
                        words = 0;
                    }
                    _ => {}
                }
            }
        }
        if marked {
            // The prefix count of quote marks takes the new ones.
            let mut n = 0;
            for (i, t) in self.toks.iter().enumerate() {
                n += matches!(t.class, class::QOPEN | class::QCLOSE) as u32;
                self.n_quote[i + 1] = n;
            }
        }
    }

    /// Whether a quote open at the end of paragraph `p - 1` runs on into paragraph `p`.
    fn continues(&self, p: usize) -> bool {
        let Some(&(s, e)) = self.paras.get(p) else {
            return false;
        };
        let (s, e) = (s as usize, e as usize);
        if self.toks[s].class == class::QOPEN {
            return true;
        }
        for i in s..e {
            if self.toks[i].class == class::QOPEN {
                return self.looks_open(i) == Some(false);
            }
        }
        false
    }

    /// The token range of the quoted passage containing token `i`, if any.
    pub fn quote_region(&self, i: usize) -> Option<(usize, usize)> {
        if !self.toks[i].inq {
            return None;
        }
        let mut s = i;
        while s > 0 && self.toks[s - 1].inq && self.toks[s - 1].class != class::QCLOSE {
            s -= 1;
        }
        let mut e = i + 1;
        while e < self.toks.len() && self.toks[e].inq {
            if self.toks[e].class == class::QOPEN && self.toks[e].flags & flag::PARA_START == 0 {
                break;
            }
            e += 1;
            if self.toks[e - 1].class == class::QCLOSE {
                break;
            }
        }
        Some((s, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhetor_core::Document;

    #[test]
    fn one_pass_hashes_match_the_string_hashes() {
        let mut buf = String::new();
        for w in [
            "said",
            "Says",
            "SAYING",
            "noted",
            "denied",
            "replies",
            "glass",
            "Trump's",
            "is",
            "a",
            "U.S",
            "1,000",
            "ing",
            "sings",
            "tweeted",
            "cities",
            "Ülker",
            "café",
            "東京都",
            "Ab",
        ] {
            let mut low = String::new();
            lower_into(w, &mut low);
            let suf_start = low.char_indices().rev().nth(2).map(|(i, _)| i).unwrap_or(0);
            let want = (hash_str(&low), hash_str(lemma(&low)));
            assert_eq!(hashes(w, w.is_ascii(), &mut buf), want, "{w}");
            assert_eq!(suffix_hash(w), fx(hash_str(&low[suf_start..]), 3), "{w}");
        }
    }

    #[test]
    fn ascii_shapes_match_the_char_shapes() {
        for w in [
            "", "a", "A", "Ab", "AB", "A1", "A.", "U.S", "1,000", "9a", ".", "-", "'s", "aB",
            "McCain", "NATO", "X", "x1", "(", "Trump's",
        ] {
            assert_eq!(shape(w, w.is_ascii()), shape_chars(w), "{w:?}");
        }
    }

    #[test]
    fn sentences_and_paragraphs_come_from_the_shared_document() {
        let doc = Document::new("A b.\n\nC d. E f.").unwrap();
        let core = rhetor_core::Prepared::new(&doc);
        let p = Prepared::new(&core);
        assert_eq!(p.paras, [(0, 3), (3, 9)]);
        assert_eq!(p.sents, [(0, 3), (3, 6), (6, 9)]);
        let ids: Vec<(u32, u32)> = p.toks.iter().map(|t| (t.sent, t.para)).collect();
        assert_eq!(
            ids,
            [
                (0, 0),
                (0, 0),
                (0, 0),
                (1, 1),
                (1, 1),
                (1, 1),
                (2, 1),
                (2, 1),
                (2, 1)
            ]
        );
        assert!(p.toks[3].flags & flag::SENT_START != 0 && p.toks[3].flags & flag::PARA_START != 0);
        assert!(p.toks[6].flags & flag::SENT_START != 0 && p.toks[6].flags & flag::PARA_START == 0);
    }

    #[test]
    fn quotes_straight_curly_and_over_paragraphs() {
        let text = "He said: \"one two\" and “three.”\n\n“Four, five.\n\n“Six seven.” Done \"x";
        let doc = Document::new(text).unwrap();
        let core = rhetor_core::Prepared::new(&doc);
        let p = Prepared::new(&core);
        let quoted: Vec<&str> = p
            .toks
            .iter()
            .filter(|t| t.inq && t.class == class::WORD)
            .map(|t| doc.slice(t.span))
            .collect();
        // The last quote never closes and no paragraph follows: still marked (to the end).
        assert_eq!(
            quoted,
            ["one", "two", "three", "Four", "five", "Six", "seven", "x"]
        );
        let four = p
            .toks
            .iter()
            .position(|t| doc.slice(t.span) == "Four")
            .unwrap();
        let (s, e) = p.quote_region(four).unwrap();
        assert_eq!(doc.slice(p.toks[s].span), "“");
        assert_eq!(doc.slice(p.toks[e - 1].span), "”");
    }

    /// Quoted word texts and each passage's first and last token.
    fn passages(text: &str) -> (Vec<String>, Vec<(String, String)>) {
        let doc = Document::new(text).unwrap();
        let core = rhetor_core::Prepared::new(&doc);
        let p = Prepared::new(&core);
        let quoted = p
            .toks
            .iter()
            .filter(|t| t.inq && t.class == class::WORD)
            .map(|t| doc.slice(t.span).to_string())
            .collect();
        let mut regions = Vec::new();
        let mut i = 0;
        while i < p.toks.len() {
            match p.quote_region(i) {
                Some((s, e)) => {
                    regions.push((
                        doc.slice(p.toks[s].span).to_string(),
                        doc.slice(p.toks[e - 1].span).to_string(),
                    ));
                    i = e;
                }
                None => i += 1,
            }
        }
        (quoted, regions)
    }

    #[test]
    fn single_quotes_mark_quotations_not_scare_quotes_or_possessives() {
        let (quoted, regions) = passages(
            "'We will fight on,' he said. The 'Brexit' team and the voters' choice. \
             ‘They lied to us all’, she said, \"and 'no' means no.\"",
        );
        assert_eq!(
            quoted,
            [
                "We", "will", "fight", "on", "They", "lied", "to", "us", "all", "and", "no",
                "means", "no"
            ]
        );
        assert_eq!(
            regions,
            vec![
                ("'".to_string(), "'".to_string()),
                ("‘".to_string(), "’".to_string()),
                ("\"".to_string(), "\"".to_string())
            ]
        );
    }

    #[test]
    fn two_apostrophes_are_one_double_quote() {
        let (quoted, regions) =
            passages("''This is big,'' he said, and ''it grows.'' The voters' choice, ''fine''.");
        assert_eq!(quoted, ["This", "is", "big", "it", "grows", "fine"]);
        // Each passage runs from the first mark of its opening pair to the second of its closing one.
        assert_eq!(regions, vec![("'".to_string(), "'".to_string()); 3]);
        let doc = Document::new("''This is big,'' he said").unwrap();
        let core = rhetor_core::Prepared::new(&doc);
        let p = Prepared::new(&core);
        let (s, e) = p.quote_region(2).unwrap();
        assert_eq!((s, e), (0, 8));
        assert_eq!(p.toks[0].class, class::QOPEN);
        assert_eq!(p.toks[1].class, class::OTHER);
        assert_eq!(p.toks[6].class, class::OTHER);
        assert_eq!(p.toks[7].class, class::QCLOSE);
        // A prefix count of double quotes counts each pair once.
        assert_eq!(p.n_quote[8], 2);
    }
}
