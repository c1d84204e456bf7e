//! The correction loop: a model's predictions exported as pre-annotations for the annotation tools
//! newsrooms run (Label Studio, brat), and the corrected annotations imported back as PTC articles
//! and labels to train on (`rhetor export-tasks`, `rhetor import-annotations`).
//!
//! Offsets are code points in both formats, as in rhetor. Import is strict where a silent mistake
//! would poison training: an unknown label, an offset outside the text, or a region whose stored
//! text no longer matches the text at its offsets is refused with the file and the position.
//! Overlapping regions are kept, as PTC keeps them.

pub mod brat;
pub mod label_studio;

use crate::corpus::{self, write_atomic, LabelRow};
use crate::{Analysis, Detection, Document, Error, Span, Technique, TechniqueSpan};
use std::collections::HashSet;
use std::path::Path;

/// One article to correct: its id (the `N` of `articleN.txt`, or the archive id), its text and the
/// model's detections.
#[derive(Debug, Clone)]
pub struct Task {
    /// The article's id; import writes `article<ID>.txt` and label rows with it.
    pub id: String,
    /// The text.
    pub doc: Document,
    /// The model's detections, sorted and without duplicates.
    pub detections: Vec<Detection>,
}

impl Task {
    /// A task from detections (sorted and deduplicated here).
    pub fn new(id: impl Into<String>, doc: Document, mut detections: Vec<Detection>) -> Task {
        detections.sort_by_key(|d| (d.span, d.technique));
        detections.dedup_by(|a, b| a.span == b.span && a.technique == b.technique);
        Task {
            id: id.into(),
            doc,
            detections,
        }
    }

    /// A task from a saved analysis (an archive's article).
    pub fn from_analysis(id: impl Into<String>, a: &Analysis) -> Result<Task, Error> {
        let doc = Document::new(a.text.clone())?;
        let detections = a.spans.iter().map(TechniqueSpan::detection).collect();
        Ok(Task::new(id, doc, detections))
    }

    /// How unsure the model is of this article: the mean binary entropy (bits) of its span
    /// decisions, each detection's confidence read as P(the span and technique are right). An
    /// article without detections scores 0: nothing to correct but misses, which a small
    /// correction budget finds faster where the model hesitates.
    pub fn uncertainty(&self) -> f64 {
        if self.detections.is_empty() {
            return 0.0;
        }
        let h = |p: f64| {
            let p = p.clamp(1e-9, 1.0 - 1e-9);
            -(p * p.log2() + (1.0 - p) * (1.0 - p).log2())
        };
        let sum: f64 = self.detections.iter().map(|d| h(d.confidence as f64)).sum();
        sum / self.detections.len() as f64
    }

    /// The detections as PTC rows.
    pub fn rows(&self) -> Vec<LabelRow> {
        self.detections
            .iter()
            .map(|d| LabelRow::predicted(&self.id, d))
            .collect()
    }
}

/// Sorts tasks so that the most uncertain come first (stable: ties keep their order).
pub fn order_by_uncertainty(tasks: &mut [Task]) {
    let mut keyed: Vec<(f64, usize)> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.uncertainty(), i))
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let order: Vec<Task> = keyed.iter().map(|&(_, i)| tasks[i].clone()).collect();
    for (slot, t) in tasks.iter_mut().zip(order) {
        *slot = t;
    }
}

/// One corrected article: its id, its text and the annotated rows.
#[derive(Debug, Clone)]
pub struct Corrected {
    /// The article's id.
    pub id: String,
    /// The text, as the annotation tool had it.
    pub doc: Document,
    /// The annotated spans, sorted by start, end and technique; overlaps kept.
    pub rows: Vec<LabelRow>,
}

impl Corrected {
    fn new(id: String, doc: Document, mut rows: Vec<LabelRow>) -> Corrected {
        rows.sort_by_key(|r| (r.span, r.technique));
        rows.dedup_by(|a, b| a.span == b.span && a.technique == b.technique);
        Corrected { id, doc, rows }
    }
}

/// What an import read.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// The corrected articles, in id order.
    pub articles: Vec<Corrected>,
    /// Tasks without a completed annotation, left out.
    pub skipped: usize,
}

/// Reads a technique name as a tool gives it: the PTC name, or its brat form (`,` written `.`).
pub fn parse_technique(label: &str) -> Option<Technique> {
    Technique::ALL
        .iter()
        .copied()
        .find(|t| t.name() == label || brat::type_name(*t) == label)
}

/// Checks a region of `doc` read from an annotation tool: inside the text and, when the tool
/// stored the covered text, still covering it. `Err` says what is wrong.
fn check_region(doc: &Document, span: Span, stored: Option<&str>) -> Result<(), String> {
    if span.end() > doc.len_chars() {
        return Err(format!(
            "offsets {}-{} are outside the text ({} code points)",
            span.start(),
            span.end(),
            doc.len_chars()
        ));
    }
    let Some(stored) = stored else {
        return Ok(());
    };
    let actual = doc.slice(span);
    // brat writes line breaks and tabs inside a span as spaces.
    if stored == actual || stored == rhetor_core::brat::line_text(doc, &[span]) {
        return Ok(());
    }
    Err(format!(
        "the text at {}-{} is {actual:?}, not {stored:?}: the text changed since the export",
        span.start(),
        span.end()
    ))
}

/// A safe `articleN.txt` name part: no path separators, no dots leading, no control characters.
fn check_id(id: &str, origin: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{origin}: article id {id:?} cannot name a file (use letters, digits, '-', '_', '.')"
        )))
    }
}

fn invalid(msg: String) -> Error {
    rhetor_core::Error::Invalid(msg).into()
}

/// Writes corrected articles as a PTC folder (`article<ID>.txt`, each atomically) and their rows
/// as one labels TSV (atomically, last). Refuses duplicate ids.
pub fn write_corrections(
    articles_dir: &Path,
    labels: &Path,
    imported: &[Corrected],
) -> Result<(), Error> {
    let mut seen = HashSet::new();
    for c in imported {
        if !seen.insert(c.id.as_str()) {
            return Err(invalid(format!("article id {} appears twice", c.id)));
        }
    }
    std::fs::create_dir_all(articles_dir).map_err(|e| rhetor_core::Error::io(articles_dir, e))?;
    for c in imported {
        let path = articles_dir.join(format!("article{}.txt", c.id));
        write_atomic(&path, c.doc.text().as_bytes())?;
    }
    let rows: Vec<LabelRow> = imported.iter().flat_map(|c| c.rows.clone()).collect();
    corpus::write_labels(labels, &rows, true)?;
    Ok(())
}

fn sort_articles(articles: &mut [Corrected]) {
    articles.sort_by(|a, b| corpus::id_order(&a.id, &b.id));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(s: usize, e: usize, t: Technique, confidence: f32) -> Detection {
        Detection {
            span: Span::new(s, e),
            technique: t,
            confidence,
        }
    }

    #[test]
    fn the_least_sure_articles_come_first() {
        let doc = Document::new("They are a gang of traitors.").unwrap();
        let t = Technique::LoadedLanguage;
        let sure = Task::new("1", doc.clone(), vec![det(0, 4, t, 0.99)]);
        let unsure = Task::new("2", doc.clone(), vec![det(0, 4, t, 0.5), det(5, 8, t, 0.6)]);
        let none = Task::new("3", doc.clone(), vec![]);
        assert!((unsure.uncertainty() - (1.0 + 0.971) / 2.0).abs() < 1e-3);
        assert!(sure.uncertainty() < 0.1);
        assert_eq!(none.uncertainty(), 0.0);
        let mut tasks = vec![sure, none, unsure];
        order_by_uncertainty(&mut tasks);
        let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["2", "1", "3"]);
    }

    #[test]
    fn regions_are_checked_against_the_text() {
        let doc = Document::new("Ab 😀\r\nc end").unwrap();
        assert!(check_region(&doc, Span::new(3, 4), Some("😀")).is_ok());
        assert!(check_region(&doc, Span::new(3, 7), Some("😀\r\nc")).is_ok());
        assert!(check_region(&doc, Span::new(3, 7), Some("😀  c")).is_ok());
        assert!(check_region(&doc, Span::new(3, 7), None).is_ok());
        let e = check_region(&doc, Span::new(3, 4), Some("Ab")).unwrap_err();
        assert!(e.contains("the text changed"), "{e}");
        let e = check_region(&doc, Span::new(3, 40), None).unwrap_err();
        assert!(e.contains("outside the text (11 code points)"), "{e}");
        for id in ["../x", "", ".hidden", "a/b", "a b"] {
            assert!(check_id(id, "f").is_err(), "{id}");
        }
        assert!(check_id("111111111", "f").is_ok());
        assert_eq!(
            parse_technique("Name_Calling.Labeling"),
            Some(Technique::NameCallingLabeling)
        );
        assert_eq!(parse_technique("Doubt"), Some(Technique::Doubt));
        assert_eq!(parse_technique("doubt"), None);
    }
}
