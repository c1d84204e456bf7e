//! Scoring prediction files against gold labels (SI, FLC, TC), and the per-technique table as data.

use crate::corpus::{self, Article, LabelRow};
use crate::score::{self, Prf};
use crate::{Error, Technique};
use std::collections::BTreeMap;
use std::path::Path;

/// Scores per technique.
pub type PerTechnique = BTreeMap<Technique, Prf>;

/// What `rhetor eval` found: the scores of whichever prediction files were given.
#[derive(Debug, Clone, Default)]
pub struct EvalReport {
    /// SI, FLC and FLC per technique of the end-to-end predictions, when given.
    pub spans: Option<SpanScores>,
    /// TC and TC per technique of the technique predictions over the gold spans, when given.
    pub techniques: Option<(Prf, PerTechnique)>,
}

/// Scores of end-to-end predictions (spans and their techniques).
#[derive(Debug, Clone)]
pub struct SpanScores {
    /// Span identification.
    pub si: Prf,
    /// Fragment-level classification (spans paired only with spans of the same technique).
    pub flc: Prf,
    /// FLC per technique.
    pub flc_per: PerTechnique,
}

/// Scores end-to-end predictions (`pred`, for SI and FLC) and technique predictions over the gold
/// spans (`tc`, for TC) against `gold`. With `articles`, every row of every file is checked to lie
/// inside its article first.
pub fn evaluate(
    gold: &Path,
    pred: Option<&Path>,
    tc: Option<&Path>,
    articles: Option<&Path>,
) -> Result<EvalReport, Error> {
    let gold_rows = corpus::read_labels(gold)?;
    let articles: Option<Vec<Article>> = articles.map(corpus::read_articles).transpose()?;
    let read = |p: &Path| -> Result<Vec<LabelRow>, Error> {
        let rows = corpus::read_labels(p)?;
        if let Some(a) = &articles {
            corpus::check_labels(&rows, p, a)?;
        }
        Ok(rows)
    };
    if let Some(a) = &articles {
        corpus::check_labels(&gold_rows, gold, a)?;
    }
    let mut report = EvalReport::default();
    if let Some(p) = pred {
        let pred = read(p)?;
        let si = score::si(&gold_rows, &pred);
        let (flc, flc_per) = score::flc(&gold_rows, &pred);
        report.spans = Some(SpanScores { si, flc, flc_per });
    }
    if let Some(p) = tc {
        let pred = corpus::read_labels(p)?;
        if pred.iter().any(|r| r.technique.is_none()) {
            return Err(rhetor_core::Error::Invalid(format!(
                "{}: TC predictions must name a technique on every row",
                p.display()
            ))
            .into());
        }
        report.techniques = Some(score::tc(&gold_rows, &pred));
    }
    Ok(report)
}

impl EvalReport {
    /// The scores as JSON: `si`, `flc`, `flc_per_technique`, `tc`, `tc_per_technique` (each
    /// present when its file was scored; techniques by name).
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = serde_json::Map::new();
        if let Some(s) = &self.spans {
            json.insert("si".into(), prf_json(&s.si));
            json.insert("flc".into(), prf_json(&s.flc));
            json.insert("flc_per_technique".into(), per_json(&s.flc_per));
        }
        if let Some((tc, per)) = &self.techniques {
            json.insert("tc".into(), prf_json(tc));
            json.insert("tc_per_technique".into(), per_json(per));
        }
        json.into()
    }

    /// The per-technique table of whatever was scored.
    pub fn table(&self) -> TechniqueTable {
        TechniqueTable::new(
            self.spans.as_ref().map(|s| &s.flc_per),
            self.techniques.as_ref().map(|t| &t.1),
        )
    }
}

fn prf_json(p: &Prf) -> serde_json::Value {
    serde_json::to_value(p).expect("plain numbers serialise")
}

fn per_json(per: &PerTechnique) -> serde_json::Value {
    per.iter()
        .map(|(t, p)| (t.name().to_string(), prf_json(p)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Per-technique scores as rows: FLC and, when given, TC.
#[derive(Debug, Clone, PartialEq)]
pub struct TechniqueTable {
    /// Whether the table has FLC columns.
    pub has_flc: bool,
    /// Whether the table has TC columns.
    pub has_tc: bool,
    /// One row per technique, in technique order.
    pub rows: Vec<TechniqueRow>,
}

/// One technique's line of a [`TechniqueTable`].
#[derive(Debug, Clone, PartialEq)]
pub struct TechniqueRow {
    /// The technique.
    pub technique: Technique,
    /// Gold spans (FLC, merged) of the technique, or gold rows (TC) when there is no FLC.
    pub n_gold: usize,
    /// FLC scores.
    pub flc: Option<Prf>,
    /// TC scores.
    pub tc: Option<Prf>,
}

impl TechniqueTable {
    /// The table of FLC and TC per technique. With FLC, its techniques make the rows (and TC fills
    /// in those it has); with TC alone, TC's do.
    pub fn new(flc: Option<&PerTechnique>, tc: Option<&PerTechnique>) -> TechniqueTable {
        let rows = match (flc, tc) {
            (Some(f), t) => f
                .iter()
                .map(|(tech, p)| TechniqueRow {
                    technique: *tech,
                    n_gold: p.n_gold,
                    flc: Some(*p),
                    tc: t.and_then(|m| m.get(tech)).copied(),
                })
                .collect(),
            (None, Some(t)) => t
                .iter()
                .map(|(tech, p)| TechniqueRow {
                    technique: *tech,
                    n_gold: p.n_gold,
                    flc: None,
                    tc: Some(*p),
                })
                .collect(),
            (None, None) => Vec::new(),
        };
        TechniqueTable {
            has_flc: flc.is_some(),
            has_tc: tc.is_some(),
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prf(f1: f64, n_gold: usize) -> Prf {
        Prf {
            f1,
            n_gold,
            ..Prf::default()
        }
    }

    #[test]
    fn table_rows_follow_flc_and_take_tc_where_it_has_them() {
        let flc: PerTechnique = [
            (Technique::Doubt, prf(0.5, 3)),
            (Technique::Slogans, prf(0.2, 1)),
        ]
        .into_iter()
        .collect();
        let tc: PerTechnique = [(Technique::Doubt, prf(0.9, 4))].into_iter().collect();
        let t = TechniqueTable::new(Some(&flc), Some(&tc));
        assert!(t.has_flc && t.has_tc);
        assert_eq!(t.rows.len(), 2);
        let doubt = t
            .rows
            .iter()
            .find(|r| r.technique == Technique::Doubt)
            .unwrap();
        assert_eq!((doubt.n_gold, doubt.tc.unwrap().f1), (3, 0.9));
        let slogans = t
            .rows
            .iter()
            .find(|r| r.technique == Technique::Slogans)
            .unwrap();
        assert!(slogans.tc.is_none());
        let only_tc = TechniqueTable::new(None, Some(&tc));
        assert!(!only_tc.has_flc);
        assert_eq!(only_tc.rows[0].n_gold, 4);
    }

    #[test]
    fn evaluate_scores_files_and_refuses_tc_rows_without_technique() {
        let dir = std::env::temp_dir().join(format!("rhetor-eval-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let gold = dir.join("g.tsv");
        let pred = dir.join("p.tsv");
        std::fs::write(&gold, "1\tDoubt\t0\t10\n").unwrap();
        std::fs::write(&pred, "1\tDoubt\t0\t10\n").unwrap();
        let r = evaluate(&gold, Some(&pred), Some(&pred), None).unwrap();
        assert_eq!(r.spans.as_ref().unwrap().si.f1, 1.0);
        assert_eq!(r.techniques.as_ref().unwrap().0.f1, 1.0);
        let json = r.to_json();
        assert_eq!(json["flc_per_technique"]["Doubt"]["f1"], 1.0);
        std::fs::write(&pred, "1\t?\t0\t10\n").unwrap();
        let err = evaluate(&gold, None, Some(&pred), None).unwrap_err();
        assert!(err.to_string().contains("must name a technique"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
