//! `rhetor analyze` (in progress).
use anyhow::Result;
use std::process::ExitCode;
/// Flags.
#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {}
pub fn run(_a: &AnalyzeArgs) -> Result<ExitCode> { anyhow::bail!("not yet") }
