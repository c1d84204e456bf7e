//! `rhetor import-annotations`: corrected annotations from Label Studio or brat → PTC articles and
//! a labels TSV to train on (the formats live in `rhetor::annotate`).

use anyhow::{Context, Result};
use rhetor::annotate::{self, brat, label_studio};
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `rhetor import-annotations`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["label_studio", "brat"])))]
pub struct ImportAnnotationsArgs {
    /// A Label Studio JSON export: each task's last completed annotation (predictions ignored).
    #[arg(long, value_name = "EXPORT.json")]
    pub label_studio: Option<PathBuf>,
    /// A brat folder of NAME.txt/NAME.ann pairs.
    #[arg(long, value_name = "DIR")]
    pub brat: Option<PathBuf>,
    /// Where to write article<ID>.txt files (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_articles: PathBuf,
    /// Where to write the labels TSV (ID, technique, start, end).
    #[arg(long, value_name = "FILE")]
    pub out_labels: PathBuf,
}

pub fn run(args: &ImportAnnotationsArgs) -> Result<ExitCode> {
    let imported = match (&args.label_studio, &args.brat) {
        (Some(file), _) => {
            let text = std::fs::read_to_string(file).with_context(|| file.display().to_string())?;
            label_studio::import(&text, &file.display().to_string())?
        }
        (None, Some(dir)) => brat::import_dir(dir)?,
        (None, None) => anyhow::bail!("give --label-studio EXPORT.json or --brat DIR"),
    };
    anyhow::ensure!(
        !imported.articles.is_empty(),
        "no completed annotations to import ({} tasks without one)",
        imported.skipped
    );
    annotate::write_corrections(&args.out_articles, &args.out_labels, &imported.articles)?;
    let rows: usize = imported.articles.iter().map(|c| c.rows.len()).sum();
    eprintln!(
        "{} articles, {rows} spans -> {}/, {}",
        imported.articles.len(),
        args.out_articles.display(),
        args.out_labels.display()
    );
    if imported.skipped > 0 {
        eprintln!(
            "{} tasks without a completed annotation left out",
            imported.skipped
        );
    }
    Ok(ExitCode::SUCCESS)
}
