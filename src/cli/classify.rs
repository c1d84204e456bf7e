//! `rhetor classify`: fill in the technique of given spans (TC).

use super::{progress, ModelArg};
use anyhow::{Context, Result};
use rayon::prelude::*;
use rhetor::corpus::{self, LabelRow};
use rhetor::{Span, Technique};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `rhetor classify`.
#[derive(clap::Args, Debug)]
pub struct ClassifyArgs {
    /// Folder of articleN.txt files.
    #[arg(long, value_name = "DIR")]
    pub articles: PathBuf,
    /// Spans to classify: rows ID<TAB>?<TAB>start<TAB>end (or ID<TAB>start<TAB>end).
    #[arg(long, value_name = "FILE")]
    pub spans: PathBuf,
    /// Output: the same rows, same order, with the technique filled in (written atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub model: ModelArg,
}

pub fn run(args: &ClassifyArgs) -> Result<ExitCode> {
    let analyzer = args.model.load()?;
    let rows = corpus::read_labels(&args.spans)?;
    let articles = corpus::read_articles(&args.articles)?;
    corpus::check_labels(&rows, &args.spans, &articles)?;
    // Rows grouped by article (keeping each row's position), classified per article in parallel.
    let mut by_id: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_id.entry(r.id.as_str()).or_default().push(i);
    }
    let pb = progress(by_id.len(), "classify");
    let docs: std::collections::HashMap<&str, &rhetor::Document> =
        articles.iter().map(|a| (a.id.as_str(), &a.doc)).collect();
    let labelled: Vec<Vec<(usize, Technique)>> = by_id
        .par_iter()
        .map(|(id, ix)| {
            let spans: Vec<Span> = ix.iter().map(|&i| rows[i].span).collect();
            let techs = analyzer.classify_rows(docs[id], &spans);
            pb.inc(1);
            Ok(ix.iter().copied().zip(techs?).collect::<Vec<_>>())
        })
        .collect::<Result<_, rhetor::Error>>()?;
    let labelled = labelled.into_iter().flatten();
    pb.finish_and_clear();
    let mut out: Vec<LabelRow> = rows.clone();
    for (i, t) in labelled {
        out[i].technique = Some(t);
    }
    corpus::write_labels(&args.out, &out, true).with_context(|| "writing the classified rows")?;
    eprintln!("{} rows classified -> {}", out.len(), args.out.display());
    Ok(ExitCode::SUCCESS)
}
