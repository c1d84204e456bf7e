//! A feed's items: RSS 2.0, RSS 1.0 (RDF) and Atom, read with `feed-rs`.

use url::Url;

/// One item of a feed, as the feed describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    /// The article's address (absolute).
    pub url: String,
    /// Headline, if the feed gives one.
    pub title: Option<String>,
    /// Author, if the feed gives one.
    pub author: Option<String>,
    /// Publication (else update) time, RFC 3339, if the feed gives one.
    pub published: Option<String>,
}

/// Why a feed could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not a valid RSS or Atom feed: {0}")]
pub struct FeedParseError(String);

/// The items of a feed document fetched from `base` (relative links resolved against it);
/// items without a usable http(s) link are left out.
pub fn parse_items(body: &[u8], base: &Url) -> Result<Vec<FeedItem>, FeedParseError> {
    let feed = feed_rs::parser::parse(body).map_err(|e| FeedParseError(e.to_string()))?;
    let mut items = Vec::with_capacity(feed.entries.len());
    for entry in feed.entries {
        // Atom: the `alternate` link (or one without rel); RSS: `<link>`; else a permalink id.
        let href = entry
            .links
            .iter()
            .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
            .or(entry.links.first())
            .map(|l| l.href.clone())
            .or_else(|| Some(entry.id.clone()).filter(|id| id.starts_with("http")));
        let Some(url) = href.and_then(|h| base.join(h.trim()).ok()) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let text = |t: Option<feed_rs::model::Text>| {
            t.map(|t| t.content.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        items.push(FeedItem {
            url: url.to_string(),
            title: text(entry.title),
            author: entry
                .authors
                .first()
                .map(|p| p.name.trim().to_string())
                .filter(|s| !s.is_empty()),
            published: entry.published.or(entry.updated).map(|d| d.to_rfc3339()),
        });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://news.example/feeds/").unwrap()
    }

    #[test]
    fn rss2_atom_and_rss1() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>D</title>
          <item><title>One</title><link>http://news.example/a/1</link><author>ann@news.example (Ann)</author>
          <pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate></item>
          <item><title>No link</title></item>
          <item><title>Rel</title><link>/a/2</link></item></channel></rss>"#;
        let items = parse_items(rss, &base()).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].title.as_deref(), Some("One"));
        assert_eq!(
            items[0].published.as_deref(),
            Some("2026-12-01T10:00:00+00:00")
        );
        assert_eq!(items[1].url, "http://news.example/a/2");

        let atom = br#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
          <title>G</title><id>urn:g</id><updated>2026-12-01T00:00:00Z</updated>
          <entry><title>Two</title><id>urn:2</id><link rel="alternate" href="http://news.example/b/2"/>
          <link rel="edit" href="http://news.example/edit/2"/><updated>2026-11-30T09:30:00Z</updated>
          <author><name>Bo</name></author></entry></feed>"#;
        let items = parse_items(atom, &base()).unwrap();
        assert_eq!(items[0].url, "http://news.example/b/2");
        assert_eq!(items[0].author.as_deref(), Some("Bo"));
        assert_eq!(
            items[0].published.as_deref(),
            Some("2026-11-30T09:30:00+00:00")
        );

        let rdf = br#"<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
          xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://news.example/"><title>R</title>
          <link>http://news.example/</link><description>d</description></channel>
          <item rdf:about="http://news.example/c/3"><title>Three</title><link>http://news.example/c/3</link></item>
          </rdf:RDF>"#;
        let items = parse_items(rdf, &base()).unwrap();
        assert_eq!(items[0].url, "http://news.example/c/3");
        assert_eq!(items[0].title.as_deref(), Some("Three"));
    }

    #[test]
    fn bad_xml_is_an_error() {
        assert!(parse_items(b"<rss><channel><item>", &base()).is_err());
        assert!(parse_items(b"<html>not a feed</html>", &base()).is_err());
    }
}
