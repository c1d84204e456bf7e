//! What an article repeats: its content words (lower case, crude stem, stop words left out), how
//! often each word and content bigram occurs, and how often a span's content words recur. The
//! decoder's repetition rule and the fast tier's repetition features both read it.

use rhetor_core::{Prepared, TokenKind};
use rustc_hash::FxHashMap;
use std::ops::Range;

/// True for a function word that never makes a repetition by itself. (A `match`: the compiler
/// tests the length first, so most words are turned away without comparing bytes.)
#[rustfmt::skip]
#[inline]
pub fn is_stop(lower: &str) -> bool {
    matches!(
        lower,
        "a" | "an" | "the" | "and" | "or" | "but" | "if" | "of" | "to" | "in" | "on" | "at" | "by" |
        "for" | "with" | "from" | "as" | "is" | "are" | "was" | "were" | "be" | "been" | "being" |
        "it" | "its" | "this" | "that" | "these" | "those" | "he" | "she" | "they" | "we" | "i" |
        "you" | "his" | "her" | "their" | "our" | "my" | "your" | "him" | "them" | "us" | "me" |
        "not" | "no" | "so" | "do" | "does" | "did" | "has" | "have" | "had" | "will" | "would" |
        "can" | "could" | "should" | "may" | "might" | "must" | "which" | "who" | "whom" | "what" |
        "when" | "where" | "why" | "how" | "than" | "then" | "there" | "here" | "also" | "just" |
        "about" | "into" | "over" | "after" | "before" | "up" | "down" | "out" | "all" | "any" |
        "some" | "said" | "says" | "s" | "t"
    )
}

/// Short strings end to end in one `String`: one allocation for all of them, not one each.
#[derive(Debug, Clone, Default)]
struct Strs {
    text: String,
    /// Where each string ends in `text`.
    ends: Vec<u32>,
}

impl Strs {
    /// Ends the string written into `text` since the previous one.
    fn close(&mut self) {
        self.ends.push(self.text.len() as u32);
    }

    #[inline]
    fn get(&self, k: usize) -> &str {
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        &self.text[start..self.ends[k] as usize]
    }
}

/// Every token's text lower-cased, end to end in one string: one allocation per article, not
/// one per token. `lower[k]` is token `k`'s (as `str::to_lowercase` gives it).
#[derive(Debug, Clone, Default)]
pub struct LowerTokens(Strs);

impl LowerTokens {
    /// Lower-cases the tokens of a prepared document.
    pub fn new(prep: &Prepared) -> LowerTokens {
        let mut s = Strs {
            text: String::with_capacity(prep.text().len()),
            ends: Vec::with_capacity(prep.len()),
        };
        for k in 0..prep.len() {
            let w = prep.token_text(k);
            if w.is_ascii() {
                s.text
                    .extend(w.bytes().map(|b| b.to_ascii_lowercase() as char));
            } else {
                s.text.push_str(&w.to_lowercase());
            }
            s.close();
        }
        LowerTokens(s)
    }

    /// How many tokens.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.ends.len()
    }

    /// True for a document without tokens.
    pub fn is_empty(&self) -> bool {
        self.0.ends.is_empty()
    }

    /// The lower-cased tokens in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|k| &self[k])
    }
}

impl std::ops::Index<usize> for LowerTokens {
    type Output = str;

    #[inline]
    fn index(&self, k: usize) -> &str {
        self.0.get(k)
    }
}

/// Crude stem for repetition matching: no trailing plural `s`.
fn stem(w: &str) -> &str {
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        &w[..w.len() - 1]
    } else {
        w
    }
}

/// The content words of one article and their counts.
pub struct Repetitions {
    /// Index into `words` of each content-word token.
    content_ix: Vec<Option<u32>>,
    /// Stemmed content words in order.
    words: Strs,
    /// Dense id of each content word (same word, same id).
    content_id: Vec<u32>,
    /// Occurrences of each id.
    id_count: Vec<u32>,
    bigram_count: FxHashMap<(u32, u32), u32>,
    /// Where each content word occurs: the positions (into `content_id`) of id `i` are
    /// `post[post_start[i]..post_start[i + 1]]`, ascending. A phrase is counted by checking the
    /// occurrences of its first word, with no table of n-grams to build and sort.
    post_start: Vec<u32>,
    post: Vec<u32>,
}

impl Repetitions {
    /// Gathers the content words of a prepared document; `lower` holds each token's lower-cased
    /// text (callers that have it already pass it; [`Repetitions::of`] makes it).
    pub fn new(prep: &Prepared, lower: &LowerTokens) -> Repetitions {
        let n = prep.len();
        let mut words = Strs::default();
        let mut content_ix = vec![None; n];
        for (k, t) in prep.tokens().iter().enumerate() {
            if t.kind == TokenKind::Word && !is_stop(&lower[k]) {
                content_ix[k] = Some(words.ends.len() as u32);
                words.text.push_str(stem(&lower[k]));
                words.close();
            }
        }
        let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
        let mut content_id = Vec::with_capacity(words.ends.len());
        let mut id_count = Vec::new();
        for i in 0..words.ends.len() {
            let w = words.get(i);
            let next = ids.len() as u32;
            let id = *ids.entry(w).or_insert(next);
            if id == next {
                id_count.push(0);
            }
            id_count[id as usize] += 1;
            content_id.push(id);
        }
        let mut bigram_count = FxHashMap::default();
        for p in content_id.windows(2) {
            *bigram_count.entry((p[0], p[1])).or_insert(0) += 1;
        }
        // Postings by counting sort: starts from the counts, then positions in text order.
        let mut post_start = Vec::with_capacity(id_count.len() + 1);
        let mut at = 0u32;
        for &c in &id_count {
            post_start.push(at);
            at += c;
        }
        post_start.push(at);
        let mut fill = post_start.clone();
        let mut post = vec![0u32; content_id.len()];
        for (pos, &id) in content_id.iter().enumerate() {
            post[fill[id as usize] as usize] = pos as u32;
            fill[id as usize] += 1;
        }
        Repetitions {
            content_ix,
            words,
            content_id,
            id_count,
            bigram_count,
            post_start,
            post,
        }
    }

    /// [`Repetitions::new`], lower-casing the tokens itself.
    pub fn of(prep: &Prepared) -> Repetitions {
        Repetitions::new(prep, &LowerTokens::new(prep))
    }

    /// The stemmed content word of token `k`, if it is one.
    #[inline]
    pub fn content_word(&self, k: usize) -> Option<&str> {
        self.content_ix[k].map(|c| self.words.get(c as usize))
    }

    /// How often token `k`'s content word occurs in the article (0 for other tokens).
    #[inline]
    pub fn word_count(&self, k: usize) -> u32 {
        self.content_ix[k].map_or(0, |c| self.id_count[self.content_id[c as usize] as usize])
    }

    /// How often the content bigram starting or ending at token `k` occurs in the article.
    #[inline]
    pub fn bigram_count(&self, k: usize) -> u32 {
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

    /// How many times the content words of a token range occur in the article in that order
    /// (itself included), and how many of those come before it. `(0, 0)` for a range with no content
    /// words or more than 12.
    pub fn count(&self, r: Range<usize>) -> (usize, usize) {
        // The phrase's content-word ids, on the stack (one more than the longest counted).
        let mut key = [0u32; 13];
        let mut n = 0;
        let mut first_c = 0;
        for c in r.filter_map(|k| self.content_ix[k]) {
            if n == key.len() {
                break;
            }
            if n == 0 {
                first_c = c;
            }
            key[n] = self.content_id[c as usize];
            n += 1;
        }
        if n == 0 || n > 12 {
            return (0, 0);
        }
        let key = &key[..n];
        let id = key[0] as usize;
        let starts = &self.post[self.post_start[id] as usize..self.post_start[id + 1] as usize];
        let (mut total, mut before) = (0, 0);
        for &i in starts {
            let i = i as usize;
            if self.content_id.get(i..i + n) == Some(key) {
                total += 1;
                before += usize::from(i < first_c as usize);
            }
        }
        (total, before)
    }

    /// True when the span's content words occurred earlier in the article (what makes a later
    /// mention `Repetition`).
    pub fn repeated_before(&self, r: Range<usize>) -> bool {
        let (total, before) = self.count(r);
        total > 1 && before > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhetor_core::{Document, Span};

    /// The flat lower-cased tokens are each token's `to_lowercase`, ASCII or not (Greek final
    /// sigma, German capital sharp s, CJK, emoji, combining marks, CRLF).
    #[test]
    fn lower_tokens_are_each_tokens_lower_case() {
        let doc = Document::new(
            "THE Minister’s ΟΔΟΣ said:\r\n\"ẞTRASSE\" 東京 is 🎉 Cafe\u{301} — McDONALD'S!",
        )
        .unwrap();
        let prep = Prepared::new(&doc);
        let lower = LowerTokens::new(&prep);
        assert_eq!(lower.len(), prep.len());
        assert!(prep.len() > 10);
        for k in 0..prep.len() {
            assert_eq!(&lower[k], prep.token_text(k).to_lowercase(), "token {k}");
        }
        let all: Vec<&str> = lower.iter().collect();
        assert!(all.contains(&"οδος") || all.contains(&"οδοσ"), "{all:?}");
        assert!(LowerTokens::new(&Prepared::new(&Document::new(" ").unwrap())).is_empty());
    }

    #[test]
    fn repetitions_count_stemmed_content_words() {
        let doc = Document::new(
            "Build the wall!\n\nThey said: build the walls. Then build a wall again.",
        )
        .unwrap();
        let p = Prepared::new(&doc);
        let r = Repetitions::of(&p);
        // "build the wall" at 0..14 -> content words [build, wall]
        assert_eq!(r.count(p.tokens_in(Span::new(0, 14))), (3, 0));
        assert_eq!(doc.slice(Span::new(28, 43)), "build the walls");
        assert_eq!(r.count(p.tokens_in(Span::new(28, 43))), (3, 1));
        assert!(r.repeated_before(p.tokens_in(Span::new(28, 43))));
        assert!(!r.repeated_before(p.tokens_in(Span::new(0, 14))));
        assert_eq!(r.word_count(0), 3);
        assert_eq!(r.content_word(9), Some("wall"));
        assert_eq!(r.content_word(1), None);
    }

    /// Counting by the first word's occurrences gives what a brute-force scan of every window of
    /// content words gives, for every token range of an article full of repeats (phrases of 1 to
    /// 13 content words, overlapping repeats, ranges with no content word).
    #[test]
    fn phrase_counts_equal_a_brute_force_scan() {
        let text = "Build the wall, build the wall now! They say build the wall and the wall \
                    stands; walls fall. Now build, now build the wall the wall the wall. \
                    A crisis is a crisis is a crisis, they say, and say it again: a crisis.";
        let doc = Document::new(text).unwrap();
        let p = Prepared::new(&doc);
        let r = Repetitions::of(&p);
        let ids = &r.content_id;
        let mut checked = 0;
        for a in 0..p.len() {
            for b in a..=p.len() {
                let key: Vec<u32> = (a..b)
                    .filter_map(|k| r.content_ix[k])
                    .map(|c| ids[c as usize])
                    .collect();
                let want = if key.is_empty() || key.len() > 12 {
                    (0, 0)
                } else {
                    let first = (a..b).find_map(|k| r.content_ix[k]).unwrap() as usize;
                    let hits: Vec<usize> = (0..=ids.len() - key.len())
                        .filter(|&i| ids[i..i + key.len()] == key[..])
                        .collect();
                    (hits.len(), hits.iter().filter(|&&i| i < first).count())
                };
                assert_eq!(r.count(a..b), want, "tokens {a}..{b}");
                checked += usize::from(want.0 > 1);
            }
        }
        assert!(checked > 50, "too few repeated phrases: {checked}");
    }
}
