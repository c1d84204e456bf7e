//! The record shapes of `rhetor batch`, in one place, for everything that writes "the same shapes":
//! the input record, the JSON Lines output line (an analysis or an error) and the CSV span row.
//!
//! - Input: one JSON object per line, `{"id": "…", "text": "…"}` plus optional `url`, `outlet`,
//!   `title`, `published` ([`InputRecord`], read by [`InputRecord::from_json_line`]).
//! - JSONL output ([`Outcome::write_jsonl`]): the analysis JSON of `docs/analysis-json.md` with `id`
//!   and the passed-through fields first, or `{"id": …, "error": {"kind": …, "message": …}}`.
//!   [`OutputLine::parse`] reads either back.
//! - CSV output ([`Outcome::write_csv`]): one row per span, columns [`CSV_HEADER`].

use crate::{Analysis, Analyzer, Document};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The fields passed through from an input record to its output line, unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// The article's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The outlet that published it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlet: Option<String>,
    /// Its headline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// When it was published, as the source states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
}

impl Meta {
    const FIELDS: [&'static str; 4] = ["url", "outlet", "title", "published"];

    fn field_mut(&mut self, name: &str) -> &mut Option<String> {
        match name {
            "url" => &mut self.url,
            "outlet" => &mut self.outlet,
            "title" => &mut self.title,
            _ => &mut self.published,
        }
    }
}

/// One input record: an article to analyse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    /// The caller's id for the article, copied to its output line.
    pub id: String,
    /// The article's text.
    pub text: String,
    /// Passed through.
    #[serde(flatten)]
    pub meta: Meta,
}

/// Why a record has no analysis. Serialised in snake case (`"bad_json"`, `"too_long"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line is not a JSON object.
    BadJson,
    /// The record has no `id` (or it is not a string or an integer).
    MissingId,
    /// The record has no `text`, or it is not a string.
    MissingText,
    /// A passed-through field is not a string.
    BadField,
    /// The line (or the file) is not valid UTF-8.
    InvalidUtf8,
    /// The text is over the size limit.
    TooLong,
    /// The text is empty or only white space.
    Empty,
    /// The text contains NUL bytes: not an article.
    Binary,
    /// A web page (WARC input) in which no article was found.
    NoArticle,
    /// The input could not be read.
    Io,
    /// The model failed on the text.
    Analysis,
}

impl ErrorKind {
    /// The kind as written in the JSON (`"too_long"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadJson => "bad_json",
            ErrorKind::MissingId => "missing_id",
            ErrorKind::MissingText => "missing_text",
            ErrorKind::BadField => "bad_field",
            ErrorKind::InvalidUtf8 => "invalid_utf8",
            ErrorKind::TooLong => "too_long",
            ErrorKind::Empty => "empty",
            ErrorKind::Binary => "binary",
            ErrorKind::NoArticle => "no_article",
            ErrorKind::Io => "io",
            ErrorKind::Analysis => "analysis",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong with one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordError {
    /// The kind, for programs.
    pub kind: ErrorKind,
    /// One line, for people.
    pub message: String,
}

impl RecordError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> RecordError {
        RecordError {
            kind,
            message: message.into(),
        }
    }
}

impl From<&crate::Error> for RecordError {
    fn from(e: &crate::Error) -> RecordError {
        use rhetor_core::Error as C;
        let kind = match e {
            crate::Error::Core(C::NotUtf8 { .. }) => ErrorKind::InvalidUtf8,
            crate::Error::Core(C::TooLarge { .. }) => ErrorKind::TooLong,
            crate::Error::Core(C::Empty { .. }) => ErrorKind::Empty,
            crate::Error::Core(C::Binary { .. }) => ErrorKind::Binary,
            crate::Error::Core(C::Io { .. }) => ErrorKind::Io,
            _ => ErrorKind::Analysis,
        };
        RecordError::new(kind, e.to_string())
    }
}

/// A record that could not be read: its id when it was found, the input line when it was not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The record's id, when known.
    pub id: Option<String>,
    /// The 1-based input line (JSON Lines input), written when the id is not known.
    pub line: Option<u64>,
    /// What went wrong.
    pub error: RecordError,
}

impl InputRecord {
    /// Reads one JSON Lines record. `line` is its 1-based line number, for errors without an id.
    /// Invalid UTF-8 is reported as such, with the id when the rest of the line still gives one.
    pub fn from_json_line(bytes: &[u8], line: u64) -> Result<InputRecord, Failure> {
        let fail = |id: Option<String>, kind, msg: String| Failure {
            line: if id.is_none() { Some(line) } else { None },
            id,
            error: RecordError::new(kind, msg),
        };
        let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if let Err(e) = std::str::from_utf8(bytes) {
            let id = serde_json::from_str::<Map<String, Value>>(&String::from_utf8_lossy(bytes))
                .ok()
                .and_then(|o| id_of(&o));
            let msg = format!("line {line}: not valid UTF-8 at byte {}", e.valid_up_to());
            return Err(fail(id, ErrorKind::InvalidUtf8, msg));
        }
        let mut obj: Map<String, Value> = match serde_json::from_slice(bytes) {
            Ok(o) => o,
            Err(e) => {
                return Err(fail(
                    None,
                    ErrorKind::BadJson,
                    format!("line {line}: not a JSON object: {e}"),
                ))
            }
        };
        let Some(id) = id_of(&obj) else {
            let msg = format!("line {line}: no \"id\" (a string or an integer)");
            return Err(fail(None, ErrorKind::MissingId, msg));
        };
        let text = match obj.remove("text") {
            Some(Value::String(t)) => t,
            Some(_) => {
                let msg = format!("{id}: \"text\" is not a string");
                return Err(fail(Some(id), ErrorKind::MissingText, msg));
            }
            None => {
                let msg = format!("{id}: no \"text\"");
                return Err(fail(Some(id), ErrorKind::MissingText, msg));
            }
        };
        let mut meta = Meta::default();
        for name in Meta::FIELDS {
            match obj.remove(name) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => *meta.field_mut(name) = Some(s),
                Some(_) => {
                    let msg = format!("{id}: \"{name}\" is not a string");
                    return Err(fail(Some(id), ErrorKind::BadField, msg));
                }
            }
        }
        Ok(InputRecord { id, text, meta })
    }

    /// Analyses the record: its analysis, or why it has none.
    pub fn analyze(self, analyzer: &Analyzer) -> Outcome {
        let InputRecord { id, text, meta } = self;
        let doc = Document::from_bytes(text.into_bytes(), &id, analyzer.max_bytes())
            .map_err(crate::Error::from);
        Outcome::of(analyzer, id, meta, doc)
    }
}

impl Outcome {
    /// Analyses a document read for record `id` (or reports why it could not be read): the same
    /// rules (size limit, empty, binary) whatever the input.
    pub fn of(
        analyzer: &Analyzer,
        id: String,
        meta: Meta,
        doc: Result<Document, crate::Error>,
    ) -> Outcome {
        match doc.and_then(|doc| analyzer.analyze_document(&doc)) {
            Ok(analysis) => Outcome::Analysed {
                id,
                meta,
                analysis: Box::new(analysis),
            },
            Err(e) => Outcome::Failed(Failure {
                id: Some(id),
                line: None,
                error: RecordError::from(&e),
            }),
        }
    }
}

fn id_of(obj: &Map<String, Value>) -> Option<String> {
    match obj.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

/// What became of one record: an analysis, or an error.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Analysed.
    Analysed {
        /// The record's id.
        id: String,
        /// Passed through.
        meta: Meta,
        /// The analysis.
        analysis: Box<Analysis>,
    },
    /// Not analysed.
    Failed(Failure),
}

#[derive(Serialize)]
struct AnalysisLine<'a> {
    id: &'a str,
    #[serde(flatten)]
    meta: &'a Meta,
    #[serde(flatten)]
    analysis: &'a Analysis,
}

#[derive(Serialize, Deserialize)]
struct ErrorLine {
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    error: RecordError,
}

/// The columns of a CSV output row, in order (the first row of the file).
pub const CSV_HEADER: [&str; 7] = [
    "id",
    "start",
    "end",
    "technique",
    "confidence",
    "voice",
    "snippet",
];

/// One CSV output row: a span of an analysed record. Offsets are code points, as in the JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsvRow {
    /// The record's id.
    pub id: String,
    /// First code point (inclusive).
    pub start: usize,
    /// Last code point + 1 (exclusive).
    pub end: usize,
    /// The technique, spelled as PTC spells it.
    pub technique: String,
    /// Confidence in `[0, 1]`.
    pub confidence: f32,
    /// `author`, `quoted(NAME)`, or empty when attribution did not run.
    pub voice: String,
    /// The text the span covers.
    pub snippet: String,
}

impl Outcome {
    /// The record's id, when known.
    pub fn id(&self) -> Option<&str> {
        match self {
            Outcome::Analysed { id, .. } => Some(id),
            Outcome::Failed(f) => f.id.as_deref(),
        }
    }

    /// The error, if the record failed.
    pub fn error(&self) -> Option<&RecordError> {
        match self {
            Outcome::Analysed { .. } => None,
            Outcome::Failed(f) => Some(&f.error),
        }
    }

    /// Number of spans found (0 for a failure).
    pub fn n_spans(&self) -> usize {
        match self {
            Outcome::Analysed { analysis, .. } => analysis.spans.len(),
            Outcome::Failed(_) => 0,
        }
    }

    /// Appends the record's JSON Lines output line, newline included.
    pub fn write_jsonl(&self, out: &mut Vec<u8>) {
        // Serialising these shapes into a Vec cannot fail: string keys, no non-finite floats
        // (confidences are clamped to [0, 1]).
        match self {
            Outcome::Analysed { id, meta, analysis } => {
                serde_json::to_writer(&mut *out, &AnalysisLine { id, meta, analysis })
            }
            Outcome::Failed(f) => serde_json::to_writer(
                &mut *out,
                &ErrorLine {
                    id: f.id.clone(),
                    line: f.line,
                    error: f.error.clone(),
                },
            ),
        }
        .expect("serialising to memory");
        out.push(b'\n');
    }

    /// The CSV rows of the record: one per span; none for a failure.
    pub fn csv_rows(&self) -> Vec<CsvRow> {
        let Outcome::Analysed { id, analysis, .. } = self else {
            return Vec::new();
        };
        analysis
            .spans
            .iter()
            .map(|s| CsvRow {
                id: id.clone(),
                start: s.start,
                end: s.end,
                technique: s.technique.name().to_string(),
                confidence: s.confidence,
                voice: s.voice.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                snippet: s.snippet.clone(),
            })
            .collect()
    }

    /// Appends the record's CSV rows (RFC 4180 quoting, `\n` line ends), without the header.
    pub fn write_csv(&self, out: &mut Vec<u8>) {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out);
        for row in self.csv_rows() {
            w.serialize(row).expect("writing CSV to memory");
        }
        w.flush().expect("writing CSV to memory");
    }
}

/// The CSV header row, newline included.
pub fn csv_header() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(&mut out);
        w.write_record(CSV_HEADER).expect("writing CSV to memory");
        w.flush().expect("writing CSV to memory");
    }
    out
}

/// One JSON Lines output line, read back.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputLine {
    /// An analysed record.
    Analysed {
        /// Its id.
        id: String,
        /// Passed-through fields.
        meta: Meta,
        /// The analysis.
        analysis: Box<Analysis>,
    },
    /// A failed record.
    Failed(Failure),
}

impl OutputLine {
    /// Parses one output line (with or without its newline).
    pub fn parse(line: &str) -> Result<OutputLine, serde_json::Error> {
        let mut obj: Map<String, Value> = serde_json::from_str(line)?;
        if obj.contains_key("error") {
            let e: ErrorLine = serde_json::from_value(Value::Object(obj))?;
            return Ok(OutputLine::Failed(Failure {
                id: e.id,
                line: e.line,
                error: e.error,
            }));
        }
        let id = match obj.remove("id") {
            Some(Value::String(s)) => s,
            _ => return Err(serde::de::Error::custom("no \"id\" string")),
        };
        let mut meta = Meta::default();
        for name in Meta::FIELDS {
            if let Some(v) = obj.remove(name) {
                *meta.field_mut(name) = serde_json::from_value(v)?;
            }
        }
        let analysis = serde_json::from_value(Value::Object(obj))?;
        Ok(OutputLine::Analysed {
            id,
            meta,
            analysis: Box::new(analysis),
        })
    }

    /// The record's id, when known.
    pub fn id(&self) -> Option<&str> {
        match self {
            OutputLine::Analysed { id, .. } => Some(id),
            OutputLine::Failed(f) => f.id.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(line: &[u8]) -> ErrorKind {
        InputRecord::from_json_line(line, 7).unwrap_err().error.kind
    }

    #[test]
    fn input_records_are_read_with_their_fields_and_bad_ones_get_their_kind() {
        let r = InputRecord::from_json_line(
            br#"{"id":"a1","text":"Hi.","url":"https://x.test/a","outlet":"X","extra":1}"#,
            1,
        )
        .unwrap();
        assert_eq!(r.id, "a1");
        assert_eq!(r.text, "Hi.");
        assert_eq!(r.meta.url.as_deref(), Some("https://x.test/a"));
        assert_eq!(r.meta.outlet.as_deref(), Some("X"));
        assert_eq!(r.meta.title, None);
        // Integer ids are taken as their decimal string.
        let r = InputRecord::from_json_line(b"{\"id\":42,\"text\":\"t\"}\r\n", 1).unwrap();
        assert_eq!(r.id, "42");

        assert_eq!(kind(b"not json"), ErrorKind::BadJson);
        assert_eq!(kind(b"[1,2]"), ErrorKind::BadJson);
        assert_eq!(kind(br#"{"text":"t"}"#), ErrorKind::MissingId);
        assert_eq!(kind(br#"{"id":"a"}"#), ErrorKind::MissingText);
        assert_eq!(kind(br#"{"id":"a","text":3}"#), ErrorKind::MissingText);
        assert_eq!(
            kind(br#"{"id":"a","text":"t","url":3}"#),
            ErrorKind::BadField
        );
        let f = InputRecord::from_json_line(b"{\"id\":\"u\",\"text\":\"caf\xe9\"}", 3).unwrap_err();
        assert_eq!(f.error.kind, ErrorKind::InvalidUtf8);
        assert_eq!(f.id.as_deref(), Some("u"), "the id survives the bad bytes");
        assert_eq!(f.line, None);
        let f = InputRecord::from_json_line(b"{oops", 3).unwrap_err();
        assert_eq!((f.id, f.line), (None, Some(3)));
    }

    #[test]
    fn outcomes_round_trip_through_jsonl_and_give_csv_rows() {
        let an = Analyzer::load_fast().unwrap();
        let rec = InputRecord {
            id: "r1".into(),
            text: "They are a gang of traitors and cowards, \"he said\", 😠.".into(),
            meta: Meta {
                title: Some("T".into()),
                ..Meta::default()
            },
        };
        let out = rec.clone().analyze(&an);
        let mut buf = Vec::new();
        out.write_jsonl(&mut buf);
        let line = String::from_utf8(buf).unwrap();
        assert!(line.starts_with(r#"{"id":"r1","title":"T","schema_version":1,"#));
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let Outcome::Analysed { analysis, .. } = &out else {
            panic!("analysed")
        };
        assert_eq!(**analysis, an.analyze(&rec.text).unwrap());
        match OutputLine::parse(&line).unwrap() {
            OutputLine::Analysed {
                id,
                meta,
                analysis: back,
            } => {
                assert_eq!((id.as_str(), &meta), ("r1", &rec.meta));
                assert_eq!(back, *analysis);
            }
            other => panic!("{other:?}"),
        }
        assert!(!analysis.spans.is_empty());
        let mut csv = csv_header();
        out.write_csv(&mut csv);
        let mut r = csv::Reader::from_reader(&csv[..]);
        let rows: Vec<CsvRow> = r.deserialize().map(|r| r.unwrap()).collect();
        assert_eq!(rows, out.csv_rows());
        assert_eq!(rows.len(), analysis.spans.len());
        assert_eq!(rows[0].snippet, analysis.spans[0].snippet);

        let bad = InputRecord {
            id: "e".into(),
            text: " \n".into(),
            meta: Meta::default(),
        }
        .analyze(&an);
        assert_eq!(bad.error().unwrap().kind, ErrorKind::Empty);
        let mut buf = Vec::new();
        bad.write_jsonl(&mut buf);
        let s = String::from_utf8(buf).unwrap();
        assert!(
            s.starts_with(r#"{"id":"e","error":{"kind":"empty","message":"#),
            "{s}"
        );
        assert_eq!(
            OutputLine::parse(&s).unwrap(),
            OutputLine::Failed(Failure {
                id: Some("e".into()),
                line: None,
                error: bad.error().unwrap().clone()
            })
        );
        assert!(bad.csv_rows().is_empty());
    }
}
