//! Property tests of `Document`'s offsets: for any text (ASCII, accents, combining marks, CJK,
//! emoji and ZWJ sequences, CRLF), code-point and byte offsets convert both ways, slices are the
//! code points they name, tokens tile the text in order, and labels written against a document read
//! back to the same spans. `fuzz/fuzz_targets/document.rs` checks the same on arbitrary bytes.

use proptest::prelude::*;
use rhetor_core::corpus::{format_labels, parse_labels, LabelRow};
use rhetor_core::{Document, Prepared, Span, Technique};
use std::path::Path;

/// Characters from every width of UTF-8 and the cases that break offset code: combining marks,
/// ZWJ emoji, CR LF, tabs, the BOM and characters past the BMP.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .,'-]{1,12}",
        Just("\r\n".to_string()),
        Just("\n".to_string()),
        Just("\t".to_string()),
        Just("e\u{301}".to_string()),
        Just("Ça".to_string()),
        Just("真的".to_string()),
        Just("🙂".to_string()),
        Just("👨\u{200d}👩\u{200d}👧".to_string()),
        Just("\u{feff}".to_string()),
        Just("𝔘𝔫𝔦".to_string()),
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    // Long enough to cross the 64-code-point blocks of the offset index several times.
    prop::collection::vec(piece(), 0..120).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn code_points_and_bytes_convert_both_ways(text in text()) {
        let doc = Document::new(text.clone()).unwrap();
        prop_assert_eq!(doc.len_chars(), text.chars().count());
        let boundaries: Vec<usize> = text
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(text.len()))
            .collect();
        for (c, &b) in boundaries.iter().enumerate() {
            prop_assert_eq!(doc.byte_of(c), b);
            prop_assert_eq!(doc.char_of(b), c);
        }
    }

    #[test]
    fn slices_are_the_code_points_they_name(text in text(), a in any::<usize>(), b in any::<usize>()) {
        let doc = Document::new(text.clone()).unwrap();
        let n = doc.len_chars();
        let (a, b) = (a % (n + 1), b % (n + 1));
        let span = Span::new(a.min(b), a.max(b));
        prop_assert!(doc.check_span(span).is_ok());
        let want: String = text.chars().skip(span.start()).take(span.len()).collect();
        prop_assert_eq!(doc.slice(span), want.as_str());
        prop_assert!(doc.check_span(Span::new(span.start(), n + 1)).is_err());
    }

    #[test]
    fn tokens_tile_the_text_in_order(text in text()) {
        let doc = Document::new(text.clone()).unwrap();
        let prep = Prepared::new(&doc);
        let mut last = 0;
        for (k, t) in prep.tokens().iter().enumerate() {
            prop_assert!(t.span.start() >= last);
            prop_assert!(!t.span.is_empty());
            prop_assert_eq!(t.text(&text), doc.slice(t.span));
            prop_assert_eq!(prep.tokens_in(t.span), k..k + 1);
            prop_assert!(!t.text(&text).trim().is_empty());
            last = t.span.end();
        }
    }

    #[test]
    fn bytes_decode_exactly_when_they_are_utf8(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let utf8 = std::str::from_utf8(&bytes).ok();
        match Document::from_bytes(bytes.clone(), "p", 1 << 20) {
            Ok(doc) => prop_assert_eq!(Some(doc.text()), utf8),
            Err(_) => prop_assert!(
                utf8.is_none() || bytes.contains(&0) || utf8.unwrap().trim().is_empty()
            ),
        }
    }

    #[test]
    fn labels_round_trip_against_the_document(text in text(), cuts in prop::collection::vec((any::<usize>(), any::<usize>(), 0usize..14), 0..20)) {
        let doc = Document::new(text).unwrap();
        let n = doc.len_chars();
        let rows: Vec<LabelRow> = cuts
            .iter()
            .map(|&(a, b, t)| {
                let (a, b) = (a % (n + 1), b % (n + 1));
                LabelRow {
                    id: "42".into(),
                    technique: Some(Technique::ALL[t]),
                    span: Span::new(a.min(b), a.max(b)),
                    line: 0,
                }
            })
            .collect();
        let again = parse_labels(&format_labels(&rows, true), Path::new("p.labels")).unwrap();
        prop_assert_eq!(again.len(), rows.len());
        for (r, g) in rows.iter().zip(&again) {
            prop_assert_eq!((r.span, r.technique), (g.span, g.technique));
            prop_assert!(doc.check_span(g.span).is_ok());
        }
    }
}
