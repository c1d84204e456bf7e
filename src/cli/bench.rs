//! `rhetor bench`: model load time, prediction throughput and peak memory over a folder of articles.

use super::{ArticlesArg, ModelArg};
use anyhow::{bail, Result};
use rhetor::{batch, corpus, Analyzer};
use std::process::ExitCode;
use std::time::Instant;

/// Flags of `rhetor bench`.
#[derive(clap::Args, Debug)]
// The shared flag, with the help this command has always had.
#[command(mut_arg("articles", |a| a.help(
    "Folder of articleN.txt files (e.g. ../shared/data/ptc/test-articles)"
)))]
pub struct BenchArgs {
    #[command(flatten)]
    pub input: ArticlesArg,
    /// Timed passes over the folder (the best is reported; attribution's share is the median).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    #[command(flatten)]
    pub model: ModelArg,
}

pub fn run(args: &BenchArgs) -> Result<ExitCode> {
    if args.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    // Model load: the first one, as a command pays it. A built-in model is decoded once per process
    // and shared, so a best of several would time the cache, not the decoding.
    let t = Instant::now();
    let analyzer = args.model.load()?;
    let load = t.elapsed().as_secs_f64();
    let articles = corpus::read_articles(&args.input.articles)?;
    let bytes: usize = articles.iter().map(|a| a.doc.text().len()).sum();
    let mb = bytes as f64 / 1e6;
    let mut par = f64::MAX;
    let mut spans = 0;
    for _ in 0..args.rounds {
        let t = Instant::now();
        spans = batch::pipe(&articles, &|_| {}, |a| {
            analyzer.analyze_document(&a.doc).map(|x| x.spans.len())
        })
        .into_iter()
        .sum::<Result<usize, _>>()?;
        par = par.min(t.elapsed().as_secs_f64());
    }
    // One thread, with and without attribution: the cost of the voices. The two passes of a round
    // run back to back, alternating which goes first, and the share is the median over rounds, so
    // a burst of other load on the machine moves one round, not the figure.
    let single_pass = |an: &Analyzer| {
        let t = Instant::now();
        for a in &articles {
            let _ = std::hint::black_box(an.analyze_document(&a.doc));
        }
        t.elapsed().as_secs_f64()
    };
    let spans_only = analyzer.clone().with_attribution(false);
    let (mut single, mut bare) = (f64::MAX, f64::MAX);
    let mut shares = Vec::with_capacity(args.rounds);
    for round in 0..args.rounds {
        let (with, without) = if round % 2 == 0 {
            let w = single_pass(&analyzer);
            (w, single_pass(&spans_only))
        } else {
            let wo = single_pass(&spans_only);
            (single_pass(&analyzer), wo)
        };
        single = single.min(with);
        bare = bare.min(without);
        shares.push((with - without) / with);
    }
    shares.sort_by(f64::total_cmp);
    let share = shares[shares.len() / 2];
    let threads = rayon::current_num_threads();
    println!("model           {}", analyzer.model_name());
    println!(
        "articles        {} ({:.2} MB of text, {} spans found)",
        articles.len(),
        mb,
        spans
    );
    println!("model load      {:.1} ms", load * 1e3);
    println!(
        "predict, {threads} threads: {:.1} articles/s, {:.2} MB/s (best of {})",
        articles.len() as f64 / par,
        mb / par,
        args.rounds
    );
    println!(
        "one at a time:     {:.1} articles/s, {:.2} MB/s (the fast tier runs on 1 thread; the encoder still uses all)",
        articles.len() as f64 / single,
        mb / single
    );
    println!(
        "attribution     {:.1}% of analysis time (median of {} interleaved pairs, {:.1}–{:.1}%; one at a time: {:.2} MB/s without it)",
        100.0 * share,
        shares.len(),
        100.0 * shares[0],
        100.0 * shares[shares.len() - 1],
        mb / bare
    );
    match peak_rss_mb() {
        Some(rss) => println!("peak RSS        {rss:.1} MB"),
        None => println!("peak RSS        unavailable (no /proc/self/status)"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Peak resident set size of this process (Linux `VmHWM`).
fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
