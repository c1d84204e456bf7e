//! The `rhetor` command: a thin shell over the `rhetor` library. It parses flags, calls the library
//! and maps the outcome to an exit code: 0 success, 1 error (or some articles of a batch failed),
//! 2 bad usage.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cli;

const EXAMPLES: &str = "\
Examples:
  rhetor analyze examples/sample-article.txt          highlight techniques on the terminal
  rhetor analyze --format json article.txt > a.json   machine-readable analysis
  cat article.txt | rhetor analyze --format html - > a.html
  rhetor predict --articles ptc/test-articles --out pred.tsv
  rhetor classify --articles ptc/train-articles --spans spans.tsv --out tc.tsv
  rhetor train --articles ptc/train-articles --labels ptc/train-task2-TC.labels --out my.rhm --cv 5
  rhetor batch articles.jsonl --out analyses.jsonl --resume   resumable bulk run
  rhetor eval --gold gold.tsv --pred pred.tsv
  rhetor techniques                                   the 14 techniques, with definitions";

/// Find propaganda techniques in news articles, down to the exact characters.
#[derive(Parser)]
#[command(name = "rhetor", version, about, after_help = EXAMPLES, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse one article: highlighted spans on a terminal, or JSON, PTC rows or an HTML page.
    Analyze(cli::analyze::AnalyzeArgs),
    /// Find technique spans in every articleN.txt of a folder and write PTC rows (ID, technique, start, end).
    Predict(cli::predict::PredictArgs),
    /// Name the technique of given spans (rows ID<TAB>?<TAB>start<TAB>end), keeping rows and order.
    Classify(cli::classify::ClassifyArgs),
    /// Train a fast model, or fine-tune the encoder (--encoder), on PTC articles and labels.
    // Boxed: its flags dwarf the other commands' (clippy::large_enum_variant).
    Train(Box<cli::train::TrainArgs>),
    /// Tune an encoder model's ensemble with the fast model on a held-out fold and store the settings.
    Tune(cli::tune::TuneArgs),
    /// Analyse a stream of records (JSON Lines, stdin, folders, WARC) into JSON Lines or CSV, in order, resumably.
    Batch(cli::batch::BatchArgs),
    /// Score predictions against gold labels: SI, FLC and TC, with a per-technique table.
    Eval(cli::eval::EvalArgs),
    /// Measure prediction speed and memory over a folder of articles.
    Bench(cli::bench::BenchArgs),
    /// Find who says what in every NAME.txt of a folder and write NAME.ann (brat, as PolNeAR).
    Attribute(cli::attribute::AttributeArgs),
    /// Score attributions (NAME.ann folders) against gold: content and speaker P/R/F1.
    EvalAttribution(cli::eval_attribution::EvalAttributionArgs),
    /// Write predictions as pre-annotations to correct in Label Studio or brat.
    ExportTasks(cli::export_tasks::ExportTasksArgs),
    /// Turn corrected Label Studio or brat annotations into PTC articles and labels to train on.
    ImportAnnotations(cli::import_annotations::ImportAnnotationsArgs),
    /// List the 14 techniques with definitions and examples.
    Techniques,
    /// Print a model file's manifest (how it was trained, its scores).
    ModelInfo(cli::ModelArg),
    /// Run the web app and JSON API, with an archive of analyses (SQLite or PostgreSQL), on --addr.
    Serve(cli::serve::ServeArgs),
    /// Poll RSS/Atom feeds: analyse every new item and save it in the archive (--once: one pass).
    Watch(cli::watch::WatchArgs),
    /// Write the archive's analyses as JSONL, CSV or PTC rows (the shapes of `batch` and `predict`).
    Export(cli::export::ExportArgs),
}

fn main() -> ExitCode {
    // Output piped into `head` and closed early ends rhetor quietly, as it does `cat`, instead of
    // Rust's default of a panic on the next print.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    tune_allocator();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Analyze(a) => cli::analyze::run(a),
        Command::Predict(a) => cli::predict::run(a),
        Command::Classify(a) => cli::classify::run(a),
        Command::Train(a) => cli::train::run(a),
        Command::Tune(a) => cli::tune::run(a),
        Command::Eval(a) => cli::eval::run(a),
        Command::Batch(a) => cli::batch::run(a),
        Command::Bench(a) => cli::bench::run(a),
        Command::Attribute(a) => cli::attribute::run(a).map(|()| ExitCode::SUCCESS),
        Command::EvalAttribution(a) => cli::eval_attribution::run(a).map(|()| ExitCode::SUCCESS),
        Command::ExportTasks(a) => cli::export_tasks::run(a),
        Command::ImportAnnotations(a) => cli::import_annotations::run(a),
        Command::Techniques => cli::techniques(),
        Command::ModelInfo(a) => cli::model_info(a),
        Command::Serve(a) => cli::serve::run(a),
        Command::Watch(a) => cli::watch::run(a),
        Command::Export(a) => cli::export::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // One line: the error and its causes, as a user reads them.
            let mut msg = format!("rhetor: error: {e}");
            for cause in e.chain().skip(1) {
                // Some errors print their cause already (`path: cause`): say it once.
                let cause = cause.to_string();
                if !msg.ends_with(&cause) {
                    msg.push_str(&format!(": {cause}"));
                }
            }
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
}

/// glibc returns freed memory to the kernel eagerly; the encoder frees and re-allocates the same
/// large tensors for every window, so a third of its time went to page faults. Keeping freed memory
/// in the process (as MALLOC_MMAP_THRESHOLD_ and friends would) removes most of that.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 256 << 20);
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn flags_are_well_formed() {
        Cli::command().debug_assert();
    }

    /// A flag flattened from one definition reads the same in every command that has it.
    #[test]
    fn shared_flags_have_one_help() {
        let cli = Cli::command();
        let help = |cmd: &str, flag: &str| {
            let c = cli.find_subcommand(cmd).unwrap();
            let a = c.get_arguments().find(|a| a.get_id() == flag).unwrap();
            a.get_help().map(|h| h.to_string())
        };
        for (flag, cmds) in [
            // `train` repeats --articles/--labels, one pair per data set, with its own help;
            // `bench` times both tiers when --model is not given, and says so.
            ("articles", &["predict", "classify", "tune"][..]),
            ("labels", &["tune"]),
            ("out", &["predict"]),
            (
                "model",
                &["analyze", "predict", "classify", "batch", "model-info"],
            ),
            ("json", &["eval", "eval-attribution"]),
        ] {
            let first = help(cmds[0], flag);
            assert!(first.is_some(), "--{flag} has help");
            for c in cmds {
                assert_eq!(help(c, flag), first, "--{flag} of {c}");
            }
        }
    }
}
