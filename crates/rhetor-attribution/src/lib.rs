//! Who says what: attribution extraction for news articles, speaker resolution, and the *voice* of any
//! span (the author's own, or quoted from a speaker).
//!
//! ```
//! use rhetor_attribution::{Attributor, Voice};
//! use rhetor_core::{Document, Prepared, Span};
//!
//! let doc = Document::new(
//!     "Foreign Ministry Spokesman Bahram Qassemi said the sanctions were \"a crime\". \
//!      The talks resume on Monday.",
//! )
//! .unwrap();
//! let attributor = Attributor::new();
//! let atts = attributor.extract(&doc);
//! let crime = Span::new(67, 74); // "a crime"
//! assert_eq!(doc.slice(crime), "a crime");
//! assert_eq!(atts.voice(crime), Voice::Quoted { speaker: "Bahram Qassemi".into() });
//! let monday = Span::new(94, 100);
//! assert_eq!(atts.voice(monday), Voice::Author);
//! ```
//!
//! # Pipeline
//! 1. A cue tagger (first-order linear chain, averaged perceptron over hashed word, shape, quotation
//!    and context features) marks cue words in every paragraph: *said*, *told*, *according to*,
//!    *wrote*, *tweeted*, *believes*, a colon after a name, ….
//! 2. For each cue, an argument tagger labels the tokens of a window around it (the cue's sentence
//!    and its neighbours, widened to whole quotations, which may run over several paragraphs) as
//!    source or content. Contents may be discontinuous ("…," he said, "…").
//! 3. Source rules (`sources.rs`): sources that name no one (discourse markers, places,
//!    adjectives, adverbs) are dropped, participle clauses ("…, adding that") take the main
//!    clause's subject, "— Name" signatures and quotes left open at the end of the article are
//!    attributed.
//! 4. [`speakers`] links every source mention (a name, a surname, "he", "the spokesman",
//!    "the ministry") to a speaker of the article, with a stable id and a display name. A source
//!    with several names is its last person outside a modifier ("Real Time host Bill Maher",
//!    not "Anand Menon of King's College London"'s college).
//!
//! Both taggers are averaged perceptrons over hashed features (2^20 buckets for the cue tagger,
//! 2^17 for the argument tagger, one byte per weight through a log-spaced codebook), trained on
//! PolNeAR train and embedded in the crate
//! (`model/attribution.bin`, ~1 MB, a `rhetor_model` container of kind `attribution` whose manifest
//! holds the training command and the dev scores). To retrain it (seconds on 2 cores, deterministic):
//!
//! ```text
//! BIASES=-10,-4,-4 cargo run --release -p rhetor-attribution --example train-attribution -- \
//!     ../shared/data/polnear/train crates/rhetor-attribution/model/attribution.bin ../shared/data/polnear/dev
//! ```
//!
//! The decoding biases were chosen by 5-fold cross-validation over train (`CV=5` prints mean ± sd of
//! content and speaker F1 for any setting; `TUNE=1` searches them on one held-out fifth); the dev
//! folder (optional) is only scored. [`Attributor::shared`] loads the model once per process.
//!
//! # Voice
//! [`Attributions::voice`] says whose voice a span is in: [`Voice::Quoted`] when at least half of it
//! lies inside the content of an attribution with a resolved speaker (the innermost such content
//! wins), else [`Voice::Author`]. Contents do not nest: an attribution whose content lies (more
//! than 80%) inside another's is merged into it, as in PolNeAR's annotation, so in "X said Y
//! claimed Z" the words of Z are X's, who reports them (keeping Y's cost 0.023 speaker F1 in
//! cross-validation). In JSON a voice is `"author"` or `{"quoted": "Bahram Qassemi"}` (the
//! speaker's display name).
#![deny(missing_docs)]

pub mod brat;
pub mod eval;
mod extract;
mod features;
mod lexicon;
mod linear;
mod prep;
mod sources;
pub mod speakers;
pub mod train;

pub use extract::{Attributor, LABELS};
pub use speakers::{Speaker, SpeakerKind};

use rhetor_core::{Document, Prepared, Span};
use serde::{Deserialize, Serialize};

/// The embedded model (see [`train`] for the command that makes it).
pub(crate) static MODEL: &[u8] = include_bytes!("../model/attribution.bin");

/// One attribution: a source says (writes, believes, …) a content, signalled by a cue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// What is said: one or more fragments in text order (a quote split by its cue, or running over
    /// several paragraphs, has several), code points.
    pub content: Vec<Span>,
    /// The cue: "said", "according to", "told reporters", ":".
    pub cue: Span,
    /// The source mention ("Bahram Qassemi", "he", "the ministry"), when the text names one.
    pub source: Option<Span>,
    /// Id of the resolved speaker (see [`Attributions::speakers`]), when there is a source.
    pub speaker: Option<String>,
    /// True when the content is mostly a direct quotation.
    pub direct: bool,
}

/// The attributions of one document and the speakers they resolve to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributions {
    /// Attributions in text order of their cues.
    pub attributions: Vec<Attribution>,
    /// Every speaker that is the source of at least one attribution, in order of first mention.
    pub speakers: Vec<Speaker>,
}

/// Whose voice a span is in (defined in the core, where `Analysis` carries it on every span).
pub use rhetor_core::Voice;

/// The spans (by index into the list given) voiced by one speaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeakerSpans {
    /// The speaker's id.
    pub speaker: String,
    /// The speaker's display name.
    pub name: String,
    /// Indices of the spans in the speaker's voice.
    pub spans: Vec<usize>,
}

impl Attributions {
    /// The speaker with this id.
    pub fn speaker(&self, id: &str) -> Option<&Speaker> {
        self.speakers.iter().find(|s| s.id == id)
    }

    /// The attribution whose content voices `span` (see [`Voice`]): the innermost content with a
    /// resolved speaker that covers at least half of the span.
    pub fn attribution_of(&self, span: Span) -> Option<&Attribution> {
        let mut best: Option<(&Attribution, usize)> = None;
        for a in &self.attributions {
            if a.speaker.is_none() {
                continue;
            }
            let covered: usize = a.content.iter().map(|c| c.overlap(span)).sum();
            let inside = if span.is_empty() {
                a.content
                    .iter()
                    .any(|c| c.start() <= span.start() && span.start() < c.end())
            } else {
                covered * 2 >= span.len()
            };
            if !inside {
                continue;
            }
            let size: usize = a.content.iter().map(|c| c.len()).sum();
            match best {
                Some((_, s)) if s <= size => {}
                _ => best = Some((a, size)),
            }
        }
        best.map(|(a, _)| a)
    }

    /// The speaker whose voice `span` is in, if it is not the author's.
    pub fn speaker_of(&self, span: Span) -> Option<&Speaker> {
        let id = self.attribution_of(span)?.speaker.as_deref()?;
        self.speaker(id)
    }

    /// Whose voice `span` is in.
    pub fn voice(&self, span: Span) -> Voice {
        match self.speaker_of(span) {
            Some(s) => Voice::Quoted {
                speaker: s.name.clone(),
            },
            None => Voice::Author,
        }
    }

    /// The voice of each span.
    pub fn voices(&self, spans: &[Span]) -> Vec<Voice> {
        spans.iter().map(|&s| self.voice(s)).collect()
    }

    /// Groups spans by speaker (spans in the author's voice are left out), in order of the speakers'
    /// first mention. With technique spans this gives per-speaker technique counts.
    pub fn by_speaker(&self, spans: &[Span]) -> Vec<SpeakerSpans> {
        let mut groups: Vec<SpeakerSpans> = Vec::new();
        for (i, &s) in spans.iter().enumerate() {
            if let Some(sp) = self.speaker_of(s) {
                match groups.iter_mut().find(|g| g.speaker == sp.id) {
                    Some(g) => g.spans.push(i),
                    None => groups.push(SpeakerSpans {
                        speaker: sp.id.clone(),
                        name: sp.name.clone(),
                        spans: vec![i],
                    }),
                }
            }
        }
        let order = |id: &str| self.speakers.iter().position(|s| s.id == id);
        groups.sort_by_key(|g| order(&g.speaker));
        groups
    }
}

/// Whose voice `span` is in (same as [`Attributions::voice`]).
pub fn voice(atts: &Attributions, span: Span) -> Voice {
    atts.voice(span)
}

impl Attributor {
    /// Extracts the attributions of `doc` and gives the voice of each span: the one call an analyser
    /// needs to tag technique spans.
    pub fn voices(&self, doc: &Document, spans: &[Span]) -> (Attributions, Vec<Voice>) {
        self.voices_prepared(&Prepared::new(doc), spans)
    }

    /// [`Attributor::voices`] on a document already prepared (the analyser's, shared by its tiers).
    pub fn voices_prepared(&self, doc: &Prepared, spans: &[Span]) -> (Attributions, Vec<Voice>) {
        let atts = self.extract_prepared(doc);
        let v = atts.voices(spans);
        (atts, v)
    }
}
