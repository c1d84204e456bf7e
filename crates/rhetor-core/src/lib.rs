//! rhetor's core: text with exact code-point offsets, the PTC technique taxonomy, spans, analyses,
//! corpus I/O and the SemEval-2020 Task 11 scorer. Models live in their own crates and produce
//! [`Detection`]s; the `rhetor` crate ties them into an `Analyzer`.
#![deny(missing_docs)]

pub mod analysis;
pub mod brat;
pub mod corpus;
pub mod error;
pub mod prepared;
pub mod score;
pub mod sentence;
pub mod span;
pub mod taxonomy;
pub mod text;

pub use analysis::{
    Analysis, Detection, RunnerUp, SpeakerCounts, SpeakerKind, TechniqueSpan, Voice, SCHEMA_VERSION,
};
pub use error::{Error, Result};
pub use prepared::{Alignment, Prepared, Sentence};
pub use span::Span;
pub use taxonomy::Technique;
pub use text::{Document, Token, TokenKind};
