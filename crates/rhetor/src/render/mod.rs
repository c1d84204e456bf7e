//! Showing an [`Analysis`] to people: on a terminal ([`terminal`]) and as one self-contained HTML
//! page ([`html`]).
//!
//! Both renderers are pure (an `Analysis` in, a `String` out) and never panic, whatever the
//! analysis holds: spans read from JSON may reach past the text or run backwards, and are clamped
//! to the text. Offsets are code points (as everywhere in rhetor); they are turned into byte
//! offsets in one pass over the text.
//!
//! Overlapping spans stay visible in both. On a terminal each stretch of text takes the colour of
//! the innermost span covering it, is underlined where spans overlap, and each span's end carries
//! its number (`⁽³⁾`) referring to the list of spans printed below the text. In HTML, spans stack as
//! thin coloured bars in slots under the text with the label shown once per span, as spaCy's
//! displaCy does: that layout has one implementation, the span view script [`SPANVIEW_JS`] (with
//! [`SPANVIEW_CSS`]), which the HTML page embeds and the server's web app loads.
//!
//! ```
//! use rhetor::{render, Analysis, Detection, Document, Span, Technique};
//!
//! let doc = Document::new("They are a gang of traitors.")?;
//! let d = Detection { span: Span::new(9, 27), technique: Technique::NameCallingLabeling, confidence: 0.9 };
//! let a = Analysis::new(&doc, "example", vec![d]);
//! let plain = render::terminal(&a, false);
//! assert!(plain.contains("[¹a gang of traitors]¹"));
//! assert!(render::html(&a).contains("a gang of traitors"));
//! # Ok::<(), rhetor::Error>(())
//! ```

mod colour;
mod html;
mod terminal;
mod view;

pub use self::html::{html, technique_list, TechniqueInfo};
pub use self::terminal::{terminal, terminal_with, ColorMode};

/// The span view: a classic script defining `window.RhetorSpans`, which draws an [`Analysis`]'s
/// JSON into page elements (stacked span bars under the text, one label per span, a legend that
/// hides and shows techniques, tooltips with the speaker, a span table). No dependencies; it
/// inserts text only as text, never as HTML.
///
/// `RhetorSpans.setTechniques(list)` takes the list of `GET /api/techniques`;
/// `RhetorSpans.mount({doc, legend, tip, table?, hint?, root?})` returns `{show(analysis), clear(),
/// hideTip()}`.
pub static SPANVIEW_JS: &str = include_str!("spanview.js");

/// The stylesheet of [`SPANVIEW_JS`]'s markup (technique colours come from `--cN`/`--fN`).
pub static SPANVIEW_CSS: &str = include_str!("spanview.css");

#[cfg(test)]
mod test_support {
    use rhetor_core::{Analysis, Detection, Document, Span, Technique};

    /// An analysis of `text` with the given spans, each at confidence 0.876.
    pub(super) fn analysis(text: &str, spans: &[(usize, usize, Technique)]) -> Analysis {
        let detections = spans
            .iter()
            .map(|&(s, e, technique)| Detection {
                span: Span::new(s, e),
                technique,
                confidence: 0.876,
            })
            .collect();
        Analysis::new(&Document::new(text).unwrap(), "test-model", detections)
    }

    /// Code-point span of the first occurrence of `needle` in `text`.
    pub(super) fn find(text: &str, needle: &str) -> (usize, usize) {
        let b = text.find(needle).expect("needle in text");
        let s = text[..b].chars().count();
        (s, s + needle.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhetor_core::Technique;

    #[test]
    fn the_span_view_can_be_inlined_and_styles_every_technique() {
        // Inlined in a <script> element, the code must not close it or open a comment.
        for s in [SPANVIEW_JS, SPANVIEW_CSS] {
            assert!(!s.contains("</") && !s.contains("<!--"));
        }
        assert!(SPANVIEW_JS.contains("global.RhetorSpans = "));
        for t in Technique::ALL {
            let i = t.index();
            let rule = format!(".t{i}{{--c:var(--c{i},#888);--f:var(--f{i},#000)}}");
            assert!(SPANVIEW_CSS.contains(&rule), "{rule}");
            assert!(SPANVIEW_CSS.contains(&format!(
                ".hide-t{i} .bar.t{i},.hide-t{i} tr.t{i}{{display:none}}"
            )));
        }
    }
}
