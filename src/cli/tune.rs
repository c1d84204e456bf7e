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

pub fn run(args: &TuneArgs) -> Result<ExitCode> {
    let config = TuneConfig {
        model: args.model.clone(),
        articles: args.input.articles.clone(),
        labels: args.gold.labels.clone(),
        holdout: args.holdout,
        fast: args.fast.clone(),
        stride: args.stride,
        out: args.out.clone(),
    };
    let mut printer = Printer {
        pb: None,
        wrote: Wrote::Path,
    };
    rhetor::train::tune(&config, &mut |e| printer.print(e))?;
    Ok(ExitCode::SUCCESS)
}
