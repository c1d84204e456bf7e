//! The two learners: a linear-chain CRF over O/B/I token tags, and multinomial logistic
//! regression. Both train with AdaGrad and L2 over sparse hashed features.

// Forward–backward and the gradients index small dense tag matrices; index loops read like the maths.
#![allow(clippy::needless_range_loop)]

use crate::features::Feat;
use crate::raw::Reader;
use rhetor_model::Lcg;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Maps the feature hashes seen in training (often enough) to dense rows.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FeatureIndex {
    keys: Vec<Feat>,
    #[serde(skip)]
    table: Table,
}

/// An open-addressing table from feature hash to row, linear probing, at most half full. Hand-rolled
/// rather than a general map because lookups are most of the fast tier's time and nearly every one
/// misses the cache: [`FeatureIndex::lookup`] prefetches the slots of a whole token's features
/// before it probes any, so the misses overlap instead of queueing behind each other.
///
/// A slot is 8 bytes: a 40-bit fingerprint of the feature hash (bits independent of the ones that
/// pick the home slot) and a 24-bit row: half the memory and cache of a full key and row. A feature is then known by its home slot and
/// fingerprint, about 61 bits in all instead of 64: an unseen feature is taken for a known one
/// with odds of about one in 10^12 per lookup (the tables are at most half full, so a miss meets
/// one or two slots), the same kind of collision feature hashing already makes between features.
#[derive(Debug, Clone, Default)]
struct Table {
    slots: Vec<u64>,
    /// log2 of the number of slots.
    bits: u32,
}

const EMPTY: u64 = u64::MAX;
const ROW_BITS: u32 = 24;
const ROW_MASK: u64 = (1 << ROW_BITS) - 1;
/// Rows an index may have: every row below the all-ones 24-bit value (which only `EMPTY` holds).
pub const MAX_ROWS: usize = ROW_MASK as usize;

impl Table {
    fn new(keys: &[Feat]) -> Table {
        assert!(
            keys.len() <= MAX_ROWS,
            "a feature index of {} rows",
            keys.len()
        );
        // 2× the keys, rounded up to a power of two: short probes, and a miss ends at an empty slot.
        let bits = (keys.len().max(1) * 2).next_power_of_two().trailing_zeros();
        let mut t = Table {
            slots: crate::huge::filled(1 << bits, EMPTY),
            bits,
        };
        let mask = t.slots.len() - 1;
        for (row, &key) in keys.iter().enumerate() {
            // The keys are sorted by value, so their slots are scattered: prefetched ahead, as
            // in lookups. (Inserting in the order of the home slots, after a counting sort, was
            // slower: 26-29 ms -> 35-44 ms of model load.)
            if let Some(&ahead) = keys.get(row + AHEAD) {
                prefetch(&t.slots[t.home(ahead)]);
            }
            let mut i = t.home(key);
            while t.slots[i] != EMPTY {
                i = (i + 1) & mask;
            }
            t.slots[i] = Self::fingerprint(key) | row as u64;
        }
        t
    }

    /// The first slot to probe: the top bits of a multiplicative hash (the features' own low bits
    /// come from FxHasher's last multiply, and are weak).
    #[inline]
    fn home(&self, key: Feat) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.bits)) as usize
    }

    /// The top 40 bits of a second multiplicative hash, in place above the row bits.
    #[inline]
    fn fingerprint(key: Feat) -> u64 {
        key.wrapping_mul(0xD6E8_FEB8_6659_FD93) & !ROW_MASK
    }

    #[inline]
    fn get(&self, key: Feat) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let fp = Self::fingerprint(key);
        let mut i = self.home(key);
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return None;
            }
            if s & !ROW_MASK == fp {
                return Some((s & ROW_MASK) as u32);
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    fn prefetch(&self, key: Feat) {
        if let Some(s) = self.slots.get(self.home(key)) {
            prefetch(s);
        }
    }
}

/// Asks for the cache line of `x` without waiting for it.
#[inline(always)]
pub(crate) fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it reads nothing and cannot fault.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

impl FeatureIndex {
    /// Keeps the features that occur at least `min_count` times.
    pub fn build<'a>(streams: impl Iterator<Item = &'a [Feat]>, min_count: u32) -> FeatureIndex {
        let mut counts: FxHashMap<Feat, u32> = FxHashMap::default();
        for s in streams {
            for &f in s {
                *counts.entry(f).or_insert(0) += 1;
            }
        }
        let mut kept: Vec<(Feat, u32)> = counts
            .into_iter()
            .filter(|&(_, c)| c >= min_count)
            .collect();
        if kept.len() > MAX_ROWS {
            // More than a slot can name: the most frequent (ties by hash, so runs agree).
            kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            kept.truncate(MAX_ROWS);
        }
        let mut keys: Vec<Feat> = kept.into_iter().map(|(f, _)| f).collect();
        keys.sort_unstable();
        let mut ix = FeatureIndex {
            keys,
            table: Table::default(),
        };
        ix.rebuild();
        ix
    }

    /// Reads what serde writes (the keys); the table is left for [`FeatureIndex::rebuild`].
    pub(crate) fn read(r: &mut Reader, what: &str) -> Result<FeatureIndex, String> {
        Ok(FeatureIndex {
            keys: r.u64s(what)?,
            table: Table::default(),
        })
    }

    /// Rebuilds the lookup table after deserialising.
    pub fn rebuild(&mut self) {
        self.table = Table::new(&self.keys);
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The row of one feature, when it is known.
    pub fn row(&self, f: Feat) -> Option<u32> {
        self.table.get(f)
    }

    /// Asks for the cache line where `f`'s row would be found, without waiting for it.
    #[inline]
    pub fn prefetch(&self, f: Feat) {
        self.table.prefetch(f);
    }

    /// Rows of the known features among `feats`, in their order.
    pub fn lookup(&self, feats: &[Feat], out: &mut Vec<u32>) {
        out.clear();
        for &f in feats {
            self.table.prefetch(f);
        }
        out.extend(feats.iter().filter_map(|&f| self.table.get(f)));
    }

    /// [`FeatureIndex::lookup`] over many tokens at once: token `k`'s features are
    /// `feats[ends[k - 1]..ends[k]]` (from 0 for the first), and its known rows end up in
    /// `rows[row_ends[k - 1]..row_ends[k]]`, in the same order. The slot of the feature a fixed
    /// distance ahead is prefetched before each probe, so a miss is already on its way when its
    /// turn comes.
    pub fn lookup_all(
        &self,
        feats: &[Feat],
        ends: &[usize],
        rows: &mut Vec<u32>,
        row_ends: &mut Vec<usize>,
    ) {
        rows.clear();
        row_ends.clear();
        rows.reserve(feats.len());
        row_ends.reserve(ends.len());
        let mut start = 0;
        for &end in ends {
            for i in start..end {
                if let Some(&ahead) = feats.get(i + AHEAD) {
                    self.table.prefetch(ahead);
                }
                if let Some(row) = self.table.get(feats[i]) {
                    rows.push(row);
                }
            }
            row_ends.push(rows.len());
            start = end;
        }
    }
}

/// How far ahead lookups and weight reads prefetch: enough misses in flight to cover memory's
/// latency, few enough that the lines are still in L1 when their turn comes.
const AHEAD: usize = 64;

/// Training settings shared by both learners.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Sgd {
    /// Passes over the data.
    pub epochs: usize,
    /// AdaGrad base learning rate.
    pub lr: f32,
    /// L2 strength, applied to the weights each update touches.
    pub l2: f32,
}

/// Number of tags: O, B, I.
pub const TAGS: usize = 3;
/// Outside any span.
pub const O: u8 = 0;
/// First token of a span.
pub const B: u8 = 1;
/// Inside a span.
pub const I: u8 = 2;

/// A linear-chain CRF over O/B/I.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Crf {
    w: Vec<f32>,
    trans: [[f32; TAGS]; TAGS],
    start: [f32; TAGS],
}

/// A token sequence as feature rows per token.
pub type Seq = Vec<Vec<u32>>;

impl Crf {
    /// Trains on sequences of feature rows with gold tags.
    pub fn train(data: &[(Seq, Vec<u8>)], n_feats: usize, sgd: Sgd, seed: u64) -> Crf {
        let mut crf = Crf {
            w: vec![0.0; n_feats * TAGS],
            trans: [[0.0; TAGS]; TAGS],
            start: [0.0; TAGS],
        };
        let mut g2 = vec![0.0f32; n_feats * TAGS];
        let mut g2_t = [[0.0f32; TAGS]; TAGS];
        let mut g2_s = [0.0f32; TAGS];
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut rng = Lcg(seed);
        let mut marg = Vec::new();
        let mut pair = Vec::new();
        for _ in 0..sgd.epochs {
            rng.shuffle(&mut order);
            for &d in &order {
                let (x, y) = &data[d];
                if x.is_empty() {
                    continue;
                }
                crf.marginals(x, &mut marg, Some(&mut pair));
                for (i, feats) in x.iter().enumerate() {
                    for t in 0..TAGS {
                        let g = (y[i] as usize == t) as u8 as f32 - marg[i][t];
                        if g.abs() < 1e-6 {
                            continue;
                        }
                        for &f in feats {
                            let j = f as usize * TAGS + t;
                            let gj = g - sgd.l2 * crf.w[j];
                            g2[j] += gj * gj;
                            crf.w[j] += sgd.lr * gj / (g2[j].sqrt() + 1e-6);
                        }
                    }
                }
                // Transitions and starts: observed minus expected counts over the sequence.
                let mut gt = [[0.0f32; TAGS]; TAGS];
                for i in 1..x.len() {
                    gt[y[i - 1] as usize][y[i] as usize] += 1.0;
                    for a in 0..TAGS {
                        for b in 0..TAGS {
                            gt[a][b] -= pair[i][a][b];
                        }
                    }
                }
                for a in 0..TAGS {
                    for b in 0..TAGS {
                        let g = gt[a][b];
                        g2_t[a][b] += g * g;
                        crf.trans[a][b] += sgd.lr * g / (g2_t[a][b].sqrt() + 1e-6);
                    }
                    let g = (y[0] as usize == a) as u8 as f32 - marg[0][a];
                    g2_s[a] += g * g;
                    crf.start[a] += sgd.lr * g / (g2_s[a].sqrt() + 1e-6);
                }
            }
        }
        crf
    }

    /// Whether the weights fit `n_feats` feature rows: a loaded model is checked before use, as
    /// a well-formed payload can still hold tables of the wrong size.
    pub fn fits(&self, n_feats: usize) -> bool {
        n_feats.checked_mul(TAGS) == Some(self.w.len())
    }

    /// Per-token tag probabilities (and, when asked, pairwise ones for each position `i >= 1`:
    /// `pair[i][a][b]` = P(tag[i-1] = a, tag[i] = b)), by scaled forward–backward.
    pub fn marginals(
        &self,
        x: &Seq,
        marg: &mut Vec<[f32; TAGS]>,
        pair: Option<&mut Vec<[[f32; TAGS]; TAGS]>>,
    ) {
        let em: Vec<[f32; TAGS]> = x.iter().map(|f| self.emission(f)).collect();
        self.marginals_from(&em, marg, pair)
    }

    /// Emission scores of one token's features (what the forward–backward pass needs of it; a
    /// caller can compute these one token at a time instead of holding every token's features).
    pub fn emission(&self, feats: &[u32]) -> [f32; TAGS] {
        let mut e = [0.0f32; TAGS];
        for &f in feats {
            if let Some(w) = self.w.get(f as usize * TAGS) {
                prefetch(w);
            }
        }
        for &f in feats {
            let row = &self.w[f as usize * TAGS..f as usize * TAGS + TAGS];
            for t in 0..TAGS {
                e[t] += row[t];
            }
        }
        e
    }

    /// Reads what serde writes.
    pub(crate) fn read(r: &mut Reader) -> Result<Crf, String> {
        let w = r.f32s("a tagger's weights")?;
        let mut trans = [[0.0; TAGS]; TAGS];
        for row in &mut trans {
            *row = r.f32_array("a tagger's transitions")?;
        }
        Ok(Crf {
            w,
            trans,
            start: r.f32_array("a tagger's start scores")?,
        })
    }

    /// [`Crf::emission`] of many tokens: `rows` holds every token's feature rows one after another,
    /// and token `k`'s are `rows[ends[k - 1]..ends[k]]`. The same sums, in the same order, with the
    /// weight row a fixed distance ahead prefetched.
    pub fn emissions(&self, rows: &[u32], ends: &[usize], out: &mut Vec<[f32; TAGS]>) {
        out.clear();
        out.reserve(ends.len());
        let mut start = 0;
        for &end in ends {
            let mut e = [0.0f32; TAGS];
            for i in start..end {
                if let Some(w) = rows
                    .get(i + AHEAD)
                    .and_then(|&r| self.w.get(r as usize * TAGS))
                {
                    prefetch(w);
                }
                let f = rows[i] as usize;
                let row = &self.w[f * TAGS..f * TAGS + TAGS];
                for t in 0..TAGS {
                    e[t] += row[t];
                }
            }
            out.push(e);
            start = end;
        }
    }

    /// [`Crf::marginals`] from precomputed emission scores.
    pub fn marginals_from(
        &self,
        em: &[[f32; TAGS]],
        marg: &mut Vec<[f32; TAGS]>,
        pair: Option<&mut Vec<[[f32; TAGS]; TAGS]>>,
    ) {
        let n = em.len();
        let mut psi = vec![[0.0f32; TAGS]; n];
        for (i, &e0) in em.iter().enumerate() {
            let mut e = e0;
            if i == 0 {
                for t in 0..TAGS {
                    e[t] += self.start[t];
                }
            }
            let m = e.iter().cloned().fold(f32::MIN, f32::max);
            for t in 0..TAGS {
                psi[i][t] = (e[t] - m).exp();
            }
        }
        let mut mt = [[0.0f32; TAGS]; TAGS];
        for a in 0..TAGS {
            for b in 0..TAGS {
                mt[a][b] = self.trans[a][b].exp();
            }
        }
        let mut alpha = vec![[0.0f32; TAGS]; n];
        let mut scale = vec![0.0f32; n];
        for i in 0..n {
            for b in 0..TAGS {
                alpha[i][b] = if i == 0 {
                    psi[0][b]
                } else {
                    (0..TAGS).map(|a| alpha[i - 1][a] * mt[a][b]).sum::<f32>() * psi[i][b]
                };
            }
            let s: f32 = alpha[i].iter().sum::<f32>().max(1e-30);
            scale[i] = s;
            for b in 0..TAGS {
                alpha[i][b] /= s;
            }
        }
        let mut beta = vec![[1.0f32; TAGS]; n];
        for i in (0..n.saturating_sub(1)).rev() {
            for a in 0..TAGS {
                beta[i][a] = (0..TAGS)
                    .map(|b| mt[a][b] * psi[i + 1][b] * beta[i + 1][b])
                    .sum::<f32>()
                    / scale[i + 1];
            }
        }
        marg.clear();
        for i in 0..n {
            let mut p = [0.0f32; TAGS];
            for t in 0..TAGS {
                p[t] = alpha[i][t] * beta[i][t];
            }
            let s: f32 = p.iter().sum::<f32>().max(1e-30);
            for v in &mut p {
                *v /= s;
            }
            marg.push(p);
        }
        if let Some(pair) = pair {
            pair.clear();
            pair.push([[0.0; TAGS]; TAGS]);
            for i in 1..n {
                let mut xi = [[0.0f32; TAGS]; TAGS];
                let mut s = 0.0;
                for a in 0..TAGS {
                    for b in 0..TAGS {
                        xi[a][b] = alpha[i - 1][a] * mt[a][b] * psi[i][b] * beta[i][b];
                        s += xi[a][b];
                    }
                }
                let s = f32::max(s, 1e-30);
                for row in &mut xi {
                    for v in row {
                        *v /= s;
                    }
                }
                pair.push(xi);
            }
        }
    }
}

/// Multinomial logistic regression.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogReg {
    k: usize,
    w: Vec<f32>,
    bias: Vec<f32>,
}

impl LogReg {
    /// Trains on (feature rows, class) examples.
    pub fn train(data: &[(Vec<u32>, u8)], n_feats: usize, k: usize, sgd: Sgd, seed: u64) -> LogReg {
        let mut m = LogReg {
            k,
            w: vec![0.0; n_feats * k],
            bias: vec![0.0; k],
        };
        let mut g2 = vec![0.0f32; n_feats * k];
        let mut g2b = vec![0.0f32; k];
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut rng = Lcg(seed);
        let mut p = vec![0.0f32; k];
        for _ in 0..sgd.epochs {
            rng.shuffle(&mut order);
            for &d in &order {
                let (x, y) = &data[d];
                m.proba_into(x, &mut p);
                for c in 0..k {
                    let g = (*y as usize == c) as u8 as f32 - p[c];
                    for &f in x {
                        let j = f as usize * k + c;
                        let gj = g - sgd.l2 * m.w[j];
                        g2[j] += gj * gj;
                        m.w[j] += sgd.lr * gj / (g2[j].sqrt() + 1e-6);
                    }
                    g2b[c] += g * g;
                    m.bias[c] += sgd.lr * g / (g2b[c].sqrt() + 1e-6);
                }
            }
        }
        m
    }

    /// Whether the weights fit `n_feats` feature rows and `k` classes (see [`Crf::fits`]).
    pub fn fits(&self, n_feats: usize, k: usize) -> bool {
        self.k == k && self.bias.len() == k && n_feats.checked_mul(k) == Some(self.w.len())
    }

    /// The weights of feature row `f`, one per class.
    pub fn weights(&self, f: u32) -> &[f32] {
        &self.w[f as usize * self.k..(f as usize + 1) * self.k]
    }

    /// Reads what serde writes.
    pub(crate) fn read(r: &mut Reader, what: &str) -> Result<LogReg, String> {
        let k = usize::try_from(r.u64(what)?).map_err(|_| format!("{what}: too many classes"))?;
        Ok(LogReg {
            k,
            w: r.f32s(what)?,
            bias: r.f32s(what)?,
        })
    }

    /// Asks for the cache lines of a feature's weight row, without waiting for them.
    #[inline]
    pub fn prefetch_row(&self, f: u32) {
        let at = f as usize * self.k;
        if let (Some(a), Some(b)) = (self.w.get(at), self.w.get(at + self.k - 1)) {
            prefetch(a);
            prefetch(b);
        }
    }

    /// Class probabilities.
    pub fn proba_into(&self, x: &[u32], p: &mut Vec<f32>) {
        p.clear();
        p.extend_from_slice(&self.bias);
        for &f in x {
            self.prefetch_row(f);
        }
        for &f in x {
            let row = &self.w[f as usize * self.k..(f as usize + 1) * self.k];
            for c in 0..self.k {
                p[c] += row[c];
            }
        }
        let m = p.iter().cloned().fold(f32::MIN, f32::max);
        let mut s = 0.0;
        for v in p.iter_mut() {
            *v = (*v - m).exp();
            s += *v;
        }
        for v in p.iter_mut() {
            *v /= s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// More keys than 2^16 (a table of 2^19 slots, probes wrapping and clustering as in the shipped
    /// models): every key is found at its row, and keys never inserted are not.
    #[test]
    fn a_large_feature_index_finds_every_key() {
        let mut rng = Lcg(11);
        let keys: Vec<Feat> = (0..200_000).map(|_| rng.next_u64()).collect();
        let ix = FeatureIndex::build(std::iter::once(keys.as_slice()), 1);
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ix.len(), sorted.len());
        for (row, &k) in sorted.iter().enumerate() {
            assert_eq!(ix.row(k), Some(row as u32));
        }
        for _ in 0..10_000 {
            let k = rng.next_u64();
            assert_eq!(ix.row(k), sorted.binary_search(&k).ok().map(|r| r as u32));
        }
    }

    #[test]
    fn feature_index_finds_exactly_the_kept_keys_and_batches_agree() {
        // Keys with clustered hashes (consecutive, and equal low bits) probe far; misses are
        // interleaved with hits, as unknown features are in a real token.
        let mut rng = Lcg(7);
        let mut streams: Vec<Vec<Feat>> = Vec::new();
        for t in 0..400u64 {
            let mut s = vec![t, t << 40, t.wrapping_mul(0x9E37_79B9_7F4A_7C15)];
            s.extend((0..5).map(|_| rng.next_u64() % 5000));
            streams.push(s);
        }
        let ix = FeatureIndex::build(streams.iter().map(|s| s.as_slice()), 2);
        let mut counts: FxHashMap<Feat, u32> = FxHashMap::default();
        for &f in streams.iter().flatten() {
            *counts.entry(f).or_insert(0) += 1;
        }
        let mut kept: Vec<Feat> = counts
            .iter()
            .filter(|&(_, &c)| c >= 2)
            .map(|(&f, _)| f)
            .collect();
        kept.sort_unstable();
        assert_eq!(ix.len(), kept.len());
        for (f, c) in &counts {
            let want = (*c >= 2).then(|| kept.binary_search(f).unwrap() as u32);
            assert_eq!(ix.row(*f), want, "feature {f}");
        }
        // Never seen: none.
        for f in [u64::MAX, 1 << 63, 5001, 123_456_789] {
            assert_eq!(ix.row(f), None);
        }
        // The whole-document lookup cuts the same rows as token-by-token lookups.
        let flat: Vec<Feat> = streams.iter().flatten().copied().collect();
        let ends: Vec<usize> = streams
            .iter()
            .scan(0, |n, s| {
                *n += s.len();
                Some(*n)
            })
            .collect();
        let (mut rows, mut row_ends, mut one) = (Vec::new(), Vec::new(), Vec::new());
        ix.lookup_all(&flat, &ends, &mut rows, &mut row_ends);
        let mut start = 0;
        for (s, &end) in streams.iter().zip(&row_ends) {
            ix.lookup(s, &mut one);
            assert_eq!(&rows[start..end], one.as_slice());
            start = end;
        }
        assert_eq!(start, rows.len());
        // An empty index answers, and a CRF's batched emissions equal its one-token ones.
        assert_eq!(FeatureIndex::default().row(3), None);
        let crf = Crf {
            w: (0..ix.len() * TAGS)
                .map(|i| (i % 17) as f32 * 0.25 - 1.0)
                .collect(),
            trans: [[0.0; TAGS]; TAGS],
            start: [0.0; TAGS],
        };
        let mut em = Vec::new();
        crf.emissions(&rows, &row_ends, &mut em);
        let mut start = 0;
        for (k, &end) in row_ends.iter().enumerate() {
            assert_eq!(em[k], crf.emission(&rows[start..end]));
            start = end;
        }
    }

    #[test]
    fn crf_learns_a_marked_span() {
        // Feature 1 marks span starts, 2 span insides, 0 outside; the CRF must recover O B I I O.
        let x: Seq = vec![vec![0], vec![1], vec![2], vec![2], vec![0]];
        let y = vec![O, B, I, I, O];
        let crf = Crf::train(
            &[(x.clone(), y.clone())],
            3,
            Sgd {
                epochs: 30,
                lr: 0.5,
                l2: 0.0,
            },
            1,
        );
        let mut m = Vec::new();
        crf.marginals(&x, &mut m, None);
        for (i, p) in m.iter().enumerate() {
            let best = (0..TAGS).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
            assert_eq!(best as u8, y[i], "token {i}: {p:?}");
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn logreg_separates_classes() {
        let data: Vec<(Vec<u32>, u8)> = (0..60)
            .map(|i| (vec![(i % 3) as u32, 3], (i % 3) as u8))
            .collect();
        let m = LogReg::train(
            &data,
            4,
            3,
            Sgd {
                epochs: 10,
                lr: 0.3,
                l2: 0.0,
            },
            7,
        );
        let mut p = Vec::new();
        for c in 0..3u32 {
            m.proba_into(&[c, 3], &mut p);
            assert!(p[c as usize] > 0.8, "{c}: {p:?}");
        }
    }
}
