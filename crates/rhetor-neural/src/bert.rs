//! A BERT encoder built from `candle_nn` layers over a `VarMap`, so that fine-tuning reaches every
//! weight. candle's stock `BertModel` uses fused kernels that pass no gradients back; here each op
//! has a differentiable form for training and the fused form for inference.

use candle_core::{CpuStorage, DType, Layout, Module, Result, Shape, Tensor, D};
use candle_nn::{Linear, VarBuilder};
use serde::{Deserialize, Serialize};

/// The fields of a Hugging Face `config.json` that a BERT encoder needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BertConfig {
    /// Wordpiece vocabulary size.
    pub vocab_size: usize,
    /// Width of every hidden state.
    pub hidden_size: usize,
    /// Transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Longest sequence the position table covers.
    pub max_position_embeddings: usize,
    /// Segment types (2 for BERT).
    pub type_vocab_size: usize,
    /// Layer-norm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
}

fn default_eps() -> f64 {
    1e-12
}

/// Layer norm with a differentiable path (training) and candle's fused kernel (inference).
struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    fn new(size: usize, eps: f64, vb: VarBuilder) -> Result<LayerNorm> {
        Ok(LayerNorm {
            weight: vb.get_with_hints(size, "weight", candle_nn::Init::Const(1.0))?,
            bias: vb.get_with_hints(size, "bias", candle_nn::Init::Const(0.0))?,
            eps,
        })
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        if !train && x.is_contiguous() {
            return candle_nn::ops::layer_norm(x, &self.weight, &self.bias, self.eps as f32);
        }
        let n = x.dim(D::Minus1)? as f64;
        let mean = (x.sum_keepdim(D::Minus1)? / n)?;
        let xc = x.broadcast_sub(&mean)?;
        let var = (xc.sqr()?.sum_keepdim(D::Minus1)? / n)?;
        let xn = xc.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        xn.broadcast_mul(&self.weight)?.broadcast_add(&self.bias)
    }
}

fn softmax(x: &Tensor, train: bool) -> Result<Tensor> {
    if !train {
        return candle_nn::ops::softmax_last_dim(x);
    }
    // The max is a constant shift: detaching it keeps the gradient exact and cheaper.
    let max = x.max_keepdim(D::Minus1)?.detach();
    let e = x.broadcast_sub(&max)?.exp()?;
    e.broadcast_div(&e.sum_keepdim(D::Minus1)?)
}

/// GELU for CPU inference: the exact erf form, with erf from Abramowitz & Stegun 7.1.26 (error
/// below 1.5e-7) over all cores. libm's scalar `erff` took 15% of inference time.
struct FastGelu;

/// 0.5·x·(1 + erf(x/√2)).
fn gelu(x: f32) -> f32 {
    let z = (x * std::f32::consts::FRAC_1_SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let erf = 1.0 - poly * (-z * z).exp();
    0.5 * x * (1.0 + erf.copysign(x))
}

impl candle_core::CustomOp1 for FastGelu {
    fn name(&self) -> &'static str {
        "fast-gelu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        use rayon::prelude::*;
        let (CpuStorage::F32(v), Some((a, b))) = (s, l.contiguous_offsets()) else {
            candle_core::bail!("fast-gelu: contiguous f32 input only")
        };
        let mut out = vec![0f32; b - a];
        out.par_chunks_mut(16_384)
            .zip(v[a..b].par_chunks(16_384))
            .for_each(|(o, i)| {
                for (o, &x) in o.iter_mut().zip(i) {
                    *o = gelu(x);
                }
            });
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }
}

fn gelu_act(x: &Tensor, train: bool) -> Result<Tensor> {
    if !train && x.device().is_cpu() && x.dtype() == DType::F32 && x.is_contiguous() {
        x.apply_op1_no_bwd(&FastGelu)
    } else {
        x.gelu_erf()
    }
}

fn dropout(x: &Tensor, p: f32, train: bool) -> Result<Tensor> {
    if train && p > 0.0 {
        candle_nn::ops::dropout(x, p)
    } else {
        Ok(x.clone())
    }
}

struct Embeddings {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    norm: LayerNorm,
    /// Frozen word embeddings save a 30k×h gradient and its optimizer step on every batch.
    freeze_word: bool,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    inter: Linear,
    out: Linear,
    out_norm: LayerNorm,
}

/// The encoder: embeddings and transformer layers.
pub struct Bert {
    cfg: BertConfig,
    emb: Embeddings,
    layers: Vec<Layer>,
    /// Dropout probability used when training.
    pub dropout: f32,
}

impl Bert {
    /// Width of the hidden states.
    pub fn hidden_size(&self) -> usize {
        self.cfg.hidden_size
    }

    /// Builds the encoder, creating or fetching its weights through `vb` under Hugging Face's names
    /// (`embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`, …).
    pub fn new(cfg: &BertConfig, vb: VarBuilder, freeze_word: bool) -> Result<Bert> {
        let h = cfg.hidden_size;
        let init = candle_nn::Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        };
        let e = vb.pp("embeddings");
        let emb = Embeddings {
            word: e.get_with_hints((cfg.vocab_size, h), "word_embeddings.weight", init)?,
            position: e.get_with_hints(
                (cfg.max_position_embeddings, h),
                "position_embeddings.weight",
                init,
            )?,
            token_type: e.get_with_hints(
                (cfg.type_vocab_size, h),
                "token_type_embeddings.weight",
                init,
            )?,
            norm: LayerNorm::new(h, cfg.layer_norm_eps, e.pp("LayerNorm"))?,
            freeze_word,
        };
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{i}"));
            let a = l.pp("attention");
            layers.push(Layer {
                query: candle_nn::linear(h, h, a.pp("self.query"))?,
                key: candle_nn::linear(h, h, a.pp("self.key"))?,
                value: candle_nn::linear(h, h, a.pp("self.value"))?,
                attn_out: candle_nn::linear(h, h, a.pp("output.dense"))?,
                attn_norm: LayerNorm::new(h, cfg.layer_norm_eps, a.pp("output.LayerNorm"))?,
                inter: candle_nn::linear(h, cfg.intermediate_size, l.pp("intermediate.dense"))?,
                out: candle_nn::linear(cfg.intermediate_size, h, l.pp("output.dense"))?,
                out_norm: LayerNorm::new(h, cfg.layer_norm_eps, l.pp("output.LayerNorm"))?,
            });
        }
        Ok(Bert {
            cfg: cfg.clone(),
            emb,
            layers,
            dropout: 0.1,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BertConfig {
        &self.cfg
    }

    /// Hidden states `[batch, len, hidden]` for wordpiece ids `[batch, len]` (u32) and an attention
    /// mask `[batch, len]` (f32, 1 = real token, 0 = padding).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let h = self.cfg.hidden_size;
        let word = if self.emb.freeze_word {
            self.emb.word.detach()
        } else {
            self.emb.word.clone()
        };
        let flat = ids.flatten_all()?;
        let x = word.index_select(&flat, 0)?.reshape((b, t, h))?;
        let pos = self.emb.position.narrow(0, 0, t)?.unsqueeze(0)?;
        let typ = self.emb.token_type.narrow(0, 0, 1)?.unsqueeze(0)?;
        let x = x.broadcast_add(&pos)?.broadcast_add(&typ)?;
        let mut x = dropout(&self.emb.norm.forward(&x, train)?, self.dropout, train)?;
        // Padding gets a large negative score before the softmax: [b, 1, 1, t].
        let bias = ((mask.to_dtype(DType::F32)? - 1.0)? * 10_000.0)?
            .unsqueeze(1)?
            .unsqueeze(1)?;
        let nh = self.cfg.num_attention_heads;
        let hd = h / nh;
        let scale = 1.0 / (hd as f64).sqrt();
        for l in &self.layers {
            let split = |y: Tensor| -> Result<Tensor> {
                y.reshape((b, t, nh, hd))?.transpose(1, 2)?.contiguous()
            };
            let q = split(l.query.forward(&x)?)?;
            let k = split(l.key.forward(&x)?)?;
            let v = split(l.value.forward(&x)?)?;
            let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?.broadcast_add(&bias)?;
            let probs = dropout(&softmax(&scores, train)?, self.dropout, train)?;
            let ctx = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b, t, h))?;
            let a = dropout(&l.attn_out.forward(&ctx)?, self.dropout, train)?;
            let x1 = l.attn_norm.forward(&(a + &x)?, train)?;
            let f = gelu_act(&l.inter.forward(&x1)?, train)?;
            let f = dropout(&l.out.forward(&f)?, self.dropout, train)?;
            x = l.out_norm.forward(&(f + x1)?, train)?;
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_gelu_matches_the_exact_one() {
        let xs: Vec<f32> = (-4000..4000).map(|i| i as f32 / 500.0).collect();
        let t = Tensor::new(xs.as_slice(), &candle_core::Device::Cpu).unwrap();
        let exact = t.gelu_erf().unwrap().to_vec1::<f32>().unwrap();
        let fast = gelu_act(&t, false).unwrap().to_vec1::<f32>().unwrap();
        let worst = exact
            .iter()
            .zip(&fast)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-5, "max difference {worst}");
        // Training keeps the differentiable exact form.
        let train = gelu_act(&t, true).unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(train, exact);
    }
}
