//! Article extraction from HTML (URL ingestion, `{"html"}` requests, WARC responses): any page,
//! with or without its address, gives an article or an error, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Fetched pages reach the extractor as lossily decoded UTF-8; so does this.
    let html = String::from_utf8_lossy(data);
    for url in [None, Some("https://news.example.com/2026/12/02/story.html")] {
        if let Ok(article) = rhetor_fetch::extract(&html, url) {
            let text = article.text();
            assert!(!text.contains('\0') || html.contains('\0'));
        }
    }
});
