//! Writes `NAME.ann` for every `NAME.txt` of a folder with the embedded model, then (with a gold
//! folder) scores them; reports extraction speed.
//!
//! ```text
//! cargo run --release -p rhetor-attribution --example attribute-dir -- TEXT_DIR OUT_DIR [GOLD_DIR]
//! ```

use rhetor_attribution::{brat, eval, Attributor};
use rhetor_core::Document;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: attribute-dir TEXT_DIR OUT_DIR [GOLD_DIR]");
        std::process::exit(2);
    }
    let (src, out) = (PathBuf::from(&args[0]), PathBuf::from(&args[1]));
    std::fs::create_dir_all(&out)?;
    let att = match std::env::var("MODEL") {
        Ok(m) => Attributor::from_bytes(&std::fs::read(m)?)?,
        Err(_) => Attributor::new(),
    };
    let mut docs = Vec::new();
    for e in std::fs::read_dir(&src)? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "txt") {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            docs.push((name, Document::read(&p, 8 << 20)?));
        }
    }
    let bytes: usize = docs.iter().map(|(_, d)| d.text().len()).sum();
    // Best of REPS passes, one thread (as `rhetor bench` reports its single-thread figure).
    let reps = std::env::var("REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..reps {
        let t0 = std::time::Instant::now();
        n = 0;
        for (_, d) in &docs {
            n += att.extract(d).attributions.len();
        }
        best = best.min(t0.elapsed().as_secs_f64());
    }
    eprintln!(
        "{} articles, {:.2} MB, {} attributions: {:.3} s, {:.2} MB/s (best of {reps}, 1 thread)",
        docs.len(),
        bytes as f64 / 1e6,
        n,
        best,
        bytes as f64 / 1e6 / best
    );
    if std::env::var("PROFILE").is_ok() {
        let mut tot = [0f64; 4];
        for (_, d) in &docs {
            let t = att.profile(&rhetor_core::Prepared::new(d));
            for k in 0..4 {
                tot[k] += t[k];
            }
        }
        eprintln!(
            "token table {:.3} s, cues {:.3} s, arguments {:.3} s, speakers {:.3} s",
            tot[0], tot[1], tot[2], tot[3]
        );
    }
    for (name, d) in &docs {
        let a = att.extract(d);
        brat::write_ann(&out.join(format!("{name}.ann")), d, &brat::to_brat(&a))?;
    }
    if let Some(g) = args.get(2) {
        print!("{}", eval::evaluate_dirs(&PathBuf::from(g), &out)?);
    }
    Ok(())
}
