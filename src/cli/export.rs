//! `rhetor export`: the archive's analyses as JSONL, CSV or PTC rows (`rhetor_store::export`).

use anyhow::{Context, Result};
use rhetor_store::{ExportFilter, ExportFormat};
use std::path::PathBuf;
use std::process::ExitCode;

/// Output shapes of `rhetor export`.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum Format {
    /// One Analysis JSON per line, with id, url, outlet, title and published added.
    Jsonl,
    /// One row per span: id,start,end,technique,confidence,voice,snippet.
    Csv,
    /// PTC technique rows: ID<TAB>technique<TAB>start<TAB>end.
    Ptc,
}

/// Flags of `rhetor export`.
#[derive(clap::Args, Debug, Clone)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: super::DbArg,

    /// Only this outlet.
    #[arg(long, value_name = "NAME")]
    pub outlet: Option<String>,

    /// Only articles published (else saved) on this day or later, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,

    /// Output shape.
    #[arg(long, value_enum)]
    pub format: Format,

    /// Output file (written atomically).
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
}

/// Writes the export; prints how many articles it holds.
pub fn run(args: &ExportArgs) -> Result<ExitCode> {
    if let Some(d) = &args.since {
        anyhow::ensure!(
            rhetor_store::day_of(d).as_deref() == Some(d.as_str()),
            "--since {d:?} is not a date (YYYY-MM-DD)"
        );
    }
    let archive = rhetor_store::open(&args.db.db)?;
    let filter = ExportFilter {
        outlet: args.outlet.clone(),
        since: args.since.clone(),
    };
    let format = match args.format {
        Format::Jsonl => ExportFormat::Jsonl,
        Format::Csv => ExportFormat::Csv,
        Format::Ptc => ExportFormat::Ptc,
    };
    let mut out = Vec::new();
    let n = rhetor_store::export(archive.as_ref(), &filter, format, &mut out)?;
    rhetor::corpus::write_atomic(&args.out, &out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("rhetor: exported {n} articles to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
