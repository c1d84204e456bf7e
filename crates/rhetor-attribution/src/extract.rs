//! The extractor: cue tagging, then one argument tagging per cue.

use crate::features::*;
use crate::lexicon::WordSet;
use crate::linear::{Decoder, Packed};
use crate::prep::{class, flag, Prepared};
use crate::{Attribution, Attributions};
use rhetor_core::prepared::{align, Alignment};
use rhetor_core::{Document, Span};
use rhetor_model::container::{self, Manifest, ModelKind};
use rhetor_model::ModelError;
use serde::{Deserialize, Serialize};

/// The span roles the model finds (its manifest's labels).
pub const LABELS: [&str; 3] = ["Cue", "Source", "Content"];

/// What the model file holds after its manifest: the decoding biases, the learned cue-start
/// lemmas and the two packed taggers.
#[derive(Serialize, Deserialize)]
struct Payload {
    cue_bias: f32,
    arg_bias: f32,
    src_bias: f32,
    /// Lemma hashes that may start a cue, sorted.
    candidates: Vec<u64>,
    /// The cue tagger, packed ([`Packed::write`]).
    #[serde(deserialize_with = "byte_buf")]
    cue: Vec<u8>,
    /// The argument tagger, packed.
    #[serde(deserialize_with = "byte_buf")]
    arg: Vec<u8>,
}

/// Reads a `Vec<u8>` as one byte buffer. Bincode writes a sequence of bytes and a byte buffer
/// alike (a length, then the bytes), but serde's `Vec<u8>` reads the sequence one element at a
/// time: half of the model's load went there.
fn byte_buf<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct Bytes;
    impl<'de> serde::de::Visitor<'de> for Bytes {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("bytes")
        }
        fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
        fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 24));
            while let Some(b) = seq.next_element()? {
                v.push(b);
            }
            Ok(v)
        }
    }
    d.deserialize_byte_buf(Bytes)
}

/// Decoding knobs (tuned on PolNeAR dev; stored with the model).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Params {
    /// Added to the O score of every token by the cue tagger: negative finds more cues.
    pub cue_bias: f32,
    /// Added to the O score by the argument tagger: negative gives longer contents.
    pub arg_bias: f32,
    /// Added to the O score of source tags only: negative finds more sources.
    pub src_bias: f32,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            cue_bias: 0.0,
            arg_bias: 0.0,
            src_bias: 0.0,
        }
    }
}

/// Finds attributions (who says what) in a document. Cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Attributor {
    pub(crate) cue: Packed,
    /// The cue tagger's rows as one-byte score differences, when they fit ([`CueDiff`]).
    pub(crate) cue_diff: Option<CueDiff>,
    pub(crate) arg: Packed,
    /// The argument tagger's rows decoded ahead (see [`ArgTables`]).
    pub(crate) arg_tables: ArgTables,
    pub(crate) params: Params,
    /// Lemma hashes that may start a cue (learned).
    pub(crate) cands: WordSet,
    /// Lemma hashes of the built-in cue lexicon.
    pub(crate) lex: WordSet,
    /// Both sets in one ([`cue_heads`]).
    pub(crate) heads: WordSet,
    /// How it was trained and its scores.
    pub(crate) manifest: Manifest,
}

/// The manifest's labels: [`LABELS`].
pub(crate) fn labels() -> Vec<String> {
    LABELS.iter().map(|l| l.to_string()).collect()
}

/// The token window the argument tagger sees for cue tokens `[c0, c1)`: the cue's sentence and its
/// neighbours in the same paragraph, widened to whole quoted passages (which may run over several
/// paragraphs) and to a quote that opens the next paragraph when the cue ends its own.
pub(crate) fn window(p: &Prepared, c0: usize, c1: usize) -> (usize, usize) {
    let t = &p.toks;
    let s = t[c0].sent as usize;
    let para = t[c0].para;
    let same_para = |k: usize| t[p.sents[k].0 as usize].para == para;
    let lo = if s > 0 && same_para(s - 1) { s - 1 } else { s };
    let hi = if s + 1 < p.sents.len() && same_para(s + 1) {
        s + 1
    } else {
        s
    };
    let mut a = p.sents[lo].0 as usize;
    let mut b = p.sents[hi].1 as usize;
    if let Some((qs, _)) = p.quote_region(a) {
        a = a.min(qs);
    }
    if let Some((_, qe)) = p.quote_region(b - 1) {
        b = b.max(qe);
    }
    // "… he said:" ending a paragraph, then a quoted paragraph.
    let pe = p.paras[para as usize].1 as usize;
    // Not when the paragraph ends a sentence: after "… Clinton said." the next paragraph's quote
    // has its own cue (a paragraph that ends on a closing quote may still run on into the next
    // quote: 5-fold CV speaker F1 0.7296 against 0.7284 without those).
    if b == pe && pe < t.len() && t[pe].class == class::QOPEN && t[pe - 1].class != class::STOP {
        if let Some((_, qe)) = p.quote_region(pe) {
            b = qe;
        }
    }
    let a = a.max(c0.saturating_sub(80));
    let b = b.min(c1 + 150).min(t.len());
    (a, b)
}

/// Token range `[s, e)` of the tokens overlapping code-point span `sp`.
pub(crate) fn tok_range(p: &Prepared, sp: Span) -> Option<(usize, usize)> {
    align(p.spans, sp, Alignment::Expand).map(|r| (r.start, r.end))
}

impl Attributor {
    /// The model shipped with the crate (trained on PolNeAR train; see the crate docs).
    pub fn new() -> Attributor {
        Attributor::from_bytes(crate::MODEL).expect("the embedded attribution model is valid")
    }

    /// The embedded model, loaded once per process (loading takes a few milliseconds; extraction
    /// through a shared reference is thread-safe).
    pub fn shared() -> &'static Attributor {
        static SHARED: std::sync::OnceLock<Attributor> = std::sync::OnceLock::new();
        SHARED.get_or_init(Attributor::new)
    }

    /// Loads a model written by [`Attributor::to_bytes`] (a rhetor model container of kind
    /// `attribution`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Attributor, ModelError> {
        Attributor::from_bytes_named(bytes, "attribution model")
    }

    /// [`Attributor::from_bytes`], naming the bytes' origin (a path) in errors.
    pub fn from_bytes_named(bytes: &[u8], origin: &str) -> Result<Attributor, ModelError> {
        let (manifest, p): (Manifest, Payload) =
            container::decode(bytes, origin, ModelKind::Attribution)?;
        manifest.check_labels(&labels(), origin)?;
        let corrupt = |e: String| ModelError::Payload(origin.into(), e);
        let packed = |raw: &[u8], ntags: usize| {
            let mut buf = raw;
            let m = Packed::read(&mut buf).map_err(|e| corrupt(e.to_string()))?;
            if m.ntags != ntags || !buf.is_empty() {
                return Err(corrupt("tag sets or trailing bytes".into()));
            }
            Ok(m)
        };
        let arg = packed(&p.arg, ARG_TAGS)?;
        let cue = packed(&p.cue, CUE_TAGS)?;
        Ok(Attributor {
            cue_diff: CueDiff::new(&cue),
            cue,
            arg_tables: ArgTables::new(&arg),
            arg,
            params: Params {
                cue_bias: p.cue_bias,
                arg_bias: p.arg_bias,
                src_bias: p.src_bias,
            },
            heads: cue_heads(&WordSet::new(p.candidates.clone()), &lexicon_hashes()),
            cands: WordSet::new(p.candidates),
            lex: lexicon_hashes(),
            manifest,
        })
    }

    /// Serialises the model.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (mut cue, mut arg) = (Vec::new(), Vec::new());
        self.cue.write(&mut cue);
        self.arg.write(&mut arg);
        let payload = Payload {
            cue_bias: self.params.cue_bias,
            arg_bias: self.params.arg_bias,
            src_bias: self.params.src_bias,
            candidates: self.cands.as_slice().to_vec(),
            cue,
            arg,
        };
        container::encode(&self.manifest, &payload)
    }

    /// How the model was trained and its scores.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Sets the manifest (the training command and scores, for the model file).
    pub fn with_manifest(mut self, manifest: Manifest) -> Attributor {
        self.manifest = manifest;
        self
    }

    /// Finds the attributions of a document and resolves their speakers.
    pub fn extract(&self, doc: &Document) -> Attributions {
        self.extract_prepared(&rhetor_core::Prepared::new(doc))
    }

    /// [`Attributor::extract`] on a document already prepared (tokens, lines and sentences shared
    /// with the other stages of an analysis).
    pub fn extract_prepared(&self, doc: &rhetor_core::Prepared) -> Attributions {
        let p = Prepared::new(doc);
        let cues = self.find_cues(&p);
        let atts = self.find_arguments(&p, &cues);
        crate::speakers::resolve(doc.doc(), &p, atts)
    }

    /// Cue token ranges, in text order.
    pub(crate) fn find_cues(&self, p: &Prepared) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut buckets: Vec<u32> = Vec::with_capacity(64);
        let mut has_q = false;
        let mut para = u32::MAX;
        let mut i = 0;
        while i < p.toks.len() {
            // The token's cue mask value, asked as the tagger reaches it (no mask list).
            let lexinfo = cue_mask_value(&self.heads, &self.lex, p.toks[i].lem);
            if lexinfo & 3 == 0 {
                i += 1;
                continue;
            }
            let t = &p.toks[i];
            if t.para != para {
                para = t.para;
                let (ps, pe) = p.paras[para as usize];
                has_q = p.toks[ps as usize..pe as usize].iter().any(|t| t.inq);
            }
            let (ps, pe) = p.paras[para as usize];
            // The buckets first, then their rows asked for together and summed in feature order:
            // the tagger's table is 1 MB (2 MB with two codes a row) and nearly every row is a
            // cache miss, so the misses overlap.
            buckets.clear();
            cue_features_into(
                p,
                lexinfo,
                has_q,
                ps as usize,
                pe as usize,
                i,
                self.cue.bits,
                &mut buckets,
            );
            let margin = match &self.cue_diff {
                Some(d) => d.score(&buckets),
                None => {
                    let mut score = CueScore::new(&self.cue);
                    score.prefetch(&buckets);
                    for &b in &buckets {
                        score.push(b);
                    }
                    score.acc[1] - score.acc[0]
                }
            };
            if margin > self.params.cue_bias || said_that(p, lexinfo, i) {
                let e = cue_extent(p, i);
                out.push((i, e));
                i = e;
            } else {
                i += 1;
            }
        }
        out
    }

    /// One attribution per cue that gets a content.
    pub(crate) fn find_arguments(&self, p: &Prepared, cues: &[(usize, usize)]) -> Vec<Attribution> {
        let mut out = Vec::new();
        let mut em: Vec<[f32; ARG_TAGS]> = Vec::new();
        let mut hb: Vec<[u32; 6]> = Vec::new();
        let trans = self.arg.masked_trans(&ARG_ALLOWED);
        let mut dec = Decoder::<ARG_TAGS>::new();
        let mut tags = Vec::new();
        let mut only_o = [f32::NEG_INFINITY; ARG_TAGS];
        only_o[A_O as usize] = 0.0;
        for &(c0, c1) in cues {
            let ctx = CueCtx::new(p, c0, c1);
            let (a, b) = window(p, c0, c1);
            let rows = CueRows::new(&self.arg, p, &ctx, a, b);
            em.clear();
            let biased = |mut row: [f32; ARG_TAGS]| {
                row[A_O as usize] += self.params.arg_bias;
                row[A_BS as usize] -= self.params.src_bias;
                row[A_IS as usize] -= self.params.src_bias;
                row
            };
            let (g, m) = (&self.arg_tables, &self.arg);
            // The word features' rows of the whole window are asked for first, so that their
            // cache misses overlap; then the window in order (before the cue, the cue itself,
            // after it), each part with its direction fixed.
            hb.clear();
            for i in a..b.min(c0) {
                hb.push(arg_buckets::<false>(p, &ctx, m, i));
            }
            for i in a.max(c1)..b {
                hb.push(arg_buckets::<true>(p, &ctx, m, i));
            }
            for x in &hb {
                prefetch_rows(m, x);
            }
            let mut k = 0;
            for i in a..b.min(c0) {
                em.push(biased(arg_emission_dir::<false>(
                    p, &ctx, &rows, g, m, i, &hb[k],
                )));
                k += 1;
            }
            for _ in a.max(c0)..b.min(c1) {
                em.push(only_o);
            }
            for i in a.max(c1)..b {
                em.push(biased(arg_emission_dir::<true>(
                    p, &ctx, &rows, g, m, i, &hb[k],
                )));
                k += 1;
            }
            dec.decode(&em, &trans, &mut tags);
            if let Some(att) = self
                .assemble(p, a, &tags, c0, c1)
                .or_else(|| quote_then_cue(p, c0, c1))
            {
                out.push(att);
            }
        }
        out
    }

    fn assemble(
        &self,
        p: &Prepared,
        a: usize,
        tags: &[u8],
        c0: usize,
        c1: usize,
    ) -> Option<Attribution> {
        let t = &p.toks;
        let segs = |b: u8, i_: u8| -> Vec<(usize, usize)> {
            let mut v = Vec::new();
            let mut k = 0;
            while k < tags.len() {
                if tags[k] == b || tags[k] == i_ {
                    let s = k;
                    k += 1;
                    while k < tags.len() && tags[k] == i_ {
                        k += 1;
                    }
                    v.push((a + s, a + k));
                } else {
                    k += 1;
                }
            }
            v
        };
        let content_segs = segs(A_BC, A_IC);
        // Contents made only of punctuation are noise.
        let mut content_segs: Vec<(usize, usize)> = content_segs
            .into_iter()
            .filter(|&(s, e)| t[s..e].iter().any(|x| x.class == class::WORD))
            .collect();
        if content_segs.is_empty() {
            // "The park will have a lake, said Mayor Linda Harper.": a source tagged after a cue
            // that follows a comma, and no content; the clause before the comma is what was said.
            let sourced_after = segs(A_BS, A_IS).iter().any(|&(s, _)| s >= c1);
            let s = p.sents[t[c0].sent as usize].0 as usize;
            if sourced_after && c0 >= s + 3 && t[c0 - 1].class == class::COMMA && s >= a {
                content_segs.push((s, c0 - 1));
            } else {
                return None;
            }
        }
        let dist = |&(s, e): &(usize, usize)| {
            if e <= c0 {
                c0 - e
            } else {
                s.saturating_sub(c1)
            }
        };
        let source = segs(A_BS, A_IS)
            .into_iter()
            .min_by_key(dist)
            .map(|(s, e)| Span::new(t[s].span.start(), t[e - 1].span.end()));
        // A quotation running over several paragraphs is one content, even where the tagger saw
        // only the paragraph of the cue.
        let mut segs: Vec<(usize, usize)> = Vec::with_capacity(content_segs.len());
        for (s, e) in content_segs {
            let mut r = (s, e);
            if let Some((qs, qe)) = p.quote_region(s) {
                let multi = t[qs].para != t[qe - 1].para;
                // The quote ends right before the cue (`… end," he noted`) or opens right after
                // it (`said: "…`): the whole quote is what was said.
                let adjacent = qe <= c0 && c0 - qe <= 3 || qs >= c1 && qs - c1 <= 2;
                if (multi || adjacent) && !(qs..qe).contains(&c0) && e <= qe {
                    r = (qs.min(s), qe.max(e));
                }
            }
            match segs.last_mut() {
                Some(last) if r.0 <= last.1 => last.1 = last.1.max(r.1),
                _ => segs.push(r),
            }
        }
        let mut content = Vec::new();
        for &(s, e) in &segs {
            split_paragraphs(p, s, e, &mut content);
        }
        // Mostly quoted, from the first content token to the last (the tokens, not a search for
        // them by offsets: segments are token ranges in text order).
        let direct = {
            let (ts, te) = (segs[0].0, segs[segs.len() - 1].1);
            te > ts && t[ts..te].iter().filter(|x| x.inq).count() * 2 > te - ts
        };
        Some(Attribution {
            content,
            cue: Span::new(t[c0].span.start(), t[c1 - 1].span.end()),
            source,
            speaker: None,
            direct,
        })
    }
}

impl Default for Attributor {
    fn default() -> Attributor {
        Attributor::new()
    }
}

/// "…, and she wrote that …": a speech verb of the lexicon after "and", "but" or a comma and a
/// pronoun, with "that" right after it, is a cue whatever the tagger's score. The tagger misses
/// such a cue inside the content of an earlier one ("Lopez argued that A, and she wrote that B").
fn said_that(p: &Prepared, lexinfo: u8, i: usize) -> bool {
    static WORDS: std::sync::OnceLock<[u64; 3]> = std::sync::OnceLock::new();
    let [that, and, but] =
        *WORDS.get_or_init(|| ["that", "and", "but"].map(crate::lexicon::hash_str));
    let t = &p.toks;
    lexinfo & 4 != 0
        && i > 1
        && t[i - 1].class == class::WORD
        && t[i - 1].flags & flag::PRONOUN != 0
        && t[i - 1].sent == t[i].sent
        // "and" or "but" in lower case (shape 0).
        && (t[i - 2].class == class::COMMA
            || t[i - 2].shape == 0 && (t[i - 2].w == and || t[i - 2].w == but))
        && t.get(i + 1).is_some_and(|n| n.w == that)
}

/// A short line that only attributes the quotation ending the line before it, in one paragraph
/// written one sentence per line (PTC): "“… evidence.”" then "he said." or "Greenwald wrote.".
/// The tagger sees one line at a time there, so it finds no content for the cue; the quotation is
/// the content, and the words before the cue (a name or a pronoun), else those after it ("said
/// Trump."), the source.
fn quote_then_cue(p: &Prepared, c0: usize, c1: usize) -> Option<Attribution> {
    let t = &p.toks;
    let para = t[c0].para as usize;
    let (ps, pe) = (p.paras[para].0 as usize, p.paras[para].1 as usize);
    if !p.soft[para] || c0 - ps > 3 || pe - c1 > 6 || t[ps - 1].class != class::QCLOSE {
        return None;
    }
    let (qs, qe) = p.quote_region(ps - 1)?;
    // The whole quotation, and nothing of the line before it that is not quoted.
    if t[qs].flags & flag::PARA_START == 0 && t[qs].para as usize + 1 == para {
        return None;
    }
    let named = |s: usize, e: usize| {
        e > s
            && t[s..e]
                .iter()
                .all(|x| x.class == class::WORD && (x.flags & (flag::CAP | flag::PRONOUN) != 0))
    };
    let source = if named(ps, c0) {
        Some((ps, c0))
    } else if c0 == ps {
        let e = (c1..pe).find(|&i| t[i].class != class::WORD).unwrap_or(pe);
        named(c1, e).then_some((c1, e))
    } else {
        None
    }?;
    let mut content = Vec::new();
    split_paragraphs(p, qs, qe, &mut content);
    Some(Attribution {
        content,
        cue: Span::new(t[c0].span.start(), t[c1 - 1].span.end()),
        source: Some(Span::new(
            t[source.0].span.start(),
            t[source.1 - 1].span.end(),
        )),
        speaker: None,
        direct: true,
    })
}

/// Appends the code-point spans of tokens `[s, e)`, one per paragraph.
fn split_paragraphs(p: &Prepared, s: usize, e: usize, out: &mut Vec<Span>) {
    let t = &p.toks;
    let mut k = s;
    while k < e {
        let para = t[k].para;
        let mut j = k + 1;
        while j < e && t[j].para == para {
            j += 1;
        }
        out.push(Span::new(t[k].span.start(), t[j - 1].span.end()));
        k = j;
    }
}

impl Attributor {
    /// Seconds spent in each stage (the attribution's own token table, cues, arguments,
    /// speakers) on a document already prepared, as the analyser shares it: for benchmarks.
    #[doc(hidden)]
    pub fn profile(&self, core: &rhetor_core::Prepared) -> [f64; 4] {
        let doc = core.doc();
        let t0 = std::time::Instant::now();
        let p = Prepared::new(core);
        let t1 = std::time::Instant::now();
        let cues = self.find_cues(&p);
        let t2 = std::time::Instant::now();
        let atts = self.find_arguments(&p, &cues);
        let t3 = std::time::Instant::now();
        let _ = crate::speakers::resolve(doc, &p, atts);
        let t4 = std::time::Instant::now();
        [
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            (t4 - t3).as_secs_f64(),
        ]
    }
}
