//! The inputs of `rhetor batch`, read as a stream of raw records: JSON Lines (a file, gzipped or not,
//! or stdin), a folder of `.txt` files, WARC files (`.warc`, `.warc.gz`).
//!
//! Reading is sequential and cheap (splitting lines, WARC framing); the work per record (JSON parsing,
//! HTML extraction, analysis) is done by [`Raw::analyze`] on a worker.

use crate::records::{ErrorKind, Failure, InputRecord, Meta, Outcome, RecordError};
use crate::{Analyzer, Document, Error};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// One input of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// JSON Lines on standard input (`-`).
    Stdin,
    /// A JSON Lines file (gzipped when its name ends in `.gz`).
    Jsonl(PathBuf),
    /// A folder of `.txt` files, in name order; the id is the file name without `.txt`.
    Folder(PathBuf),
    /// A WARC file (gzipped when its name ends in `.gz`): one record per HTML response.
    Warc(PathBuf),
}

impl Input {
    /// The input a command-line argument names: `-` is stdin, a folder is a folder, `*.warc` and
    /// `*.warc.gz` are WARC, anything else is JSON Lines.
    pub fn from_arg(arg: &str) -> Input {
        let p = Path::new(arg);
        let name = arg.to_ascii_lowercase();
        if arg == "-" {
            Input::Stdin
        } else if p.is_dir() {
            Input::Folder(p.to_path_buf())
        } else if name.ends_with(".warc") || name.ends_with(".warc.gz") {
            Input::Warc(p.to_path_buf())
        } else {
            Input::Jsonl(p.to_path_buf())
        }
    }

    /// Its size in bytes of input read, when known in advance (not for stdin or gzip).
    pub fn size(&self) -> Option<u64> {
        match self {
            Input::Stdin => None,
            Input::Jsonl(p) | Input::Warc(p) if is_gz(p) => None,
            Input::Jsonl(p) | Input::Warc(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Input::Folder(dir) => {
                let files = list_txt(dir).ok()?;
                Some(
                    files
                        .iter()
                        .filter_map(|(_, p)| p.metadata().ok())
                        .map(|m| m.len())
                        .sum(),
                )
            }
        }
    }

    /// Checks that the input can be opened, so that a typo fails before any work.
    pub fn check(&self) -> Result<(), Error> {
        match self {
            Input::Stdin => Ok(()),
            Input::Jsonl(p) | Input::Warc(p) => File::open(p).map(|_| ()).map_err(|e| io(p, e)),
            Input::Folder(p) => list_txt(p).map(|_| ()),
        }
    }
}

fn is_gz(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

fn io(p: &Path, e: std::io::Error) -> Error {
    rhetor_core::Error::io(p, e).into()
}

fn invalid(msg: String) -> Error {
    rhetor_core::Error::Invalid(msg).into()
}

fn list_txt(dir: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let path = entry.map_err(|e| io(dir, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(id) = name.strip_suffix(".txt") {
            if path.is_file() {
                files.push((id.to_string(), path.clone()));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// One record as read, before any work on it.
#[derive(Debug)]
pub enum Raw {
    /// A JSON Lines line (newline included).
    Line {
        /// 1-based line number in its input.
        line: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// A JSON Lines line longer than the reader keeps; it was skipped unread.
    Overlong {
        /// 1-based line number in its input.
        line: u64,
        /// Its length.
        len: u64,
    },
    /// A `.txt` file of a folder.
    File {
        /// The file name without `.txt`.
        id: String,
        /// The file.
        path: PathBuf,
    },
    /// An HTML response of a WARC file.
    Web {
        /// The record's `WARC-Target-URI`.
        uri: String,
        /// The HTTP response body, as stored.
        body: Vec<u8>,
        /// Transfer encoding "chunked" still applied to `body`.
        chunked: bool,
        /// Content encoding (`gzip`, `deflate`) still applied to `body`.
        encoding: Option<String>,
    },
}

impl Raw {
    /// Bytes of input this record took (for progress).
    pub fn input_len(&self) -> u64 {
        match self {
            Raw::Line { bytes, .. } => bytes.len() as u64,
            Raw::Overlong { len, .. } => *len,
            Raw::File { path, .. } => path.metadata().map(|m| m.len()).unwrap_or(0),
            Raw::Web { body, .. } => body.len() as u64,
        }
    }

    /// Reads and analyses the record.
    pub fn analyze(self, analyzer: &Analyzer) -> Outcome {
        match self {
            Raw::Line { line, bytes } => match InputRecord::from_json_line(&bytes, line) {
                Ok(rec) => rec.analyze(analyzer),
                Err(f) => Outcome::Failed(f),
            },
            Raw::Overlong { line, len } => Outcome::Failed(Failure {
                id: None,
                line: Some(line),
                error: RecordError::new(
                    ErrorKind::TooLong,
                    format!(
                        "line {line}: {len} bytes, over the limit of {} bytes for a text",
                        analyzer.max_bytes()
                    ),
                ),
            }),
            Raw::File { id, path } => {
                let doc = Document::read(&path, analyzer.max_bytes()).map_err(Error::from);
                Outcome::of(analyzer, id, Meta::default(), doc)
            }
            Raw::Web {
                uri,
                body,
                chunked,
                encoding,
            } => match web_article(&uri, body, chunked, encoding.as_deref()) {
                Ok((text, meta)) => InputRecord {
                    id: uri,
                    text,
                    meta,
                }
                .analyze(analyzer),
                Err(error) => Outcome::Failed(Failure {
                    id: Some(uri),
                    line: None,
                    error,
                }),
            },
        }
    }
}

/// Largest response body a WARC record may inflate to (gzip or deflate): past it the record fails
/// instead of a few hostile bytes filling memory. Far above any real article page.
pub const MAX_INFLATED_BYTES: u64 = 64 << 20;

/// The article of a WARC response ([`Raw::Web`]'s fields): the body de-chunked, inflated (at most
/// [`MAX_INFLATED_BYTES`]) and extracted as in URL ingestion (`rhetor_fetch::extract`).
pub fn web_article(
    uri: &str,
    body: Vec<u8>,
    chunked: bool,
    encoding: Option<&str>,
) -> Result<(String, Meta), RecordError> {
    let bad = |msg: String| RecordError::new(ErrorKind::NoArticle, format!("{uri}: {msg}"));
    let body = if chunked {
        dechunk(&body).ok_or_else(|| bad("bad chunked encoding".into()))?
    } else {
        body
    };
    let body = match encoding {
        Some("gzip") | Some("x-gzip") => inflate(MultiGzDecoder::new(&body[..]))
            .map_err(|e| bad(format!("bad gzip body: {e}")))?,
        Some("deflate") => inflate(flate2::read::ZlibDecoder::new(&body[..]))
            .map_err(|e| bad(format!("bad deflate body: {e}")))?,
        _ => body,
    };
    // Pages declare many charsets; UTF-8 is by far the most common, and a few replaced bytes do not
    // move the offsets of the extracted text, which is what is analysed.
    let html = String::from_utf8_lossy(&body);
    let article = rhetor_fetch::extract(&html, Some(uri)).map_err(|e| bad(e.to_string()))?;
    let meta = Meta {
        url: Some(uri.to_string()),
        outlet: article.site_name.clone(),
        title: article.title.clone(),
        published: article.published.clone(),
    };
    Ok((article.text(), meta))
}

fn inflate(r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut v = Vec::new();
    r.take(MAX_INFLATED_BYTES + 1).read_to_end(&mut v)?;
    if v.len() as u64 > MAX_INFLATED_BYTES {
        return Err(std::io::Error::other(format!(
            "inflates to more than {} MiB",
            MAX_INFLATED_BYTES >> 20
        )));
    }
    Ok(v)
}

/// Undoes HTTP chunked transfer encoding.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_field = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(size_field.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size..)?.strip_prefix(b"\r\n").unwrap_or(&b[size..]);
    }
}

/// The raw records of a list of inputs, in order; an `Err` (an input that cannot be read) ends it.
pub struct Records {
    inputs: std::vec::IntoIter<Input>,
    current: Option<Source>,
    max_line: usize,
}

enum Source {
    Lines {
        reader: Box<dyn BufRead + Send>,
        path: PathBuf,
        line: u64,
    },
    Files(std::vec::IntoIter<(String, PathBuf)>),
    Warc {
        records: Box<warc::RecordIter<Box<dyn BufRead + Send>>>,
        path: PathBuf,
    },
}

impl Records {
    /// Reads `inputs` in order. JSON Lines lines longer than `max_line` bytes are not kept: they
    /// become [`Raw::Overlong`].
    pub fn new(inputs: Vec<Input>, max_line: usize) -> Records {
        Records {
            inputs: inputs.into_iter(),
            current: None,
            max_line,
        }
    }

    fn open(input: Input) -> Result<Source, Error> {
        let open = |p: &Path| -> Result<Box<dyn BufRead + Send>, Error> {
            let f = File::open(p).map_err(|e| io(p, e))?;
            Ok(if is_gz(p) {
                Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(f)))
            } else {
                Box::new(BufReader::with_capacity(1 << 16, f))
            })
        };
        Ok(match input {
            Input::Stdin => Source::Lines {
                reader: Box::new(BufReader::with_capacity(1 << 16, std::io::stdin())),
                path: PathBuf::from("<stdin>"),
                line: 0,
            },
            Input::Jsonl(p) => Source::Lines {
                reader: open(&p)?,
                path: p,
                line: 0,
            },
            Input::Folder(p) => Source::Files(list_txt(&p)?.into_iter()),
            Input::Warc(p) => Source::Warc {
                records: Box::new(warc::WarcReader::new(open(&p)?).iter_records()),
                path: p,
            },
        })
    }
}

impl Iterator for Records {
    type Item = Result<Raw, Error>;

    fn next(&mut self) -> Option<Result<Raw, Error>> {
        loop {
            let Some(source) = &mut self.current else {
                match Records::open(self.inputs.next()?) {
                    Ok(s) => self.current = Some(s),
                    Err(e) => return Some(Err(e)),
                }
                continue;
            };
            let next = match source {
                Source::Lines { reader, path, line } => {
                    next_line(reader.as_mut(), path, line, self.max_line).transpose()
                }
                Source::Files(files) => files.next().map(|(id, path)| Ok(Raw::File { id, path })),
                Source::Warc { records, path } => next_response(records, path).transpose(),
            };
            match next {
                Some(item) => return Some(item),
                None => self.current = None,
            }
        }
    }
}

/// The next non-blank line, or an overlong one.
fn next_line(
    r: &mut (dyn BufRead + Send),
    path: &Path,
    line: &mut u64,
    max: usize,
) -> Result<Option<Raw>, Error> {
    loop {
        let mut buf = Vec::new();
        let mut len = 0u64;
        loop {
            let avail = r.fill_buf().map_err(|e| io(path, e))?;
            if avail.is_empty() {
                break;
            }
            let (take, end) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            len += take as u64;
            if len <= max as u64 {
                buf.extend_from_slice(&avail[..take]);
            } else {
                buf = Vec::new();
            }
            r.consume(take);
            if end {
                break;
            }
        }
        if len == 0 {
            return Ok(None);
        }
        *line += 1;
        if len > max as u64 {
            return Ok(Some(Raw::Overlong { line: *line, len }));
        }
        // Blank lines (a trailing one, say) are not records.
        if !buf.iter().all(u8::is_ascii_whitespace) {
            return Ok(Some(Raw::Line {
                line: *line,
                bytes: buf,
            }));
        }
    }
}

/// The next HTML response of a WARC file.
fn next_response(
    records: &mut warc::RecordIter<Box<dyn BufRead + Send>>,
    path: &Path,
) -> Result<Option<Raw>, Error> {
    for rec in records {
        let rec = rec.map_err(|e| invalid(format!("{}: bad WARC record: {e}", path.display())))?;
        if *rec.warc_type() != warc::RecordType::Response {
            continue;
        }
        // The raw header bytes: `Record::header` of warc 0.4 panics on a value that is not UTF-8.
        let (head, payload) = rec.into_raw_parts();
        let Some(uri) = head.as_ref().get(&warc::WarcHeader::TargetURI) else {
            continue;
        };
        let uri = String::from_utf8_lossy(uri)
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string();
        let Some(split) = payload.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&payload[..split]).to_ascii_lowercase();
        let header = |name: &str| {
            head.lines()
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim().to_string())
        };
        let is_html = header("content-type")
            .is_some_and(|t| t.contains("text/html") || t.contains("application/xhtml"));
        if !is_html {
            continue;
        }
        return Ok(Some(Raw::Web {
            chunked: header("transfer-encoding").is_some_and(|t| t.contains("chunked")),
            encoding: header("content-encoding").filter(|e| e != "identity"),
            body: payload[split + 4..].to_vec(),
            uri,
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk(b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\n\r\n").as_deref(),
            Some(&b"Wikipedia"[..])
        );
        assert_eq!(dechunk(b"zz\r\n"), None);
    }

    #[test]
    fn lines_are_split_blank_ones_skipped_and_long_ones_not_kept() {
        let dir = tempfile_dir();
        let p = dir.join("in.jsonl");
        let long = "x".repeat(100);
        std::fs::write(&p, format!("{{\"a\":1}}\n\n  \n{long}\n{{\"b\":2}}")).unwrap();
        let got: Vec<Raw> = Records::new(vec![Input::Jsonl(p)], 50)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(got.len(), 3);
        assert!(matches!(&got[0], Raw::Line { line: 1, bytes } if bytes == b"{\"a\":1}\n"));
        assert!(matches!(&got[1], Raw::Overlong { line: 4, len: 101 }));
        assert!(matches!(&got[2], Raw::Line { line: 5, bytes } if bytes == b"{\"b\":2}"));
        let _ = std::fs::remove_dir_all(dir);
    }

    fn warc_response(uri: &[u8], http: &[u8]) -> Vec<u8> {
        let mut r = b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: <".to_vec();
        r.extend_from_slice(uri);
        r.extend_from_slice(
            b">\r\nWARC-Date: 2026-12-01T10:00:00Z\r\nWARC-Record-ID: <urn:uuid:1>\r\n",
        );
        r.extend_from_slice(format!("Content-Length: {}\r\n\r\n", http.len()).as_bytes());
        r.extend_from_slice(http);
        r.extend_from_slice(b"\r\n\r\n");
        r
    }

    /// Found by fuzzing (`fuzz/fuzz_targets/batch.rs`): a WARC record whose `WARC-Target-URI` is
    /// not UTF-8 panicked inside the warc crate (`Record::header` unwraps). It is read lossily.
    #[test]
    fn warc_target_uri_that_is_not_utf8_is_read_lossily() {
        let dir = tempfile_dir();
        let p = dir.join("bad-uri.warc");
        let http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>Hello.</p>";
        std::fs::write(
            &p,
            warc_response(b"https://n\xff\xfews.example.com/a", http),
        )
        .unwrap();
        let got: Vec<Raw> = Records::new(vec![Input::Warc(p)], 1 << 16)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(got.len(), 1);
        assert!(
            matches!(&got[0], Raw::Web { uri, .. } if uri == "https://n\u{fffd}\u{fffd}ws.example.com/a"),
            "{got:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A gzip body that inflates past [`MAX_INFLATED_BYTES`] fails its record instead of filling
    /// memory (a few hundred kilobytes of zeros inflate to the limit).
    #[test]
    fn gzip_bomb_in_a_warc_response_fails_its_record() {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(MAX_INFLATED_BYTES >> 20) + 1 {
            gz.write_all(&zeros).unwrap();
        }
        let body = gz.finish().unwrap();
        let e = web_article("https://x.example/", body, false, Some("gzip")).unwrap_err();
        assert!(e.message.contains("inflates to more than 64 MiB"), "{e:?}");
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "rhetor-sources-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
