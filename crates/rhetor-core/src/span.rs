//! Spans of text, in code points.

use serde::{Deserialize, Serialize};

/// A half-open range `[start, end)` of Unicode code-point offsets: what PTC and rhetor's users see.
///
/// The fields are private so that `start <= end` always holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "(usize, usize)", into = "(usize, usize)")]
pub struct Span {
    start: usize,
    end: usize,
}

impl Span {
    /// A span from `start` (inclusive) to `end` (exclusive).
    ///
    /// # Panics
    /// When `start > end`; use [`Span::try_new`] for untrusted input.
    pub fn new(start: usize, end: usize) -> Span {
        assert!(start <= end, "span start {start} > end {end}");
        Span { start, end }
    }

    /// A span, or `None` when `start > end`.
    pub fn try_new(start: usize, end: usize) -> Option<Span> {
        (start <= end).then_some(Span { start, end })
    }

    /// First code point.
    pub fn start(&self) -> usize {
        self.start
    }

    /// One past the last code point.
    pub fn end(&self) -> usize {
        self.end
    }

    /// Number of code points.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True when the span covers nothing.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Number of code points both spans cover.
    pub fn overlap(&self, other: Span) -> usize {
        self.end
            .min(other.end)
            .saturating_sub(self.start.max(other.start))
    }
}

impl TryFrom<(usize, usize)> for Span {
    type Error = String;
    fn try_from((s, e): (usize, usize)) -> Result<Span, String> {
        Span::try_new(s, e).ok_or_else(|| format!("span start {s} > end {e}"))
    }
}

impl From<Span> for (usize, usize) {
    fn from(s: Span) -> (usize, usize) {
        (s.start, s.end)
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// Merges overlapping spans (transitively). Spans that only touch stay apart, as the SemEval scorer
/// does. Returns sorted, disjoint spans.
pub fn merge_overlapping(spans: &[Span]) -> Vec<Span> {
    let mut v: Vec<Span> = spans.iter().copied().filter(|s| !s.is_empty()).collect();
    v.sort();
    let mut out: Vec<Span> = Vec::with_capacity(v.len());
    for s in v {
        match out.last_mut() {
            Some(last) if s.start < last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_transitive_and_keeps_touching_apart() {
        let m = merge_overlapping(&[
            Span::new(10, 20),
            Span::new(0, 5),
            Span::new(4, 11),
            Span::new(20, 25),
        ]);
        assert_eq!(m, [Span::new(0, 20), Span::new(20, 25)]);
    }

    #[test]
    fn overlap_counts_shared_code_points() {
        assert_eq!(Span::new(0, 10).overlap(Span::new(5, 20)), 5);
        assert_eq!(Span::new(0, 10).overlap(Span::new(10, 20)), 0);
    }

    #[test]
    fn try_new_rejects_reversed() {
        assert!(Span::try_new(5, 4).is_none());
        assert!(serde_json::from_str::<Span>("[5,4]").is_err());
    }
}
