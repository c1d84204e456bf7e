//! Article extraction from HTML: readability's algorithm (by `dom_smoothie`), then tidied text.

use url::Url;

/// Why a page yields no article.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The HTML could not be parsed.
    #[error("could not read the page: {0}")]
    Unreadable(String),
    /// Readability found no article in it.
    #[error("no article found in the page: {0}")]
    NoArticle(String),
    /// The article it found has no text.
    #[error("no article text found in the page")]
    Empty,
}

/// An article extracted from a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Article {
    /// Headline.
    pub title: Option<String>,
    /// Author line.
    pub byline: Option<String>,
    /// Publication date, as the page states it.
    pub published: Option<String>,
    /// The outlet's name, as the page states it.
    pub site_name: Option<String>,
    /// The article body as plain text, paragraphs separated by blank lines.
    pub body: String,
}

impl Article {
    /// The text analysed: the headline, a blank line and the body (as PTC articles are laid out).
    pub fn text(&self) -> String {
        match &self.title {
            Some(t) if !self.body.starts_with(t.as_str()) => format!("{t}\n\n{}", self.body),
            _ => self.body.clone(),
        }
    }
}

fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}

/// Extracts the article of an HTML page (readability's algorithm, by `dom_smoothie`). `url`, when
/// known, is the page's address.
pub fn extract(html: &str, url: Option<&str>) -> Result<Article, ExtractError> {
    let cfg = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        max_elements_to_parse: 200_000,
        ..Default::default()
    };
    let url = url.filter(|u| Url::parse(u).is_ok());
    let mut r = dom_smoothie::Readability::new(html, url, Some(cfg))
        .map_err(|e| ExtractError::Unreadable(e.to_string()))?;
    let a = r
        .parse()
        .map_err(|e| ExtractError::NoArticle(e.to_string()))?;
    let body = tidy_text(&a.text_content);
    if body.trim().is_empty() {
        return Err(ExtractError::Empty);
    }
    let site_name = clean(a.site_name);
    Ok(Article {
        title: clean(Some(a.title.to_string())).map(|t| strip_site(t, site_name.as_deref())),
        byline: clean(a.byline),
        published: clean(a.published_time),
        site_name,
        body,
    })
}

/// "Headline | Outlet" → "Headline", when the outlet is the page's site name.
fn strip_site(title: String, site: Option<&str>) -> String {
    let Some(site) = site else { return title };
    for sep in [" | ", " - ", " – ", " — ", " · ", " :: "] {
        if let Some(head) = title.strip_suffix(&format!("{sep}{site}")) {
            if !head.trim().is_empty() {
                return head.trim().to_string();
            }
        }
    }
    title
}

/// Trims lines, and collapses runs of blank lines into one.
fn tidy_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.lines() {
        let line = line.trim();
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_title_byline_and_paragraphs() {
        let html = r#"<!DOCTYPE html><html><head><title>Outrage in the capital | Daily Example</title>
<meta property="og:site_name" content="Daily Example">
<meta property="article:published_time" content="2026-03-01T10:00:00Z">
<meta name="author" content="Jane Roe">
</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Outrage in the capital</h1>
<p>The senators are a gang of traitors, he said, and everyone knows it. This is a long paragraph
of article text so that the readability scorer sees real content here, with commas, and more.</p>
<p>Take back our streets! The shameful, cowardly surrender must end now, said the speaker to
the crowd, which cheered loudly and for a long time, as crowds do, over and over again.</p>
</article><footer>Copyright</footer></body></html>"#;
        let e = extract(html, Some("https://news.example/a")).unwrap();
        assert_eq!(e.title.as_deref(), Some("Outrage in the capital"));
        assert_eq!(e.byline.as_deref(), Some("Jane Roe"));
        assert_eq!(e.site_name.as_deref(), Some("Daily Example"));
        assert!(e.published.as_deref().unwrap().starts_with("2026-03-01"));
        assert!(e.body.contains("gang of traitors"), "{}", e.body);
        assert!(e.body.contains("\n\nTake back our streets!"), "{}", e.body);
        assert!(!e.body.contains("Copyright"));
        assert!(e.text().starts_with("Outrage in the capital\n\n"));
    }

    #[test]
    fn tidy_collapses_blank_lines() {
        assert_eq!(tidy_text("  a \n\n\n b\nc  \n\n"), "a\n\nb\nc");
    }
}
