//! `rhetor predict` (in progress).
use anyhow::Result;
use std::process::ExitCode;
/// Flags.
#[derive(clap::Args, Debug)]
pub struct PredictArgs {}
pub fn run(_a: &PredictArgs) -> Result<ExitCode> { anyhow::bail!("not yet") }
