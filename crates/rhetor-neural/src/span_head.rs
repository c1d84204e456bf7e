//! The span-level technique head: a softmax regression over a span's representation in the
//! fine-tuned encoder (the mean, first and last of its wordpieces' final hidden states, the mean of
//! the per-piece technique head, and its length), trained on gold spans after fine-tuning.
//!
//! The per-piece technique head sees one wordpiece at a time and its mean over a span weighs every
//! piece alike; this head sees the span as a whole (where it starts and ends, what it holds), as
//! the span representations of the published systems do. It lives in the model file as two extra
//! tensors (`head.span.weight`, `head.span.bias`): files without them keep the per-piece mean.

use crate::model::{NeuralModel, PieceProbs};
use crate::NeuralError;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::Optimizer;
use rhetor_core::corpus::{Article, LabelRow};
use rhetor_core::prepared::overlapping;
use rhetor_core::Span;
use rhetor_model::{TechProbs, N_TECH};
use std::collections::HashMap;

/// Tensor names of the head in a model file's weights.
pub const WEIGHT: &str = "head.span.weight";
/// See [`WEIGHT`].
pub const BIAS: &str = "head.span.bias";

/// Features of a span for a hidden size `h`: mean, first and last piece states, mean piece
/// technique distribution, log piece count.
pub fn n_features(h: usize) -> usize {
    3 * h + N_TECH + 1
}

/// The head's weights, folded so that it reads raw (unstandardised) features.
#[derive(Debug, Clone)]
pub struct SpanHead {
    hidden: usize,
    /// `[N_TECH][n_features]`, row-major.
    w: Vec<f32>,
    b: [f32; N_TECH],
}

/// The final hidden states of a document's pieces (`dim` floats a piece), kept when the model has
/// a span head or when training one.
#[derive(Debug, Clone, Default)]
pub struct PieceStates {
    /// Hidden size.
    pub dim: usize,
    /// `pieces × dim` floats.
    pub hidden: Vec<f32>,
}

impl SpanHead {
    /// The head stored in a model's weights, if any; `Err` when its tensors have the wrong shape.
    pub fn from_weights(
        weights: &HashMap<String, Tensor>,
        hidden: usize,
    ) -> Result<Option<SpanHead>, String> {
        let (Some(w), Some(b)) = (weights.get(WEIGHT), weights.get(BIAS)) else {
            return Ok(None);
        };
        let f = n_features(hidden);
        if w.dims() != [N_TECH, f] || b.dims() != [N_TECH] {
            return Err(format!(
                "span head of shape {:?} and {:?}, where [{N_TECH}, {f}] and [{N_TECH}] are needed",
                w.dims(),
                b.dims()
            ));
        }
        let conv = |t: &Tensor| -> Result<Vec<f32>, String> {
            t.to_dtype(DType::F32)
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| e.to_string())
        };
        let w = conv(w)?;
        let bv = conv(b)?;
        if w.iter().chain(&bv).any(|x| !x.is_finite()) {
            return Err("span head weights are not finite".into());
        }
        let mut b = [0f32; N_TECH];
        b.copy_from_slice(&bv);
        Ok(Some(SpanHead { hidden, w, b }))
    }

    /// The head as the two tensors a model file stores.
    pub fn to_weights(&self) -> candle_core::Result<[(String, Tensor); 2]> {
        let f = n_features(self.hidden);
        Ok([
            (
                WEIGHT.to_string(),
                Tensor::from_vec(self.w.clone(), (N_TECH, f), &Device::Cpu)?,
            ),
            (
                BIAS.to_string(),
                Tensor::from_vec(self.b.to_vec(), N_TECH, &Device::Cpu)?,
            ),
        ])
    }

    /// Technique probabilities of a span's features.
    pub fn probs(&self, x: &[f32]) -> TechProbs {
        let f = x.len();
        let mut z = self.b;
        for (t, z) in z.iter_mut().enumerate() {
            let row = &self.w[t * f..(t + 1) * f];
            *z += row.iter().zip(x).map(|(a, b)| a * b).sum::<f32>();
        }
        softmax(z)
    }
}

fn softmax(mut z: TechProbs) -> TechProbs {
    let m = z.iter().copied().fold(f32::MIN, f32::max);
    let mut s = 0.0;
    for v in &mut z {
        *v = (*v - m).exp();
        s += *v;
    }
    z.map(|v| v / s)
}

/// A span's features from its document's piece probabilities and states; `None` when the states
/// were not kept or the span covers no wordpiece (only spaces, say).
pub fn features(probs: &PieceProbs, span: Span) -> Option<Vec<f32>> {
    let states = probs.states.as_ref()?;
    let r = overlapping(&probs.pieces.spans, span);
    if r.is_empty() || states.hidden.len() < r.end * states.dim {
        return None;
    }
    let d = states.dim;
    let row = |i: usize| &states.hidden[i * d..(i + 1) * d];
    let n = r.len() as f32;
    let mut x = vec![0f32; n_features(d)];
    for i in r.clone() {
        for (a, b) in x[..d].iter_mut().zip(row(i)) {
            *a += b / n;
        }
    }
    x[d..2 * d].copy_from_slice(row(r.start));
    x[2 * d..3 * d].copy_from_slice(row(r.end - 1));
    for t in &probs.techs[r.clone()] {
        for (a, b) in x[3 * d..3 * d + N_TECH].iter_mut().zip(t) {
            *a += b / n;
        }
    }
    x[3 * d + N_TECH] = (1.0 + n).ln();
    Some(x)
}

/// Training examples of one article: features (`n_features` a row) and technique indices.
type Examples = (Vec<f32>, Vec<u32>);

/// How the head is trained.
#[derive(Debug, Clone, Copy)]
pub struct HeadOptions {
    /// L2 penalty on the standardised weights (per example).
    pub l2: f64,
    /// Full-batch AdamW steps.
    pub steps: usize,
    /// Learning rate.
    pub lr: f64,
}

impl Default for HeadOptions {
    fn default() -> HeadOptions {
        HeadOptions {
            // The middle of the plateau measured on fold 4 (0.01 to 0.2 all beat no head; 0.001
            // overfits the in-sample states and loses TC): BENCHMARKS.md, "span-level head".
            l2: 0.05,
            steps: 300,
            lr: 0.02,
        }
    }
}

/// Trains the span head of `model` on the gold spans of `articles` (every row of `labels` on
/// them is one example: a span listed with two techniques is two). `progress` gets the number of
/// articles read so far. Returns the head and the final training loss.
pub fn train_head(
    model: &NeuralModel,
    articles: &[Article],
    labels: &[LabelRow],
    opts: &HeadOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<(SpanHead, f32), NeuralError> {
    use rayon::prelude::*;
    let mut by_id: HashMap<&str, Vec<&LabelRow>> = HashMap::new();
    for r in labels {
        if r.technique.is_some() {
            by_id.entry(r.id.as_str()).or_default().push(r);
        }
    }
    let hidden = model.config().hidden_size;
    let f = n_features(hidden);
    let mut xs: Vec<f32> = Vec::new();
    let mut ys: Vec<u32> = Vec::new();
    // Articles in small parallel groups: the encoder uses every core itself, and the states of a
    // whole corpus would not fit in memory at once.
    for (gi, group) in articles.chunks(4).enumerate() {
        let rows: Vec<Result<Examples, NeuralError>> = group
            .par_iter()
            .map(|a| {
                let gold = by_id.get(a.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                if gold.is_empty() {
                    return Ok((Vec::new(), Vec::new()));
                }
                let probs = model.piece_states(&a.doc)?;
                let mut x = Vec::new();
                let mut y = Vec::new();
                for r in gold {
                    if let (Some(v), Some(t)) = (features(&probs, r.span), r.technique) {
                        x.extend(v);
                        y.push(t.index() as u32);
                    }
                }
                Ok((x, y))
            })
            .collect();
        for r in rows {
            let (x, y) = r?;
            xs.extend(x);
            ys.extend(y);
        }
        progress(((gi + 1) * 4).min(articles.len()));
    }
    let n = ys.len();
    if n == 0 {
        return Err(NeuralError::Other(
            "no labelled span to train the span head on".into(),
        ));
    }
    // Standardise, so one L2 penalty suits every feature group; folded back into the weights.
    let mut mu = vec![0f64; f];
    let mut sd = vec![0f64; f];
    for row in xs.chunks(f) {
        for (m, v) in mu.iter_mut().zip(row) {
            *m += *v as f64;
        }
    }
    mu.iter_mut().for_each(|m| *m /= n as f64);
    for row in xs.chunks(f) {
        for ((s, v), m) in sd.iter_mut().zip(row).zip(&mu) {
            *s += (*v as f64 - m).powi(2);
        }
    }
    let sd: Vec<f64> = sd.iter().map(|s| (s / n as f64).sqrt().max(1e-3)).collect();
    let z: Vec<f32> = xs
        .chunks(f)
        .flat_map(|row| {
            row.iter()
                .zip(&mu)
                .zip(&sd)
                .map(|((v, m), s)| ((*v as f64 - m) / s) as f32)
        })
        .collect();
    let dev = Device::Cpu;
    let x = Tensor::from_vec(z, (n, f), &dev)?;
    let y = Tensor::from_vec(ys, n, &dev)?;
    let w = Var::zeros((f, N_TECH), DType::F32, &dev)?;
    let b = Var::zeros(N_TECH, DType::F32, &dev)?;
    let mut opt = candle_nn::AdamW::new(
        vec![w.clone(), b.clone()],
        candle_nn::ParamsAdamW {
            lr: opts.lr,
            weight_decay: 0.0,
            ..Default::default()
        },
    )?;
    let mut last = f32::NAN;
    for _ in 0..opts.steps {
        let logits = x.matmul(w.as_tensor())?.broadcast_add(b.as_tensor())?;
        let ce = candle_nn::loss::cross_entropy(&logits, &y)?;
        let loss = (&ce + (w.as_tensor().sqr()?.sum_all()? * (opts.l2 / 2.0))?)?;
        opt.backward_step(&loss)?;
        last = ce.to_scalar::<f32>()?;
    }
    // z = (x - mu) / sd: w'[t][j] = w[j][t] / sd[j]; b'[t] = b[t] - sum_j w[j][t] mu[j] / sd[j].
    let wv = w.as_tensor().to_vec2::<f32>()?;
    let bv = b.as_tensor().to_vec1::<f32>()?;
    let mut wf = vec![0f32; N_TECH * f];
    let mut bf = [0f32; N_TECH];
    for t in 0..N_TECH {
        let mut shift = 0f64;
        for j in 0..f {
            let v = wv[j][t] as f64 / sd[j];
            wf[t * f + j] = v as f32;
            shift += v * mu[j];
        }
        bf[t] = (bv[t] as f64 - shift) as f32;
    }
    Ok((
        SpanHead {
            hidden,
            w: wf,
            b: bf,
        },
        last,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhetor_core::{Document, Technique};

    /// The tiny encoder of the fuzz seeds (`crates/rhetor/examples/fuzz-seeds.rs`).
    fn tiny() -> NeuralModel {
        let seed = include_bytes!("../../../fuzz/seeds/model_accurate/tiny-file");
        NeuralModel::from_bytes(&seed[1..], "tiny.rhn").unwrap()
    }

    fn row(id: &str, t: Technique, text: &str, phrase: &str) -> LabelRow {
        let start = text[..text.find(phrase).unwrap()].chars().count();
        LabelRow {
            id: id.into(),
            technique: Some(t),
            span: Span::new(start, start + phrase.chars().count()),
            line: 0,
        }
    }

    /// Two techniques told apart by the words of their spans: the head learns them from the
    /// encoder's states, survives the model file (stored as f16), and a file without it keeps the
    /// per-piece mean.
    #[test]
    fn the_head_learns_from_span_states_and_survives_the_model_file() {
        let mut m = tiny();
        let mut articles = Vec::new();
        let mut labels = Vec::new();
        let phrases = [
            (Technique::NameCallingLabeling, "a gang of traitors"),
            (Technique::FlagWaving, "our great nation"),
        ];
        for i in 0..6 {
            let text = format!(
                "Article {i}. They are a gang of traitors, he said. We love our great nation. \
                 The weather was mild on day {i}."
            );
            let id = format!("{}", 100 + i);
            for (t, p) in phrases {
                labels.push(row(&id, t, &text, p));
            }
            articles.push(Article {
                id,
                doc: Document::new(text).unwrap(),
            });
        }
        let opts = HeadOptions {
            l2: 1e-4,
            steps: 200,
            lr: 0.05,
        };
        let mut seen = 0;
        let (head, loss) = train_head(&m, &articles, &labels, &opts, &mut |d| seen = d).unwrap();
        assert_eq!(seen, articles.len());
        assert!(loss < 0.1, "training loss {loss}");
        let doc = &articles[0].doc;
        let before = m.piece_probs(doc).unwrap();
        assert!(before.head.is_none() && before.states.is_none());
        m.set_span_head(Some(head)).unwrap();
        let m = NeuralModel::from_bytes(&m.to_bytes().unwrap(), "round trip").unwrap();
        assert!(m.span_head().is_some());
        let probs = m.piece_probs(doc).unwrap();
        for r in labels.iter().filter(|r| r.id == articles[0].id) {
            let p = crate::model::span_techniques(&probs, r.span);
            let t = r.technique.unwrap();
            assert!(p[t.index()] > 0.8, "{t:?}: {p:?}");
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
        // A span over spaces only has no pieces: the uniform fallback, not a panic.
        let p = crate::model::span_techniques(&probs, Span::new(10, 11));
        assert!(
            p.iter().all(|v| (v - 1.0 / N_TECH as f32).abs() < 1e-6),
            "{p:?}"
        );
    }

    /// A head of the wrong shape in a model file (it passed its checksum) is refused at load.
    #[test]
    fn a_head_of_the_wrong_shape_is_refused() {
        let m = tiny();
        let mut w = m.weights().clone();
        let h = m.config().hidden_size;
        let dev = Device::Cpu;
        w.insert(
            WEIGHT.into(),
            Tensor::zeros((N_TECH, n_features(h) - 1), DType::F32, &dev).unwrap(),
        );
        w.insert(
            BIAS.into(),
            Tensor::zeros(N_TECH, DType::F32, &dev).unwrap(),
        );
        let e = NeuralModel::from_parts(
            m.manifest().clone(),
            m.settings(),
            m.config().clone(),
            m.tokenizer_json().to_string(),
            w,
            &dev,
        )
        .expect_err("refused")
        .to_string();
        assert!(e.contains("span head of shape"), "{e}");
    }
}
