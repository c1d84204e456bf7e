//! `rhetor predict`: every article of a folder → PTC rows `ID<TAB>technique<TAB>start<TAB>end`.

use super::{progress, report_failures, ArticlesArg, ModelArg, RowsOutArg};
use anyhow::{bail, Result};
use rhetor::batch;
use rhetor::corpus::{self, LabelRow};
use rhetor::Document;
use std::process::ExitCode;

/// Flags of `rhetor predict`.
#[derive(clap::Args, Debug)]
pub struct PredictArgs {
    #[command(flatten)]
    pub input: ArticlesArg,
    #[command(flatten)]
    pub output: RowsOutArg,
    #[command(flatten)]
    pub model: ModelArg,
    #[command(flatten)]
    pub confidence: super::ConfidenceArg,
}

pub fn run(args: &PredictArgs) -> Result<ExitCode> {
    let analyzer = args
        .model
        .load()?
        .with_min_confidence(args.confidence.min_confidence);
    let dir = &args.input.articles;
    let out = &args.output.out;
    let list = corpus::list_articles(dir)?;
    if list.is_empty() {
        bail!("{}: no article*.txt files", dir.display());
    }
    let pb = progress(list.len(), "predict");
    let results = batch::pipe(
        &list,
        &|n| pb.set_position(n as u64),
        |(id, path)| -> Result<Vec<LabelRow>, rhetor::Error> {
            let doc = Document::read(path, analyzer.max_bytes())?;
            // PTC rows carry no voices: spans and techniques only, without attribution.
            let dets = analyzer.detect(&doc)?;
            Ok(dets.iter().map(|d| LabelRow::predicted(id, d)).collect())
        },
    );
    pb.finish_and_clear();
    let (rows, errors) = batch::split(results);
    let failed = report_failures(&errors);
    let rows: Vec<LabelRow> = rows.into_iter().flatten().collect();
    corpus::write_labels(out, &rows, true)?;
    eprintln!(
        "{} articles, {} spans -> {}",
        list.len() - failed,
        rows.len(),
        out.display()
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
