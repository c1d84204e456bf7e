//! `rhetor tune`: fit an encoder model's ensemble with the fast model on held-out articles.

use super::train::{Printer, Wrote};
use super::{ArticlesArg, LabelsArg};
use anyhow::Result;
use rhetor::train::TuneConfig;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `rhetor tune`.
#[derive(clap::Args, Debug)]
pub struct TuneArgs {
    /// The encoder model file to tune (rewritten in place unless --out is given).
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    #[command(flatten)]
    pub input: ArticlesArg,
    #[command(flatten)]
    pub gold: LabelsArg,
    /// The held-out fold: the last of every N articles, as `train --holdout N` left out.
    #[arg(long, value_name = "N", required_unless_present = "settings_from")]
    pub holdout: Option<usize>,
    /// Take the ensemble settings and calibration from this encoder model (tuned on its own
    /// held-out fold) instead of tuning: for a model trained on every article.
    #[arg(long, value_name = "MODEL", conflicts_with = "holdout")]
    pub settings_from: Option<PathBuf>,
    /// First train a span-level technique head (over the encoder's span representation) on the
    /// articles outside the held-out fold (every article with --settings-from).
    #[arg(long)]
    pub span_head: bool,
    /// L2 penalty of the span head (on standardised features).
    #[arg(long, value_name = "X", default_value_t = 0.05, requires = "span_head")]
    pub span_head_l2: f64,
    /// The fast model to ensemble with (trained without the held-out fold). Default: the
    /// built-in partner.
    #[arg(long, value_name = "MODEL")]
    pub fast: Option<PathBuf>,
    /// Pieces between the starts of consecutive windows at inference (default: the model's).
    #[arg(long, value_name = "N")]
    pub stride: Option<usize>,
    /// Where to write the tuned model (default: over --model, atomically).
    #[arg(long, value_name = "MODEL")]
    pub out: Option<PathBuf>,
}

pub fn run(args: &TuneArgs) -> Result<ExitCode> {
    let config = TuneConfig {
        model: args.model.clone(),
        articles: args.input.articles.clone(),
        labels: args.gold.labels.clone(),
        holdout: args.holdout,
        fast: args.fast.clone(),
        span_head: args.span_head.then(|| rhetor::neural::HeadOptions {
            l2: args.span_head_l2,
            ..Default::default()
        }),
        settings_from: args.settings_from.clone(),
        stride: args.stride,
        out: args.out.clone(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let mut printer = Printer {
        pb: None,
        wrote: Wrote::Path,
    };
    rhetor::train::tune(&config, &mut |e| printer.print(e))?;
    Ok(ExitCode::SUCCESS)
}
