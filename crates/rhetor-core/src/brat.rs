//! brat standoff text-bound annotations, the one reader and writer of `T` lines that the PolNeAR
//! attributions and the correction round trip (`rhetor export-tasks --format brat`) share.
//!
//! A `T` line is `ID<TAB>TYPE START END[;START END...]<TAB>TEXT`: offsets are code points, end
//! exclusive, fragments separated by `;`. brat stores the covered text on the line, with line
//! breaks inside a span written as spaces.

use crate::span::Span;
use crate::text::Document;

/// One `T` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextBound {
    /// `T1`, `T2`, ...
    pub id: String,
    /// The annotation type (brat's entity type).
    pub kind: String,
    /// The fragments, in the order the line gives them.
    pub spans: Vec<Span>,
    /// The text the line carries (may be absent in hand-made files).
    pub text: Option<String>,
}

/// Parses one line of an `.ann` file: `None` for lines that are not `T` lines (events, notes,
/// relations, blank lines), `Some(Err(why))` for a `T` line that is malformed.
pub fn parse_text_bound(line: &str) -> Option<Result<TextBound, String>> {
    let line = line.trim_end_matches(['\r', '\n']);
    let mut fields = line.splitn(3, '\t');
    let id = fields.next()?;
    if !id.starts_with('T') {
        return None;
    }
    let Some(body) = fields.next() else {
        return Some(Err(format!("{id}: no type and offsets after the id")));
    };
    let text = fields.next().map(str::to_string);
    let Some((kind, offsets)) = body.split_once(' ') else {
        return Some(Err(format!("{id}: no offsets after the type {body:?}")));
    };
    Some(match parse_offsets(offsets) {
        Some(spans) => Ok(TextBound {
            id: id.to_string(),
            kind: kind.to_string(),
            spans,
            text,
        }),
        None => Err(format!(
            "{id}: offsets {offsets:?} are not START END[;START END...] with START <= END"
        )),
    })
}

/// `752 760;769 800` → spans; `None` when malformed or a fragment runs backwards.
pub fn parse_offsets(s: &str) -> Option<Vec<Span>> {
    let mut out = Vec::new();
    for frag in s.split(';') {
        let mut it = frag.split_whitespace();
        let start: usize = it.next()?.parse().ok()?;
        let end: usize = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        out.push(Span::try_new(start, end)?);
    }
    Some(out)
}

/// Formats a `T` line (with its newline) for fragments of `doc`, carrying their text (joined by a
/// space, tabs and line breaks written as spaces, as brat does).
pub fn format_text_bound(id: &str, kind: &str, doc: &Document, spans: &[Span]) -> String {
    let offsets: Vec<String> = spans
        .iter()
        .map(|s| format!("{} {}", s.start(), s.end()))
        .collect();
    format!(
        "{id}\t{kind} {}\t{}\n",
        offsets.join(";"),
        line_text(doc, spans)
    )
}

/// The text a `T` line should carry for `spans` of `doc` (what [`format_text_bound`] writes).
pub fn line_text(doc: &Document, spans: &[Span]) -> String {
    let text: Vec<&str> = spans.iter().map(|&s| doc.slice(s)).collect();
    text.join(" ").replace(['\t', '\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_format_and_refuse() {
        let doc = Document::new("Ab 😀\r\nc 漢字 end").unwrap();
        let line = format_text_bound("T1", "Doubt", &doc, &[Span::new(3, 7), Span::new(8, 10)]);
        assert_eq!(line, "T1\tDoubt 3 7;8 10\t😀  c 漢字\n");
        let t = parse_text_bound(&line).unwrap().unwrap();
        assert_eq!(t.kind, "Doubt");
        assert_eq!(t.spans, [Span::new(3, 7), Span::new(8, 10)]);
        assert_eq!(t.text.as_deref(), Some(line_text(&doc, &t.spans).as_str()));
        assert!(parse_text_bound("E1\tAttribution:T1").is_none());
        assert!(parse_text_bound("#1\tAnnotatorNotes T1\tx").is_none());
        assert!(parse_text_bound("T2\tDoubt 9 3\tx").unwrap().is_err());
        assert!(parse_text_bound("T2\tDoubt").unwrap().is_err());
        assert!(parse_text_bound("T2").unwrap().is_err());
        let no_text = parse_text_bound("T3\tDoubt 1 2").unwrap().unwrap();
        assert_eq!(no_text.text, None);
    }
}
