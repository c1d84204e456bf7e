//! Training, as `rhetor train` and `rhetor tune` run it: reading and checking the corpus, the
//! held-out split, the fast model with optional k-fold cross-validation, fine-tuning the encoder,
//! tuning its ensemble with the fast model, and the scores written into each model's manifest.
//!
//! Each step reports what it did through an [`Event`] as it happens (training takes minutes), so a
//! caller can show progress and results; the functions themselves print nothing.

use crate::corpus::{self, write_atomic, Article, LabelRow};
use crate::ensemble::Ensemble;
use crate::fast::{cross_validate, CvReport, Decode, FastModel};
use crate::model::calibration::{self, Calibration, ReliabilityBin};
use crate::model::decode::Shape;
use crate::model::{Manifest, ModelKind};
use crate::neural::train::LogLine;
use crate::neural::{HeadOptions, NeuralError, NeuralModel, Settings};
use crate::score::{self, Prf};
use crate::tune::{tune as tune_ensemble, TuneReport};
use crate::Error;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// What to train (`rhetor train`).
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// The data sets trained on together (at least one): PTC, say, and a newsroom's corrections.
    pub data: Vec<DataSet>,
    /// Where the model is written (atomically).
    pub out: PathBuf,
    /// Use only the first N articles (by id).
    pub limit: Option<usize>,
    /// Hold out the last of every N articles: scored, and for an encoder used to tune the ensemble.
    pub holdout: Option<usize>,
    /// Fast model: k-fold cross-validation first, tuning the decoding on out-of-fold predictions.
    pub cv: Option<usize>,
    /// Where to write the out-of-fold predictions of the cross-validation.
    pub cv_predictions: Option<PathBuf>,

    /// Folders of unlabelled articles (every `.txt`) for self-training the fast model.
    pub unlabelled: Vec<PathBuf>,
    /// Fast model with --holdout: choose the decoding and fit the calibration on the held-out
    /// fold (scored cross-fitted), as `cv` does on out-of-fold predictions.
    pub tune_decoding: bool,
    /// Fast model with nothing held out: take the decoding and calibration of this fast model
    /// (one of the same recipe, tuned on its held-out fold).
    pub fast_settings_from: Option<PathBuf>,
    /// Silver labels another model (a teacher) wrote for other articles: trained on, never held
    /// out or scored. The teacher must not have seen the held-out fold.
    pub silver: Option<DataSet>,
    /// Options of the fast model.
    pub fast: crate::fast::TrainOptions,
    /// Fine-tune the encoder instead of fitting a fast model.
    pub encoder: Option<EncoderConfig>,
    /// The command line, recorded in the manifest.
    pub trained_with: String,
}

/// One data set of a training run: a PTC-shaped folder and its labels.
#[derive(Debug, Clone)]
pub struct DataSet {
    /// Folder of articleN.txt files.
    pub articles: PathBuf,
    /// Labels TSV (ID, technique, start, end).
    pub labels: PathBuf,
    /// How many times each training article of this set is seen per pass (1: as the others).
    pub weight: usize,
}

impl DataSet {
    /// A data set of weight 1.
    pub fn new(articles: impl Into<PathBuf>, labels: impl Into<PathBuf>) -> DataSet {
        DataSet {
            articles: articles.into(),
            labels: labels.into(),
            weight: 1,
        }
    }
}

/// Fine-tuning the encoder.
#[derive(Debug, Clone)]
pub struct EncoderConfig {
    /// The fine-tuning options (base weights, epochs, learning rates...).
    pub options: crate::neural::TrainOptions,
    /// The fast model to ensemble with on the held-out fold (default: the built-in one).
    pub fast: Option<PathBuf>,
    /// Continue fine-tuning this encoder model (`accurate`: the built-in one) instead of starting
    /// from the base weights in `options.base`.
    pub from: Option<PathBuf>,
    /// With nothing held out: take the ensemble settings and the confidence calibration from this
    /// encoder model (one of the same recipe, tuned on its held-out fold) instead of defaults. A
    /// final model trained on every article has no fold to tune on.
    pub settings_from: Option<PathBuf>,
}

/// Loads the encoder model `--from` names: a model file, or `accurate` for the built-in one.
pub fn load_encoder(path: &Path) -> Result<NeuralModel, Error> {
    if path.as_os_str() == "accurate" && !path.exists() {
        return Ok(NeuralModel::from_bytes(
            crate::ACCURATE_MODEL_BYTES,
            "<built-in accurate model>",
        )?);
    }
    Ok(NeuralModel::load(path)?)
}

/// What to tune (`rhetor tune`).
#[derive(Debug, Clone)]
pub struct TuneConfig {
    /// The encoder model file.
    pub model: PathBuf,
    /// Folder of articleN.txt files.
    pub articles: PathBuf,
    /// Labels TSV (ID, technique, start, end).
    pub labels: PathBuf,
    /// The held-out fold: the last of every N articles (`None` with `settings_from`).
    pub holdout: Option<usize>,
    /// The fast model to ensemble with (default: the built-in one).
    pub fast: Option<PathBuf>,
    /// Train a span-level technique head on the articles outside the held-out fold (all of them
    /// with `settings_from`) before tuning.
    pub span_head: Option<HeadOptions>,
    /// Take the ensemble settings and calibration from this model (tuned on its own held-out
    /// fold) instead of tuning: for a model trained on every article.
    pub settings_from: Option<PathBuf>,
    /// Pieces between the starts of consecutive windows at inference (default: the model's).
    pub stride: Option<usize>,
    /// Where to write the tuned model (default: over `model`).
    pub out: Option<PathBuf>,
    /// The command line, appended to the model's `trained_with` (how it was made, step by step).
    pub command: String,
}

/// SI, FLC and TC of a model on held-out articles.
#[derive(Debug, Clone, Copy)]
pub struct HeldOutScores {
    /// Span identification.
    pub si: Prf,
    /// Fragment-level classification.
    pub flc: Prf,
    /// Technique classification of the gold spans.
    pub tc: Prf,
}

/// A step of training done, in the order they happen.
#[derive(Debug)]
pub enum Event<'a> {
    /// The corpus was read and checked.
    Read {
        /// Articles read.
        articles: usize,
        /// Label rows kept.
        labels: usize,
        /// Seconds it took.
        seconds: f64,
    },
    /// Cross-validation of the fast model is done; the model keeps the best decoding.
    CrossValidated {
        /// Folds.
        folds: usize,
        /// Seconds it took.
        seconds: f64,
        /// Its scores, sweep and per-technique table.
        report: &'a CvReport,
    },
    /// The fast model was scored on the held-out fold.
    HeldOut {
        /// Held-out articles.
        articles: usize,
        /// The scores.
        scores: &'a HeldOutScores,
        /// The decoding chosen on the fold (`--tune-decoding`; the scores are then cross-fitted).
        tuned: Option<Decode>,
    },
    /// A line of the encoder's training log.
    Encoder(&'a LogLine),
    /// Fine-tuning the encoder is done.
    FineTuned {
        /// Seconds it took.
        seconds: f64,
    },
    /// Encoding articles to train the span head: `done` of `of` (0 first).
    SpanHead {
        /// Articles encoded.
        done: usize,
        /// Articles to encode.
        of: usize,
    },
    /// The span head is trained.
    SpanHeadTrained {
        /// Seconds it took.
        seconds: f64,
        /// Its final training loss (cross-entropy per span).
        loss: f32,
    },
    /// Encoding the held-out articles to tune the ensemble: `done` of `of` (0 first).
    Tuning {
        /// Articles encoded.
        done: usize,
        /// Articles to encode.
        of: usize,
    },
    /// The ensemble is tuned; the model keeps the chosen settings.
    Tuned {
        /// Seconds it took.
        seconds: f64,
        /// Held-out articles.
        articles: usize,
        /// Cross-fitted scores, baselines and the chosen settings.
        report: &'a TuneReport,
    },
    /// Confidences were calibrated on held-out predictions; the model keeps the map.
    Calibrated {
        /// Held-out spans the map was fitted on.
        spans: usize,
        /// Expected calibration error of the raw scores.
        raw_ece: f64,
        /// Expected calibration error of the calibrated confidences, cross-fitted (each part mapped
        /// by a calibration fitted on the others).
        ece: f64,
        /// The reliability table of the cross-fitted calibrated confidences.
        table: &'a [ReliabilityBin],
    },
    /// The model file was written.
    Wrote {
        /// The file.
        path: &'a Path,
        /// Its size.
        bytes: usize,
        /// Seconds since training (or tuning) began, the reading of the corpus aside.
        seconds: f64,
    },
}

fn invalid(msg: String) -> Error {
    rhetor_core::Error::Invalid(msg).into()
}

/// Splits articles (sorted by id) into training and held-out: the last of every `n` (none when
/// `n` is `None`).
pub fn holdout_split(
    articles: Vec<Article>,
    n: Option<usize>,
) -> Result<(Vec<Article>, Vec<Article>), Error> {
    let Some(n) = n else {
        return Ok((articles, Vec::new()));
    };
    if n < 2 || n > articles.len() {
        return Err(invalid(format!(
            "--holdout {n}: need 2 <= N <= number of articles ({})",
            articles.len()
        )));
    }
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for (i, a) in articles.into_iter().enumerate() {
        if i % n == n - 1 {
            held.push(a);
        } else {
            train.push(a);
        }
    }
    Ok((train, held))
}

/// The decodings cross-validation tries: thresholds and second-label margins around `base`, for
/// each span shape in `shapes` (none: `base`'s).
pub fn decode_grid(base: Decode, shapes: &[Shape]) -> Vec<Decode> {
    let mut grid = Vec::new();
    let shapes = if shapes.is_empty() {
        &[base.shape][..]
    } else {
        shapes
    };
    for &shape in shapes {
        for threshold in [0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3] {
            for second_label in [0.3, 0.45, 1.1] {
                grid.push(Decode {
                    threshold,
                    second_label,
                    shape,
                    ..base
                });
            }
        }
    }
    grid
}

/// Scores a fast model's predictions and classifications on held-out articles.
pub fn score_fast(model: &FastModel, held: &[Article], labels: &[LabelRow]) -> HeldOutScores {
    use rayon::prelude::*;
    let ids: HashSet<&str> = held.iter().map(|a| a.id.as_str()).collect();
    let gold: Vec<LabelRow> = labels
        .iter()
        .filter(|r| ids.contains(r.id.as_str()))
        .cloned()
        .collect();
    let (pred, tc): (Vec<Vec<LabelRow>>, Vec<Vec<LabelRow>>) = held
        .par_iter()
        .map(|a| {
            let pred = model
                .predict(&a.doc)
                .iter()
                .map(|d| LabelRow::predicted(&a.id, d))
                .collect();
            let rows: Vec<&LabelRow> = gold.iter().filter(|r| r.id == a.id).collect();
            let spans: Vec<_> = rows.iter().map(|r| r.span).collect();
            let tc = rows
                .iter()
                .zip(model.classify_rows(&a.doc, &spans))
                .map(|(r, t)| LabelRow {
                    technique: Some(t),
                    ..(*r).clone()
                })
                .collect();
            (pred, tc)
        })
        .unzip();
    let pred: Vec<LabelRow> = pred.into_iter().flatten().collect();
    let tc: Vec<LabelRow> = tc.into_iter().flatten().collect();
    HeldOutScores {
        si: score::si(&gold, &pred),
        flc: score::flc(&gold, &pred).0,
        tc: score::tc(&gold, &tc).0,
    }
}

/// Fits the confidence calibration on held-out (raw score, right) pairs in `parts`, reports its
/// cross-fitted reliability, and records both expected calibration errors under `prefix`.
pub fn calibrate(
    parts: &[Vec<(f32, bool)>],
    scores: &mut BTreeMap<String, f64>,
    prefix: &str,
    on: &mut dyn FnMut(Event<'_>),
) -> Calibration {
    let all: Vec<(f32, bool)> = parts.iter().flatten().copied().collect();
    let (_, raw_ece) = calibration::reliability(&all, 10);
    let (table, ece) = calibration::reliability(
        &calibration::cross_fitted(parts, calibration::MIN_BLOCK),
        10,
    );
    on(Event::Calibrated {
        spans: all.len(),
        raw_ece,
        ece,
        table: &table,
    });
    scores.insert(format!("{prefix}_ece"), round4(ece));
    scores.insert(format!("{prefix}_ece_raw"), round4(raw_ece));
    Calibration::fit(&all, calibration::MIN_BLOCK)
}

/// Scores as the manifest keeps them: four decimals.
fn round4(x: f64) -> f64 {
    (x * 10000.0).round() / 10000.0
}

fn insert_scores(scores: &mut BTreeMap<String, f64>, prefix: &str, si: f64, flc: f64, tc: f64) {
    scores.insert(format!("{prefix}_si_f1"), round4(si));
    scores.insert(format!("{prefix}_flc_f1"), round4(flc));
    scores.insert(format!("{prefix}_tc_f1"), round4(tc));
}

fn write_model(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic(path, bytes).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn load_fast(path: &Option<PathBuf>) -> Result<Arc<FastModel>, Error> {
    Ok(match path {
        Some(p) => Arc::new(FastModel::load(p)?),
        None => crate::builtin_partner()?,
    })
}

/// Trains a model as `config` says and writes it to `config.out`: a fast model (optionally
/// cross-validated, its decoding tuned on the out-of-fold predictions), or with
/// `config.encoder` a fine-tuned encoder whose ensemble is tuned on the held-out fold.
pub fn train(config: &TrainConfig, on: &mut dyn FnMut(Event<'_>)) -> Result<(), Error> {
    if config.data.iter().any(|d| d.weight > 1) && config.cv.is_some() {
        return Err(invalid(
            "--cv with a --weight above 1: the copies of an article would fall in different folds; \
             score with --holdout instead"
                .into(),
        ));
    }
    let t0 = Instant::now();
    let (articles, weights, labels) = read_data(config)?;
    on(Event::Read {
        articles: articles.len(),
        labels: labels.len(),
        seconds: t0.elapsed().as_secs_f64(),
    });
    let (mut articles, held) = holdout_split(articles, config.holdout)?;
    let mut labels = labels;
    if let Some(set) = &config.silver {
        if config.cv.is_some() {
            return Err(invalid(
                "--silver-labels with --cv: the model that wrote them has seen every fold; score \
                 with --holdout (a teacher trained without that fold), or self-train fold by fold \
                 with --unlabelled"
                    .into(),
            ));
        }
        let silver = corpus::read_articles(&set.articles)?;
        let rows = corpus::read_labels(&set.labels)?;
        corpus::check_labels(&rows, &set.labels, &silver)?;
        let ids: HashSet<&str> = articles
            .iter()
            .chain(&held)
            .map(|a| a.id.as_str())
            .collect();
        if let Some(a) = silver.iter().find(|a| ids.contains(a.id.as_str())) {
            return Err(invalid(format!(
                "article {} is both labelled and in --silver-articles {}",
                a.id,
                set.articles.display()
            )));
        }
        articles.extend(silver);
        labels.extend(rows);
    }
    // The weight repeats a set's training articles; held-out articles are scored once.
    let articles: Vec<Article> = articles
        .into_iter()
        .flat_map(|a| {
            let w = weights.get(&a.id).copied().unwrap_or(1);
            std::iter::repeat_n(a, w)
        })
        .collect();
    match &config.encoder {
        Some(_) if !config.unlabelled.is_empty() => Err(invalid(
            "--unlabelled self-trains the fast model; leave it out with --encoder".into(),
        )),
        Some(e) => train_encoder(config, e, articles, held, labels, on),
        None => train_fast(config, articles, held, labels, on),
    }
}

/// Every `.txt` file of each folder, in name order, as an article whose id is `u{K}:{stem}` for
/// the K-th folder (so no id can clash with a labelled article's).
pub fn read_unlabelled(dirs: &[PathBuf]) -> Result<Vec<Article>, Error> {
    let mut out = Vec::new();
    for (k, dir) in dirs.iter().enumerate() {
        let rd = std::fs::read_dir(dir).map_err(|e| rhetor_core::Error::io(dir, e))?;
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for entry in rd {
            let path = entry.map_err(|e| rhetor_core::Error::io(dir, e))?.path();
            if path.extension().is_some_and(|x| x == "txt") && path.is_file() {
                let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                files.push((format!("u{k}:{stem}"), path));
            }
        }
        if files.is_empty() {
            return Err(invalid(format!(
                "--unlabelled {}: no .txt files",
                dir.display()
            )));
        }
        files.sort();
        for (id, path) in files {
            let doc = rhetor_core::Document::read(&path, rhetor_core::text::DEFAULT_MAX_BYTES)?;
            out.push(Article { id, doc });
        }
    }
    Ok(out)
}

/// Reads and checks every data set: their articles in order (each set in id order), each
/// article's weight, and all label rows. An id may appear in one set only.
#[allow(clippy::type_complexity)]
fn read_data(
    config: &TrainConfig,
) -> Result<(Vec<Article>, HashMap<String, usize>, Vec<LabelRow>), Error> {
    if config.data.is_empty() {
        return Err(invalid("no data set to train on".into()));
    }
    let (mut all, mut weights, mut all_labels) = (Vec::new(), HashMap::new(), Vec::new());
    let mut from: HashMap<String, PathBuf> = HashMap::new();
    for set in &config.data {
        if set.weight == 0 {
            return Err(invalid(format!(
                "{}: weight 0 would leave the set out; give 1 or more",
                set.articles.display()
            )));
        }
        let mut articles = corpus::read_articles(&set.articles)?;
        if let Some(n) = config.limit {
            articles.truncate(n);
        }
        let labels = corpus::read_labels(&set.labels)?;
        let labels: Vec<_> = labels
            .into_iter()
            .filter(|r| articles.iter().any(|a| a.id == r.id) || config.limit.is_none())
            .collect();
        corpus::check_labels(&labels, &set.labels, &articles)?;
        if labels.iter().all(|r| r.technique.is_none()) {
            return Err(invalid(format!(
                "{}: no row names a technique; training needs ID<TAB>technique<TAB>start<TAB>end rows",
                set.labels.display()
            )));
        }
        for a in &articles {
            if let Some(other) = from.insert(a.id.clone(), set.articles.clone()) {
                return Err(invalid(format!(
                    "article {} is in both {} and {}; an id may name one article only \
                     (leave the corrected articles out of the other set)",
                    a.id,
                    other.display(),
                    set.articles.display()
                )));
            }
            weights.insert(a.id.clone(), set.weight);
        }
        all.extend(articles);
        all_labels.extend(labels);
    }
    Ok((all, weights, all_labels))
}

fn train_fast(
    config: &TrainConfig,
    articles: Vec<Article>,
    held: Vec<Article>,
    labels: Vec<LabelRow>,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<(), Error> {
    let mut opts = config.fast.clone();
    // Checked before training, which takes minutes.
    if config.tune_decoding && held.is_empty() {
        return Err(invalid(
            "--tune-decoding chooses the decoding on the held-out fold: give --holdout".into(),
        ));
    }
    let settings_source =
        match &config.fast_settings_from {
            Some(_) if !held.is_empty() || config.cv.is_some() => return Err(invalid(
                "--settings-from is for a model trained on every article; with --holdout or --cv \
                 the decoding is chosen there"
                    .into(),
            )),
            Some(p) => {
                let tuned = FastModel::load(p)?;
                tuned_calibration(tuned.manifest(), p)?;
                Some((p, tuned))
            }
            None => None,
        };
    if !config.unlabelled.is_empty() {
        opts.unlabelled = Arc::new(read_unlabelled(&config.unlabelled)?);
    }
    let mut scores = BTreeMap::new();
    let mut calibration = None;
    if let Some(k) = config.cv {
        if k < 2 || k > articles.len() {
            return Err(invalid(format!(
                "--cv {k}: need 2 <= K <= number of articles ({})",
                articles.len()
            )));
        }
        let t = Instant::now();
        let grid = decode_grid(opts.decode, &[]);
        let cv = cross_validate(&articles, &labels, k, &opts, &grid);
        on(Event::CrossValidated {
            folds: k,
            seconds: t.elapsed().as_secs_f64(),
            report: &cv,
        });
        opts.decode = cv.best;
        insert_scores(
            &mut scores,
            &format!("cv{k}"),
            cv.si.f1,
            cv.flc.f1,
            cv.tc.f1,
        );
        if let Some(p) = &config.cv_predictions {
            corpus::write_labels(p, &cv.predictions, true)?;
        }
        let cal = calibrate(&cv.confidences, &mut scores, &format!("cv{k}"), on);
        calibration = Some(cal);
    }
    let t = Instant::now();
    let manifest = Manifest {
        trained_with: config.trained_with.clone(),
        trained_on: if opts.unlabelled.is_empty() {
            format!("{} articles, {} label rows", articles.len(), labels.len())
        } else {
            format!(
                "{} articles, {} label rows; self-trained on {} unlabelled articles",
                articles.len(),
                labels.len(),
                opts.unlabelled.len()
            )
        },
        scores,
        calibration,
        ..crate::fast::manifest()
    };
    let mut model = crate::fast::train(&articles, &labels, &opts, manifest);
    if config.tune_decoding {
        let grid = decode_grid(opts.decode, &[]);
        let t = crate::fast::tune_on_held(&model, &held, &labels, &grid);
        model.set_decode(t.best);
        let s = HeldOutScores {
            si: t.si,
            flc: t.flc,
            tc: t.tc,
        };
        on(Event::HeldOut {
            articles: held.len(),
            scores: &s,
            tuned: Some(t.best),
        });
        let mut sc = std::mem::take(&mut model.manifest_mut().scores);
        let cal = calibrate(&t.confidences, &mut sc, "holdout", on);
        insert_scores(&mut sc, "holdout", s.si.f1, s.flc.f1, s.tc.f1);
        let m = model.manifest_mut();
        m.scores = sc;
        m.calibration = Some(cal);
    } else if !held.is_empty() {
        let s = score_fast(&model, &held, &labels);
        on(Event::HeldOut {
            articles: held.len(),
            scores: &s,
            tuned: None,
        });
        let sc = &mut model.manifest_mut().scores;
        insert_scores(sc, "holdout", s.si.f1, s.flc.f1, s.tc.f1);
    }
    if let Some((p, tuned)) = settings_source {
        model.set_decode(tuned.decode());
        take_tuned(model.manifest_mut(), tuned.manifest(), p, "decoding")?;
    }
    let bytes = model.to_bytes();
    write_model(&config.out, &bytes)?;
    on(Event::Wrote {
        path: &config.out,
        bytes: bytes.len(),
        seconds: t.elapsed().as_secs_f64(),
    });
    Ok(())
}

fn train_encoder(
    config: &TrainConfig,
    e: &EncoderConfig,
    train_set: Vec<Article>,
    held: Vec<Article>,
    labels: Vec<LabelRow>,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<(), Error> {
    let fast = load_fast(&e.fast)?;
    let mut opts = e.options.clone();
    if opts.batch == 0 || opts.epochs == 0 {
        return Err(invalid("--batch and --epochs must be at least 1".into()));
    }
    // Checked before fine-tuning, which takes an hour.
    let settings_source =
        match &e.settings_from {
            Some(_) if !held.is_empty() => return Err(invalid(
                "--settings-from is for a model trained on every article; with a held-out fold \
                 the ensemble is tuned on it"
                    .into(),
            )),
            Some(p) => Some((p, load_tuned(p)?)),
            None => None,
        };
    let continued = match &e.from {
        Some(p) => {
            opts.start = Some(Arc::new(load_encoder(p)?));
            format!(", continued from {}", p.display())
        }
        None => String::new(),
    };
    let manifest = Manifest {
        trained_with: config.trained_with.clone(),
        trained_on: format!(
            "{} article passes ({} held out){continued}",
            train_set.len() + held.len(),
            held.len()
        ),
        ..Manifest::new(
            ModelKind::Encoder,
            "accurate",
            rhetor_model::technique_labels(),
        )
    };
    let t = Instant::now();
    let model = crate::neural::train(
        &train_set,
        &labels,
        &held,
        &labels,
        &opts,
        manifest,
        &mut |l| on(Event::Encoder(l)),
    )?;
    on(Event::FineTuned {
        seconds: t.elapsed().as_secs_f64(),
    });
    let model = match settings_source {
        Some((p, tuned)) => settings_from(model, &tuned, p)?,
        None if held.is_empty() => model,
        None => tune_model(model, fast, &held, &labels, on)?,
    };
    let bytes = model.to_bytes()?;
    write_model(&config.out, &bytes)?;
    on(Event::Wrote {
        path: &config.out,
        bytes: bytes.len(),
        seconds: t.elapsed().as_secs_f64(),
    });
    Ok(())
}

/// Gives `model` the ensemble settings and calibration of `tuned` (the encoder model at `path`), and
/// records where they came from with that model's held-out scores (`settings_holdout…`), since
/// `model` itself has no held-out fold to be scored on.
fn settings_from(
    mut model: NeuralModel,
    tuned: &NeuralModel,
    path: &Path,
) -> Result<NeuralModel, Error> {
    // The ensemble's four weights and thresholds; the window and batch stay this model's own.
    let (from, mut settings) = (tuned.settings(), model.settings());
    settings.span_weight = from.span_weight;
    settings.technique_weight = from.technique_weight;
    settings.threshold = from.threshold;
    settings.second_label = from.second_label;
    model.set_settings(settings);
    take_tuned(
        model.manifest_mut(),
        tuned.manifest(),
        path,
        "ensemble settings",
    )?;
    Ok(model)
}

/// The manifest side of `--settings-from`: the calibration of `tuned` (the model at `path`), a note
/// of where `what` came from, and its held-out scores as `settings_holdout…`.
fn take_tuned(m: &mut Manifest, tuned: &Manifest, path: &Path, what: &str) -> Result<(), Error> {
    m.calibration = Some(tuned_calibration(tuned, path)?.clone());
    m.trained_on.push_str(&format!(
        "; {what} and calibration from {} (tuned on its held-out fold)",
        path.display()
    ));
    for (k, v) in &tuned.scores {
        if let Some(rest) = k.strip_prefix("holdout") {
            m.scores.insert(format!("settings_holdout{rest}"), *v);
        }
    }
    Ok(())
}

/// Loads the encoder `--settings-from` names and checks that it was tuned on a held-out fold.
fn load_tuned(path: &Path) -> Result<NeuralModel, Error> {
    let tuned = load_encoder(path)?;
    tuned_calibration(tuned.manifest(), path)?;
    Ok(tuned)
}

/// The calibration a `--settings-from` model must have: it shows the model was tuned on a fold.
fn tuned_calibration<'a>(tuned: &'a Manifest, path: &Path) -> Result<&'a Calibration, Error> {
    tuned.calibration.as_ref().ok_or_else(|| {
        invalid(format!(
            "--settings-from {}: that model was not tuned on a held-out fold (it has no calibration)",
            path.display()
        ))
    })
}

/// Tunes the ensemble of `model` and `fast` on `held` and stores the chosen settings and the
/// held-out scores (the ensemble's, and each model's alone) in the model's manifest.
pub fn tune_model(
    model: NeuralModel,
    fast: Arc<FastModel>,
    held: &[Article],
    labels: &[LabelRow],
    on: &mut dyn FnMut(Event<'_>),
) -> Result<NeuralModel, Error> {
    let t = Instant::now();
    let of = held.len();
    on(Event::Tuning { done: 0, of });
    let acc = Ensemble::accurate(Arc::new(model), fast);
    let report = tune_ensemble(&acc, held, labels, &mut |done| {
        on(Event::Tuning { done, of })
    })?;
    on(Event::Tuned {
        seconds: t.elapsed().as_secs_f64(),
        articles: held.len(),
        report: &report,
    });
    let mut model = Arc::try_unwrap(acc.into_encoder().expect("an encoder"))
        .map_err(|_| NeuralError::Other("model shared".into()))?;
    model.set_settings(report.best);
    let mut sc = std::mem::take(&mut model.manifest_mut().scores);
    let cal = calibrate(&report.confidences, &mut sc, "holdout", on);
    model.manifest_mut().calibration = Some(cal);
    model.manifest_mut().scores = sc;
    let sc = &mut model.manifest_mut().scores;
    insert_scores(sc, "holdout", report.si.f1, report.flc.f1, report.tc.f1);
    for (name, si, flc, tc) in &report.baselines {
        let key = if name.starts_with("fast") {
            "fast"
        } else {
            "encoder"
        };
        insert_scores(sc, &format!("holdout_{key}_only"), si.f1, flc.f1, tc.f1);
    }
    Ok(model)
}

/// Re-tunes an encoder model's ensemble on the held-out fold that `train --holdout N` left out,
/// and writes the model (over itself unless `config.out` is given).
pub fn tune(config: &TuneConfig, on: &mut dyn FnMut(Event<'_>)) -> Result<(), Error> {
    let articles = corpus::read_articles(&config.articles)?;
    let labels = corpus::read_labels(&config.labels)?;
    corpus::check_labels(&labels, &config.labels, &articles)?;
    // The last step's inputs are loaded first, so a wrong path fails before the span head's minutes
    // of training.
    enum Last<'p> {
        Take(&'p Path, Box<NeuralModel>),
        Tune(Arc<FastModel>),
    }
    let last = match (&config.settings_from, config.holdout) {
        (Some(p), None) => Last::Take(p, Box::new(load_tuned(p)?)),
        (None, Some(_)) => Last::Tune(load_fast(&config.fast)?),
        _ => {
            return Err(invalid(
                "tune needs either --holdout N (tune on that fold) or --settings-from MODEL \
                 (a model trained on every article)"
                    .into(),
            ))
        }
    };
    let (train_set, held) = holdout_split(articles, config.holdout)?;
    let t = Instant::now();
    let mut model = NeuralModel::load(&config.model)?;
    if let Some(stride) = config.stride {
        let s = model.settings();
        if stride == 0 || stride > s.window - 2 {
            return Err(invalid(format!(
                "--stride {stride}: need 1 <= stride <= {}",
                s.window - 2
            )));
        }
        model.set_settings(Settings { stride, ..s });
    }
    if !config.command.is_empty() {
        let m = model.manifest_mut();
        m.trained_with = format!("{}; then {}", m.trained_with, config.command);
    }
    if let Some(opts) = &config.span_head {
        let th = Instant::now();
        let of = train_set.len();
        on(Event::SpanHead { done: 0, of });
        let (head, loss) =
            rhetor_neural::span_head::train_head(&model, &train_set, &labels, opts, &mut |done| {
                on(Event::SpanHead { done, of })
            })?;
        model.set_span_head(Some(head))?;
        let note = format!(
            "; span head trained on {of} articles (L2 {}, {} steps)",
            opts.l2, opts.steps
        );
        model.manifest_mut().trained_on.push_str(&note);
        on(Event::SpanHeadTrained {
            seconds: th.elapsed().as_secs_f64(),
            loss,
        });
    }
    let model = match last {
        Last::Take(p, tuned) => settings_from(model, &tuned, p)?,
        Last::Tune(fast) => tune_model(model, fast, &held, &labels, on)?,
    };
    let out = config.out.as_ref().unwrap_or(&config.model);
    let bytes = model.to_bytes()?;
    write_model(out, &bytes)?;
    on(Event::Wrote {
        path: out,
        bytes: bytes.len(),
        seconds: t.elapsed().as_secs_f64(),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    fn articles(n: usize) -> Vec<Article> {
        (0..n)
            .map(|i| Article {
                id: format!("{}", 100 + i),
                doc: Document::new(format!("Article number {i}.")).unwrap(),
            })
            .collect()
    }

    #[test]
    fn holdout_takes_the_last_of_every_n_and_checks_n() {
        let (train, held) = holdout_split(articles(7), Some(3)).unwrap();
        let ids: Vec<&str> = held.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["102", "105"]);
        assert_eq!(train.len(), 5);
        let (train, held) = holdout_split(articles(4), None).unwrap();
        assert_eq!((train.len(), held.len()), (4, 0));
        for n in [0, 1, 5] {
            let err = holdout_split(articles(4), Some(n)).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("--holdout {n}: need 2 <= N")),
                "{err}"
            );
        }
    }

    #[test]
    fn grid_keeps_the_base_settings_but_threshold_and_second_label() {
        let base = Decode::default();
        let grid = decode_grid(base, &[]);
        assert_eq!(grid.len(), 27);
        assert_eq!(
            decode_grid(base, &[Shape::NONE, Shape::default()]).len(),
            54
        );
        assert!(grid
            .iter()
            .any(|d| d.threshold == 0.3 && d.second_label == 1.1));
        assert!(grid.iter().all(|d| Decode {
            threshold: base.threshold,
            second_label: base.second_label,
            ..*d
        } == base));
    }

    #[test]
    fn scores_are_rounded_to_four_places_under_their_prefix() {
        let mut sc = BTreeMap::new();
        insert_scores(&mut sc, "cv5", 0.123456, 0.5, 0.99999);
        assert_eq!(sc["cv5_si_f1"], 0.1235);
        assert_eq!(sc["cv5_flc_f1"], 0.5);
        assert_eq!(sc["cv5_tc_f1"], 1.0);
    }
}
