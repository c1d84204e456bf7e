//! rhetor's fast tier: a linear-chain CRF tags propaganda spans over tokens, and a logistic-regression
//! classifier names each span's technique. Trains in about a minute on the PTC train set and analyses
//! megabytes per second on a laptop CPU.
//!
//! The tier reads a shared [`Prepared`] document into a [`FastReading`], which answers the
//! [`Tagger`] and [`Classifier`] questions of `rhetor-model`; spans are decoded by that crate's
//! shared decoder, alone ([`FastModel::predict`]) or in the facade's ensemble with the encoder.
#![deny(missing_docs)]

pub mod features;
mod huge;
pub mod linear;
mod raw;
mod train;

pub use rhetor_model::{Decode, Manifest, ModelError, ModelKind};
pub use train::{
    cross_validate, silver_labels, train, tune_on_held, CvReport, FoldF1, HeldTuning, LayoutScores,
    TrainOptions, REFLOW_SENTENCES,
};

use features::{Feat, Features};
use linear::{Crf, FeatureIndex, LogReg, TAGS};
use rhetor_core::{Detection, Document, Prepared, Span, Technique};
use rhetor_model::{container, decode, Classifier, Repetitions, TagProbs, Tagger, TechProbs};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

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

impl Params {
    /// Reads the payload as serde would, field by field in declaration order, the weight vectors
    /// copied whole (see `raw`), and builds the feature tables. Copying the weights and building
    /// the tables are each about half of a load, so the tables are built on the other thread as
    /// soon as their keys are read, while the weights after them are copied.
    fn read(body: &[u8]) -> Result<Params, String> {
        let mut r = raw::Reader { rest: body };
        let mut sent_index = FeatureIndex::read(&mut r, "the sentence features")?;
        let sent = LogReg::read(&mut r, "the sentence model")?;
        let mut tag_index = FeatureIndex::read(&mut r, "the tagger features")?;
        let ((), rest) = rayon::join(
            || {
                tag_index.rebuild();
                sent_index.rebuild();
            },
            || -> Result<_, String> {
                // Each element takes at least 8 bytes, so the count is bounded by what is left.
                let n = r.len(8, "the taggers")?;
                let crf: Vec<Crf> = (0..n)
                    .map(|_| Crf::read(&mut r))
                    .collect::<Result<_, _>>()?;
                let mut clf_index = FeatureIndex::read(&mut r, "the classifier features")?;
                let n = r.len(8, "the classifiers")?;
                let clf: Vec<LogReg> = (0..n)
                    .map(|_| LogReg::read(&mut r, "a classifier"))
                    .collect::<Result<_, _>>()?;
                let mut rest = r.rest;
                let decode: Decode = bincode::deserialize_from(&mut rest)
                    .map_err(|e| format!("decoding settings: {e}"))?;
                if !rest.is_empty() {
                    return Err(format!("{} bytes after the payload's end", rest.len()));
                }
                clf_index.rebuild();
                Ok((crf, clf_index, clf, decode))
            },
        );
        let (crf, clf_index, clf, decode) = rest?;
        Ok(Params {
            sent_index,
            sent,
            tag_index,
            crf,
            clf_index,
            clf,
            decode,
        })
    }

    /// Every table the right size for its feature index, at least one tagger and one classifier:
    /// the checksum catches corruption, not a payload written wrong.
    fn check(&self) -> Result<(), &'static str> {
        if [&self.sent_index, &self.tag_index, &self.clf_index]
            .iter()
            .any(|ix| ix.len() > linear::MAX_ROWS)
        {
            return Err("a feature index with more rows than a table slot can name");
        }
        if !self.sent.fits(self.sent_index.len(), 2) {
            return Err("the sentence model does not fit its feature index");
        }
        if self.crf.is_empty() || !self.crf.iter().all(|c| c.fits(self.tag_index.len())) {
            return Err("no tagger, or one that does not fit its feature index");
        }
        if self.clf.is_empty()
            || !self
                .clf
                .iter()
                .all(|c| c.fits(self.clf_index.len(), rhetor_model::N_TECH))
        {
            return Err("no classifier, or one that does not fit its feature index");
        }
        Ok(())
    }
}

/// The trained fast model.
#[derive(Debug, Clone)]
pub struct FastModel {
    manifest: Manifest,
    params: Params,
}

/// A new manifest for a fast model.
pub fn manifest() -> Manifest {
    Manifest::new(ModelKind::Fast, "fast", rhetor_model::technique_labels())
}

impl FastModel {
    /// Decodes a model from model-file bytes; `origin` names them in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<FastModel, ModelError> {
        let (manifest, params) =
            container::decode_with(bytes, origin, ModelKind::Fast, Params::read)?;
        manifest.check_labels(&rhetor_model::technique_labels(), origin)?;
        params
            .check()
            .map_err(|e| ModelError::Payload(origin.into(), e.into()))?;
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
        container::encode(&self.manifest, &self.params)
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

    /// Reads a prepared document once: features, the sentence model's line probabilities and the
    /// article's repetitions, ready for the tagger and the classifier.
    pub fn read<'a>(&'a self, prep: &'a Prepared<'a>) -> FastReading<'a> {
        let mut f = Features::new(prep);
        f.line_prob = Some(line_probs_flat(
            &f,
            &self.params.sent_index,
            &self.params.sent,
        ));
        FastReading {
            model: self,
            f,
            memo: Mutex::default(),
        }
    }

    /// Finds technique spans in a document, decoded with the model's own settings.
    pub fn predict(&self, doc: &Document) -> Vec<Detection> {
        self.predict_with(doc, &self.params.decode)
    }

    /// Finds technique spans with explicit decoding settings.
    pub fn predict_with(&self, doc: &Document, d: &Decode) -> Vec<Detection> {
        let prep = Prepared::new(doc);
        let r = self.read(&prep);
        decode::detect(&prep, r.repetitions(), &r.tags(), &r, d)
    }

    /// Ranks the techniques of each given span, best first, with probabilities.
    pub fn classify(&self, doc: &Document, spans: &[Span]) -> Vec<Vec<(Technique, f32)>> {
        let prep = Prepared::new(doc);
        let r = self.read(&prep);
        let rule = self.params.decode.repetition_rule;
        decode::classify(&prep, r.repetitions(), spans, &r, rule)
    }

    /// One technique per given span, for TC: a span listed k times gets its k best distinct
    /// techniques (PTC lists a span once per technique it carries).
    pub fn classify_rows(&self, doc: &Document, spans: &[Span]) -> Vec<Technique> {
        let prep = Prepared::new(doc);
        let r = self.read(&prep);
        let rule = self.params.decode.repetition_rule;
        decode::classify_rows(&prep, r.repetitions(), spans, &r, rule)
    }
}

/// The fast model's reading of one document.
pub struct FastReading<'a> {
    model: &'a FastModel,
    f: Features<'a>,
    /// Each span's technique probabilities, once: the decoder, the explanations and tuning's many
    /// decodings all ask for the same spans.
    memo: Mutex<FxHashMap<Span, TechProbs>>,
}

impl FastReading<'_> {
    /// What the article repeats (the decoder's repetition rule reads it).
    pub fn repetitions(&self) -> &Repetitions {
        &self.f.rep
    }

    /// P(O), P(B), P(I) of every token: the taggers' marginals, averaged.
    pub fn tags(&self) -> Vec<TagProbs> {
        let (p, params) = (&self.f, &self.model.params);
        if p.is_empty() {
            return Vec::new();
        }
        // Every token's features, then every token's rows, then each CRF's emissions: whole-document
        // passes, so the table and weight lookups (cache misses, nearly all) can be prefetched
        // ahead. A few hundred kB for an article.
        // About 25 features a token; reserved so the vector is not copied as it grows.
        let (mut feats, mut one_tok) = (Vec::with_capacity(p.len() * 28), Vec::new());
        let mut feat_ends = Vec::with_capacity(p.len());
        for k in 0..p.len() {
            p.token_features(k, &mut one_tok);
            feats.extend_from_slice(&one_tok);
            feat_ends.push(feats.len());
        }
        let (mut rows, mut row_ends) = (Vec::new(), Vec::new());
        params
            .tag_index
            .lookup_all(&feats, &feat_ends, &mut rows, &mut row_ends);
        let em: Vec<Vec<[f32; TAGS]>> = params
            .crf
            .iter()
            .map(|crf| {
                let mut e = Vec::new();
                crf.emissions(&rows, &row_ends, &mut e);
                e
            })
            .collect();
        let mut marg = Vec::new();
        let mut one = Vec::new();
        for (c, crf) in params.crf.iter().enumerate() {
            crf.marginals_from(&em[c], if c == 0 { &mut marg } else { &mut one }, None);
            for (m, o) in marg.iter_mut().zip(&one) {
                for t in 0..TAGS {
                    m[t] += o[t];
                }
            }
        }
        let n = params.crf.len() as f32;
        for m in &mut marg {
            for v in m.iter_mut() {
                *v /= n;
            }
        }
        marg
    }
}

impl FastReading<'_> {
    /// Up to `k` words of the span and its sentence that most drove the classifier towards
    /// `technique`: the word features whose weight for it most exceeds their mean weight over the
    /// techniques (averaged over the classifiers), strongest first, each text once.
    pub fn reasons(&self, span: Span, technique: Technique, k: usize) -> Vec<String> {
        let params = &self.model.params;
        let c = technique.index();
        let n = params.clf.len().max(1) as f32;
        // Rows and weights are cache misses, nearly all: each kind is asked for before any is read.
        let words = self.f.span_words(span);
        for (feat, _) in &words {
            params.clf_index.prefetch(*feat);
        }
        let rows: Vec<Option<u32>> = words
            .iter()
            .map(|(feat, _)| params.clf_index.row(*feat))
            .collect();
        for &row in rows.iter().flatten() {
            for m in &params.clf {
                m.prefetch_row(row);
            }
        }
        let mut scored: Vec<(f32, features::Words)> = words
            .into_iter()
            .zip(rows)
            .filter_map(|((_, words), row)| {
                let row = row?;
                let mut lift = 0.0;
                for m in &params.clf {
                    let w = m.weights(row);
                    lift += w[c] - w.iter().sum::<f32>() / w.len() as f32;
                }
                (lift > 0.0).then_some((lift / n, words))
            })
            .collect();
        // Stable, so equal lifts keep the features' order.
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut out: Vec<String> = Vec::new();
        for (_, w) in scored {
            if out.len() == k {
                break;
            }
            // Function words and punctuation explain nothing to a reader. Tested here, on the
            // strongest few, rather than on every feature of the sentence.
            let telling = self.f.any_word(&w, |t| {
                t.split(' ')
                    .any(|w| w.chars().any(char::is_alphanumeric) && !decode::is_function_word(w))
            });
            if !telling {
                continue;
            }
            let t = self.f.words_text(&w);
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&t)) {
                out.push(t);
            }
        }
        out
    }
}

impl Tagger for FastReading<'_> {
    fn token_tags(&self) -> Vec<Option<TagProbs>> {
        self.tags().into_iter().map(Some).collect()
    }
}

impl Classifier for FastReading<'_> {
    fn span_techniques(&self, span: Span) -> TechProbs {
        if let Some(p) = self.memo.lock().ok().and_then(|m| m.get(&span).copied()) {
            return p;
        }
        let params = &self.model.params;
        let (mut feats, mut rows, mut one) = (Vec::new(), Vec::new(), Vec::new());
        self.f.span_features(span, &mut feats);
        params.clf_index.lookup(&feats, &mut rows);
        let mut probs = [0f32; rhetor_model::N_TECH];
        for m in &params.clf {
            m.proba_into(&rows, &mut one);
            for (a, b) in probs.iter_mut().zip(&one) {
                *a += b / params.clf.len() as f32;
            }
        }
        if let Ok(mut m) = self.memo.lock() {
            m.insert(span, probs);
        }
        probs
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

/// [`line_probs`] of a document's lines, their features and rows in one vector each (lookups
/// prefetched ahead, no vector per line): the same probabilities.
fn line_probs_flat(f: &Features, index: &FeatureIndex, model: &LogReg) -> Vec<f32> {
    let (mut feats, mut ends) = (Vec::new(), Vec::new());
    f.line_features_flat(&mut feats, &mut ends);
    let (mut rows, mut row_ends) = (Vec::new(), Vec::new());
    index.lookup_all(&feats, &ends, &mut rows, &mut row_ends);
    let mut probs = Vec::new();
    let mut start = 0;
    row_ends
        .iter()
        .map(|&end| {
            model.proba_into(&rows[start..end], &mut probs);
            start = end;
            probs[1]
        })
        .collect()
}

const _: () = assert!(TAGS == 3);

#[cfg(test)]
mod tests {
    use super::*;
    use linear::Sgd;
    use rhetor_core::corpus::{Article, LabelRow};

    /// Two sentences, one labelled span, and options that train in a moment.
    fn two_sentences() -> (Vec<Article>, Vec<LabelRow>, TrainOptions) {
        let text = "They are a gang of traitors.\nThe senator said it was a shameful surrender.\n";
        let articles = vec![Article {
            id: "1".into(),
            doc: Document::new(text).unwrap(),
        }];
        let labels = vec![LabelRow {
            id: "1".into(),
            technique: Some(Technique::NameCallingLabeling),
            span: Span::new(9, 27),
            line: 0,
        }];
        let mut opts = TrainOptions {
            min_count: 1,
            classifier_seeds: 1,
            ..TrainOptions::default()
        };
        opts.tagger.epochs = 1;
        opts.classifier.epochs = 1;
        (articles, labels, opts)
    }

    /// A model trained in a moment on two sentences.
    fn tiny() -> FastModel {
        let (articles, labels, opts) = two_sentences();
        train(&articles, &labels, &opts, manifest())
    }

    /// Self-training: the teacher's predictions on an unlabelled article become silver labels under
    /// that article's id, and the student learns from its words (its feature index grows).
    #[test]
    fn self_training_labels_the_unlabelled_and_learns_from_them() {
        let (articles, labels, mut opts) = two_sentences();
        let unlabelled = "Critics called them a gang of traitors.\nVoters met on Tuesday.\n";
        opts.tagger.epochs = 10;
        opts.classifier.epochs = 5;
        let teacher = train(&articles, &labels, &opts, manifest());
        let unl = vec![Article {
            id: "u0:x".into(),
            doc: Document::new(unlabelled).unwrap(),
        }];
        let silver = silver_labels(&teacher, &unl, 0.0);
        assert!(silver_labels(&teacher, &unl, 1.01).is_empty());
        assert!(!silver.is_empty(), "the teacher found nothing");
        assert!(silver
            .iter()
            .all(|r| r.id == "u0:x" && r.technique.is_some()));
        let gang = Span::new(22, 38); // "gang of traitors" in the unlabelled text
        assert!(
            silver
                .iter()
                .any(|r| r.span.start() < gang.end() && gang.start() < r.span.end()),
            "{silver:?}"
        );
        let student = train(
            &articles,
            &labels,
            &TrainOptions {
                unlabelled: std::sync::Arc::new(unl),
                ..opts
            },
            manifest(),
        );
        assert!(
            student.params.tag_index.len() > teacher.params.tag_index.len(),
            "the student's features are the teacher's: the unlabelled article was not trained on"
        );
    }

    /// The flat line features and probabilities are the nested ones, line for line, on text with
    /// blank lines, CRLF, repeated words, quotes and a last line without a newline.
    #[test]
    fn flat_line_features_equal_the_nested_ones() {
        let m = tiny();
        let text = "A gang of traitors!\r\n\r\nThe gang of traitors said \"no\" again.\n\n\nWhy? \
                    Because the gang of traitors lies. It lies.\nShe said: \"A shameful surrender\"";
        let doc = Document::new(text).unwrap();
        let prep = Prepared::new(&doc);
        let f = Features::new(&prep);
        let nested = f.line_features();
        let (mut feats, mut ends) = (Vec::new(), Vec::new());
        f.line_features_flat(&mut feats, &mut ends);
        assert_eq!(ends.len(), nested.len());
        assert_eq!(feats, nested.concat());
        let mut start = 0;
        for (l, &end) in ends.iter().enumerate() {
            assert_eq!(&feats[start..end], nested[l].as_slice(), "line {l}");
            start = end;
        }
        let (ix, sent) = (&m.params.sent_index, &m.params.sent);
        assert_eq!(line_probs_flat(&f, ix, sent), line_probs(&nested, ix, sent));
        assert!(nested.len() > 2);
    }

    /// The hand reader of `raw` reads exactly what serde reads from the same bytes, and refuses a
    /// payload cut anywhere, or with bytes after its end, with an error rather than a panic.
    #[test]
    fn hand_read_equals_serde() {
        let mut m = tiny();
        // Two of each, so the per-element loops run more than once.
        m.params.crf.push(m.params.crf[0].clone());
        m.params.clf.push(m.params.clf[0].clone());
        m.params.decode.threshold = 0.123;
        m.params.decode.repetition_rule = false;
        let body = bincode::serialize(&m.params).unwrap();
        let mut by_serde: Params = bincode::deserialize(&body).unwrap();
        // The hand reader also builds the feature tables.
        for ix in [
            &mut by_serde.sent_index,
            &mut by_serde.tag_index,
            &mut by_serde.clf_index,
        ] {
            ix.rebuild();
        }
        let by_hand = Params::read(&body).unwrap();
        assert_eq!(bincode::serialize(&by_hand).unwrap(), body);
        assert_eq!(format!("{by_hand:?}"), format!("{by_serde:?}"));
        for cut in 0..body.len() {
            assert!(Params::read(&body[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = body.clone();
        long.push(0);
        assert!(Params::read(&long)
            .unwrap_err()
            .contains("after the payload"));
        // A length that claims more than the payload holds.
        let mut huge = body.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(Params::read(&huge).unwrap_err().contains("runs past"));
        // And a whole model file round-trips through the new path.
        let back = FastModel::from_bytes(&m.to_bytes(), "test").unwrap();
        assert_eq!(bincode::serialize(&back.params).unwrap(), body);
    }

    /// Found by fuzzing (`fuzz/fuzz_targets/model_fast.rs`): a payload with a valid checksum whose
    /// sentence model had no classes loaded, and analysing with it panicked (`probs[1]` of an empty
    /// vector). Every table must fit its feature index, or the file is refused at load.
    #[test]
    fn model_whose_tables_do_not_fit_its_feature_index_is_refused() {
        let good = tiny();
        let bytes = good.to_bytes();
        assert!(FastModel::from_bytes(&bytes, "tiny.rhm").is_ok());
        let sgd = Sgd {
            epochs: 0,
            lr: 0.1,
            l2: 0.0,
        };
        type Break = Box<dyn Fn(&mut Params)>;
        let breaks: Vec<(&str, Break)> = vec![
            (
                "sentence model of no classes",
                Box::new(move |p| p.sent = LogReg::train(&[], p.sent_index.len(), 0, sgd, 0)),
            ),
            ("no tagger", Box::new(|p| p.crf.clear())),
            ("no classifier", Box::new(|p| p.clf.clear())),
            (
                "tagger index emptied",
                Box::new(|p| p.tag_index = FeatureIndex::default()),
            ),
            (
                "classifier of two classes",
                Box::new(move |p| p.clf = vec![LogReg::train(&[], p.clf_index.len(), 2, sgd, 0)]),
            ),
        ];
        for (what, f) in breaks {
            let mut m = good.clone();
            f(&mut m.params);
            let e = FastModel::from_bytes(&m.to_bytes(), "broken.rhm")
                .expect_err(what)
                .to_string();
            assert!(e.contains("broken.rhm") && e.contains("fit"), "{what}: {e}");
        }
    }
}
