//! `rhetor watch`: poll RSS/Atom feeds into the archive (crate `rhetor-watch`).

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rhetor_watch::{Report, WatchConfig, Watcher};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Flags of `rhetor watch`.
#[derive(clap::Args, Debug, Clone)]
pub struct WatchArgs {
    /// Feeds file: one feed per line, OUTLET<TAB>FEED_URL (RSS 2.0, RSS 1.0 or Atom); blank lines
    /// and # comments allowed.
    #[arg(long, value_name = "FILE")]
    pub feeds: PathBuf,

    #[command(flatten)]
    pub db: super::DbArg,

    /// Poll every feed once, process every new item, and exit (1 when a feed or an item failed).
    #[arg(long)]
    pub once: bool,

    /// Time between two polls of the feeds, e.g. 15m, 30s, 1h.
    #[arg(long, default_value = "15m", value_name = "DURATION", value_parser = parse_duration)]
    pub interval: Duration,

    /// Let feeds and pages on loopback, private and link-local addresses be fetched (an
    /// intranet's own feeds; refused by default).
    #[arg(long)]
    pub allow_private_addresses: bool,

    /// Least time between two requests to one host.
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = parse_duration)]
    pub host_delay: Duration,

    /// How long a claim on an item holds: a process that dies leaves its item to the others
    /// after this long. Longer than fetching and analysing one article.
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = parse_duration)]
    pub lease: Duration,

    #[command(flatten)]
    pub model: super::ModelArg,
}

/// `90`, `90s`, `250ms`, `15m`, `2h`, `1d`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 30s, 15m, 1h)"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        "d" => Duration::from_secs(n * 86400),
        _ => return Err(format!("{s:?}: the unit is ms, s, m, h or d")),
    })
}

fn summary(r: &Report) -> String {
    format!(
        "feeds: {} read, {} unchanged, {} failed; items: {} seen, {} stored, {} duplicates, \
         {} already archived, {} failed, {} given up",
        r.feeds_read,
        r.feeds_unchanged,
        r.feeds_failed,
        r.items_seen,
        r.stored,
        r.duplicates,
        r.already_done,
        r.items_failed,
        r.gave_up
    )
}

/// Runs the watcher: one pass with `--once`, else until SIGINT or SIGTERM.
pub fn run(args: &WatchArgs) -> Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rhetor_watch=info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    anyhow::ensure!(
        args.interval >= Duration::from_secs(1),
        "--interval must be at least 1s"
    );
    anyhow::ensure!(
        args.lease >= Duration::from_secs(1),
        "--lease must be at least 1s"
    );
    let feeds = rhetor_watch::read_feeds(&args.feeds)?;
    let archive = rhetor_store::open(&args.db.db)?;
    let analyzer = Arc::new(args.model.load()?);
    let mut config = WatchConfig {
        host_delay: args.host_delay,
        lease: args.lease,
        ..WatchConfig::default()
    };
    config.fetch.allow_private = args.allow_private_addresses;
    let mut watcher = Watcher::new(archive, analyzer, config)?;
    watcher.stop_on_signals();

    let pb = ProgressBar::with_draw_target(
        None,
        if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    pb.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
    pb.enable_steady_tick(Duration::from_millis(120));
    let mut progress = |r: &Report, doing: &str| {
        pb.set_message(format!(
            "{} stored, {} failed · {}",
            r.stored,
            r.items_failed + r.feeds_failed,
            doing
        ));
    };
    let report = if args.once {
        watcher.run_once(&feeds, &mut progress)?
    } else {
        watcher.run(&feeds, args.interval, &mut progress)
    };
    pb.finish_and_clear();
    println!("{}", summary(&report));
    let failed = report.feeds_failed + report.items_failed > 0;
    Ok(if args.once && failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("2w").is_err());
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("m").is_err());
    }
}
