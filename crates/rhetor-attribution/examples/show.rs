//! Prints the attributions and speakers of a text file (or stdin with `-`).
//!
//! ```text
//! cargo run --release -p rhetor-attribution --example show -- article.txt
//! ```

use rhetor_attribution::Attributor;
use rhetor_core::Document;
use std::io::Read;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "-".into());
    let mut text = String::new();
    if path == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(&path)?;
    }
    let doc = Document::new(text)?;
    let mut att = Attributor::new();
    if let Ok(b) = std::env::var("BIASES") {
        let v: Vec<f32> = b.split(',').map(|x| x.parse()).collect::<Result<_, _>>()?;
        att = att.with_biases(v[0], v[1], v[2]);
    }
    let atts = att.extract(&doc);
    for a in &atts.attributions {
        let content: Vec<&str> = a.content.iter().map(|&s| doc.slice(s)).collect();
        println!(
            "[{}] cue {:?} source {:?} -> {}\n    content {:?}",
            if a.direct { "direct" } else { "indirect" },
            doc.slice(a.cue),
            a.source.map(|s| doc.slice(s)),
            a.speaker.as_deref().unwrap_or("-"),
            content
        );
    }
    for s in &atts.speakers {
        let m: Vec<&str> = s.mentions.iter().map(|&x| doc.slice(x)).collect();
        println!("speaker {} {:?} ({:?}): {:?}", s.id, s.name, s.kind, m);
    }
    Ok(())
}
