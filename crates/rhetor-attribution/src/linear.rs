//! A first-order linear-chain tagger over hashed features: Viterbi decoding, averaged-perceptron
//! training and a compact serialisation (only non-zero rows, weights as `i16`).

use rhetor_core::{Error, Result};

/// Maps a feature hash to a bucket.
#[inline]
pub(crate) fn bucket(h: u64, bits: u32) -> u32 {
    (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as u32
}

#[derive(Debug, Clone)]
pub(crate) struct Linear {
    pub bits: u32,
    pub ntags: usize,
    /// `buckets × ntags`.
    pub w: Vec<f32>,
    /// `(ntags + 1) × ntags`: row `ntags` holds the start scores.
    pub trans: Vec<f32>,
}

impl Linear {
    pub fn new(bits: u32, ntags: usize) -> Linear {
        Linear {
            bits,
            ntags,
            w: vec![0.0; (1usize << bits) * ntags],
            trans: vec![0.0; (ntags + 1) * ntags],
        }
    }

    /// Adds the rows of `feats` (bucket ids) to `out` (`ntags` long).
    #[inline]
    pub fn emit(&self, feats: &[u32], out: &mut [f32]) {
        let nt = self.ntags;
        for &f in feats {
            let row = &self.w[f as usize * nt..f as usize * nt + nt];
            for (o, w) in out.iter_mut().zip(row) {
                *o += w;
            }
        }
    }

    pub fn viterbi(&self, em: &[f32], allowed: &[bool]) -> Vec<u8> {
        viterbi(em, self.ntags, &self.trans, allowed)
    }

    /// The inference form: weights quantised to `i16` (what a saved model holds).
    pub fn pack(&self) -> Packed {
        let mut buf = Vec::new();
        self.write(&mut buf);
        Packed::read(&mut buf.as_slice()).expect("a model just written reads back")
    }
}

/// Best tag sequence for emission scores `em` (`n × nt`); `allowed[prev * nt + cur]` says which
/// transitions are legal (`prev == nt` for the start); `trans` is `(nt + 1) × nt` like `allowed`.
pub(crate) fn viterbi(em: &[f32], nt: usize, trans: &[f32], allowed: &[bool]) -> Vec<u8> {
    let n = em.len() / nt;
    {
        if n == 0 {
            return Vec::new();
        }
        let mut score = vec![f32::NEG_INFINITY; n * nt];
        let mut back = vec![0u8; n * nt];
        for t in 0..nt {
            if allowed[nt * nt + t] {
                score[t] = em[t] + trans[nt * nt + t];
            }
        }
        for i in 1..n {
            for t in 0..nt {
                let mut best = f32::NEG_INFINITY;
                let mut arg = 0u8;
                for p in 0..nt {
                    let s = score[(i - 1) * nt + p];
                    if s == f32::NEG_INFINITY || !allowed[p * nt + t] {
                        continue;
                    }
                    let v = s + trans[p * nt + t];
                    if v > best {
                        best = v;
                        arg = p as u8;
                    }
                }
                score[i * nt + t] = best + em[i * nt + t];
                back[i * nt + t] = arg;
            }
        }
        let mut last = 0usize;
        let mut best = f32::NEG_INFINITY;
        for t in 0..nt {
            if score[(n - 1) * nt + t] > best {
                best = score[(n - 1) * nt + t];
                last = t;
            }
        }
        let mut out = vec![0u8; n];
        out[n - 1] = last as u8;
        for i in (1..n).rev() {
            out[i - 1] = back[i * nt + out[i] as usize];
        }
        out
    }
}

/// Weights are stored as one byte each: code 0 is zero, codes 1..=127 are positive levels spaced
/// logarithmically from the smallest kept magnitude to the largest, codes 129..=255 their negatives.
/// The relative error is a few percent and the tables are a quarter of their `f32` size, which keeps
/// them in cache next to the technique model.
const LEVELS: usize = 127;

/// The codebook for weights `w`: `LEVELS` magnitudes (ascending) and the threshold below which a
/// weight is dropped.
fn codebook(w: &[f32]) -> (Vec<f32>, f32) {
    let mut mags: Vec<f32> = w.iter().map(|x| x.abs()).filter(|&x| x > 0.0).collect();
    if mags.is_empty() {
        return (vec![1.0; LEVELS], f32::INFINITY);
    }
    mags.sort_by(|a, b| a.total_cmp(b));
    let hi = *mags.last().unwrap();
    // The smallest 2% of non-zero magnitudes are dropped: rare features with tiny averaged weights.
    let lo = mags[mags.len() / 50].max(hi * 1e-6);
    let (l0, l1) = (lo.ln(), hi.ln());
    let levels = (0..LEVELS)
        .map(|j| (l0 + (l1 - l0) * j as f32 / (LEVELS - 1) as f32).exp())
        .collect();
    (levels, lo / 2.0)
}

/// The code of weight `x`.
fn encode(x: f32, levels: &[f32], cut: f32) -> u8 {
    let m = x.abs();
    if m < cut {
        return 0;
    }
    // Nearest level in log space.
    let i = levels.partition_point(|&l| l < m);
    let j = if i == 0 {
        0
    } else if i == levels.len() {
        levels.len() - 1
    } else if (m / levels[i - 1]).ln() < (levels[i] / m).ln() {
        i - 1
    } else {
        i
    };
    let c = (j + 1) as u8;
    if x < 0.0 {
        c | 0x80
    } else {
        c
    }
}

impl Linear {
    /// Serialises: bits, ntags, transitions, the `LEVELS` codebook magnitudes, then (bucket delta
    /// varint, ntags code bytes) for every row with a non-zero code.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bits.to_le_bytes());
        out.extend_from_slice(&(self.ntags as u32).to_le_bytes());
        for &t in &self.trans {
            out.extend_from_slice(&t.to_le_bytes());
        }
        let (levels, cut) = codebook(&self.w);
        for &l in &levels {
            out.extend_from_slice(&l.to_le_bytes());
        }
        let nt = self.ntags;
        let rows: Vec<usize> = (0..self.w.len() / nt)
            .filter(|&r| {
                self.w[r * nt..r * nt + nt]
                    .iter()
                    .any(|&x| encode(x, &levels, cut) != 0)
            })
            .collect();
        out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
        let mut prev = 0usize;
        for r in rows {
            let mut d = (r - prev) as u64;
            prev = r;
            loop {
                let b = (d & 0x7f) as u8;
                d >>= 7;
                if d == 0 {
                    out.push(b);
                    break;
                }
                out.push(b | 0x80);
            }
            for &x in &self.w[r * nt..r * nt + nt] {
                out.push(encode(x, &levels, cut));
            }
        }
    }
}

/// A tagger for inference: one byte per weight, decoded through a 256-entry table.
#[derive(Debug, Clone)]
pub(crate) struct Packed {
    pub bits: u32,
    pub ntags: usize,
    pub codes: Vec<u8>,
    /// Code → weight.
    pub table: [f32; 256],
    pub trans: Vec<f32>,
    /// The serialised form, kept for writing the model back unchanged.
    raw: Vec<u8>,
}

impl Packed {
    /// Adds the weight rows of `feats` to `out`, for a model of exactly `N` tags (checked at load).
    #[inline]
    #[cfg(test)]
    pub fn emit_n<const N: usize>(&self, feats: &[u32], out: &mut [f32; N]) {
        debug_assert_eq!(self.ntags, N);
        let mut acc = [0f32; N];
        for &f in feats {
            let i = f as usize * N;
            let row: &[u8; N] = self.codes[i..i + N].try_into().expect("row of N codes");
            for k in 0..N {
                acc[k] += self.table[row[k] as usize];
            }
        }
        for k in 0..N {
            out[k] += acc[k];
        }
    }

    /// The decoded weights of one bucket, for a model of exactly `N` tags.
    #[inline]
    pub fn row<const N: usize>(&self, bucket: u32) -> [f32; N] {
        self.codes.as_chunks::<N>().0[bucket as usize].map(|c| self.table[c as usize])
    }

    /// Transition scores with illegal transitions at minus infinity, `(N + 1) × N`.
    pub fn masked_trans(&self, allowed: &[bool]) -> Vec<f32> {
        self.trans
            .iter()
            .zip(allowed)
            .map(|(&t, &a)| if a { t } else { f32::NEG_INFINITY })
            .collect()
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.raw);
    }

    pub fn read(buf: &mut &[u8]) -> Result<Packed> {
        let start: &[u8] = buf;
        let bits = take_u32(buf)?;
        let ntags = take_u32(buf)? as usize;
        if !(8..=24).contains(&bits) || !(1..=8).contains(&ntags) {
            return Err(bad("header"));
        }
        let mut m = Packed {
            bits,
            ntags,
            codes: vec![0; (1usize << bits) * ntags],
            table: [0.0; 256],
            trans: vec![0.0; (ntags + 1) * ntags],
            raw: Vec::new(),
        };
        for t in m.trans.iter_mut() {
            *t = f32::from_bits(take_u32(buf)?);
        }
        for j in 0..LEVELS {
            let l = f32::from_bits(take_u32(buf)?);
            if !l.is_finite() {
                return Err(bad("codebook"));
            }
            m.table[j + 1] = l;
            m.table[(j + 1) | 0x80] = -l;
        }
        let nrows = take_u32(buf)? as usize;
        let mut r = 0usize;
        for _ in 0..nrows {
            let mut d = 0u64;
            let mut shift = 0;
            loop {
                let (&b, rest) = buf.split_first().ok_or_else(|| bad("truncated"))?;
                *buf = rest;
                d |= ((b & 0x7f) as u64) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    break;
                }
                if shift > 63 {
                    return Err(bad("varint"));
                }
            }
            // Checked: a crafted delta must not wrap the row back into range.
            r = usize::try_from(d)
                .ok()
                .and_then(|d| r.checked_add(d))
                .filter(|&r| r < 1usize << bits && buf.len() >= ntags)
                .ok_or_else(|| bad("row out of range or truncated"))?;
            m.codes[r * ntags..(r + 1) * ntags].copy_from_slice(&buf[..ntags]);
            *buf = &buf[ntags..];
        }
        m.raw = start[..start.len() - buf.len()].to_vec();
        Ok(m)
    }
}

fn bad(what: &str) -> Error {
    Error::Invalid(format!("attribution model: corrupt ({what})"))
}

pub(crate) fn take_u32(buf: &mut &[u8]) -> Result<u32> {
    if buf.len() < 4 {
        return Err(bad("truncated"));
    }
    let v = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
    *buf = &buf[4..];
    Ok(v)
}

/// Averaged structured perceptron over a [`Linear`] model.
pub(crate) struct Perceptron {
    pub m: Linear,
    acc_w: Vec<f32>,
    acc_t: Vec<f32>,
    c: f32,
}

impl Perceptron {
    pub fn new(bits: u32, ntags: usize) -> Perceptron {
        let m = Linear::new(bits, ntags);
        Perceptron {
            acc_w: vec![0.0; m.w.len()],
            acc_t: vec![0.0; m.trans.len()],
            m,
            c: 1.0,
        }
    }

    /// One training example: `feats[i]` are token `i`'s buckets, `gold` its tags. Returns whether the
    /// prediction was already right.
    pub fn learn(
        &mut self,
        feats: &[Vec<u32>],
        gold: &[u8],
        allowed: &[bool],
        mask: &dyn Fn(usize, usize) -> bool,
    ) -> bool {
        let nt = self.m.ntags;
        let n = gold.len();
        let mut em = vec![0f32; n * nt];
        for i in 0..n {
            self.m.emit(&feats[i], &mut em[i * nt..(i + 1) * nt]);
            for t in 0..nt {
                if !mask(i, t) {
                    em[i * nt + t] = f32::NEG_INFINITY;
                }
            }
        }
        let pred = self.m.viterbi(&em, allowed);
        let ok = pred == gold;
        if !ok {
            let c = self.c;
            for i in 0..n {
                let (g, p) = (gold[i] as usize, pred[i] as usize);
                if g != p {
                    for &f in &feats[i] {
                        let f = f as usize * nt;
                        self.m.w[f + g] += 1.0;
                        self.acc_w[f + g] += c;
                        self.m.w[f + p] -= 1.0;
                        self.acc_w[f + p] -= c;
                    }
                }
                let (gp, pp) = if i == 0 {
                    (nt, nt)
                } else {
                    (gold[i - 1] as usize, pred[i - 1] as usize)
                };
                if (gp, g) != (pp, p) {
                    self.m.trans[gp * nt + g] += 1.0;
                    self.acc_t[gp * nt + g] += c;
                    self.m.trans[pp * nt + p] -= 1.0;
                    self.acc_t[pp * nt + p] -= c;
                }
            }
        }
        self.c += 1.0;
        ok
    }

    /// One classification example (no sequence): returns whether it was already right.
    pub fn learn_one(&mut self, feats: &[u32], gold: usize) -> bool {
        let nt = self.m.ntags;
        let mut sc = vec![0f32; nt];
        self.m.emit(feats, &mut sc);
        let mut pred = 0;
        for t in 1..nt {
            if sc[t] > sc[pred] {
                pred = t;
            }
        }
        let ok = pred == gold;
        if !ok {
            let c = self.c;
            for &f in feats {
                let f = f as usize * nt;
                self.m.w[f + gold] += 1.0;
                self.acc_w[f + gold] += c;
                self.m.w[f + pred] -= 1.0;
                self.acc_w[f + pred] -= c;
            }
        }
        self.c += 1.0;
        ok
    }

    /// The averaged model.
    pub fn finish(mut self) -> Linear {
        let c = self.c;
        for (w, a) in self.m.w.iter_mut().zip(&self.acc_w) {
            *w -= a / c;
        }
        for (w, a) in self.m.trans.iter_mut().zip(&self.acc_t) {
            *w -= a / c;
        }
        self.m
    }
}

/// Viterbi for `N` tags with reusable buffers; `trans` comes from [`Packed::masked_trans`].
pub(crate) struct Decoder<const N: usize> {
    score: Vec<[f32; N]>,
    back: Vec<[u8; N]>,
}

impl<const N: usize> Decoder<N> {
    pub fn new() -> Decoder<N> {
        Decoder {
            score: Vec::new(),
            back: Vec::new(),
        }
    }

    /// Writes the best tag sequence for emissions `em` into `out`.
    #[allow(clippy::needless_range_loop)]
    pub fn decode(&mut self, em: &[[f32; N]], trans: &[f32], out: &mut Vec<u8>) {
        out.clear();
        let n = em.len();
        if n == 0 {
            return;
        }
        assert_eq!(trans.len(), (N + 1) * N);
        self.score.clear();
        self.back.clear();
        self.score.resize(n, [f32::NEG_INFINITY; N]);
        self.back.resize(n, [0; N]);
        for t in 0..N {
            self.score[0][t] = em[0][t] + trans[N * N + t];
        }
        for i in 1..n {
            let prev = self.score[i - 1];
            let mut cur = [f32::NEG_INFINITY; N];
            let mut bk = [0u8; N];
            for t in 0..N {
                let mut best = f32::NEG_INFINITY;
                let mut arg = 0u8;
                for p in 0..N {
                    let v = prev[p] + trans[p * N + t];
                    if v > best {
                        best = v;
                        arg = p as u8;
                    }
                }
                cur[t] = best + em[i][t];
                bk[t] = arg;
            }
            self.score[i] = cur;
            self.back[i] = bk;
        }
        let last = &self.score[n - 1];
        let mut t = 0;
        for k in 1..N {
            if last[k] > last[t] {
                t = k;
            }
        }
        out.resize(n, 0);
        out[n - 1] = t as u8;
        for i in (1..n).rev() {
            out[i - 1] = self.back[i][out[i] as usize];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoder finds the paths of the reference Viterbi, on pseudo-random scores with the
    /// argument tagger's legal transitions (and on scores with ties: whole numbers).
    #[test]
    fn decoder_matches_the_reference_viterbi() {
        use crate::features::{ARG_ALLOWED, ARG_TAGS};
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut next = |scale: f32, ties: bool| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * scale;
            if ties {
                v.round()
            } else {
                v
            }
        };
        let mut dec = Decoder::<ARG_TAGS>::new();
        let mut out = Vec::new();
        for case in 0..400 {
            let ties = case % 2 == 1;
            let n = 1 + case % 37;
            let trans: Vec<f32> = (0..(ARG_TAGS + 1) * ARG_TAGS)
                .map(|_| next(4.0, ties))
                .collect();
            let em: Vec<[f32; ARG_TAGS]> = (0..n)
                .map(|_| std::array::from_fn(|_| next(8.0, ties)))
                .collect();
            let flat: Vec<f32> = em.iter().flatten().copied().collect();
            let want = viterbi(&flat, ARG_TAGS, &trans, &ARG_ALLOWED);
            let masked: Vec<f32> = trans
                .iter()
                .zip(&ARG_ALLOWED)
                .map(|(&t, &a)| if a { t } else { f32::NEG_INFINITY })
                .collect();
            dec.decode(&em, &masked, &mut out);
            assert_eq!(out, want, "case {case}");
        }
    }

    /// Found by fuzzing (`fuzz/fuzz_targets/model_attribution.rs`): a row delta near `u64::MAX`
    /// after a first row overflowed the running row number (a panic with overflow checks, a wrap
    /// back into range without). The file is refused as corrupt.
    #[test]
    fn row_delta_that_overflows_is_refused() {
        let mut buf = Vec::new();
        for v in [8u32, 1] {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        for _ in 0..2 + LEVELS {
            buf.extend_from_slice(&1.0f32.to_bits().to_le_bytes());
        }
        buf.extend_from_slice(&2u32.to_le_bytes());
        buf.extend_from_slice(&[5, 3]); // row 5, code 3
        buf.extend_from_slice(&[
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 3,
        ]);
        let Err(e) = Packed::read(&mut buf.as_slice()) else {
            panic!("an overflowing row delta was read");
        };
        assert!(e.to_string().contains("row out of range"), "{e}");
        // The same file with a small second delta reads.
        let n = buf.len();
        buf.truncate(n - 11);
        buf.extend_from_slice(&[2, 3]);
        let m = Packed::read(&mut buf.as_slice()).unwrap();
        assert_eq!((m.codes[5], m.codes[7]), (3, 3));
    }
}
