//! `rhetor train`: fit a fast model on PTC data, optionally with k-fold cross-validation.

use super::eval::print_table;
use anyhow::{bail, Context, Result};
use rhetor::corpus::{self, write_atomic};
use rhetor::fast::{cross_validate, train, Decode, Manifest, TrainOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Flags of `rhetor train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Folder of articleN.txt files.
    #[arg(long, value_name = "DIR")]
    pub articles: PathBuf,
    /// Labels TSV (ID, technique, start, end), e.g. train-task2-TC.labels.
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,
    /// Where to write the model (written atomically).
    #[arg(long, value_name = "MODEL")]
    pub out: PathBuf,
    /// Run k-fold cross-validation first, tune the decoding on the out-of-fold predictions, report
    /// SI/FLC/TC and store the scores and tuned settings in the model.
    #[arg(long, value_name = "K")]
    pub cv: Option<usize>,
    /// Use only the first N articles (by id): a quick smoke run.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Passes of the span tagger over the data.
    #[arg(long, default_value_t = TrainOptions::default().tagger.epochs)]
    pub tagger_epochs: usize,
    /// Passes of the technique classifier over the data.
    #[arg(long, default_value_t = TrainOptions::default().classifier.epochs)]
    pub classifier_epochs: usize,
    /// AdaGrad learning rate of the span tagger.
    #[arg(long, default_value_t = TrainOptions::default().tagger.lr)]
    pub tagger_lr: f32,
    /// L2 strength of the span tagger.
    #[arg(long, default_value_t = TrainOptions::default().tagger.l2)]
    pub tagger_l2: f32,
    /// AdaGrad learning rate of the technique classifier.
    #[arg(long, default_value_t = TrainOptions::default().classifier.lr)]
    pub classifier_lr: f32,
    /// L2 strength of the technique classifier.
    #[arg(long, default_value_t = TrainOptions::default().classifier.l2)]
    pub classifier_l2: f32,
    /// Drop features seen fewer times than this.
    #[arg(long, default_value_t = TrainOptions::default().min_count)]
    pub min_count: u32,
    /// Taggers to train with different seeds and average (slower to train and run; CV: +0.002 SI with 3).
    #[arg(long, default_value_t = TrainOptions::default().tagger_seeds)]
    pub tagger_seeds: usize,
    /// Technique classifiers to train with different seeds and average.
    #[arg(long, default_value_t = TrainOptions::default().classifier_seeds)]
    pub classifier_seeds: usize,
    /// Write the out-of-fold predictions of the cross-validation here (PTC rows).
    #[arg(long, value_name = "FILE", requires = "cv")]
    pub cv_predictions: Option<PathBuf>,
    /// Hold out every Nth article (by id order, the last of each N) and train on the rest; the
    /// held-out fold is scored, and for an encoder also used to tune the ensemble.
    #[arg(long, value_name = "N", conflicts_with = "cv")]
    pub holdout: Option<usize>,
    #[command(flatten)]
    pub encoder: super::train_encoder::EncoderArgs,
}

/// Splits articles (sorted by id) into training and held-out: the last of every `n` (none when
/// `n` is `None`).
pub fn holdout_split(
    articles: Vec<corpus::Article>,
    n: Option<usize>,
) -> Result<(Vec<corpus::Article>, Vec<corpus::Article>)> {
    let Some(n) = n else {
        return Ok((articles, Vec::new()));
    };
    if n < 2 || n > articles.len() {
        bail!(
            "--holdout {n}: need 2 <= N <= number of articles ({})",
            articles.len()
        );
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

pub fn run(args: &TrainArgs) -> Result<ExitCode> {
    let t0 = Instant::now();
    let mut articles = corpus::read_articles(&args.articles)?;
    if let Some(n) = args.limit {
        articles.truncate(n);
    }
    let labels = corpus::read_labels(&args.labels)?;
    let labels: Vec<_> = labels
        .into_iter()
        .filter(|r| articles.iter().any(|a| a.id == r.id) || args.limit.is_none())
        .collect();
    corpus::check_labels(&labels, &args.labels, &articles)?;
    if labels.iter().all(|r| r.technique.is_none()) {
        bail!(
            "{}: no row names a technique; training needs ID<TAB>technique<TAB>start<TAB>end rows",
            args.labels.display()
        );
    }
    eprintln!(
        "read {} articles and {} label rows in {:.1}s",
        articles.len(),
        labels.len(),
        t0.elapsed().as_secs_f64()
    );
    let (articles, held) = holdout_split(articles, args.holdout)?;
    if args.encoder.encoder.is_some() {
        return super::train_encoder::run(args, articles, held, labels);
    }
    let mut opts = TrainOptions::default();
    opts.tagger.epochs = args.tagger_epochs;
    opts.classifier.epochs = args.classifier_epochs;
    opts.tagger.lr = args.tagger_lr;
    opts.tagger.l2 = args.tagger_l2;
    opts.classifier.lr = args.classifier_lr;
    opts.classifier.l2 = args.classifier_l2;
    opts.min_count = args.min_count;
    opts.tagger_seeds = args.tagger_seeds;
    opts.classifier_seeds = args.classifier_seeds;
    let mut scores = std::collections::BTreeMap::new();
    if let Some(k) = args.cv {
        if k < 2 || k > articles.len() {
            bail!(
                "--cv {k}: need 2 <= K <= number of articles ({})",
                articles.len()
            );
        }
        let t = Instant::now();
        let mut grid = Vec::new();
        for threshold in [0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3] {
            for second_label in [0.3, 0.45, 1.1] {
                grid.push(Decode {
                    threshold,
                    second_label,
                    ..opts.decode
                });
            }
        }
        let cv = cross_validate(&articles, &labels, k, &opts, &grid);
        eprintln!(
            "{k}-fold cross-validation in {:.1}s",
            t.elapsed().as_secs_f64()
        );
        println!("decoding sweep (out-of-fold):");
        for (d, si, flc) in &cv.sweep {
            println!(
                "  threshold {:.3} second_label {:.2}: SI F1 {:.4}  FLC F1 {:.4}",
                d.threshold, d.second_label, si.f1, flc.f1
            );
        }
        println!(
            "\n{k}-fold CV with threshold {:.3}, second_label {:.2}:\n  SI  P {:.4} R {:.4} F1 {:.4}\n  FLC P {:.4} R {:.4} F1 {:.4}\n  TC  micro-F1 {:.4}\n",
            cv.best.threshold, cv.best.second_label, cv.si.precision, cv.si.recall, cv.si.f1, cv.flc.precision, cv.flc.recall, cv.flc.f1, cv.tc.f1
        );
        print_table(&cv.flc_per, Some(&cv.tc_per));
        opts.decode = cv.best;
        scores.insert(format!("cv{k}_si_f1"), round4(cv.si.f1));
        scores.insert(format!("cv{k}_flc_f1"), round4(cv.flc.f1));
        scores.insert(format!("cv{k}_tc_f1"), round4(cv.tc.f1));
        if let Some(p) = &args.cv_predictions {
            corpus::write_labels(p, &cv.predictions, true)?;
        }
    }
    let t = Instant::now();
    let manifest = Manifest {
        trained_with: std::env::args().collect::<Vec<_>>().join(" "),
        trained_on: format!("{} articles, {} label rows", articles.len(), labels.len()),
        scores,
        ..rhetor::fast::manifest()
    };
    let mut model = train(&articles, &labels, &opts, manifest);
    if !held.is_empty() {
        let (si, flc, tc) = super::train_encoder::score_fast(&model, &held, &labels);
        println!(
            "held-out fold ({} articles):\n  SI  P {:.4} R {:.4} F1 {:.4}\n  FLC F1 {:.4}\n  TC  micro-F1 {:.4}",
            held.len(), si.precision, si.recall, si.f1, flc.f1, tc.f1
        );
        let sc = &mut model.manifest_mut().scores;
        sc.insert("holdout_si_f1".into(), round4(si.f1));
        sc.insert("holdout_flc_f1".into(), round4(flc.f1));
        sc.insert("holdout_tc_f1".into(), round4(tc.f1));
    }
    let bytes = model.to_bytes();
    write_atomic(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "trained in {:.1}s; wrote {} ({:.1} MB)",
        t.elapsed().as_secs_f64(),
        args.out.display(),
        bytes.len() as f64 / 1e6
    );
    Ok(ExitCode::SUCCESS)
}

pub fn round4(x: f64) -> f64 {
    (x * 10000.0).round() / 10000.0
}
