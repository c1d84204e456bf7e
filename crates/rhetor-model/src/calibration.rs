//! Calibrated confidence: a span's confidence should be the probability that it is right (that it
//! overlaps a gold span of its technique). The decoder's raw score (span probability × technique
//! probability) orders spans well but is not a probability; an isotonic map fitted on out-of-fold
//! predictions turns it into one. The map lives in the model's manifest.

use serde::{Deserialize, Serialize};

/// A monotone map from raw scores to probabilities: isotonic regression (pool adjacent violators)
/// on held-out outcomes, interpolated linearly between the pooled blocks' mean scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// (raw score, calibrated probability) knots, both increasing.
    pub knots: Vec<(f32, f32)>,
    /// Number of held-out spans it was fitted on.
    pub fitted_on: usize,
}

impl Calibration {
    /// Fits the map on `(raw score, was it right)` pairs. Blocks hold at least `min_block` spans,
    /// so a handful of spans cannot make a knot of their own.
    pub fn fit(points: &[(f32, bool)], min_block: usize) -> Calibration {
        let mut pts: Vec<(f32, bool)> = points.to_vec();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Blocks: (sum of scores, sum of outcomes, count); adjacent blocks pool while they violate
        // monotonicity or are too small.
        let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
        for (x, y) in pts {
            blocks.push((x as f64, y as u8 as f64, 1));
            while blocks.len() > 1 {
                let (a, b) = (blocks[blocks.len() - 2], blocks[blocks.len() - 1]);
                let violates = a.1 / a.2 as f64 >= b.1 / b.2 as f64;
                if violates || a.2 < min_block {
                    blocks.pop();
                    let last = blocks.last_mut().expect("two blocks");
                    *last = (a.0 + b.0, a.1 + b.1, a.2 + b.2);
                } else {
                    break;
                }
            }
        }
        // A last block that is too small joins its neighbour.
        if blocks.len() > 1 && blocks.last().is_some_and(|b| b.2 < min_block) {
            let b = blocks.pop().expect("a block");
            let last = blocks.last_mut().expect("a block");
            *last = (last.0 + b.0, last.1 + b.1, last.2 + b.2);
        }
        let knots = blocks
            .iter()
            .map(|&(sx, sy, n)| ((sx / n as f64) as f32, (sy / n as f64) as f32))
            .collect();
        Calibration {
            knots,
            fitted_on: points.len(),
        }
    }

    /// The calibrated probability of a raw score.
    pub fn apply(&self, x: f32) -> f32 {
        let k = &self.knots;
        match k.len() {
            0 => x,
            1 => k[0].1,
            _ => {
                if x <= k[0].0 {
                    return k[0].1;
                }
                let i = k.partition_point(|p| p.0 < x);
                if i >= k.len() {
                    return k[k.len() - 1].1;
                }
                let (a, b) = (k[i - 1], k[i]);
                let t = if b.0 > a.0 {
                    (x - a.0) / (b.0 - a.0)
                } else {
                    1.0
                };
                a.1 + t * (b.1 - a.1)
            }
        }
    }
}

/// The fewest held-out spans one knot of a fitted map stands for.
pub const MIN_BLOCK: usize = 50;

/// Honest calibrated confidences: each group's raw scores (a fold's, or half of the held-out
/// articles') mapped by a calibration fitted on the other groups only.
pub fn cross_fitted(groups: &[Vec<(f32, bool)>], min_block: usize) -> Vec<(f32, bool)> {
    let mut out = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let rest: Vec<(f32, bool)> = groups
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .flat_map(|(_, g)| g.iter().copied())
            .collect();
        let c = Calibration::fit(&rest, min_block);
        out.extend(g.iter().map(|&(x, y)| (c.apply(x), y)));
    }
    out
}

/// One row of a reliability table: spans whose confidence fell in `[lo, hi)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReliabilityBin {
    /// Lower edge of the bin.
    pub lo: f32,
    /// Upper edge of the bin.
    pub hi: f32,
    /// Spans in the bin.
    pub count: usize,
    /// Their mean confidence.
    pub confidence: f64,
    /// The fraction of them that were right.
    pub accuracy: f64,
}

/// A reliability table over `bins` equal-width bins of confidence, and the expected calibration
/// error: the count-weighted mean gap between confidence and accuracy.
pub fn reliability(points: &[(f32, bool)], bins: usize) -> (Vec<ReliabilityBin>, f64) {
    let bins = bins.max(1);
    let mut acc = vec![(0.0f64, 0.0f64, 0usize); bins];
    for &(c, y) in points {
        let b = ((c.clamp(0.0, 1.0) * bins as f32) as usize).min(bins - 1);
        acc[b].0 += c as f64;
        acc[b].1 += y as u8 as f64;
        acc[b].2 += 1;
    }
    let n = points.len().max(1) as f64;
    let mut ece = 0.0;
    let table = acc
        .iter()
        .enumerate()
        .map(|(i, &(sc, sy, k))| {
            let (confidence, accuracy) = if k > 0 {
                (sc / k as f64, sy / k as f64)
            } else {
                (0.0, 0.0)
            };
            ece += k as f64 / n * (confidence - accuracy).abs();
            ReliabilityBin {
                lo: i as f32 / bins as f32,
                hi: (i + 1) as f32 / bins as f32,
                count: k,
                confidence,
                accuracy,
            }
        })
        .collect();
    (table, ece)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lcg;

    #[test]
    fn isotonic_map_is_monotone_and_recovers_a_known_curve() {
        // Outcomes drawn with P(right) = x^2: the fitted map must follow x^2, not x.
        let mut rng = Lcg(7);
        let mut unit = || rng.next_u64() as f32 / (1u64 << 31) as f32;
        let pts: Vec<(f32, bool)> = (0..20000)
            .map(|_| {
                let x = unit();
                (x, unit() < x * x)
            })
            .collect();
        let c = Calibration::fit(&pts, 200);
        assert!(c
            .knots
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        for x in [0.2f32, 0.5, 0.8] {
            assert!((c.apply(x) - x * x).abs() < 0.05, "{x}: {}", c.apply(x));
        }
        let raw = reliability(&pts, 10).1;
        let fixed: Vec<(f32, bool)> = pts.iter().map(|&(x, y)| (c.apply(x), y)).collect();
        let cal = reliability(&fixed, 10).1;
        assert!(raw > 0.1 && cal < 0.02, "ECE raw {raw}, calibrated {cal}");
    }

    #[test]
    fn small_inputs_and_the_edges() {
        assert_eq!(Calibration::fit(&[], 5).apply(0.3), 0.3);
        let c = Calibration::fit(&[(0.1, false), (0.9, true)], 5);
        assert_eq!(c.knots.len(), 1);
        assert_eq!(c.apply(0.0), 0.5);
        let c = Calibration::fit(&[(0.1, false), (0.2, false), (0.8, true), (0.9, true)], 2);
        assert_eq!(c.knots, [(0.15, 0.0), (0.85, 1.0)]);
        assert!((c.apply(0.5) - 0.5).abs() < 1e-6);
        assert_eq!(c.apply(2.0), 1.0);
        let (table, ece) = reliability(&[(0.05, false), (0.95, true)], 10);
        assert_eq!(table[0].count, 1);
        assert!((ece - 0.05).abs() < 1e-6);
    }
}
