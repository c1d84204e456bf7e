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
        if s.chars().count() > 1 && s.chars().all(|c| !c.is_lowercase()) {
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

impl<'a> Prepared<'a> {
    pub fn new(doc: &'a Document) -> Prepared<'a> {
        let text = doc.text();
        let raw = doc.tokens();
        let sent_spans = doc.sentences();
        let mut toks = Vec::with_capacity(raw.len());
        let mut buf = String::new();
        // Sentence and paragraph ids: walk sentences alongside tokens.
        let mut si = 0usize;
        let mut para = 0u32;
        let mut last_sent_seen: Option<usize> = None;
        let mut prev_sent_end_byte = 0usize;
        for t in &raw {
            while si + 1 < sent_spans.len() && t.span.start() >= sent_spans[si].end() {
                si += 1;
            }
            if last_sent_seen != Some(si) {
                // A new sentence: a new paragraph when a line break lies since the last one.
                if last_sent_seen.is_some() && text[prev_sent_end_byte..t.byte_start].contains('\n')
                {
                    para += 1;
                }
                last_sent_seen = Some(si);
            }
            prev_sent_end_byte = t.byte_end;
            let s = &text[t.byte_start..t.byte_end];
            lower_into(s, &mut buf);
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
            let mut flags = 0u8;
            if PRONOUNS.contains(&buf.as_str()) {
                flags |= flag::PRONOUN;
            }
            if shape_v == 1 || shape_v == 2 {
                flags |= flag::CAP;
            }
            if TITLES.contains(&buf.trim_end_matches('.')) {
                flags |= flag::TITLE;
            }
            let suf_start = buf.char_indices().rev().nth(2).map(|(i, _)| i).unwrap_or(0);
            toks.push(Tok {
                span: t.span,
                b0: t.byte_start as u32,
                b1: t.byte_end as u32,
                w: hash_str(&buf),
                lem: hash_str(lemma(&buf)),
                suf: fx(hash_str(&buf[suf_start..]), 3),
                shape: shape_v,
                class,
                flags,
                inq: false,
                sent: 0,
                para,
            });
        }
        // Sentence token ranges (sentence = maximal run with the same sentence span).
        let mut sents: Vec<(u32, u32)> = Vec::new();
        let mut si = 0usize;
        let mut cur: Option<(usize, u32)> = None;
        for (i, t) in toks.iter_mut().enumerate() {
            while si + 1 < sent_spans.len() && t.span.start() >= sent_spans[si].end() {
                si += 1;
            }
            match cur {
                Some((s, _)) if s == si => {}
                _ => {
                    if let Some((_, st)) = cur {
                        sents.push((st, i as u32));
                    }
                    cur = Some((si, i as u32));
                }
            }
            t.sent = sents.len() as u32;
        }
        if let Some((_, st)) = cur {
            sents.push((st, toks.len() as u32));
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
