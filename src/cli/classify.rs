//! `rhetor classify` (in progress).
use anyhow::Result;
use std::process::ExitCode;
/// Flags.
#[derive(clap::Args, Debug)]
pub struct ClassifyArgs {}
pub fn run(_a: &ClassifyArgs) -> Result<ExitCode> { anyhow::bail!("not yet") }
