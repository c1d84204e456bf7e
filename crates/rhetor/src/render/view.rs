//! What both renderers draw, taken from an [`Analysis`] without trusting it: spans clamped to the
//! text, the text cut at every span boundary, counts and density.

use rhetor_core::{Analysis, Technique, Voice};
use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::ops::Range;

/// The technique counts per voice kind of an analysis, the outlet's own first, then quoted people,
/// organisations, groups, unknown speakers, then any other key the (untrusted) analysis holds.
pub(super) fn voice_kinds(a: &Analysis) -> Vec<(&str, &BTreeMap<String, usize>)> {
    const ORDER: [&str; 5] = ["author", "person", "organization", "group", "unknown"];
    let rank = |k: &str| ORDER.iter().position(|&o| o == k).unwrap_or(ORDER.len());
    let mut v: Vec<(&str, &BTreeMap<String, usize>)> = a
        .voices
        .iter()
        .filter(|(_, c)| !c.is_empty())
        .map(|(k, c)| (k.as_str(), c))
        .collect();
    v.sort_by_key(|&(k, _)| (rank(k), k));
    v
}

/// A span as the renderers see it: plain data, clamped to the text.
#[derive(Debug, Clone)]
pub(super) struct Item<'a> {
    /// 1-based number, in the analysis' order.
    pub(super) n: usize,
    /// Code points, `start <= end <= text length`.
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) technique: Technique,
    pub(super) confidence: f32,
    pub(super) snippet: &'a str,
    /// Who speaks the span's words, when the analysis says: `author` or `quoted: NAME`.
    pub(super) voice: Option<String>,
}

/// Everything the renderers draw, taken from an [`Analysis`] without trusting it.
pub(super) struct View<'a> {
    pub(super) text: &'a str,
    pub(super) n_chars: usize,
    pub(super) model: &'a str,
    pub(super) items: Vec<Item<'a>>,
    pub(super) density: f64,
}

/// The text between two consecutive span boundaries, and what changes at its start.
#[derive(Debug)]
pub(super) struct Step {
    /// Spans that end at `cp`, innermost (last opened) first.
    pub(super) closes: Vec<usize>,
    /// Spans that start at `cp`, outermost (longest) first.
    pub(super) opens: Vec<usize>,
    /// Spans covering the step's text, in the order they opened.
    pub(super) active: Vec<usize>,
    /// Byte range of the step's text (empty for the last step).
    pub(super) bytes: Range<usize>,
}

impl<'a> View<'a> {
    pub(super) fn new(a: &'a Analysis) -> View<'a> {
        let text = a.text.as_str();
        let n_chars = text.chars().count();
        let items: Vec<Item> = a
            .spans
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let start = s.start.min(n_chars);
                let end = s.end.clamp(start, n_chars);
                Item {
                    n: k + 1,
                    start,
                    end,
                    technique: s.technique,
                    confidence: if s.confidence.is_finite() {
                        s.confidence
                    } else {
                        0.0
                    },
                    snippet: &s.snippet,
                    voice: s.voice.as_ref().map(|v| match v {
                        Voice::Author => "author".to_string(),
                        Voice::Quoted { speaker } => format!("quoted: {speaker}"),
                    }),
                }
            })
            .collect();
        // `Analysis::density` is the definition, but it trusts the spans (a backwards one panics).
        let trusted = a.length == n_chars && a.spans.iter().all(|s| s.start <= s.end);
        let density = if trusted {
            a.density()
        } else {
            coverage(&items) as f64 / n_chars.max(1) as f64
        };
        View {
            text,
            n_chars,
            model: &a.model,
            items,
            density: density.clamp(0.0, 1.0),
        }
    }

    /// Spans per technique present, in [`Technique::ALL`] order.
    pub(super) fn counts(&self) -> Vec<(Technique, usize)> {
        let mut c = [0usize; Technique::ALL.len()];
        for it in &self.items {
            c[it.technique.index()] += 1;
        }
        Technique::ALL
            .iter()
            .map(|&t| (t, c[t.index()]))
            .filter(|&(_, n)| n > 0)
            .collect()
    }

    /// Cuts the text at every span boundary (one sweep).
    pub(super) fn steps(&self) -> Vec<Step> {
        let items = &self.items;
        let mut cps = vec![0, self.n_chars];
        for it in items.iter().filter(|it| it.start < it.end) {
            cps.push(it.start);
            cps.push(it.end);
        }
        cps.sort_unstable();
        cps.dedup();
        let bytes = byte_offsets(self.text, &cps);
        let mut order: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].start < items[i].end)
            .collect();
        order.sort_by_key(|&i| (items[i].start, Reverse(items[i].end), i));
        let mut next = 0;
        let mut active: Vec<usize> = Vec::new();
        let mut steps = Vec::with_capacity(cps.len());
        for (k, &cp) in cps.iter().enumerate() {
            let closes: Vec<usize> = active
                .iter()
                .rev()
                .copied()
                .filter(|&i| items[i].end == cp)
                .collect();
            active.retain(|&i| items[i].end != cp);
            let mut opens = Vec::new();
            while next < order.len() && items[order[next]].start == cp {
                opens.push(order[next]);
                active.push(order[next]);
                next += 1;
            }
            let end = bytes.get(k + 1).copied().unwrap_or(bytes[k]);
            steps.push(Step {
                closes,
                opens,
                active: active.clone(),
                bytes: bytes[k]..end,
            });
        }
        steps
    }

    /// The innermost of some spans: the shortest, the later one on a tie.
    pub(super) fn innermost(&self, of: &[usize]) -> Option<usize> {
        of.iter()
            .copied()
            .min_by_key(|&i| (self.items[i].end - self.items[i].start, Reverse(i)))
    }
}

/// Code points covered by at least one span.
pub(super) fn coverage(items: &[Item]) -> usize {
    let mut v: Vec<(usize, usize)> = items.iter().map(|it| (it.start, it.end)).collect();
    v.sort_unstable();
    let mut covered = 0;
    let mut reach = 0;
    for (s, e) in v {
        let s = s.max(reach);
        if e > s {
            covered += e - s;
            reach = e;
        }
    }
    covered
}

/// Byte offsets of sorted, distinct code-point offsets (each at most the text's length).
pub(super) fn byte_offsets(text: &str, cps: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(cps.len());
    let mut want = cps.iter().copied().peekable();
    for (i, (b, _)) in text.char_indices().enumerate() {
        while want.peek() == Some(&i) {
            out.push(b);
            want.next();
        }
    }
    out.extend(want.map(|_| text.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::analysis;
    use super::*;

    #[test]
    fn byte_offsets_of_code_points() {
        assert_eq!(byte_offsets("é😀a", &[0, 1, 2, 3]), vec![0, 2, 6, 7]);
        assert_eq!(byte_offsets("ab", &[0, 5]), vec![0, 2]);
    }

    #[test]
    fn steps_cut_the_text_at_every_boundary() {
        let a = analysis(
            "aaaa bbbb cccc",
            &[(0, 9, Technique::Doubt), (5, 14, Technique::Slogans)],
        );
        let v = View::new(&a);
        let steps = v.steps();
        let cuts: Vec<usize> = steps.iter().map(|s| s.bytes.start).collect();
        assert_eq!(cuts, vec![0, 5, 9, 14]);
        assert_eq!(steps[1].active, vec![0, 1]);
        assert_eq!(steps[2].closes, vec![0]);
        assert_eq!(v.innermost(&[0, 1]), Some(1));
        assert_eq!(coverage(&v.items), 14);
    }
}
