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
//! displaCy does.
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

use rhetor_core::{Analysis, Technique, Voice};
use std::cmp::Reverse;
use std::fmt::Write as _;
use std::ops::Range;

/// How [`terminal_with`] colours its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// No escape codes at all: spans are bracketed and numbered, `[¹like this]¹`.
    Plain,
    /// 256-colour ANSI backgrounds (every colour terminal).
    Ansi256,
    /// 24-bit ANSI backgrounds (terminals that set `COLORTERM=truecolor` or `24bit`).
    TrueColor,
}

/// The text of an analysis with its spans highlighted, then the list of spans, a legend of the
/// techniques present with their counts, and totals: what `rhetor analyze FILE` prints.
///
/// With `color` the output uses 24-bit ANSI colours (see [`terminal_with`] for 256 colours);
/// without, it contains no escape codes at all and marks spans as `[¹text]¹`. Control characters in
/// the text (an article could carry its own escape sequences) are shown as symbols, never sent to
/// the terminal.
pub fn terminal(a: &Analysis, color: bool) -> String {
    terminal_with(
        a,
        if color {
            ColorMode::TrueColor
        } else {
            ColorMode::Plain
        },
    )
}

/// [`terminal`] with a chosen [`ColorMode`].
pub fn terminal_with(a: &Analysis, mode: ColorMode) -> String {
    let view = View::new(a);
    let mut out = String::new();
    let steps = view.steps();

    // The text.
    for step in &steps {
        if !step.closes.is_empty() {
            match mode {
                ColorMode::Plain => {
                    for &i in &step.closes {
                        out.push(']');
                        out.push_str(&superscript(view.items[i].n));
                    }
                }
                _ => {
                    // The markers keep the background of the span that still encloses them, so
                    // that an outer highlight does not break.
                    let enclosing: Vec<usize> = step
                        .active
                        .iter()
                        .copied()
                        .filter(|i| !step.opens.contains(i))
                        .collect();
                    let style = match view.innermost(&enclosing) {
                        Some(i) => {
                            format!("\x1b[1;{}", &sgr(view.items[i].technique, mode, false)[2..])
                        }
                        None => "\x1b[1m".to_string(),
                    };
                    let mut markers = String::new();
                    for &i in &step.closes {
                        markers.push('⁽');
                        markers.push_str(&superscript(view.items[i].n));
                        markers.push('⁾');
                    }
                    styled(&mut out, &style, &markers);
                }
            }
        }
        if mode == ColorMode::Plain {
            for &i in &step.opens {
                out.push('[');
                out.push_str(&superscript(view.items[i].n));
            }
        }
        let text = terminal_clean(view.text, step.bytes.clone());
        if mode == ColorMode::Plain || step.active.is_empty() {
            out.push_str(&text);
        } else {
            let style = sgr_for(&view, &step.active, mode, step.active.len() > 1);
            styled(&mut out, &style, &text);
        }
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');

    let bold = |s: &str| match mode {
        ColorMode::Plain => s.to_string(),
        _ => format!("\x1b[1m{s}{RESET}"),
    };
    let swatch = |t: Technique, label: &str| match mode {
        ColorMode::Plain => label.to_string(),
        _ => format!("{}{label}{RESET}", sgr(t, mode, false)),
    };

    // The spans.
    if view.items.is_empty() {
        out.push_str("No propaganda techniques found.\n");
    } else {
        let width = view
            .items
            .iter()
            .map(|it| it.technique.name().len())
            .max()
            .unwrap_or(0);
        let num_width = view.items.len().to_string().len();
        out.push_str(&bold("Spans"));
        out.push('\n');
        for it in &view.items {
            let num = format!(" {:>num_width$} ", it.n);
            let _ = write!(
                out,
                "{} {:<width$}  {:.2}  {:>5}–{:<5} {}",
                swatch(it.technique, &num),
                it.technique.name(),
                it.confidence,
                it.start,
                it.end,
                quote_snippet(it.snippet),
            );
            if let Some(v) = it.voice.as_deref() {
                let _ = write!(out, "  ({})", terminal_clean(v, 0..v.len()));
            }
            out.push('\n');
        }
        out.push('\n');

        // The legend.
        out.push_str(&bold("Techniques"));
        out.push('\n');
        let counts = view.counts();
        let width = counts
            .iter()
            .map(|(t, _)| t.name().len())
            .max()
            .unwrap_or(0);
        for (t, c) in &counts {
            let mark = match mode {
                ColorMode::Plain => String::new(),
                _ => format!("{} ", swatch(*t, "  ")),
            };
            let _ = writeln!(out, "  {mark}{:<width$}  {c:>3}", t.name());
        }
        out.push('\n');
        // Whose voice: technique spans per quoted speaker (the rest are the outlet's own).
        if !a.speakers.is_empty() {
            out.push_str(&bold("Speakers"));
            out.push('\n');
            for sp in &a.speakers {
                let total: usize = sp.counts.values().sum();
                let list: Vec<String> = sp.counts.iter().map(|(t, c)| format!("{t} {c}")).collect();
                let name = terminal_clean(&sp.name, 0..sp.name.len());
                let _ = writeln!(out, "  {name}: {total} ({})", list.join(", "));
            }
            out.push('\n');
        }
    }

    // Totals.
    let n_tech = view.counts().len();
    let _ = writeln!(
        out,
        "{} span{}, {} technique{}; {:.1}% of {} characters inside a span. Model: {}",
        view.items.len(),
        if view.items.len() == 1 { "" } else { "s" },
        n_tech,
        if n_tech == 1 { "" } else { "s" },
        view.density * 100.0,
        view.n_chars,
        terminal_clean(view.model, 0..view.model.len()),
    );
    out
}

/// One self-contained HTML page showing the analysis: the text with each span drawn as a thin
/// coloured bar under it (overlapping spans stack in slots, the label shown once per span), a
/// legend whose buttons show and hide each technique, a tooltip on highlighted text with the
/// technique, its definition and the confidence, the list of spans, the density and the model.
///
/// No external resources (inline CSS, a few lines of inline JS); every piece of data from the
/// analysis is HTML-escaped. Readable on a phone.
pub fn html(a: &Analysis) -> String {
    html_view(&View::new(a))
}

const RESET: &str = "\x1b[0m";

/// A span as the renderers see it: plain data, clamped to the text.
#[derive(Debug, Clone)]
struct Item<'a> {
    /// 1-based number, in the analysis' order.
    n: usize,
    /// Code points, `start <= end <= text length`.
    start: usize,
    end: usize,
    technique: Technique,
    confidence: f32,
    snippet: &'a str,
    /// Who speaks the span's words (the article's author or a quoted speaker), when the analysis
    /// says. [`rhetor_core::TechniqueSpan`] has no such field yet: when it gains one, fill this in
    /// `View::new` and both renderers show it (HTML: striped bars for anyone but "author", a
    /// column in the span list and a line in the tooltip; terminal: after the snippet).
    voice: Option<String>,
}

/// Everything the renderers draw, taken from an [`Analysis`] without trusting it.
struct View<'a> {
    text: &'a str,
    n_chars: usize,
    model: &'a str,
    items: Vec<Item<'a>>,
    density: f64,
}

/// The text between two consecutive span boundaries, and what changes at its start.
#[derive(Debug)]
struct Step {
    /// Code point where the step starts.
    cp: usize,
    /// Spans that end at `cp`, innermost (last opened) first.
    closes: Vec<usize>,
    /// Spans that start at `cp`, outermost (longest) first.
    opens: Vec<usize>,
    /// Spans covering the step's text, in the order they opened.
    active: Vec<usize>,
    /// Byte range of the step's text (empty for the last step).
    bytes: Range<usize>,
}

impl<'a> View<'a> {
    fn new(a: &'a Analysis) -> View<'a> {
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
    fn counts(&self) -> Vec<(Technique, usize)> {
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
    fn steps(&self) -> Vec<Step> {
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
                cp,
                closes,
                opens,
                active: active.clone(),
                bytes: bytes[k]..end,
            });
        }
        steps
    }

    /// The innermost of some spans: the shortest, the later one on a tie.
    fn innermost(&self, of: &[usize]) -> Option<usize> {
        of.iter()
            .copied()
            .min_by_key(|&i| (self.items[i].end - self.items[i].start, Reverse(i)))
    }

    /// A slot (row of bars under the text) per span, so that overlapping spans never share one;
    /// longer spans take the lower slots. Returns the slots and how many there are.
    fn slots(&self) -> (Vec<usize>, usize) {
        let items = &self.items;
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_key(|&i| (items[i].start, Reverse(items[i].end), i));
        let mut slot = vec![0; items.len()];
        // End of the last span placed in each slot.
        let mut slot_end: Vec<usize> = Vec::new();
        for i in order {
            if items[i].start == items[i].end {
                continue;
            }
            match slot_end.iter().position(|&e| e <= items[i].start) {
                Some(s) => {
                    slot[i] = s;
                    slot_end[s] = items[i].end;
                }
                None => {
                    slot[i] = slot_end.len();
                    slot_end.push(items[i].end);
                }
            }
        }
        (slot, slot_end.len())
    }
}

/// Code points covered by at least one span.
fn coverage(items: &[Item]) -> usize {
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
fn byte_offsets(text: &str, cps: &[usize]) -> Vec<usize> {
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

fn superscript(n: usize) -> String {
    const SUP: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    n.to_string()
        .bytes()
        .map(|d| SUP[(d - b'0') as usize])
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Terminal

/// Text made safe for a terminal: CRLF and lone CR become LF, other control characters (escape
/// sequences, bells, backspaces) and bidirectional overrides become visible symbols.
fn terminal_clean(text: &str, range: Range<usize>) -> String {
    let s = &text[range.clone()];
    let mut out = String::with_capacity(s.len());
    for (b, c) in s.char_indices() {
        match c {
            '\r' if text[range.start + b + 1..].starts_with('\n') => {}
            '\r' | '\u{2028}' | '\u{2029}' | '\u{0b}' | '\u{0c}' | '\u{85}' => out.push('\n'),
            '\n' | '\t' => out.push(c),
            '\u{00}'..='\u{1f}' => {
                out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'))
            }
            '\u{7f}' => out.push('\u{2421}'),
            '\u{80}'..='\u{9f}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                out.push('\u{FFFD}')
            }
            _ => out.push(c),
        }
    }
    out
}

/// Writes `s` in `style`, resetting before each line break so that no background bleeds to the
/// end of a line.
fn styled(out: &mut String, style: &str, s: &str) {
    for (k, line) in s.split('\n').enumerate() {
        if k > 0 {
            out.push('\n');
        }
        if !line.is_empty() {
            out.push_str(style);
            out.push_str(line);
            out.push_str(RESET);
        }
    }
}

fn sgr_for(view: &View, spans: &[usize], mode: ColorMode, underline: bool) -> String {
    match view.innermost(spans) {
        Some(i) => sgr(view.items[i].technique, mode, underline),
        None => String::new(),
    }
}

/// The escape sequence for a technique's background with a readable foreground.
fn sgr(t: Technique, mode: ColorMode, underline: bool) -> String {
    let (r, g, b) = rgb(t.color());
    let black = prefers_black(r, g, b);
    let u = if underline { "4;" } else { "" };
    match mode {
        ColorMode::Plain => String::new(),
        ColorMode::TrueColor => {
            let f = if black { "0;0;0" } else { "255;255;255" };
            format!("\x1b[{u}48;2;{r};{g};{b};38;2;{f}m")
        }
        ColorMode::Ansi256 => {
            let f = if black { 16 } else { 231 };
            format!("\x1b[{u}48;5;{};38;5;{f}m", ansi256(r, g, b))
        }
    }
}

fn rgb(hex: &str) -> (u8, u8, u8) {
    let h = hex.trim_start_matches('#');
    let p = |i: usize| {
        h.get(i..i + 2)
            .and_then(|s| u8::from_str_radix(s, 16).ok())
            .unwrap_or(0x80)
    };
    (p(0), p(2), p(4))
}

/// WCAG relative luminance.
fn luminance(r: u8, g: u8, b: u8) -> f64 {
    let lin = |v: u8| {
        let c = v as f64 / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// True when black text contrasts more with the colour than white text does.
fn prefers_black(r: u8, g: u8, b: u8) -> bool {
    let l = luminance(r, g, b);
    (l + 0.05) / 0.05 >= 1.05 / (l + 0.05)
}

/// The nearest colour of the xterm 256-colour palette (6×6×6 cube or grey ramp).
fn ansi256(r: u8, g: u8, b: u8) -> u8 {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let near = |v: u8| {
        (0..6)
            .min_by_key(|&i| (LEVELS[i] as i32 - v as i32).abs())
            .unwrap_or(0)
    };
    let (ri, gi, bi) = (near(r), near(g), near(b));
    let dist = |a: (u8, u8, u8)| {
        let d = |x: u8, y: u8| (x as i32 - y as i32).pow(2);
        d(a.0, r) + d(a.1, g) + d(a.2, b)
    };
    let cube = (LEVELS[ri], LEVELS[gi], LEVELS[bi]);
    let grey_i = ((r as u32 + g as u32 + b as u32) / 3).saturating_sub(3) / 10;
    let grey_i = grey_i.min(23) as u8;
    let gv = 8 + 10 * grey_i;
    if dist((gv, gv, gv)) < dist(cube) {
        232 + grey_i
    } else {
        16 + 36 * ri as u8 + 6 * gi as u8 + bi as u8
    }
}

/// A snippet on one line, quoted, cut in the middle when long.
fn quote_snippet(s: &str) -> String {
    const MAX: usize = 100;
    let one_line: String = terminal_clean(s, 0..s.len())
        .split('\n')
        .collect::<Vec<_>>()
        .join(" ⏎ ");
    let n = one_line.chars().count();
    if n <= MAX {
        return format!("“{one_line}”");
    }
    let head: String = one_line.chars().take(MAX / 2).collect();
    let tail: String = one_line.chars().skip(n - MAX / 2 + 1).collect();
    format!("“{head}…{tail}”")
}

// ---------------------------------------------------------------------------------------------
// HTML

/// Escapes text for HTML element content and quoted attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    esc_into(&mut out, s);
    out
}

fn esc_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// A span's tooltip: number, technique, confidence, voice, definition.
fn item_title(it: &Item) -> String {
    let mut t = format!(
        "{}. {} (confidence {:.2})",
        it.n,
        it.technique.name(),
        it.confidence
    );
    if let Some(v) = it.voice.as_deref() {
        let _ = write!(t, ", voice: {v}");
    }
    let _ = write!(t, "\n{}", it.technique.definition());
    t
}

/// Whether a span's bars are drawn striped: a voice other than the author's.
fn is_quoted(it: &Item) -> bool {
    it.voice
        .as_deref()
        .is_some_and(|v| !v.eq_ignore_ascii_case("author"))
}

const CSS: &str = r#"*{box-sizing:border-box}
body{margin:0 auto;max-width:50rem;padding:1rem;font:17px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;background:#fff}
h1{font-size:1.35rem;line-height:1.3;margin:.3rem 0 .5rem;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:2rem 0 .5rem}
.summary{margin:0 0 1rem;color:#555}
.legend{display:flex;flex-wrap:wrap;gap:.4rem;margin:0 0 1.5rem;padding:0}
.legend button{font:inherit;font-size:.85rem;line-height:1.3;display:inline-flex;align-items:center;gap:.4rem;padding:.3rem .7rem;border:1px solid #bbb;border-radius:1rem;background:#f7f7f7;color:inherit;cursor:pointer}
.legend button:hover{background:#eee}
.legend button[aria-pressed=false]{opacity:.5;text-decoration:line-through}
.legend b{font-weight:600}
:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
.sw{display:inline-block;width:.8rem;height:.8rem;border-radius:.2rem;background:var(--c);flex:none;vertical-align:-.05rem}
.doc{--step:15px;white-space:pre-wrap;overflow-wrap:anywhere;overflow-x:hidden;padding:0 0 .5rem}
.tk{position:relative;display:inline-block;padding-bottom:calc(var(--slots)*var(--step) + 4px)}
.bar{position:absolute;left:0;right:0;top:calc(1.6em + 3px + var(--s)*var(--step));height:4px;background:var(--c)}
.bar.st{left:1px;border-radius:3px 0 0 3px}.bar.en{right:1px;border-top-right-radius:3px;border-bottom-right-radius:3px}
.bar.q{background:repeating-linear-gradient(90deg,var(--c) 0 6px,transparent 6px 9px)}
.lab{position:absolute;left:0;top:-.45rem;z-index:1;font-size:.62rem;line-height:1;font-weight:600;padding:2px 4px;border-radius:3px;white-space:nowrap;background:var(--c);color:var(--f);text-decoration:none}
.lab.flip{left:auto;right:0}
.lab:hover,.lab:focus{z-index:2}
.wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid #e5e5e5}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.tech{white-space:nowrap}
td.snip{overflow-wrap:anywhere;min-width:14rem}
tr:target{background:#fff6d5}
.note{color:#555;font-size:.9rem}
footer{margin:2.5rem 0 1rem;color:#666;font-size:.85rem;border-top:1px solid #e5e5e5;padding-top:.6rem}
@media (prefers-color-scheme:dark){body{background:#121212;color:#e6e6e6}.legend button{background:#1e1e1e;border-color:#444}.legend button:hover{background:#2a2a2a}.summary,.note,footer{color:#aaa}th,td,footer{border-color:#333}tr:target{background:#3a3420}}
"#;

/// Legend buttons toggle a `hide-tN` class on the body; labels that would overflow the right edge
/// of the text are anchored at their right end instead.
const JS: &str = r#"(function(){var d=document.querySelector('.doc');function fit(){if(!d)return;var r=d.getBoundingClientRect().right,l=d.querySelectorAll('.lab');for(var i=0;i<l.length;i++){l[i].classList.remove('flip');if(l[i].getBoundingClientRect().right>r)l[i].classList.add('flip');}}fit();window.addEventListener('resize',fit);var b=document.querySelectorAll('.legend button[data-t]');for(var i=0;i<b.length;i++){b[i].addEventListener('click',function(){var on=this.getAttribute('aria-pressed')!=='true';this.setAttribute('aria-pressed',on?'true':'false');document.body.classList.toggle('hide-'+this.getAttribute('data-t'),!on);});}})();"#;

fn html_view(view: &View) -> String {
    let counts = view.counts();
    let (slots, n_slots) = view.slots();
    let any_voice = view.items.iter().any(|it| it.voice.is_some());
    let mut o = String::with_capacity(view.text.len() * 3 + 8192);

    // Title: the article's first line (PTC articles start with their headline).
    let first = view.text.lines().map(str::trim).find(|l| !l.is_empty());
    let title = match first {
        Some(l) if l.chars().count() > 90 => format!("{}…", l.chars().take(89).collect::<String>()),
        Some(l) => l.to_string(),
        None => "Untitled text".to_string(),
    };

    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str("<meta name=\"generator\" content=\"rhetor\">\n");
    let _ = writeln!(o, "<title>{} · rhetor</title>", esc(&title));
    o.push_str("<style>\n");
    o.push_str(CSS);
    for t in Technique::ALL {
        let (r, g, b) = rgb(t.color());
        let f = if prefers_black(r, g, b) {
            "#000"
        } else {
            "#fff"
        };
        let _ = writeln!(
            o,
            ".t{i}{{--c:#{r:02x}{g:02x}{b:02x};--f:{f}}}.hide-t{i} .bar.t{i},.hide-t{i} tr.t{i}{{display:none}}",
            i = t.index()
        );
    }
    o.push_str("</style>\n</head>\n<body>\n<header>\n");
    let _ = writeln!(o, "<h1>{}</h1>", esc(&title));
    let n = view.items.len();
    let _ = writeln!(
        o,
        "<p class=\"summary\">{n} span{}, {} technique{} · density {:.1}%: the share of the text's {} characters inside a span</p>",
        if n == 1 { "" } else { "s" },
        counts.len(),
        if counts.len() == 1 { "" } else { "s" },
        view.density * 100.0,
        view.n_chars,
    );
    o.push_str("</header>\n");

    // Legend.
    if !counts.is_empty() {
        o.push_str("<nav class=\"legend\" aria-label=\"Techniques: press to hide or show\">\n");
        for (t, c) in &counts {
            let _ = writeln!(
                o,
                "<button type=\"button\" class=\"t{i}\" data-t=\"t{i}\" aria-pressed=\"true\" title=\"{def}&#10;Example: {ex}\"><span class=\"sw\" aria-hidden=\"true\"></span>{name} <b>{c}</b></button>",
                i = t.index(),
                def = esc(t.definition()),
                ex = esc(t.example()),
                name = esc(t.name()),
            );
        }
        o.push_str("</nav>\n");
        if any_voice {
            o.push_str(
                "<p class=\"note\">Striped bars: words of a quoted speaker, not the author.</p>\n",
            );
        }
    }

    // The article. No whitespace of our own inside: the container keeps the text's.
    let _ = write!(
        o,
        "<main>\n<article class=\"doc\" style=\"--slots:{n_slots}\">"
    );
    let mut labelled = vec![false; view.items.len()];
    for step in view.steps() {
        if step.active.is_empty() {
            esc_into(&mut o, &view.text[step.bytes.clone()]);
            continue;
        }
        let mut active = step.active.clone();
        active.sort_by_key(|&i| slots[i]);
        let title: Vec<String> = active.iter().map(|&i| item_title(&view.items[i])).collect();
        let title = esc(&title.join("\n\n"));
        let seg = &view.text[step.bytes.clone()];
        // Pieces: a word and the spaces after it, so lines wrap between words.
        let mut piece = 0; // byte where the current piece starts, within `seg`
        let mut piece_cp = step.cp;
        let mut cp = step.cp;
        let mut after_space = false;
        let mut flush = |o: &mut String, from: usize, to: usize, from_cp: usize, to_cp: usize| {
            if from == to {
                return;
            }
            let _ = write!(o, "<span class=\"tk\" title=\"{title}\">");
            esc_into(o, &seg[from..to]);
            for &i in &active {
                let it = &view.items[i];
                let _ = write!(
                    o,
                    "<span class=\"bar t{}{}{}{}\" style=\"--s:{}\">",
                    it.technique.index(),
                    if from_cp == it.start { " st" } else { "" },
                    if to_cp == it.end { " en" } else { "" },
                    if is_quoted(it) { " q" } else { "" },
                    slots[i],
                );
                if !labelled[i] {
                    labelled[i] = true;
                    let _ = write!(
                        o,
                        "<a class=\"lab\" href=\"#sp{n}\" title=\"{}\">{n} {}</a>",
                        esc(&item_title(it)),
                        esc(it.technique.name()),
                        n = it.n,
                    );
                }
                o.push_str("</span>");
            }
            o.push_str("</span>");
        };
        for (b, c) in seg.char_indices() {
            if is_line_break(c) {
                flush(&mut o, piece, b, piece_cp, cp);
                esc_into(&mut o, &seg[b..b + c.len_utf8()]);
                piece = b + c.len_utf8();
                piece_cp = cp + 1;
                after_space = false;
            } else if c.is_whitespace() {
                after_space = true;
            } else if after_space {
                flush(&mut o, piece, b, piece_cp, cp);
                piece = b;
                piece_cp = cp;
                after_space = false;
            }
            cp += 1;
        }
        flush(&mut o, piece, seg.len(), piece_cp, cp);
    }
    o.push_str("</article>\n");

    // The spans, as a table (the labels link to their rows).
    if view.items.is_empty() {
        o.push_str("<p class=\"note\">No propaganda techniques found.</p>\n");
    } else {
        o.push_str("<section>\n<h2>Spans</h2>\n<div class=\"wrap\">\n<table>\n<thead><tr><th scope=\"col\">#</th><th scope=\"col\">Technique</th><th scope=\"col\">Confidence</th><th scope=\"col\">Characters</th>");
        if any_voice {
            o.push_str("<th scope=\"col\">Voice</th>");
        }
        o.push_str("<th scope=\"col\">Text</th></tr></thead>\n<tbody>\n");
        for it in &view.items {
            let _ = write!(
                o,
                "<tr id=\"sp{n}\" class=\"t{i}\"><td class=\"num\">{n}</td><td class=\"tech\"><span class=\"sw\" aria-hidden=\"true\"></span> {name}</td><td class=\"num\">{conf:.2}</td><td class=\"num\">{s}–{e}</td>",
                n = it.n,
                i = it.technique.index(),
                name = esc(it.technique.name()),
                conf = it.confidence,
                s = it.start,
                e = it.end,
            );
            if any_voice {
                let _ = write!(o, "<td>{}</td>", esc(it.voice.as_deref().unwrap_or("")));
            }
            let _ = writeln!(o, "<td class=\"snip\">{}</td></tr>", esc(it.snippet));
        }
        o.push_str("</tbody>\n</table>\n</div>\n</section>\n");
    }
    o.push_str("</main>\n");

    let _ = writeln!(
        o,
        "<footer>Found by the model <strong>{}</strong> with rhetor {}. Offsets count Unicode code points; confidences are the model's, in [0, 1].</footer>",
        esc(view.model),
        env!("CARGO_PKG_VERSION"),
    );
    o.push_str("<script>");
    o.push_str(JS);
    o.push_str("</script>\n</body>\n</html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhetor_core::{Detection, Document, Span, TechniqueSpan};

    fn analysis(text: &str, spans: &[(usize, usize, Technique)]) -> Analysis {
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
    fn find(text: &str, needle: &str) -> (usize, usize) {
        let b = text.find(needle).expect("needle in text");
        let s = text[..b].chars().count();
        (s, s + needle.chars().count())
    }

    /// The text a terminal shows: escape sequences removed. Checks that every escape sequence is
    /// one of ours (SGR: digits and semicolons, ending in `m`).
    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            if c == '\x1b' {
                assert_eq!(it.next(), Some('['), "non-SGR escape in {s:?}");
                loop {
                    match it.next() {
                        Some('m') => break,
                        Some(d) if d.is_ascii_digit() || d == ';' => {}
                        other => panic!("bad SGR char {other:?} in {s:?}"),
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// The article part of a terminal rendering (before the span list).
    fn body(out: &str) -> &str {
        out.split("\n\n").next().unwrap()
    }

    const LOADED: Technique = Technique::LoadedLanguage;
    const NAME: Technique = Technique::NameCallingLabeling;

    #[test]
    fn plain_output_has_no_escape_codes_even_from_the_text() {
        let text = "Evil \x1b[31mred\x1b[0m and \x1b]0;pwned\x07 a gang of traitors.\u{9b}2J";
        let (g0, g1) = find(text, "a gang of traitors");
        let a = analysis(text, &[(0, 4, LOADED), (g0, g1, NAME)]);
        let out = terminal(&a, false);
        assert!(!out.contains('\x1b'), "{out:?}");
        assert!(!out.contains('\x07') && !out.contains('\u{9b}'), "{out:?}");
        assert!(out.contains("[¹Evil]¹ ␛[31mred␛[0m"), "{out:?}");
        assert!(out.contains("[²a gang of traitors]²."), "{out:?}");
        // The colour version emits only our own SGR sequences.
        let colour = terminal(&a, true);
        let shown = strip_ansi(&colour);
        assert!(shown.contains("Evil⁽¹⁾ ␛[31mred␛[0m"), "{shown:?}");
    }

    #[test]
    fn colour_output_highlights_each_snippet_exactly() {
        let text = "They are a gang of traitors and their plan is a shameful disaster.";
        let a = analysis(text, &[(9, 27, NAME), (48, 65, LOADED)]);
        let out = terminal(&a, true);
        // Black text contrasts more than white with both Name_Calling #9c755f and Loaded_Language
        // #d4a6c8 (5.1 against 4.1 for the darker one); Appeal_to_Authority #4e79a7 takes white.
        let name = "\x1b[48;2;156;117;95;38;2;0;0;0m";
        let loaded = "\x1b[48;2;212;166;200;38;2;0;0;0m";
        assert!(
            out.contains(&format!("{name}a gang of traitors{RESET}")),
            "{out:?}"
        );
        assert!(
            out.contains(&format!("{loaded}shameful disaster{RESET}")),
            "{out:?}"
        );
        assert_eq!(
            strip_ansi(body(&out)),
            "They are a gang of traitors⁽¹⁾ and their plan is a shameful disaster⁽²⁾."
        );
        // Legend and totals.
        assert!(out.contains("Loaded_Language"), "{out}");
        assert!(strip_ansi(&out).contains("2 spans, 2 techniques; 53.0% of 66 characters"));
        // 256 colours.
        let out256 = terminal_with(&a, ColorMode::Ansi256);
        assert!(out256.contains("48;5;") && !out256.contains("48;2;"));
        assert_eq!(strip_ansi(&out256), strip_ansi(&out));
    }

    #[test]
    fn nested_and_crossing_spans_stay_visible() {
        // Nested: Name_Calling over "a gang of traitors", Loaded_Language over "traitors".
        let text = "They are a gang of traitors.";
        let a = analysis(text, &[(9, 27, NAME), (19, 27, LOADED)]);
        let plain = terminal(&a, false);
        assert!(
            plain.contains("They are [¹a gang of [²traitors]²]¹."),
            "{plain}"
        );
        let colour = terminal(&a, true);
        let name = "48;2;156;117;95;";
        let loaded = "48;2;212;166;200;";
        assert!(colour.contains(&format!("{name}38;2;0;0;0ma gang of {RESET}")));
        // The inner span wins the colour where both cover, underlined.
        assert!(colour.contains(&format!("\x1b[4;{loaded}38;2;0;0;0mtraitors{RESET}")));
        assert_eq!(
            strip_ansi(body(&colour)),
            "They are a gang of traitors⁽²⁾⁽¹⁾."
        );

        // Crossing spans: each marker closes its own span.
        let a = analysis("aaaa bbbb cccc", &[(0, 9, NAME), (5, 14, LOADED)]);
        let plain = terminal(&a, false);
        assert!(plain.starts_with("[¹aaaa [²bbbb]¹ cccc]²\n"), "{plain}");
        let colour = terminal(&a, true);
        assert_eq!(strip_ansi(body(&colour)), "aaaa bbbb⁽¹⁾ cccc⁽²⁾");
        // The marker inside span 2 keeps span 2's background.
        assert!(colour.contains(&format!("\x1b[1;{loaded}38;2;0;0;0m⁽¹⁾{RESET}")));

        // Same span, two techniques: both listed, both marked.
        let a = analysis("traitors", &[(0, 8, NAME), (0, 8, LOADED)]);
        let plain = terminal(&a, false);
        assert!(plain.starts_with("[²[¹traitors]¹]²\n") || plain.starts_with("[¹[²traitors]²]¹\n"));
        assert!(plain.contains("Loaded_Language") && plain.contains("Name_Calling,Labeling"));
    }

    #[test]
    fn code_point_offsets_with_emoji_cjk_combining_marks_and_crlf() {
        // 😀 is one code point (4 bytes); 中文 two (3 bytes each); "café" uses a combining accent.
        let text = "😀 A gang of traitors!\r\n中文 propaganda,\r\nun cafe\u{301} amer. 👍🏽 fin";
        let (g0, g1) = find(text, "A gang of traitors");
        let (c0, c1) = find(text, "中文 propaganda");
        let (f0, f1) = find(text, "cafe\u{301} amer");
        let (e0, e1) = find(text, "👍🏽");
        assert_eq!((g0, c0, e1 - e0), (2, 23, 2));
        let a = analysis(
            text,
            &[
                (g0, g1, NAME),
                (c0, c1, LOADED),
                (f0, f1, Technique::Doubt),
                (e0, e1, Technique::Slogans),
            ],
        );
        assert_eq!(a.spans[2].snippet, "cafe\u{301} amer");
        let plain = terminal(&a, false);
        assert!(!plain.contains('\r'));
        assert!(plain.starts_with(
            "😀 [¹A gang of traitors]¹!\n[²中文 propaganda]²,\nun [³cafe\u{301} amer]³. [⁴👍🏽]⁴ fin\n"
        ), "{plain}");
        let colour = terminal(&a, true);
        assert!(!colour.contains('\r'));
        for s in &a.spans {
            assert!(
                colour.contains(&format!("m{}{RESET}", s.snippet)),
                "{}",
                s.snippet
            );
        }
        let page = html(&a);
        for s in &a.spans {
            // Each word of each span sits in a highlighted piece.
            for word in s.snippet.split(' ') {
                assert!(page.contains(&format!("\">{word}")), "{word}");
            }
        }
        // The CRLF survives in the HTML text (the parser normalises it).
        assert!(page.contains("!\r\n<span class=\"tk\""));
    }

    #[test]
    fn empty_analyses_render() {
        for text in ["", "Nothing to see here.\n"] {
            let a = analysis(text, &[]);
            let plain = terminal(&a, false);
            assert!(plain.contains("No propaganda techniques found."));
            assert!(plain.contains("0 spans, 0 techniques; 0.0%"));
            assert!(!terminal(&a, true).contains("48;2;"));
            let page = html(&a);
            assert!(page.contains("No propaganda techniques found."));
            assert!(!page.contains("<nav"));
            assert!(page.ends_with("</html>\n"));
        }
    }

    #[test]
    fn spans_outside_the_text_or_backwards_do_not_panic() {
        let mut a = analysis("short text", &[(0, 5, LOADED)]);
        a.spans.push(TechniqueSpan {
            start: 8,
            end: 50,
            technique: NAME,
            confidence: f32::NAN,
            snippet: "xt".into(),
            voice: None,
        });
        a.spans.push(TechniqueSpan {
            start: 7,
            end: 3,
            technique: Technique::Doubt,
            confidence: 0.5,
            snippet: String::new(),
            voice: Some(Voice::Quoted {
                speaker: "<b>X</b>".into(),
            }),
        });
        a.length = 999;
        let plain = terminal(&a, false);
        assert!(plain.starts_with("[¹short]¹ te[²xt]²\n"), "{plain}");
        assert!(
            plain.contains("3 spans, 3 techniques; 70.0% of 10 characters"),
            "{plain}"
        );
        let page = html(&a);
        assert!(page.contains("density 70.0%"));
    }

    #[test]
    fn html_escapes_everything_from_the_analysis() {
        let text = "Title <b>bold</b>\n\nThey said <script>alert(1)</script> and <img src=x onerror=alert(1)> & \"quotes\" 'too'.";
        let (s0, s1) = find(text, "said <script>alert(1)</script>");
        let (i0, i1) = find(text, "<img src=x onerror=alert(1)> & \"quotes\"");
        let a = Analysis::new(
            &Document::new(text).unwrap(),
            "evil\"><script>alert('model')</script>",
            vec![
                Detection {
                    span: Span::new(s0, s1),
                    technique: LOADED,
                    confidence: 0.9,
                },
                Detection {
                    span: Span::new(i0, i1),
                    technique: NAME,
                    confidence: 0.4,
                },
            ],
        );
        let page = html(&a);
        // The only script element is ours.
        assert_eq!(page.matches("<script").count(), 1, "{page}");
        assert!(!page.contains("<img"));
        // No tag of the page carries anything from the article.
        for tag in page
            .split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap())
        {
            assert!(!tag.contains("onerror") && !tag.contains("alert"), "{tag}");
        }
        assert!(!page.contains("<b>bold"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("onerror=alert(1)&gt;"));
        assert!(
            page.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "snippet in the table"
        );
        assert!(page.contains("<title>Title &lt;b&gt;bold&lt;/b&gt; · rhetor</title>"));
        assert!(page.contains("evil&quot;&gt;&lt;script&gt;alert(&#39;model&#39;)"));
        assert!(page.contains(">&amp; <") && page.contains(">&quot;quotes&quot;<"));
        assert!(page.contains("</span></span> &#39;too&#39;."));
    }

    #[test]
    fn html_stacks_overlapping_spans_in_slots_with_one_label_each() {
        let text = "They are a gang of traitors and cowards.";
        let a = analysis(
            text,
            &[(9, 27, NAME), (19, 39, LOADED), (28, 39, Technique::Doubt)],
        );
        let page = html(&a);
        // Two slots: Loaded over 19–39 crosses Name over 9–27; Doubt over 28–39 lies inside
        // Loaded but after Name ends, so it reuses slot 0.
        assert!(page.contains("style=\"--slots:2\""), "{page}");
        let bars_0 = page.matches("style=\"--s:0\"").count();
        let bars_1 = page.matches("style=\"--s:1\"").count();
        // "a ", "gang ", "of " (Name), "traitors" (Name + Loaded), " " (Loaded), "and ",
        // "cowards" (Loaded + Doubt): slot 0 = Name ×4 + Doubt ×2, slot 1 = Loaded ×4.
        assert_eq!((bars_0, bars_1), (6, 4), "{page}");
        assert_eq!(page.matches("class=\"lab\"").count(), 3);
        assert!(page.contains(">1 Name_Calling,Labeling</a>"));
        assert!(page.contains(">2 Loaded_Language</a>"));
        // "traitors" carries both bars and a tooltip naming both, with definitions.
        let piece = page
            .split("<span class=\"tk\"")
            .find(|p| p.contains(">traitors<"))
            .unwrap();
        assert!(
            piece.contains("bar t9") && piece.contains("bar t8"),
            "{piece}"
        );
        assert!(piece.contains("1. Name_Calling,Labeling (confidence 0.88)"));
        assert!(piece.contains(Technique::LoadedLanguage.definition()));
        // Legend: a toggle button per technique present, with its count.
        assert_eq!(page.matches("<button type=\"button\"").count(), 3);
        assert!(page.contains("data-t=\"t8\" aria-pressed=\"true\""));
        assert!(page.contains("Loaded_Language <b>1</b></button>"));
        assert!(page.contains(".hide-t8 .bar.t8"));
        // Self-contained and readable on a phone.
        assert!(page.contains("name=\"viewport\""));
        assert!(!page.contains("src=") && !page.contains("http://") && !page.contains("https://"));
        assert!(page.contains("<footer>Found by the model <strong>test-model</strong>"));
        assert!(page.contains("density 75.0%"));
    }

    #[test]
    fn html_shows_a_voice_when_spans_have_one() {
        let a = analysis(
            "He said: a gang of traitors.",
            &[(0, 2, LOADED), (9, 27, NAME)],
        );
        let mut view = View::new(&a);
        view.items[1].voice = Some("quoted: <Senator>".into());
        view.items[0].voice = Some("author".into());
        let page = html_view(&view);
        assert!(page.contains("<th scope=\"col\">Voice</th>"));
        assert!(page.contains("<td>quoted: &lt;Senator&gt;</td>"));
        assert!(page.contains("bar t9 st q"), "{page}");
        assert!(!page.contains("bar t8 st en q"));
        assert!(page.contains("voice: quoted: &lt;Senator&gt;"));
        // Without voices, no column.
        assert!(!html(&a).contains("Voice"));
    }

    #[test]
    fn the_documented_json_example_reads_back_and_renders() {
        let doc = include_str!("../../../docs/analysis-json.md");
        let json = doc
            .split("```json\n")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap();
        let a: Analysis = serde_json::from_str(json).unwrap();
        assert_eq!(a.schema_version, rhetor_core::SCHEMA_VERSION);
        let d = Document::new(a.text.clone()).unwrap();
        assert_eq!(a.length, d.len_chars());
        let detections = a
            .spans
            .iter()
            .map(|s| Detection {
                span: s.span(),
                technique: s.technique,
                confidence: s.confidence,
            })
            .collect();
        // Exactly what `Analysis::new` builds: snippets, order and counts included.
        assert_eq!(Analysis::new(&d, &a.model, detections), a);
        assert!(terminal(&a, false).contains("“[¹a gang of [²traitors]²]¹” 😠"));
    }

    #[test]
    fn helpers() {
        // Every technique's colour gets the more readable of black and white, at WCAG AA (4.5).
        for t in Technique::ALL {
            let (r, g, b) = rgb(t.color());
            let l = luminance(r, g, b);
            let contrast = if prefers_black(r, g, b) {
                (l + 0.05) / 0.05
            } else {
                1.05 / (l + 0.05)
            };
            assert!(contrast >= 4.5, "{t}: {contrast}");
        }
        assert!(!prefers_black(0x20, 0x30, 0x70));
        assert_eq!(superscript(120), "¹²⁰");
        assert_eq!(byte_offsets("é😀a", &[0, 1, 2, 3]), vec![0, 2, 6, 7]);
        assert_eq!(ansi256(255, 255, 255), 231);
        assert_eq!(ansi256(0, 0, 0), 16);
        assert_eq!(ansi256(0x80, 0x80, 0x80), 244);
        let s = "a\r\nb\rc\x08";
        assert_eq!(terminal_clean(s, 0..s.len()), "a\nb\nc␈");
        assert!(quote_snippet(&"x".repeat(300)).chars().count() <= 102);
    }
}
