//! The feeds file: one feed per line, `OUTLET<TAB>FEED_URL`; blank lines and `#` comments allowed.

use std::path::{Path, PathBuf};

/// One watched feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSpec {
    /// The outlet its articles are filed under.
    pub outlet: String,
    /// The feed's URL (http or https).
    pub url: String,
}

/// A malformed feeds file: where, and why.
#[derive(Debug, thiserror::Error)]
pub enum FeedsFileError {
    /// The file could not be read.
    #[error("cannot read the feeds file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `OUTLET<TAB>FEED_URL`.
    #[error("{}:{line}: {message}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The file names no feed.
    #[error("{}: no feeds (one per line: OUTLET<TAB>FEED_URL)", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// Reads and checks the feeds file at `path`.
pub fn read_feeds(path: &Path) -> Result<Vec<FeedSpec>, FeedsFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| FeedsFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_feeds(&text, path)
}

/// Parses a feeds file's text; `path` names it in errors.
pub fn parse_feeds(text: &str, path: &Path) -> Result<Vec<FeedSpec>, FeedsFileError> {
    let mut feeds: Vec<FeedSpec> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let err = |message: String| FeedsFileError::Line {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((outlet, url)) = line.split_once('\t') else {
            return Err(err(
                "expected OUTLET<TAB>FEED_URL (the outlet and the URL separated by a tab)".into(),
            ));
        };
        let (outlet, url) = (outlet.trim(), url.trim());
        if outlet.is_empty() {
            return Err(err("the outlet name is empty".into()));
        }
        if url.contains('\t') {
            return Err(err("more than one tab: expected OUTLET<TAB>FEED_URL".into()));
        }
        let parsed = url::Url::parse(url).map_err(|e| err(format!("{url:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(err(format!(
                "{url:?}: feeds are read over http or https only"
            )));
        }
        if let Some(prev) = feeds.iter().find(|f| f.url == url) {
            return Err(err(format!(
                "{url} is listed twice (also for {:?})",
                prev.outlet
            )));
        }
        feeds.push(FeedSpec {
            outlet: outlet.to_string(),
            url: url.to_string(),
        });
    }
    if feeds.is_empty() {
        return Err(FeedsFileError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(feeds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<FeedSpec>, String> {
        parse_feeds(text, Path::new("feeds.tsv")).map_err(|e| e.to_string())
    }

    #[test]
    fn lines_comments_and_blank_lines() {
        let feeds = parse(
            "# outlets we watch\n\nDaily Example\thttps://daily.example/rss\r\n  \n\
             Gazette\thttp://gazette.example/atom.xml  \n",
        )
        .unwrap();
        assert_eq!(feeds.len(), 2);
        assert_eq!(feeds[0].outlet, "Daily Example");
        assert_eq!(feeds[1].url, "http://gazette.example/atom.xml");
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let e = parse("# c\nDaily https://daily.example/rss\n").unwrap_err();
        assert!(
            e.starts_with("feeds.tsv:2: expected OUTLET<TAB>FEED_URL"),
            "{e}"
        );
        let e = parse("\thttps://a.example/rss").unwrap_err();
        assert_eq!(e, "feeds.tsv:1: the outlet name is empty");
        let e = parse("A\tnot a url").unwrap_err();
        assert!(
            e.starts_with("feeds.tsv:1: \"not a url\" is not a URL"),
            "{e}"
        );
        let e = parse("A\tftp://a.example/rss").unwrap_err();
        assert!(e.contains("http or https only"), "{e}");
        let e = parse("A\thttp://a.example/rss\nB\thttp://a.example/rss").unwrap_err();
        assert!(
            e.starts_with("feeds.tsv:2: http://a.example/rss is listed twice"),
            "{e}"
        );
        let e = parse("A\thttp://a.example/rss\textra").unwrap_err();
        assert!(e.contains("more than one tab"), "{e}");
        let e = parse("# nothing\n\n").unwrap_err();
        assert!(e.contains("no feeds"), "{e}");
    }
}
