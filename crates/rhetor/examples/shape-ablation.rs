//! The span-shape ablation of BENCHMARKS.md: 5-fold cross-validation of the fast tier, decoding the
//! same out-of-fold readings under each span shape (smoothing, clean-up), each with its best
//! threshold and second-label margin.
//!
//!     cargo run --release -p rhetor --example shape-ablation -- ARTICLES LABELS "0,0,0,0,0;0.25,1,1,0,0"
//!
//! A shape is COST,TRIM,DROP,QUOTES,GAP (`Shape::parse`).

use rhetor::corpus;
use rhetor::fast::{cross_validate, TrainOptions};
use rhetor::model::decode::Shape;
use rhetor::train::decode_grid;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [articles, labels, shapes] = &args[..] else {
        return Err("usage: shape-ablation ARTICLES LABELS SHAPES".into());
    };
    let shapes: Vec<Shape> = shapes
        .split(';')
        .map(Shape::parse)
        .collect::<Result<_, _>>()?;
    let arts = corpus::read_articles(Path::new(articles))?;
    let rows = corpus::read_labels(Path::new(labels))?;
    let opts = TrainOptions::default();
    let cv = cross_validate(&arts, &rows, 5, &opts, &decode_grid(opts.decode, &shapes));
    println!("shape (cost,trim,drop,quotes,gap)  threshold second   SI F1  FLC F1");
    for shape in &shapes {
        let best = cv
            .sweep
            .iter()
            .filter(|(d, ..)| d.shape == *shape)
            .max_by(|a, b| (a.1.f1 + a.2.f1 / 4.0).total_cmp(&(b.1.f1 + b.2.f1 / 4.0)))
            .expect("each shape was tried");
        let s = best.0.shape;
        println!(
            "{:>5},{},{},{},{:<3}                      {:.3}   {:.2}   {:.4}  {:.4}",
            s.switch_cost,
            s.trim_punctuation as u8,
            s.drop_function_words as u8,
            s.extend_quotes as u8,
            s.merge_gap,
            best.0.threshold,
            best.0.second_label,
            best.1.f1,
            best.2.f1
        );
    }
    Ok(())
}
