//! One module per subcommand; shared flags and helpers here.

pub mod analyze;
pub mod attribute;
pub mod bench;
pub mod classify;
pub mod eval;
pub mod eval_attribution;
pub mod predict;
pub mod serve;
pub mod train;
pub mod train_encoder;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rhetor::{Analyzer, Technique};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// `--model`, shared by every command that analyses.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArg {
    /// `accurate` (built in, the default: fine-tuned encoder + fast model), `fast` (built in,
    /// megabytes per second for bulk work), or a model file written by `rhetor train`.
    #[arg(long, value_name = "accurate|fast|PATH")]
    pub model: Option<PathBuf>,
}

impl ModelArg {
    /// Loads the named model, or the built-in one.
    pub fn load(&self) -> Result<Analyzer> {
        Ok(match &self.model {
            // A file of that name in the working directory still wins over the keyword.
            Some(p) if p.as_os_str() == "fast" && !p.exists() => Analyzer::load_fast()?,
            Some(p) if p.as_os_str() == "accurate" && !p.exists() => Analyzer::load_default()?,
            Some(p) => Analyzer::load(p)?,
            None => Analyzer::load_default()?,
        })
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
