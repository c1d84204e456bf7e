//! Rewrites a format-1 model file (rhetor 0.1 before the shared container) as format 2, payload
//! unchanged: `cargo run -p rhetor-model --example upgrade-v1 -- IN OUT fast|encoder`.
use rhetor_model::{container, technique_labels, ModelKind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, kind] = args.as_slice() else {
        return Err("usage: upgrade-v1 IN OUT fast|encoder".into());
    };
    let kind = match kind.as_str() {
        "fast" => ModelKind::Fast,
        "encoder" => ModelKind::Encoder,
        k => return Err(format!("unknown kind {k:?}: fast or encoder").into()),
    };
    let bytes = std::fs::read(input)?;
    let out = container::upgrade_v1(&bytes, input, kind, technique_labels())?;
    let tmp = format!("{output}.tmp");
    std::fs::write(&tmp, out)?;
    std::fs::rename(tmp, output)?;
    Ok(())
}
