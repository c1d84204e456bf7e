//! `rhetor export`: the archive's analyses in the shapes `rhetor batch` and `predict` write.
//!
//! - JSONL: per article, the Analysis JSON (`docs/analysis-json.md`) with `id`, `url`, `outlet`,
//!   `title` and `published` first ([`jsonl_line`]).
//! - CSV: one row per span, `id,start,end,technique,confidence,voice,snippet` ([`csv_rows`]).
//! - PTC: `ID<TAB>technique<TAB>start<TAB>end` rows, as `rhetor predict` writes ([`ptc_rows`]).
//!
//! The three line builders are the one place these shapes are written here, so they can be
//! pointed at `rhetor batch`'s record module (`crates/rhetor/src/records.rs`) once both exist.

use crate::{Archive, ArticleRecord, ListFilter, StoreError};
use serde_json::{Map, Value};

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// Only this outlet.
    pub outlet: Option<String>,
    /// Only articles of this day (`YYYY-MM-DD`) or later.
    pub since: Option<String>,
}

/// The output shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One Analysis JSON per line, with the article's fields added.
    Jsonl,
    /// One row per span, with a header.
    Csv,
    /// PTC technique rows.
    Ptc,
}

/// Writes every matching article, oldest first, into `out`; gives the number of articles.
pub fn export(
    archive: &dyn Archive,
    filter: &ExportFilter,
    format: ExportFormat,
    out: &mut Vec<u8>,
) -> Result<usize, StoreError> {
    // Ids first (pages are newest first), then each article: a page never holds analyses.
    let mut ids = Vec::new();
    let mut page = 1;
    loop {
        let p = archive.list(&ListFilter {
            source: filter.outlet.clone(),
            since: filter.since.clone(),
            page,
            per_page: 100,
            ..Default::default()
        })?;
        ids.extend(p.articles.iter().map(|a| a.id));
        if p.articles.is_empty() || ids.len() as i64 >= p.total {
            break;
        }
        page += 1;
    }
    ids.reverse();
    if format == ExportFormat::Csv {
        out.extend_from_slice(csv_header().as_bytes());
    }
    let mut n = 0;
    for id in ids {
        // Deleted since it was listed: left out.
        let Some(rec) = archive.get(id)? else {
            continue;
        };
        match format {
            ExportFormat::Jsonl => {
                out.extend_from_slice(jsonl_line(&rec).as_bytes());
            }
            ExportFormat::Csv => out.extend_from_slice(csv_rows(&rec).as_bytes()),
            ExportFormat::Ptc => out.extend_from_slice(ptc_rows(&rec).as_bytes()),
        }
        n += 1;
    }
    Ok(n)
}

/// One JSONL line (newline included): `id`, `url`, `outlet`, `title`, `published`, then the
/// Analysis JSON's own fields.
pub fn jsonl_line(rec: &ArticleRecord) -> String {
    let s = &rec.summary;
    let mut m = Map::new();
    m.insert("id".into(), Value::String(s.id.to_string()));
    for (k, v) in [
        ("url", &s.url),
        ("outlet", &s.source),
        ("title", &s.title),
        ("published", &s.published),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v.clone()));
        }
    }
    if let Value::Object(a) = &rec.analysis {
        for (k, v) in a {
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let mut line = Value::Object(m).to_string();
    line.push('\n');
    line
}

/// The CSV header, newline included.
pub fn csv_header() -> String {
    "id,start,end,technique,confidence,voice,snippet\n".into()
}

fn spans(rec: &ArticleRecord) -> &[Value] {
    rec.analysis["spans"].as_array().map_or(&[], Vec::as_slice)
}

fn voice(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => match o.get("quoted").and_then(Value::as_str) {
            Some(name) => format!("quoted({name})"),
            None => String::new(),
        },
        _ => String::new(),
    }
}

/// RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The article's CSV rows, one per span (`\n` line ends).
pub fn csv_rows(rec: &ArticleRecord) -> String {
    let mut out = String::new();
    for sp in spans(rec) {
        let field = |k: &str| match &sp[k] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            v => v.to_string(),
        };
        let row = [
            rec.summary.id.to_string(),
            field("start"),
            field("end"),
            field("technique"),
            field("confidence"),
            voice(&sp["voice"]),
            field("snippet"),
        ];
        let row: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// The article's PTC rows: `ID<TAB>technique<TAB>start<TAB>end`.
pub fn ptc_rows(rec: &ArticleRecord) -> String {
    let mut out = String::new();
    for sp in spans(rec) {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            rec.summary.id,
            sp["technique"].as_str().unwrap_or_default(),
            sp["start"],
            sp["end"]
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"no\"\nnow"), "\"say \"\"no\"\"\nnow\"");
    }
}
