//! Training and cross-validation of the fast model.

use crate::features::{Feat, Features};
use crate::linear::{Crf, FeatureIndex, LogReg, Sgd, B, I, O};
use crate::{Decode, FastModel, Manifest, Params};
use rayon::prelude::*;
use rhetor_core::corpus::{Article, LabelRow};
use rhetor_core::score::{self, Prf};
use rhetor_core::span::merge_overlapping;
use rhetor_core::Prepared;
use rhetor_core::{Span, Technique};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Training settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOptions {
    /// The span tagger's optimiser.
    pub tagger: Sgd,
    /// The technique classifier's optimiser.
    pub classifier: Sgd,
    /// Tagger and sentence-model features seen fewer times than this in training are dropped.
    pub min_count: u32,
    /// The same for the technique classifier (fewer examples, so rarer features still count).
    pub classifier_min_count: u32,
    /// Taggers to train with different shuffling seeds; their marginals are averaged.
    pub tagger_seeds: usize,
    /// Shuffling seed.
    pub seed: u64,
    /// Technique classifiers to train with different seeds and average.
    pub classifier_seeds: usize,
    /// Decoding settings stored in the model.
    pub decode: Decode,
    /// Self-training: unlabelled articles that a first model (the teacher, trained on the labelled
    /// ones) labels with its own predictions, after which the model is trained again on both. In
    /// cross-validation each fold's teacher is that fold's model, so no held-out label reaches it.
    #[serde(skip)]
    pub unlabelled: std::sync::Arc<Vec<Article>>,
    /// Self-training keeps only the teacher's spans whose raw decoder score is at least this.
    #[serde(skip)]
    pub silver_min_confidence: f32,
}

impl Default for TrainOptions {
    fn default() -> TrainOptions {
        TrainOptions {
            tagger: Sgd {
                epochs: 25,
                lr: 0.05,
                l2: 1e-4,
            },
            classifier: Sgd {
                epochs: 20,
                lr: 0.1,
                l2: 1e-4,
            },
            min_count: 2,
            classifier_min_count: 1,
            tagger_seeds: 1,
            seed: 42,
            classifier_seeds: 3,
            decode: Decode::default(),
            unlabelled: Default::default(),
            silver_min_confidence: 0.0,
        }
    }
}

/// O/B/I tags of each token from the article's (merged) gold spans.
fn gold_tags(p: &Prepared, spans: &[Span]) -> Vec<u8> {
    let mut tags = vec![O; p.len()];
    for s in merge_overlapping(spans) {
        let r = p.tokens_in(s);
        for k in r.clone() {
            tags[k] = if k == r.start { B } else { I };
        }
    }
    tags
}

/// Trains a model on articles and their technique labels.
pub fn train(
    articles: &[Article],
    labels: &[LabelRow],
    opts: &TrainOptions,
    manifest: Manifest,
) -> FastModel {
    if !opts.unlabelled.is_empty() {
        let plain = TrainOptions {
            unlabelled: Default::default(),
            ..opts.clone()
        };
        let teacher = train(articles, labels, &plain, manifest.clone());
        let silver = silver_labels(&teacher, &opts.unlabelled, opts.silver_min_confidence);
        let mut all = articles.to_vec();
        all.extend(opts.unlabelled.iter().cloned());
        let mut rows = labels.to_vec();
        rows.extend(silver);
        return train(&all, &rows, &plain, manifest);
    }
    let mut by_id: HashMap<&str, Vec<&LabelRow>> = HashMap::new();
    for r in labels {
        by_id.entry(r.id.as_str()).or_default().push(r);
    }
    // The sentence model, cross-fitted: the tagger learns from line probabilities that a model
    // trained on the *other* half of the articles gave, as it will see at prediction time.
    let lines: Vec<(Vec<Vec<Feat>>, Vec<u8>)> = articles
        .par_iter()
        .map(|a| {
            let prep = Prepared::new(&a.doc);
            let p = Features::new(&prep);
            let rows = by_id.get(a.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            let spans: Vec<Span> = rows.iter().map(|r| r.span).collect();
            let tags = gold_tags(&prep, &spans);
            let mut y = vec![0u8; p.n_lines()];
            for k in 0..p.len() {
                if tags[k] != O {
                    y[p.segments()[k] as usize] = 1;
                }
            }
            (p.line_features(), y)
        })
        .collect();
    let fit_sent = |pick: &dyn Fn(usize) -> bool| {
        let ix = FeatureIndex::build(
            lines
                .iter()
                .enumerate()
                .filter(|(i, _)| pick(*i))
                .flat_map(|(_, l)| l.0.iter().map(Vec::as_slice)),
            opts.min_count,
        );
        let mut data = Vec::new();
        for (_, (f, y)) in lines.iter().enumerate().filter(|(i, _)| pick(*i)) {
            for (fl, &yl) in f.iter().zip(y) {
                let mut rows = Vec::new();
                ix.lookup(fl, &mut rows);
                data.push((rows, yl));
            }
        }
        let m = LogReg::train(&data, ix.len(), 2, opts.classifier, opts.seed);
        (ix, m)
    };
    let ((half0, half1), (sent_index, sent)) = rayon::join(
        || rayon::join(|| fit_sent(&|i| i % 2 == 0), || fit_sent(&|i| i % 2 == 1)),
        || fit_sent(&|_| true),
    );
    // Features per article, extracted in parallel.
    type Extracted = (Vec<Vec<Feat>>, Vec<u8>, Vec<(Vec<Feat>, u8)>);
    let extracted: Vec<Extracted> = articles
        .par_iter()
        .enumerate()
        .map(|(i, a)| {
            let prep = Prepared::new(&a.doc);
            let mut p = Features::new(&prep);
            let (ix, m) = if i % 2 == 0 { &half1 } else { &half0 };
            p.line_prob = Some(crate::line_probs(&p.line_features(), ix, m));
            let rows = by_id.get(a.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            let spans: Vec<Span> = rows.iter().map(|r| r.span).collect();
            let tags = gold_tags(&prep, &spans);
            let mut tok = Vec::with_capacity(p.len());
            let mut f = Vec::new();
            for k in 0..p.len() {
                p.token_features(k, &mut f);
                tok.push(f.clone());
            }
            let mut ex = Vec::new();
            for r in rows {
                if let Some(t) = r.technique {
                    p.span_features(r.span, &mut f);
                    ex.push((f.clone(), t.index() as u8));
                }
            }
            (tok, tags, ex)
        })
        .collect();

    let tag_index = FeatureIndex::build(
        extracted.iter().flat_map(|e| e.0.iter().map(Vec::as_slice)),
        opts.min_count,
    );
    let clf_index = FeatureIndex::build(
        extracted
            .iter()
            .flat_map(|e| e.2.iter().map(|x| x.0.as_slice())),
        opts.classifier_min_count,
    );
    let mut seqs = Vec::with_capacity(extracted.len());
    let mut examples = Vec::new();
    for (tok, tags, ex) in extracted {
        let x = tok
            .iter()
            .map(|f| {
                let mut rows = Vec::new();
                tag_index.lookup(f, &mut rows);
                rows
            })
            .collect();
        seqs.push((x, tags));
        for (f, y) in ex {
            let mut rows = Vec::new();
            clf_index.lookup(&f, &mut rows);
            examples.push((rows, y));
        }
    }
    let (crf, clf) = rayon::join(
        || {
            (0..opts.tagger_seeds.max(1) as u64)
                .into_par_iter()
                .map(|i| Crf::train(&seqs, tag_index.len(), opts.tagger, opts.seed + i))
                .collect()
        },
        || {
            (0..opts.classifier_seeds.max(1) as u64)
                .into_par_iter()
                .map(|i| {
                    LogReg::train(
                        &examples,
                        clf_index.len(),
                        Technique::ALL.len(),
                        opts.classifier,
                        opts.seed + i,
                    )
                })
                .collect()
        },
    );
    FastModel {
        manifest,
        params: Params {
            sent_index,
            sent,
            tag_index,
            crf,
            clf_index,
            clf,
            decode: opts.decode,
        },
    }
}

/// Sentences per paragraph when cross-validation reflows the held-out articles (PTC has one per
/// line; users paste paragraphs).
pub const REFLOW_SENTENCES: usize = 4;

/// SI, FLC and TC F1 of one fold.
pub type FoldF1 = [f64; 3];

/// Scores of the out-of-fold predictions in one layout: pooled over all folds, and per fold.
#[derive(Debug, Clone)]
pub struct LayoutScores {
    /// SI with the chosen decoding.
    pub si: Prf,
    /// FLC with the chosen decoding.
    pub flc: Prf,
    /// TC on gold spans.
    pub tc: Prf,
    /// SI, FLC and TC F1 of each fold.
    pub per_fold: Vec<FoldF1>,
}

impl LayoutScores {
    /// Mean and sample standard deviation over the folds of measure `m` (0 SI, 1 FLC, 2 TC).
    pub fn mean_sd(&self, m: usize) -> (f64, f64) {
        let v: Vec<f64> = self.per_fold.iter().map(|f| f[m]).collect();
        let n = v.len().max(1) as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        (mean, var.sqrt())
    }
}

/// Cross-validated scores.
#[derive(Debug, Clone)]
pub struct CvReport {
    /// Number of folds.
    pub folds: usize,
    /// SI with the chosen decoding.
    pub si: Prf,
    /// FLC with the chosen decoding.
    pub flc: Prf,
    /// FLC per technique.
    pub flc_per: BTreeMap<Technique, Prf>,
    /// TC on gold spans.
    pub tc: Prf,
    /// TC per technique.
    pub tc_per: BTreeMap<Technique, Prf>,
    /// The decoding settings that scored best (by SI F1 + FLC F1 / 4: spans first, then techniques).
    pub best: Decode,
    /// Every decoding tried, with its SI and FLC.
    pub sweep: Vec<(Decode, Prf, Prf)>,
    /// Out-of-fold predictions of the best decoding (PTC rows).
    pub predictions: Vec<LabelRow>,
    /// The best decoding's scores per fold, on the articles as given.
    pub plain: LayoutScores,
    /// The same, on the held-out articles reflowed into paragraphs ([`REFLOW_SENTENCES`]).
    pub reflowed: LayoutScores,
    /// Per fold, the raw confidence of each out-of-fold prediction (best decoding) and whether it
    /// was right: what calibration is fitted on.
    pub confidences: Vec<Vec<(f32, bool)>>,
}

/// k-fold cross-validation over articles (article `i` of the id-sorted list is in fold `i % k`),
/// trying each decoding in `grid` on the out-of-fold predictions.
pub fn cross_validate(
    articles: &[Article],
    labels: &[LabelRow],
    k: usize,
    opts: &TrainOptions,
    grid: &[Decode],
) -> CvReport {
    let k = k.max(2);
    let grid: Vec<Decode> = if grid.is_empty() {
        vec![opts.decode]
    } else {
        grid.to_vec()
    };
    // Per fold and layout (plain, reflowed): predictions under each decoding, and TC rows.
    type Layout = (Vec<Vec<LabelRow>>, Vec<LabelRow>, Vec<Vec<f32>>);
    let folds: Vec<[Layout; 2]> = (0..k)
        .into_par_iter()
        .map(|fold| {
            let train_a: Vec<Article> = articles
                .iter()
                .enumerate()
                .filter(|(i, _)| i % k != fold)
                .map(|(_, a)| a.clone())
                .collect();
            let model = train(&train_a, labels, opts, crate::manifest());
            let test_a: Vec<&Article> = articles
                .iter()
                .enumerate()
                .filter(|(i, _)| i % k == fold)
                .map(|(_, a)| a)
                .collect();
            let reflowed: Vec<Article> = test_a
                .iter()
                .map(|a| Article {
                    id: a.id.clone(),
                    doc: rhetor_core::Document::new(rhetor_core::corpus::reflow(
                        a.doc.text(),
                        REFLOW_SENTENCES,
                    ))
                    .expect("reflowing keeps a valid document"),
                })
                .collect();
            let plain = held_out(&model, &test_a, labels, &grid);
            let flowed = held_out(&model, &reflowed.iter().collect::<Vec<_>>(), labels, &grid);
            [plain, flowed]
        })
        .collect();
    let gold: Vec<LabelRow> = labels
        .iter()
        .filter(|r| articles.iter().any(|a| a.id == r.id))
        .cloned()
        .collect();
    let mut sweep = Vec::new();
    for (g, d) in grid.iter().enumerate() {
        let pred: Vec<LabelRow> = folds
            .iter()
            .flat_map(|f| f[0].0[g].iter().cloned())
            .collect();
        let si = score::si(&gold, &pred);
        let (flc, _) = score::flc(&gold, &pred);
        sweep.push((*d, si, flc));
    }
    let best_i = (0..sweep.len())
        .max_by(|&a, &b| {
            (sweep[a].1.f1 + sweep[a].2.f1 / 4.0).total_cmp(&(sweep[b].1.f1 + sweep[b].2.f1 / 4.0))
        })
        .unwrap_or(0);
    let layout = |l: usize| {
        let pred: Vec<LabelRow> = folds
            .iter()
            .flat_map(|f| f[l].0[best_i].iter().cloned())
            .collect();
        let tc_pred: Vec<LabelRow> = folds.iter().flat_map(|f| f[l].1.iter().cloned()).collect();
        let per_fold = (0..k)
            .map(|fold| {
                let in_fold: HashSet<&str> = articles
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % k == fold)
                    .map(|(_, a)| a.id.as_str())
                    .collect();
                let g: Vec<LabelRow> = gold
                    .iter()
                    .filter(|r| in_fold.contains(r.id.as_str()))
                    .cloned()
                    .collect();
                let f = &folds[fold][l];
                [
                    score::si(&g, &f.0[best_i]).f1,
                    score::flc(&g, &f.0[best_i]).0.f1,
                    score::tc(&g, &f.1).0.f1,
                ]
            })
            .collect();
        let (flc, flc_per) = score::flc(&gold, &pred);
        let (tc, tc_per) = score::tc(&gold, &tc_pred);
        let scores = LayoutScores {
            si: score::si(&gold, &pred),
            flc,
            tc,
            per_fold,
        };
        (scores, flc_per, tc_per, pred)
    };
    let (plain, flc_per, tc_per, predictions) = layout(0);
    let hits = score::Hits::new(&gold);
    let confidences = folds
        .iter()
        .map(|f| {
            f[0].0[best_i]
                .iter()
                .zip(&f[0].2[best_i])
                .map(|(r, &c)| (c, hits.right(r)))
                .collect()
        })
        .collect();
    let (reflowed, ..) = layout(1);
    CvReport {
        folds: k,
        si: plain.si,
        flc: plain.flc,
        flc_per,
        tc: plain.tc,
        tc_per,
        best: sweep[best_i].0,
        sweep,
        predictions,
        plain,
        reflowed,
        confidences,
    }
}

/// The decoding chosen on a held-out fold, for a model that has no cross-validation (one trained
/// with silver labels, whose teacher saw every fold but this one).
#[derive(Debug, Clone)]
pub struct HeldTuning {
    /// The best decoding on all held-out articles (by SI F1 + FLC F1 / 4, as in CV).
    pub best: Decode,
    /// Cross-fitted scores: each half of the fold decoded with the setting chosen on the other.
    pub si: Prf,
    /// See `si`.
    pub flc: Prf,
    /// TC micro-F1 on the gold spans (no decoding involved).
    pub tc: Prf,
    /// (raw confidence, right) of the spans under `best`, in two parts (the halves) for a
    /// cross-fitted calibration.
    pub confidences: Vec<Vec<(f32, bool)>>,
}

/// Chooses the decoding of `model` on `held` from `grid`, scoring it cross-fitted.
pub fn tune_on_held(
    model: &FastModel,
    held: &[Article],
    labels: &[LabelRow],
    grid: &[Decode],
) -> HeldTuning {
    let halves: [Vec<&Article>; 2] = [0, 1].map(|h| {
        held.iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == h)
            .map(|(_, a)| a)
            .collect()
    });
    let runs = [0, 1].map(|h| held_out(model, &halves[h], labels, grid));
    let gold_of = |arts: &[&Article]| -> Vec<LabelRow> {
        let ids: HashSet<&str> = arts.iter().map(|a| a.id.as_str()).collect();
        labels
            .iter()
            .filter(|r| ids.contains(r.id.as_str()) && r.technique.is_some())
            .cloned()
            .collect()
    };
    let golds = [0, 1].map(|h| gold_of(&halves[h]));
    let all_gold: Vec<LabelRow> = golds.concat();
    let objective = |gold: &[LabelRow], pred: &[LabelRow]| {
        score::si(gold, pred).f1 + score::flc(gold, pred).0.f1 / 4.0
    };
    let best_on = |parts: &[usize]| -> usize {
        let gold: Vec<LabelRow> = parts.iter().flat_map(|&h| golds[h].clone()).collect();
        (0..grid.len())
            .max_by(|&a, &b| {
                let pred = |g: usize| -> Vec<LabelRow> {
                    parts.iter().flat_map(|&h| runs[h].0[g].clone()).collect()
                };
                objective(&gold, &pred(a)).total_cmp(&objective(&gold, &pred(b)))
            })
            .unwrap_or(0)
    };
    let crossed: Vec<LabelRow> = [0, 1]
        .iter()
        .flat_map(|&h| runs[h].0[best_on(&[1 - h])].clone())
        .collect();
    let best = best_on(&[0, 1]);
    let tc_rows: Vec<LabelRow> = runs.iter().flat_map(|r| r.1.clone()).collect();
    let hits = score::Hits::new(&all_gold);
    let confidences = runs
        .iter()
        .map(|r| {
            r.0[best]
                .iter()
                .zip(&r.2[best])
                .map(|(row, &c)| (c, hits.right(row)))
                .collect()
        })
        .collect();
    HeldTuning {
        best: grid[best],
        si: score::si(&all_gold, &crossed),
        flc: score::flc(&all_gold, &crossed).0,
        tc: score::tc(&all_gold, &tc_rows).0,
        confidences,
    }
}

/// A model's own predictions on `articles` at least `min_confidence` confident, decoded with its
/// stored settings: the silver labels of self-training.
pub fn silver_labels(
    model: &FastModel,
    articles: &[Article],
    min_confidence: f32,
) -> Vec<LabelRow> {
    let d = model.decode();
    articles
        .par_iter()
        .flat_map_iter(|a| {
            let prep = Prepared::new(&a.doc);
            let r = model.read(&prep);
            let tags = r.tags();
            rhetor_model::decode::detect(&prep, r.repetitions(), &tags, &r, &d)
                .into_iter()
                .filter(|det| det.confidence >= min_confidence)
                .map(|det| LabelRow::predicted(&a.id, &det))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A fold model's held-out predictions under each decoding in `grid` (each article read once),
/// and its TC rows (one technique per gold span row).
fn held_out(
    model: &FastModel,
    test: &[&Article],
    labels: &[LabelRow],
    grid: &[Decode],
) -> (Vec<Vec<LabelRow>>, Vec<LabelRow>, Vec<Vec<f32>>) {
    let mut preds = vec![Vec::new(); grid.len()];
    let mut confs = vec![Vec::new(); grid.len()];
    let mut tc_rows = Vec::new();
    for a in test {
        let prep = Prepared::new(&a.doc);
        let r = model.read(&prep);
        let tags = r.tags();
        for (g, d) in grid.iter().enumerate() {
            for det in rhetor_model::decode::detect(&prep, r.repetitions(), &tags, &r, d) {
                preds[g].push(LabelRow::predicted(&a.id, &det));
                confs[g].push(det.confidence);
            }
        }
        let gold: Vec<&LabelRow> = labels
            .iter()
            .filter(|r| r.id == a.id && r.technique.is_some())
            .collect();
        let spans: Vec<Span> = gold.iter().map(|r| r.span).collect();
        let rule = model.decode().repetition_rule;
        let ts = rhetor_model::decode::classify_rows(&prep, r.repetitions(), &spans, &r, rule);
        for (g, t) in gold.iter().zip(ts) {
            tc_rows.push(LabelRow {
                technique: Some(t),
                ..(*g).clone()
            });
        }
    }
    (preds, tc_rows, confs)
}
