//! PTC label files (`id<TAB>technique<TAB>start<TAB>end`, or SI's three fields): any text parses
//! or fails with an error, and what parses survives a write and a read unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rhetor_core::corpus::{format_labels, parse_labels};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.labels");
    let Ok(rows) = parse_labels(text, path) else {
        return;
    };
    for with_technique in [true, false] {
        let again = parse_labels(&format_labels(&rows, with_technique), path)
            .expect("written labels read back");
        assert_eq!(again.len(), rows.len());
        for (a, b) in rows.iter().zip(&again) {
            assert_eq!((&a.id, a.span), (&b.id, b.span));
            if with_technique {
                assert_eq!(a.technique, b.technique);
            } else {
                assert_eq!(b.technique, None);
            }
        }
    }
});
