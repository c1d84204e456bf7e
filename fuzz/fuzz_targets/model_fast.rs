//! The fast tier's model loader: any file loads or fails with an error, and a model that loads
//! analyses an article without a panic (a payload can be well-formed yet inconsistent: feature
//! indices past the weights, CRFs of the wrong width, NaN weights, decoding settings out of range).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rhetor::Analyzer;
use rhetor_fast::FastModel;

fuzz_target!(|data: &[u8]| {
    let Some(bytes) = rhetor_fuzz::model_bytes(data, &rhetor_fast::manifest()) else {
        return;
    };
    let Ok(model) = FastModel::from_bytes(&bytes, "fuzz.rhm") else {
        return;
    };
    let analysis = Analyzer::from_model(model)
        .analyze(rhetor_fuzz::ARTICLE)
        .expect("a loaded model analyses");
    let n = rhetor_fuzz::ARTICLE.chars().count();
    for s in &analysis.spans {
        assert!(
            s.start < s.end && s.end <= n,
            "span {}..{} of {n}",
            s.start,
            s.end
        );
    }
});
