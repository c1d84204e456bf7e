//! `rhetor predict`: every article of a folder → PTC rows `ID<TAB>technique<TAB>start<TAB>end`.

use super::{progress, ModelArg};
use anyhow::{bail, Result};
use rayon::prelude::*;
use rhetor::corpus::{self, LabelRow};
use rhetor::Document;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `rhetor predict`.
#[derive(clap::Args, Debug)]
pub struct PredictArgs {
    /// Folder of articleN.txt files.
    #[arg(long, value_name = "DIR")]
    pub articles: PathBuf,
    /// Output TSV (written atomically once all articles are done).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub model: ModelArg,
}

pub fn run(args: &PredictArgs) -> Result<ExitCode> {
    let analyzer = args.model.load()?;
    let list = corpus::list_articles(&args.articles)?;
    if list.is_empty() {
        bail!("{}: no article*.txt files", args.articles.display());
    }
    let pb = progress(list.len(), "predict");
    let results: Vec<Result<Vec<LabelRow>, String>> = list
        .par_iter()
        .map(|(id, path)| {
            let r = Document::read(path, analyzer.max_bytes())
                .map_err(|e| e.to_string())
                // PTC rows carry no voices: spans and techniques only, without attribution.
                .and_then(|doc| analyzer.detect(&doc).map_err(|e| e.to_string()))
                .map(|dets| dets.iter().map(|d| LabelRow::predicted(id, d)).collect());
            pb.inc(1);
            r
        })
        .collect();
    pb.finish_and_clear();
    let mut rows = Vec::new();
    let mut failed = 0;
    for r in results {
        match r {
            Ok(v) => rows.extend(v),
            Err(e) => {
                failed += 1;
                eprintln!("rhetor: error: {e}");
            }
        }
    }
    corpus::write_labels(&args.out, &rows, true)?;
    eprintln!(
        "{} articles, {} spans -> {}",
        list.len() - failed,
        rows.len(),
        args.out.display()
    );
    if failed > 0 {
        eprintln!(
            "rhetor: {failed} of {} articles failed (skipped)",
            list.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
