//! rhetor's accurate tier: a MiniLM encoder fine-tuned in Rust (candle) tags propaganda spans and
//! scores techniques for every wordpiece. A [`NeuralReading`] of a prepared document answers the
//! [`Tagger`] and [`Classifier`] questions of `rhetor-model` over the document's shared tokens; the
//! facade's ensemble mixes it with the fast tier and decodes with the shared decoder.
#![deny(missing_docs)]

pub mod bert;
pub mod model;
pub mod pieces;
pub mod span_head;
pub mod train;

pub use bert::BertConfig;
pub use model::{NeuralModel, PieceProbs, Settings};
pub use span_head::{HeadOptions, SpanHead};
pub use train::{train, TrainOptions};

use rhetor_core::prepared::overlapping;
use rhetor_core::{Prepared, Span};
use rhetor_model::{Classifier, TagProbs, Tagger, TechProbs};

/// Errors of the accurate tier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NeuralError {
    /// The model file could not be read or failed its checks.
    #[error(transparent)]
    Model(#[from] rhetor_model::ModelError),
    /// The model file passed its checksum but its weights do not fit the network.
    #[error("{0}: the encoder weights do not load: {1}")]
    Corrupt(String, String),
    /// The tokenizer failed.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A tensor operation failed.
    #[error("encoder: {0}")]
    Tensor(#[from] candle_core::Error),
    /// Reading or writing files.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// Anything else in training (bad options, missing base weights).
    #[error("{0}")]
    Other(String),
}

/// The encoder's reading of one prepared document: its wordpiece probabilities, aligned to the
/// document's tokens on demand.
#[derive(Debug)]
pub struct NeuralReading<'a> {
    prep: &'a Prepared<'a>,
    probs: PieceProbs,
}

impl NeuralModel {
    /// Reads a prepared document: runs the encoder over its wordpieces once.
    pub fn read<'a>(&self, prep: &'a Prepared<'a>) -> Result<NeuralReading<'a>, NeuralError> {
        Ok(NeuralReading::new(prep, self.piece_probs(prep.doc())?))
    }
}

impl<'a> NeuralReading<'a> {
    /// Pairs piece probabilities already computed (tuning computes them once) with their document.
    pub fn new(prep: &'a Prepared<'a>, probs: PieceProbs) -> NeuralReading<'a> {
        NeuralReading { prep, probs }
    }

    /// The wordpiece probabilities.
    pub fn probs(&self) -> &PieceProbs {
        &self.probs
    }
}

impl Tagger for NeuralReading<'_> {
    /// A token's P(inside) is the mean over the pieces it overlaps, its P(B) its first piece's.
    fn token_tags(&self) -> Vec<Option<TagProbs>> {
        let pieces = &self.probs.pieces.spans;
        self.prep
            .token_spans()
            .iter()
            .map(|&tok| {
                let r = overlapping(pieces, tok);
                let first = self.probs.tags.get(r.start).filter(|_| !r.is_empty())?;
                let n = r.len();
                let inside: f32 = self.probs.tags[r].iter().map(|t| t[1] + t[2]).sum();
                let inside = inside / n as f32;
                Some([1.0 - inside, first[1], inside - first[1]])
            })
            .collect()
    }
}

impl Classifier for NeuralReading<'_> {
    fn span_techniques(&self, span: Span) -> TechProbs {
        model::span_techniques(&self.probs, span)
    }
}
