//! `rhetor watch`'s inputs: feed documents (RSS 2.0, RSS 1.0, Atom) and the feeds file
//! (`OUTLET<TAB>URL` lines). Any bytes give items or an error; every item's link is absolute http(s).
//!
//! The first byte chooses: even, a feed document; odd, a feeds file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let base = Url::parse("https://news.example.com/feeds/world.xml").expect("base");
        if let Ok(items) = rhetor_watch::parse_items(rest, &base) {
            for item in items {
                let u = Url::parse(&item.url).expect("item links are absolute URLs");
                assert!(matches!(u.scheme(), "http" | "https"), "{}", item.url);
            }
        }
    } else if let Ok(text) = std::str::from_utf8(rest) {
        if let Ok(feeds) = rhetor_watch::parse_feeds(text, Path::new("feeds.tsv")) {
            assert!(!feeds.is_empty());
            for f in feeds {
                assert!(!f.outlet.trim().is_empty());
                let u = Url::parse(&f.url).expect("feed URLs parse");
                assert!(matches!(u.scheme(), "http" | "https"), "{}", f.url);
            }
        }
    }
});
