//! The encoder with its two heads, the model file, and inference over whole articles.

use crate::bert::{Bert, BertConfig};
use crate::pieces::{owners, windows, Pieces};
use crate::span_head::{self, PieceStates, SpanHead};
use crate::NeuralError;
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use rhetor_core::prepared::overlapping;
use rhetor_core::Document;
use rhetor_model::{container, Manifest, ModelKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use tokenizers::Tokenizer;

pub use rhetor_model::{TechProbs, N_TECH};

/// The encoder and its heads: span tags (O/B/I) and technique scores for every wordpiece.
pub struct Net {
    /// The BERT encoder.
    pub bert: Bert,
    si: Linear,
    tc: Linear,
}

impl Net {
    /// Builds the network, creating or fetching weights through `vb`.
    pub fn new(cfg: &BertConfig, vb: VarBuilder, freeze_word: bool) -> candle_core::Result<Net> {
        Ok(Net {
            bert: Bert::new(cfg, vb.clone(), freeze_word)?,
            si: candle_nn::linear(cfg.hidden_size, 3, vb.pp("head.si"))?,
            tc: candle_nn::linear(cfg.hidden_size, N_TECH, vb.pp("head.tc"))?,
        })
    }

    /// Tag logits `[b, t, 3]` and technique logits `[b, t, 14]`.
    pub fn forward(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        train: bool,
    ) -> candle_core::Result<(Tensor, Tensor)> {
        let h = self.bert.forward(ids, mask, train)?;
        Ok((self.si.forward(&h)?, self.tc.forward(&h)?))
    }

    /// Final hidden states `[b, t, hidden]` with the tag and technique logits.
    pub fn forward_states(
        &self,
        ids: &Tensor,
        mask: &Tensor,
    ) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
        let h = self.bert.forward(ids, mask, false)?;
        let (si, tc) = (self.si.forward(&h)?, self.tc.forward(&h)?);
        Ok((h, si, tc))
    }
}

/// How windows are cut and how the ensemble with the fast model mixes and decodes. Stored in the
/// model file; the ensemble part is tuned on held-out articles.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    /// Window length in wordpieces, including `[CLS]` and `[SEP]`.
    pub window: usize,
    /// Pieces between the starts of consecutive windows at inference.
    pub stride: usize,
    /// Windows per forward pass.
    pub batch: usize,
    /// Weight of the encoder's tag probabilities against the fast model's (0 = fast only).
    pub span_weight: f32,
    /// Weight of the encoder's technique probabilities against the fast model's.
    pub technique_weight: f32,
    /// A token is inside a span when its mixed P(B) + P(I) exceeds this.
    pub threshold: f32,
    /// A span also gets its second-best technique when that one's mixed probability is this high.
    pub second_label: f32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            window: 128,
            stride: 96,
            batch: 16,
            span_weight: 0.6,
            technique_weight: 0.5,
            threshold: 0.3,
            second_label: 0.35,
        }
    }
}

/// The ids inference puts around every window (BERT's `[CLS]` and `[SEP]`).
const CLS: u32 = 101;
const SEP: u32 = 102;
/// The most transformer layers a model file may declare.
const MAX_LAYERS: usize = 128;

/// What inference assumes of a configuration and its settings, checked when a model is built or
/// loaded: the checksum catches a corrupt file, not one written wrong, and a zero head count or a
/// window of one piece would panic mid-article (division by zero, a window with no room inside).
fn check_config(c: &BertConfig, s: &Settings) -> Result<(), String> {
    let bad = |what: String| Err(format!("unusable encoder settings: {what}"));
    // `checked_rem` is `None` for zero heads.
    if c.hidden_size == 0 || c.hidden_size.checked_rem(c.num_attention_heads) != Some(0) {
        return bad(format!(
            "{} attention heads do not divide a hidden size of {}",
            c.num_attention_heads, c.hidden_size
        ));
    }
    // Far more layers than any encoder rhetor could ship: a count read from a file must not size
    // an allocation unchecked.
    if c.num_hidden_layers > MAX_LAYERS {
        return bad(format!(
            "{} layers (at most {MAX_LAYERS})",
            c.num_hidden_layers
        ));
    }
    if c.vocab_size <= SEP as usize || c.type_vocab_size == 0 || c.intermediate_size == 0 {
        return bad(format!(
            "vocabulary of {}, {} token types, feed-forward width {}",
            c.vocab_size, c.type_vocab_size, c.intermediate_size
        ));
    }
    if !(c.layer_norm_eps.is_finite() && c.layer_norm_eps > 0.0) {
        return bad(format!("layer-norm epsilon {}", c.layer_norm_eps));
    }
    if s.window < 3 || s.window > c.max_position_embeddings || s.stride == 0 || s.batch == 0 {
        return bad(format!(
            "window {}, stride {}, batch {} (the window needs 3 to {} positions)",
            s.window, s.stride, s.batch, c.max_position_embeddings
        ));
    }
    let unit = |v: f32| (0.0..=1.0).contains(&v);
    if !unit(s.span_weight) || !unit(s.technique_weight) {
        return bad(format!(
            "mixing weights {} and {} (each between 0 and 1)",
            s.span_weight, s.technique_weight
        ));
    }
    if !s.threshold.is_finite() || !s.second_label.is_finite() {
        return bad(format!("thresholds {} and {}", s.threshold, s.second_label));
    }
    Ok(())
}

/// The model file's payload.
#[derive(Serialize, Deserialize)]
struct Payload {
    config: BertConfig,
    settings: Settings,
    /// `tokenizer.json`, with padding and truncation off.
    tokenizer: String,
    /// safetensors bytes, f16.
    weights: Vec<u8>,
}

/// The encoder's probabilities for each wordpiece of a document.
#[derive(Debug, Clone, Default)]
pub struct PieceProbs {
    /// The pieces.
    pub pieces: Pieces,
    /// P(O), P(B), P(I) per piece.
    pub tags: Vec<[f32; 3]>,
    /// Technique distribution per piece (softmax over the 14 techniques).
    pub techs: Vec<[f32; N_TECH]>,
    /// The pieces' final hidden states, kept when the model has a span head.
    pub states: Option<PieceStates>,
    /// The model's span head: when set (with `states`), it gives a span's techniques.
    pub head: Option<Arc<SpanHead>>,
}

/// The fine-tuned encoder, ready for inference.
pub struct NeuralModel {
    manifest: Manifest,
    settings: Settings,
    config: BertConfig,
    tokenizer: Tokenizer,
    tokenizer_json: String,
    net: Net,
    span_head: Option<Arc<SpanHead>>,
    weights: HashMap<String, Tensor>,
    device: Device,
}

impl std::fmt::Debug for NeuralModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NeuralModel")
            .field("manifest", &self.manifest)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Loads a `tokenizer.json` and switches off the padding and truncation it may carry.
pub fn load_tokenizer(json: &str) -> Result<Tokenizer, NeuralError> {
    // Checked here first, as tokenizers 0.23 panics instead of returning an error on two inputs:
    // malformed JSON inside the `decoder` object (`expect("Helper")`), and a `Precompiled`
    // normalizer whose fields do not decode (`expect("Precompiled")`). That normalizer belongs to
    // SentencePiece models, never to the BERT WordPiece tokenizers rhetor's encoder uses.
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| NeuralError::Tokenizer(format!("tokenizer JSON: {e}")))?;
    if has_type(&value, "Precompiled") {
        return Err(NeuralError::Tokenizer(
            "tokenizer JSON: a Precompiled (SentencePiece) normalizer; rhetor reads BERT WordPiece tokenizers"
                .into(),
        ));
    }
    let mut tok: Tokenizer = json
        .parse()
        .map_err(|e: tokenizers::Error| NeuralError::Tokenizer(e.to_string()))?;
    tok.with_padding(None);
    tok.with_truncation(None)
        .map_err(|e| NeuralError::Tokenizer(e.to_string()))?;
    Ok(tok)
}

/// Whether any object in `v` has `"type": kind`.
fn has_type(v: &serde_json::Value, kind: &str) -> bool {
    match v {
        serde_json::Value::Object(m) => {
            m.get("type").and_then(|t| t.as_str()) == Some(kind)
                || m.values().any(|x| has_type(x, kind))
        }
        serde_json::Value::Array(a) => a.iter().any(|x| has_type(x, kind)),
        _ => false,
    }
}

impl NeuralModel {
    /// Builds a model from its parts (training calls this to write the model file).
    pub fn from_parts(
        manifest: Manifest,
        settings: Settings,
        config: BertConfig,
        tokenizer_json: String,
        weights: HashMap<String, Tensor>,
        device: &Device,
    ) -> Result<NeuralModel, NeuralError> {
        check_config(&config, &settings).map_err(NeuralError::Other)?;
        let tokenizer = load_tokenizer(&tokenizer_json)?;
        let f32w: HashMap<String, Tensor> = weights
            .into_iter()
            .map(|(k, v)| Ok((k, v.to_device(device)?.to_dtype(DType::F32)?)))
            .collect::<candle_core::Result<_>>()?;
        let vb = VarBuilder::from_tensors(f32w.clone(), DType::F32, device);
        let net = Net::new(&config, vb, true)?;
        let span_head = SpanHead::from_weights(&f32w, config.hidden_size)
            .map_err(NeuralError::Other)?
            .map(Arc::new);
        Ok(NeuralModel {
            manifest,
            settings,
            config,
            tokenizer,
            tokenizer_json,
            net,
            span_head,
            weights: f32w,
            device: device.clone(),
        })
    }

    /// Decodes a model file's bytes; `origin` names them in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<NeuralModel, NeuralError> {
        let (manifest, payload): (Manifest, Payload) =
            container::decode(bytes, origin, ModelKind::Encoder)?;
        manifest.check_labels(&rhetor_model::technique_labels(), origin)?;
        let device = Device::Cpu;
        let weights = candle_core::safetensors::load_buffer(&payload.weights, &device)
            .map_err(|e| NeuralError::Corrupt(origin.to_string(), e.to_string()))?;
        NeuralModel::from_parts(
            manifest,
            payload.settings,
            payload.config,
            payload.tokenizer,
            weights,
            &device,
        )
        .map_err(|e| NeuralError::Corrupt(origin.to_string(), e.to_string()))
    }

    /// Loads a model file.
    pub fn load(path: &std::path::Path) -> Result<NeuralModel, NeuralError> {
        let bytes = std::fs::read(path)
            .map_err(|e| rhetor_model::ModelError::Io(path.display().to_string(), e))?;
        NeuralModel::from_bytes(&bytes, &path.display().to_string())
    }

    /// The model file's bytes (weights stored as f16).
    pub fn to_bytes(&self) -> Result<Vec<u8>, NeuralError> {
        let mut half = Vec::with_capacity(self.weights.len());
        for (k, v) in &self.weights {
            half.push((k.clone(), v.to_dtype(DType::F16)?));
        }
        half.sort_by(|a, b| a.0.cmp(&b.0));
        let weights = safetensors::tensor::serialize(half.iter().map(|(k, v)| (k, v)), None)
            .map_err(|e| NeuralError::Other(format!("serializing weights: {e}")))?;
        let payload = Payload {
            config: self.config.clone(),
            settings: self.settings,
            tokenizer: self.tokenizer_json.clone(),
            weights,
        };
        Ok(container::encode(&self.manifest, &payload))
    }

    /// What the model says about itself.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Mutable manifest (to record scores).
    pub fn manifest_mut(&mut self) -> &mut Manifest {
        &mut self.manifest
    }

    /// The encoder's configuration.
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// The `tokenizer.json` the model carries.
    pub fn tokenizer_json(&self) -> &str {
        &self.tokenizer_json
    }

    /// The weights (f32), by name: the encoder's and both heads'. Fine-tuning continues from them.
    pub fn weights(&self) -> &HashMap<String, Tensor> {
        &self.weights
    }

    /// Window and ensemble settings.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Replaces the window and ensemble settings.
    pub fn set_settings(&mut self, s: Settings) {
        self.settings = s;
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Tokenizes a document.
    pub fn pieces(&self, doc: &Document) -> Result<Pieces, NeuralError> {
        Pieces::new(&self.tokenizer, doc)
    }

    /// The encoder's tag and technique probabilities for every wordpiece of a document. Long
    /// documents are read in overlapping windows; each piece takes the window where it has the
    /// most context.
    pub fn piece_probs(&self, doc: &Document) -> Result<PieceProbs, NeuralError> {
        self.read_pieces(doc, self.span_head.is_some())
    }

    /// [`NeuralModel::piece_probs`] with the pieces' final hidden states (`states`), whether or
    /// not the model has a span head (training one reads them).
    pub fn piece_states(&self, doc: &Document) -> Result<PieceProbs, NeuralError> {
        self.read_pieces(doc, true)
    }

    fn read_pieces(&self, doc: &Document, keep_states: bool) -> Result<PieceProbs, NeuralError> {
        let pieces = self.pieces(doc)?;
        let (tags, techs, states) = infer(
            &self.net,
            &pieces,
            &self.settings,
            &self.device,
            keep_states,
        )?;
        Ok(PieceProbs {
            pieces,
            tags,
            techs,
            states,
            head: self.span_head.clone(),
        })
    }

    /// The span-level technique head, when the model has one.
    pub fn span_head(&self) -> Option<&SpanHead> {
        self.span_head.as_deref()
    }

    /// Gives the model a span-level technique head (stored with its weights), or removes it.
    pub fn set_span_head(&mut self, head: Option<SpanHead>) -> Result<(), NeuralError> {
        self.weights.remove(span_head::WEIGHT);
        self.weights.remove(span_head::BIAS);
        if let Some(h) = &head {
            for (k, v) in h.to_weights()? {
                self.weights.insert(k, v.to_device(&self.device)?);
            }
        }
        self.span_head = head.map(Arc::new);
        Ok(())
    }
}

/// Tag and technique probabilities per piece, and the pieces' final hidden states when asked.
pub(crate) type Inferred = (Vec<[f32; 3]>, Vec<TechProbs>, Option<PieceStates>);

/// Runs the network over a document's pieces in windows and merges the windows' outputs; with
/// `keep_states`, also each piece's final hidden state (from the same window as its probabilities).
pub(crate) fn infer(
    net: &Net,
    pieces: &Pieces,
    s: &Settings,
    device: &Device,
    keep_states: bool,
) -> Result<Inferred, NeuralError> {
    let n = pieces.len();
    let dim = net.bert.hidden_size();
    let mut states = keep_states.then(|| PieceStates {
        dim,
        hidden: vec![0f32; n * dim],
    });
    if n == 0 {
        return Ok((Vec::new(), Vec::new(), states));
    }
    let inner = s.window - 2;
    let wins = windows(n, inner, s.stride.min(inner), 0);
    let own = owners(n, &wins);
    let mut tags = vec![[0f32; 3]; n];
    let mut techs = vec![[0f32; N_TECH]; n];
    for (bi, chunk) in wins.chunks(s.batch.max(1)).enumerate() {
        let (ids, mask, t) = batch_tensors(&pieces.ids, chunk, device)?;
        let (h, si, tc) = net.forward_states(&ids, &mask)?;
        let h = states.is_some().then(|| h.to_vec3::<f32>()).transpose()?;
        let si = candle_nn::ops::softmax_last_dim(&si)?.to_vec3::<f32>()?;
        let tc = candle_nn::ops::softmax_last_dim(&tc)?.to_vec3::<f32>()?;
        debug_assert_eq!(si[0].len(), t);
        for (j, w) in chunk.iter().enumerate() {
            let widx = bi * s.batch.max(1) + j;
            for i in w.start..w.end {
                if own[i] != widx {
                    continue;
                }
                let pos = 1 + i - w.start;
                tags[i].copy_from_slice(&si[j][pos]);
                techs[i].copy_from_slice(&tc[j][pos]);
                if let (Some(st), Some(h)) = (&mut states, &h) {
                    st.hidden[i * dim..(i + 1) * dim].copy_from_slice(&h[j][pos]);
                }
            }
        }
    }
    Ok((tags, techs, states))
}

/// `[CLS] pieces [SEP]` per window, padded to the longest: ids `[b, t]` (u32), mask `[b, t]` (f32).
pub(crate) fn batch_tensors(
    ids: &[u32],
    wins: &[crate::pieces::Window],
    device: &Device,
) -> candle_core::Result<(Tensor, Tensor, usize)> {
    let t = wins.iter().map(|w| w.end - w.start).max().unwrap_or(0) + 2;
    let mut flat = Vec::with_capacity(wins.len() * t);
    let mut mask = Vec::with_capacity(wins.len() * t);
    for w in wins {
        let len = w.end - w.start;
        flat.push(CLS);
        flat.extend_from_slice(&ids[w.start..w.end]);
        flat.push(SEP);
        mask.extend(std::iter::repeat_n(1f32, len + 2));
        flat.extend(std::iter::repeat_n(0u32, t - len - 2));
        mask.extend(std::iter::repeat_n(0f32, t - len - 2));
    }
    Ok((
        Tensor::from_vec(flat, (wins.len(), t), device)?,
        Tensor::from_vec(mask, (wins.len(), t), device)?,
        t,
    ))
}

/// A span's technique distribution: the span head's when the model has one, else the mean
/// distribution over the pieces that overlap the span (uniform when none do).
pub fn span_techniques(probs: &PieceProbs, span: rhetor_core::Span) -> [f32; N_TECH] {
    if let Some(head) = &probs.head {
        if let Some(x) = span_head::features(probs, span) {
            return head.probs(&x);
        }
    }
    let r = overlapping(&probs.pieces.spans, span);
    if r.is_empty() {
        return [1.0 / N_TECH as f32; N_TECH];
    }
    let n = r.len();
    let mut acc = [0f32; N_TECH];
    for t in &probs.techs[r] {
        for (a, b) in acc.iter_mut().zip(t) {
            *a += b;
        }
    }
    acc.map(|a| a / n as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tiny encoder of the fuzz seeds (`crates/rhetor/examples/fuzz-seeds.rs`), a whole file
    /// after the target's mode byte.
    fn tiny() -> NeuralModel {
        let seed = include_bytes!("../../../fuzz/seeds/model_accurate/tiny-file");
        NeuralModel::from_bytes(&seed[1..], "tiny.rhn").unwrap()
    }

    fn rebuild(m: &NeuralModel, config: BertConfig, settings: Settings) -> Result<(), String> {
        NeuralModel::from_parts(
            m.manifest().clone(),
            settings,
            config,
            m.tokenizer_json().to_string(),
            m.weights().clone(),
            &Device::Cpu,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    /// Found by fuzzing (`fuzz/fuzz_targets/model_accurate.rs`): a tokenizer whose `decoder`
    /// object is not valid JSON panicked inside tokenizers 0.23 (`expect("Helper")`); it is an
    /// error now.
    #[test]
    fn tokenizer_json_malformed_inside_its_decoder_is_an_error() {
        let m = tiny();
        let good = m.tokenizer_json();
        assert!(load_tokenizer(good).is_ok());
        let at = good.find("\"decoder\":").expect("a decoder field") + "\"decoder\":".len();
        let bad = format!(
            "{}{{\"type\": \"WordPiece\", \"prefix\": x}}{}",
            &good[..at],
            &good[at..]
        );
        let e = load_tokenizer(&bad).expect_err("refused").to_string();
        assert!(e.contains("tokenizer JSON"), "{e}");
        // Valid JSON that panics the same way: a Precompiled normalizer whose map is a number.
        let at =
            good.find("\"normalizer\":").expect("a normalizer field") + "\"normalizer\":".len();
        let bad = format!(
            "{}{{\"type\": \"Sequence\", \"normalizers\": [{{\"type\": \"Precompiled\", \"precompiled_charsmap\": 5}}]}},\"unused\":{}",
            &good[..at],
            &good[at..]
        );
        let e = load_tokenizer(&bad).expect_err("refused").to_string();
        assert!(e.contains("Precompiled"), "{e}");
    }

    /// Found by fuzzing (`fuzz/fuzz_targets/model_accurate.rs`): a model file with a valid checksum
    /// whose head count overflowed the attention reshape panicked on the first article, and one
    /// declaring 2^60 layers asked for that many at load; a zero head count, a window of two
    /// pieces or a zero stride would panic the same way. Such files are refused at load.
    #[test]
    fn encoder_settings_that_inference_cannot_use_are_refused() {
        let m = tiny();
        let doc = Document::new("They are a gang of traitors, the senator said.").unwrap();
        assert!(m.piece_probs(&doc).is_ok());
        let (c, s) = (m.config().clone(), m.settings());
        assert_eq!(rebuild(&m, c.clone(), s), Ok(()));
        let configs = [
            BertConfig {
                num_attention_heads: usize::MAX / 2,
                ..c.clone()
            },
            BertConfig {
                num_attention_heads: 0,
                ..c.clone()
            },
            BertConfig {
                num_hidden_layers: 1 << 60,
                ..c.clone()
            },
            BertConfig {
                num_attention_heads: 3,
                ..c.clone()
            },
            BertConfig {
                vocab_size: 100,
                ..c.clone()
            },
            BertConfig {
                layer_norm_eps: f64::NAN,
                ..c.clone()
            },
        ];
        for bad in configs {
            let e = rebuild(&m, bad.clone(), s).expect_err("refused");
            assert!(e.contains("unusable encoder settings"), "{bad:?}: {e}");
        }
        let settings = [
            Settings { window: 2, ..s },
            Settings {
                window: c.max_position_embeddings + 1,
                ..s
            },
            Settings { stride: 0, ..s },
            Settings { batch: 0, ..s },
            Settings {
                span_weight: f32::NAN,
                ..s
            },
            Settings {
                threshold: f32::INFINITY,
                ..s
            },
        ];
        for bad in settings {
            let e = rebuild(&m, c.clone(), bad).expect_err("refused");
            assert!(e.contains("unusable encoder settings"), "{bad:?}: {e}");
        }
    }
}
