//! URL ingestion: fetch a page safely and extract its article (title, byline, date, outlet, text).
//!
//! Outbound requests refuse loopback, private, link-local (cloud metadata included), shared,
//! multicast, reserved and documentation addresses, unless [`FetchConfig::allow_private`] is set:
//! literal IPs are checked before connecting, host names after DNS resolution by the client's own
//! resolver (so the address checked is the address connected to: no rebinding window), and both on
//! every redirect, which is followed by hand. Sizes, times and redirects are limited; proxies from
//! the environment are ignored.

use futures_util::StreamExt as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
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
}

impl Default for FetchConfig {
    fn default() -> FetchConfig {
        FetchConfig {
            allow_private: false,
            allow_ips: Vec::new(),
            max_bytes: 5 * 1024 * 1024,
            timeout: Duration::from_secs(15),
            max_redirects: 5,
        }
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
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
}

/// A fetched page.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL after redirects.
    pub url: Url,
    /// The body, decoded as UTF-8 (invalid bytes replaced).
    pub body: String,
    /// True when the page is HTML (else plain text).
    pub is_html: bool,
}

/// Is `ip` a public unicast address, safe to fetch from a server?
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                   // "this" network
        || a == 10                             // private
        || a == 127                            // loopback
        || (a == 100 && (64..128).contains(&b)) // shared (CGNAT)
        || (a == 169 && b == 254)              // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)      // documentation
        || (a == 192 && b == 88 && c == 99)    // 6to4 relay
        || (a == 192 && b == 168)              // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)   // documentation
        || (a == 203 && b == 0 && c == 113)    // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) embeds an IPv4 address.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return is_public_v4(v4);
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || s[0..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
        || (s[0] & 0xfe00) == 0xfc00   // unique local (fd00:ec2::254 metadata too)
        || (s[0] & 0xffc0) == 0xfe80   // link-local
        || (s[0] & 0xffc0) == 0xfec0   // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00   // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] < 0x200) // IETF protocol assignments (Teredo etc.)
        || s[0] == 0x2002 // 6to4, can embed any IPv4 address
        || s[0] == 0x0100) // discard-only
}

#[derive(Debug)]
struct Policy {
    allow_private: bool,
    allow_ips: Vec<IpAddr>,
}

impl Policy {
    fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.allow_private || is_public(ip) || self.allow_ips.contains(&ip)
    }
}

/// The resolver error that marks a refused address (found again in the client's error chain).
#[derive(Debug)]
struct RefusedAddress(String);

impl std::fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RefusedAddress {}

/// Resolves host names and keeps only allowed addresses; none left is an error.
struct GuardedResolver {
    policy: Arc<Policy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| policy.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                let shown = addrs
                    .first()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default();
                return Err(Box::new(RefusedAddress(format!(
                    "refused: {host} resolves to {shown}, a private, loopback or link-local \
                     address (the server was not started with --allow-private-urls)"
                )))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
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
    pub fn new(config: FetchConfig) -> anyhow::Result<Fetcher> {
        let policy = Arc::new(Policy {
            allow_private: config.allow_private,
            allow_ips: config.allow_ips.clone(),
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
            }))
            .build()?;
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
                "refused: {ip} is a private, loopback or link-local address (the server was not \
                 started with --allow-private-urls)"
            )))
        }
    }

    /// Fetches `url`, following redirects by hand and checking each.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, FetchError> {
        let url = Url::parse(url.trim())
            .map_err(|e| FetchError::BadUrl(format!("not a valid URL: {e}")))?;
        match tokio::time::timeout(self.config.timeout, self.fetch_inner(url)).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(self.config.timeout)),
        }
    }

    async fn fetch_inner(&self, mut url: Url) -> Result<Fetched, FetchError> {
        for _ in 0..=self.config.max_redirects {
            self.check(&url)?;
            let resp = self
                .client
                .get(url.clone())
                .header(
                    reqwest::header::ACCEPT,
                    "text/html,application/xhtml+xml,text/plain;q=0.9",
                )
                .send()
                .await
                .map_err(|e| classify(&url, e))?;
            let status = resp.status();
            if status.is_redirection() {
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
            let max = self.config.max_bytes;
            if resp.content_length().is_some_and(|n| n > max as u64) {
                return Err(FetchError::TooLarge(max));
            }
            let mut body = Vec::new();
            let mut stream = resp.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| classify(&url, e))?;
                if body.len() + chunk.len() > max {
                    return Err(FetchError::TooLarge(max));
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Fetched {
                url,
                body: String::from_utf8_lossy(&body).into_owned(),
                is_html,
            });
        }
        Err(FetchError::Upstream(format!(
            "more than {} redirects",
            self.config.max_redirects
        )))
    }
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

/// An article extracted from a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
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

impl Extracted {
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
pub fn extract(html: &str, url: Option<&str>) -> Result<Extracted, String> {
    let cfg = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        max_elements_to_parse: 200_000,
        ..Default::default()
    };
    let url = url.filter(|u| Url::parse(u).is_ok());
    let mut r = dom_smoothie::Readability::new(html, url, Some(cfg))
        .map_err(|e| format!("could not read the page: {e}"))?;
    let a = r
        .parse()
        .map_err(|e| format!("no article found in the page: {e}"))?;
    let body = tidy_text(&a.text_content);
    if body.trim().is_empty() {
        return Err("no article text found in the page".into());
    }
    let site_name = clean(a.site_name);
    Ok(Extracted {
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
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
            "2002:7f00:1::",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public(ip), "{ip} should be refused");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_public(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn allow_list_and_flag() {
        let p = Policy {
            allow_private: false,
            allow_ips: vec!["127.0.0.1".parse().unwrap()],
        };
        assert!(p.allows("127.0.0.1".parse().unwrap()));
        assert!(p.allows("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!p.allows("127.0.0.2".parse().unwrap()));
        let open = Policy {
            allow_private: true,
            allow_ips: vec![],
        };
        assert!(open.allows("10.0.0.1".parse().unwrap()));
    }

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
