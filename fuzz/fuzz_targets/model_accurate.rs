//! The accurate tier's model loader (manifest, BERT config, settings, tokenizer JSON, safetensors
//! weights): any file loads or fails with an error, and a model that loads reads an article
//! without a panic or a hang (window and stride settings, shapes, special tokens).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rhetor_core::Document;
use rhetor_model::{Manifest, ModelKind};
use rhetor_neural::NeuralModel;

fuzz_target!(|data: &[u8]| {
    let manifest = Manifest::new(
        ModelKind::Encoder,
        "accurate",
        rhetor_model::technique_labels(),
    );
    let Some(bytes) = rhetor_fuzz::model_bytes(data, &manifest) else {
        return;
    };
    let Ok(model) = NeuralModel::from_bytes(&bytes, "fuzz.rhn") else {
        return;
    };
    let doc = Document::new(rhetor_fuzz::ARTICLE).expect("article");
    if let Ok(probs) = model.piece_probs(&doc) {
        assert_eq!(probs.tags.len(), probs.techs.len());
    }
});
