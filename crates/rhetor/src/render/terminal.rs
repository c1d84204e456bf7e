//! The terminal renderer: the text with its spans highlighted (ANSI colours, or `[¹brackets]¹`
//! without), then the list of spans, a legend and totals.

use super::colour::{ansi256, prefers_black, technique_rgb};
use super::view::View;
use rhetor_core::{Analysis, Technique};
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
                let _ = writeln!(
                    out,
                    "  {name} ({}): {total} ({})",
                    sp.kind.name(),
                    list.join(", ")
                );
            }
            out.push('\n');
        }
        // Technique spans by voice kind: the outlet's own against quoted people and organisations.
        if !a.voices.is_empty() {
            out.push_str(&bold("Voices"));
            out.push('\n');
            for (kind, counts) in crate::render::view::voice_kinds(a) {
                let total: usize = counts.values().sum();
                let list: Vec<String> = counts.iter().map(|(t, c)| format!("{t} {c}")).collect();
                let kind = terminal_clean(kind, 0..kind.len());
                let list = terminal_clean(&list.join(", "), 0..list.join(", ").len());
                let _ = writeln!(out, "  {kind}: {total} ({list})");
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

const RESET: &str = "\x1b[0m";

fn superscript(n: usize) -> String {
    const SUP: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    n.to_string()
        .bytes()
        .map(|d| SUP[(d - b'0') as usize])
        .collect()
}

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
    let (r, g, b) = technique_rgb(t);
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{analysis, find};
    use super::*;
    use rhetor_core::{Document, TechniqueSpan, Voice};

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
    }

    #[test]
    fn empty_analyses_render() {
        for text in ["", "Nothing to see here.\n"] {
            let a = analysis(text, &[]);
            let plain = terminal(&a, false);
            assert!(plain.contains("No propaganda techniques found."));
            assert!(plain.contains("0 spans, 0 techniques; 0.0%"));
            assert!(!terminal(&a, true).contains("48;2;"));
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
            runner_up: None,
            reason: Vec::new(),
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
            runner_up: None,
            reason: Vec::new(),
        });
        a.length = 999;
        let plain = terminal(&a, false);
        assert!(plain.starts_with("[¹short]¹ te[²xt]²\n"), "{plain}");
        assert!(
            plain.contains("3 spans, 3 techniques; 70.0% of 10 characters"),
            "{plain}"
        );
    }

    #[test]
    fn speakers_and_voice_kinds_are_listed() {
        let mut a = analysis(
            "\"They are traitors,\" Smith said. The ministry called it a lie. Sad!",
            &[(10, 18, NAME), (58, 61, LOADED), (63, 67, LOADED)],
        );
        a.set_voices(
            vec![
                Voice::Quoted {
                    speaker: "Smith".into(),
                },
                Voice::Quoted {
                    speaker: "the ministry".into(),
                },
                Voice::Author,
            ],
            &[
                (
                    "smith".into(),
                    "Smith".into(),
                    rhetor_core::SpeakerKind::Person,
                ),
                (
                    "the-ministry".into(),
                    "the ministry".into(),
                    rhetor_core::SpeakerKind::Organization,
                ),
            ],
        );
        let plain = terminal(&a, false);
        assert!(
            plain.contains("  Smith (person): 1 (Name_Calling,Labeling 1)\n"),
            "{plain}"
        );
        assert!(
            plain.contains("  the ministry (organization): 1 (Loaded_Language 1)\n"),
            "{plain}"
        );
        let voices = plain.split("Voices\n").nth(1).expect("a Voices section");
        assert!(
            voices.starts_with(
                "  author: 1 (Loaded_Language 1)\n  person: 1 (Name_Calling,Labeling 1)\n  organization: 1 (Loaded_Language 1)\n"
            ),
            "{plain}"
        );
    }

    #[test]
    fn the_documented_json_example_reads_back_and_renders() {
        let doc = include_str!("../../../../docs/analysis-json.md");
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
        let detections = a.spans.iter().map(TechniqueSpan::detection).collect();
        // Exactly what `Analysis::new` builds (snippets, order and counts included), once the
        // explanations are set.
        let mut built = Analysis::new(&d, &a.model, detections);
        built.explain(|span, _| {
            let s = a.spans.iter().find(|s| s.span() == span).unwrap();
            let ranked = s.runner_up.iter().map(|r| (r.technique, r.probability));
            (ranked.collect(), s.reason.clone())
        });
        assert_eq!(built, a);
        assert!(terminal(&a, false).contains("“[¹a gang of [²traitors]²]¹” 😠"));
    }

    #[test]
    fn helpers() {
        assert_eq!(superscript(120), "¹²⁰");
        let s = "a\r\nb\rc\x08";
        assert_eq!(terminal_clean(s, 0..s.len()), "a\nb\nc␈");
        assert!(quote_snippet(&"x".repeat(300)).chars().count() <= 102);
        assert_eq!(quote_snippet("two\nlines"), "“two ⏎ lines”");
    }
}
