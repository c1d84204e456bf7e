//! `rhetor batch`: records in (JSON Lines, stdin, folders, WARC), one output line or CSV rows per
//! record out, in input order, resumable. The work is `rhetor::stream::run`.

use super::ModelArg;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rhetor::resume::Target;
use rhetor::sources::Input;
use rhetor::stream::{self, Format, Options};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output format of `rhetor batch`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    /// One line per record: the analysis JSON with `id` and passed-through fields, or an error.
    Jsonl,
    /// One row per span: id, start, end, technique, confidence, voice, snippet.
    Csv,
}

/// Flags of `rhetor batch`.
#[derive(clap::Args, Debug)]
pub struct BatchArgs {
    /// JSON Lines files ({"id", "text"} plus optional url, outlet, title, published; `.gz` too),
    /// `-` for stdin (the default), folders of .txt files (id: the file name), WARC files
    /// (.warc, .warc.gz: one record per HTML response, id: its WARC-Target-URI).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Output file (default: stdout), written as the batch goes and committed every second.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Jsonl)]
    pub format: FormatArg,
    /// Continue --out where a killed run with the same inputs stopped: every record ends up in
    /// it exactly once.
    #[arg(long, requires = "out")]
    pub resume: bool,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Largest text accepted, in bytes; a longer one is a `too_long` error record.
    #[arg(long, default_value_t = rhetor::text::DEFAULT_MAX_BYTES)]
    pub max_bytes: usize,
    /// Commit at least every N records (besides every second); for tests of resume.
    #[arg(long, hide = true, value_name = "N")]
    pub commit_every: Option<u64>,
    #[command(flatten)]
    pub model: ModelArg,
}

pub fn run(args: &BatchArgs) -> Result<ExitCode> {
    let format = match args.format {
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Csv => Format::Csv,
    };
    let mut opts = Options::new(format);
    if let Some(j) = args.jobs {
        opts.jobs = usize::from(j);
        opts.window = 16 * opts.jobs;
        // The accurate tier's encoder parallelises inside each article on rayon's pool: cap it too.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.jobs)
            .build_global();
    }
    opts.resume = args.resume;
    if let Some(n) = args.commit_every {
        opts.commit_records = n.max(1);
    }
    let inputs: Vec<Input> = if args.inputs.is_empty() {
        vec![Input::Stdin]
    } else {
        args.inputs.iter().map(|a| Input::from_arg(a)).collect()
    };
    let total: Option<u64> = inputs.iter().map(Input::size).sum();
    let analyzer = args.model.load()?.with_max_bytes(args.max_bytes);
    let target = match &args.out {
        Some(p) => Target::File(p.clone()),
        None => Target::Stdout,
    };
    // A bar only when the output goes to a file and stderr is a terminal.
    let pb = if args.out.is_some() && std::io::stderr().is_terminal() {
        bar(total)
    } else {
        ProgressBar::hidden()
    };
    let started = std::time::Instant::now();
    let summary = stream::run(&analyzer, inputs, target, &opts, &mut |failure, p| {
        if let Some(f) = failure {
            // JSON Lines carries the error in its line; CSV has no place for it but stderr.
            if format == Format::Csv {
                let id = f.id.as_deref().unwrap_or("?");
                pb.suspend(|| {
                    eprintln!("rhetor: record {id}: {}: {}", f.error.kind, f.error.message)
                });
            }
        }
        if p.records % 16 == 1 || failure.is_some() {
            pb.set_position(p.input_bytes);
            let rate = p.records as f64 / started.elapsed().as_secs_f64().max(1e-9);
            pb.set_message(format!(
                "{} records ({rate:.0}/s), {} spans, {} errors",
                p.records, p.spans, p.failed
            ));
        }
    })?;
    pb.finish_and_clear();
    let p = &summary.progress;
    let secs = summary.elapsed.as_secs_f64().max(1e-9);
    let resumed = if p.skipped > 0 {
        format!(" (resumed after {} records already written)", p.skipped)
    } else {
        String::new()
    };
    let dest = args
        .out
        .as_ref()
        .map_or("stdout".to_string(), |p| p.display().to_string());
    eprintln!(
        "rhetor: {} records, {} failed, {} spans, {:.2} MB in {secs:.1} s ({:.1} records/s, {:.2} MB/s) -> {dest}{resumed}",
        p.records,
        p.failed,
        p.spans,
        p.input_bytes as f64 / 1e6,
        p.records as f64 / secs,
        p.input_bytes as f64 / 1e6 / secs,
    );
    Ok(if p.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn bar(total: Option<u64>) -> ProgressBar {
    let style = match total {
        // The ETA comes from the bytes of input left.
        Some(_) => "{spinner} [{bar:30}] {bytes}/{total_bytes} {msg} (ETA {eta})",
        None => "{spinner} {bytes} {msg}",
    };
    let pb = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(style)
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb
}
