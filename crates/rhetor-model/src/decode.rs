//! The one span decoder: token-tag probabilities become spans, spans get techniques, and the
//! repetition rule adds `Repetition` to phrases an article already used. Every tier and every
//! ensemble decodes through here, so they share one notion of a span.

use crate::{Classifier, Repetitions, TagProbs, TechProbs};
use rhetor_core::{Detection, Prepared, Span, Technique, TokenKind};
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How token probabilities become spans and spans become techniques. Stored in the models; tuned
/// on held-out predictions.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Decode {
    /// A token is inside a span when P(B) + P(I) exceeds this (before smoothing).
    pub threshold: f32,
    /// A span also gets its second-best technique (an overlapping span) when that one's probability
    /// is at least this.
    pub second_label: f32,
    /// A span whose content words occurred earlier in the article also gets `Repetition`.
    pub repetition_rule: bool,
    /// The structure of spans: smoothing and clean-up. Not stored in model files: one setting,
    /// chosen by cross-validation, serves every model.
    #[serde(skip)]
    pub shape: Shape,
}

impl Default for Decode {
    fn default() -> Decode {
        Decode {
            threshold: 0.35,
            second_label: 0.35,
            repetition_rule: true,
            shape: Shape::default(),
        }
    }
}

/// How runs of inside tokens are found and cleaned up into spans.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// The cost of entering or leaving a span, in log-odds, in the Viterbi decoding of
    /// inside/outside over the tokens (0: every token decided alone by the threshold). It keeps
    /// "a gang of traitors" whole when "of" alone falls under the threshold.
    pub switch_cost: f32,
    /// Drop punctuation from the ends of a span, except quote marks, `!`, `?` and brackets that pair.
    pub trim_punctuation: bool,
    /// Drop spans made only of function words and punctuation ("the", "of", ",").
    pub drop_function_words: bool,
    /// Extend a span over the quote marks right around it.
    pub extend_quotes: bool,
    /// Merge two spans of one line at most this many characters apart (0: never).
    pub merge_gap: u32,
}

/// The shape chosen by 5-fold cross-validation of the fast tier (BENCHMARKS.md, "Span shape"):
/// smoothing and the clean-up that scored better; quote extension and merging did not.
impl Default for Shape {
    fn default() -> Shape {
        Shape {
            switch_cost: 0.25,
            trim_punctuation: true,
            drop_function_words: true,
            extend_quotes: false,
            merge_gap: 0,
        }
    }
}

impl Shape {
    /// No smoothing and no clean-up: each token decided alone by the threshold (the decoder
    /// before shapes).
    pub const NONE: Shape = Shape {
        switch_cost: 0.0,
        trim_punctuation: false,
        drop_function_words: false,
        extend_quotes: false,
        merge_gap: 0,
    };

    /// Parses `COST,TRIM,DROP,QUOTES,GAP` (flags as 0 or 1), as `rhetor train --shape-grid` takes it.
    pub fn parse(s: &str) -> Result<Shape, String> {
        let f: Vec<&str> = s.split(',').map(str::trim).collect();
        let bad = || format!("{s:?}: expected COST,TRIM,DROP,QUOTES,GAP (e.g. 0.25,1,1,0,0)");
        if f.len() != 5 {
            return Err(bad());
        }
        let flag = |x: &str| match x {
            "0" => Ok(false),
            "1" => Ok(true),
            _ => Err(bad()),
        };
        let switch_cost: f32 = f[0].parse().map_err(|_| bad())?;
        if !switch_cost.is_finite() || switch_cost < 0.0 {
            return Err(bad());
        }
        Ok(Shape {
            switch_cost,
            trim_punctuation: flag(f[1])?,
            drop_function_words: flag(f[2])?,
            extend_quotes: flag(f[3])?,
            merge_gap: f[4].parse().map_err(|_| bad())?,
        })
    }
}

/// Lower-cased English function words (`data/function-words.txt`), and the longest one's length.
/// A hash set, not a binary search: explanations ask this of every word they show, and the
/// decoder of every token at a span's edge.
fn function_words() -> &'static (FxHashSet<&'static str>, usize) {
    static L: std::sync::OnceLock<(FxHashSet<&'static str>, usize)> = std::sync::OnceLock::new();
    L.get_or_init(|| {
        let set: FxHashSet<&str> =
            rhetor_core::sentence::word_list(include_str!("../data/function-words.txt")).collect();
        let longest = set.iter().map(|w| w.len()).max().unwrap_or(0);
        (set, longest)
    })
}

/// Is this word (any case) an English function word ("the", "of", "is")?
pub fn is_function_word(word: &str) -> bool {
    let (words, longest) = function_words();
    // ASCII lower-casing keeps the length (other scripts' may not: the Kelvin sign becomes "k").
    if word.len() > *longest && word.is_ascii() {
        return false;
    }
    if !word.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
        return words.contains(word);
    }
    // Lower-cased on the stack: explanations ask this of every word of a sentence.
    let mut buf = [0u8; 24];
    if word.is_ascii() && word.len() <= buf.len() {
        let buf = &mut buf[..word.len()];
        buf.copy_from_slice(word.as_bytes());
        buf.make_ascii_lowercase();
        let lower = std::str::from_utf8(buf).expect("ASCII is UTF-8");
        return words.contains(lower);
    }
    words.contains(word.to_lowercase().as_str())
}

/// Is token `k` a function word or punctuation?
fn is_function(prep: &Prepared, k: usize) -> bool {
    prep.tokens()[k].kind == TokenKind::Punct || is_function_word(prep.token_text(k))
}

fn is_quote(s: &str) -> bool {
    matches!(s, "\"" | "“" | "”" | "‘" | "’" | "'" | "«" | "»")
}

/// Punctuation a span may end on: quote marks, `!`, `?`, closing brackets.
fn keeps_at_end(s: &str) -> bool {
    is_quote(s) || matches!(s, "!" | "?" | ")" | "]")
}

/// Punctuation a span may start on: quote marks, opening brackets, `#`.
fn keeps_at_start(s: &str) -> bool {
    is_quote(s) || matches!(s, "(" | "[" | "#")
}

fn p_in(t: &TagProbs) -> f32 {
    t[1] + t[2]
}

/// Which tokens are inside a span: the best inside/outside path, where each token scores its
/// log-odds of being inside against the threshold's, and every change of state costs
/// `switch_cost`. With no cost this is exactly "P(inside) > threshold".
fn inside(tags: &[TagProbs], threshold: f32, switch_cost: f32) -> Vec<bool> {
    if switch_cost <= 0.0 {
        return tags.iter().map(|t| p_in(t) > threshold).collect();
    }
    let logit = |p: f32| {
        let p = p.clamp(1e-6, 1.0 - 1e-6);
        (p / (1.0 - p)).ln()
    };
    let bias = logit(threshold);
    let n = tags.len();
    // best[s]: the best score of a path ending in state s (0 out, 1 in); back[k][s]: its previous state.
    let mut back = vec![[0u8; 2]; n];
    let mut best = [0.0f32, f32::NEG_INFINITY];
    for (k, t) in tags.iter().enumerate() {
        let emit = [0.0, logit(p_in(t)) - bias];
        let mut next = [0.0f32; 2];
        for s in 0..2 {
            let stay = best[s];
            let switch = best[1 - s] - switch_cost;
            let (v, from) = if stay >= switch {
                (stay, s)
            } else {
                (switch, 1 - s)
            };
            next[s] = v + emit[s];
            back[k][s] = from as u8;
        }
        best = next;
    }
    let mut out = vec![false; n];
    let mut s = if best[1] > best[0] { 1 } else { 0 };
    for k in (0..n).rev() {
        out[k] = s == 1;
        s = back[k][s] as usize;
    }
    out
}

/// Technique-agnostic spans with their confidence (the mean P(B) + P(I) of their tokens). A span
/// is a run of inside tokens (see [`Shape::switch_cost`]); it ends at an outside token, at a token
/// that clearly begins a new span, or at a blank line (paragraph break). The runs are then cleaned
/// up as `d.shape` says.
pub fn spans(prep: &Prepared, tags: &[TagProbs], d: &Decode) -> Vec<(Span, f32)> {
    let (toks, line) = (prep.token_spans(), prep.lines());
    debug_assert_eq!(tags.len(), toks.len());
    let shape = &d.shape;
    let ins = inside(tags, d.threshold, shape.switch_cost);
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut k = 0;
    while k < tags.len() {
        if !ins[k] {
            k += 1;
            continue;
        }
        let s = k;
        loop {
            k += 1;
            if k >= tags.len()
                || !ins[k]
                || (tags[k][1] > tags[k][2] && tags[k][1] > 0.5)
                || line[k] > line[k - 1] + 1
            {
                break;
            }
        }
        runs.push((s, k));
    }
    let text = |k: usize| prep.token_text(k);
    let punct = |k: usize| prep.tokens()[k].kind == TokenKind::Punct;
    let mut kept: Vec<(usize, usize)> = Vec::with_capacity(runs.len());
    for (mut s, mut e) in runs {
        if shape.trim_punctuation {
            while s < e && punct(s) && !keeps_at_start(text(s)) {
                s += 1;
            }
            while e > s && punct(e - 1) && !keeps_at_end(text(e - 1)) {
                e -= 1;
            }
        }
        if s == e || (shape.drop_function_words && (s..e).all(|k| is_function(prep, k))) {
            continue;
        }
        if shape.extend_quotes
            && s > 0
            && e < toks.len()
            && is_quote(text(s - 1))
            && is_quote(text(e))
            && line[s - 1] == line[e]
        {
            s -= 1;
            e += 1;
        }
        if let Some(last) = kept.last_mut() {
            let gap = toks[s].start().saturating_sub(toks[last.1 - 1].end());
            if shape.merge_gap > 0
                && gap as u32 <= shape.merge_gap
                && line[s] == line[last.1 - 1]
                && s > last.1
            {
                last.1 = e;
                continue;
            }
            if s < last.1 {
                // A quote extension reached back into the previous span.
                s = last.1;
            }
        }
        if s < e {
            kept.push((s, e));
        }
    }
    kept.into_iter()
        .map(|(s, e)| {
            let conf = tags[s..e].iter().map(p_in).sum::<f32>() / (e - s) as f32;
            (Span::new(toks[s].start(), toks[e - 1].end()), conf)
        })
        .collect()
}

/// Techniques best first, with their probabilities.
pub fn rank(probs: &TechProbs) -> Vec<(Technique, f32)> {
    let mut r: Vec<(Technique, f32)> = probs
        .iter()
        .enumerate()
        .map(|(i, &p)| (Technique::from_index(i).expect("14 classes"), p))
        .collect();
    r.sort_by(|a, b| b.1.total_cmp(&a.1));
    r
}

/// Finds technique spans: spans from `tags`, each with its best technique from `clf`, its second
/// best when that is likely enough, and `Repetition` by the repetition rule.
pub fn detect(
    prep: &Prepared,
    rep: &Repetitions,
    tags: &[TagProbs],
    clf: &dyn Classifier,
    d: &Decode,
) -> Vec<Detection> {
    let found = spans(prep, tags, d);
    let mut out = Vec::with_capacity(found.len() * 2);
    for (span, conf) in found {
        let ranked = rank(&clf.span_techniques(span));
        let (t1, p1) = ranked[0];
        out.push(Detection {
            span,
            technique: t1,
            confidence: conf * p1,
        });
        let (t2, p2) = ranked[1];
        let second = p2 >= d.second_label;
        if second {
            out.push(Detection {
                span,
                technique: t2,
                confidence: conf * p2,
            });
        }
        if d.repetition_rule
            && t1 != Technique::Repetition
            && !(second && t2 == Technique::Repetition)
            && rep.repeated_before(prep.tokens_in(span))
        {
            out.push(Detection {
                span,
                technique: Technique::Repetition,
                confidence: conf * 0.5,
            });
        }
    }
    out
}

/// Ranks the techniques of each given span, best first; with the repetition rule, a phrase the
/// article already used has `Repetition` first, whatever else it is.
pub fn classify(
    prep: &Prepared,
    rep: &Repetitions,
    spans: &[Span],
    clf: &dyn Classifier,
    repetition_rule: bool,
) -> Vec<Vec<(Technique, f32)>> {
    spans
        .iter()
        .map(|&s| {
            let mut r = rank(&clf.span_techniques(s));
            if repetition_rule && rep.repeated_before(prep.tokens_in(s)) {
                if let Some(i) = r.iter().position(|x| x.0 == Technique::Repetition) {
                    let first = r.remove(i);
                    r.insert(0, first);
                }
            }
            r
        })
        .collect()
}

/// One technique per given span row, for TC: a span listed k times gets its k best distinct
/// techniques (PTC lists a span once per technique it carries).
pub fn classify_rows(
    prep: &Prepared,
    rep: &Repetitions,
    spans: &[Span],
    clf: &dyn Classifier,
    repetition_rule: bool,
) -> Vec<Technique> {
    let ranked = classify(prep, rep, spans, clf, repetition_rule);
    let mut seen: HashMap<Span, usize> = HashMap::new();
    spans
        .iter()
        .zip(&ranked)
        .map(|(s, r)| {
            let n = seen.entry(*s).or_insert(0);
            let t = r[(*n).min(r.len() - 1)].0;
            *n += 1;
            t
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhetor_core::Document;

    struct Fixed(TechProbs);
    impl Classifier for Fixed {
        fn span_techniques(&self, _: Span) -> TechProbs {
            self.0
        }
    }

    fn tags(v: &[f32]) -> Vec<TagProbs> {
        // P(inside) split as all-I, except values over 1 mean "a confident B".
        v.iter()
            .map(|&p| {
                if p > 1.0 {
                    [0.0, 0.9, 0.1]
                } else {
                    [1.0 - p, 0.0, p]
                }
            })
            .collect()
    }

    #[test]
    fn runs_end_below_threshold_at_a_new_begin_and_at_a_blank_line() {
        let doc = Document::new("a b c d e\n\nf g").unwrap();
        let p = Prepared::new(&doc);
        let d = Decode {
            threshold: 0.5,
            ..Decode::default()
        };
        let found = spans(&p, &tags(&[0.9, 0.8, 0.1, 0.9, 2.0, 0.9, 0.9]), &d);
        let s: Vec<&str> = found.iter().map(|(s, _)| doc.slice(*s)).collect();
        // "d" then a confident B at "e"; the blank line splits "e" from "f g".
        assert_eq!(s, ["a b", "d", "e", "f g"]);
        assert!((found[0].1 - 0.85).abs() < 1e-6);
    }

    #[test]
    fn second_label_repetition_rule_and_k_best_rows() {
        let doc = Document::new("Build the wall. Build the wall.").unwrap();
        let p = Prepared::new(&doc);
        let rep = Repetitions::of(&p);
        let mut probs = [0.0; 14];
        probs[Technique::Slogans.index()] = 0.6;
        probs[Technique::LoadedLanguage.index()] = 0.4;
        let clf = Fixed(probs);
        let t = tags(&[0.9, 0.9, 0.9, 0.0, 2.0, 0.9, 0.9, 0.0]);
        let d = Decode {
            threshold: 0.5,
            second_label: 0.35,
            repetition_rule: true,
            shape: Shape::default(),
        };
        let got: Vec<(&str, Technique)> = detect(&p, &rep, &t, &clf, &d)
            .iter()
            .map(|x| (doc.slice(x.span), x.technique))
            .collect();
        use Technique::*;
        assert_eq!(
            got,
            [
                ("Build the wall", Slogans),
                ("Build the wall", LoadedLanguage),
                ("Build the wall", Slogans),
                ("Build the wall", LoadedLanguage),
                ("Build the wall", Repetition),
            ]
        );
        let second = Span::new(16, 30);
        let rows = classify_rows(&p, &rep, &[second, second, Span::new(0, 14)], &clf, true);
        assert_eq!(rows, [Repetition, Slogans, Slogans]);
    }

    fn shaped(text: &str, p: &[f32], shape: Shape) -> Vec<String> {
        let doc = Document::new(text).unwrap();
        let prep = Prepared::new(&doc);
        assert_eq!(prep.len(), p.len(), "one probability per token");
        let d = Decode {
            threshold: 0.3,
            shape,
            ..Decode::default()
        };
        spans(&prep, &tags(p), &d)
            .iter()
            .map(|(s, _)| doc.slice(*s).to_string())
            .collect()
    }

    #[test]
    fn a_switch_cost_keeps_a_label_whole_when_one_word_dips() {
        // "They are a gang of traitors ." with "of" under the threshold.
        let text = "They are a gang of traitors .";
        let p = [0.05, 0.05, 0.4, 0.7, 0.2, 0.8, 0.05];
        assert_eq!(shaped(text, &p, Shape::NONE), ["a gang", "traitors"]);
        let smooth = Shape {
            switch_cost: 1.0,
            ..Shape::NONE
        };
        assert_eq!(shaped(text, &p, smooth), ["a gang of traitors"]);
        // No cost at all is exactly the threshold.
        assert_eq!(inside(&tags(&p), 0.3, 0.0), inside(&tags(&p), 0.3, -1.0));
    }

    #[test]
    fn clean_up_drops_function_word_spans_trims_punctuation_and_merges_near_spans() {
        let text = "The plan , of course , is a disgrace , a scandal !";
        //          The  plan ,   of  course ,   is  a   disgrace ,   a   scandal !
        let p = [
            0.9, 0.1, 0.1, 0.9, 0.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.2, 0.9, 0.9,
        ];
        let none = Shape::NONE;
        assert_eq!(
            shaped(text, &p, none),
            ["The", "of", ", is a disgrace ,", "scandal !"]
        );
        let clean = Shape {
            trim_punctuation: true,
            drop_function_words: true,
            ..none
        };
        assert_eq!(shaped(text, &p, clean), ["is a disgrace", "scandal !"]);
        let merged = Shape {
            merge_gap: 5,
            ..clean
        };
        assert_eq!(shaped(text, &p, merged), ["is a disgrace , a scandal !"]);
        assert!(is_function_word("THE") && !is_function_word("disgrace"));
    }

    #[test]
    fn function_words_are_found_in_any_case_and_nothing_else_is() {
        let list = include_str!("../data/function-words.txt");
        for w in rhetor_core::sentence::word_list(list) {
            let title: String = w[..1].to_uppercase() + &w[1..];
            for form in [w.to_string(), w.to_uppercase(), title] {
                assert!(is_function_word(&form), "{form}");
            }
            // A letter more, before or after, is another word.
            assert!(!is_function_word(&format!("{w}x")), "{w}x");
            assert!(!is_function_word(&format!("x{w}")), "x{w}");
        }
        for w in [
            "",
            "disgrace",
            "traitors",
            "THEM's",
            "théâtre",
            "ΤΗΕ",
            "notwithstandingly",
        ] {
            assert!(!is_function_word(w), "{w}");
        }
    }

    #[test]
    fn quote_marks_around_a_span_join_it() {
        let text = "He called it \" treason \" today";
        let p = [0.0, 0.0, 0.0, 0.1, 0.9, 0.1, 0.0];
        let q = Shape {
            extend_quotes: true,
            ..Shape::NONE
        };
        assert_eq!(shaped(text, &p, Shape::NONE), ["treason"]);
        assert_eq!(Shape::parse("0.25,1,1,0,0"), Ok(Shape::default()));
        assert!(Shape::parse("1,2,0,0,0").is_err() && Shape::parse("-1,0,0,0,0").is_err());
        assert_eq!(shaped(text, &p, q), ["\" treason \""]);
    }
}
