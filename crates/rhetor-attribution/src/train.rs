//! Training the two taggers from a PolNeAR-style folder (`text/NAME.txt`, `attributions/NAME.ann`),
//! and scoring an [`Attributor`] on one.
//!
//! The shipped model is made by
//! `BIASES=-10,-4,-4 cargo run --release -p rhetor-attribution --example train-attribution -- ../shared/data/polnear/train crates/rhetor-attribution/model/attribution.bin ../shared/data/polnear/dev`
//! (see the crate docs).

use crate::brat::{self, BratAttribution};
use crate::eval::{Report, Scorer};
use crate::extract::{labels, tok_range, window, Attributor, Params};
use crate::features::*;
use crate::lexicon::WordSet;
use crate::linear::Perceptron;
use crate::prep::Prepared;
use rhetor_core::text::DEFAULT_MAX_BYTES;
use rhetor_core::{Document, Error, Result};
use rhetor_model::{Manifest, ModelKind};
use std::path::Path;

/// An article with its gold attributions.
#[derive(Debug, Clone)]
pub struct GoldDoc {
    /// File stem.
    pub name: String,
    /// The text.
    pub doc: Document,
    /// Gold attributions.
    pub atts: Vec<BratAttribution>,
}

/// Reads `dir/text/NAME.txt` and `dir/attributions/NAME.ann` (an absent `.ann` means none), sorted by
/// name.
pub fn read_corpus(dir: &Path) -> Result<Vec<GoldDoc>> {
    let tdir = dir.join("text");
    let adir = dir.join("attributions");
    let rd = std::fs::read_dir(&tdir).map_err(|e| Error::io(&tdir, e))?;
    let mut names: Vec<String> = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(&tdir, e))?;
        if let Some(stem) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.strip_suffix(".txt"))
        {
            names.push(stem.to_string());
        }
    }
    names.sort();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let doc = Document::read(&tdir.join(format!("{name}.txt")), DEFAULT_MAX_BYTES)?;
        let ann = adir.join(format!("{name}.ann"));
        let atts = if ann.exists() {
            brat::read_ann(&ann)?
        } else {
            Vec::new()
        };
        out.push(GoldDoc { name, doc, atts });
    }
    Ok(out)
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Passes over the data.
    pub epochs: usize,
    /// log2 of the feature buckets of the cue tagger (17 lost 0.005 content and speaker F1 in
    /// 5-fold CV to collisions; 20–22 are a plateau).
    pub cue_bits: u32,
    /// log2 of the feature buckets of the argument tagger.
    pub arg_bits: u32,
    /// Shuffling seed.
    pub seed: u64,
    /// A word may start a cue when at least this share of its training occurrences do (or it is in
    /// the built-in lexicon).
    pub cand_rate: f64,
}

impl Default for TrainOptions {
    fn default() -> TrainOptions {
        TrainOptions {
            epochs: 10,
            cue_bits: 20,
            arg_bits: 17,
            seed: 17,
            cand_rate: 0.01,
        }
    }
}

/// The cue of a gold attribution as the extractor would find it: its head (the first word of the
/// gold cue that is neither an auxiliary nor an adverb, preferring lexicon words) and
/// [`cue_extent`].
fn gold_cue(p: &Prepared, a: &BratAttribution, mask: &[u8]) -> Option<(usize, usize)> {
    let (s, e) = tok_range(p, *a.cue.first()?)?;
    let skip = &crate::lexicon::lexicon().cue_openers;
    let content_word = |k: usize| !skip.contains(p.toks[k].w);
    let head = (s..e)
        .find(|&k| mask[k] & 4 != 0 && content_word(k))
        .or_else(|| (s..e).find(|&k| content_word(k)))
        .unwrap_or(s);
    Some((head, cue_extent(p, head)))
}

fn covered(p: &Prepared, spans: &[rhetor_core::Span], out: &mut [bool], offset: usize) {
    for &s in spans {
        if let Some((a, b)) = tok_range(p, s) {
            for k in a..b {
                if k >= offset && k - offset < out.len() {
                    out[k - offset] = true;
                }
            }
        }
    }
}

/// Trains a model. `log` receives one line per epoch.
#[allow(clippy::needless_range_loop)]
pub fn train(docs: &[GoldDoc], opts: &TrainOptions, mut log: impl FnMut(&str)) -> Attributor {
    let lex = lexicon_hashes();
    let cands = learn_candidates(docs, opts.cand_rate, &lex);
    log(&format!(
        "{} cue-start words (+{} in the lexicon)",
        cands.len(),
        lex.len()
    ));
    let mut cue = Perceptron::new(opts.cue_bits, CUE_TAGS);
    let mut mask = Vec::new();
    let mut arg = Perceptron::new(opts.arg_bits, ARG_TAGS);
    let mut order: Vec<usize> = (0..docs.len()).collect();
    let mut rng = opts.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut feats: Vec<Vec<u32>> = Vec::new();
    for epoch in 0..opts.epochs {
        // Fisher–Yates with xorshift.
        for i in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        let (mut cue_ok, mut cue_n, mut arg_ok, mut arg_n) = (0, 0, 0, 0);
        let (mut cov_tok, mut all_tok) = (0usize, 0usize);
        for &di in &order {
            let d = &docs[di];
            let core = rhetor_core::Prepared::new(&d.doc);
            let p = Prepared::new(&core);
            let n = p.toks.len();
            // Gold cues.
            cue_mask(&p, &cands, &lex, &mut mask);
            let mut gold_cues: Vec<(usize, usize)> = d
                .atts
                .iter()
                .filter_map(|a| gold_cue(&p, a, &mask))
                .collect();
            gold_cues.sort();
            gold_cues.dedup();
            cue_mask(&p, &cands, &lex, &mut mask);
            let mut is_head = vec![false; n];
            for &(s, _) in &gold_cues {
                is_head[s] = true;
            }
            let mut para = u32::MAX;
            let mut has_q = false;
            let mut f = Vec::new();
            for i in 0..n {
                if mask[i] & 3 == 0 {
                    continue;
                }
                let t = &p.toks[i];
                let (ps, pe) = p.paras[t.para as usize];
                if t.para != para {
                    para = t.para;
                    has_q = p.toks[ps as usize..pe as usize].iter().any(|t| t.inq);
                }
                cue_features(
                    &p,
                    mask[i],
                    has_q,
                    ps as usize,
                    pe as usize,
                    i,
                    opts.cue_bits,
                    &mut f,
                );
                cue_ok += cue.learn_one(&f, is_head[i] as usize) as usize;
                cue_n += 1;
            }
            // Argument tagger, one gold attribution at a time.
            for a in &d.atts {
                let Some((c0, c1)) = gold_cue(&p, a, &mask) else {
                    continue;
                };
                let (ws, we) = window(&p, c0, c1);
                let len = we - ws;
                let mut is_c = vec![false; len];
                let mut is_s = vec![false; len];
                covered(&p, &a.content, &mut is_c, ws);
                if let Some(s) = &a.source {
                    covered(&p, s, &mut is_s, ws);
                }
                if epoch == 0 {
                    let mut tot = vec![false; n];
                    covered(&p, &a.content, &mut tot, 0);
                    if let Some(s) = &a.source {
                        covered(&p, s, &mut tot, 0);
                    }
                    all_tok += tot.iter().filter(|&&x| x).count();
                    cov_tok += is_c
                        .iter()
                        .zip(&is_s)
                        .enumerate()
                        .filter(|&(k, (&c, &s))| (c || s) && !(ws + k >= c0 && ws + k < c1))
                        .count();
                }
                let mut tags = vec![A_O; len];
                for k in 0..len {
                    let i = ws + k;
                    if i >= c0 && i < c1 {
                        continue;
                    }
                    let prev = if k > 0 { tags[k - 1] } else { A_O };
                    if is_s[k] {
                        tags[k] = if prev == A_BS || prev == A_IS {
                            A_IS
                        } else {
                            A_BS
                        };
                    } else if is_c[k] {
                        tags[k] = if prev == A_BC || prev == A_IC {
                            A_IC
                        } else {
                            A_BC
                        };
                    }
                }
                let ctx = CueCtx::new(&p, c0, c1);
                feats.resize(len, Vec::new());
                for k in 0..len {
                    arg_features(&p, &ctx, ws + k, opts.arg_bits, &mut feats[k]);
                }
                let amask = |k: usize, t: usize| {
                    let i = ws + k;
                    !(i >= c0 && i < c1) || t == A_O as usize
                };
                arg_ok += arg.learn(&feats[..len], &tags, &ARG_ALLOWED, &amask) as usize;
                arg_n += 1;
            }
        }
        let mut line = format!(
            "epoch {}: cue paragraphs right {:.3}, argument windows right {:.3}",
            epoch + 1,
            cue_ok as f64 / cue_n.max(1) as f64,
            arg_ok as f64 / arg_n.max(1) as f64
        );
        if epoch == 0 {
            line.push_str(&format!(
                " (window covers {:.3} of gold role tokens)",
                cov_tok as f64 / all_tok.max(1) as f64
            ));
        }
        log(&line);
    }
    let arg = arg.finish().pack();
    let cue = cue.finish().pack();
    Attributor {
        cue_diff: CueDiff::new(&cue),
        cue,
        arg_tables: ArgTables::new(&arg),
        arg,
        params: Params::default(),
        heads: cue_heads(&cands, &lex),
        cands,
        lex,
        manifest: {
            let mut m = Manifest::new(ModelKind::Attribution, "attribution", labels());
            m.trained_on = format!("{} articles", docs.len());
            m
        },
    }
}

/// Lemmas that start a gold cue in at least `rate` of their occurrences, sorted.
fn learn_candidates(docs: &[GoldDoc], rate: f64, lex: &WordSet) -> WordSet {
    let mut seen: std::collections::HashMap<u64, (u32, u32)> = Default::default();
    let mut mask = Vec::new();
    for d in docs {
        let core = rhetor_core::Prepared::new(&d.doc);
        let p = Prepared::new(&core);
        let mut start = vec![false; p.toks.len()];
        cue_mask(&p, &WordSet::default(), lex, &mut mask);
        for a in &d.atts {
            if let Some((s, _)) = gold_cue(&p, a, &mask) {
                start[s] = true;
            }
        }
        for (t, &s) in p.toks.iter().zip(&start) {
            let e = seen.entry(t.lem).or_default();
            e.0 += 1;
            e.1 += s as u32;
        }
    }
    let mut v: Vec<u64> = seen
        .into_iter()
        .filter(|&(_, (n, c))| c > 0 && c as f64 >= rate * n as f64)
        .map(|(h, _)| h)
        .collect();
    v.sort_unstable();
    WordSet::new(v)
}

/// Extracts from every document and scores against its gold.
pub fn evaluate(att: &Attributor, docs: &[GoldDoc]) -> Report {
    let mut sc = Scorer::new();
    for d in docs {
        let pred = brat::to_brat(&att.extract(&d.doc));
        sc.add(&d.atts, &pred);
    }
    sc.report()
}

impl Attributor {
    /// Sets the decoding biases (added to the "outside" scores; negative values find more cues,
    /// longer contents, more sources).
    pub fn with_biases(mut self, cue: f32, arg: f32, source: f32) -> Attributor {
        self.params = Params {
            cue_bias: cue,
            arg_bias: arg,
            src_bias: source,
        };
        self
    }

    /// The decoding biases (cue, argument, source).
    pub fn biases(&self) -> (f32, f32, f32) {
        (
            self.params.cue_bias,
            self.params.arg_bias,
            self.params.src_bias,
        )
    }
}

/// Scores the argument tagger alone: extraction from the gold cues (for error analysis).
#[doc(hidden)]
pub fn evaluate_gold_cues(att: &Attributor, docs: &[GoldDoc]) -> Report {
    let mut sc = Scorer::new();
    let mut mask = Vec::new();
    for d in docs {
        let core = rhetor_core::Prepared::new(&d.doc);
        let p = Prepared::new(&core);
        cue_mask(&p, &att.cands, &att.lex, &mut mask);
        let mut cues: Vec<(usize, usize)> = d
            .atts
            .iter()
            .filter_map(|a| gold_cue(&p, a, &mask))
            .collect();
        cues.sort();
        cues.dedup();
        let atts = att.find_arguments(&p, &cues);
        let atts = crate::speakers::resolve(&d.doc, &p, atts);
        sc.add(&d.atts, &brat::to_brat(&atts));
    }
    sc.report()
}

/// Cue detection counts (for error analysis): gold heads, gold heads that are candidates,
/// predicted cues, predicted cues that are gold heads.
#[doc(hidden)]
pub fn cue_stats(att: &Attributor, docs: &[GoldDoc]) -> [usize; 4] {
    let mut r = [0usize; 4];
    let mut mask = Vec::new();
    for d in docs {
        let core = rhetor_core::Prepared::new(&d.doc);
        let p = Prepared::new(&core);
        cue_mask(&p, &att.cands, &att.lex, &mut mask);
        let mut heads: Vec<usize> = d
            .atts
            .iter()
            .filter_map(|a| gold_cue(&p, a, &mask))
            .map(|c| c.0)
            .collect();
        heads.sort();
        heads.dedup();
        r[0] += heads.len();
        r[1] += heads.iter().filter(|&&h| mask[h] & 3 != 0).count();
        let pred = att.find_cues(&p);
        r[2] += pred.len();
        r[3] += pred
            .iter()
            .filter(|c| heads.binary_search(&c.0).is_ok())
            .count();
    }
    r
}

/// Missed and spurious cue words (for error analysis): (word, missed, spurious).
#[doc(hidden)]
pub fn cue_errors(att: &Attributor, docs: &[GoldDoc]) -> Vec<(String, usize, usize)> {
    let mut m: std::collections::HashMap<String, (usize, usize)> = Default::default();
    let mut mask = Vec::new();
    for d in docs {
        let core = rhetor_core::Prepared::new(&d.doc);
        let p = Prepared::new(&core);
        cue_mask(&p, &att.cands, &att.lex, &mut mask);
        let mut heads: Vec<usize> = d
            .atts
            .iter()
            .filter_map(|a| gold_cue(&p, a, &mask))
            .map(|c| c.0)
            .collect();
        heads.sort();
        heads.dedup();
        let pred: Vec<usize> = att.find_cues(&p).iter().map(|c| c.0).collect();
        let word = |i: usize| p.text[p.toks[i].b0 as usize..p.toks[i].b1 as usize].to_lowercase();
        for &h in &heads {
            if !pred.contains(&h) {
                m.entry(word(h)).or_default().0 += 1;
            }
        }
        for &h in &pred {
            if heads.binary_search(&h).is_err() {
                m.entry(word(h)).or_default().1 += 1;
            }
        }
    }
    let mut v: Vec<(String, usize, usize)> = m.into_iter().map(|(k, (a, b))| (k, a, b)).collect();
    v.sort_by_key(|x| std::cmp::Reverse(x.1 + x.2));
    v
}
