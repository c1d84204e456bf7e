//! A document prepared for the taggers: tokens with hashed word forms, sentence and paragraph ids,
//! and quotation regions (straight and curly quotes, quotes running over several paragraphs).

use rhetor_core::{Document, Span, TokenKind};

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
}

/// Token flags.
pub(crate) mod flag {
    pub const PRONOUN: u8 = 1;
    pub const CAP: u8 = 2;
    pub const TITLE: u8 = 4;
    pub const SENT_START: u8 = 8;
    pub const SENT_END: u8 = 16;
    pub const PARA_START: u8 = 32;
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
    /// Hash of the last three letters.
    pub suf: u64,
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
    pub toks: Vec<Tok>,
    /// Token ranges `[start, end)` of sentences.
    pub sents: Vec<(u32, u32)>,
    /// Token ranges of paragraphs (lines).
    pub paras: Vec<(u32, u32)>,
    /// Prefix counts (length `toks.len() + 1`).
    pub n_comma: Vec<u32>,
    pub n_quote: Vec<u32>,
}

/// A set of word hashes with a 1024-bit filter in front: most lookups (words not in the set) end
/// after one bit test.
#[derive(Debug, Clone, Default)]
pub(crate) struct WordSet {
    bloom: [u64; 16],
    sorted: Vec<u64>,
}

impl WordSet {
    pub fn new(mut v: Vec<u64>) -> WordSet {
        v.sort_unstable();
        v.dedup();
        let mut bloom = [0u64; 16];
        for &h in &v {
            let b = (h >> 54) as usize;
            bloom[b >> 6] |= 1 << (b & 63);
        }
        WordSet { bloom, sorted: v }
    }

    #[inline]
    pub fn contains(&self, h: u64) -> bool {
        let b = (h >> 54) as usize;
        self.bloom[b >> 6] & (1 << (b & 63)) != 0 && self.sorted.binary_search(&h).is_ok()
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The hashes, sorted.
    pub fn as_slice(&self) -> &[u64] {
        &self.sorted
    }
}

pub(crate) const fn fx(mut h: u64, x: u64) -> u64 {
    h = (h.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    h
}

pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in s.bytes() {
        h = fx(h, b as u64);
    }
    fx(h, 0xff)
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

const PRONOUNS: &[&str] = &[
    "he", "she", "they", "i", "we", "it", "you", "who", "which", "his", "her", "their", "him",
    "them", "us", "me",
];

const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "dr",
    "sen",
    "rep",
    "gov",
    "gen",
    "president",
    "senator",
    "governor",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "secretary",
    "minister",
    "chairman",
    "director",
    "judge",
    "mayor",
    "rev",
    "candidate",
    "representative",
    "congressman",
    "congresswoman",
    "official",
    "officials",
    "adviser",
    "advisor",
    "aide",
    "leader",
    "chief",
    "ceo",
];

struct WordLists {
    pronouns: WordSet,
    titles: WordSet,
    abbrevs: WordSet,
}

/// Words whose period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "gen", "gov", "sen", "rep", "reps", "lt", "col",
    "sgt", "capt", "cmdr", "adm", "maj", "prof", "rev", "hon", "inc", "co", "corp", "ltd", "vs",
    "jan", "feb", "mar", "apr", "aug", "sept", "sep", "oct", "nov", "dec", "mt", "ft", "ave",
    "dept", "est", "approx", "fig", "vol", "pp", "ed", "eds", "al", "etc",
];

fn word_lists() -> &'static WordLists {
    static L: std::sync::OnceLock<WordLists> = std::sync::OnceLock::new();
    L.get_or_init(|| {
        let h = |v: &[&str]| WordSet::new(v.iter().map(|w| hash_str(w)).collect());
        WordLists {
            pronouns: h(PRONOUNS),
            titles: h(TITLES),
            abbrevs: h(ABBREVIATIONS),
        }
    })
}

fn shape(s: &str) -> u8 {
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

/// Hashes of a token's lower-cased form, its lemma and its last three letters, in one pass for
/// ASCII (the same values as hashing the lower-cased strings).
fn hashes(s: &str, buf: &mut String) -> (u64, u64, u64) {
    if !s.is_ascii() {
        lower_into(s, buf);
        let suf_start = buf.char_indices().rev().nth(2).map(|(i, _)| i).unwrap_or(0);
        return (
            hash_str(buf),
            hash_str(lemma(buf)),
            fx(hash_str(&buf[suf_start..]), 3),
        );
    }
    let b = s.as_bytes();
    let n = b.len();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    // prefix[k] = hash of the first n - 3 + k bytes, for the lemma.
    let mut prefix = [h; 3];
    for (k, &c) in b.iter().enumerate() {
        if k + 3 >= n {
            prefix[k + 3 - n] = h;
        }
        h = fx(h, c.to_ascii_lowercase() as u64);
    }
    let w = fx(h, 0xff);
    let low = |k: usize| b[k].to_ascii_lowercase();
    let ends =
        |suf: &[u8]| n >= suf.len() && (0..suf.len()).all(|k| low(n - suf.len() + k) == suf[k]);
    let lem = if n > 5 && ends(b"ing") || n > 4 && (ends(b"ied") || ends(b"ies")) {
        fx(prefix[0], 0xff)
    } else if n > 4 && ends(b"ed") {
        fx(prefix[1], 0xff)
    } else if n > 3 && ends(b"s") && !ends(b"ss") && !ends(b"'s") {
        fx(prefix[2], 0xff)
    } else {
        w
    };
    let mut hs = 0xcbf2_9ce4_8422_2325u64;
    for k in n.saturating_sub(3)..n {
        hs = fx(hs, low(k) as u64);
    }
    (w, lem, fx(fx(hs, 0xff), 3))
}

fn is_upper_start(s: &str) -> bool {
    s.chars().next().is_some_and(|c| {
        c.is_uppercase() || c.is_ascii_digit() || matches!(c, '"' | '“' | '\'' | '‘')
    })
}

impl<'a> Prepared<'a> {
    pub fn new(doc: &'a Document) -> Prepared<'a> {
        let text = doc.text();
        let raw = doc.tokens();
        let lists = word_lists();
        let mut toks: Vec<Tok> = Vec::with_capacity(raw.len());
        let mut buf = String::new();
        // Paragraphs are lines. Sentences end at a line break, or after ". ! ?" (and closing quotes
        // or brackets right after) when a space and an upper-case letter, digit or opening quote
        // follow; a period after a short capitalised word ("Mr.", "U.S.") ends none.
        let (mut para, mut sent) = (0u32, 0u32);
        let mut end_cand = false;
        let mut sents: Vec<(u32, u32)> = Vec::new();
        for (i, t) in raw.iter().enumerate() {
            let s = &text[t.byte_start..t.byte_end];
            if i > 0 {
                let prev = &raw[i - 1];
                let gap = &text[prev.byte_end..t.byte_start];
                let new_sent = if gap.contains('\n') {
                    para += 1;
                    true
                } else {
                    end_cand && !gap.is_empty() && is_upper_start(s)
                };
                if new_sent {
                    sents.push((sents.last().map_or(0, |x| x.1), i as u32));
                    sent += 1;
                }
            }
            let (class, shape_v) = if t.kind == TokenKind::Word {
                (class::WORD, shape(s))
            } else {
                let c = s.chars().next().unwrap_or(' ');
                let cl = match c {
                    ',' => class::COMMA,
                    '.' | '!' | '?' | ';' | '…' => class::STOP,
                    ':' => class::COLON,
                    '-' | '—' | '–' => class::DASH,
                    '(' | ')' | '[' | ']' => class::PAREN,
                    '\'' | '‘' | '’' => class::SQUOTE,
                    c if is_dquote(c) => class::QOPEN, // direction fixed below
                    _ => class::OTHER,
                };
                (cl, 4)
            };
            // Sentence-end candidates for the next token.
            let adjacent = i > 0 && raw[i - 1].byte_end == t.byte_start;
            end_cand = match s {
                "!" | "?" => true,
                "." => {
                    let abbrev = adjacent && raw[i - 1].kind == TokenKind::Word && {
                        let prev = &text[raw[i - 1].byte_start..raw[i - 1].byte_end];
                        let mut cs = prev.chars();
                        let single_cap =
                            cs.next().is_some_and(char::is_uppercase) && cs.next().is_none();
                        single_cap || prev.contains('.') || lists.abbrevs.contains(toks[i - 1].w)
                    };
                    !abbrev || end_cand
                }
                "\"" | "”" | "’" | "'" | ")" => end_cand && adjacent,
                _ => false,
            };
            let (w, lem, suf) = hashes(s, &mut buf);
            let mut flags = 0u8;
            if t.kind == TokenKind::Word {
                if lists.pronouns.contains(w) {
                    flags |= flag::PRONOUN;
                }
                if lists.titles.contains(w) {
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
                suf,
                shape: shape_v,
                class,
                flags,
                inq: false,
                sent,
                para,
            });
        }
        if !toks.is_empty() {
            sents.push((sents.last().map_or(0, |x| x.1), toks.len() as u32));
        }
        let mut paras: Vec<(u32, u32)> = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            if paras.len() as u32 != t.para + 1 {
                paras.push((i as u32, i as u32 + 1));
            } else {
                paras.last_mut().unwrap().1 = i as u32 + 1;
            }
        }
        // Paragraph ids must be dense 0..n for indexing.
        debug_assert!(paras.len() as u32 == toks.last().map_or(0, |t| t.para + 1));
        for &(s, e) in &sents {
            toks[s as usize].flags |= flag::SENT_START;
            toks[e as usize - 1].flags |= flag::SENT_END;
        }
        for &(s, _) in &paras {
            toks[s as usize].flags |= flag::PARA_START;
        }
        let mut p = Prepared {
            text,
            toks,
            sents,
            paras,
            n_comma: Vec::new(),
            n_quote: Vec::new(),
        };
        p.mark_quotes();
        let n = p.toks.len();
        let mut nc = Vec::with_capacity(n + 1);
        let mut nq = Vec::with_capacity(n + 1);
        let (mut a, mut b) = (0u32, 0u32);
        nc.push(0);
        nq.push(0);
        for t in &p.toks {
            a += (t.class == class::COMMA) as u32;
            b += (t.class == class::QOPEN || t.class == class::QCLOSE) as u32;
            nc.push(a);
            nq.push(b);
        }
        p.n_comma = nc;
        p.n_quote = nq;
        p
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
        let after = self.ch_after(i);
        let space_before = before.is_whitespace() || matches!(before, '(' | '[' | '—' | '–');
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

    #[test]
    fn one_pass_hashes_match_the_string_hashes() {
        let mut buf = String::new();
        for w in [
            "said", "Says", "SAYING", "noted", "denied", "replies", "glass", "Trump's", "is", "a",
            "U.S", "1,000", "ing", "sings", "tweeted", "cities",
        ] {
            let mut low = String::new();
            lower_into(w, &mut low);
            let suf_start = low.char_indices().rev().nth(2).map(|(i, _)| i).unwrap_or(0);
            let want = (
                hash_str(&low),
                hash_str(lemma(&low)),
                fx(hash_str(&low[suf_start..]), 3),
            );
            assert_eq!(hashes(w, &mut buf), want, "{w}");
        }
    }

    fn sents(text: &str) -> Vec<String> {
        let doc = Document::new(text).unwrap();
        let p = Prepared::new(&doc);
        p.sents
            .iter()
            .map(|&(s, e)| {
                let a = p.toks[s as usize].span.start();
                let b = p.toks[e as usize - 1].span.end();
                doc.slice(Span::new(a, b)).to_string()
            })
            .collect()
    }

    #[test]
    fn sentences_and_paragraphs() {
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
        let doc = Document::new("A b.\n\nC d. E f.").unwrap();
        let p = Prepared::new(&doc);
        assert_eq!(p.paras.len(), 2);
        assert_eq!(p.sents.len(), 3);
        assert_eq!(p.toks.iter().map(|t| t.para).max(), Some(1));
    }

    #[test]
    fn quotes_straight_curly_and_over_paragraphs() {
        let text = "He said: \"one two\" and “three.”\n\n“Four, five.\n\n“Six seven.” Done \"x";
        let doc = Document::new(text).unwrap();
        let p = Prepared::new(&doc);
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
}
