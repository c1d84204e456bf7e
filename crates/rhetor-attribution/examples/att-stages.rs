//! Where attribution spends its time: the four stages of [`Attributor::extract`] summed over a
//! folder of articles (best of R rounds each), with the work each does (tokens, cues, window tokens).
//!
//! ```text
//! cargo run --release -p rhetor-attribution --example att-stages -- ../shared/data/ptc/test-articles [ROUNDS]
//! ```

use rhetor_attribution::Attributor;
use rhetor_core::{Document, Prepared};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: att-stages DIR [ROUNDS]")?;
    let rounds: usize = args.next().map_or(Ok(5), |r| r.parse())?;
    let mut docs = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    for p in paths {
        if p.extension().is_some_and(|e| e == "txt") {
            docs.push(Document::new(std::fs::read_to_string(&p)?)?);
        }
    }
    let prepared: Vec<Prepared> = docs.iter().map(Prepared::new).collect();
    let att = Attributor::shared();
    // THRASH=MB: read that many megabytes of other memory before each article, as the fast tier's
    // tables do in an analysis, so the stages run from cold caches as they do there.
    let thrash: usize = std::env::var("THRASH").map_or(Ok(0), |v| v.parse())?;
    let other = vec![1u8; thrash << 20];
    let mut sink = 0u64;
    let mut best = [f64::MAX; 4];
    for _ in 0..rounds {
        let mut sum = [0f64; 4];
        for p in &prepared {
            for k in (0..other.len()).step_by(64) {
                sink = sink.wrapping_add(std::hint::black_box(other[k]) as u64);
            }
            for (s, x) in sum.iter_mut().zip(att.profile(p)) {
                *s += x;
            }
        }
        for (b, s) in best.iter_mut().zip(sum) {
            *b = b.min(s);
        }
    }
    std::hint::black_box(sink);
    let total: f64 = best.iter().sum();
    let names = ["token table", "cues", "arguments", "speakers"];
    println!("{} articles, best of {rounds} rounds", docs.len());
    for (n, b) in names.iter().zip(best) {
        println!("{n:<12} {:8.2} ms  {:5.1}%", b * 1e3, 100.0 * b / total);
    }
    println!("{:<12} {:8.2} ms", "total", total * 1e3);
    Ok(())
}
