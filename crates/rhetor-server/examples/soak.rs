//! Soak and overload of a running `rhetor serve` (`bench/soak.sh` starts one and runs this).
//!
//! 1. Sustained rate: `CONNECTIONS` clients in a closed loop (each sends its next request when
//!    the last is answered) for `MEASURE_S` seconds; the answers per second are the server's
//!    sustained rate R.
//! 2. Overload: requests at `FACTOR` × R, open loop (sent on schedule whatever the answers), for
//!    `MINUTES`. Every minute: the answers by status, latency percentiles, and the server's RSS
//!    (`/proc/PID/status`).
//!
//! A request fails when it gets no answer or any status but 200 and the documented 503 (the
//! server is busy). The report is Markdown on stdout; the exit code is 1 when a request failed or
//! RSS grew 10% or more from minute 1 to the last.
//!
//!     cargo run --release -p rhetor-server --example soak -- URL PID ARTICLES_DIR
//!
//! Settings come from the environment: `MEASURE_S` (15), `FACTOR` (2), `MINUTES` (10),
//! `CONNECTIONS` (the server's cores, 2).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One answer: its status (0: no answer) and latency.
#[derive(Clone, Copy)]
struct Answer {
    status: u16,
    latency: Duration,
}

fn rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let k = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[k.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

async fn send(client: &reqwest::Client, url: &str, body: &str) -> Answer {
    let t = Instant::now();
    let status = match client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
    {
        Ok(r) => {
            let s = r.status().as_u16();
            // The whole answer is part of the latency.
            match r.bytes().await {
                Ok(_) => s,
                Err(_) => 0,
            }
        }
        Err(_) => 0,
    };
    Answer {
        status,
        latency: t.elapsed(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, pid, dir] = args.as_slice() else {
        anyhow::bail!("usage: soak URL SERVER_PID ARTICLES_DIR");
    };
    let pid: u32 = pid.parse()?;
    let measure = Duration::from_secs(env_or("MEASURE_S", 15));
    let factor: f64 = env_or("FACTOR", 2.0);
    let minutes: u64 = env_or("MINUTES", 10);
    let connections: usize = env_or("CONNECTIONS", 2);
    let url = format!("{}/api/analyze", base.trim_end_matches('/'));

    let mut bodies = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    names.sort();
    for p in names {
        let text = std::fs::read_to_string(&p)?;
        bodies.push(serde_json::json!({ "text": text }).to_string());
    }
    anyhow::ensure!(!bodies.is_empty(), "no .txt articles in {dir}");
    let bodies = Arc::new(bodies);
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(4096)
        .timeout(Duration::from_secs(120))
        .build()?;

    // 1. The sustained rate, closed loop.
    let done = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let start = Instant::now();
    let mut loops = Vec::new();
    for c in 0..connections {
        let (client, url, bodies, done) =
            (client.clone(), url.clone(), bodies.clone(), done.clone());
        loops.push(tokio::spawn(async move {
            let mut k = c;
            while start.elapsed() < measure {
                let a = send(&client, &url, &bodies[k % bodies.len()]).await;
                done.lock().unwrap().push(a);
                k += connections;
            }
        }));
    }
    for l in loops {
        l.await?;
    }
    let closed = done.lock().unwrap().clone();
    let ok = closed.iter().filter(|a| a.status == 200).count();
    let sustained = ok as f64 / start.elapsed().as_secs_f64();
    anyhow::ensure!(ok > 0, "no request succeeded in the closed loop");
    let rate = sustained * factor;
    println!(
        "Sustained rate ({connections} connections, closed loop, {} s): {sustained:.1} requests/s; \
         overload at {factor}× = {rate:.1} requests/s for {minutes} min, open loop.\n",
        measure.as_secs()
    );

    // 2. Overload, open loop, one row a minute.
    println!("| minute | sent | 200 | 503 | failed | p50 (200) | p90 (200) | p99 (200) | p99 (all) | server RSS |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let every = Duration::from_secs_f64(1.0 / rate);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut rss = Vec::new();
    let mut totals: BTreeMap<u16, usize> = BTreeMap::new();
    let mut all_ok = Vec::new();
    let mut all = Vec::new();
    let mut k = 0usize;
    for minute in 1..=minutes {
        let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
        let mut inflight = tokio::task::JoinSet::new();
        let end = Instant::now() + Duration::from_secs(60);
        let mut sent = 0usize;
        while Instant::now() < end {
            tick.tick().await;
            let (client, url, bodies, answers) =
                (client.clone(), url.clone(), bodies.clone(), answers.clone());
            let body = k;
            k += 1;
            sent += 1;
            inflight.spawn(async move {
                let a = send(&client, &url, &bodies[body % bodies.len()]).await;
                answers.lock().unwrap().push(a);
            });
            // Reap what finished, without waiting.
            while inflight.try_join_next().is_some() {}
        }
        // The minute's requests are counted when answered (their latency may run past it).
        while inflight.join_next().await.is_some() {}
        let got = std::mem::take(&mut *answers.lock().unwrap());
        let mut by: BTreeMap<u16, usize> = BTreeMap::new();
        for a in &got {
            *by.entry(a.status).or_default() += 1;
            *totals.entry(a.status).or_default() += 1;
        }
        let mut ok: Vec<Duration> = got
            .iter()
            .filter(|a| a.status == 200)
            .map(|a| a.latency)
            .collect();
        let mut any: Vec<Duration> = got.iter().map(|a| a.latency).collect();
        ok.sort();
        any.sort();
        let failed = got
            .iter()
            .filter(|a| a.status != 200 && a.status != 503)
            .count();
        let r = rss_kb(pid);
        rss.push(r);
        println!(
            "| {minute} | {sent} | {} | {} | {failed} | {} | {} | {} | {} | {} |",
            by.get(&200).unwrap_or(&0),
            by.get(&503).unwrap_or(&0),
            ms(percentile(&ok, 0.5)),
            ms(percentile(&ok, 0.9)),
            ms(percentile(&ok, 0.99)),
            ms(percentile(&any, 0.99)),
            r.map_or("?".into(), |kb| format!("{:.1} MB", kb as f64 / 1024.0)),
        );
        all_ok.extend(ok);
        all.extend(any);
    }
    all_ok.sort();
    all.sort();
    let failed: usize = totals
        .iter()
        .filter(|(s, _)| **s != 200 && **s != 503)
        .map(|(_, n)| n)
        .sum();
    let first = rss.first().copied().flatten();
    let last = rss.last().copied().flatten();
    let growth = match (first, last) {
        (Some(a), Some(b)) if a > 0 => Some(100.0 * (b as f64 - a as f64) / a as f64),
        _ => None,
    };
    println!(
        "\nTotal: {} answers: {} × 200, {} × 503 (busy, documented), {failed} failed{}; p99 of 200s {}, \
         of all {}; RSS minute 1 → {minutes}: {}.",
        all.len(),
        totals.get(&200).unwrap_or(&0),
        totals.get(&503).unwrap_or(&0),
        if failed > 0 { format!(" ({totals:?})") } else { String::new() },
        ms(percentile(&all_ok, 0.99)),
        ms(percentile(&all, 0.99)),
        growth.map_or("?".into(), |g| format!("{g:+.1}%")),
    );
    if failed > 0 || !growth.is_some_and(|g| g < 10.0) {
        std::process::exit(1);
    }
    Ok(())
}
