//! brat standoff (`.ann`): the lenient attribution reader and the `T`-line parser take any text, and
//! writing what was read against a document gives a file that reads back to the same attributions.
//!
//! Input: the document, a NUL byte, then the `.ann` text (no NUL: the whole input is both).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rhetor_attribution::brat::{format_ann, parse_ann};
use rhetor_core::brat::parse_text_bound;
use rhetor_core::Document;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (text, ann) = input.split_once('\0').unwrap_or((input, input));
    for line in ann.lines() {
        if let Some(Ok(t)) = parse_text_bound(line) {
            assert!(t.id.starts_with('T'));
            assert!(!t.spans.is_empty());
        }
    }
    let atts = parse_ann(ann);
    let Ok(doc) = Document::new(text) else {
        return;
    };
    let written = format_ann(&doc, &atts);
    for line in written.lines().filter(|l| l.starts_with('T')) {
        let t = parse_text_bound(line)
            .expect("a T line")
            .expect("written T lines parse");
        for s in &t.spans {
            doc.check_span(*s)
                .expect("written spans lie inside the document");
        }
    }
    // Writing is lossy once (fragments split at line breaks and trimmed), then a fixed point.
    let once = parse_ann(&written);
    let twice = parse_ann(&format_ann(&doc, &once));
    assert_eq!(once, twice);
});
