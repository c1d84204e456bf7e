//! Wordpieces with exact code-point spans, cut into overlapping windows the encoder can read, and
//! the per-piece training targets derived from PTC spans.

use crate::NeuralError;
use rhetor_core::prepared::overlapping;
use rhetor_core::{Document, Span, Technique};
use tokenizers::Tokenizer;

/// An article's wordpieces (no special tokens) and where each sits in the text, in code points.
#[derive(Debug, Clone, Default)]
pub struct Pieces {
    /// Vocabulary ids.
    pub ids: Vec<u32>,
    /// Code-point span of each piece in the document.
    pub spans: Vec<Span>,
}

impl Pieces {
    /// Tokenizes a whole document. The tokenizer must have padding and truncation switched off.
    pub fn new(tok: &Tokenizer, doc: &Document) -> Result<Pieces, NeuralError> {
        let enc = tok
            .encode(doc.text(), false)
            .map_err(|e| NeuralError::Tokenizer(e.to_string()))?;
        let mut ids = Vec::with_capacity(enc.len());
        let mut spans = Vec::with_capacity(enc.len());
        for (&id, &(b0, b1)) in enc.get_ids().iter().zip(enc.get_offsets()) {
            // Offsets are bytes into the original text; the normalizer keeps them aligned.
            if b1 <= b0 {
                continue;
            }
            ids.push(id);
            spans.push(Span::new(doc.char_of(b0), doc.char_of(b1)));
        }
        Ok(Pieces { ids, spans })
    }

    /// Number of pieces.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the document had no pieces.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A window over pieces `start..end`; the encoder sees `[CLS] pieces [SEP]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First piece.
    pub start: usize,
    /// One past the last piece.
    pub end: usize,
}

/// Windows of at most `len` pieces, each starting `stride` after the previous, the last one ending
/// at the last piece. `offset` shifts the first cut (training varies it per epoch).
pub fn windows(n: usize, len: usize, stride: usize, offset: usize) -> Vec<Window> {
    assert!(len > 0 && stride > 0 && stride <= len);
    let mut out = Vec::new();
    if n == 0 {
        return out;
    }
    let mut start = 0;
    let first = offset % len;
    if first > 0 && first < n {
        out.push(Window {
            start: 0,
            end: first,
        });
        start = first;
    }
    loop {
        let end = (start + len).min(n);
        out.push(Window { start, end });
        if end == n {
            break;
        }
        start += stride;
    }
    out
}

/// For each piece, the window whose prediction it takes: the one where it sits farthest from an
/// edge, so every piece is read with as much context on both sides as the windows allow.
pub fn owners(n: usize, wins: &[Window]) -> Vec<usize> {
    let mut best = vec![(0usize, 0usize); n];
    let mut seen = vec![false; n];
    for (w, win) in wins.iter().enumerate() {
        for i in win.start..win.end {
            let margin = (i - win.start).min(win.end - 1 - i);
            if !seen[i] || margin > best[i].1 {
                best[i] = (w, margin);
                seen[i] = true;
            }
        }
    }
    best.into_iter().map(|(w, _)| w).collect()
}

/// Tag of a piece for the span head.
pub const TAG_O: u32 = 0;
/// First piece of a span.
pub const TAG_B: u32 = 1;
/// A later piece of a span.
pub const TAG_I: u32 = 2;

/// Training targets for one article's pieces.
#[derive(Debug, Clone)]
pub struct Targets {
    /// O/B/I per piece, against the merged (technique-agnostic) spans.
    pub tags: Vec<u32>,
    /// Per piece, the techniques of the gold spans covering it (bit i = `Technique::ALL[i]`).
    pub techs: Vec<u16>,
}

/// Aligns gold technique spans onto pieces: a piece is inside a span when at least half of its
/// characters are.
pub fn targets(pieces: &Pieces, gold: &[(Technique, Span)]) -> Targets {
    let merged =
        rhetor_core::span::merge_overlapping(&gold.iter().map(|g| g.1).collect::<Vec<_>>());
    let inside = |p: Span, s: Span| p.overlap(s) * 2 >= p.len().max(1);
    let mut tags = vec![TAG_O; pieces.len()];
    let mut techs = vec![0u16; pieces.len()];
    // Pieces and spans are both sorted by start: walk them together.
    let mut j = 0;
    let mut prev_span = usize::MAX;
    for (i, &p) in pieces.spans.iter().enumerate() {
        while j < merged.len() && merged[j].end() <= p.start() {
            j += 1;
        }
        if j < merged.len() && inside(p, merged[j]) {
            tags[i] = if prev_span == j { TAG_I } else { TAG_B };
            prev_span = j;
        }
    }
    for &(t, s) in gold {
        for i in overlapping(&pieces.spans, s) {
            if inside(pieces.spans[i], s) {
                techs[i] |= 1 << t.index();
            }
        }
    }
    Targets { tags, techs }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_every_piece_and_overlap() {
        let w = windows(300, 128, 96, 0);
        assert_eq!(w[0], Window { start: 0, end: 128 });
        assert_eq!(
            w[1],
            Window {
                start: 96,
                end: 224
            }
        );
        assert_eq!(w.last().unwrap().end, 300);
        let o = owners(300, &w);
        // Piece 100 is 27 from window 0's end but only 4 into window 1: window 0 reads it.
        // Piece 120 is 7 from window 0's end and 24 into window 1: window 1 reads it.
        assert_eq!(o[100], 0);
        assert_eq!(o[120], 1);
        assert_eq!(windows(0, 128, 96, 0), vec![]);
        assert_eq!(windows(5, 128, 96, 0), vec![Window { start: 0, end: 5 }]);
        let shifted = windows(300, 128, 128, 50);
        assert_eq!(shifted[0], Window { start: 0, end: 50 });
        assert_eq!(
            shifted[1],
            Window {
                start: 50,
                end: 178
            }
        );
    }

    #[test]
    fn targets_mark_begin_inside_and_techniques() {
        let pieces = Pieces {
            ids: vec![1; 5],
            spans: vec![
                Span::new(0, 3),
                Span::new(4, 8),
                Span::new(9, 12),
                Span::new(13, 15),
                Span::new(16, 20),
            ],
        };
        let gold = vec![
            (Technique::LoadedLanguage, Span::new(4, 12)),
            (Technique::Doubt, Span::new(9, 15)),
            (Technique::Slogans, Span::new(17, 20)),
        ];
        let t = targets(&pieces, &gold);
        assert_eq!(t.tags, vec![TAG_O, TAG_B, TAG_I, TAG_I, TAG_B]);
        assert_eq!(t.techs[1], 1 << Technique::LoadedLanguage.index());
        assert_eq!(
            t.techs[2],
            (1 << Technique::LoadedLanguage.index()) | (1 << Technique::Doubt.index())
        );
        assert_eq!(t.techs[4], 1 << Technique::Slogans.index());
        assert_eq!(t.techs[0], 0);
    }
}
