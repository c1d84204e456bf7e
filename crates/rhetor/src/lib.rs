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
    analysis, corpus, prepared, score, span, taxonomy, text, Alignment, Analysis, Detection,
    Document, Prepared, Span, SpeakerCounts, SpeakerKind, Technique, TechniqueSpan, Voice,
};
/// The fast tier: training, cross-validation and decoding settings.
pub use rhetor_fast as fast;
pub use rhetor_fast::FastModel;
/// What the tiers share: the model container and manifest, the decoder, the tier traits.
pub use rhetor_model as model;
pub use rhetor_model::{Manifest, ModelError, ModelKind};
/// The accurate tier: the fine-tuned encoder and its training.
pub use rhetor_neural as neural;

mod analyzer;
pub mod ensemble;
mod language;
pub mod tune;
pub use analyzer::{
    builtin_fast, builtin_partner, Analyzer, Error, ACCURATE_MODEL_BYTES, DEFAULT_MODEL_BYTES,
    PARTNER_MODEL_BYTES,
};
pub use ensemble::{Ensemble, Mixing};
pub mod annotate;
pub mod batch;
pub mod eval;
pub mod records;
pub mod render;
pub mod resume;
pub mod sources;
pub mod stream;
pub mod train;
