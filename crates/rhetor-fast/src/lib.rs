//! rhetor's fast tier: a linear-chain CRF tags propaganda spans over tokens, a logistic-regression
//! classifier names each span's technique, and a repetition rule catches phrases an article repeats.
//! Trains in about a minute on the PTC train set and analyses megabytes per second on a laptop CPU.
#![deny(missing_docs)]

pub mod features;
pub mod format;
pub mod linear;
mod train;

pub use format::{Manifest, ModelError};
pub use train::{cross_validate, train, CvReport, TrainOptions};

use features::{Feat, Prepared};
use linear::{Crf, FeatureIndex, LogReg, TAGS};
use rhetor_core::{Detection, Document, Span, Technique};
use serde::{Deserialize, Serialize};

/// How token probabilities become spans and spans become techniques. Stored in the model; tuned by
/// cross-validation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Decode {
    /// A token is inside a span when P(B) + P(I) exceeds this.
    pub threshold: f32,
    /// A span also gets its second-best technique (an overlapping span) when that one's probability
    /// is at least this.
    pub second_label: f32,
    /// A span whose content words occurred earlier in the article also gets `Repetition`.
    pub repetition_rule: bool,
}

impl Default for Decode {
    fn default() -> Decode {
        Decode {
            threshold: 0.35,
            second_label: 0.35,
            repetition_rule: true,
        }
    }
}

/// Everything the model learned (the model file's payload).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Params {
    sent_index: FeatureIndex,
    /// Sentence model: does a line hold a propaganda span? Its probability is a tagger feature.
    sent: LogReg,
    tag_index: FeatureIndex,
    /// Taggers trained with different shuffling seeds; their marginals are averaged.
    crf: Vec<Crf>,
    clf_index: FeatureIndex,
    /// Classifiers trained with different shuffling seeds; their probabilities are averaged.
    clf: Vec<LogReg>,
    decode: Decode,
}

/// Another model's opinion, mixed into the fast model's probabilities before it decodes (the
/// accurate tier's ensemble).
pub trait Mix {
    /// Adjusts the tag probabilities `[O, B, I]` of the fast model's tokens, given their spans.
    fn tokens(&self, spans: &[Span], probs: &mut [[f32; 3]]);
    /// Adjusts a span's technique probabilities (indexed like [`Technique::ALL`]).
    fn techniques(&self, span: Span, probs: &mut [f32]);
}

/// The trained fast model.
#[derive(Debug, Clone)]
pub struct FastModel {
    manifest: Manifest,
    params: Params,
}

impl FastModel {
    /// Decodes a model from model-file bytes; `origin` names them in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<FastModel, ModelError> {
        let (manifest, mut params): (Manifest, Params) = format::decode(bytes, origin)?;
        params.sent_index.rebuild();
        params.tag_index.rebuild();
        params.clf_index.rebuild();
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

    /// Mutable manifest (to record scores after training).
    pub fn manifest_mut(&mut self) -> &mut Manifest {
        &mut self.manifest
    }

    /// The decoding settings.
    pub fn decode(&self) -> Decode {
        self.params.decode
    }

    /// Replaces the decoding settings.
    pub fn set_decode(&mut self, d: Decode) {
        self.params.decode = d;
    }

    /// Finds technique spans in a document.
    pub fn predict(&self, doc: &Document) -> Vec<Detection> {
        self.predict_with(doc, &self.params.decode)
    }

    /// Finds technique spans with explicit decoding settings.
    pub fn predict_with(&self, doc: &Document, d: &Decode) -> Vec<Detection> {
        self.predict_mixed(doc, d, None)
    }

    /// Finds technique spans with another model's probabilities mixed into this one's before each
    /// decision (the accurate tier's ensemble), so both tiers share one decoder.
    pub fn predict_mixed(
        &self,
        doc: &Document,
        d: &Decode,
        mix: Option<&dyn Mix>,
    ) -> Vec<Detection> {
        let mut p = Prepared::new(doc);
        p.line_prob = Some(line_probs(
            &p.line_features(),
            &self.params.sent_index,
            &self.params.sent,
        ));
        let spans = self.spans(&p, d, mix);
        let mut out = Vec::with_capacity(spans.len() * 2);
        let mut feats = Vec::new();
        let mut rows = Vec::new();
        let mut probs = Vec::new();
        for (span, conf) in spans {
            self.span_proba(&p, span, &mut feats, &mut rows, &mut probs);
            if let Some(m) = mix {
                m.techniques(span, &mut probs);
            }
            let ranked = rank(&probs);
            let (t1, p1) = ranked[0];
            out.push(Detection {
                span,
                technique: t1,
                confidence: conf * p1,
            });
            let (t2, p2) = ranked[1];
            if p2 >= d.second_label {
                out.push(Detection {
                    span,
                    technique: t2,
                    confidence: conf * p2,
                });
            }
            if d.repetition_rule
                && t1 != Technique::Repetition
                && !(p2 >= d.second_label && t2 == Technique::Repetition)
            {
                let (total, before) = p.repetitions(p.tokens_in(span));
                if total > 1 && before > 0 {
                    out.push(Detection {
                        span,
                        technique: Technique::Repetition,
                        confidence: conf * 0.5,
                    });
                }
            }
        }
        out
    }

    /// Spans (technique-agnostic) with their confidence.
    fn spans(&self, p: &Prepared, d: &Decode, mix: Option<&dyn Mix>) -> Vec<(Span, f32)> {
        if p.is_empty() {
            return Vec::new();
        }
        // Emission scores are computed token by token, so memory is a few floats per token
        // rather than every token's feature list.
        let n_crf = self.params.crf.len();
        let mut em = vec![Vec::with_capacity(p.len()); n_crf];
        let mut feats: Vec<Feat> = Vec::new();
        let mut rows = Vec::new();
        for k in 0..p.len() {
            p.token_features(k, &mut feats);
            self.params.tag_index.lookup(&feats, &mut rows);
            for (e, crf) in em.iter_mut().zip(&self.params.crf) {
                e.push(crf.emission(&rows));
            }
        }
        let mut marg = Vec::new();
        let mut one = Vec::new();
        for (c, crf) in self.params.crf.iter().enumerate() {
            crf.marginals_from(&em[c], if c == 0 { &mut marg } else { &mut one }, None);
            for (m, o) in marg.iter_mut().zip(&one) {
                for t in 0..TAGS {
                    m[t] += o[t];
                }
            }
        }
        let n = self.params.crf.len() as f32;
        for m in &mut marg {
            for v in m.iter_mut() {
                *v /= n;
            }
        }
        if let Some(m) = mix {
            m.tokens(&p.spans, &mut marg);
        }
        let mut out = Vec::new();
        let inside = |k: usize| marg[k][1] + marg[k][2] > d.threshold;
        let mut k = 0;
        while k < p.len() {
            if !inside(k) {
                k += 1;
                continue;
            }
            let s = k;
            let mut sum = 0.0f32;
            // A run continues until a token falls below the threshold or a new span clearly begins.
            loop {
                let pk = marg[k][1] + marg[k][2];
                sum += pk;
                k += 1;
                // A blank line (paragraph break) also ends a span.
                if k >= p.len()
                    || !inside(k)
                    || (marg[k][1] > marg[k][2] && marg[k][1] > 0.5)
                    || p.line[k] > p.line[k - 1] + 1
                {
                    break;
                }
            }
            let span = Span::new(p.spans[s].start(), p.spans[k - 1].end());
            out.push((span, sum / (k - s) as f32));
        }
        out
    }

    fn span_proba(
        &self,
        p: &Prepared,
        span: Span,
        feats: &mut Vec<Feat>,
        rows: &mut Vec<u32>,
        probs: &mut Vec<f32>,
    ) {
        p.span_features(span, feats);
        self.params.clf_index.lookup(feats, rows);
        let mut one = Vec::new();
        probs.clear();
        probs.resize(Technique::ALL.len(), 0.0);
        for m in &self.params.clf {
            m.proba_into(rows, &mut one);
            for (a, b) in probs.iter_mut().zip(&one) {
                *a += b / self.params.clf.len() as f32;
            }
        }
    }

    /// Ranks the techniques of each given span, best first, with probabilities.
    pub fn classify(&self, doc: &Document, spans: &[Span]) -> Vec<Vec<(Technique, f32)>> {
        self.classify_mixed(doc, spans, None)
    }

    /// [`FastModel::classify`] with another model's technique probabilities mixed in.
    pub fn classify_mixed(
        &self,
        doc: &Document,
        spans: &[Span],
        mix: Option<&dyn Mix>,
    ) -> Vec<Vec<(Technique, f32)>> {
        let p = Prepared::new(doc);
        let (mut feats, mut rows, mut probs) = (Vec::new(), Vec::new(), Vec::new());
        spans
            .iter()
            .map(|&s| {
                self.span_proba(&p, s, &mut feats, &mut rows, &mut probs);
                if let Some(m) = mix {
                    m.techniques(s, &mut probs);
                }
                rank(&probs)
            })
            .collect()
    }

    /// One technique per given span, for TC: a span listed k times gets its k best distinct
    /// techniques (PTC lists a span once per technique it carries).
    pub fn classify_rows(&self, doc: &Document, spans: &[Span]) -> Vec<Technique> {
        self.classify_rows_mixed(doc, spans, None)
    }

    /// [`FastModel::classify_rows`] with another model's technique probabilities mixed in.
    pub fn classify_rows_mixed(
        &self,
        doc: &Document,
        spans: &[Span],
        mix: Option<&dyn Mix>,
    ) -> Vec<Technique> {
        let mut ranked = self.classify_mixed(doc, spans, mix);
        if self.params.decode.repetition_rule {
            // A phrase the article already used is Repetition first, whatever else it is.
            let p = Prepared::new(doc);
            for (s, r) in spans.iter().zip(ranked.iter_mut()) {
                let (total, before) = p.repetitions(p.tokens_in(*s));
                if total > 1 && before > 0 {
                    if let Some(i) = r.iter().position(|x| x.0 == Technique::Repetition) {
                        let rep = r.remove(i);
                        r.insert(0, rep);
                    }
                }
            }
        }
        let mut seen: std::collections::HashMap<Span, usize> = std::collections::HashMap::new();
        spans
            .iter()
            .zip(&ranked)
            .map(|(s, r)| {
                let n = seen.entry(*s).or_insert(0);
                let t = r[(*n).min(r.len() - 1)].0;
                *n += 1;
                t
            })
            .collect()
    }
}

/// A line model's probability for each line.
fn line_probs(line_feats: &[Vec<Feat>], index: &FeatureIndex, model: &LogReg) -> Vec<f32> {
    let mut rows = Vec::new();
    let mut probs = Vec::new();
    line_feats
        .iter()
        .map(|f| {
            index.lookup(f, &mut rows);
            model.proba_into(&rows, &mut probs);
            probs[1]
        })
        .collect()
}

fn rank(probs: &[f32]) -> Vec<(Technique, f32)> {
    let mut r: Vec<(Technique, f32)> = probs
        .iter()
        .enumerate()
        .map(|(i, &p)| (Technique::from_index(i).expect("14 classes"), p))
        .collect();
    r.sort_by(|a, b| b.1.total_cmp(&a.1));
    r
}

const _: () = assert!(TAGS == 3);
