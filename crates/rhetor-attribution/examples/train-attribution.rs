//! Trains the attribution model on a PolNeAR-style folder and writes it.
//!
//! ```text
//! cargo run --release -p rhetor-attribution --example train-attribution -- \
//!     ../shared/data/polnear/train crates/rhetor-attribution/model/attribution.bin [DEV_DIR]
//! ```
//!
//! With `DEV_DIR` (e.g. `../shared/data/polnear/dev`) it also prints train and dev scores.
//! Environment: `EPOCHS`, `CUE_BITS`, `ARG_BITS`, `BIASES=cue,arg,source` override the defaults.

use rhetor_attribution::train::{evaluate, read_corpus, train, TrainOptions};
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
    let t0 = std::time::Instant::now();
    let docs = read_corpus(&PathBuf::from(&args[0]))?;
    eprintln!("{} training articles", docs.len());
    let mut model = train(&docs, &opts, |l| {
        eprintln!("{l} [{:.1}s]", t0.elapsed().as_secs_f64())
    });
    if let Some(b) = env("BIASES") {
        let v: Vec<f32> = b.split(',').map(|x| x.parse()).collect::<Result<_, _>>()?;
        model = model.with_biases(v[0], v[1], v[2]);
    }
    let bytes = model.to_bytes();
    rhetor_core::corpus::write_atomic(&PathBuf::from(&args[1]), &bytes)?;
    eprintln!("wrote {} ({} bytes)", args[1], bytes.len());
    if let Some(dev) = args.get(2) {
        let dev = read_corpus(&PathBuf::from(dev))?;
        println!("train:\n{}", evaluate(&model, &docs));
        println!("dev:\n{}", evaluate(&model, &dev));
    }
    Ok(())
}
