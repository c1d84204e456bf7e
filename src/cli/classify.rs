//! `rhetor classify`: fill in the technique of given spans (TC).

use super::{progress, ArticlesArg, ModelArg, RowsOutArg};
use anyhow::{Context, Result};
use rhetor::batch;
use rhetor::corpus::{self, LabelRow};
use rhetor::{Document, Span};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `rhetor classify`.
#[derive(clap::Args, Debug)]
// The shared flag, with the help this command has always had.
#[command(mut_arg("out", |a| a.help(
    "Output: the same rows, same order, with the technique filled in (written atomically)"
)))]
pub struct ClassifyArgs {
    #[command(flatten)]
    pub input: ArticlesArg,
    /// Spans to classify: rows ID<TAB>?<TAB>start<TAB>end (or ID<TAB>start<TAB>end).
    #[arg(long, value_name = "FILE")]
    pub spans: PathBuf,
    #[command(flatten)]
    pub output: RowsOutArg,
    #[command(flatten)]
    pub model: ModelArg,
}

pub fn run(args: &ClassifyArgs) -> Result<ExitCode> {
    let analyzer = args.model.load()?;
    let rows = corpus::read_labels(&args.spans)?;
    let articles = corpus::read_articles(&args.input.articles)?;
    corpus::check_labels(&rows, &args.spans, &articles)?;
    // Rows grouped by article (keeping each row's position), classified per article in parallel.
    let mut by_id: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_id.entry(r.id.as_str()).or_default().push(i);
    }
    let groups: Vec<(&str, Vec<usize>)> = by_id.into_iter().collect();
    let docs: HashMap<&str, &Document> = articles.iter().map(|a| (a.id.as_str(), &a.doc)).collect();
    let pb = progress(groups.len(), "classify");
    let labelled = batch::pipe(&groups, &|n| pb.set_position(n as u64), |(id, ix)| {
        let spans: Vec<Span> = ix.iter().map(|&i| rows[i].span).collect();
        let techs = analyzer.classify_rows(docs[id], &spans)?;
        Ok::<_, rhetor::Error>(ix.iter().copied().zip(techs).collect::<Vec<_>>())
    });
    pb.finish_and_clear();
    // Every row needs its technique: the first article that fails ends the command.
    let labelled = labelled.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut out: Vec<LabelRow> = rows.clone();
    for (i, t) in labelled.into_iter().flatten() {
        out[i].technique = Some(t);
    }
    let path = &args.output.out;
    corpus::write_labels(path, &out, true).with_context(|| "writing the classified rows")?;
    eprintln!("{} rows classified -> {}", out.len(), path.display());
    Ok(ExitCode::SUCCESS)
}
