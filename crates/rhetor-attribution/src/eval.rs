//! The attribution metric of issue 5 (PolNeAR-style), over folders or in memory.
//!
//! Per article, a content is the set of code points of its fragments.
//! - **content**: precision = mean over predicted contents `p` of `max_g |p∩g| / |p|`; recall = mean
//!   over gold contents `g` of `max_p |p∩g| / |g|` (the max runs over the same article); F1.
//! - **speaker**: each gold attribution with a source is matched to the predicted attribution (same
//!   article) whose content overlaps its content most (ties: the first); it is correct when that
//!   prediction has a source overlapping the gold source. Recall = correct / gold attributions with a
//!   source; precision = correct / predicted attributions with a source (capped at 1); F1.
//!
//! Articles with gold but no prediction count fully in the recall denominators; predictions for an
//! article without a gold file count in the precision denominators.

use crate::brat::BratAttribution;
use rhetor_core::Span;
use serde::Serialize;
use std::collections::BTreeMap;

/// Precision, recall, F1 and the counts behind them (the core scorer's type).
pub use rhetor_core::score::Prf;

/// Partial-overlap credit: precision can't pass 1 even if predictions overlap several golds.
fn prf(p_sum: f64, n_pred: usize, r_sum: f64, n_gold: usize) -> Prf {
    Prf::from_sums(p_sum.min(n_pred as f64), n_pred, r_sum, n_gold)
}

/// The scores of a run.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Report {
    /// Content spans, partial-overlap credit.
    pub content: Prf,
    /// Source spans of matched attributions.
    pub speaker: Prf,
    /// Articles scored (union of gold and predicted names).
    pub articles: usize,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} articles", self.articles)?;
        writeln!(
            f,
            "{:<9} {:>9} {:>9} {:>9} {:>7} {:>7}",
            "", "precision", "recall", "F1", "pred", "gold"
        )?;
        for (name, p) in [("content", self.content), ("speaker", self.speaker)] {
            writeln!(
                f,
                "{:<9} {:>9.4} {:>9.4} {:>9.4} {:>7} {:>7}",
                name, p.precision, p.recall, p.f1, p.n_pred, p.n_gold
            )?;
        }
        Ok(())
    }
}

/// Code points shared by two sorted, disjoint fragment lists.
pub fn overlap(a: &[Span], b: &[Span]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        n += a[i].overlap(b[j]);
        if a[i].end() < b[j].end() {
            i += 1;
        } else {
            j += 1;
        }
    }
    n
}

fn size(a: &[Span]) -> usize {
    a.iter().map(|s| s.len()).sum()
}

/// Running sums, so that articles can be added one at a time.
#[derive(Debug, Clone, Default)]
pub struct Scorer {
    c_p: f64,
    c_np: usize,
    c_r: f64,
    c_ng: usize,
    s_correct: usize,
    s_np: usize,
    s_ng: usize,
    articles: usize,
}

impl Scorer {
    /// A scorer with nothing added.
    pub fn new() -> Scorer {
        Scorer::default()
    }

    /// Adds one article's gold and predicted attributions.
    pub fn add(&mut self, gold: &[BratAttribution], pred: &[BratAttribution]) {
        self.articles += 1;
        let norm = |v: &[BratAttribution]| -> Vec<(Vec<Span>, Option<Vec<Span>>)> {
            v.iter()
                .filter(|a| !a.content.is_empty())
                .map(|a| {
                    (
                        crate::brat::normalize(a.content.clone()),
                        a.source.clone().map(crate::brat::normalize),
                    )
                })
                .collect()
        };
        let gold = norm(gold);
        let pred = norm(pred);
        for (p, _) in &pred {
            let sz = size(p);
            if sz == 0 {
                continue;
            }
            let best = gold.iter().map(|(g, _)| overlap(p, g)).max().unwrap_or(0);
            self.c_p += best as f64 / sz as f64;
            self.c_np += 1;
        }
        for (g, gsrc) in &gold {
            let sz = size(g);
            if sz == 0 {
                continue;
            }
            let mut best = 0;
            let mut best_i = None;
            for (i, (p, _)) in pred.iter().enumerate() {
                let o = overlap(p, g);
                if o > best {
                    best = o;
                    best_i = Some(i);
                }
            }
            self.c_r += best as f64 / sz as f64;
            self.c_ng += 1;
            if let Some(gs) = gsrc {
                self.s_ng += 1;
                if let Some(ps) = best_i.and_then(|i| pred[i].1.as_ref()) {
                    if overlap(ps, gs) > 0 {
                        self.s_correct += 1;
                    }
                }
            }
        }
        self.s_np += pred
            .iter()
            .filter(|(p, s)| size(p) > 0 && s.is_some())
            .count();
    }

    /// The scores so far.
    pub fn report(&self) -> Report {
        Report {
            content: prf(self.c_p, self.c_np, self.c_r, self.c_ng),
            speaker: prf(
                self.s_correct as f64,
                self.s_np,
                self.s_correct as f64,
                self.s_ng,
            ),
            articles: self.articles,
        }
    }
}

/// Scores predictions against gold, both keyed by article name. A name missing on one side counts
/// as an article with no attributions there.
pub fn evaluate(
    gold: &BTreeMap<String, Vec<BratAttribution>>,
    pred: &BTreeMap<String, Vec<BratAttribution>>,
) -> Report {
    let mut sc = Scorer::new();
    let empty = Vec::new();
    for (name, g) in gold {
        sc.add(g, pred.get(name).unwrap_or(&empty));
    }
    for (name, p) in pred {
        if !gold.contains_key(name) {
            sc.add(&empty, p);
        }
    }
    sc.report()
}

/// Reads two folders of `.ann` files and scores them.
pub fn evaluate_dirs(
    gold: &std::path::Path,
    pred: &std::path::Path,
) -> rhetor_core::Result<Report> {
    let g = crate::brat::read_dir(gold)?;
    if g.is_empty() {
        return Err(rhetor_core::Error::Invalid(format!(
            "{}: no .ann files",
            gold.display()
        )));
    }
    let p = crate::brat::read_dir(pred)?;
    Ok(evaluate(&g, &p))
}
