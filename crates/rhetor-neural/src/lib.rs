//! rhetor's accurate tier: a MiniLM encoder fine-tuned in Rust (candle) tags propaganda spans and
//! scores techniques for every wordpiece; its probabilities are mixed with the fast model's and
//! decoded by the fast model's decoder, so both tiers share one notion of a span.
#![deny(missing_docs)]

pub mod bert;
pub mod model;
pub mod pieces;
pub mod train;
pub mod tune;

pub use bert::BertConfig;
pub use model::{NeuralModel, PieceProbs, Settings};
pub use train::{train, TrainOptions};

use rhetor_core::{Detection, Document, Span, Technique};
use rhetor_fast::{Decode, FastModel, Mix};
use std::sync::Arc;

/// Errors of the accurate tier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NeuralError {
    /// The model file could not be read or failed its checks.
    #[error(transparent)]
    Model(#[from] rhetor_fast::ModelError),
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

/// The accurate tier: the fine-tuned encoder ensembled with the fast model.
#[derive(Debug, Clone)]
pub struct Accurate {
    neural: Arc<NeuralModel>,
    fast: Arc<FastModel>,
}

/// The encoder's opinion as a [`Mix`] for the fast model's decoder.
struct NeuralMix<'a> {
    probs: &'a PieceProbs,
    s: Settings,
}

impl Mix for NeuralMix<'_> {
    fn tokens(&self, spans: &[Span], marg: &mut [[f32; 3]]) {
        let w = self.s.span_weight;
        let ps = &self.probs.pieces.spans;
        let mut j = 0;
        for (k, tok) in spans.iter().enumerate() {
            // Tokens and pieces are both in text order.
            while j < ps.len() && ps[j].end() <= tok.start() {
                j += 1;
            }
            let (mut inside, mut n, mut begin) = (0f32, 0usize, None);
            let mut i = j;
            while i < ps.len() && ps[i].start() < tok.end() {
                let t = self.probs.tags[i];
                begin.get_or_insert(t[1]);
                inside += t[1] + t[2];
                n += 1;
                i += 1;
            }
            let Some(b) = begin else { continue };
            let inside = w * (inside / n as f32) + (1.0 - w) * (marg[k][1] + marg[k][2]);
            let b = (w * b + (1.0 - w) * marg[k][1]).min(inside);
            marg[k] = [1.0 - inside, b, inside - b];
        }
    }

    fn techniques(&self, span: Span, probs: &mut [f32]) {
        let w = self.s.technique_weight;
        let n = model::span_techniques(self.probs, span);
        for (p, q) in probs.iter_mut().zip(n) {
            *p = w * q + (1.0 - w) * *p;
        }
    }
}

impl Accurate {
    /// Pairs an encoder with the fast model it was tuned against.
    pub fn new(neural: Arc<NeuralModel>, fast: Arc<FastModel>) -> Accurate {
        Accurate { neural, fast }
    }

    /// The encoder.
    pub fn neural(&self) -> &NeuralModel {
        &self.neural
    }

    /// Gives the encoder back (its `Arc`).
    pub fn into_neural(self) -> Arc<NeuralModel> {
        self.neural
    }

    /// The fast model.
    pub fn fast(&self) -> &FastModel {
        &self.fast
    }

    fn decode(&self, s: &Settings) -> Decode {
        Decode {
            threshold: s.threshold,
            second_label: s.second_label,
            repetition_rule: self.fast.decode().repetition_rule,
        }
    }

    /// Finds technique spans.
    pub fn predict(&self, doc: &Document) -> Result<Vec<Detection>, NeuralError> {
        let probs = self.neural.piece_probs(doc)?;
        Ok(self.predict_from(doc, &probs, &self.neural.settings()))
    }

    /// Decodes spans from encoder probabilities already computed, with given settings (tuning
    /// runs the encoder once and tries many settings).
    pub fn predict_from(&self, doc: &Document, probs: &PieceProbs, s: &Settings) -> Vec<Detection> {
        let mix = NeuralMix { probs, s: *s };
        self.fast.predict_mixed(doc, &self.decode(s), Some(&mix))
    }

    /// Ranks the techniques of each given span, best first.
    pub fn classify(
        &self,
        doc: &Document,
        spans: &[Span],
    ) -> Result<Vec<Vec<(Technique, f32)>>, NeuralError> {
        let probs = self.neural.piece_probs(doc)?;
        let mix = NeuralMix {
            probs: &probs,
            s: self.neural.settings(),
        };
        Ok(self.fast.classify_mixed(doc, spans, Some(&mix)))
    }

    /// One technique per given span row (a span listed k times gets its k best techniques).
    pub fn classify_rows(
        &self,
        doc: &Document,
        spans: &[Span],
    ) -> Result<Vec<Technique>, NeuralError> {
        let probs = self.neural.piece_probs(doc)?;
        Ok(self.classify_rows_from(doc, spans, &probs, &self.neural.settings()))
    }

    /// [`Accurate::classify_rows`] from encoder probabilities already computed.
    pub fn classify_rows_from(
        &self,
        doc: &Document,
        spans: &[Span],
        probs: &PieceProbs,
        s: &Settings,
    ) -> Vec<Technique> {
        let mix = NeuralMix { probs, s: *s };
        self.fast.classify_rows_mixed(doc, spans, Some(&mix))
    }
}
