//! Features: what the tagger sees at each token and what the classifier sees of each span.
//!
//! Features are hashed strings (a kind byte plus text) so that extraction allocates little; the model
//! maps the hashes it saw in training to weight rows and ignores the rest.

use rhetor_core::{Document, Span, TokenKind};
use rustc_hash::{FxHashMap, FxHasher};
use std::cell::RefCell;
use std::hash::{Hash, Hasher};

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

const STOP: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "with",
    "from", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that",
    "these", "those", "he", "she", "they", "we", "i", "you", "his", "her", "their", "our", "my",
    "your", "him", "them", "us", "me", "not", "no", "so", "do", "does", "did", "has", "have",
    "had", "will", "would", "can", "could", "should", "may", "might", "must", "which", "who",
    "whom", "what", "when", "where", "why", "how", "than", "then", "there", "here", "also", "just",
    "about", "into", "over", "after", "before", "up", "down", "out", "all", "any", "some", "said",
    "says", "s", "t",
];

fn is_stop(w: &str) -> bool {
    STOP.contains(&w)
}

/// Crude stem for repetition matching: lower case, no trailing plural `s`.
fn stem(w: &str) -> &str {
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        &w[..w.len() - 1]
    } else {
        w
    }
}

fn shape(w: &str) -> &'static str {
    let mut up = 0;
    let mut low = 0;
    let mut dig = 0;
    let mut n = 0;
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
    let first_up = w.chars().next().is_some_and(char::is_uppercase);
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

/// A document prepared for feature extraction: tokens, lower-cased words, lines, quote state and
/// repetition statistics.
pub struct Prepared<'a> {
    /// The document.
    pub doc: &'a Document,
    /// Tokens (code-point spans).
    pub spans: Vec<Span>,
    /// Lower-cased token texts.
    pub lower: Vec<String>,
    raw: Vec<&'a str>,
    /// Line (0-based) of each token.
    pub line: Vec<u32>,
    line_first: Vec<bool>,
    line_last: Vec<bool>,
    line_pos: Vec<u32>,
    line_len: Vec<u32>,
    line_excl: Vec<bool>,
    line_q: Vec<bool>,
    /// Probability that each line holds a propaganda span (from the sentence model), when known.
    pub line_prob: Option<Vec<f32>>,
    in_quote: Vec<bool>,
    /// Index into `content` for content-word tokens.
    content_ix: Vec<Option<u32>>,
    /// Stemmed content words of the article in order.
    content: Vec<String>,
    word_count: FxHashMap<String, u32>,
    bigram_count: FxHashMap<(u32, u32), u32>,
    content_id: Vec<u32>,
    /// For each n-gram length asked so far: hash of a content-word n-gram -> its start positions
    /// (ascending). Built on first use, so counting repetitions stays linear in the article length.
    ngram_pos: RefCell<FxHashMap<usize, FxHashMap<u64, Vec<u32>>>>,
}

fn hash_ids(ids: &[u32]) -> u64 {
    let mut s = FxHasher::default();
    ids.hash(&mut s);
    s.finish()
}

impl<'a> Prepared<'a> {
    /// Tokenises and gathers article-level statistics.
    pub fn new(doc: &'a Document) -> Prepared<'a> {
        let text = doc.text();
        let toks = doc.tokens();
        let n = toks.len();
        let spans: Vec<Span> = toks.iter().map(|t| t.span).collect();
        let raw: Vec<&str> = toks.iter().map(|t| t.text(text)).collect();
        let lower: Vec<String> = raw.iter().map(|w| w.to_lowercase()).collect();
        let kind: Vec<TokenKind> = toks.iter().map(|t| t.kind).collect();
        // Lines: a token's line is the number of '\n' before it.
        let mut line = Vec::with_capacity(n);
        let mut cur = 0u32;
        let mut last_b = 0usize;
        for t in &toks {
            cur += text.as_bytes()[last_b..t.byte_start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u32;
            last_b = t.byte_start;
            line.push(cur);
        }
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
        for k in 0..n {
            if k > 0 && line[k] != line[k - 1] {
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
        let mut content = Vec::new();
        let mut content_ix = vec![None; n];
        for k in 0..n {
            if kind[k] == TokenKind::Word && !is_stop(&lower[k]) {
                content_ix[k] = Some(content.len() as u32);
                content.push(stem(&lower[k]).to_string());
            }
        }
        let mut word_count: FxHashMap<String, u32> = FxHashMap::default();
        let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
        let mut content_id = Vec::with_capacity(content.len());
        for w in &content {
            *word_count.entry(w.clone()).or_insert(0) += 1;
            let next = ids.len() as u32;
            content_id.push(*ids.entry(w.as_str()).or_insert(next));
        }
        let mut bigram_count = FxHashMap::default();
        for p in content_id.windows(2) {
            *bigram_count.entry((p[0], p[1])).or_insert(0) += 1;
        }
        Prepared {
            doc,
            spans,
            lower,
            raw,
            line,
            line_first,
            line_last,
            line_pos,
            line_len,
            line_excl,
            line_q,
            line_prob: None,
            in_quote,
            content_ix,
            content,
            word_count,
            bigram_count,
            content_id,
            ngram_pos: RefCell::new(FxHashMap::default()),
        }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
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

    /// How often the content bigram starting or ending at token `k` occurs in the article.
    fn bigram_rep(&self, k: usize) -> u32 {
        let Some(c) = self.content_ix[k] else {
            return 0;
        };
        let c = c as usize;
        let mut best = 0;
        if c + 1 < self.content_id.len() {
            best = best.max(self.bigram_count[&(self.content_id[c], self.content_id[c + 1])]);
        }
        if c > 0 {
            best = best.max(self.bigram_count[&(self.content_id[c - 1], self.content_id[c])]);
        }
        best
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
        let sh = shape(raw);
        out.push(h(10, &[sh]));
        let suf: String = {
            let cs: Vec<char> = w.chars().collect();
            cs[cs.len().saturating_sub(3)..].iter().collect()
        };
        out.push(h(11, &[&suf]));
        let cs: Vec<char> = w.chars().collect();
        if cs.len() > 4 {
            let suf4: String = cs[cs.len() - 4..].iter().collect();
            let pre3: String = cs[..3].iter().collect();
            out.push(h(29, &[&suf4]));
            out.push(h(30, &[&pre3]));
        }
        out.push(h(31, &[self.word(ki - 1), w, self.word(ki + 1)]));
        let suf2: String = cs[cs.len().saturating_sub(2)..].iter().collect();
        out.push(h(32, &[&suf2, sh]));
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
        if self.line[k] == 0 {
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
        if let Some(c) = self.content_ix[k] {
            let cnt = self.word_count[&self.content[c as usize]] as usize;
            out.push(h(23, &[bucket(cnt)]));
            let br = self.bigram_rep(k) as usize;
            if br > 1 {
                out.push(h(24, &[bucket(br)]));
            }
        }
        if raw.starts_with('#') || (k > 0 && self.raw[k - 1] == "#") {
            out.push(h(25, &[]));
        }
        if let Some(lp) = &self.line_prob {
            let b = ((lp[self.line[k] as usize] * 10.0) as usize).min(9);
            out.push(h(27, &[&b.to_string()]));
            out.push(h(
                28,
                &[
                    &b.to_string(),
                    if self.line_first[k] { "first" } else { sh },
                ],
            ));
        }
        // The previous and next punctuation shape the clause (quotes, colons, dashes).
        out.push(h(
            26,
            &[shape(self.word(ki - 1)), sh, shape(self.word(ki + 1))],
        ));
    }

    /// Number of lines (the last token's line + 1).
    pub fn n_lines(&self) -> usize {
        self.line.last().map_or(0, |&l| l as usize + 1)
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
            let f = &mut out[self.line[k] as usize];
            f.push(h(202, &[&self.lower[k]]));
            if k + 1 < self.len() && self.line[k + 1] == self.line[k] {
                f.push(h(203, &[&self.lower[k], &self.lower[k + 1]]));
            }
            if self.line_first[k] {
                f.push(h(204, &[bucket(self.line_len[k] as usize)]));
            }
            if let Some(c) = self.content_ix[k] {
                if self.bigram_rep(k) > 1 {
                    f.push(h(205, &[]));
                }
                let _ = c;
            }
        }
        out
    }

    /// Token indices overlapping a code-point span.
    pub fn tokens_in(&self, span: Span) -> std::ops::Range<usize> {
        let a = self.spans.partition_point(|t| t.end() <= span.start());
        let b = self.spans.partition_point(|t| t.start() < span.end());
        a..b.max(a)
    }

    /// Stemmed content words of a token range, used to find a span's repetitions.
    fn content_key(&self, r: std::ops::Range<usize>) -> Vec<u32> {
        r.filter_map(|k| self.content_ix[k])
            .map(|c| self.content_id[c as usize])
            .collect()
    }

    /// How many times the span's content words occur in the article (itself included), and how many
    /// of those come before it.
    pub fn repetitions(&self, r: std::ops::Range<usize>) -> (usize, usize) {
        let key = self.content_key(r.clone());
        if key.is_empty() || key.len() > 12 {
            return (0, 0);
        }
        let first_c = r.clone().find_map(|k| self.content_ix[k]).unwrap_or(0);
        let mut cache = self.ngram_pos.borrow_mut();
        let table = cache.entry(key.len()).or_insert_with(|| {
            let mut t: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
            for (i, win) in self.content_id.windows(key.len()).enumerate() {
                t.entry(hash_ids(win)).or_default().push(i as u32);
            }
            t
        });
        match table.get(&hash_ids(&key)) {
            Some(pos) => (pos.len(), pos.partition_point(|&i| i < first_c)),
            None => (0, 0),
        }
    }

    /// The classifier's features of a span.
    pub fn span_features(&self, span: Span, out: &mut Vec<Feat>) {
        out.clear();
        out.push(h(100, &[]));
        let r = self.tokens_in(span);
        let (a, b) = (r.start, r.end);
        let ntok = b - a;
        out.push(h(101, &[bucket(ntok)]));
        for k in a..b {
            out.push(h(102, &[&self.lower[k]]));
            if let Some(c) = self.content_ix[k] {
                out.push(h(103, &[&self.content[c as usize]]));
            }
            if k + 1 < b {
                out.push(h(104, &[&self.lower[k], &self.lower[k + 1]]));
            }
            out.push(h(105, &[shape(self.raw[k])]));
        }
        if ntok > 0 {
            out.push(h(106, &[&self.lower[a]]));
            out.push(h(107, &[&self.lower[b - 1]]));
            if ntok <= 4 {
                let whole: Vec<&str> = (a..b).map(|k| self.lower[k].as_str()).collect();
                out.push(h(108, &[&whole.join(" ")]));
            }
        }
        for d in 1..=3isize {
            out.push(h(109, &[&d.to_string(), self.word(a as isize - d)]));
            out.push(h(110, &[&d.to_string(), self.word(b as isize - 1 + d)]));
        }
        // The sentence (line) around the span, as a bag of words.
        if ntok > 0 {
            let l = self.line[a];
            let mut s = a;
            while s > 0 && self.line[s - 1] == l {
                s -= 1;
            }
            let mut e = b;
            while e < self.len() && self.line[e] == l {
                e += 1;
            }
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
            if self.line[a] == 0 {
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
        let text = self.doc.slice(span);
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
        let (total, before) = self.repetitions(r);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetitions_count_stemmed_content_words() {
        let doc = Document::new(
            "Build the wall!\n\nThey said: build the walls. Then build a wall again.",
        )
        .unwrap();
        let p = Prepared::new(&doc);
        // "build the wall" at 0..14 -> content words [build, wall]
        let r = p.tokens_in(Span::new(0, 14));
        assert_eq!(p.repetitions(r), (3, 0));
        let r2 = p.tokens_in(Span::new(28, 43));
        assert_eq!(doc.slice(Span::new(28, 43)), "build the walls");
        assert_eq!(p.repetitions(r2), (3, 1));
    }

    #[test]
    fn quote_state_and_lines() {
        let doc = Document::new("Title\n\nHe said \"a disgrace\" today.").unwrap();
        let p = Prepared::new(&doc);
        let ix = p.lower.iter().position(|w| w == "disgrace").unwrap();
        assert!(p.in_quote[ix]);
        assert!(!p.in_quote[p.len() - 1]);
        assert_eq!(p.line[ix], 2);
        let mut f = Vec::new();
        p.token_features(ix, &mut f);
        assert!(f.contains(&h(21, &[])));
    }
}
