//! `rhetor predict`: every article of a folder → PTC rows `ID<TAB>technique<TAB>start<TAB>end`.

use super::{progress, report_failures, ArticlesArg, ModelArg, RowsOutArg};
use anyhow::{bail, Context, Result};
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

/// Articles analysed between two writes of the output.
const CHUNK: usize = 2048;

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
    // The rows go out a chunk of articles at a time, in order, into a file published whole at
    // the end: memory stays flat however many articles there are.
    let mut file = corpus::AtomicWriter::create(out)?;
    let (mut spans, mut errors, mut done) = (0usize, Vec::new(), 0usize);
    for chunk in list.chunks(CHUNK) {
        let results = batch::pipe(
            chunk,
            &|n| pb.set_position((done + n) as u64),
            |(id, path)| -> Result<Vec<LabelRow>, rhetor::Error> {
                let doc = Document::read(path, analyzer.max_bytes())?;
                // PTC rows carry no voices: spans and techniques only, without attribution.
                let dets = analyzer.detect(&doc)?;
                Ok(dets.iter().map(|d| LabelRow::predicted(id, d)).collect())
            },
        );
        done += chunk.len();
        for r in results {
            match r {
                Ok(rows) => {
                    spans += rows.len();
                    corpus::write_label_rows(&mut file, &rows, true)
                        .with_context(|| format!("writing {}", out.display()))?;
                }
                Err(e) => errors.push(e),
            }
        }
    }
    pb.finish_and_clear();
    let failed = report_failures(&errors);
    file.commit()?;
    eprintln!(
        "{} articles, {} spans -> {}",
        list.len() - failed,
        spans,
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
