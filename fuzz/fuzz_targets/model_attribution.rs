//! The attribution model's loader: any file loads or fails with an error, and a model that loads
//! extracts attributions from an article without a panic, all inside it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rhetor_attribution::Attributor;
use rhetor_core::Document;
use rhetor_model::{Manifest, ModelKind};

fuzz_target!(|data: &[u8]| {
    let manifest = Manifest::new(
        ModelKind::Attribution,
        "attribution",
        Attributor::shared().manifest().labels.clone(),
    );
    let Some(bytes) = rhetor_fuzz::model_bytes(data, &manifest) else {
        return;
    };
    let Ok(model) = Attributor::from_bytes(&bytes) else {
        return;
    };
    let doc = Document::new(rhetor_fuzz::ARTICLE).expect("article");
    let atts = model.extract(&doc);
    for a in &atts.attributions {
        let spans = a.content.iter().copied().chain([a.cue]).chain(a.source);
        for s in spans {
            doc.check_span(s)
                .expect("attribution spans lie inside the article");
        }
    }
});
