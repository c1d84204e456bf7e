//! rhetor finds propaganda techniques in news articles, down to the exact characters.
//!
//! The library is the product; the `rhetor` binary, the server and the evaluation commands are thin
//! layers over [`Analyzer`]:
//!
//! ```no_run
//! let analyzer = rhetor::Analyzer::load_default()?;
//! let analysis = analyzer.analyze("They are a gang of traitors and cowards.")?;
//! for span in &analysis.spans {
//!     println!("{}..{} {} {:?}", span.start, span.end, span.technique, span.snippet);
//! }
//! # Ok::<(), rhetor::Error>(())
//! ```
#![deny(missing_docs)]

/// Attribution: who says what, speakers, brat I/O and its scorer.
pub use rhetor_attribution as attribution;
pub use rhetor_core::{
    analysis, corpus, score, span, taxonomy, text, Analysis, Detection, Document, Span,
    SpeakerCounts, Technique, TechniqueSpan, Voice,
};
/// The fast tier: training, cross-validation and decoding settings.
pub use rhetor_fast as fast;
pub use rhetor_fast::{FastModel, Manifest, ModelError};
/// The accurate tier: the fine-tuned encoder, its training and its ensemble with the fast tier.
pub use rhetor_neural as neural;

mod analyzer;
pub use analyzer::{builtin_fast, Analyzer, Error, ACCURATE_MODEL_BYTES, DEFAULT_MODEL_BYTES};
pub mod batch;
pub mod eval;
pub mod render;
pub mod train;
