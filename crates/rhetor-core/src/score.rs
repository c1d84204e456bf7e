//! The SemEval-2020 Task 11 metrics, exactly as `shared/README.md` defines them.
//!
//! - SI: spans merged per article; precision and recall with partial-overlap credit.
//! - FLC: the same, pairing only spans of the same technique (merged per technique).
//! - TC: micro-F1 over given spans; repeated spans are matched as multisets of techniques.

use crate::corpus::LabelRow;
use crate::span::{merge_overlapping, Span};
use crate::taxonomy::Technique;
use std::collections::{BTreeMap, HashMap};

/// Precision, recall and F1, with the counts behind them.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Prf {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// Harmonic mean (0 when either is 0).
    pub f1: f64,
    /// Number of predicted items (merged spans, or rows).
    pub n_pred: usize,
    /// Number of gold items.
    pub n_gold: usize,
}

impl Prf {
    /// Precision = `p_sum / n_pred`, recall = `r_sum / n_gold` (each 0 when its count is 0), and F1.
    pub fn from_sums(p_sum: f64, n_pred: usize, r_sum: f64, n_gold: usize) -> Prf {
        let precision = if n_pred > 0 {
            p_sum / n_pred as f64
        } else {
            0.0
        };
        let recall = if n_gold > 0 {
            r_sum / n_gold as f64
        } else {
            0.0
        };
        let f1 = if precision > 0.0 && recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf {
            precision,
            recall,
            f1,
            n_pred,
            n_gold,
        }
    }
}

/// Groups spans by key, merging each group. Ordered by key, so that the floating-point sums below
/// run in one order and the same rows always give the same score, to the last digit.
fn merged_by<K: Ord + Clone>(
    rows: &[LabelRow],
    key: impl Fn(&LabelRow) -> Option<K>,
) -> BTreeMap<K, Vec<Span>> {
    let mut m: BTreeMap<K, Vec<Span>> = BTreeMap::new();
    for r in rows {
        if let Some(k) = key(r) {
            m.entry(k).or_default().push(r.span);
        }
    }
    m.into_iter()
        .map(|(k, v)| (k, merge_overlapping(&v)))
        .collect()
}

/// Partial-overlap precision/recall between merged span groups sharing a key.
fn overlap_prf<K: Ord>(gold: &BTreeMap<K, Vec<Span>>, pred: &BTreeMap<K, Vec<Span>>) -> Prf {
    let n_gold: usize = gold.values().map(Vec::len).sum();
    let n_pred: usize = pred.values().map(Vec::len).sum();
    let (mut p_sum, mut r_sum) = (0.0, 0.0);
    for (k, ps) in pred {
        let Some(gs) = gold.get(k) else { continue };
        // Both lists are sorted and disjoint: a sweep visits every overlapping pair once.
        let mut j0 = 0;
        for p in ps {
            while j0 < gs.len() && gs[j0].end() <= p.start() {
                j0 += 1;
            }
            let mut j = j0;
            while j < gs.len() && gs[j].start() < p.end() {
                let o = p.overlap(gs[j]) as f64;
                p_sum += o / p.len() as f64;
                r_sum += o / gs[j].len() as f64;
                j += 1;
            }
        }
    }
    Prf::from_sums(p_sum, n_pred, r_sum, n_gold)
}

/// SI score: techniques ignored, spans merged per article.
pub fn si(gold: &[LabelRow], pred: &[LabelRow]) -> Prf {
    let g = merged_by(gold, |r| Some(r.id.clone()));
    let p = merged_by(pred, |r| Some(r.id.clone()));
    overlap_prf(&g, &p)
}

/// FLC score: spans and techniques, merged per article and technique. Rows without a technique are
/// ignored. Also returns the score of each technique alone.
pub fn flc(gold: &[LabelRow], pred: &[LabelRow]) -> (Prf, BTreeMap<Technique, Prf>) {
    let g = merged_by(gold, |r| r.technique.map(|t| (r.id.clone(), t)));
    let p = merged_by(pred, |r| r.technique.map(|t| (r.id.clone(), t)));
    let all = overlap_prf(&g, &p);
    let per = Technique::ALL
        .iter()
        .map(|&t| {
            let gt = g
                .iter()
                .filter(|(k, _)| k.1 == t)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let pt = p
                .iter()
                .filter(|(k, _)| k.1 == t)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (t, overlap_prf(&gt, &pt))
        })
        .collect();
    (all, per)
}

/// TC score: the share of gold rows whose technique the prediction gets right, matching the rows of
/// one span as multisets. Also per technique (precision over predicted, recall over gold).
pub fn tc(gold: &[LabelRow], pred: &[LabelRow]) -> (Prf, BTreeMap<Technique, Prf>) {
    type Key = (String, Span);
    let mut gm: HashMap<Key, Vec<Technique>> = HashMap::new();
    for r in gold {
        if let Some(t) = r.technique {
            gm.entry((r.id.clone(), r.span)).or_default().push(t);
        }
    }
    let mut pm: HashMap<Key, Vec<Technique>> = HashMap::new();
    for r in pred {
        if let Some(t) = r.technique {
            pm.entry((r.id.clone(), r.span)).or_default().push(t);
        }
    }
    let mut correct = [0usize; 14];
    let mut n_gold = [0usize; 14];
    let mut n_pred = [0usize; 14];
    for ts in gm.values() {
        for t in ts {
            n_gold[t.index()] += 1;
        }
    }
    for (k, ps) in &pm {
        for t in ps {
            n_pred[t.index()] += 1;
        }
        let Some(gs) = gm.get(k) else { continue };
        let mut left = gs.clone();
        for t in ps {
            if let Some(i) = left.iter().position(|g| g == t) {
                left.swap_remove(i);
                correct[t.index()] += 1;
            }
        }
    }
    let sum = |a: &[usize; 14]| a.iter().sum::<usize>();
    let all = Prf::from_sums(
        sum(&correct) as f64,
        sum(&n_pred),
        sum(&correct) as f64,
        sum(&n_gold),
    );
    let per = Technique::ALL
        .iter()
        .map(|&t| {
            let i = t.index();
            (
                t,
                Prf::from_sums(correct[i] as f64, n_pred[i], correct[i] as f64, n_gold[i]),
            )
        })
        .collect();
    (all, per)
}

/// Which predictions are right, for calibrating confidences: a predicted row is right when it
/// overlaps a gold span of its technique in its article (FLC's notion of a hit).
pub struct Hits {
    gold: BTreeMap<(String, Technique), Vec<Span>>,
}

impl Hits {
    /// Indexes the gold rows.
    pub fn new(gold: &[LabelRow]) -> Hits {
        Hits {
            gold: merged_by(gold, |r| r.technique.map(|t| (r.id.clone(), t))),
        }
    }

    /// Does `pred` overlap a gold span of its technique?
    pub fn right(&self, pred: &LabelRow) -> bool {
        let Some(t) = pred.technique else {
            return false;
        };
        self.gold
            .get(&(pred.id.clone(), t))
            .is_some_and(|gs| gs.iter().any(|g| g.overlap(pred.span) > 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(spec: &[(&str, Option<Technique>, usize, usize)]) -> Vec<LabelRow> {
        spec.iter()
            .map(|&(id, t, s, e)| LabelRow {
                id: id.into(),
                technique: t,
                span: Span::new(s, e),
                line: 0,
            })
            .collect()
    }

    #[test]
    fn the_same_rows_give_the_same_score_to_the_last_bit() {
        // Many articles with fractional overlaps: summed in a varying (hash) order, the totals
        // differ in their last bits from one call to the next.
        let mut gold = Vec::new();
        let mut pred = Vec::new();
        for a in 0..300usize {
            let id = format!("{a}");
            let t = Technique::from_index(a % 14);
            for k in 0..3 {
                let s = 100 * k + a % 7;
                gold.push((id.clone(), t, s, s + 13 + a % 11));
                pred.push((id.clone(), t, s + 3, s + 9 + a % 17));
            }
        }
        let conv = |v: &[(String, Option<Technique>, usize, usize)]| -> Vec<LabelRow> {
            v.iter()
                .map(|(id, t, s, e)| LabelRow {
                    id: id.clone(),
                    technique: *t,
                    span: Span::new(*s, *e),
                    line: 0,
                })
                .collect()
        };
        let (gold, pred) = (conv(&gold), conv(&pred));
        let first = (si(&gold, &pred), flc(&gold, &pred).0);
        for _ in 0..20 {
            let again = (si(&gold, &pred), flc(&gold, &pred).0);
            assert_eq!(again.0.f1.to_bits(), first.0.f1.to_bits());
            assert_eq!(again.1.precision.to_bits(), first.1.precision.to_bits());
            assert_eq!(again.1.recall.to_bits(), first.1.recall.to_bits());
        }
    }

    #[test]
    fn si_worked_example_from_the_readme() {
        let gold = rows(&[("1", None, 0, 59), ("1", None, 0, 9), ("1", None, 115, 150)]);
        let pred = rows(&[
            ("1", None, 0, 50),
            ("1", None, 0, 10),
            ("1", None, 115, 167),
            ("1", None, 161, 172),
        ]);
        let s = si(&gold, &pred);
        assert!((s.precision - 0.80702).abs() < 5e-6, "{s:?}");
        assert!((s.recall - 0.92373).abs() < 5e-6, "{s:?}");
        assert!((s.f1 - 0.86144).abs() < 5e-6, "{s:?}");
        assert_eq!((s.n_pred, s.n_gold), (2, 2));
    }

    #[test]
    fn si_counts_articles_without_predictions_in_recall() {
        let gold = rows(&[("1", None, 0, 10), ("2", None, 0, 10)]);
        let pred = rows(&[("1", None, 0, 10), ("3", None, 0, 4)]);
        let s = si(&gold, &pred);
        assert_eq!(s.precision, 0.5);
        assert_eq!(s.recall, 0.5);
    }

    #[test]
    fn flc_pairs_only_same_technique() {
        use Technique::*;
        let gold = rows(&[
            ("1", Some(Doubt), 0, 10),
            ("1", Some(LoadedLanguage), 20, 30),
        ]);
        let pred = rows(&[("1", Some(Doubt), 0, 5), ("1", Some(Doubt), 20, 30)]);
        let (all, per) = flc(&gold, &pred);
        // Precision: (5/5 + 0)/2; recall: (5/10 + 0)/2.
        assert!((all.precision - 0.5).abs() < 1e-12);
        assert!((all.recall - 0.25).abs() < 1e-12);
        assert_eq!(per[&LoadedLanguage].recall, 0.0);
        assert_eq!(per[&Doubt].recall, 0.5);
    }

    #[test]
    fn tc_matches_repeated_spans_as_multisets() {
        use Technique::*;
        let gold = rows(&[
            ("1", Some(Doubt), 0, 10),
            ("1", Some(Slogans), 0, 10),
            ("1", Some(Repetition), 20, 30),
        ]);
        let pred = rows(&[
            ("1", Some(Slogans), 0, 10),
            ("1", Some(Slogans), 0, 10),
            ("1", Some(Repetition), 20, 30),
        ]);
        let (all, per) = tc(&gold, &pred);
        assert!((all.f1 - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(per[&Doubt].recall, 0.0);
        assert_eq!(per[&Slogans].precision, 0.5);
    }

    #[test]
    fn a_hit_overlaps_a_gold_span_of_its_technique_in_its_article() {
        let row = |id: &str, t: Technique, s: usize, e: usize| LabelRow {
            id: id.into(),
            technique: Some(t),
            span: Span::new(s, e),
            line: 0,
        };
        use Technique::{Doubt, LoadedLanguage};
        let hits = Hits::new(&[row("1", LoadedLanguage, 10, 20)]);
        assert!(hits.right(&row("1", LoadedLanguage, 19, 30)));
        assert!(
            !hits.right(&row("1", LoadedLanguage, 20, 30)),
            "end is exclusive"
        );
        assert!(!hits.right(&row("1", Doubt, 10, 20)), "another technique");
        assert!(
            !hits.right(&row("2", LoadedLanguage, 10, 20)),
            "another article"
        );
    }
}
