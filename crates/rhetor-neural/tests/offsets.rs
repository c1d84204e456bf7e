//! The shipped encoder keeps code-point offsets exact through wordpieces, windows and the ensemble,
//! on text with emoji, CJK, combining marks, CRLF and tabs, and on a long real PTC article.

use rhetor_core::{Document, Span};
use rhetor_fast::FastModel;
use rhetor_neural::{Accurate, NeuralModel, Settings};
use std::path::Path;
use std::sync::{Arc, OnceLock};

fn models() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models"))
}

fn accurate() -> &'static Accurate {
    static A: OnceLock<Accurate> = OnceLock::new();
    A.get_or_init(|| {
        let neural = NeuralModel::load(&models().join("accurate.rhn")).expect("shipped encoder");
        let fast = FastModel::load(&models().join("fast.rhm")).expect("shipped fast model");
        Accurate::new(Arc::new(neural), Arc::new(fast))
    })
}

/// What the uncased tokenizer makes of a slice: lower case, accents dropped (the test text's
/// precomposed letters decomposed by hand).
fn normalized(s: &str) -> String {
    s.chars()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(|c| match c {
            'é' | 'É' => 'e',
            'ï' => 'i',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[test]
fn pieces_slice_back_to_their_own_text() {
    let text =
        "Title 😀 here\r\n\r\nThe café\u{301} said\t“no” — 中文字 and e\u{301}lite naïve!\r\n";
    let doc = Document::new(text).unwrap();
    let model = accurate().neural();
    let pieces = model.pieces(&doc).unwrap();
    let chars: Vec<char> = text.chars().collect();
    assert!(pieces.len() > 10);
    let mut last_end = 0;
    for (&id, &span) in pieces.ids.iter().zip(&pieces.spans) {
        assert!(span.start() >= last_end, "pieces are in order");
        assert!(span.end() <= chars.len());
        last_end = span.end();
        let tok = model.tokenizer().id_to_token(id).unwrap();
        if tok == "[UNK]" {
            continue;
        }
        let slice: String = chars[span.start()..span.end()].iter().collect();
        let want = tok.trim_start_matches("##");
        assert_eq!(normalized(&slice), want, "piece {tok:?} at {span:?}");
    }
    // The CJK characters are one piece each.
    let cjk = text.chars().position(|c| c == '中').unwrap();
    assert!(pieces.spans.contains(&Span::new(cjk, cjk + 1)));
}

#[test]
fn probabilities_are_distributions_and_spans_stay_in_the_text() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/sample-article.txt"
    ))
    .unwrap();
    // Long enough for several overlapping windows, with non-ASCII and CRLF in the way.
    let text = format!("“Émigrés” 😀\r\n{}", text.repeat(3).replace('\n', "\r\n"));
    let doc = Document::new(text.clone()).unwrap();
    let probs = accurate().neural().piece_probs(&doc).unwrap();
    assert!(probs.pieces.len() > 3 * 128, "several windows");
    for (t, c) in probs.tags.iter().zip(&probs.techs) {
        assert!((t.iter().sum::<f32>() - 1.0).abs() < 1e-3);
        assert!((c.iter().sum::<f32>() - 1.0).abs() < 1e-3);
    }
    let chars: Vec<char> = text.chars().collect();
    let dets = accurate().predict(&doc).unwrap();
    assert!(!dets.is_empty());
    for d in &dets {
        assert!(d.span.start() < d.span.end() && d.span.end() <= chars.len());
        assert!(d.confidence > 0.0 && d.confidence <= 1.0);
    }
}

#[test]
fn mixing_weight_zero_is_the_fast_model() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/sample-article.txt"
    ))
    .unwrap();
    let doc = Document::new(text).unwrap();
    let acc = accurate();
    let probs = acc.neural().piece_probs(&doc).unwrap();
    let s = Settings {
        span_weight: 0.0,
        technique_weight: 0.0,
        ..acc.neural().settings()
    };
    let mixed = acc.predict_from(&doc, &probs, &s);
    let d = rhetor_fast::Decode {
        threshold: s.threshold,
        second_label: s.second_label,
        ..acc.fast().decode()
    };
    let fast = acc.fast().predict_with(&doc, &d);
    assert_eq!(mixed.len(), fast.len());
    for (a, b) in mixed.iter().zip(&fast) {
        assert_eq!((a.span, a.technique), (b.span, b.technique));
    }
    // And the encoder's opinion changes the outcome when it counts fully.
    let full = Settings {
        span_weight: 1.0,
        technique_weight: 1.0,
        ..s
    };
    let neural = acc.predict_from(&doc, &probs, &full);
    assert_ne!(
        neural
            .iter()
            .map(|d| (d.span, d.technique))
            .collect::<Vec<_>>(),
        fast.iter()
            .map(|d| (d.span, d.technique))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_corrupt_encoder_file_is_refused() {
    let bytes = std::fs::read(models().join("accurate.rhn")).unwrap();
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let e = NeuralModel::from_bytes(&flipped, "flipped.rhn").unwrap_err();
    assert!(e.to_string().contains("truncated or corrupt"), "{e}");
    let e = NeuralModel::from_bytes(&bytes[..1000], "cut.rhn").unwrap_err();
    assert!(e.to_string().contains("cut.rhn"), "{e}");
}
