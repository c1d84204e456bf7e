//! Feature templates of the two taggers: the cue tagger (B/I/O over each paragraph) and the argument
//! tagger (source and content around one cue).

use crate::lexicon::{fx, hash_str, WordSet};
use crate::linear::{bucket, Packed};
use crate::prep::{class, Prepared};

pub(crate) const BOS: u64 = 0x1234_5678_9abc_def1;
pub(crate) const EOS: u64 = 0x0fed_cba9_8765_4321;

/// Cue classes: a candidate word is the head of a cue or not.
pub(crate) const CUE_TAGS: usize = 2;

/// Argument tags.
pub(crate) const A_O: u8 = 0;
pub(crate) const A_BS: u8 = 1;
pub(crate) const A_IS: u8 = 2;
pub(crate) const A_BC: u8 = 3;
pub(crate) const A_IC: u8 = 4;
pub(crate) const ARG_TAGS: usize = 5;

/// Legal transitions `(prev, cur)` of the argument tags (`prev == ARG_TAGS` at the start): an I tag
/// continues its own B or I.
pub(crate) const ARG_ALLOWED: [bool; (ARG_TAGS + 1) * ARG_TAGS] = {
    let mut a = [true; (ARG_TAGS + 1) * ARG_TAGS];
    let mut p = 0;
    while p <= ARG_TAGS {
        let ps = p as u8;
        a[p * ARG_TAGS + A_IS as usize] = ps == A_BS || ps == A_IS;
        a[p * ARG_TAGS + A_IC as usize] = ps == A_BC || ps == A_IC;
        p += 1;
    }
    a
};

/// Per token: 1 = may be the head of a cue (a learned cue word or one of the cue words (`data/cue-words.txt`)), 0 = not;
/// plus 4 for words of the lexicon.
pub(crate) fn cue_mask(p: &Prepared, cands: &WordSet, lex: &WordSet, out: &mut Vec<u8>) {
    out.clear();
    out.extend(p.toks.iter().map(|t| {
        if lex.contains(t.lem) {
            5
        } else {
            cands.contains(t.lem) as u8
        }
    }));
}

/// The words that may head a cue: the learned candidates and the lexicon in one set, so that
/// [`cue_mask_value`] asks one set about most tokens instead of two.
pub(crate) fn cue_heads(cands: &WordSet, lex: &WordSet) -> WordSet {
    let mut v = cands.as_slice().to_vec();
    v.extend_from_slice(lex.as_slice());
    WordSet::new(v)
}

/// [`cue_mask`]'s value for lemma `lem`, with `heads` from [`cue_heads`]: a token outside `heads`
/// is 0, one inside is a candidate or a lexicon word (the same values).
#[inline]
pub(crate) fn cue_mask_value(heads: &WordSet, lex: &WordSet, lem: u64) -> u8 {
    if !heads.contains(lem) {
        0
    } else if lex.contains(lem) {
        5
    } else {
        1
    }
}

/// [`cue_mask`] by [`cue_mask_value`] (what the tagger asks token by token).
#[cfg(test)]
pub(crate) fn cue_mask_fast(p: &Prepared, heads: &WordSet, lex: &WordSet, out: &mut Vec<u8>) {
    out.clear();
    out.extend(p.toks.iter().map(|t| cue_mask_value(heads, lex, t.lem)));
}

/// The cue span headed by token `i`: the head alone, or "according to".
pub(crate) fn cue_extent(p: &Prepared, i: usize) -> usize {
    static ACCORDING: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
    let (acc, to) = *ACCORDING.get_or_init(|| (hash_str("according"), hash_str("to")));
    if p.toks[i].w == acc && p.toks.get(i + 1).is_some_and(|t| t.w == to) {
        i + 2
    } else {
        i + 1
    }
}

/// Lemma hashes of the built-in cue words (`data/cue-words.txt`).
pub(crate) fn lexicon_hashes() -> WordSet {
    crate::lexicon::lexicon().cue_words.clone()
}

/// The starting hash of feature template `t`.
#[inline]
const fn seed(t: u64) -> u64 {
    fx(0x9d3a_11c5 ^ t.wrapping_mul(0x2545_f491_4f6c_dd1d), t)
}

/// Argument templates whose values after the direction start with values fixed per cue: their
/// hash prefixes are computed once per cue and direction (the hashes are the same as computing
/// them whole).
const ARG_PLAIN: [u64; 12] = [101, 102, 103, 105, 106, 107, 109, 110, 114, 115, 117, 120];

/// Where hashed features go: a list of buckets (training, the reference path), or straight into
/// a score ([`CueScore`]).
pub(crate) trait FeatSink {
    fn push(&mut self, bucket: u32);
}

impl FeatSink for Vec<u32> {
    #[inline]
    fn push(&mut self, bucket: u32) {
        Vec::push(self, bucket);
    }
}

/// The cue tagger's scores, summed as the features are hashed: each bucket's row is added when it
/// comes, in feature order, which is what [`Packed::emit_n`] does over the list of buckets (so the
/// same bits), without building the list.
pub(crate) struct CueScore<'a> {
    /// The model's code rows, one per bucket (a row is one bounds check, not a slice).
    rows: &'a [[u8; CUE_TAGS]],
    table: &'a [f32; 256],
    pub acc: [f32; CUE_TAGS],
}

impl<'a> CueScore<'a> {
    pub fn new(m: &'a Packed) -> CueScore<'a> {
        CueScore {
            rows: m.codes.as_chunks::<CUE_TAGS>().0,
            table: &m.table,
            acc: [0.0; CUE_TAGS],
        }
    }
}

impl CueScore<'_> {
    /// Asks the memory system for the rows of `buckets` ahead of their use.
    #[inline(always)]
    pub fn prefetch(&self, buckets: &[u32]) {
        for &b in buckets {
            if let Some(row) = self.rows.get(b as usize) {
                prefetch(row);
            }
        }
    }
}

/// Asks for the cache line of `x` without waiting for it.
#[inline(always)]
fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it reads nothing and cannot fault.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

impl FeatSink for CueScore<'_> {
    #[inline(always)]
    fn push(&mut self, bucket: u32) {
        let codes = &self.rows[bucket as usize];
        for (a, &code) in self.acc.iter_mut().zip(codes) {
            *a += self.table[code as usize];
        }
    }
}

/// The cue tagger as the one number its decision reads, the cue score minus the outside score,
/// one byte per bucket: the packed rows hold few distinct pairs of codes (227 in the shipped
/// model), so each pair's difference gets a code of its own. Half the table of two codes a row, so
/// fewer of its rows miss the cache. `None` from [`CueDiff::new`] when there are more than 256
/// pairs; the tagger then sums both codes ([`CueScore`]).
#[derive(Debug, Clone)]
pub(crate) struct CueDiff {
    codes: Vec<u8>,
    table: [f32; 256],
}

impl CueDiff {
    pub fn new(m: &Packed) -> Option<CueDiff> {
        // Pair → its code, indexed by the pair itself (a million rows are read at load).
        let mut index = vec![u16::MAX; 1 << 16];
        let (mut table, mut n) = ([0f32; 256], 0usize);
        let mut codes = Vec::with_capacity(m.codes.len() / CUE_TAGS);
        for row in m.codes.as_chunks::<CUE_TAGS>().0 {
            let slot = &mut index[(row[0] as usize) << 8 | row[1] as usize];
            if *slot == u16::MAX {
                if n == 256 {
                    return None;
                }
                table[n] = m.table[row[1] as usize] - m.table[row[0] as usize];
                *slot = n as u16;
                n += 1;
            }
            codes.push(*slot as u8);
        }
        Some(CueDiff { codes, table })
    }

    /// The score of the features whose buckets are `buckets` (summed in their order).
    #[inline]
    pub fn score(&self, buckets: &[u32]) -> f32 {
        for &b in buckets {
            if let Some(c) = self.codes.get(b as usize) {
                prefetch(c);
            }
        }
        buckets
            .iter()
            .map(|&b| self.table[self.codes[b as usize] as usize])
            .sum()
    }
}

struct Fb<'a, S: FeatSink> {
    out: &'a mut S,
    bits: u32,
}

impl<S: FeatSink> Fb<'_, S> {
    #[inline]
    fn f(&mut self, t: u64, vals: &[u64]) {
        self.from(seed(t), vals);
    }

    /// A feature whose hash so far is `h` (a template's seed and leading values).
    #[inline]
    fn from(&mut self, mut h: u64, vals: &[u64]) {
        for &v in vals {
            h = fx(h, v);
        }
        self.out.push(bucket(h, self.bits));
    }
}

fn dbucket(d: usize) -> u64 {
    match d {
        0..=5 => d as u64,
        6..=7 => 6,
        8..=10 => 7,
        11..=15 => 8,
        16..=25 => 9,
        26..=40 => 10,
        _ => 11,
    }
}

/// Features of token `i` for the cue tagger; the sequence is the paragraph `[ps, pe)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn cue_features(
    p: &Prepared,
    lexinfo: u8,
    para_has_quote: bool,
    ps: usize,
    pe: usize,
    i: usize,
    bits: u32,
    out: &mut Vec<u32>,
) {
    out.clear();
    cue_features_into(p, lexinfo, para_has_quote, ps, pe, i, bits, out);
}

/// [`cue_features`] into any sink (the tagger scores with [`CueScore`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn cue_features_into<S: FeatSink>(
    p: &Prepared,
    lexinfo: u8,
    para_has_quote: bool,
    ps: usize,
    pe: usize,
    i: usize,
    bits: u32,
    out: &mut S,
) {
    let t = &p.toks;
    let w = |k: isize| -> u64 {
        let j = i as isize + k;
        if j < ps as isize {
            BOS
        } else if j >= pe as isize {
            EOS
        } else {
            t[j as usize].w
        }
    };
    let cls = |k: isize| -> u64 {
        let j = i as isize + k;
        if j < ps as isize || j >= pe as isize {
            99
        } else {
            let x = &t[j as usize];
            (x.class as u64) * 8 + x.shape as u64
        }
    };
    let inq = |k: isize| -> u64 {
        let j = i as isize + k;
        if j < ps as isize || j >= pe as isize {
            2
        } else {
            t[j as usize].inq as u64
        }
    };
    let x = &t[i];
    let lem = x.lem;
    let suf = p.suffix(i);
    let (ss, se) = p.sents[x.sent as usize];
    let to_end = dbucket(se as usize - 1 - i);
    let from_start = dbucket(i - ss as usize);
    let mut fb = Fb { out, bits };
    fb.f(1, &[]);
    fb.f(2, &[x.w]);
    fb.f(3, &[lem]);
    fb.f(4, &[suf]);
    fb.f(5, &[cls(0)]);
    fb.f(6, &[w(-1)]);
    fb.f(7, &[w(1)]);
    fb.f(8, &[w(-2)]);
    fb.f(9, &[w(2)]);
    fb.f(10, &[w(-1), x.w]);
    fb.f(11, &[x.w, w(1)]);
    fb.f(12, &[lem, w(1)]);
    fb.f(13, &[w(-1), lem]);
    fb.f(14, &[cls(-1), cls(0), cls(1)]);
    fb.f(15, &[inq(0)]);
    fb.f(16, &[inq(0), lem]);
    fb.f(17, &[lem, cls(1)]);
    fb.f(18, &[lem, cls(-1)]);
    fb.f(19, &[lem, from_start.min(3)]);
    fb.f(20, &[lem, para_has_quote as u64]);
    fb.f(21, &[lem, to_end]);
    fb.f(22, &[w(1), w(2)]);
    fb.f(23, &[w(-2), w(-1)]);
    let pf = if i > ps { t[i - 1].flags & 7 } else { 8 };
    fb.f(24, &[lem, pf as u64]);
    fb.f(25, &[lem, cls(-2), cls(-1)]);
    fb.f(26, &[x.w, w(1), w(2)]);
    fb.f(27, &[lem, inq(-1), inq(1)]);
    fb.f(28, &[cls(0), to_end.min(3), from_start.min(3)]);
    fb.f(29, &[suf, cls(1)]);
    let lx = (lexinfo >> 2) as u64;
    fb.f(30, &[lx]);
    fb.f(31, &[lx, cls(1), cls(-1)]);
    fb.f(32, &[lx, suf]);
}

/// What the argument tagger knows about its cue.
pub(crate) struct CueCtx {
    pub c0: usize,
    pub c1: usize,
    pub lem: u64,
    pub w_after: u64,
    pub w_before: u64,
    pub cls_after: u64,
    pub inq: bool,
    pub sent: u32,
    /// 0: the cue opens its sentence, 2: it closes it (within two tokens), 1: neither.
    pub at: u64,
    /// Hash prefixes per direction: the `ARG_PLAIN` templates after the direction, then 111, 112,
    /// 118, 121, 122, 125, 126, 127 after their values fixed by the cue.
    pre: [[u64; 20]; 3],
}

impl CueCtx {
    pub fn new(p: &Prepared, c0: usize, c1: usize) -> CueCtx {
        let t = &p.toks;
        let mut lem = 0x77u64;
        for x in &t[c0..c1] {
            lem = fx(lem, x.lem);
        }
        let after = t.get(c1);
        let (ss, se) = p.sents[t[c0].sent as usize];
        let at = if c0 <= ss as usize {
            0
        } else if c1 + 2 >= se as usize {
            2
        } else {
            1
        };
        let mut c = CueCtx {
            at,
            c0,
            c1,
            lem,
            w_after: after.map_or(EOS, |x| x.w),
            w_before: if c0 > 0 { t[c0 - 1].w } else { BOS },
            cls_after: after.map_or(99, |x| x.class as u64 * 2 + x.inq as u64),
            inq: t[c0].inq,
            sent: t[c0].sent,
            pre: [[0; 20]; 3],
        };
        for dir in 0..3u64 {
            let pre = &mut c.pre[dir as usize];
            for (k, &tpl) in ARG_PLAIN.iter().enumerate() {
                pre[k] = fx(seed(tpl), dir);
            }
            let chain =
                |tpl: u64, vals: &[u64]| vals.iter().fold(fx(seed(tpl), dir), |h, &v| fx(h, v));
            pre[12] = chain(111, &[c.w_after]);
            pre[13] = chain(112, &[c.w_before]);
            pre[14] = chain(118, &[c.cls_after]);
            pre[15] = chain(121, &[c.lem, c.w_after]);
            pre[16] = chain(122, &[c.lem]);
            pre[17] = chain(125, &[]);
            pre[18] = chain(126, &[c.at]);
            pre[19] = chain(127, &[c.lem]);
        }
        c
    }
}

/// The argument tagger's word hash of token `i + k` (`BOS` outside the document).
fn arg_word(t: &[crate::prep::Tok], i: usize, k: isize) -> u64 {
    let j = i as isize + k;
    if j < 0 || j >= t.len() as isize {
        BOS
    } else {
        t[j as usize].w
    }
}

/// The argument tagger's class and shape of token `i + k` (99 outside the document).
fn arg_class(t: &[crate::prep::Tok], i: usize, k: isize) -> u64 {
    let j = i as isize + k;
    if j < 0 || j >= t.len() as isize {
        99
    } else {
        let y = &t[j as usize];
        y.class as u64 * 8 + y.shape as u64
    }
}

/// Features of token `i` for the argument tagger of cue `c`.
pub(crate) fn arg_features(p: &Prepared, c: &CueCtx, i: usize, bits: u32, out: &mut Vec<u32>) {
    out.clear();
    let t = &p.toks;
    let x = &t[i];
    let (dir, d, lo, hi) = if i < c.c0 {
        (0u64, c.c0 - i, i + 1, c.c0)
    } else if i >= c.c1 {
        (1u64, i + 1 - c.c1, c.c1, i)
    } else {
        (2u64, 0, i, i)
    };
    let db = dbucket(d);
    let ds = d.min(6) as u64;
    let sd = (x.sent as i64 - c.sent as i64).clamp(-3, 3) as u64;
    let commas = (p.n_comma[hi] - p.n_comma[lo]).min(3) as u64;
    let quotes = (p.n_quote[hi] - p.n_quote[lo]).min(3) as u64;
    let w = |k: isize| arg_word(t, i, k);
    let cl = |k: isize| arg_class(t, i, k);
    let pre = &c.pre[dir as usize];
    let inq = x.inq as u64;
    let mut fb = Fb { out, bits };
    fb.from(pre[0], &[db]); // 101
    fb.from(pre[1], &[x.w]); // 102
    fb.from(pre[2], &[cl(0)]); // 103
    fb.from(pre[3], &[w(-1)]); // 105
    fb.from(pre[4], &[w(1)]); // 106
    fb.from(pre[5], &[inq, c.inq as u64, sd]); // 107
    fb.from(pre[6], &[commas, sd]); // 109
    fb.from(pre[7], &[quotes, inq]); // 110
    fb.from(pre[12], &[ds]); // 111: w_after
    fb.from(pre[13], &[ds]); // 112: w_before
    fb.from(pre[8], &[(x.flags & 7) as u64, ds]); // 114
    fb.from(pre[9], &[x.w, inq]); // 115
    fb.from(pre[10], &[cl(-1), cl(0), cl(1)]); // 117
    fb.from(pre[14], &[inq, sd]); // 118: cls_after
    fb.from(pre[11], &[x.lem, ds]); // 120
    fb.from(pre[15], &[ds]); // 121: lem, w_after
    fb.from(pre[16], &[inq, sd]); // 122: lem
    let qclose_next = (i + 1 < t.len() && t[i + 1].class == class::QCLOSE) as u64;
    fb.from(pre[17], &[cl(0), qclose_next, inq]); // 125
    fb.from(pre[18], &[commas, sd]); // 126: at
    fb.from(pre[19], &[commas, c.at]); // 127: lem
}

/// One decoded weight row of the argument tagger.
pub(crate) type ArgRow = [f32; ARG_TAGS];

/// Sizes of the small value sets the tables are indexed by.
const N_DB: usize = 12; // dbucket
const N_DS: usize = 7; // distance, capped at 6
const N_SD: usize = 7; // sentence offset, -3..=3
const N_CNT: usize = 4; // commas or quotes between, capped at 3
const N_CL: usize = class::COUNT * 8; // class * 8 + shape (shape < 8)
const N_CA: usize = class::COUNT * 2 + 1; // the cue's next token: class * 2 + inq, or 99 (none)

/// The value hashed for sentence-offset index `k` (`sd` in [`arg_features`]).
fn sd_value(k: usize) -> u64 {
    (k as i64 - 3) as u64
}

/// The decoded row of template `tpl` for direction `dir` and values `vals`: the row
/// [`arg_features`] and [`Packed::emit_n`] would add for the same feature.
fn arg_row(m: &Packed, tpl: u64, dir: u64, vals: &[u64]) -> ArgRow {
    row_from(m, fx(seed(tpl), dir), vals)
}

/// The decoded row of a feature whose hash so far is `h` (as [`Fb::from`] hashes it).
#[inline]
fn row_from(m: &Packed, h: u64, vals: &[u64]) -> ArgRow {
    m.row(bucket(vals.iter().fold(h, |h, &v| fx(h, v)), m.bits))
}

/// A table over the mixed-radix index `dims` (most significant first): entry `k` is the row of
/// `tpl` for the direction and values `vals` gives for `k`'s digits. Fixed-size, so that indices
/// the compiler can bound (direction, distance buckets, counts) need no bounds check.
fn table<const N: usize>(
    m: &Packed,
    tpl: u64,
    dims: &[usize],
    vals: impl Fn(&[usize]) -> (u64, Vec<u64>),
) -> Box<[ArgRow; N]> {
    let n: usize = dims.iter().product();
    assert_eq!(n, N, "table {tpl}: dimensions and size disagree");
    let mut digits = vec![0; dims.len()];
    let rows: Vec<ArgRow> = (0..n)
        .map(|mut k| {
            for (d, &size) in digits.iter_mut().zip(dims).rev() {
                *d = k % size;
                k /= size;
            }
            let (dir, v) = vals(&digits);
            arg_row(m, tpl, dir, &v)
        })
        .collect();
    rows.into_boxed_slice()
        .try_into()
        .expect("a table of N rows")
}

/// The argument tagger's emissions with its hashing done ahead where it can be: the rows of
/// features whose values all come from small sets are decoded once per model (or once per cue, for
/// those that also read the cue's words), so a token hashes only its 6 word features. The rows
/// are added in [`arg_features`]' order, so the scores are bit for bit those of
/// [`Packed::emit_n`] over [`arg_features`] (a test checks it).
#[derive(Debug, Clone)]
pub(crate) struct ArgTables {
    t101: Box<[ArgRow; 2 * N_DB]>,             // dir, db
    t103: Box<[ArgRow; 2 * N_CL]>,             // dir, cl(0)
    t107: Box<[ArgRow; 2 * 2 * 2 * N_SD]>,     // dir, inq, cue inq, sd
    t109: Box<[ArgRow; 2 * N_CNT * N_SD]>,     // dir, commas, sd
    t110: Box<[ArgRow; 2 * N_CNT * 2]>,        // dir, quotes, inq
    t114: Box<[ArgRow; 2 * 8 * N_DS]>,         // dir, flags & 7, ds
    t118: Box<[ArgRow; 2 * N_CA * 2 * N_SD]>,  // dir, cue's next token, inq, sd
    t125: Box<[ArgRow; 2 * N_CL * 2 * 2]>,     // dir, cl(0), quote closes next, inq
    t126: Box<[ArgRow; 2 * 3 * N_CNT * N_SD]>, // dir, cue position, commas, sd
}

impl ArgTables {
    pub fn new(m: &Packed) -> ArgTables {
        let id = |k: usize| k as u64;
        let ca = |k: usize| if k + 1 == N_CA { 99 } else { k as u64 };
        ArgTables {
            t101: table(m, 101, &[2, N_DB], |d| (id(d[0]), vec![id(d[1])])),
            t103: table(m, 103, &[2, N_CL], |d| (id(d[0]), vec![id(d[1])])),
            t107: table(m, 107, &[2, 2, 2, N_SD], |d| {
                (id(d[0]), vec![id(d[1]), id(d[2]), sd_value(d[3])])
            }),
            t109: table(m, 109, &[2, N_CNT, N_SD], |d| {
                (id(d[0]), vec![id(d[1]), sd_value(d[2])])
            }),
            t110: table(m, 110, &[2, N_CNT, 2], |d| {
                (id(d[0]), vec![id(d[1]), id(d[2])])
            }),
            t114: table(m, 114, &[2, 8, N_DS], |d| {
                (id(d[0]), vec![id(d[1]), id(d[2])])
            }),
            t118: table(m, 118, &[2, N_CA, 2, N_SD], |d| {
                (id(d[0]), vec![ca(d[1]), id(d[2]), sd_value(d[3])])
            }),
            t125: table(m, 125, &[2, N_CL, 2, 2], |d| {
                (id(d[0]), vec![id(d[1]), id(d[2]), id(d[3])])
            }),
            t126: table(m, 126, &[2, 3, N_CNT, N_SD], |d| {
                (id(d[0]), vec![id(d[1]), id(d[2]), sd_value(d[3])])
            }),
        }
    }
}

/// The rows of one cue's features that read its words, per direction and small value.
pub(crate) struct CueRows {
    t111: [[ArgRow; N_DS]; 2],      // dir, ds (word after the cue)
    t112: [[ArgRow; N_DS]; 2],      // dir, ds (word before)
    t121: [[ArgRow; N_DS]; 2],      // dir, ds (cue lemma, word after)
    t122: [[[ArgRow; N_SD]; 2]; 2], // dir, inq, sd (cue lemma)
    t127: [[ArgRow; N_CNT]; 2],     // dir, commas (cue lemma, cue position)
    ca: usize,
    at: usize,
}

impl CueRows {
    /// The rows for cue `c` that its window `[a, b)` reads: only the distances, sentence offsets
    /// and comma counts its tokens have (the others stay zero and are never read).
    pub fn new(m: &Packed, p: &Prepared, c: &CueCtx, a: usize, b: usize) -> CueRows {
        let z = [0f32; ARG_TAGS];
        let mut r = CueRows {
            t111: [[z; N_DS]; 2],
            t112: [[z; N_DS]; 2],
            t121: [[z; N_DS]; 2],
            t122: [[[z; N_SD]; 2]; 2],
            t127: [[z; N_CNT]; 2],
            ca: if c.cls_after == 99 {
                N_CA - 1
            } else {
                c.cls_after as usize
            },
            at: c.at as usize,
        };
        let t = &p.toks;
        let sd_index = |i: usize| ((t[i].sent as i64 - c.sent as i64).clamp(-3, 3) + 3) as usize;
        for dir in 0..2 {
            // The window's tokens on this side: [lo, hi), and the farthest one's distance and
            // commas (distance and commas grow with the distance from the cue; sentence offsets
            // grow along the text).
            let (lo, hi) = if dir == 0 {
                (a, b.min(c.c0))
            } else {
                (a.max(c.c1), b)
            };
            if lo >= hi {
                continue;
            }
            let (d_max, commas_max) = if dir == 0 {
                (c.c0 - lo, p.n_comma[c.c0] - p.n_comma[lo + 1])
            } else {
                (hi - c.c1, p.n_comma[hi - 1] - p.n_comma[c.c1])
            };
            let pre = &c.pre[dir];
            let row = |h: u64, vals: &[u64]| row_from(m, h, vals);
            // A token outside the cue is at least one away: distance 0 is never read.
            for ds in 1..=d_max.min(N_DS - 1) {
                r.t111[dir][ds] = row(pre[12], &[ds as u64]);
                r.t112[dir][ds] = row(pre[13], &[ds as u64]);
                r.t121[dir][ds] = row(pre[15], &[ds as u64]);
            }
            for inq in 0..2 {
                for sd in sd_index(lo)..=sd_index(hi - 1) {
                    r.t122[dir][inq][sd] = row(pre[16], &[inq as u64, sd_value(sd)]);
                }
            }
            for commas in 0..=(commas_max as usize).min(N_CNT - 1) {
                r.t127[dir][commas] = row(pre[19], &[commas as u64, c.at]);
            }
        }
        r
    }
}

/// A running sum of rows: a decoded row adds straight from the code table (no row built first),
/// in the same order as [`Packed::emit_n`], so the same bits.
#[derive(Clone, Copy, Default)]
struct Acc([f32; ARG_TAGS]);

impl Acc {
    #[inline(always)]
    fn add(&mut self, row: &ArgRow) {
        for (a, w) in self.0.iter_mut().zip(row) {
            *a += w;
        }
    }

    /// Adds the row of bucket `b`, decoded as [`Packed::row`] decodes it; `rows` are `m`'s code
    /// rows, one per bucket.
    #[inline(always)]
    fn add_bucket(&mut self, m: &Packed, rows: &[[u8; ARG_TAGS]], b: u32) {
        let codes = &rows[b as usize];
        for (a, &code) in self.0.iter_mut().zip(codes) {
            *a += m.table[code as usize];
        }
    }
}

/// The argument tagger's scores of token `i` (outside the cue) for cue `c`: the same as
/// [`Packed::emit_n`] over [`arg_features`]. (The tagger calls [`arg_emission_dir`].)
#[cfg(test)]
pub(crate) fn arg_emission(
    p: &Prepared,
    c: &CueCtx,
    cr: &CueRows,
    g: &ArgTables,
    m: &Packed,
    i: usize,
) -> ArgRow {
    if i >= c.c1 {
        arg_emission_dir::<true>(p, c, cr, g, m, i, &arg_buckets::<true>(p, c, m, i))
    } else {
        arg_emission_dir::<false>(p, c, cr, g, m, i, &arg_buckets::<false>(p, c, m, i))
    }
}

/// The buckets of the argument tagger's six word features of token `i` (outside the cue) for cue
/// `c`, in the order [`arg_emission_dir`] adds them. Hashed for a whole window first, so that the
/// rows they name can be fetched from memory together ([`prefetch_rows`]) rather than one miss at
/// a time.
#[inline(always)]
pub(crate) fn arg_buckets<const AFTER: bool>(
    p: &Prepared,
    c: &CueCtx,
    m: &Packed,
    i: usize,
) -> [u32; 6] {
    let t = &p.toks;
    let x = &t[i];
    let d = if AFTER { i + 1 - c.c1 } else { c.c0 - i };
    let ds = d.min(6) as u64;
    let w = |k: isize| arg_word(t, i, k);
    let cl = |k: isize| arg_class(t, i, k);
    let cl0 = x.class as u64 * 8 + x.shape as u64;
    let inq = x.inq as u64;
    let pre = &c.pre[AFTER as usize];
    let b = |h: u64, vals: &[u64]| bucket(vals.iter().fold(h, |h, &v| fx(h, v)), m.bits);
    [
        b(pre[1], &[x.w]),
        b(pre[3], &[w(-1)]),
        b(pre[4], &[w(1)]),
        b(pre[9], &[x.w, inq]),
        b(pre[10], &[cl(-1), cl0, cl(1)]),
        b(pre[11], &[x.lem, ds]),
    ]
}

/// Asks the memory system for the code rows of `buckets` ahead of their use.
#[inline(always)]
pub(crate) fn prefetch_rows(m: &Packed, buckets: &[u32; 6]) {
    for &b in buckets {
        if let Some(c) = m.codes.get(b as usize * ARG_TAGS) {
            prefetch(c);
        }
    }
}

/// [`arg_emission`] for a token after the cue (`AFTER`) or before it, its word features' buckets
/// given ([`arg_buckets`]): the direction is a constant, so the compiler folds the per-direction
/// offsets of every table (the caller's loop over a window is split at the cue).
#[inline(always)]
pub(crate) fn arg_emission_dir<const AFTER: bool>(
    p: &Prepared,
    c: &CueCtx,
    cr: &CueRows,
    g: &ArgTables,
    m: &Packed,
    i: usize,
    hb: &[u32; 6],
) -> ArgRow {
    let t = &p.toks;
    let x = &t[i];
    debug_assert!(
        if AFTER { i >= c.c1 } else { i < c.c0 },
        "token {i} inside the cue"
    );
    let dir = AFTER as usize;
    let (d, lo, hi) = if AFTER {
        (i + 1 - c.c1, c.c1, i)
    } else {
        (c.c0 - i, i + 1, c.c0)
    };
    let db = dbucket(d) as usize;
    let ds = d.min(6);
    let sd = ((x.sent as i64 - c.sent as i64).clamp(-3, 3) + 3) as usize;
    let commas = (p.n_comma[hi] - p.n_comma[lo]).min(3) as usize;
    let quotes = (p.n_quote[hi] - p.n_quote[lo]).min(3) as usize;
    let cl0 = x.class as usize * 8 + x.shape as usize;
    let inq = x.inq as usize;
    let qn = t.get(i + 1).is_some_and(|y| y.class == class::QCLOSE) as usize;
    let fl = (x.flags & 7) as usize;
    let rows = m.codes.as_chunks::<ARG_TAGS>().0;
    let mut acc = Acc::default();
    acc.add(&g.t101[dir * N_DB + db]);
    acc.add_bucket(m, rows, hb[0]);
    acc.add(&g.t103[dir * N_CL + cl0]);
    acc.add_bucket(m, rows, hb[1]);
    acc.add_bucket(m, rows, hb[2]);
    acc.add(&g.t107[((dir * 2 + inq) * 2 + c.inq as usize) * N_SD + sd]);
    acc.add(&g.t109[(dir * N_CNT + commas) * N_SD + sd]);
    acc.add(&g.t110[(dir * N_CNT + quotes) * 2 + inq]);
    acc.add(&cr.t111[dir][ds]);
    acc.add(&cr.t112[dir][ds]);
    acc.add(&g.t114[(dir * 8 + fl) * N_DS + ds]);
    acc.add_bucket(m, rows, hb[3]);
    acc.add_bucket(m, rows, hb[4]);
    acc.add(&g.t118[((dir * N_CA + cr.ca) * 2 + inq) * N_SD + sd]);
    acc.add_bucket(m, rows, hb[5]);
    acc.add(&cr.t121[dir][ds]);
    acc.add(&cr.t122[dir][inq][sd]);
    acc.add(&g.t125[((dir * N_CL + cl0) * 2 + qn) * 2 + inq]);
    acc.add(&g.t126[((dir * 3 + cr.at) * N_CNT + commas) * N_SD + sd]);
    acc.add(&cr.t127[dir][commas]);
    acc.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{window, Attributor};
    use rhetor_core::Document;

    /// Every token of `text` taken as a one-token cue (the cues the tagger finds, and many it
    /// would not): the table-driven scores must equal the hashed ones bit for bit.
    fn check_same_scores(text: &str) -> usize {
        let att = Attributor::shared();
        let doc = Document::new(text).unwrap();
        let core = rhetor_core::Prepared::new(&doc);
        let p = Prepared::new(&core);
        let mut feats = Vec::new();
        let mut checked = 0;
        for c0 in 0..p.toks.len() {
            let c1 = cue_extent(&p, c0);
            let ctx = CueCtx::new(&p, c0, c1);
            let (a, b) = window(&p, c0, c1);
            let rows = CueRows::new(&att.arg, &p, &ctx, a, b);
            for i in (a..b).filter(|&i| i < c0 || i >= c1) {
                arg_features(&p, &ctx, i, att.arg.bits, &mut feats);
                let mut want = [0f32; ARG_TAGS];
                att.arg.emit_n(&feats, &mut want);
                let got = arg_emission(&p, &ctx, &rows, &att.arg_tables, &att.arg, i);
                assert_eq!(
                    got.map(|x| (x + 0.0).to_bits()),
                    want.map(|x| (x + 0.0).to_bits()),
                    "cue {c0} token {i} in {:?}",
                    &text[..text.len().min(60)]
                );
                checked += 1;
            }
        }
        checked
    }

    /// Every token of `text` scored by the cue tagger both ways (features listed then summed, and
    /// summed as they are hashed), and its mask both ways: the same bits.
    fn check_same_cue_scores(text: &str) -> usize {
        let att = Attributor::shared();
        let doc = Document::new(text).unwrap();
        let core = rhetor_core::Prepared::new(&doc);
        let p = Prepared::new(&core);
        let (mut mask, mut fast) = (Vec::new(), Vec::new());
        cue_mask(&p, &att.cands, &att.lex, &mut mask);
        cue_mask_fast(&p, &att.heads, &att.lex, &mut fast);
        assert_eq!(mask, fast);
        let mut feats = Vec::new();
        for i in 0..p.toks.len() {
            let (ps, pe) = p.paras[p.toks[i].para as usize];
            let (ps, pe) = (ps as usize, pe as usize);
            let has_q = p.toks[ps..pe].iter().any(|t| t.inq);
            // Every lexicon value, not only the token's own.
            for lexinfo in [0, 1, 5] {
                cue_features(&p, lexinfo, has_q, ps, pe, i, att.cue.bits, &mut feats);
                let mut want = [0f32; CUE_TAGS];
                att.cue.emit_n(&feats, &mut want);
                let mut got = CueScore::new(&att.cue);
                cue_features_into(&p, lexinfo, has_q, ps, pe, i, att.cue.bits, &mut got);
                assert_eq!(
                    got.acc.map(f32::to_bits),
                    want.map(f32::to_bits),
                    "token {i}"
                );
                // The one-byte differences give the same margin, up to the order of rounding.
                let diff = att
                    .cue_diff
                    .as_ref()
                    .expect("the shipped model fits one byte");
                let margin = diff.score(&feats);
                let exact = want[1] - want[0];
                assert!(
                    (margin - exact).abs() <= 1e-4 * (1.0 + exact.abs()),
                    "token {i}: {margin} against {exact}"
                );
            }
        }
        p.toks.len()
    }

    /// More than 256 distinct pairs of codes in the cue rows: no one-byte table, and the tagger
    /// sums both codes instead.
    #[test]
    fn cue_rows_with_too_many_code_pairs_get_no_difference_table() {
        let mut l = crate::linear::Linear::new(10, CUE_TAGS);
        for (k, w) in l.w.iter_mut().enumerate() {
            // Weights spread over many codebook levels, independently for the two tags.
            *w = ((k * 7919 % 1021) as f32 - 510.0) * if k % 2 == 0 { 1.0 } else { 0.37 };
        }
        assert!(CueDiff::new(&l.pack()).is_none());
        let few = crate::linear::Linear::new(10, CUE_TAGS);
        let d = CueDiff::new(&few.pack()).expect("all-zero rows are one pair");
        assert_eq!(d.score(&[1, 2, 3]), 0.0);
    }

    #[test]
    fn cue_scores_summed_as_hashed_are_the_listed_scores() {
        let mut n = 0;
        for id in ["9001", "9002", "9003"] {
            n += check_same_cue_scores(&rhetor_testkit::fixture_article(id));
        }
        n += check_same_cue_scores(
            "“No,” he said. According to them, it was “over.”\n\nShe added: x",
        );
        assert!(n > 300, "only {n} tokens compared");
    }

    #[test]
    fn table_scores_are_the_hashed_scores() {
        let written = "“We will not back down,” the minister said on Tuesday, adding that talks, \
            which began in May, had stalled.\n\nAccording to officials, “the deal is dead.\n\n“It \
            won't come back,” one said. She told reporters: \"No.\" (CNN) — Ana Ruiz\r\n\
            1,000 people — 東京 — café — 😀 said \"x";
        let mut n = check_same_scores(written);
        for id in ["9001", "9002", "9003"] {
            n += check_same_scores(&rhetor_testkit::fixture_article(id));
        }
        assert!(n > 5_000, "only {n} token scores compared");
    }
}
