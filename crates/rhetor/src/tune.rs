//! Tuning the ensemble (mixing weights and decoding thresholds) on held-out articles, with honest
//! scores: each half of the held-out articles is scored with settings chosen on the other half.

use crate::ensemble::{Ensemble, Mixing, Readings};
use rhetor_core::corpus::{Article, LabelRow};
use rhetor_core::score::{self, Prf};
use rhetor_core::{Prepared, Span, Technique};
use rhetor_neural::{NeuralError, NeuralReading, Settings};

/// What tuning found.
#[derive(Debug, Clone)]
pub struct TuneReport {
    /// Settings chosen on all the held-out articles (what the model keeps).
    pub best: Settings,
    /// SI of the cross-fitted predictions (each half decoded with the other half's best settings).
    pub si: Prf,
    /// FLC of the cross-fitted predictions.
    pub flc: Prf,
    /// TC micro-F1 on gold spans, cross-fitted.
    pub tc: Prf,
    /// Per-technique FLC and TC of the cross-fitted predictions.
    pub flc_per: std::collections::BTreeMap<Technique, Prf>,
    /// Per-technique TC.
    pub tc_per: std::collections::BTreeMap<Technique, Prf>,
    /// The same cross-fitted scores for the fast model alone and the encoder alone (weights 0 and 1).
    pub baselines: Vec<(String, Prf, Prf, Prf)>,
    /// The cross-fitted predictions (PTC rows).
    pub predictions: Vec<LabelRow>,
    /// For each half of the held-out articles, the raw confidence of each prediction under the
    /// chosen settings and whether it was right: what calibration is fitted on.
    pub confidences: Vec<Vec<(f32, bool)>>,
}

/// One held-out article with both tiers' readings, decoded under every setting tried.
struct Cached<'a> {
    article: &'a Article,
    readings: Readings<'a>,
    gold: Vec<LabelRow>,
}

fn mixing(acc: &Ensemble, s: &Settings) -> Mixing {
    Mixing::of(s, acc.fast_model())
}

fn predict_all(acc: &Ensemble, arts: &[&Cached], s: &Settings) -> Vec<LabelRow> {
    let m = mixing(acc, s);
    arts.iter()
        .flat_map(|c| {
            c.readings
                .detect(&m)
                .iter()
                .map(|d| LabelRow::predicted(&c.article.id, d))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn classify_all(acc: &Ensemble, arts: &[&Cached], s: &Settings) -> Vec<LabelRow> {
    let m = mixing(acc, s);
    let mut out = Vec::new();
    for c in arts {
        let spans: Vec<Span> = c.gold.iter().map(|r| r.span).collect();
        let techs = c.readings.classify_rows(&spans, &m);
        for (r, t) in c.gold.iter().zip(techs) {
            out.push(LabelRow {
                technique: Some(t),
                ..r.clone()
            });
        }
    }
    out
}

fn gold_of(arts: &[&Cached]) -> Vec<LabelRow> {
    arts.iter().flat_map(|c| c.gold.iter().cloned()).collect()
}

/// Chooses settings on `arts`: span weight and threshold by SI + FLC/4, then the technique weight
/// by TC, then the second-label threshold by FLC. `fixed` pins the two mixing weights (baselines).
fn choose(acc: &Ensemble, arts: &[&Cached], base: Settings, fixed: Option<(f32, f32)>) -> Settings {
    let gold = gold_of(arts);
    let mut best = base;
    if let Some((_, t)) = fixed {
        // FLC in the span criterion below depends on the technique weight: pin it first.
        best.technique_weight = t;
    }
    let weights: Vec<f32> = match fixed {
        Some((w, _)) => vec![w],
        None => vec![0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
    };
    let mut top = f64::MIN;
    for &w in &weights {
        for th in [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5] {
            let s = Settings {
                span_weight: w,
                threshold: th,
                second_label: 1.1,
                ..best
            };
            let pred = predict_all(acc, arts, &s);
            let v = score::si(&gold, &pred).f1 + score::flc(&gold, &pred).0.f1 / 4.0;
            if v > top {
                top = v;
                best.span_weight = w;
                best.threshold = th;
            }
        }
    }
    let tws: Vec<f32> = match fixed {
        Some((_, t)) => vec![t],
        None => vec![0.0, 0.2, 0.35, 0.5, 0.65, 0.8, 1.0],
    };
    let mut top = f64::MIN;
    for &tw in &tws {
        let s = Settings {
            technique_weight: tw,
            ..best
        };
        let v = score::tc(&gold, &classify_all(acc, arts, &s)).0.f1;
        if v > top {
            top = v;
            best.technique_weight = tw;
        }
    }
    let mut top = f64::MIN;
    for sl in [0.25, 0.3, 0.35, 0.45, 1.1] {
        let s = Settings {
            second_label: sl,
            ..best
        };
        let v = score::flc(&gold, &predict_all(acc, arts, &s)).0.f1;
        if v > top {
            top = v;
            best.second_label = sl;
        }
    }
    best
}

/// Cross-fitted predictions and TC rows: each half decoded with settings chosen on the other.
fn cross_fit(
    acc: &Ensemble,
    cached: &[Cached],
    base: Settings,
    fixed: Option<(f32, f32)>,
) -> (Vec<LabelRow>, Vec<LabelRow>) {
    let halves: [Vec<&Cached>; 2] = [
        cached.iter().step_by(2).collect(),
        cached.iter().skip(1).step_by(2).collect(),
    ];
    let (mut pred, mut tc) = (Vec::new(), Vec::new());
    for h in 0..2 {
        let s = choose(acc, &halves[1 - h], base, fixed);
        pred.extend(predict_all(acc, &halves[h], &s));
        tc.extend(classify_all(acc, &halves[h], &s));
    }
    (pred, tc)
}

/// Tunes the ensemble of `acc` (which must have an encoder) on held-out articles, which neither
/// model was trained on.
pub fn tune(
    acc: &Ensemble,
    articles: &[Article],
    labels: &[LabelRow],
    progress: &mut dyn FnMut(usize),
) -> Result<TuneReport, NeuralError> {
    let Some(encoder) = acc.encoder() else {
        return Err(NeuralError::Other(
            "tuning mixes an encoder with the fast model: give an encoder (.rhn) model".into(),
        ));
    };
    let preps: Vec<Prepared> = articles.iter().map(|a| Prepared::new(&a.doc)).collect();
    let mut cached = Vec::with_capacity(articles.len());
    for (i, (a, prep)) in articles.iter().zip(&preps).enumerate() {
        let neural = NeuralReading::new(prep, encoder.piece_probs(&a.doc)?);
        cached.push(Cached {
            article: a,
            readings: Readings::new(prep, acc.fast_model().read(prep), Some(neural)),
            gold: labels.iter().filter(|r| r.id == a.id).cloned().collect(),
        });
        progress(i + 1);
    }
    let base = encoder.settings();
    let all: Vec<&Cached> = cached.iter().collect();
    let gold = gold_of(&all);
    let best = choose(acc, &all, base, None);
    let (pred, tc_rows) = cross_fit(acc, &cached, base, None);
    let (flc, flc_per) = score::flc(&gold, &pred);
    let (tc, tc_per) = score::tc(&gold, &tc_rows);
    let hits = score::Hits::new(&gold);
    let m = mixing(acc, &best);
    let confidences = [0, 1]
        .iter()
        .map(|&h| {
            let mut v = Vec::new();
            for c in cached.iter().skip(h).step_by(2) {
                for d in c.readings.detect(&m) {
                    v.push((
                        d.confidence,
                        hits.right(&LabelRow::predicted(&c.article.id, &d)),
                    ));
                }
            }
            v
        })
        .collect();
    let mut baselines = Vec::new();
    for (name, w) in [("fast model alone", 0.0f32), ("encoder alone", 1.0)] {
        let (p, t) = cross_fit(acc, &cached, base, Some((w, w)));
        baselines.push((
            name.to_string(),
            score::si(&gold, &p),
            score::flc(&gold, &p).0,
            score::tc(&gold, &t).0,
        ));
    }
    Ok(TuneReport {
        best,
        si: score::si(&gold, &pred),
        flc,
        tc,
        flc_per,
        tc_per,
        baselines,
        predictions: pred,
        confidences,
    })
}
