//! Garbage in, nothing out: text that is not natural language (base64, hex dumps, minified
//! JavaScript and CSS, tables of numbers, random punctuation, random letters) gets no span from
//! either built-in tier. The default display threshold is 0 (`Analyzer` keeps every span unless
//! `--min-confidence` says otherwise, and the page's slider starts at 0), so "below the default
//! threshold" means no span at all. The noise is generated from fixed seeds, in several sizes; a
//! real article still gets its spans, also with a blob of noise appended.

use rhetor::Analyzer;

/// xorshift64*: small, seeded, enough for noise.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn base64(r: &mut Rng, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for i in 0..n {
        if i > 0 && i % 76 == 0 {
            s.push('\n');
        }
        s.push(A[r.below(64)] as char);
    }
    s.push_str("==");
    s
}

fn hex_dump(r: &mut Rng, n: usize) -> String {
    let mut s = String::new();
    let mut off = 0;
    while s.len() < n {
        let bytes: Vec<u8> = (0..16).map(|_| r.next() as u8).collect();
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = bytes
            .iter()
            .map(|&b| {
                if (32..127).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        s.push_str(&format!("{off:08x}: {}  {ascii}\n", hex.join(" ")));
        off += 16;
    }
    s
}

fn minified_js(r: &mut Rng, n: usize) -> String {
    let ids = [
        "e", "t", "n", "r", "i", "o", "a", "s", "u", "l", "c", "f", "_0x3f2a", "this",
    ];
    let mut s = String::from("!function(e,t){");
    while s.len() < n {
        let (a, b, c) = (r.pick(&ids), r.pick(&ids), r.pick(&ids));
        let k = r.below(1000);
        let chunk = match r.below(6) {
            0 => format!("var {a}={b}.length;for(var {c}=0;{c}<{a};{c}++){b}[{c}]={a}[{c}];"),
            1 => format!("function {a}({b},{c}){{return {b}&&{c}?{b}.call({c},{k}):null}}"),
            2 => format!("if(typeof {a}===\"undefined\"){{{b}={c}||{{}}}}else{{{b}.{c}={k}}}"),
            3 => format!("{a}.prototype.{b}=function({c}){{this.{c}={c}|{k};return this}};"),
            4 => format!("window.{a}=document.getElementById(\"{b}{k}\");{a}.onclick={c};"),
            _ => format!(
                "{a}=[{k},{},{}].map(function({b}){{return {b}>>{}^{c}}});",
                r.below(99),
                r.below(99),
                r.below(8)
            ),
        };
        s.push_str(&chunk);
    }
    s.push_str("}(window,document);");
    s
}

fn minified_css(r: &mut Rng, n: usize) -> String {
    let sel = [
        "body",
        ".nav",
        "#main",
        ".btn-primary",
        "a:hover",
        ".col-md-6",
        "h1",
        "ul li",
    ];
    let props = [
        "color",
        "margin",
        "padding",
        "display",
        "font-size",
        "border",
        "width",
        "z-index",
    ];
    let mut s = String::new();
    while s.len() < n {
        s.push_str(&format!(
            "{}{{{}:{}px;{}:#{:06x};{}:{}%}}",
            r.pick(&sel),
            r.pick(&props),
            r.below(500),
            r.pick(&props),
            r.next() & 0xff_ffff,
            r.pick(&props),
            r.below(100)
        ));
    }
    s
}

fn number_table(r: &mut Rng, n: usize) -> String {
    let mut s = String::from("id\tq1\tq2\tq3\ttotal\tpct\n");
    while s.len() < n {
        s.push_str(&format!(
            "{}\t{}\t{}.{:02}\t-{}\t{}\t{}.{}%\n",
            r.below(100_000),
            r.below(10_000),
            r.below(1000),
            r.below(100),
            r.below(500),
            r.below(1_000_000),
            r.below(100),
            r.below(10)
        ));
    }
    s
}

fn punctuation(r: &mut Rng, n: usize) -> String {
    const P: &[u8] = b"!@#$%^&*()_+-=[]{}|;':\",./<>?~` \n";
    (0..n).map(|_| P[r.below(P.len())] as char).collect()
}

fn random_letters(r: &mut Rng, n: usize) -> String {
    const L: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ   ";
    (0..n).map(|_| L[r.below(L.len())] as char).collect()
}

type Noise = fn(&mut Rng, usize) -> String;

const KINDS: &[(&str, Noise)] = &[
    ("base64", base64),
    ("hex dump", hex_dump),
    ("minified JS", minified_js),
    ("minified CSS", minified_css),
    ("table of numbers", number_table),
    ("punctuation", punctuation),
    ("random letters", random_letters),
];

/// No span in any kind of noise at any size, from seeds 1..=seeds.
fn no_spans_in_noise(a: &Analyzer, tier: &str, sizes: &[usize], seeds: u64) {
    for &(kind, make) in KINDS {
        for &size in sizes {
            for seed in 1..=seeds {
                let mut r = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(size as u64 + 1));
                let text = make(&mut r, size);
                let got = a.analyze(&text).unwrap();
                let shown: Vec<String> = got
                    .spans
                    .iter()
                    .map(|s| format!("{:?} {} {:.2}", s.snippet, s.technique.name(), s.confidence))
                    .collect();
                assert!(
                    shown.is_empty(),
                    "{tier}: {kind}, {size} chars, seed {seed}: {shown:?}"
                );
            }
        }
    }
}

/// A real article keeps its spans, and noise appended to it adds none.
fn real_text_keeps_its_spans(a: &Analyzer, tier: &str) {
    for id in ["9001", "9002", "9003"] {
        let article = rhetor_testkit::fixture_article(id);
        let alone = a.analyze(&article).unwrap();
        assert!(!alone.spans.is_empty(), "{tier}: article {id} got no span");
        let mut r = Rng(id.parse().unwrap());
        let blob = base64(&mut r, 3000);
        let with = a.analyze(&format!("{article}\n\n{blob}\n")).unwrap();
        let end = article.chars().count();
        assert!(
            with.spans.iter().all(|s| s.end <= end),
            "{tier}: a span in the appended noise of {id}"
        );
        assert!(
            !with.spans.is_empty(),
            "{tier}: article {id} lost its spans"
        );
    }
}

#[test]
fn the_fast_tier_finds_nothing_in_noise() {
    let a = Analyzer::load_fast().unwrap();
    no_spans_in_noise(&a, "fast", &[100, 1_000, 10_000, 50_000], 3);
    real_text_keeps_its_spans(&a, "fast");
}

#[test]
fn the_accurate_tier_finds_nothing_in_noise() {
    // The accurate tier is built into the library (its encoder's weights are embedded).
    let a = Analyzer::load_default().unwrap();
    no_spans_in_noise(&a, "accurate", &[100, 1_000, 5_000], 1);
    real_text_keeps_its_spans(&a, "accurate");
}
