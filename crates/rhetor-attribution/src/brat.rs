//! brat standoff, as the PolNeAR corpus writes attributions.
//!
//! `T` lines are spans (`T3<TAB>Content 22 51;60 70<TAB>text`) typed `Source`, `Cue`, `Content` or
//! `Attribution` (the last one over the cue); one `E` line ties an attribution together:
//! `E1<TAB>Attribution:T4 Source:T1 Cue:T2 Content:T3`. An attribution without a source is written as
//! PolNeAR writes it: its `T` anchor and `E` role are typed `Attribution-no-source` and it has no
//! `Source` role. Offsets are code points, end exclusive.
//!
//! Reading keeps every `E` line whose anchor role is `Attribution` or `Attribution-no-source` and that
//! has a `Content` (a second `Content2` is merged into it); other span types (`Discuss`, `Discard`),
//! notes (`#` lines) and malformed lines are skipped, as a scorer must be lenient with hand-made
//! files.

use crate::Attributions;
use rhetor_core::{Document, Error, Result, Span};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

/// One attribution as a brat file stores it: possibly discontinuous spans per role.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BratAttribution {
    /// What is said or claimed (sorted, disjoint fragments).
    pub content: Vec<Span>,
    /// The cue (said, according to, …); empty when the file gives none.
    pub cue: Vec<Span>,
    /// The source mention, when there is one.
    pub source: Option<Vec<Span>>,
}

/// Parses the text of a `.ann` file.
pub fn parse_ann(text: &str) -> Vec<BratAttribution> {
    let mut spans: HashMap<&str, Vec<Span>> = HashMap::new();
    let mut events: Vec<Vec<(&str, &str)>> = Vec::new();
    for line in text.lines() {
        let mut fields = line.split('\t');
        let (Some(id), Some(body)) = (fields.next(), fields.next()) else {
            continue;
        };
        if id.starts_with('T') {
            // Lenient: a malformed `T` line is skipped.
            if let Some(Ok(t)) = rhetor_core::brat::parse_text_bound(line) {
                spans.insert(id, t.spans);
            }
        } else if id.starts_with('E') {
            let roles: Vec<(&str, &str)> = body
                .split_whitespace()
                .filter_map(|r| r.split_once(':'))
                .collect();
            events.push(roles);
        }
    }
    let mut out = Vec::new();
    for roles in events {
        let anchor_ok = roles
            .first()
            .is_some_and(|(r, _)| *r == "Attribution" || *r == "Attribution-no-source");
        if !anchor_ok {
            continue;
        }
        let mut a = BratAttribution::default();
        let mut source: Vec<Span> = Vec::new();
        for (role, tid) in &roles[1..] {
            let Some(s) = spans.get(tid) else { continue };
            let role = role.trim_end_matches(|c: char| c.is_ascii_digit());
            match role {
                "Content" => a.content.extend_from_slice(s),
                "Cue" => a.cue.extend_from_slice(s),
                "Source" => source.extend_from_slice(s),
                _ => {}
            }
        }
        if a.content.is_empty() {
            continue;
        }
        a.content = normalize(a.content);
        a.cue = normalize(a.cue);
        if !source.is_empty() {
            a.source = Some(normalize(source));
        }
        out.push(a);
    }
    out
}

/// Sorts fragments and merges overlapping or touching ones; drops empty ones.
pub(crate) fn normalize(mut v: Vec<Span>) -> Vec<Span> {
    v.retain(|s| !s.is_empty());
    v.sort();
    let mut out: Vec<Span> = Vec::with_capacity(v.len());
    for s in v {
        match out.last_mut() {
            Some(last) if s.start() <= last.end() => {
                *last = Span::new(last.start(), last.end().max(s.end()))
            }
            _ => out.push(s),
        }
    }
    out
}

/// Reads one `.ann` file.
pub fn read_ann(path: &Path) -> Result<Vec<BratAttribution>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(parse_ann(&text))
}

/// Reads every `NAME.ann` of a folder: `NAME` → attributions, sorted by name.
pub fn read_dir(dir: &Path) -> Result<BTreeMap<String, Vec<BratAttribution>>> {
    let mut out = BTreeMap::new();
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".ann") {
            if stem.starts_with('.') {
                continue;
            }
            out.insert(stem.to_string(), read_ann(&entry.path())?);
        }
    }
    Ok(out)
}

/// Converts extracted attributions to brat form (for scoring in memory).
pub fn to_brat(atts: &Attributions) -> Vec<BratAttribution> {
    atts.attributions
        .iter()
        .map(|a| BratAttribution {
            content: normalize(a.content.clone()),
            cue: vec![a.cue],
            source: a.source.map(|s| vec![s]),
        })
        .collect()
}

/// Formats attributions as a `.ann` file (see the module docs). Fragments are split at line breaks
/// so that every `T` line's text stays on one line. An attribution with a role that has no fragment
/// inside the document is left out: its `T` lines would have no offsets, which no reader accepts.
pub fn format_ann(doc: &Document, atts: &[BratAttribution]) -> String {
    let mut out = String::new();
    let mut t = 0usize;
    let mut line = |out: &mut String, kind: &str, spans: &[Span]| -> String {
        t += 1;
        let id = format!("T{t}");
        out.push_str(&rhetor_core::brat::format_text_bound(&id, kind, doc, spans));
        id
    };
    for (e, a) in atts.iter().enumerate() {
        let content = split_lines(doc, &a.content);
        let cue = split_lines(doc, &a.cue);
        let source = a.source.as_deref().map(|s| split_lines(doc, s));
        if content.is_empty() || cue.is_empty() || source.as_ref().is_some_and(Vec::is_empty) {
            continue;
        }
        let src = source.map(|s| line(&mut out, "Source", &s));
        let cue_id = line(&mut out, "Cue", &cue);
        let content_id = line(&mut out, "Content", &content);
        let kind = if src.is_some() {
            "Attribution"
        } else {
            "Attribution-no-source"
        };
        let anchor = line(&mut out, kind, &cue);
        let _ = write!(out, "E{}\t{kind}:{anchor}", e + 1);
        if let Some(src) = src {
            let _ = write!(out, " Source:{src}");
        }
        let _ = writeln!(out, " Cue:{cue_id} Content:{content_id}");
    }
    out
}

/// Splits spans at line breaks and trims whitespace around each fragment.
fn split_lines(doc: &Document, spans: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    for &s in spans {
        if s.end() > doc.len_chars() {
            continue;
        }
        let mut start = s.start();
        for (pos, c) in (s.start()..).zip(doc.slice(s).chars()) {
            if c == '\n' || c == '\r' {
                push_trimmed(doc, Span::new(start, pos), &mut out);
                start = pos + 1;
            }
        }
        push_trimmed(doc, Span::new(start, s.end()), &mut out);
    }
    if out.is_empty() {
        // Keep an all-blank span rather than lose the role.
        out.extend(spans.iter().copied().filter(|s| s.end() <= doc.len_chars()));
    }
    out
}

fn push_trimmed(doc: &Document, s: Span, out: &mut Vec<Span>) {
    let text = doc.slice(s);
    let lead = text.chars().take_while(|c| c.is_whitespace()).count();
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return;
    }
    let len = trimmed.chars().count();
    out.push(Span::new(s.start() + lead, s.start() + lead + len));
}

/// Writes a `.ann` file atomically.
pub fn write_ann(path: &Path, doc: &Document, atts: &[BratAttribution]) -> Result<()> {
    rhetor_core::corpus::write_atomic(path, format_ann(doc, atts).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (`fuzz/fuzz_targets/brat.rs`): attributions read from an `.ann` file that
    /// belongs to a longer text were written with an empty offsets field (`T2\tCue \t`), a file
    /// that no brat reader, this one included, accepts.
    #[test]
    fn format_ann_leaves_out_attributions_outside_the_document() {
        let doc = Document::new("The senator said it.").unwrap();
        let inside = BratAttribution {
            content: vec![Span::new(17, 19)],
            cue: vec![Span::new(12, 16)],
            source: Some(vec![Span::new(0, 11)]),
        };
        let past_end = BratAttribution {
            cue: vec![Span::new(30, 34)],
            ..inside.clone()
        };
        let source_past_end = BratAttribution {
            source: Some(vec![Span::new(40, 45)]),
            ..inside.clone()
        };
        let written = format_ann(&doc, &[past_end, inside.clone(), source_past_end]);
        for line in written.lines().filter(|l| l.starts_with('T')) {
            let t = rhetor_core::brat::parse_text_bound(line).unwrap();
            assert!(t.is_ok(), "{line:?}: {t:?}");
        }
        assert_eq!(parse_ann(&written), vec![inside]);
    }
}
