//! `Document`: any bytes either fail with an error or give a document whose code-point and byte
//! offsets agree everywhere, whose slices are the code points they name, and whose tokens and
//! sentences tile inside it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rhetor_core::{Document, Prepared, Span};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = Document::from_bytes(data.to_vec(), "fuzz", 1 << 20) else {
        return;
    };
    let text = doc.text();
    assert_eq!(doc.len_chars(), text.chars().count());
    let mut c = 0;
    for (b, _) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        assert_eq!(doc.byte_of(c), b);
        assert_eq!(doc.char_of(b), c);
        c += 1;
    }
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    // A few spans chosen by the input's own bytes, and the whole text.
    for (i, w) in data.windows(2).take(8).enumerate() {
        let a = (w[0] as usize * 7 + i) % (n + 1);
        let b = (w[1] as usize * 13 + i) % (n + 1);
        let span = Span::new(a.min(b), a.max(b));
        doc.check_span(span).expect("span inside");
        let want: String = chars[span.start()..span.end()].iter().collect();
        assert_eq!(doc.slice(span), want);
    }
    assert!(doc.check_span(Span::new(0, n + 1)).is_err());
    assert_eq!(doc.slice(Span::new(0, n)), text);
    let prep = Prepared::new(&doc);
    let mut last = 0;
    for t in prep.tokens() {
        assert!(t.span.start() >= last && !t.span.is_empty() && t.span.end() <= n);
        assert_eq!(t.text(text), doc.slice(t.span));
        last = t.span.end();
    }
    for k in 0..prep.len() {
        assert_eq!(prep.tokens_in(prep.token_spans()[k]), k..k + 1);
    }
});
