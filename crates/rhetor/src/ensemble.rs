//! The ensemble above both tiers: each tier reads the shared prepared document once, their
//! token-tag and technique probabilities are mixed here, and the shared decoder of `rhetor-model`
//! turns the mix into spans. Neither tier knows the other.

use rhetor_core::{Detection, Prepared, Span, Technique};
use rhetor_fast::{FastModel, FastReading};
use rhetor_model::{decode, Classifier, Decode, TagProbs, Tagger, TechProbs};
use rhetor_neural::{NeuralError, NeuralModel, NeuralReading, Settings};
use std::sync::{Arc, OnceLock};

/// How the encoder's opinion is mixed with the fast model's, and how the mix is decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mixing {
    /// Weight of the encoder's tag probabilities (0 = the fast model's only).
    pub span_weight: f32,
    /// Weight of the encoder's technique probabilities.
    pub technique_weight: f32,
    /// Thresholds and the repetition rule.
    pub decode: Decode,
}

impl Mixing {
    /// The mixing an encoder file carries, with the fast model's repetition rule.
    pub fn of(s: &Settings, fast: &FastModel) -> Mixing {
        Mixing {
            span_weight: s.span_weight,
            technique_weight: s.technique_weight,
            decode: Decode {
                threshold: s.threshold,
                second_label: s.second_label,
                repetition_rule: fast.decode().repetition_rule,
                ..Decode::default()
            },
        }
    }
}

/// The models an analysis runs: the fast tier, alone or with the encoder.
#[derive(Debug, Clone)]
pub struct Ensemble {
    fast: Arc<FastModel>,
    encoder: Option<Arc<NeuralModel>>,
}

impl Ensemble {
    /// The fast tier alone.
    pub fn fast(fast: Arc<FastModel>) -> Ensemble {
        Ensemble {
            fast,
            encoder: None,
        }
    }

    /// The accurate tier: an encoder mixed with the fast model it was tuned against.
    pub fn accurate(encoder: Arc<NeuralModel>, fast: Arc<FastModel>) -> Ensemble {
        Ensemble {
            fast,
            encoder: Some(encoder),
        }
    }

    /// The fast model.
    pub fn fast_model(&self) -> &FastModel {
        &self.fast
    }

    /// The encoder, when there is one.
    pub fn encoder(&self) -> Option<&NeuralModel> {
        self.encoder.as_deref()
    }

    /// The manifest of the model doing the work: the encoder's, or the fast model's when alone.
    pub fn manifest(&self) -> &rhetor_model::Manifest {
        match &self.encoder {
            Some(e) => e.manifest(),
            None => self.fast.manifest(),
        }
    }

    /// Gives the encoder back (its `Arc`), when there is one.
    pub fn into_encoder(self) -> Option<Arc<NeuralModel>> {
        self.encoder
    }

    /// The mixing used by [`Ensemble::detect`]: the encoder file's, or the fast model's own decoding.
    pub fn mixing(&self) -> Mixing {
        match &self.encoder {
            Some(e) => Mixing::of(&e.settings(), &self.fast),
            None => Mixing {
                span_weight: 0.0,
                technique_weight: 0.0,
                decode: self.fast.decode(),
            },
        }
    }

    /// Every tier's reading of a document (the encoder's is the expensive part).
    pub fn read<'a>(&'a self, prep: &'a Prepared<'a>) -> Result<Readings<'a>, NeuralError> {
        let neural = match &self.encoder {
            Some(e) => Some(e.read(prep)?),
            None => None,
        };
        Ok(Readings::new(prep, self.fast.read(prep), neural))
    }

    /// Technique spans of a prepared document, with calibrated confidences (when the model file
    /// carries a calibration).
    pub fn detect(&self, prep: &Prepared) -> Result<Vec<Detection>, NeuralError> {
        Ok(self.detect_read(&self.read(prep)?))
    }

    /// Technique spans from readings already made, with calibrated confidences. Spans in text
    /// that does not read as prose (base64, hex dumps, code, tables of numbers) are dropped.
    pub fn detect_read(&self, r: &Readings) -> Vec<Detection> {
        let mut found = r.detect(&self.mixing());
        crate::language::retain_in_prose(r.prep, &mut found);
        if let Some(c) = &self.manifest().calibration {
            for d in &mut found {
                d.confidence = c.apply(d.confidence);
            }
        }
        found
    }

    /// Why a span got its technique: the techniques ranked for it (best first, with their
    /// probabilities), and up to three words that most drove the decision (the fast classifier's
    /// strongest word features for that technique).
    pub fn explain(
        &self,
        r: &Readings,
        span: Span,
        technique: Technique,
    ) -> (Vec<(Technique, f32)>, Vec<String>) {
        let ranked = decode::rank(&r.classifier(&self.mixing()).span_techniques(span));
        (ranked, r.fast.reasons(span, technique, 3))
    }

    /// One technique per given span row, for TC (a span listed k times gets its k best).
    pub fn classify_rows(
        &self,
        prep: &Prepared,
        spans: &[Span],
    ) -> Result<Vec<Technique>, NeuralError> {
        Ok(self.read(prep)?.classify_rows(spans, &self.mixing()))
    }
}

/// The tiers' readings of one document, decodable under any [`Mixing`] (tuning decodes the same
/// readings many times). Token tags are computed on first use: classifying given spans needs none.
pub struct Readings<'a> {
    prep: &'a Prepared<'a>,
    fast: FastReading<'a>,
    neural: Option<NeuralReading<'a>>,
    fast_tags: OnceLock<Vec<TagProbs>>,
    neural_tags: OnceLock<Vec<Option<TagProbs>>>,
}

impl<'a> Readings<'a> {
    /// Pairs the fast reading with the encoder's, if any.
    pub fn new(
        prep: &'a Prepared<'a>,
        fast: FastReading<'a>,
        neural: Option<NeuralReading<'a>>,
    ) -> Readings<'a> {
        Readings {
            prep,
            fast,
            neural,
            fast_tags: OnceLock::new(),
            neural_tags: OnceLock::new(),
        }
    }

    /// Token tags mixed under `m`: the fast model's where there is no encoder.
    fn tags(&self, m: &Mixing) -> std::borrow::Cow<'_, [TagProbs]> {
        let fast = self.fast_tags.get_or_init(|| self.fast.tags());
        let Some(n) = &self.neural else {
            return fast.as_slice().into();
        };
        let neural = self.neural_tags.get_or_init(|| n.token_tags());
        let w = m.span_weight;
        let mut tags = fast.clone();
        for (t, n) in tags.iter_mut().zip(neural) {
            // A token the encoder does not see keeps the fast model's tags.
            let Some(n) = n else { continue };
            let inside = w * (n[1] + n[2]) + (1.0 - w) * (t[1] + t[2]);
            let b = (w * n[1] + (1.0 - w) * t[1]).min(inside);
            *t = [1.0 - inside, b, inside - b];
        }
        tags.into()
    }

    fn classifier<'s>(&'s self, m: &Mixing) -> Mixed<'s> {
        Mixed {
            fast: &self.fast,
            neural: self.neural.as_ref().map(|n| n as &dyn Classifier),
            weight: m.technique_weight,
        }
    }

    /// Technique spans under `m`.
    pub fn detect(&self, m: &Mixing) -> Vec<Detection> {
        let rep = self.fast.repetitions();
        decode::detect(
            self.prep,
            rep,
            &self.tags(m),
            &self.classifier(m),
            &m.decode,
        )
    }

    /// One technique per span row under `m`.
    pub fn classify_rows(&self, spans: &[Span], m: &Mixing) -> Vec<Technique> {
        let rep = self.fast.repetitions();
        let rule = m.decode.repetition_rule;
        decode::classify_rows(self.prep, rep, spans, &self.classifier(m), rule)
    }
}

/// The fast model's technique probabilities, mixed with the encoder's when there is one.
struct Mixed<'a> {
    fast: &'a dyn Classifier,
    neural: Option<&'a dyn Classifier>,
    weight: f32,
}

impl Classifier for Mixed<'_> {
    fn span_techniques(&self, span: Span) -> TechProbs {
        let mut p = self.fast.span_techniques(span);
        if let Some(n) = self.neural {
            let w = self.weight;
            for (p, q) in p.iter_mut().zip(n.span_techniques(span)) {
                *p = w * q + (1.0 - w) * *p;
            }
        }
        p
    }
}
