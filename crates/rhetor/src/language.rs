//! Garbage in, nothing out: spans are kept only where the text around them reads as prose.
//!
//! The models were trained on news articles; fed base64, hex dumps, minified code or tables of
//! numbers they still find "spans" (a random `tyrGbF` looks like a loaded word). A span is kept
//! when the tokens around it (its own and [`WINDOW`] on each side) look like running English:
//! most words are made of letters and shaped like words, some are function words ("the", "of",
//! "is"), and code punctuation (`{ } = < > |`) is rare. Over the 90 PTC test articles the
//! closest window around any span has 84% word-shaped words, 17% function words and 7% code
//! punctuation, far from the limits below, so real articles keep every span.

use rhetor_core::{Detection, Prepared, TokenKind};

/// Tokens read on each side of a span.
const WINDOW: usize = 40;
/// Least share of the window's words that are shaped like words.
const MIN_WORDLIKE: f32 = 0.6;
/// Least share of the window's words that are English function words.
const MIN_FUNCTION: f32 = 0.06;
/// Largest share of the window's tokens that are code punctuation.
const MAX_CODE_PUNCT: f32 = 0.1;

/// Does a word token look like a word: letters (and inner joiners) only, at most 20 of them, a
/// vowel when it is a longer lower- or mixed-case ASCII word, at most one lower-to-upper step
/// ("McDonald", not "tyrGbF"), and a single letter only for "a" and "I"?
fn wordlike(w: &str) -> bool {
    if w.is_ascii() {
        return wordlike_ascii(w.as_bytes());
    }
    // One pass, no allocation: this runs on every word of every article with a span.
    let (mut letters, mut steps, mut upper, mut vowel) = (0usize, 0usize, true, false);
    let (mut first, mut prev_lower) = (' ', false);
    for c in w.chars() {
        if c.is_alphabetic() {
            if letters == 0 {
                first = c;
            }
            letters += 1;
            steps += usize::from(prev_lower && c.is_uppercase());
            prev_lower = c.is_lowercase();
            upper &= c.is_uppercase();
            vowel |= matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
        } else if !matches!(c, '\'' | '’' | '-' | '.' | '‐' | '‑') {
            return false;
        }
    }
    match letters {
        0 => false,
        1 => matches!(first, 'a' | 'A' | 'I'),
        n if n > 20 => false,
        n => steps <= 1 && (!w.is_ascii() || upper || n < 4 || vowel),
    }
}

/// [`wordlike`] for ASCII (nearly every word): the same tests on bytes.
fn wordlike_ascii(w: &[u8]) -> bool {
    let (mut letters, mut steps, mut upper, mut vowel) = (0usize, 0usize, true, false);
    let (mut first, mut prev_lower) = (b' ', false);
    for &c in w {
        if c.is_ascii_alphabetic() {
            if letters == 0 {
                first = c;
            }
            letters += 1;
            steps += usize::from(prev_lower && c.is_ascii_uppercase());
            prev_lower = c.is_ascii_lowercase();
            upper &= c.is_ascii_uppercase();
            vowel |= matches!(c | 0x20, b'a' | b'e' | b'i' | b'o' | b'u' | b'y');
        } else if !matches!(c, b'\'' | b'-' | b'.') {
            return false;
        }
    }
    match letters {
        0 => false,
        1 => matches!(first, b'a' | b'A' | b'I'),
        n if n > 20 => false,
        n => steps <= 1 && (upper || n < 4 || vowel),
    }
}

fn is_function_word(w: &str) -> bool {
    // Lower-cased on the stack; every listed word is ASCII and at most 5 bytes.
    if w.len() > 5 || !w.is_ascii() {
        return false;
    }
    let mut buf = [0u8; 5];
    let lower = &mut buf[..w.len()];
    lower.copy_from_slice(w.as_bytes());
    lower.make_ascii_lowercase();
    is_function_lower(lower)
}

/// Common English function words, lower case: frequent in any prose, rare in code and data. (A
/// `match`, which tests the length first.)
#[rustfmt::skip]
fn is_function_lower(w: &[u8]) -> bool {
    matches!(
        w,
        b"the" | b"a" | b"an" | b"and" | b"or" | b"but" | b"of" | b"to" | b"in" | b"on" | b"at" |
        b"by" | b"for" | b"with" | b"from" | b"as" | b"that" | b"this" | b"these" | b"those" |
        b"is" | b"are" | b"was" | b"were" | b"been" | b"has" | b"have" | b"had" | b"it" | b"its" |
        b"he" | b"she" | b"they" | b"we" | b"you" | b"i" | b"his" | b"her" | b"their" | b"our" |
        b"not" | b"no" | b"will" | b"would" | b"can" | b"could" | b"should" | b"who" | b"which" |
        b"what" | b"there" | b"than" | b"so" | b"if" | b"about" | b"into" | b"said"
    )
}

fn is_code_punct(p: &str) -> bool {
    matches!(
        p,
        "{" | "}" | "=" | "<" | ">" | "|" | "\\" | "^" | "~" | "`"
    )
}

/// Running counts over the tokens, so that any window's shares cost O(1).
struct Prefix {
    words: Vec<u32>,
    wordlike: Vec<u32>,
    function: Vec<u32>,
    code: Vec<u32>,
}

impl Prefix {
    fn new(prep: &Prepared) -> Prefix {
        let n = prep.len();
        let mut p = Prefix {
            words: Vec::with_capacity(n + 1),
            wordlike: Vec::with_capacity(n + 1),
            function: Vec::with_capacity(n + 1),
            code: Vec::with_capacity(n + 1),
        };
        let (mut w, mut l, mut f, mut c) = (0u32, 0u32, 0u32, 0u32);
        for k in 0..n {
            p.words.push(w);
            p.wordlike.push(l);
            p.function.push(f);
            p.code.push(c);
            let t = prep.token_text(k);
            match prep.tokens()[k].kind {
                TokenKind::Word => {
                    w += 1;
                    l += u32::from(wordlike(t));
                    f += u32::from(is_function_word(t));
                }
                TokenKind::Punct => c += u32::from(is_code_punct(t)),
            }
        }
        p.words.push(w);
        p.wordlike.push(l);
        p.function.push(f);
        p.code.push(c);
        p
    }

    /// Do tokens `a..b` read as prose?
    fn prose(&self, a: usize, b: usize) -> bool {
        let d = |v: &[u32]| (v[b] - v[a]) as f32;
        let (tokens, words) = ((b - a) as f32, d(&self.words));
        if words == 0.0 {
            return false;
        }
        d(&self.wordlike) >= MIN_WORDLIKE * words
            && d(&self.function) >= MIN_FUNCTION * words
            && d(&self.code) <= MAX_CODE_PUNCT * tokens
    }
}

/// Drops the detections that do not lie in prose.
pub(crate) fn retain_in_prose(prep: &Prepared, dets: &mut Vec<Detection>) {
    if dets.is_empty() {
        return;
    }
    let prefix = Prefix::new(prep);
    let n = prep.len();
    dets.retain(|d| {
        let r = prep.tokens_in(d.span);
        let (a, b) = (r.start.saturating_sub(WINDOW), (r.end + WINDOW).min(n));
        a < b && prefix.prose(a, b)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The function words as first listed (the reference the `match` is held to).
    const FUNCTION_WORDS: &[&str] = &[
        "the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for", "with",
        "from", "as", "that", "this", "these", "those", "is", "are", "was", "were", "been", "has",
        "have", "had", "it", "its", "he", "she", "they", "we", "you", "i", "his", "her", "their",
        "our", "not", "no", "will", "would", "can", "could", "should", "who", "which", "what",
        "there", "than", "so", "if", "about", "into", "said",
    ];

    #[test]
    fn word_shapes() {
        for w in [
            "the",
            "McDonald",
            "NATO",
            "don't",
            "well-known",
            "a",
            "I",
            "Ünïcødé",
            "CNN",
        ] {
            assert!(wordlike(w), "{w}");
        }
        for w in [
            "tyrGbF",
            "x",
            "3f",
            "2016",
            "bcdfg",
            "aGVsbG8gd29ybGQgdGhpcyBpcw",
            "_0x1f",
        ] {
            assert!(!wordlike(w), "{w}");
        }
    }

    /// The shape test as first written (a vector of the letters), kept to check the one-pass
    /// version against.
    fn wordlike_reference(w: &str) -> bool {
        if !w
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-' | '.' | '‐' | '‑'))
        {
            return false;
        }
        let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
        match letters.len() {
            0 => return false,
            1 => return matches!(letters[0], 'a' | 'A' | 'I'),
            n if n > 20 => return false,
            _ => {}
        }
        let steps = letters
            .windows(2)
            .filter(|p| p[0].is_lowercase() && p[1].is_uppercase())
            .count();
        let upper = letters.iter().all(|c| c.is_uppercase());
        let vowel = letters
            .iter()
            .any(|c| matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u' | 'y'));
        steps <= 1 && (!w.is_ascii() || upper || letters.len() < 4 || vowel)
    }

    #[test]
    fn one_pass_shapes_and_function_words_agree_with_the_reference() {
        let mut words: Vec<String> = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/sample-article.txt"
        ))
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect();
        for w in [
            "",
            "a.",
            "-",
            "I'm",
            "i",
            "A-",
            "eBay",
            "iPhone",
            "McDonaldS",
            "ÀÉÎ",
            "straße",
            "ΑΘΗΝΑ",
            "x-y-z",
            "abcdefghijklmnopqrstu",
            "abcdefghijklmnopqrst",
            "THE",
            "tHe",
            "Ünd",
            "he’s",
            "‑a‑",
            "bcd",
            "bcdf",
            "BCDF",
            "a1",
        ] {
            words.push(w.to_string());
        }
        // Every ASCII string of one or two bytes, and every one of up to five over letters
        // that test each rule (vowels, steps, capitals, joiners, a digit).
        for a in 0u8..128 {
            words.push((a as char).to_string());
            for b in 0u8..128 {
                words.push([a as char, b as char].iter().collect());
            }
        }
        let alphabet = ['a', 'A', 'b', 'B', 'I', 'y', '\'', '-', '.', '1'];
        let mut frontier = vec![String::new()];
        for _ in 0..5 {
            frontier = frontier
                .iter()
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(frontier.iter().cloned());
        }
        assert!(words.len() > 100);
        assert!(FUNCTION_WORDS
            .iter()
            .all(|f| is_function_word(f) == (f.len() <= 5)));
        for w in &words {
            assert_eq!(wordlike(w), wordlike_reference(w), "{w}");
            let reference =
                w.len() <= 5 && FUNCTION_WORDS.iter().any(|f| f.eq_ignore_ascii_case(w));
            assert_eq!(is_function_word(w), reference, "{w}");
        }
    }
}
