//! `rhetor bench` (in progress).
use anyhow::Result;
use std::process::ExitCode;
/// Flags.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {}
pub fn run(_a: &BenchArgs) -> Result<ExitCode> { anyhow::bail!("not yet") }
