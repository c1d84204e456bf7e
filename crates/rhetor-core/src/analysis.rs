//! What an analysis of one text says: technique spans with confidences, and counts.

use crate::span::Span;
use crate::taxonomy::Technique;
use crate::text::Document;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the JSON written by [`Analysis`]. Bump it when a field changes meaning or disappears;
/// adding a field does not bump it.
pub const SCHEMA_VERSION: u32 = 1;

/// One technique found at one span, as a model predicts it (before the text is attached).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Where, in code points.
    pub span: Span,
    /// Which technique.
    pub technique: Technique,
    /// The model's confidence in the span and its technique, in `[0, 1]`.
    pub confidence: f32,
}

/// A technique span in an [`Analysis`], with the text it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TechniqueSpan {
    /// First code point (inclusive).
    pub start: usize,
    /// Last code point + 1 (exclusive).
    pub end: usize,
    /// The technique, spelled as PTC spells it.
    pub technique: Technique,
    /// Confidence in `[0, 1]`.
    pub confidence: f32,
    /// The text covered by the span.
    pub snippet: String,
}

impl TechniqueSpan {
    /// The span as a [`Span`].
    pub fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }
}

/// The result of analysing one text. Serialises to the versioned JSON schema documented in
/// `docs/analysis-json.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Name and version of the model that produced it.
    pub model: String,
    /// Length of `text` in code points.
    pub length: usize,
    /// The analysed text, unchanged.
    pub text: String,
    /// Technique spans sorted by start, then end, then technique. Spans may overlap and the same
    /// span may carry several techniques.
    pub spans: Vec<TechniqueSpan>,
    /// Number of spans per technique (techniques with none are left out).
    pub counts: BTreeMap<String, usize>,
}

impl Analysis {
    /// Builds an analysis from a document and a model's detections (deduplicated and sorted).
    pub fn new(doc: &Document, model: &str, mut detections: Vec<Detection>) -> Analysis {
        detections.sort_by_key(|d| (d.span, d.technique));
        detections.dedup_by(|a, b| a.span == b.span && a.technique == b.technique);
        let spans: Vec<TechniqueSpan> = detections
            .iter()
            .map(|d| TechniqueSpan {
                start: d.span.start(),
                end: d.span.end(),
                technique: d.technique,
                confidence: (d.confidence.clamp(0.0, 1.0) * 1000.0).round() / 1000.0,
                snippet: doc.slice(d.span).to_string(),
            })
            .collect();
        let mut counts = BTreeMap::new();
        for s in &spans {
            *counts.entry(s.technique.name().to_string()).or_insert(0) += 1;
        }
        Analysis {
            schema_version: SCHEMA_VERSION,
            model: model.to_string(),
            length: doc.len_chars(),
            text: doc.text().to_string(),
            spans,
            counts,
        }
    }

    /// Counts per technique in [`Technique::ALL`] order, including zeros.
    pub fn technique_counts(&self) -> Vec<(Technique, usize)> {
        Technique::ALL
            .iter()
            .map(|&t| (t, self.counts.get(t.name()).copied().unwrap_or(0)))
            .collect()
    }

    /// Share of the text's code points covered by at least one span, in `[0, 1]`.
    pub fn density(&self) -> f64 {
        if self.length == 0 {
            return 0.0;
        }
        let spans: Vec<Span> = self.spans.iter().map(|s| s.span()).collect();
        let covered: usize = crate::span::merge_overlapping(&spans)
            .iter()
            .map(|s| s.len())
            .sum();
        covered as f64 / self.length as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_counts_and_json_use_code_points() {
        let doc = Document::new("😀 A gang of traitors! 中文").unwrap();
        let d = |s, e, t| Detection {
            span: Span::new(s, e),
            technique: t,
            confidence: 0.5,
        };
        let a = Analysis::new(
            &doc,
            "test",
            vec![
                d(2, 20, Technique::NameCallingLabeling),
                d(2, 20, Technique::NameCallingLabeling),
                d(12, 20, Technique::LoadedLanguage),
            ],
        );
        assert_eq!(a.spans.len(), 2);
        assert_eq!(a.spans[0].snippet, "A gang of traitors");
        assert_eq!(a.spans[1].snippet, "traitors");
        assert_eq!(a.counts["Loaded_Language"], 1);
        assert!((a.density() - 18.0 / 24.0).abs() < 1e-9);
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["spans"][0]["technique"], "Name_Calling,Labeling");
        assert_eq!(json["spans"][0]["start"], 2);
        let back: Analysis = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
    }
}
