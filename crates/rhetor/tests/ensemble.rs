//! The ensemble above both tiers: with the encoder's weights at 0 it decodes exactly as the fast
//! model alone; at 1 the encoder changes the outcome; spans stay inside the text on non-ASCII, CRLF
//! input long enough for several encoder windows.

use rhetor::ensemble::{Ensemble, Mixing};
use rhetor::Prepared;
use rhetor::{builtin_fast, builtin_partner, Analyzer, Document};

fn sample() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/sample-article.txt"
    ))
    .unwrap()
}

fn accurate() -> Ensemble {
    Analyzer::load_default().unwrap().models().clone()
}

#[test]
fn mixing_weight_zero_is_the_fast_model() {
    let doc = Document::new(sample()).unwrap();
    let prep = Prepared::new(&doc);
    let acc = accurate();
    let readings = acc.read(&prep).unwrap();
    let m = acc.mixing();
    let zero = Mixing {
        span_weight: 0.0,
        technique_weight: 0.0,
        ..m
    };
    let mixed = readings.detect(&zero);
    let fast = builtin_partner().unwrap().predict_with(&doc, &zero.decode);
    let key = |v: &[rhetor::Detection]| v.iter().map(|d| (d.span, d.technique)).collect::<Vec<_>>();
    assert!(!fast.is_empty());
    assert_eq!(key(&mixed), key(&fast));
    // And the encoder's opinion changes the outcome when it counts fully.
    let full = Mixing {
        span_weight: 1.0,
        technique_weight: 1.0,
        ..m
    };
    assert_ne!(key(&readings.detect(&full)), key(&fast));
}

#[test]
fn the_fast_ensemble_is_the_fast_model() {
    let doc = Document::new(sample()).unwrap();
    let fast = builtin_fast().unwrap();
    let ens = Ensemble::fast(fast.clone());
    let a = ens.detect(&Prepared::new(&doc)).unwrap();
    let b = fast.predict(&doc);
    // The ensemble reports calibrated confidences: the model's map applied to the raw scores.
    let cal = fast
        .manifest()
        .calibration
        .as_ref()
        .expect("a calibrated model");
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (x.span, x.technique, x.confidence),
            (y.span, y.technique, cal.apply(y.confidence))
        );
    }
}

/// The accurate tier's partner is its own model, not the (distilled) fast tier: the two tiers
/// load different models, and the fast tier alone is the built-in fast model.
#[test]
fn the_accurate_tier_is_ensembled_with_its_partner_not_the_fast_tier() {
    let acc = Analyzer::load_default().unwrap();
    let fast = Analyzer::load_fast().unwrap();
    assert!(std::ptr::eq(acc.fast_model(), &*builtin_partner().unwrap()));
    assert!(std::ptr::eq(fast.fast_model(), &*builtin_fast().unwrap()));
    // Different models read the same article differently.
    let doc = Document::new(sample()).unwrap();
    let key = |v: Vec<rhetor::Detection>| {
        v.into_iter()
            .map(|d| (d.span, d.technique))
            .collect::<Vec<_>>()
    };
    assert_ne!(
        key(builtin_partner().unwrap().predict(&doc)),
        key(builtin_fast().unwrap().predict(&doc))
    );
}

#[test]
fn spans_stay_in_the_text_over_several_windows() {
    // Long enough for several overlapping windows, with non-ASCII and CRLF in the way.
    let text = format!(
        "“Émigrés” 😀\r\n{}",
        sample().repeat(3).replace('\n', "\r\n")
    );
    let doc = Document::new(text.clone()).unwrap();
    let dets = accurate().detect(&Prepared::new(&doc)).unwrap();
    let n = text.chars().count();
    assert!(!dets.is_empty());
    for d in &dets {
        assert!(d.span.start() < d.span.end() && d.span.end() <= n);
        assert!(d.confidence > 0.0 && d.confidence <= 1.0);
    }
}
