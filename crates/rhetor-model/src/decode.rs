//! The one span decoder: token-tag probabilities become spans, spans get techniques, and the
//! repetition rule adds `Repetition` to phrases an article already used. Every tier and every
//! ensemble decodes through here, so they share one notion of a span.

use crate::{Classifier, Repetitions, TagProbs, TechProbs};
use rhetor_core::{Detection, Prepared, Span, Technique};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How token probabilities become spans and spans become techniques. Stored in the models; tuned
/// on held-out predictions.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Decode {
    /// A token is inside a span when P(B) + P(I) exceeds this.
    pub threshold: f32,
    /// A span also gets its second-best technique (an overlapping span) when that one's probability
    /// is at least this.
    pub second_label: f32,
    /// A span whose content words occurred earlier in the article also gets `Repetition`.
    pub repetition_rule: bool,
}

impl Default for Decode {
    fn default() -> Decode {
        Decode {
            threshold: 0.35,
            second_label: 0.35,
            repetition_rule: true,
        }
    }
}

/// Technique-agnostic spans with their confidence (the mean P(B) + P(I) of their tokens). A span
/// is a run of tokens above the threshold; it ends at a token below it, at a token that clearly
/// begins a new span, or at a blank line (paragraph break).
pub fn spans(prep: &Prepared, tags: &[TagProbs], threshold: f32) -> Vec<(Span, f32)> {
    let (toks, line) = (prep.token_spans(), prep.lines());
    debug_assert_eq!(tags.len(), toks.len());
    let inside = |k: usize| tags[k][1] + tags[k][2] > threshold;
    let mut out = Vec::new();
    let mut k = 0;
    while k < tags.len() {
        if !inside(k) {
            k += 1;
            continue;
        }
        let s = k;
        let mut sum = 0.0f32;
        loop {
            sum += tags[k][1] + tags[k][2];
            k += 1;
            if k >= tags.len()
                || !inside(k)
                || (tags[k][1] > tags[k][2] && tags[k][1] > 0.5)
                || line[k] > line[k - 1] + 1
            {
                break;
            }
        }
        out.push((
            Span::new(toks[s].start(), toks[k - 1].end()),
            sum / (k - s) as f32,
        ));
    }
    out
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
    let found = spans(prep, tags, d.threshold);
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
        let found = spans(&p, &tags(&[0.9, 0.8, 0.1, 0.9, 2.0, 0.9, 0.9]), 0.5);
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
}
