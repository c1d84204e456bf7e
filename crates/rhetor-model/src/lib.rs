//! What rhetor's model tiers share, so that they are siblings rather than one built on the other:
//!
//! - [`container`]: the checked model file (magic, format version, a JSON [`Manifest`] saying the
//!   model's kind, labels, compatible rhetor versions, training command and scores, a bincode payload,
//!   a CRC-32), used by the fast model, the encoder and the attribution model alike;
//! - [`Tagger`] and [`Classifier`]: what a tier says about one prepared document (token-tag
//!   probabilities, technique probabilities of a span); the facade's ensemble combines tiers
//!   through these;
//! - [`decode`]: the one span decoder (thresholds, second labels, the repetition rule), over any
//!   tier's or ensemble's probabilities, with [`Repetitions`] counting what an article repeats;
//! - [`Lcg`]: the small seeded generator training uses for shuffling.
#![deny(missing_docs)]

pub mod calibration;
pub mod container;
pub mod decode;
mod error;
pub mod repetition;
mod rng;

pub use calibration::Calibration;
pub use container::{Manifest, ModelKind, FORMAT_VERSION};
pub use decode::Decode;
pub use error::ModelError;
pub use repetition::{LowerTokens, Repetitions};
pub use rng::Lcg;

use rhetor_core::{Span, Technique};

/// Number of techniques (the width of a technique distribution).
pub const N_TECH: usize = 14;

/// P(O), P(B), P(I) of one token: outside a span, first token of a span, later token of a span.
pub type TagProbs = [f32; 3];

/// A distribution over the techniques, indexed like [`Technique::ALL`].
pub type TechProbs = [f32; N_TECH];

/// A tier's span-tag opinion about the document it read.
pub trait Tagger {
    /// [`TagProbs`] of every token of the prepared document (in token order); `None` for a token the
    /// tier cannot see (the encoder's tokenizer drops some control characters).
    fn token_tags(&self) -> Vec<Option<TagProbs>>;
}

/// A tier's technique opinion about spans of the document it read.
pub trait Classifier {
    /// Technique probabilities of a span.
    fn span_techniques(&self, span: Span) -> TechProbs;
}

/// The 14 technique names in index order: the labels of every technique model's manifest.
pub fn technique_labels() -> Vec<String> {
    Technique::ALL
        .iter()
        .map(|t| t.name().to_string())
        .collect()
}

const _: () = assert!(Technique::ALL.len() == N_TECH);
