//! The self-contained HTML page of `rhetor analyze --format html`.
//!
//! The span layout is not drawn here: the page embeds the span view script ([`super::SPANVIEW_JS`],
//! the one the server's web app loads), its stylesheet and the analysis as JSON, and the script
//! draws the stacked bars, legend, tooltips and span table when the page opens, from disk too.
//! Without scripts the page still reads: the text is served with each stretch inside a span
//! wrapped in `<mark>`, titled with its techniques.

use super::colour::{prefers_black, technique_rgb};
use super::view::{Item, View};
use super::{SPANVIEW_CSS, SPANVIEW_JS};
use rhetor_core::{Analysis, Technique};
use serde::Serialize;
use std::fmt::Write as _;

/// One self-contained HTML page showing the analysis: the text with each span drawn as a thin
/// coloured bar under it (overlapping spans stack in slots, the label shown once per span), a
/// legend whose buttons show and hide each technique, a tooltip on highlighted text with the
/// technique, its definition, the confidence and the speaker, the list of spans, the density and
/// the model.
///
/// No external resources: the CSS, the span view script and the analysis (as JSON) are inline.
/// Every piece of data from the analysis is HTML-escaped in the markup and `<`-escaped in the JSON,
/// so it can neither close the script nor add markup. Readable on a phone, and without scripts.
pub fn html(a: &Analysis) -> String {
    let view = View::new(a);
    let counts = view.counts();
    let mut o = String::with_capacity(view.text.len() * 4 + SPANVIEW_JS.len() + 16384);

    // Title: the article's first line (PTC articles start with their headline).
    let first = view.text.lines().map(str::trim).find(|l| !l.is_empty());
    let title = match first {
        Some(l) if l.chars().count() > 90 => format!("{}…", l.chars().take(89).collect::<String>()),
        Some(l) => l.to_string(),
        None => "Untitled text".to_string(),
    };

    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n");
    o.push_str("<meta name=\"generator\" content=\"rhetor\">\n");
    let _ = writeln!(o, "<title>{} · rhetor</title>", esc(&title));
    o.push_str("<style>\n");
    o.push_str(PAGE_CSS);
    o.push_str(SPANVIEW_CSS);
    // The script sets the same colours; here they also reach the `<mark>`s of a script-less view.
    o.push_str(":root{");
    for t in Technique::ALL {
        let (r, g, b) = technique_rgb(t);
        let f = if prefers_black(r, g, b) {
            "#000"
        } else {
            "#fff"
        };
        let _ = write!(
            o,
            "--c{i}:#{r:02x}{g:02x}{b:02x};--f{i}:{f};",
            i = t.index()
        );
    }
    o.push_str("}\n</style>\n</head>\n<body>\n<header>\n");
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
    o.push_str("</header>\n<main>\n");
    o.push_str(
        "<nav id=\"legend\" class=\"legend\" aria-label=\"Techniques: press one to hide or show its spans\">",
    );
    if counts.is_empty() {
        o.push_str("<p class=\"note\">No propaganda techniques found.</p>");
    }
    o.push_str("</nav>\n<p class=\"hint\" id=\"r-hint\"></p>\n");
    if !counts.is_empty() {
        o.push_str("<noscript><p class=\"note\">Scripts are off: spans are marked in the text; hover one for its techniques.</p></noscript>\n");
    }

    // The text, with `<mark>`s for readers without scripts (the script replaces them with the
    // span view). No whitespace of our own inside: the container keeps the text's.
    o.push_str(
        "<article id=\"doc\" class=\"doc\" aria-label=\"The article with technique spans\">",
    );
    for step in view.steps() {
        let text = &view.text[step.bytes.clone()];
        match view.innermost(&step.active) {
            None => esc_into(&mut o, text),
            Some(inner) => {
                let titles: Vec<String> = step
                    .active
                    .iter()
                    .map(|&i| item_title(&view.items[i]))
                    .collect();
                let _ = write!(
                    o,
                    "<mark class=\"t{}\" title=\"{}\">",
                    view.items[inner].technique.index(),
                    esc(&titles.join("\n\n"))
                );
                esc_into(&mut o, text);
                o.push_str("</mark>");
            }
        }
    }
    o.push_str("</article>\n");
    o.push_str("<section id=\"spans\" hidden>\n<h2>Spans</h2>\n<div class=\"wrap\"><table id=\"r-spans\"><thead><tr><th scope=\"col\">#</th><th scope=\"col\">Technique</th><th scope=\"col\">Confidence</th><th scope=\"col\">Characters</th><th scope=\"col\" class=\"voice-col\">Speaker</th><th scope=\"col\">Text</th></tr></thead><tbody></tbody></table></div>\n</section>\n");
    o.push_str("<section id=\"voices\" class=\"voices\" aria-label=\"Technique spans by voice\" hidden></section>\n");
    o.push_str("</main>\n<div id=\"tip\" class=\"tip\" role=\"tooltip\" hidden></div>\n");
    let _ = writeln!(
        o,
        "<footer>Found by the model <strong>{}</strong> with rhetor {}. Offsets count Unicode code points; confidences are the model's, in [0, 1].</footer>",
        esc(view.model),
        env!("CARGO_PKG_VERSION"),
    );

    o.push_str("<script type=\"application/json\" id=\"rhetor-data\">");
    o.push_str(&page_data(a));
    o.push_str("</script>\n<script>\n");
    o.push_str(SPANVIEW_JS);
    o.push_str(BOOT_JS);
    o.push_str("</script>\n</body>\n</html>\n");
    o
}

/// A technique as the span view reads it: what `GET /api/techniques` lists and the static page
/// embeds.
#[derive(Debug, Clone, Serialize)]
pub struct TechniqueInfo {
    /// PTC name.
    pub name: &'static str,
    /// Position in [`Technique::ALL`].
    pub index: usize,
    /// Colour, `#rrggbb`.
    pub color: &'static str,
    /// One-sentence definition.
    pub definition: &'static str,
    /// A short example.
    pub example: &'static str,
}

/// The 14 techniques as the span view reads them.
pub fn technique_list() -> Vec<TechniqueInfo> {
    Technique::ALL
        .iter()
        .map(|&t| TechniqueInfo {
            name: t.name(),
            index: t.index(),
            color: t.color(),
            definition: t.definition(),
            example: t.example(),
        })
        .collect()
}

#[derive(Serialize)]
struct PageData<'a> {
    techniques: Vec<TechniqueInfo>,
    analysis: &'a Analysis,
}

/// The JSON the page's script reads, safe inside a `<script>` element: `<`, `>` and `&` occur only
/// inside JSON strings, where their `\u` escapes mean the same, so nothing in the article can
/// close the element or open a comment.
fn page_data(a: &Analysis) -> String {
    let data = PageData {
        techniques: technique_list(),
        analysis: a,
    };
    // Serialising plain data to a string cannot fail (non-finite numbers become null).
    let json = serde_json::to_string(&data).unwrap_or_else(|_| "null".to_string());
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Draws the span view over the `<mark>` text once the page has loaded its data.
const BOOT_JS: &str = r#"
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var data = JSON.parse($("rhetor-data").textContent);
  if (!data || !data.analysis) return;
  RhetorSpans.setTechniques(data.techniques);
  $("spans").hidden = !(data.analysis.spans || []).length;
  RhetorSpans.mount({ doc: $("doc"), legend: $("legend"), tip: $("tip"), table: $("r-spans"), hint: $("r-hint"),
    voices: $("voices") }).show(data.analysis);
})();
"#;

const PAGE_CSS: &str = r#"*{box-sizing:border-box}
:root{--bg:#fff;--fg:#1d1d1f;--muted:#5f6368;--line:#e3e3e3;--panel:#f6f6f7;--accent:#1a57c8}
@media (prefers-color-scheme:dark){:root{--bg:#121212;--fg:#e8e8e8;--muted:#a8a8a8;--line:#333;--panel:#1e1e1e;--accent:#8ab4f8}}
html{background:var(--bg);color:var(--fg)}
body{margin:0 auto;max-width:52rem;padding:1rem;font:17px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
h1{font-size:1.35rem;line-height:1.3;margin:.3rem 0 .5rem;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:2rem 0 .5rem}
.summary,.note,.hint,.meta{color:var(--muted);font-size:.9rem;margin:.2rem 0}
.summary{font-size:1rem;margin:0 0 1rem}
footer{margin:2.5rem 0 1rem;color:var(--muted);font-size:.85rem;border-top:1px solid var(--line);padding-top:.6rem}
@media (max-width:40rem){body{font-size:16px;padding:.7rem}}
"#;

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

/// A span's title in the script-less view: number, technique, confidence, voice, definition.
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{analysis, find};
    use super::*;
    use rhetor_core::{Detection, Document, Span, TechniqueSpan, Voice};

    const LOADED: Technique = Technique::LoadedLanguage;
    const NAME: Technique = Technique::NameCallingLabeling;

    /// The JSON the page's script reads.
    fn data(page: &str) -> serde_json::Value {
        let json = page
            .split("<script type=\"application/json\" id=\"rhetor-data\">")
            .nth(1)
            .unwrap()
            .split("</script>")
            .next()
            .unwrap();
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_page_embeds_the_analysis_the_span_view_and_its_styles() {
        let text = "They are a gang of traitors and cowards.";
        let a = analysis(text, &[(9, 27, NAME), (19, 39, LOADED)]);
        let page = html(&a);
        let d = data(&page);
        let back: Analysis = serde_json::from_value(d["analysis"].clone()).unwrap();
        assert_eq!(back, a);
        let techniques = d["techniques"].as_array().unwrap();
        assert_eq!(techniques.len(), Technique::ALL.len());
        assert_eq!(techniques[8]["name"], LOADED.name());
        assert_eq!(techniques[8]["index"], 8);
        assert_eq!(techniques[8]["definition"], LOADED.definition());
        assert!(page.contains(SPANVIEW_JS) && page.contains(SPANVIEW_CSS));
        assert!(page.contains("RhetorSpans.mount("));
        assert!(
            page.contains("--c8:#d4a6c8;--f8:#000;"),
            "colours for the marks"
        );
        // Self-contained and readable on a phone.
        assert!(page.contains("name=\"viewport\""));
        assert!(!page.contains("src=") && !page.contains("http://") && !page.contains("https://"));
        assert!(page.contains("<footer>Found by the model <strong>test-model</strong>"));
        assert!(page.contains("2 spans, 2 techniques · density 75.0%"));
    }

    #[test]
    fn without_scripts_spans_are_marks_titled_with_their_techniques() {
        // Nested: Name_Calling over "a gang of traitors", Loaded_Language over "traitors".
        let mut a = analysis(
            "They are a gang of traitors.",
            &[(9, 27, NAME), (19, 27, LOADED)],
        );
        a.spans[1].voice = Some(Voice::Quoted {
            speaker: "<Senator>".into(),
        });
        let page = html(&a);
        let doc = page
            .split("<article id=\"doc\"")
            .nth(1)
            .unwrap()
            .split("</article>")
            .next()
            .unwrap();
        let marks: Vec<&str> = doc
            .split("<mark ")
            .skip(1)
            .map(|m| m.split("</mark>").next().unwrap())
            .collect();
        assert_eq!(marks.len(), 2, "{doc}");
        // The outer span alone, then both, coloured as the innermost.
        assert!(
            marks[0].starts_with("class=\"t9\" title=\"1. Name_Calling,Labeling (confidence 0.88)")
        );
        assert!(marks[0].ends_with("\">a gang of "), "{}", marks[0]);
        assert!(marks[1].starts_with("class=\"t8\""), "{}", marks[1]);
        assert!(marks[1]
            .contains("2. Loaded_Language (confidence 0.88), voice: quoted: &lt;Senator&gt;"));
        assert!(marks[1].contains(LOADED.definition()));
        assert!(marks[1].ends_with("\">traitors"));
        assert!(doc.ends_with("</mark>."), "{doc}");
        assert!(page.contains("<noscript>"));
    }

    #[test]
    fn code_point_offsets_with_emoji_cjk_combining_marks_and_crlf() {
        let text = "😀 A gang of traitors!\r\n中文 propaganda,\r\nun cafe\u{301} amer. 👍🏽 fin";
        let spans: Vec<(usize, usize, Technique)> = [
            "A gang of traitors",
            "中文 propaganda",
            "cafe\u{301} amer",
            "👍🏽",
        ]
        .iter()
        .map(|s| {
            let (a, b) = find(text, s);
            (a, b, LOADED)
        })
        .collect();
        let a = analysis(text, &spans);
        let page = html(&a);
        for s in &a.spans {
            assert!(
                page.contains(&format!("\">{}</mark>", s.snippet)),
                "{}",
                s.snippet
            );
        }
        // The CRLF survives in the HTML text (the parser normalises it).
        assert!(page.contains("</mark>!\r\n<mark"));
        let back: Analysis = serde_json::from_value(data(&page)["analysis"].clone()).unwrap();
        assert_eq!(back.text, text);
    }

    #[test]
    fn empty_analyses_render() {
        for text in ["", "Nothing to see here.\n"] {
            let page = html(&analysis(text, &[]));
            assert!(page.contains("<p class=\"note\">No propaganda techniques found.</p></nav>"));
            assert!(!page.contains("<mark") && !page.contains("<noscript>"));
            assert!(page.contains("0 spans, 0 techniques · density 0.0%"));
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
            runner_up: None,
            reason: Vec::new(),
        });
        a.spans.push(TechniqueSpan {
            start: 7,
            end: 3,
            technique: Technique::Doubt,
            confidence: 0.5,
            snippet: String::new(),
            voice: None,
            runner_up: None,
            reason: Vec::new(),
        });
        a.length = 999;
        let page = html(&a);
        assert!(page.contains("density 70.0%"));
        assert!(page.contains("\">short</mark> te<mark class=\"t9\""));
        // The script gets the spans as they are (it clamps them too); NaN becomes null.
        assert!(data(&page)["analysis"]["spans"][1]["confidence"].is_null());
    }

    #[test]
    fn html_escapes_everything_from_the_analysis() {
        let text = "Title <b>bold</b>\n\nThey said <script>alert(1)</script> and <img src=x onerror=alert(1)> & \"quotes\" 'too'. <!-- x";
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
        // The only script elements are ours: the data and the code.
        assert_eq!(page.matches("<script").count(), 2, "{page}");
        assert_eq!(page.matches("</script>").count(), 2, "{page}");
        assert!(!page.contains("<img") && !page.contains("<!--"));
        // No tag of the page carries anything from the article.
        for tag in page
            .split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap())
        {
            assert!(
                !tag.contains("onerror") && !tag.contains("alert(1)"),
                "{tag}"
            );
        }
        assert!(!page.contains("<b>bold"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("onerror=alert(1)&gt;"));
        assert!(page.contains("<title>Title &lt;b&gt;bold&lt;/b&gt; · rhetor</title>"));
        assert!(page.contains("evil&quot;&gt;&lt;script&gt;alert(&#39;model&#39;)"));
        assert!(
            page.contains("onerror=alert(1)&gt; &amp; &quot;quotes&quot;</mark> &#39;too&#39;.")
        );
        // The data reads back to the very same analysis.
        let back: Analysis = serde_json::from_value(data(&page)["analysis"].clone()).unwrap();
        assert_eq!(back, a);
    }
}
