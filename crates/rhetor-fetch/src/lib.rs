//! URL ingestion: fetch a page safely and extract its article (title, byline, date, outlet, text).
//!
//! [`Fetcher::fetch`] fetches a URL and extracts its article; [`Fetcher::fetch_page`] stops at the
//! page, for callers that schedule the (CPU-bound) extraction themselves with [`Page::into_article`]
//! or [`extract`], which also reads HTML that was not fetched.
//!
//! Outbound requests refuse loopback, private, link-local (cloud metadata included), shared,
//! multicast, reserved and documentation addresses, unless [`FetchConfig::allow_private`] is set:
//! literal IPs are checked before connecting, host names after DNS resolution by the client's own
//! resolver (so the address checked is the address connected to: no rebinding window), and both on
//! every redirect, which is followed by hand. Sizes, times and redirects are limited; proxies from
//! the environment are ignored.
//!
//! ```
//! let html = r#"<html><head><title>Outrage | Daily Example</title>
//! <meta property="og:site_name" content="Daily Example"></head><body><article><h1>Outrage</h1>
//! <p>The senators are a gang of traitors, he said, and everyone knows it. This is a long paragraph
//! of article text so that the readability scorer sees real content here, with commas, and more.</p>
//! <p>Take back our streets! The shameful, cowardly surrender must end now, said the speaker to
//! the crowd, which cheered loudly and for a long time, as crowds do, over and over again.</p>
//! </article></body></html>"#;
//! let article = rhetor_fetch::extract(html, Some("https://news.example/a")).unwrap();
//! assert_eq!(article.title.as_deref(), Some("Outrage"));
//! assert_eq!(article.site_name.as_deref(), Some("Daily Example"));
//! assert!(article.text().starts_with("Outrage\n\n"));
//! assert!(article.body.contains("gang of traitors"));
//! assert!(!rhetor_fetch::is_public("169.254.169.254".parse().unwrap()));
//! ```

#![deny(missing_docs)]

mod address;
mod extract;

pub use address::{is_public, Lookup};
pub use extract::{extract, Article, ExtractError};

use address::{GuardedResolver, Policy, RefusedAddress};
use futures_util::StreamExt as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

/// Limits and address policy of outbound fetches.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Allow every address, private ones included (`--allow-private-urls`).
    pub allow_private: bool,
    /// Addresses allowed even when private (for tests and known internal hosts).
    pub allow_ips: Vec<IpAddr>,
    /// Largest page read, in bytes.
    pub max_bytes: usize,
    /// Time limit of a whole fetch, redirects included.
    pub timeout: Duration,
    /// Redirects followed at most.
    pub max_redirects: usize,
    /// The command-line flag that sets `allow_private`, named when an address is refused
    /// (`--allow-private-urls` for `rhetor serve`, `--allow-private-addresses` for `rhetor watch`).
    pub private_flag: &'static str,
}

impl Default for FetchConfig {
    fn default() -> FetchConfig {
        FetchConfig {
            allow_private: false,
            allow_ips: Vec::new(),
            max_bytes: 5 * 1024 * 1024,
            timeout: Duration::from_secs(15),
            max_redirects: 5,
            private_flag: "--allow-private-urls",
        }
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL is malformed or not http(s).
    #[error("{0}")]
    BadUrl(String),
    /// The URL (or a redirect) leads to an address that is not allowed.
    #[error("{0}")]
    Refused(String),
    /// The page is larger than the limit.
    #[error("the page is over the limit of {0} bytes")]
    TooLarge(usize),
    /// The page is not HTML or text.
    #[error("the page is {0}, not HTML or text")]
    NotText(String),
    /// The fetch took too long.
    #[error("fetching the page took longer than {0:?}")]
    Timeout(Duration),
    /// The remote server failed or answered with an error.
    #[error("{0}")]
    Upstream(String),
    /// The page was fetched but holds no article.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// The HTTP client could not be set up.
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
}

/// A fetched page, before extraction.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL after redirects.
    pub url: Url,
    /// The body, decoded as UTF-8 (invalid bytes replaced).
    pub body: String,
    /// True when the page is HTML (else plain text).
    pub is_html: bool,
}

impl Page {
    /// The page's article: extracted when HTML (CPU-bound: run it off async threads), else the
    /// plain text as its body, with no title.
    pub fn into_article(self) -> Result<Article, ExtractError> {
        if self.is_html {
            extract(&self.body, Some(self.url.as_str()))
        } else {
            Ok(Article {
                body: self.body,
                ..Article::default()
            })
        }
    }
}

/// A fetched article and where it was found.
#[derive(Debug, Clone)]
pub struct FetchedArticle {
    /// The URL after redirects.
    pub url: Url,
    /// What the page says: headline, byline, date, outlet, body.
    pub article: Article,
}

impl FetchedArticle {
    /// The text to analyse ([`Article::text`]).
    pub fn text(&self) -> String {
        self.article.text()
    }
}

/// Fetches pages under a [`FetchConfig`].
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<Policy>,
    config: FetchConfig,
}

impl Fetcher {
    /// A fetcher with its own HTTP client.
    pub fn new(config: FetchConfig) -> Result<Fetcher, FetchError> {
        Fetcher::build(config, None)
    }

    /// A fetcher that looks host names up with `lookup` instead of the system's resolver (a
    /// hosts-style override, or a test's DNS). Every answer is still checked against the address
    /// policy, and only the allowed answers are connected to.
    pub fn with_lookup(config: FetchConfig, lookup: Lookup) -> Result<Fetcher, FetchError> {
        Fetcher::build(config, Some(lookup))
    }

    fn build(config: FetchConfig, lookup: Option<Lookup>) -> Result<Fetcher, FetchError> {
        let policy = Arc::new(Policy {
            allow_private: config.allow_private,
            allow_ips: config.allow_ips.clone(),
            flag: config.private_flag,
        });
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "rhetor/",
                env!("CARGO_PKG_VERSION"),
                " (+article analysis)"
            ))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .timeout(config.timeout)
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
                lookup,
            }))
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Fetcher {
            client,
            policy,
            config,
        })
    }

    /// Checks a URL before a request: http(s), no credentials, an allowed literal address.
    fn check(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadUrl(format!(
                "only http and https URLs can be fetched, not {}:",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::BadUrl(
                "URLs with credentials are not fetched".into(),
            ));
        }
        let ip = match url.host() {
            None => return Err(FetchError::BadUrl("the URL has no host".into())),
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(Host::Domain(_)) => return Ok(()), // checked by the resolver
        };
        if self.policy.allows(ip) {
            Ok(())
        } else {
            Err(FetchError::Refused(format!(
                "refused: {ip} is a private, loopback or link-local address (allowed only with \
                 {})",
                self.config.private_flag
            )))
        }
    }

    /// The limits and address policy this fetcher works under.
    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Fetches `url` and extracts its article (on a blocking thread, as extraction is CPU-bound).
    pub async fn fetch(&self, url: &str) -> Result<FetchedArticle, FetchError> {
        let page = self.fetch_page(url).await?;
        let url = page.url.clone();
        let article = tokio::task::spawn_blocking(move || page.into_article())
            .await
            .map_err(|e| FetchError::Client(format!("the extraction thread failed: {e}")))??;
        Ok(FetchedArticle { url, article })
    }

    /// Fetches the page at `url`, following redirects by hand and checking each.
    pub async fn fetch_page(&self, url: &str) -> Result<Page, FetchError> {
        let url = Url::parse(url.trim())
            .map_err(|e| FetchError::BadUrl(format!("not a valid URL: {e}")))?;
        match tokio::time::timeout(self.config.timeout, self.fetch_inner(url)).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(self.config.timeout)),
        }
    }

    async fn fetch_inner(&self, url: Url) -> Result<Page, FetchError> {
        let (url, resp) = self
            .get_following(url, "text/html,application/xhtml+xml,text/plain;q=0.9", &[])
            .await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(FetchError::Upstream(format!(
                "{url} answered HTTP {status}"
            )));
        }
        let ctype = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("text/html")
            .to_ascii_lowercase();
        let is_html = ctype.contains("html");
        if !is_html && !ctype.starts_with("text/plain") {
            let shown: String = ctype.chars().take(80).collect();
            return Err(FetchError::NotText(shown));
        }
        let body = self.read_body(&url, resp).await?;
        Ok(Page {
            url,
            body: String::from_utf8_lossy(&body).into_owned(),
            is_html,
        })
    }

    /// Fetches a feed under the same guards and limits, conditionally: with the validators of
    /// the last fetch, an unchanged feed answers `304 Not Modified` and no body is read.
    pub async fn fetch_feed(
        &self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<FeedFetch, FetchError> {
        let url = Url::parse(url.trim())
            .map_err(|e| FetchError::BadUrl(format!("not a valid URL: {e}")))?;
        let mut headers = Vec::new();
        if let Some(e) = etag {
            headers.push((reqwest::header::IF_NONE_MATCH, e.to_string()));
        }
        if let Some(l) = last_modified {
            headers.push((reqwest::header::IF_MODIFIED_SINCE, l.to_string()));
        }
        let work = async {
            let (url, resp) = self
                .get_following(
                    url,
                    "application/rss+xml,application/atom+xml,application/rdf+xml,\
                     application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5",
                    &headers,
                )
                .await?;
            let status = resp.status();
            if status == reqwest::StatusCode::NOT_MODIFIED {
                return Ok(FeedFetch::NotModified);
            }
            if !status.is_success() {
                return Err(FetchError::Upstream(format!(
                    "{url} answered HTTP {status}"
                )));
            }
            let header = |h| {
                resp.headers()
                    .get(h)
                    .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                    .map(str::to_string)
            };
            let etag = header(reqwest::header::ETAG);
            let last_modified = header(reqwest::header::LAST_MODIFIED);
            let body = self.read_body(&url, resp).await?;
            Ok(FeedFetch::Fetched {
                url,
                body,
                etag,
                last_modified,
            })
        };
        match tokio::time::timeout(self.config.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(self.config.timeout)),
        }
    }

    /// Sends a GET, following redirects by hand and checking each address; gives the final URL
    /// and the first answer that is not a redirect (a 304 included).
    async fn get_following(
        &self,
        mut url: Url,
        accept: &str,
        headers: &[(reqwest::header::HeaderName, String)],
    ) -> Result<(Url, reqwest::Response), FetchError> {
        for _ in 0..=self.config.max_redirects {
            self.check(&url)?;
            let mut req = self
                .client
                .get(url.clone())
                .header(reqwest::header::ACCEPT, accept);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let resp = req.send().await.map_err(|e| classify(&url, e))?;
            let status = resp.status();
            if status.is_redirection() && status != reqwest::StatusCode::NOT_MODIFIED {
                let loc = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        FetchError::Upstream(format!("{url}: redirect without a location"))
                    })?;
                url = url
                    .join(loc)
                    .map_err(|e| FetchError::Upstream(format!("{url}: bad redirect: {e}")))?;
                continue;
            }
            return Ok((url, resp));
        }
        Err(FetchError::Upstream(format!(
            "more than {} redirects",
            self.config.max_redirects
        )))
    }

    /// Reads a body up to the size limit.
    async fn read_body(&self, url: &Url, resp: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let max = self.config.max_bytes;
        if resp.content_length().is_some_and(|n| n > max as u64) {
            return Err(FetchError::TooLarge(max));
        }
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| classify(url, e))?;
            if body.len() + chunk.len() > max {
                return Err(FetchError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The answer of [`Fetcher::fetch_feed`].
#[derive(Debug, Clone)]
pub enum FeedFetch {
    /// `304 Not Modified`: the feed is as it was at the last fetch.
    NotModified,
    /// The feed's bytes, with the validators to send next time.
    Fetched {
        /// The URL after redirects.
        url: Url,
        /// The body, undecoded (feeds name their own encoding).
        body: Vec<u8>,
        /// The `ETag` header, if any.
        etag: Option<String>,
        /// The `Last-Modified` header, if any.
        last_modified: Option<String>,
    },
}

fn classify(url: &Url, e: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<RefusedAddress>() {
            return FetchError::Refused(r.0.clone());
        }
        source = s.source();
    }
    if e.is_timeout() {
        return FetchError::Upstream(format!("{url}: timed out"));
    }
    let mut msg = format!("fetching {url} failed: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    FetchError::Upstream(msg)
}
