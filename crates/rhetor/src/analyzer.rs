//! The one entry point: text in, [`Analysis`] out.

use crate::ensemble::{Ensemble, Readings};
use rhetor_attribution::Attributor;
use rhetor_core::text::DEFAULT_MAX_BYTES;
use rhetor_core::{Analysis, Detection, Document, Prepared, Span, Technique};
use rhetor_fast::FastModel;
use rhetor_model::{container, Manifest, ModelError, ModelKind};
use rhetor_neural::{NeuralError, NeuralModel};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The fast tier (`--model fast`), trained by `rhetor train` on the PTC train set plus the
/// accurate tier's silver labels on unlabelled news (distillation), and embedded in the binary, so
/// rhetor works offline from any directory.
pub static DEFAULT_MODEL_BYTES: &[u8] = include_bytes!("../../../models/fast.rhm");

/// The accurate tier's fast partner: a fast model trained on the gold labels only. The distilled
/// fast tier is better alone but a worse partner (it learned the encoder's mistakes, so the two
/// no longer cover for each other; BENCHMARKS.md, "Distillation").
pub static PARTNER_MODEL_BYTES: &[u8] = include_bytes!("../../../models/partner.rhm");

/// The accurate tier's fine-tuned encoder (`rhetor train --encoder`), embedded likewise; it is
/// ensembled with the built-in partner.
pub static ACCURATE_MODEL_BYTES: &[u8] = include_bytes!("../../../models/accurate.rhn");

/// The built-in fast tier, decoded once per process and shared.
pub fn builtin_fast() -> Result<Arc<FastModel>, ModelError> {
    static FAST: OnceLock<Arc<FastModel>> = OnceLock::new();
    decode_once(&FAST, DEFAULT_MODEL_BYTES, "<built-in fast model>")
}

/// The built-in partner of the accurate tier's encoder, decoded once per process and shared.
pub fn builtin_partner() -> Result<Arc<FastModel>, ModelError> {
    static PARTNER: OnceLock<Arc<FastModel>> = OnceLock::new();
    decode_once(&PARTNER, PARTNER_MODEL_BYTES, "<built-in partner model>")
}

fn decode_once(
    cell: &OnceLock<Arc<FastModel>>,
    bytes: &'static [u8],
    origin: &str,
) -> Result<Arc<FastModel>, ModelError> {
    if let Some(m) = cell.get() {
        return Ok(m.clone());
    }
    let m = Arc::new(FastModel::from_bytes(bytes, origin)?);
    release_embedded(bytes);
    Ok(cell.get_or_init(|| m).clone())
}

/// Drops the resident pages of an embedded model's bytes once they are decoded. The executable's
/// file backs them, so they count toward the process's memory (45 MB for the encoder) although
/// nothing needs them after decoding; a later read faults them in again from the file, with the
/// same contents. A no-op outside Linux.
fn release_embedded(bytes: &'static [u8]) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf only reads a system setting.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(0);
        if page == 0 {
            return;
        }
        // Whole pages inside the bytes only: their neighbours in the executable are left alone.
        let start = (bytes.as_ptr() as usize).next_multiple_of(page);
        let end = (bytes.as_ptr() as usize + bytes.len()) / page * page;
        if end > start {
            // SAFETY: the range is whole pages of a `static` byte array from `include_bytes!`:
            // read-only data of the executable's private file mapping, never written and holding
            // no relocations, so dropping the pages loses nothing (the kernel reads the file
            // again on the next access). A failure leaves the pages resident, which is harmless.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    }
}

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
    /// The encoder failed (accurate tier).
    #[error(transparent)]
    Neural(#[from] NeuralError),
    /// An output file (a trained model) could not be written.
    #[error("writing {}", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: rhetor_core::Error,
    },
}

/// Analyses texts with a loaded model. `&Analyzer` is `Sync`, and a clone shares the model (cheap).
#[derive(Debug, Clone)]
pub struct Analyzer {
    /// The models, shared, so that cloning an analyzer (one per worker, per request) costs nothing.
    models: Ensemble,
    /// Finds who says what, to give each span its voice; `None` skips it (bulk scoring).
    attributor: Option<&'static Attributor>,
    name: String,
    max_bytes: usize,
    min_confidence: f32,
}

impl Analyzer {
    /// The shipped default: the accurate tier (fine-tuned encoder ensembled with its partner).
    pub fn load_default() -> Result<Analyzer, Error> {
        // The encoder decodes beside its partner and the attribution model.
        let (neural, (partner, _)) = rayon::join(
            || {
                let n = NeuralModel::from_bytes(ACCURATE_MODEL_BYTES, "<built-in accurate model>");
                release_embedded(ACCURATE_MODEL_BYTES);
                n
            },
            || (builtin_partner(), Attributor::shared()),
        );
        Ok(Analyzer::new(Ensemble::accurate(
            Arc::new(neural?),
            partner?,
        )))
    }

    /// The shipped fast tier alone: megabytes per second, for bulk work.
    pub fn load_fast() -> Result<Analyzer, Error> {
        // The attribution model decodes beside the fast model (a third of the start-up otherwise);
        // `new` then finds it decoded.
        let (fast, _) = rayon::join(builtin_fast, Attributor::shared);
        Ok(Analyzer::new(Ensemble::fast(fast?)))
    }

    /// A model file written by `rhetor train`: a fast model, or an encoder (`--encoder`), which is
    /// ensembled with the built-in partner.
    pub fn load(path: &Path) -> Result<Analyzer, Error> {
        let bytes =
            std::fs::read(path).map_err(|e| ModelError::Io(path.display().to_string(), e))?;
        let origin = path.display().to_string();
        let manifest = container::read_manifest(&bytes, &origin)?;
        Ok(Analyzer::new(match manifest.kind {
            ModelKind::Encoder => Ensemble::accurate(
                Arc::new(NeuralModel::from_bytes(&bytes, &origin)?),
                builtin_partner()?,
            ),
            ModelKind::Fast => Ensemble::fast(Arc::new(FastModel::from_bytes(&bytes, &origin)?)),
            found => {
                return Err(ModelError::WrongKind {
                    origin,
                    found,
                    expected: ModelKind::Fast,
                }
                .into())
            }
        }))
    }

    /// Ensembles this analyzer's encoder with another fast model (a file written by `rhetor
    /// train`) in place of the built-in partner: after retraining the fast tier on a desk's own
    /// corrections, or to score an encoder beside a fast model that never saw the test articles.
    /// An analyzer without an encoder has no ensemble to change: that is an error.
    pub fn with_fast_model(self, path: &Path) -> Result<Analyzer, Error> {
        let Some(encoder) = self.models.clone().into_encoder() else {
            return Err(rhetor_core::Error::Invalid(format!(
                "--fast {}: only an encoder model is ensembled with a fast model; \
                 give the fast model itself as --model",
                path.display()
            ))
            .into());
        };
        let bytes =
            std::fs::read(path).map_err(|e| ModelError::Io(path.display().to_string(), e))?;
        let fast = FastModel::from_bytes(&bytes, &path.display().to_string())?;
        // The name is the encoder's manifest's, so only the models change.
        Ok(Analyzer {
            models: Ensemble::accurate(encoder, Arc::new(fast)),
            ..self
        })
    }

    /// Wraps a fast model already in memory.
    pub fn from_model(model: FastModel) -> Analyzer {
        Analyzer::new(Ensemble::fast(Arc::new(model)))
    }

    /// Wraps models already in memory.
    pub fn new(models: Ensemble) -> Analyzer {
        let m = models.manifest();
        let name = format!("{}@{}", m.name, m.rhetor_version);
        Analyzer {
            models,
            attributor: Some(Attributor::shared()),
            name,
            max_bytes: DEFAULT_MAX_BYTES,
            min_confidence: 0.0,
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

    /// Leaves out spans whose calibrated confidence is below `p` (default 0: every span).
    pub fn with_min_confidence(mut self, p: f32) -> Analyzer {
        self.min_confidence = p;
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

    /// The manifest of the model doing the work (for the accurate tier, the encoder's).
    pub fn manifest(&self) -> &Manifest {
        self.models.manifest()
    }

    /// The models.
    pub fn models(&self) -> &Ensemble {
        &self.models
    }

    /// The fast model (alone, or the one the encoder is ensembled with).
    pub fn fast_model(&self) -> &FastModel {
        self.models.fast_model()
    }

    /// Technique spans of a document, without attribution, sorted and without duplicates (as in
    /// an [`Analysis`]).
    pub fn detect(&self, doc: &Document) -> Result<Vec<Detection>, Error> {
        self.detect_prepared(&Prepared::new(doc))
    }

    fn detect_prepared(&self, prep: &Prepared) -> Result<Vec<Detection>, Error> {
        let mut dets = self.detections(&self.models.read(prep)?);
        dets.sort_by_key(|d| (d.span, d.technique));
        dets.dedup_by_key(|d| (d.span, d.technique));
        Ok(dets)
    }

    /// The ensemble's calibrated detections, less those under `--min-confidence`.
    fn detections(&self, readings: &Readings) -> Vec<Detection> {
        let mut dets = self.models.detect_read(readings);
        dets.retain(|d| d.confidence >= self.min_confidence);
        dets
    }

    /// One technique per given span row, for TC (a span listed k times gets its k best).
    pub fn classify_rows(&self, doc: &Document, spans: &[Span]) -> Result<Vec<Technique>, Error> {
        Ok(self.models.classify_rows(&Prepared::new(doc), spans)?)
    }

    /// Analyses a text.
    pub fn analyze(&self, text: &str) -> Result<Analysis, Error> {
        let doc = Document::with_limit(text, self.max_bytes)?;
        self.analyze_document(&doc)
    }

    /// Analyses a document already built.
    pub fn analyze_document(&self, doc: &Document) -> Result<Analysis, Error> {
        // The document is prepared once; every stage reads the same tokens.
        let prep = Prepared::new(doc);
        let readings = self.models.read(&prep)?;
        let mut analysis = Analysis::new(doc, &self.name, self.detections(&readings));
        analysis.explain(|span, t| self.models.explain(&readings, span, t));
        if let Some(att) = &self.attributor {
            let spans: Vec<Span> = analysis.spans.iter().map(|s| s.span()).collect();
            let (atts, voices) = att.voices_prepared(&prep, &spans);
            let speakers: Vec<(String, String, _)> = atts
                .speakers
                .iter()
                .map(|s| (s.id.clone(), s.name.clone(), s.kind))
                .collect();
            analysis.set_voices(voices, &speakers);
        }
        Ok(analysis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dropping the pages of the embedded models loses nothing: they come back from the
    /// executable's file, checksum and all, and decode to the same model.
    #[test]
    fn embedded_models_read_back_whole_after_their_pages_are_dropped() {
        let partner = builtin_partner().unwrap();
        let again = FastModel::from_bytes(PARTNER_MODEL_BYTES, "again").unwrap();
        assert_eq!(again.to_bytes(), partner.to_bytes());
        assert_eq!(again.to_bytes(), PARTNER_MODEL_BYTES);
        release_embedded(ACCURATE_MODEL_BYTES);
        let encoder = NeuralModel::from_bytes(ACCURATE_MODEL_BYTES, "again").unwrap();
        assert_eq!(encoder.manifest().kind, ModelKind::Encoder);
    }
}
