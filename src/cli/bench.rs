//! `rhetor bench`: model load time, prediction throughput and peak memory over a folder of articles.

use super::{ArticlesArg, ModelArg};
use anyhow::{bail, Result};
use rhetor::{batch, corpus, Analyzer};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Flags of `rhetor bench`.
#[derive(clap::Args, Debug)]
// The shared flag, with the help this command has always had.
#[command(mut_arg("articles", |a| a.help(
    "Folder of articleN.txt files (e.g. ../shared/data/ptc/test-articles)"
)))]
#[command(mut_arg("model", |a| a.help(
    "The model to time: `accurate`, `fast` or a model file. Default: both built-in tiers, fast first"
)))]
pub struct BenchArgs {
    #[command(flatten)]
    pub input: ArticlesArg,
    /// Timed passes over the folder (the best is reported; attribution's share is the median).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    #[command(flatten)]
    pub model: ModelArg,
    /// Also run the PyTorch peer (`bench/peer/`: a BERT-base token tagger) over the same articles
    /// in this run, and print its time against the accurate tier's. The script's interpreter is
    /// `PEER_PYTHON` (default /work/peer-venv/bin/python); when it cannot run, bench says why and
    /// goes on.
    #[arg(long, value_name = "SCRIPT", num_args = 0..=1, default_missing_value = "bench/peer/run.sh")]
    pub compare: Option<PathBuf>,
}

/// What one tier's timing found.
struct Timed {
    accurate: bool,
    /// Model load plus the best parallel pass: what `rhetor predict` spends, less start-up.
    predict_s: f64,
}

pub fn run(args: &BenchArgs) -> Result<ExitCode> {
    if args.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    let articles = corpus::read_articles(&args.input.articles)?;
    let tiers = match &args.model.model {
        Some(_) => vec![args.model.clone()],
        // `--fast FILE` is the encoder's partner: it goes with the accurate tier only.
        None => vec![
            ModelArg {
                model: Some("fast".into()),
                fast: None,
            },
            ModelArg {
                model: Some("accurate".into()),
                fast: args.model.fast.clone(),
            },
        ],
    };
    let mut accurate = None;
    for (i, tier) in tiers.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let t = bench_tier(tier, &articles, args.rounds)?;
        if t.accurate {
            accurate = Some(t.predict_s);
        }
    }
    if let Some(script) = &args.compare {
        println!();
        compare(script, &args.input.articles, accurate);
    }
    match peak_rss_mb() {
        Some(rss) => println!("peak RSS        {rss:.1} MB (the whole run)"),
        None => println!("peak RSS        unavailable (no /proc/self/status)"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Times one model over the articles and prints its lines.
fn bench_tier(model: &ModelArg, articles: &[corpus::Article], rounds: usize) -> Result<Timed> {
    // Model load: the first one, as a command pays it. A built-in model is decoded once per process
    // and shared, so a best of several would time the cache, not the decoding.
    let t = Instant::now();
    let analyzer = model.load()?;
    let load = t.elapsed().as_secs_f64();
    let bytes: usize = articles.iter().map(|a| a.doc.text().len()).sum();
    let mb = bytes as f64 / 1e6;
    let mut par = f64::MAX;
    let mut spans = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        spans = batch::pipe(articles, &|_| {}, |a| {
            analyzer.analyze_document(&a.doc).map(|x| x.spans.len())
        })
        .into_iter()
        .sum::<Result<usize, _>>()?;
        par = par.min(t.elapsed().as_secs_f64());
    }
    // One thread, with and without attribution: the cost of the voices. The two passes of a round
    // run back to back, alternating which goes first, and the share is the median over rounds, so
    // a burst of other load on the machine moves one round, not the figure. The passes with
    // attribution also give each article's latency.
    let mut latencies = Vec::with_capacity(rounds * articles.len());
    let mut single_pass = |an: &Analyzer, keep: bool| {
        let t = Instant::now();
        for a in articles {
            let ta = Instant::now();
            let _ = std::hint::black_box(an.analyze_document(&a.doc));
            if keep {
                latencies.push(ta.elapsed().as_secs_f64());
            }
        }
        t.elapsed().as_secs_f64()
    };
    let spans_only = analyzer.clone().with_attribution(false);
    let (mut single, mut bare) = (f64::MAX, f64::MAX);
    let mut shares = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (with, without) = if round % 2 == 0 {
            let w = single_pass(&analyzer, true);
            (w, single_pass(&spans_only, false))
        } else {
            let wo = single_pass(&spans_only, false);
            (single_pass(&analyzer, true), wo)
        };
        single = single.min(with);
        bare = bare.min(without);
        shares.push((with - without) / with);
    }
    shares.sort_by(f64::total_cmp);
    let share = shares[shares.len() / 2];
    latencies.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        // Nearest rank: the smallest latency with at least q of them at or below it.
        let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len().max(1));
        latencies.get(rank - 1).copied().unwrap_or(0.0) * 1e3
    };
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
        "predict, {threads} threads: {:.1} articles/s, {:.2} MB/s (best of {}; {:.2} s with the model load)",
        articles.len() as f64 / par,
        mb / par,
        rounds,
        load + par
    );
    println!(
        "one at a time:     {:.1} articles/s, {:.2} MB/s (the fast tier runs on 1 thread; the encoder still uses all)",
        articles.len() as f64 / single,
        mb / single
    );
    println!(
        "latency         p50 {:.2} ms, p99 {:.2} ms per article (one at a time, {} analyses)",
        quantile(0.5),
        quantile(0.99),
        latencies.len()
    );
    println!(
        "attribution     {:.1}% of analysis time (median of {} interleaved pairs, {:.1}–{:.1}%; one at a time: {:.2} MB/s without it)",
        100.0 * share,
        shares.len(),
        100.0 * shares[0],
        100.0 * shares[shares.len() - 1],
        mb / bare
    );
    Ok(Timed {
        accurate: analyzer.models().encoder().is_some(),
        predict_s: load + par,
    })
}

/// Runs the PyTorch peer over the same articles and prints its time against rhetor's.
fn compare(script: &Path, articles: &Path, accurate: Option<f64>) {
    let not_run = |why: String| println!("peer            not run: {why}");
    if !script.is_file() {
        return not_run(format!(
            "{} is not there (run bench from the repository root, or give --compare SCRIPT)",
            script.display()
        ));
    }
    let dir = std::fs::canonicalize(articles).unwrap_or_else(|_| articles.to_path_buf());
    let t = Instant::now();
    let out = match std::process::Command::new(script)
        .arg("--articles")
        .arg(&dir)
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(o) => o,
        Err(e) => return not_run(format!("{}: {e}", script.display())),
    };
    let wall = t.elapsed().as_secs_f64();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return not_run(format!(
            "{} failed ({}): {last} (bench/peer/README.md says how to install it)",
            script.display(),
            out.status
        ));
    }
    // The peer prints one JSON line; its own total (load, warm-up, run) is the figure, the
    // process's wall time the fallback.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let total = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v.get("seconds_total").and_then(serde_json::Value::as_f64))
        .unwrap_or(wall);
    println!(
        "peer            PyTorch BERT-base token tagger ({}): {total:.2} s",
        script.display()
    );
    match accurate {
        Some(r) => println!(
            "peer / rhetor   {:.1}× (the peer's total against the accurate tier's model load + best pass, {r:.2} s)",
            total / r
        ),
        None => println!("peer / rhetor   not computed: the accurate tier was not timed in this run"),
    }
}

/// Peak resident set size of this process (Linux `VmHWM`).
fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
