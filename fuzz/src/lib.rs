//! What the fuzz targets share: model containers around fuzzed payloads, and the text every loaded
//! model is run on.

use rhetor_model::{container, Manifest};

/// A short article that exercises sentences, quotes, a cue and non-ASCII text.
pub const ARTICLE: &str = "The senator said the deal was \"a shameful, cowardly surrender\".\n\
    Critics, according to the paper, called them a gang of traitors — again and again.\n\
    Ça suffit, 真的, they wrote. 🙂\n";

/// Model-file bytes from a fuzz input. The first byte chooses: even, the rest is the whole file
/// (header, manifest and checksum fuzzed too, so most inputs stop at the checks); odd, the rest is
/// the payload, wrapped in a valid container with `manifest`, so the fuzzer reaches the decoders.
pub fn model_bytes(data: &[u8], manifest: &Manifest) -> Option<Vec<u8>> {
    let (&mode, rest) = data.split_first()?;
    Some(if mode % 2 == 0 {
        rest.to_vec()
    } else {
        container::encode_raw(manifest, rest)
    })
}
