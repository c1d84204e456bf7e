//! `rhetor serve`: the web app, the JSON API and the article archive (crate `rhetor-server`).

use anyhow::Result;
use std::process::ExitCode;

/// Flags of `rhetor serve`.
#[derive(clap::Args, Debug, Clone)]
// The shared flag, with the help this command has always had.
#[command(mut_arg("model", |a| a
    .help("Model file to use (default: the model built into rhetor)")
    .value_name("PATH")))]
pub struct ServeArgs {
    /// Address to listen on (use 0.0.0.0:8080 to accept other machines).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: String,

    #[command(flatten)]
    pub db: super::DbArg,

    /// Let `{url}` requests fetch loopback, private and link-local addresses (refused by default).
    #[arg(long)]
    pub allow_private_urls: bool,

    /// Analyses running at once (default: one per CPU core).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,

    #[command(flatten)]
    pub model: super::ModelArg,
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn run(args: &ServeArgs) -> Result<ExitCode> {
    let analyzer = args.model.load()?;
    let mut config = rhetor_server::Config {
        db: args.db.db.clone(),
        ..Default::default()
    };
    config.fetch.allow_private = args.allow_private_urls;
    if let Some(n) = args.workers {
        anyhow::ensure!(n > 0, "--workers must be at least 1");
        config.analysis_workers = n;
    }
    rhetor_server::run(&args.addr, analyzer, config)?;
    Ok(ExitCode::SUCCESS)
}
