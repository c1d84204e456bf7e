//! Features: what the tagger sees at each token and what the classifier sees of each span.
//!
//! Features are hashed strings (a kind byte plus text) so that extraction allocates little; the model
//! maps the hashes it saw in training to weight rows and ignores the rest.

use rhetor_core::{Prepared, Span};
use rhetor_model::{LowerTokens, Repetitions};
use rustc_hash::FxHasher;
use std::hash::{Hash, Hasher};
use std::ops::Range;

/// A hashed feature.
pub type Feat = u64;

fn h(kind: u8, parts: &[&str]) -> Feat {
    let mut s = FxHasher::default();
    kind.hash(&mut s);
    for p in parts {
        p.hash(&mut s);
    }
    s.finish()
}

fn shape(w: &str) -> &'static str {
    if !w.is_ascii() {
        return shape_chars(w);
    }
    // Nearly every token: the same counts from the bytes, without the Unicode tables.
    let b = w.as_bytes();
    let count = |f: fn(&u8) -> bool| b.iter().filter(|&c| f(c)).count();
    shape_class(
        count(u8::is_ascii_uppercase),
        count(u8::is_ascii_lowercase),
        count(u8::is_ascii_digit),
        b.len(),
        b.first().is_some_and(u8::is_ascii_uppercase),
    )
}

/// [`shape`] by characters (what non-ASCII tokens take, and the reference for the ASCII path).
fn shape_chars(w: &str) -> &'static str {
    let (mut up, mut low, mut dig, mut n) = (0, 0, 0, 0);
    for c in w.chars() {
        n += 1;
        if c.is_uppercase() {
            up += 1
        } else if c.is_lowercase() {
            low += 1
        } else if c.is_numeric() {
            dig += 1
        }
    }
    shape_class(
        up,
        low,
        dig,
        n,
        w.chars().next().is_some_and(char::is_uppercase),
    )
}

/// The shape name from the counts of upper-case, lower-case and numeric characters of `n`.
fn shape_class(up: usize, low: usize, dig: usize, n: usize, first_up: bool) -> &'static str {
    match () {
        _ if dig == n => "d",
        _ if dig > 0 => "ad",
        _ if up == n && n > 1 => "XX",
        _ if up == n => "X",
        _ if first_up && low > 0 && up == 1 => "Xx",
        _ if first_up => "XxX",
        _ if low == n => "x",
        _ if up + low == 0 => "p",
        _ => "m",
    }
}

/// The last `n` characters of `w` (all of it when shorter).
fn last_chars(w: &str, n: usize) -> &str {
    if n == 0 {
        return "";
    }
    w.char_indices()
        .rev()
        .nth(n - 1)
        .map_or(w, |(i, _)| &w[i..])
}

/// The first `n` characters of `w` (all of it when shorter).
fn first_chars(w: &str, n: usize) -> &str {
    w.char_indices().nth(n).map_or(w, |(i, _)| &w[..i])
}

fn bucket(n: usize) -> &'static str {
    match n {
        0 => "0",
        1 => "1",
        2 => "2",
        3 => "3",
        4..=5 => "4-5",
        6..=8 => "6-8",
        9..=15 => "9-15",
        16..=30 => "16-30",
        _ => "31+",
    }
}

/// The segment of every token: its sentence. Sentences rather than lines, so that an article
/// pasted as paragraphs reads like PTC's one sentence per line (5-fold CV: TC 0.511 → 0.573 on
/// reflowed articles, unchanged on PTC's layout; BENCHMARKS.md).
fn segments(prep: &Prepared) -> Vec<u32> {
    let mut seg = vec![0u32; prep.len()];
    for (i, s) in prep.sentences().iter().enumerate() {
        for k in s.tokens.clone() {
            seg[k] = i as u32;
        }
    }
    seg
}

/// What the fast tier reads of a prepared document: lower-cased words, line positions, quote state
/// and repetition statistics, on top of the shared tokens and lines.
pub struct Features<'a> {
    /// The shared prepared document (tokens, lines).
    pub prep: &'a Prepared<'a>,
    /// Lower-cased token texts.
    pub lower: LowerTokens,
    raw: Vec<&'a str>,
    /// The segment (sentence) of every token: what "line" means to the features below.
    seg: Vec<u32>,
    line_first: Vec<bool>,
    line_last: Vec<bool>,
    line_pos: Vec<u32>,
    line_len: Vec<u32>,
    line_excl: Vec<bool>,
    line_q: Vec<bool>,
    /// Probability that each line holds a propaganda span (from the sentence model), when known.
    pub line_prob: Option<Vec<f32>>,
    in_quote: Vec<bool>,
    /// [`shape`] of each raw token and of each lower-cased one (read three times a token).
    shape_raw: Vec<&'static str>,
    shape_low: Vec<&'static str>,
    /// What the article repeats (content words and their counts).
    pub rep: Repetitions,
}

impl<'a> Features<'a> {
    /// Gathers line and article-level statistics over the shared tokens.
    pub fn new(prep: &'a Prepared<'a>) -> Features<'a> {
        let n = prep.len();
        let raw: Vec<&str> = (0..n).map(|k| prep.token_text(k)).collect();
        let lower = LowerTokens::new(prep);
        let seg = segments(prep);
        let line = &seg;
        let mut line_first = vec![false; n];
        let mut line_last = vec![false; n];
        let mut line_pos = vec![0u32; n];
        let mut line_len = vec![0u32; n];
        let mut line_excl = vec![false; n];
        let mut line_q = vec![false; n];
        let mut i = 0;
        while i < n {
            let mut j = i;
            while j < n && line[j] == line[i] {
                j += 1;
            }
            let excl = raw[i..j].contains(&"!");
            let q = raw[i..j].contains(&"?");
            for k in i..j {
                line_pos[k] = (k - i) as u32;
                line_len[k] = (j - i) as u32;
                line_excl[k] = excl;
                line_q[k] = q;
            }
            line_first[i] = true;
            line_last[j - 1] = true;
            i = j;
        }
        // Quote state: straight quotes toggle, curly ones open and close; a new line closes.
        let mut in_quote = vec![false; n];
        let mut q = false;
        let lines = prep.lines();
        for k in 0..n {
            if k > 0 && lines[k] != lines[k - 1] {
                q = false;
            }
            match raw[k] {
                "\"" => {
                    q = !q;
                    in_quote[k] = true;
                }
                "“" => {
                    q = true;
                    in_quote[k] = true;
                }
                "”" => {
                    in_quote[k] = true;
                    q = false;
                }
                _ => in_quote[k] = q,
            }
        }
        let rep = Repetitions::new(prep, &lower);
        let shape_raw = raw.iter().map(|w| shape(w)).collect();
        let shape_low = lower.iter().map(shape).collect();
        Features {
            shape_raw,
            shape_low,
            prep,
            lower,
            raw,
            seg,
            line_first,
            line_last,
            line_pos,
            line_len,
            line_excl,
            line_q,
            line_prob: None,
            in_quote,
            rep,
        }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.prep.len()
    }

    /// True when there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.prep.is_empty()
    }

    /// The segment (sentence) index of every token, as the sentence model counts them.
    pub fn segments(&self) -> &[u32] {
        &self.seg
    }

    fn line(&self) -> &[u32] {
        &self.seg
    }

    fn word(&self, k: isize) -> &str {
        if k < 0 {
            "<s>"
        } else if k as usize >= self.len() {
            "</s>"
        } else {
            &self.lower[k as usize]
        }
    }

    /// [`shape`] of [`Features::word`]`(k)`.
    fn word_shape(&self, k: isize) -> &'static str {
        match usize::try_from(k) {
            Ok(k) if k < self.len() => self.shape_low[k],
            _ => shape(self.word(k)),
        }
    }

    /// The tagger's features of token `k`.
    pub fn token_features(&self, k: usize, out: &mut Vec<Feat>) {
        out.clear();
        let ki = k as isize;
        let w = self.word(ki);
        out.push(h(0, &[]));
        out.push(h(1, &[w]));
        out.push(h(2, &[self.word(ki - 1)]));
        out.push(h(3, &[self.word(ki + 1)]));
        out.push(h(4, &[self.word(ki - 2)]));
        out.push(h(5, &[self.word(ki + 2)]));
        out.push(h(6, &[self.word(ki - 1), w]));
        out.push(h(7, &[w, self.word(ki + 1)]));
        out.push(h(8, &[self.word(ki - 2), self.word(ki - 1)]));
        out.push(h(9, &[self.word(ki + 1), self.word(ki + 2)]));
        let raw = self.raw[k];
        let sh = self.shape_raw[k];
        out.push(h(10, &[sh]));
        // Affixes are slices of the word (by characters), not new strings: a str hashes the same
        // either way, and this runs on every token.
        out.push(h(11, &[last_chars(w, 3)]));
        if w.chars().nth(4).is_some() {
            out.push(h(29, &[last_chars(w, 4)]));
            out.push(h(30, &[first_chars(w, 3)]));
        }
        out.push(h(31, &[self.word(ki - 1), w, self.word(ki + 1)]));
        out.push(h(32, &[last_chars(w, 2), sh]));
        out.push(h(
            12,
            &[sh, if self.line_first[k] { "first" } else { "mid" }],
        ));
        if self.line_first[k] {
            out.push(h(13, &[]));
        }
        if self.line_last[k] {
            out.push(h(14, &[]));
        }
        if self.line()[k] == 0 {
            out.push(h(15, &[]));
        }
        let pos = self.line_pos[k] as usize;
        out.push(h(16, &[bucket(pos)]));
        out.push(h(17, &[bucket(self.line_len[k] as usize - pos - 1)]));
        out.push(h(18, &[bucket(self.line_len[k] as usize)]));
        if self.line_excl[k] {
            out.push(h(19, &[]));
        }
        if self.line_q[k] {
            out.push(h(20, &[]));
        }
        if self.in_quote[k] {
            out.push(h(21, &[]));
            out.push(h(22, &[w]));
        }
        if self.rep.content_word(k).is_some() {
            let cnt = self.rep.word_count(k) as usize;
            out.push(h(23, &[bucket(cnt)]));
            let br = self.rep.bigram_count(k) as usize;
            if br > 1 {
                out.push(h(24, &[bucket(br)]));
            }
        }
        if raw.starts_with('#') || (k > 0 && self.raw[k - 1] == "#") {
            out.push(h(25, &[]));
        }
        if let Some(lp) = &self.line_prob {
            let b = ((lp[self.line()[k] as usize] * 10.0) as usize).min(9);
            const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
            out.push(h(27, &[DIGITS[b]]));
            out.push(h(
                28,
                &[DIGITS[b], if self.line_first[k] { "first" } else { sh }],
            ));
        }
        // The previous and next punctuation shape the clause (quotes, colons, dashes).
        out.push(h(
            26,
            &[self.word_shape(ki - 1), sh, self.word_shape(ki + 1)],
        ));
    }

    /// Number of lines (the last token's line + 1).
    pub fn n_lines(&self) -> usize {
        self.line().last().map_or(0, |&l| l as usize + 1)
    }

    /// The sentence model's features of every line: words, bigrams, punctuation, length, title.
    pub fn line_features(&self) -> Vec<Vec<Feat>> {
        let mut out = vec![Vec::new(); self.n_lines()];
        for (l, f) in out.iter_mut().enumerate() {
            f.push(h(200, &[]));
            if l == 0 {
                f.push(h(201, &[]));
            }
        }
        for k in 0..self.len() {
            self.line_token_features(k, &mut out[self.line()[k] as usize]);
        }
        out
    }

    /// [`Features::line_features`] one line after another in `feats`, line `l`'s ending at
    /// `ends[l]`: the same features in the same order, without a vector per line.
    pub fn line_features_flat(&self, feats: &mut Vec<Feat>, ends: &mut Vec<usize>) {
        feats.clear();
        ends.clear();
        if !self.line().windows(2).all(|w| w[0] <= w[1]) {
            // Lines out of token order (never seen): the nested form, flattened.
            for f in self.line_features() {
                feats.extend_from_slice(&f);
                ends.push(feats.len());
            }
            return;
        }
        feats.reserve(self.len() * 2 + self.n_lines() * 3);
        let mut k = 0;
        for l in 0..self.n_lines() {
            feats.push(h(200, &[]));
            if l == 0 {
                feats.push(h(201, &[]));
            }
            while k < self.len() && self.line()[k] as usize == l {
                self.line_token_features(k, feats);
                k += 1;
            }
            ends.push(feats.len());
        }
    }

    /// What token `k` adds to its line's features.
    fn line_token_features(&self, k: usize, f: &mut Vec<Feat>) {
        f.push(h(202, &[&self.lower[k]]));
        if k + 1 < self.len() && self.line()[k + 1] == self.line()[k] {
            f.push(h(203, &[&self.lower[k], &self.lower[k + 1]]));
        }
        if self.line_first[k] {
            f.push(h(204, &[bucket(self.line_len[k] as usize)]));
        }
        if self.rep.content_word(k).is_some() && self.rep.bigram_count(k) > 1 {
            f.push(h(205, &[]));
        }
    }

    /// The tokens of the segment (sentence) that token `a` is in, stretched to at least `a..b`.
    fn segment_around(&self, a: usize, b: usize) -> Range<usize> {
        let l = self.line()[a];
        let mut s = a;
        while s > 0 && self.line()[s - 1] == l {
            s -= 1;
        }
        let mut e = b;
        while e < self.len() && self.line()[e] == l {
            e += 1;
        }
        s..e
    }

    /// The span classifier's word features of a span, each with the words it stands for: the
    /// words and word pairs of the span, the whole of a short span, and the words of its sentence
    /// around it. What an explanation can name (the other features are shapes and counts). The
    /// words are token ranges, so that only the few an explanation keeps become strings
    /// ([`Features::words_text`]).
    pub fn span_words(&self, span: Span) -> Vec<(Feat, Words)> {
        let r = self.prep.tokens_in(span);
        let (a, b) = (r.start, r.end);
        let mut out = Vec::new();
        if a == b {
            return out;
        }
        for k in a..b {
            out.push((h(102, &[&self.lower[k]]), Words::Tokens(k..k + 1)));
            if k + 1 < b {
                out.push((
                    h(104, &[&self.lower[k], &self.lower[k + 1]]),
                    Words::Tokens(k..k + 2),
                ));
            }
        }
        if b - a <= 4 {
            let whole: Vec<&str> = (a..b).map(|k| &self.lower[k]).collect();
            out.push((h(108, &[&whole.join(" ")]), Words::Span(span)));
        }
        let Range { start: s, end: e } = self.segment_around(a, b);
        for k in (s..a).chain(b..e) {
            out.push((h(111, &[&self.lower[k]]), Words::Tokens(k..k + 1)));
        }
        out
    }

    /// The tokens' raw forms of `w` (a token range, joined by spaces, or a span's own text).
    pub fn words(&self, w: &Words) -> Vec<&str> {
        match w {
            Words::Tokens(r) => self.raw[r.clone()].to_vec(),
            Words::Span(s) => vec![self.prep.doc().slice(*s)],
        }
    }

    /// Does any of the raw forms of `w` pass `test`? ([`Features::words`] without allocating.)
    pub fn any_word(&self, w: &Words, test: impl Fn(&str) -> bool) -> bool {
        match w {
            Words::Tokens(r) => self.raw[r.clone()].iter().any(|t| test(t)),
            Words::Span(s) => test(self.prep.doc().slice(*s)),
        }
    }

    /// The text an explanation shows for `w`.
    pub fn words_text(&self, w: &Words) -> String {
        self.words(w).join(" ")
    }

    /// The classifier's features of a span.
    pub fn span_features(&self, span: Span, out: &mut Vec<Feat>) {
        out.clear();
        out.push(h(100, &[]));
        let r = self.prep.tokens_in(span);
        let (a, b) = (r.start, r.end);
        let ntok = b - a;
        out.push(h(101, &[bucket(ntok)]));
        for k in a..b {
            out.push(h(102, &[&self.lower[k]]));
            if let Some(c) = self.rep.content_word(k) {
                out.push(h(103, &[c]));
            }
            if k + 1 < b {
                out.push(h(104, &[&self.lower[k], &self.lower[k + 1]]));
            }
            out.push(h(105, &[self.shape_raw[k]]));
        }
        if ntok > 0 {
            out.push(h(106, &[&self.lower[a]]));
            out.push(h(107, &[&self.lower[b - 1]]));
            if ntok <= 4 {
                let whole: Vec<&str> = (a..b).map(|k| &self.lower[k]).collect();
                out.push(h(108, &[&whole.join(" ")]));
            }
        }
        for d in 1..=3isize {
            out.push(h(109, &[&d.to_string(), self.word(a as isize - d)]));
            out.push(h(110, &[&d.to_string(), self.word(b as isize - 1 + d)]));
        }
        // The sentence (line) around the span, as a bag of words.
        if ntok > 0 {
            let Range { start: s, end: e } = self.segment_around(a, b);
            for k in s..e {
                if k < a || k >= b {
                    out.push(h(111, &[&self.lower[k]]));
                }
            }
            out.push(h(
                112,
                &[
                    if s == a { "start" } else { "in" },
                    if e == b { "end" } else { "in" },
                ],
            ));
            if self.line()[a] == 0 {
                out.push(h(113, &[]));
            }
            if self.in_quote[a] {
                out.push(h(114, &[]));
            }
            if self.line_q[a] {
                out.push(h(115, &[]));
            }
            if self.line_excl[a] {
                out.push(h(116, &[]));
            }
        }
        let text = self.prep.doc().slice(span);
        for (c, name) in [
            ('?', "q"),
            ('!', "e"),
            ('"', "dq"),
            ('“', "dq"),
            ('#', "hash"),
        ] {
            if text.contains(c) {
                out.push(h(117, &[name]));
            }
        }
        let (total, before) = self.rep.count(r);
        out.push(h(118, &[bucket(total)]));
        if total > 1 {
            out.push(h(119, &[if before > 0 { "later" } else { "first" }]));
        }
        let caps = text.chars().filter(|c| c.is_uppercase()).count();
        let letters = text.chars().filter(|c| c.is_alphabetic()).count();
        if letters > 3 && caps * 2 > letters {
            out.push(h(120, &[]));
        }
    }
}

/// Which words a feature of [`Features::span_words`] stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Words {
    /// Tokens, by index.
    Tokens(Range<usize>),
    /// The text of a span, as written.
    Span(Span),
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::shape_chars as shape_reference;

    #[test]
    fn shapes_are_the_character_shapes() {
        let words = [
            "",
            "a",
            "A",
            "I",
            "the",
            "The",
            "NATO",
            "McDonald",
            "iPhone",
            "2016",
            "3f",
            "G7",
            "co-op",
            "U.S.",
            "don't",
            "--",
            ",",
            "\"",
            "x1",
            "ÉLYSÉE",
            "Ünïcødé",
            "naïve",
            "日本",
            "½",
            "٣",
            "Ⅻ",
            "👍🏽ok",
        ];
        for w in words {
            assert_eq!(shape(w), shape_reference(w), "{w:?}");
        }
        // Every two-byte ASCII string.
        for a in 0u8..128 {
            for b in 0u8..128 {
                let w = String::from_utf8(vec![a, b]).unwrap();
                assert_eq!(shape(&w), shape_reference(&w), "{w:?}");
            }
        }
    }

    #[test]
    fn affixes_are_the_characters_collected_before() {
        for w in [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "naïveté",
            "日本語の新聞",
            "👍🏽ok",
            "e\u{301}t\u{301}",
        ] {
            let cs: Vec<char> = w.chars().collect();
            for n in 0..7 {
                let last: String = cs[cs.len().saturating_sub(n)..].iter().collect();
                let first: String = cs[..n.min(cs.len())].iter().collect();
                assert_eq!(last_chars(w, n), last, "{w} {n}");
                assert_eq!(first_chars(w, n), first, "{w} {n}");
            }
        }
        // A slice hashes as the string it replaces.
        assert_eq!(h(11, &["ing"]), h(11, &[&String::from("ing")]));
    }
    use rhetor_core::Document;

    #[test]
    fn quote_state_and_lines() {
        let doc = Document::new("Title\n\nHe said \"a disgrace\" today.").unwrap();
        let prep = Prepared::new(&doc);
        let p = Features::new(&prep);
        let ix = p.lower.iter().position(|w| w == "disgrace").unwrap();
        assert!(p.in_quote[ix]);
        assert!(!p.in_quote[p.len() - 1]);
        // Segments are sentences, not lines: the title is the first, the quote's sentence the second.
        assert_eq!(p.line()[ix], 1);
        let mut f = Vec::new();
        p.token_features(ix, &mut f);
        assert!(f.contains(&h(21, &[])));
    }
}
