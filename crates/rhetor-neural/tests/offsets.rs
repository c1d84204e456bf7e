//! The shipped encoder keeps code-point offsets exact through wordpieces and windows, on text with
//! emoji, CJK, combining marks, CRLF and tabs, and aligns its pieces onto the shared tokens.

use rhetor_core::{Document, Prepared, Span};
use rhetor_model::Tagger;
use rhetor_neural::NeuralModel;
use std::path::Path;
use std::sync::OnceLock;

fn models() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models"))
}

fn encoder() -> &'static NeuralModel {
    static A: OnceLock<NeuralModel> = OnceLock::new();
    A.get_or_init(|| NeuralModel::load(&models().join("accurate.rhn")).expect("shipped encoder"))
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
    let model = encoder();
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
    let prep = Prepared::new(&doc);
    let reading = encoder().read(&prep).unwrap();
    let probs = reading.probs();
    assert!(probs.pieces.len() > 3 * 128, "several windows");
    for (t, c) in probs.tags.iter().zip(&probs.techs) {
        assert!((t.iter().sum::<f32>() - 1.0).abs() < 1e-3);
        assert!((c.iter().sum::<f32>() - 1.0).abs() < 1e-3);
    }
    // Every shared token is seen through the pieces over it, as a distribution.
    let tags = reading.token_tags();
    assert_eq!(tags.len(), prep.len());
    for t in &tags {
        let t = t.expect("every token of this text has pieces");
        assert!((t.iter().sum::<f32>() - 1.0).abs() < 1e-3, "{t:?}");
        assert!(t.iter().all(|&p| p > -1e-6));
    }
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
