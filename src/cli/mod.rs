//! One module per subcommand; shared flags and helpers here.

pub mod analyze;
pub mod attribute;
pub mod batch;
pub mod bench;
pub mod classify;
pub mod eval;
pub mod eval_attribution;
pub mod export;
pub mod export_tasks;
pub mod import_annotations;
pub mod predict;
pub mod serve;
pub mod train;
pub mod tune;
pub mod watch;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rhetor::eval::TechniqueTable;
use rhetor::{Analyzer, Technique};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// `--articles`, shared by the commands that read a PTC folder.
#[derive(clap::Args, Debug, Clone)]
pub struct ArticlesArg {
    /// Folder of articleN.txt files.
    #[arg(long, value_name = "DIR")]
    pub articles: PathBuf,
}

/// `--labels`, shared by `train` and `tune`.
#[derive(clap::Args, Debug, Clone)]
pub struct LabelsArg {
    /// Labels TSV (ID, technique, start, end), e.g. train-task2-TC.labels.
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,
}

/// `--out` of the commands that write PTC rows (`predict`, `classify`).
#[derive(clap::Args, Debug, Clone)]
pub struct RowsOutArg {
    /// Output TSV (written atomically once all articles are done).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `--db`, shared by the commands that use the article archive (`serve`, `watch`, `export`).
#[derive(clap::Args, Debug, Clone)]
pub struct DbArg {
    /// The article archive: a SQLite file (created when missing) or a PostgreSQL URL
    /// (postgres://user@host:port/db) that several processes and machines may share.
    #[arg(long, default_value = "rhetor.db", value_name = "PATH|postgres://…")]
    pub db: String,
}

/// `--json`, shared by the commands that print scores.
#[derive(clap::Args, Debug, Clone)]
pub struct JsonArg {
    /// Print the scores as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--model`, shared by every command that analyses.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArg {
    /// `accurate` (built in, the default: fine-tuned encoder + its fast partner), `fast` (built
    /// in, megabytes per second for bulk work), or a model file written by `rhetor train`.
    #[arg(long, value_name = "accurate|fast|PATH")]
    pub model: Option<PathBuf>,
    /// With an encoder model (`accurate`, the default, or an encoder file): the fast model file
    /// to ensemble it with, in place of the built-in partner.
    #[arg(long, value_name = "PATH")]
    pub fast: Option<PathBuf>,
}

impl ModelArg {
    /// Loads the named model, or the built-in one.
    pub fn load(&self) -> Result<Analyzer> {
        let a = match &self.model {
            // A file of that name in the working directory still wins over the keyword.
            Some(p) if p.as_os_str() == "fast" && !p.exists() => Analyzer::load_fast()?,
            Some(p) if p.as_os_str() == "accurate" && !p.exists() => Analyzer::load_default()?,
            Some(p) => Analyzer::load(p)?,
            None => Analyzer::load_default()?,
        };
        Ok(match &self.fast {
            Some(f) => a.with_fast_model(f)?,
            None => a,
        })
    }
}

/// `--min-confidence`, for the commands that write spans.
#[derive(clap::Args, Debug, Clone)]
pub struct ConfidenceArg {
    /// Leave out spans whose calibrated confidence (the probability that the span is right) is
    /// below this, in [0, 1].
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = unit_interval)]
    pub min_confidence: f32,
}

fn unit_interval(s: &str) -> std::result::Result<f32, String> {
    match s.parse::<f32>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?} is not a probability between 0 and 1")),
    }
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
pub fn progress(len: usize, what: &str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(
        Some(len as u64),
        if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Prints a per-technique table: FLC P/R/F1 and, when present, TC P/R/F1 (or TC alone).
pub fn print_table(table: &TechniqueTable) {
    if !table.has_flc {
        println!(
            "{:<36} {:>6} {:>6} {:>6} {:>6}",
            "technique", "gold", "TC P", "TC R", "TC F1"
        );
    } else {
        print!(
            "{:<36} {:>6} {:>6} {:>6} {:>6}",
            "technique", "gold", "FLC P", "FLC R", "FLC F1"
        );
        if table.has_tc {
            print!(" {:>6} {:>6} {:>6}", "TC P", "TC R", "TC F1");
        }
        println!();
    }
    for row in &table.rows {
        print!("{:<36} {:>6}", row.technique.name(), row.n_gold);
        for p in row.flc.iter().chain(&row.tc) {
            print!(" {:>6.3} {:>6.3} {:>6.3}", p.precision, p.recall, p.f1);
        }
        println!();
    }
}

/// Reports each failed article of a batch on stderr, as one line; returns how many failed.
pub fn report_failures<E: std::fmt::Display>(errors: &[E]) -> usize {
    for e in errors {
        eprintln!("rhetor: error: {e}");
    }
    errors.len()
}

/// `rhetor techniques`.
pub fn techniques() -> Result<ExitCode> {
    for t in Technique::ALL {
        println!(
            "{}\n  {}\n  e.g. \"{}\"\n",
            t.name(),
            t.definition(),
            t.example()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `rhetor model-info`.
pub fn model_info(arg: &ModelArg) -> Result<ExitCode> {
    let analyzer = arg.load()?;
    let json = serde_json::to_string_pretty(analyzer.manifest()).context("manifest")?;
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}
