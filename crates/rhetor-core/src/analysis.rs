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

/// Whose voice a span of text is in: the outlet's own, or a speaker it quotes or reports.
///
/// JSON: `"author"` or `{"quoted": "<speaker display name>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "VoiceRepr", into = "VoiceRepr")]
pub enum Voice {
    /// The outlet's own words.
    Author,
    /// Words the outlet attributes to a speaker.
    Quoted {
        /// The speaker's display name.
        speaker: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum VoiceRepr {
    Tag(String),
    Quoted { quoted: String },
}

impl TryFrom<VoiceRepr> for Voice {
    type Error = String;
    fn try_from(r: VoiceRepr) -> Result<Voice, String> {
        match r {
            VoiceRepr::Tag(t) if t == "author" => Ok(Voice::Author),
            VoiceRepr::Tag(t) => Err(format!(
                "unknown voice {t:?} (expected \"author\" or {{\"quoted\": NAME}})"
            )),
            VoiceRepr::Quoted { quoted } => Ok(Voice::Quoted { speaker: quoted }),
        }
    }
}

impl From<Voice> for VoiceRepr {
    fn from(v: Voice) -> VoiceRepr {
        match v {
            Voice::Author => VoiceRepr::Tag("author".into()),
            Voice::Quoted { speaker } => VoiceRepr::Quoted { quoted: speaker },
        }
    }
}

impl std::fmt::Display for Voice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Voice::Author => f.write_str("author"),
            Voice::Quoted { speaker } => write!(f, "quoted({speaker})"),
        }
    }
}

/// What kind of speaker an entity is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeakerKind {
    /// A named or described person.
    Person,
    /// An organisation, outlet, government body (a country that speaks is its government), poll.
    Organization,
    /// An unnamed plural ("officials", "critics").
    Group,
    /// Not known.
    #[default]
    Unknown,
}

impl SpeakerKind {
    /// The JSON name: `person`, `organization`, `group`, `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            SpeakerKind::Person => "person",
            SpeakerKind::Organization => "organization",
            SpeakerKind::Group => "group",
            SpeakerKind::Unknown => "unknown",
        }
    }
}

/// A speaker of an article and the technique spans in their voice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeakerCounts {
    /// Stable id within the article.
    pub id: String,
    /// Display name, as in [`Voice::Quoted`].
    pub name: String,
    /// Person, organisation, group (`unknown` in analyses written before it existed).
    #[serde(default)]
    pub kind: SpeakerKind,
    /// Technique spans in the speaker's voice, per technique.
    pub counts: BTreeMap<String, usize>,
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
    /// Whose voice the span is in, when attribution ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<Voice>,
    /// The next most likely technique for this span, when the model explains its spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_up: Option<RunnerUp>,
    /// Words of the span and its sentence that most drove the technique decision, strongest
    /// first (empty when none stood out, or the model does not explain).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reason: Vec<String>,
}

/// The technique a span's classifier ranked next, with its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunnerUp {
    /// The technique.
    pub technique: Technique,
    /// The classifier's probability of it for this span, in `[0, 1]`.
    pub probability: f32,
}

impl TechniqueSpan {
    /// The span as a [`Span`].
    pub fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }

    /// The detection it was built from (span, technique, confidence).
    pub fn detection(&self) -> Detection {
        Detection {
            span: self.span(),
            technique: self.technique,
            confidence: self.confidence,
        }
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
    /// Speakers with at least one technique span in their voice, in order of first mention (when
    /// attribution ran).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub speakers: Vec<SpeakerCounts>,
    /// Technique spans per voice kind (`author`, `person`, `organization`, `group`, `unknown`),
    /// per technique (when attribution ran; kinds with no span are left out).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub voices: BTreeMap<String, BTreeMap<String, usize>>,
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
                voice: None,
                runner_up: None,
                reason: Vec::new(),
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
            speakers: Vec::new(),
            voices: BTreeMap::new(),
        }
    }

    /// Sets the voice of each span (`voices[i]` for `spans[i]`), the per-speaker counts and the
    /// counts per voice kind. `speakers` lists every speaker of the article as (id, display name,
    /// kind) in order of first mention; those without a span are left out of
    /// [`Analysis::speakers`].
    pub fn set_voices(&mut self, voices: Vec<Voice>, speakers: &[(String, String, SpeakerKind)]) {
        debug_assert_eq!(voices.len(), self.spans.len());
        let mut out: Vec<SpeakerCounts> = speakers
            .iter()
            .map(|(id, name, kind)| SpeakerCounts {
                id: id.clone(),
                name: name.clone(),
                kind: *kind,
                counts: BTreeMap::new(),
            })
            .collect();
        let mut by_kind: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for (s, v) in self.spans.iter_mut().zip(voices) {
            let tech = s.technique.name().to_string();
            let kind = match &v {
                Voice::Author => "author",
                Voice::Quoted { speaker } => match out.iter_mut().find(|sc| &sc.name == speaker) {
                    Some(sc) => {
                        *sc.counts.entry(tech.clone()).or_insert(0) += 1;
                        sc.kind.name()
                    }
                    None => SpeakerKind::Unknown.name(),
                },
            };
            *by_kind
                .entry(kind.to_string())
                .or_default()
                .entry(tech)
                .or_insert(0) += 1;
            s.voice = Some(v);
        }
        out.retain(|sc| !sc.counts.is_empty());
        self.speakers = out;
        self.voices = by_kind;
    }

    /// Sets each span's explanation from what `explain` says of the span and its technique: the
    /// techniques ranked best first with their probabilities, and the reason words. The runner-up
    /// is the best-ranked technique the span does not already carry.
    pub fn explain(
        &mut self,
        mut explain: impl FnMut(Span, Technique) -> (Vec<(Technique, f32)>, Vec<String>),
    ) {
        let mut carried: BTreeMap<Span, Vec<Technique>> = BTreeMap::new();
        for s in &self.spans {
            carried.entry(s.span()).or_default().push(s.technique);
        }
        for s in &mut self.spans {
            let (ranked, reason) = explain(s.span(), s.technique);
            let has = &carried[&s.span()];
            s.runner_up =
                ranked
                    .into_iter()
                    .find(|(t, _)| !has.contains(t))
                    .map(|(technique, p)| RunnerUp {
                        technique,
                        probability: (p.clamp(0.0, 1.0) * 1000.0).round() / 1000.0,
                    });
            s.reason = reason;
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

    #[test]
    fn voices_serialise_and_count_per_speaker() {
        let doc = Document::new("\"A gang of traitors,\" Smith said. Lies, all lies.").unwrap();
        let d = |s, e, t| Detection {
            span: Span::new(s, e),
            technique: t,
            confidence: 0.5,
        };
        let mut a = Analysis::new(
            &doc,
            "test",
            vec![
                d(1, 19, Technique::NameCallingLabeling),
                d(34, 39, Technique::LoadedLanguage),
            ],
        );
        let speakers = [
            (
                "smith".to_string(),
                "Smith".to_string(),
                SpeakerKind::Person,
            ),
            (
                "jones".to_string(),
                "Jones".to_string(),
                SpeakerKind::Person,
            ),
        ];
        a.set_voices(
            vec![
                Voice::Quoted {
                    speaker: "Smith".into(),
                },
                Voice::Author,
            ],
            &speakers,
        );
        assert_eq!(a.speakers.len(), 1, "a speaker without spans is left out");
        assert_eq!(a.speakers[0].counts["Name_Calling,Labeling"], 1);
        assert_eq!(a.voices["person"]["Name_Calling,Labeling"], 1);
        assert_eq!(a.voices["author"]["Loaded_Language"], 1);
        assert_eq!(a.voices.len(), 2, "{:?}", a.voices);
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["speakers"][0]["kind"], "person");
        assert_eq!(json["voices"]["author"]["Loaded_Language"], 1);
        assert_eq!(
            json["spans"][0]["voice"],
            serde_json::json!({"quoted": "Smith"})
        );
        assert_eq!(json["spans"][1]["voice"], "author");
        let back: Analysis = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
        assert!(serde_json::from_str::<Voice>("\"narrator\"").is_err());
        // Analyses written before speaker kinds existed still read.
        let mut old = serde_json::to_value(&a).unwrap();
        old["speakers"][0].as_object_mut().unwrap().remove("kind");
        old.as_object_mut().unwrap().remove("voices");
        let back: Analysis = serde_json::from_value(old).unwrap();
        assert_eq!(back.speakers[0].kind, SpeakerKind::Unknown);
        assert!(back.voices.is_empty());
    }
}
