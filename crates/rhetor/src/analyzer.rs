//! The one entry point: text in, [`Analysis`] out.

use rayon::prelude::*;
use rhetor_attribution::Attributor;
use rhetor_core::text::DEFAULT_MAX_BYTES;
use rhetor_core::{Analysis, Document, Span};
use rhetor_fast::{FastModel, ModelError};
use std::path::Path;
use std::sync::Arc;

/// The default model, trained by `rhetor train` on the PTC train set and embedded in the binary, so
/// rhetor works offline from any directory.
pub static DEFAULT_MODEL_BYTES: &[u8] = include_bytes!("../../../models/fast.rhm");

/// Errors from the library facade.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad input text or data.
    #[error(transparent)]
    Core(#[from] rhetor_core::Error),
    /// A model that cannot be loaded.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Analyses texts with a loaded model. `&Analyzer` is `Sync`, and a clone shares the model (cheap).
#[derive(Debug, Clone)]
pub struct Analyzer {
    /// Shared, so that cloning an analyzer (one per worker, per request) costs nothing.
    model: Arc<FastModel>,
    /// Finds who says what, to give each span its voice; `None` skips it (bulk scoring).
    attributor: Option<&'static Attributor>,
    name: String,
    max_bytes: usize,
}

impl Analyzer {
    /// The shipped default model.
    pub fn load_default() -> Result<Analyzer, Error> {
        Ok(Analyzer::from_model(FastModel::from_bytes(
            DEFAULT_MODEL_BYTES,
            "<built-in model>",
        )?))
    }

    /// A model file (as written by `rhetor train`).
    pub fn load(path: &Path) -> Result<Analyzer, Error> {
        Ok(Analyzer::from_model(FastModel::load(path)?))
    }

    /// Wraps a model already in memory.
    pub fn from_model(model: FastModel) -> Analyzer {
        let m = model.manifest();
        let name = format!("{}@{}", m.name, m.rhetor_version);
        Analyzer {
            model: Arc::new(model),
            attributor: Some(Attributor::shared()),
            name,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    /// Sets the largest text accepted, in bytes (default 8 MiB).
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Analyzer {
        self.max_bytes = max_bytes;
        self
    }

    /// Turns attribution (the voice of each span, per-speaker counts) on or off. On by default;
    /// off saves its cost when only spans and techniques matter.
    pub fn with_attribution(mut self, on: bool) -> Analyzer {
        self.attributor = on.then(Attributor::shared);
        self
    }

    /// The largest text accepted, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The model's name and version, as written in every analysis.
    pub fn model_name(&self) -> &str {
        &self.name
    }

    /// The model.
    pub fn model(&self) -> &FastModel {
        &self.model
    }

    /// Analyses a text.
    pub fn analyze(&self, text: &str) -> Result<Analysis, Error> {
        let doc = Document::with_limit(text, self.max_bytes)?;
        Ok(self.analyze_document(&doc))
    }

    /// Analyses a document already built.
    pub fn analyze_document(&self, doc: &Document) -> Analysis {
        let mut analysis = Analysis::new(doc, &self.name, self.model.predict(doc));
        if let Some(att) = &self.attributor {
            let spans: Vec<Span> = analysis.spans.iter().map(|s| s.span()).collect();
            let (atts, voices) = att.voices(doc, &spans);
            let speakers: Vec<(String, String)> = atts
                .speakers
                .iter()
                .map(|s| (s.id.clone(), s.name.clone()))
                .collect();
            analysis.set_voices(voices, &speakers);
        }
        analysis
    }

    /// Analyses many documents in parallel, keeping their order.
    pub fn pipe(&self, docs: &[Document]) -> Vec<Analysis> {
        docs.par_iter().map(|d| self.analyze_document(d)).collect()
    }
}
