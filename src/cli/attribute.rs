//! `rhetor attribute`: who says what in every article of a folder, written as brat standoff
//! (`NAME.ann`, the PolNeAR format: `Source`, `Cue`, `Content` spans and one `E` line per
//! attribution).

use super::report_failures;
use anyhow::{bail, Context, Result};
use rhetor::batch;
use rhetor::text::DEFAULT_MAX_BYTES;
use rhetor::Document;
use rhetor_attribution::{brat, Attributor};
use std::path::{Path, PathBuf};

/// Flags of `rhetor attribute`.
#[derive(clap::Args, Debug)]
pub struct AttributeArgs {
    /// Folder of articles: every `NAME.txt` in it is read.
    #[arg(long, value_name = "DIR")]
    pub articles: PathBuf,
    /// Folder for the `NAME.ann` files (created if missing; existing files are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// The `NAME.txt` files of a folder, sorted by name.
fn list_txt(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let rd = std::fs::read_dir(dir).with_context(|| format!("{}: cannot read", dir.display()))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.with_context(|| format!("{}: cannot read", dir.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".txt") {
            if !stem.is_empty() && !stem.starts_with('.') {
                out.push((stem.to_string(), entry.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

pub fn run(args: &AttributeArgs) -> Result<()> {
    let files = list_txt(&args.articles)?;
    if files.is_empty() {
        bail!("{}: no .txt articles", args.articles.display());
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create", args.out.display()))?;
    let att = Attributor::new();
    let results = batch::pipe(&files, &|_| {}, |(name, path)| -> Result<(usize, usize)> {
        let doc = Document::read(path, DEFAULT_MAX_BYTES)?;
        let a = att.extract(&doc);
        let out = args.out.join(format!("{name}.ann"));
        brat::write_ann(&out, &doc, &brat::to_brat(&a))?;
        Ok((a.attributions.len(), a.speakers.len()))
    });
    let (counts, errors) = batch::split(results);
    // `{:#}`: each error with its causes on one line.
    let failed = report_failures(&errors.iter().map(|e| format!("{e:#}")).collect::<Vec<_>>());
    let (n_att, n_spk) = counts
        .iter()
        .fold((0, 0), |(a, s), (da, ds)| (a + da, s + ds));
    eprintln!(
        "wrote {} .ann files to {} ({n_att} attributions, {n_spk} speakers)",
        files.len() - failed,
        args.out.display()
    );
    if failed > 0 {
        bail!("{failed} of {} articles failed", files.len());
    }
    Ok(())
}
