//! Trains the attribution model on a PolNeAR-style folder and writes it.
//!
//! ```text
//! cargo run --release -p rhetor-attribution --example train-attribution -- \
//!     ../shared/data/polnear/train crates/rhetor-attribution/model/attribution.bin [DEV_DIR]
//! ```
//!
//! With `DEV_DIR` (e.g. `../shared/data/polnear/dev`) it also prints train and dev scores.
//! Environment: `EPOCHS`, `CUE_BITS`, `ARG_BITS`, `CAND_RATE`, `BIASES=cue,arg,source` override the
//! defaults; `CV=5` prints 5-fold cross-validated content and speaker F1 (mean ± sd over the folds
//! of the training articles, the shipped model's biases or `BIASES`) and exits (`OOF=DIR` also
//! writes each held-out article's predictions there, as `.ann` files, for reading errors);
//! `TUNE=1` first picks the biases on a fifth of the training articles held out from a model trained
//! on the other four fifths (dev is never used for choices). `HELDOUT=1` only scores that held-out
//! fifth, from a model trained on the other four fifths with the shipped model's biases (or
//! `BIASES`), and exits.

use rhetor_attribution::train::{evaluate, read_corpus, train, GoldDoc, TrainOptions};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: train-attribution TRAIN_DIR OUT_MODEL [DEV_DIR]");
        std::process::exit(2);
    }
    let env = |k: &str| std::env::var(k).ok();
    let mut opts = TrainOptions::default();
    if let Some(v) = env("EPOCHS") {
        opts.epochs = v.parse()?;
    }
    if let Some(v) = env("CUE_BITS") {
        opts.cue_bits = v.parse()?;
    }
    if let Some(v) = env("ARG_BITS") {
        opts.arg_bits = v.parse()?;
    }
    if let Some(v) = env("CAND_RATE") {
        opts.cand_rate = v.parse()?;
    }
    let t0 = std::time::Instant::now();
    let docs = read_corpus(&PathBuf::from(&args[0]))?;
    eprintln!("{} training articles", docs.len());
    let biases = || -> Result<(f32, f32, f32), Box<dyn std::error::Error>> {
        Ok(match env("BIASES") {
            Some(b) => {
                let v: Vec<f32> = b.split(',').map(|x| x.parse()).collect::<Result<_, _>>()?;
                (v[0], v[1], v[2])
            }
            None => rhetor_attribution::Attributor::shared().biases(),
        })
    };
    if let Some(k) = env("CV") {
        // K-fold cross-validation over the training articles (fold f: every article i with
        // i % K == f), the shipped model's biases (or `BIASES`): mean ± sd of each fold's F1.
        let k: usize = k.parse()?;
        let (c, a, s) = biases()?;
        let mut f1 = [Vec::new(), Vec::new()];
        for f in 0..k {
            let (fit, held) = fold(&docs, k, f);
            let m = train(&fit, &opts, |_| {}).with_biases(c, a, s);
            let r = evaluate(&m, &held);
            if let Some(dir) = env("OOF") {
                // Out-of-fold predictions, for reading errors without touching dev.
                let dir = PathBuf::from(dir);
                std::fs::create_dir_all(&dir)?;
                for d in &held {
                    let pred = rhetor_attribution::brat::to_brat(&m.extract(&d.doc));
                    rhetor_attribution::brat::write_ann(
                        &dir.join(format!("{}.ann", d.name)),
                        &d.doc,
                        &pred,
                    )?;
                }
            }
            eprintln!(
                "fold {f}: content {:.4} speaker {:.4}",
                r.content.f1, r.speaker.f1
            );
            f1[0].push(r.content.f1);
            f1[1].push(r.speaker.f1);
        }
        let stat = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
            (m, sd)
        };
        let ((cm, cs), (sm, ss)) = (stat(&f1[0]), stat(&f1[1]));
        println!("{k}-fold CV, biases {c} {a} {s}: content F1 {cm:.4} ± {cs:.4}, speaker F1 {sm:.4} ± {ss:.4}");
        return Ok(());
    }
    if env("HELDOUT").is_some() {
        let (fit, held) = fold(&docs, 5, 0);
        let (c, a, s) = biases()?;
        let m = train(&fit, &opts, |l| eprintln!("heldout: {l}")).with_biases(c, a, s);
        println!(
            "held-out fifth ({} articles), biases {c} {a} {s}:\n{}",
            held.len(),
            evaluate(&m, &held)
        );
        return Ok(());
    }
    let mut tuned: Option<(f32, f32, f32)> = None;
    if env("TUNE").is_some() {
        // Hold out every fifth training article, train on the rest, pick the decoding biases that
        // maximise content F1 + speaker F1 on the held-out part.
        let (fit, held) = fold(&docs, 5, 0);
        let m = train(&fit, &opts, |l| eprintln!("tune: {l}"));
        let mut best = (f64::MIN, (0.0, 0.0, 0.0));
        // Below -6 the cue tagger finds more cues for little gain, and every cue costs an argument
        // tagging (time).
        for cue in [-6.0f32, -4.0, -3.0, -2.0, -1.0, 0.0] {
            for arg in [-4.0f32, -3.0, -2.0, -1.0, 0.0] {
                for src in [-4.0f32, -3.0, -2.0, -1.0, 0.0] {
                    let r = evaluate(&m.clone().with_biases(cue, arg, src), &held);
                    let score = r.content.f1 + r.speaker.f1;
                    eprintln!(
                        "biases {cue:5.2} {arg:5.2} {src:5.2}: content {:.4} speaker {:.4}",
                        r.content.f1, r.speaker.f1
                    );
                    if score > best.0 {
                        best = (score, (cue, arg, src));
                    }
                }
            }
        }
        eprintln!("best biases {:?} (sum {:.4})", best.1, best.0);
        if env("TUNE_ONLY").is_some() {
            return Ok(());
        }
        tuned = Some(best.1);
    }
    let mut model = train(&docs, &opts, |l| {
        eprintln!("{l} [{:.1}s]", t0.elapsed().as_secs_f64())
    });
    if let Some((c, a, s)) = tuned {
        model = model.with_biases(c, a, s);
    }
    if env("BIASES").is_some() {
        let (c, a, s) = biases()?;
        model = model.with_biases(c, a, s);
    }
    // The manifest: how to make this model again, and its scores on dev when given.
    let mut manifest = model.manifest().clone();
    let vars: String = [
        "TUNE",
        "EPOCHS",
        "CUE_BITS",
        "ARG_BITS",
        "CAND_RATE",
        "BIASES",
    ]
    .iter()
    .filter_map(|k| env(k).map(|v| format!("{k}={v} ")))
    .collect();
    manifest.trained_with = format!(
        "{vars}cargo run --release -p rhetor-attribution --example train-attribution -- {}",
        args.join(" ")
    );
    let dev = match args.get(2) {
        Some(dev) => Some(read_corpus(&PathBuf::from(dev))?),
        None => None,
    };
    if let Some(dev) = &dev {
        let r = evaluate(&model, dev);
        for (k, p) in [("content", &r.content), ("speaker", &r.speaker)] {
            manifest
                .scores
                .insert(format!("dev_{k}_precision"), p.precision);
            manifest.scores.insert(format!("dev_{k}_recall"), p.recall);
            manifest.scores.insert(format!("dev_{k}_f1"), p.f1);
        }
    }
    let model = model.with_manifest(manifest);
    let bytes = model.to_bytes();
    rhetor_core::corpus::write_atomic(&PathBuf::from(&args[1]), &bytes)?;
    eprintln!("wrote {} ({} bytes)", args[1], bytes.len());
    if let Some(dev) = &dev {
        println!("train:\n{}", evaluate(&model, &docs));
        println!("dev:\n{}", evaluate(&model, dev));
        if env("ORACLE").is_some() {
            let [g, gc, pr, ok] = rhetor_attribution::train::cue_stats(&model, dev);
            println!(
                "dev cue heads: {g} gold ({gc} candidates), {pr} predicted, {ok} right: P {:.3} R {:.3}",
                ok as f64 / pr as f64,
                ok as f64 / g as f64
            );
            for (w, miss, spur) in rhetor_attribution::train::cue_errors(&model, dev)
                .iter()
                .take(60)
            {
                println!("  {w:>15} missed {miss:3} spurious {spur:3}");
            }
            let [g, gc, pr, ok] = rhetor_attribution::train::cue_stats(&model, &docs);
            println!(
                "train cue heads: {g} gold ({gc} candidates), {pr} predicted, {ok} right: P {:.3} R {:.3}",
                ok as f64 / pr as f64,
                ok as f64 / g as f64
            );
            println!(
                "dev from gold cues:\n{}",
                rhetor_attribution::train::evaluate_gold_cues(&model, dev)
            );
        }
    }
    Ok(())
}

/// Fold `f` of `k`: the articles `i` with `i % k != f` to train on, and the others to score.
fn fold(docs: &[GoldDoc], k: usize, f: usize) -> (Vec<GoldDoc>, Vec<GoldDoc>) {
    let (fit, held): (Vec<_>, Vec<_>) = docs.iter().enumerate().partition(|(i, _)| i % k != f);
    let docs = |v: Vec<(usize, &GoldDoc)>| v.into_iter().map(|(_, d)| d.clone()).collect();
    (docs(fit), docs(held))
}
