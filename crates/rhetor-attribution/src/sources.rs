//! Source typing and coverage, between argument tagging and speaker resolution.
//!
//! - No two attributions share more than 80% of the smaller content; PolNeAR's gold has no such
//!   pairs (2 in 4,106 on a fifth of train), but the tagger, run once per cue, makes them. When the
//!   inner cue opens a coordinated clause with its own subject inside the outer content ("argued
//!   that A, and she wrote that B"), the outer content ends before that clause. Otherwise the
//!   inner one is a copy (an embedded, split or participle cue: "noted that Moody had tweeted that
//!   …", "regularly" "cited", "accused Greece of X, underlining that Y"): the one kept has a source
//!   if either has, then the larger content. (Cutting before participles too cost 0.005 speaker F1
//!   in cross-validation; the participle's content keeps the main clause's speaker either way.)
//!   But when the smaller one has a source, and its cue and content lie in sentences that do not
//!   hold the larger one's cue ("…, said he was alarmed. \"Jewish history …,\" Salkin said."),
//!   the larger content gives that part back and both stay (5-fold CV: content F1 +0.0015,
//!   speaker F1 +0.0040).
//! - A source that names no one is dropped (the content stays in the outlet's voice): a discourse
//!   marker ("As said earlier", "As a result"), a place ("in the Aegean"), an adjective ("Greek"),
//!   an adverb ("obviously hoping").
//!   A country or capital as the subject of a cue ("Turkey said") is its government: an
//!   organisation.
//! - A participle or reduced clause ("…, underlining that X", "…, adding that X") takes the subject
//!   of its main clause as source; so does a cue with no source of its own after "and" or "but"
//!   ("… rubbed his chin, and then said") or after an inserted clause ("Ted Cruz, who won
//!   Oklahoma, is calling for"), 5-fold CV speaker F1 +0.0010. A capitalised word that opens the
//!   sentence and is capitalised nowhere else ("Earlier", "Outside") is not that subject (+0.0006).
//!   An opening participle clause ("After thanking the crowd, he told …") takes the name or
//!   pronoun right after its comma.
//! - A "— Name" signature after a quotation makes an attribution to that name.
//! - A quotation left open to the end of its paragraph or of the article, that no cue claims, is
//!   the speaker's of the attribution just before it (news pages truncate mid-quote).

use crate::eval::overlap;
use crate::extract::tok_range;
use crate::lexicon::{key_from_lower, lexicon};
use crate::prep::{class, flag, Prepared};
use crate::speakers::Name;
use crate::Attribution;
use rhetor_core::Span;

/// What a source mention names, by its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceType {
    /// A person, organisation, group, pronoun or document: a real source.
    Source,
    /// Function and discourse-marker words only ("As", "As said earlier").
    Discourse,
    /// A place name.
    Place,
    /// Adjectives of nationality or politics only ("Greek Cypriot").
    Adjective,
}

/// Quantifiers that can be the subject of a cue by themselves.
const QUANTIFIERS: [&str; 16] = [
    "many",
    "some",
    "others",
    "one",
    "several",
    "most",
    "few",
    "both",
    "those",
    "all",
    "everyone",
    "everybody",
    "someone",
    "somebody",
    "nobody",
    "none",
];

/// Types a source mention by its word tokens.
pub(crate) fn source_type(p: &Prepared, src: Span) -> SourceType {
    let l = lexicon();
    let Some((s, e)) = tok_range(p, src) else {
        return SourceType::Discourse;
    };
    // Every source is typed: no allocation for the usual few words (a stack buffer, a list only
    // past 32 content words).
    let words = (s..e).filter(|&k| p.toks[k].class == class::WORD);
    if words.clone().next().is_none() {
        return SourceType::Discourse;
    }
    if words.clone().any(|i| p.toks[i].flags & flag::PRONOUN != 0) {
        return SourceType::Source;
    }
    // A quantifier standing alone for people ("Many speculated", "Some argue", "One says"): a
    // group, although its word is a function word (5-fold CV: speaker F1 +0.002).
    let mut it = words.clone();
    if let (Some(w), None) = (it.next(), it.next()) {
        if QUANTIFIERS
            .iter()
            .any(|q| tok_text(p, w).eq_ignore_ascii_case(q))
        {
            return SourceType::Source;
        }
    }
    let mut stack = [0u64; 32];
    let mut heap: Vec<u64> = Vec::new();
    let mut n = 0;
    // Adverbs name no one either: a source of adverbs and function words is a clause fragment
    // ("obviously hoping", "simply stating", "the hotly anticipated").
    for w in words
        .filter(|&i| !adverb(tok_text(p, i)))
        .map(|i| key_from_lower(tok_text(p, i), p.toks[i].w))
        .filter(|&w| !l.non_sources.contains(w))
    {
        if n < stack.len() {
            stack[n] = w;
        } else {
            if heap.is_empty() {
                heap.extend_from_slice(&stack);
            }
            heap.push(w);
        }
        n += 1;
    }
    let content: &[u64] = if n <= stack.len() { &stack[..n] } else { &heap };
    if content.is_empty() {
        return SourceType::Discourse;
    }
    if content.iter().all(|&w| l.demonyms.contains(w)) {
        return SourceType::Adjective;
    }
    // A country or capital that speaks is its government ("Turkey said"); a geographic place, or
    // one after a locative preposition ("in the Aegean"), names no one.
    let geo = |w: u64| l.place_words.contains(w) || l.places.contains(w) || l.demonyms.contains(w);
    let after_loc = s > 0 && {
        let prev = tok_text(p, s - 1);
        [
            "in",
            "at",
            "near",
            "across",
            "throughout",
            "into",
            "off",
            "outside",
        ]
        .iter()
        .any(|w| prev.eq_ignore_ascii_case(w))
    };
    if content.iter().all(|&w| geo(w))
        && (after_loc || content.iter().any(|&w| l.place_words.contains(w)))
    {
        return SourceType::Place;
    }
    SourceType::Source
}

/// Is this a lower-case adverb in -ly ("obviously", "reportedly", "simply")? Nouns in -ly that
/// can name a source ("the family", "the assembly") are not.
fn adverb(w: &str) -> bool {
    const NOUNS: [&str; 12] = [
        "family",
        "assembly",
        "rally",
        "supply",
        "reply",
        "monopoly",
        "anomaly",
        "bully",
        "daily",
        "weekly",
        "monthly",
        "quarterly",
    ];
    w.len() >= 5
        && w.ends_with("ly")
        && w.bytes().all(|b| b.is_ascii_lowercase())
        && !NOUNS.contains(&w)
}

fn span_text<'a>(p: &'a Prepared, sp: Span) -> &'a str {
    match tok_range(p, sp) {
        Some((s, e)) => &p.text[p.toks[s].b0 as usize..p.toks[e - 1].b1 as usize],
        None => "",
    }
}

fn tok_text<'a>(p: &'a Prepared, i: usize) -> &'a str {
    &p.text[p.toks[i].b0 as usize..p.toks[i].b1 as usize]
}

/// Is `w` a present participle that can head a clause of its own ("adding", "saying"; "according
/// to" is no clause)?
fn ing_form(w: &str) -> bool {
    w.len() > 4 && w.ends_with("ing") && !w.eq_ignore_ascii_case("according")
}

/// Is the cue at token `c0` the head of a participle clause ("…, adding that")?
fn participle(p: &Prepared, c0: usize) -> bool {
    if !ing_form(tok_text(p, c0)) || c0 == 0 {
        return false;
    }
    let prev = &p.toks[c0 - 1];
    prev.class == class::COMMA
        || prev.class == class::DASH
        || (prev.class == class::WORD
            && matches!(
                tok_text(p, c0 - 1).to_ascii_lowercase().as_str(),
                "while" | "before" | "after" | "when" | "also" | "further"
            )
            && c0 >= 2
            && p.toks[c0 - 2].class == class::COMMA)
}

/// Is `sp` one capitalised word that opens the sentence starting at token `ss` (after its dateline,
/// if any) and is written capitalised nowhere else in the text ("Earlier", "Outside", "Speaking to
/// reporters, …")? Such a word is capitalised for its position, not as a name.
fn lone_opener(p: &Prepared, sp: Span, ss: usize) -> bool {
    let Some((s, e)) = tok_range(p, sp) else {
        return false;
    };
    // The sentence's first word, or the first after its dateline ("Philadelphia (AFP) – Harbour
    // master Ellen Voss …").
    let opens = s == ss || (s > ss && s <= ss + 6 && p.toks[s - 1].class == class::DASH);
    if !opens || e != s + 1 {
        return false;
    }
    let w = tok_text(p, s);
    !p.toks.iter().enumerate().any(|(i, x)| {
        i != s && x.flags & flag::SENT_START == 0 && x.flags & flag::CAP != 0 && tok_text(p, i) == w
    })
}

/// Can name `sp` be the subject of the clause of the cue at `c0`: not quoted (unless the cue is;
/// 5-fold CV speaker F1 +0.0005), not in brackets ("Philadelphia (AFP) –")?
fn subject_like(p: &Prepared, sp: Span, c0: usize) -> bool {
    let Some((s, _)) = tok_range(p, sp) else {
        return false;
    };
    !(p.toks[s].inq && !p.toks[c0].inq || s > 0 && p.toks[s - 1].class == class::PAREN)
}

/// The subject after an opening participle clause whose verb is the cue at `c0` ("Rattling off
/// promises to lower student debt, Clinton promised …", "After thanking the crowd, he touted …"):
/// a name or pronoun right after the clause's comma (5-fold CV speaker F1 +0.0003).
fn opening_participle_subject(p: &Prepared, names: &[Name], c0: usize) -> Option<Span> {
    let t = &p.toks;
    if !ing_form(tok_text(p, c0)) {
        return None;
    }
    let (ss, se) = p.sents[t[c0].sent as usize];
    let (ss, se) = (ss as usize, se as usize);
    let opens = c0 == ss
        || (c0 == ss + 1
            && matches!(
                tok_text(p, ss).to_ascii_lowercase().as_str(),
                "after" | "before" | "despite" | "while" | "when" | "since" | "upon" | "in"
            ));
    if !opens {
        return None;
    }
    let comma = (c0 + 1..se).find(|&i| t[i].class == class::COMMA || t[i].inq)?;
    if t[comma].class != class::COMMA || comma + 1 >= se {
        return None;
    }
    let next = comma + 1;
    let at = t[next].span.start();
    if let Some(n) = names.iter().find(|n| n.span.start() == at) {
        return Some(n.span);
    }
    (t[next].class == class::WORD
        && t[next].flags & flag::PRONOUN != 0
        && matches!(
            tok_text(p, next).to_ascii_lowercase().as_str(),
            "he" | "she" | "they" | "we" | "i"
        ))
    .then_some(t[next].span)
}

/// Is the cue at token `c0` the verb of a clause that shares the sentence's subject ("… and then
/// said", "…, but told")?
fn coordinated(p: &Prepared, c0: usize) -> bool {
    let t = &p.toks;
    let mut j = c0;
    // Adverbs and auxiliaries between the conjunction and the cue.
    while j > 0 && t[j - 1].sent == t[c0].sent && t[j - 1].class == class::WORD {
        let w = tok_text(p, j - 1);
        let skip = adverb(w)
            || matches!(
                w,
                "then"
                    | "also"
                    | "later"
                    | "again"
                    | "even"
                    | "still"
                    | "has"
                    | "have"
                    | "had"
                    | "is"
                    | "was"
                    | "were"
                    | "are"
                    | "will"
                    | "would"
                    | "did"
                    | "does"
            );
        if !skip {
            break;
        }
        j -= 1;
    }
    if j == 0 || t[j - 1].sent != t[c0].sent {
        return false;
    }
    match t[j - 1].class {
        class::WORD => matches!(tok_text(p, j - 1), "and" | "but"),
        // "Ted Cruz, who won Oklahoma, is calling for": the subject is before the inserted
        // clause (not after a quotation, whose closing comma comes before its cue).
        class::COMMA => j >= 2 && t[j - 2].class == class::WORD,
        _ => false,
    }
}

/// The subject of the main clause of the sentence of token `c0`: the source of an earlier cue of
/// the sentence, else a name or pronoun among the sentence's first tokens.
fn main_subject(p: &Prepared, names: &[Name], atts: &[Attribution], c0: usize) -> Option<Span> {
    let sent = p.toks[c0].sent;
    let (ss, _) = p.sents[sent as usize];
    let ss = ss as usize;
    let cue_start = p.toks[c0].span.start();
    let earlier = atts
        .iter()
        .filter(|a| {
            a.cue.start() < cue_start
                && a.source.is_some()
                && tok_range(p, a.cue).is_some_and(|(s, _)| p.toks[s].sent == sent)
        })
        .filter_map(|a| a.source)
        // A relative pronoun is the subject of an embedded clause ("an architect who said …").
        .find(|&s| {
            source_type(p, s) == SourceType::Source
                && s.end() <= cue_start
                && !matches!(
                    span_text(p, s).to_lowercase().as_str(),
                    "who" | "which" | "that"
                )
        });
    if earlier.is_some() {
        return earlier;
    }
    let sent_start = p.toks[ss].span.start();
    // The first name of the sentence, when it opens the sentence (a dateline or a few words
    // such as "On Monday," may come first).
    let limit = p.toks[(ss + 8).min(c0)].span.start();
    if let Some(n) = names.iter().find(|n| {
        n.span.start() >= sent_start
            && n.span.start() < limit
            && !lone_opener(p, n.span, ss)
            && subject_like(p, n.span, c0)
    }) {
        if n.span.end() <= cue_start {
            return Some(n.span);
        }
    }
    (ss..c0.min(ss + 3))
        .find(|&i| {
            p.toks[i].flags & flag::PRONOUN != 0
                && p.toks[i].class == class::WORD
                // A possessive or object pronoun is no subject ("His lawyer said").
                && !matches!(
                    tok_text(p, i).to_ascii_lowercase().as_str(),
                    "his" | "their" | "its" | "her" | "him" | "them" | "us" | "me"
                )
        })
        .map(|i| p.toks[i].span)
}

/// Applies the rules of the module docs to the tagged attributions.
pub(crate) fn refine(p: &Prepared, names: &[Name], atts: &mut Vec<Attribution>) {
    merge_nested(p, atts);
    for a in atts.iter_mut() {
        if let Some(src) = a.source {
            if source_type(p, src) != SourceType::Source {
                a.source = None;
            }
        }
    }
    for k in 0..atts.len() {
        let Some((c0, _)) = tok_range(p, atts[k].cue) else {
            continue;
        };
        if participle(p, c0) || (atts[k].source.is_none() && coordinated(p, c0)) {
            if let Some(s) = main_subject(p, names, atts, c0) {
                atts[k].source = Some(s);
            }
        } else if atts[k].source.is_none() {
            if let Some(s) = opening_participle_subject(p, names, c0) {
                atts[k].source = Some(s);
            }
        }
    }
    adjacent_subjects(p, names, atts);
    signatures(p, names, atts);
    open_quotes(p, atts);
}

/// A cue of a quotation with no source, right after a name or a pronoun of its sentence ("May
/// told a packed House … that \"…\"", "He added: \"…\""): that is its subject.
fn adjacent_subjects(p: &Prepared, names: &[Name], atts: &mut [Attribution]) {
    // Only for quotations: on reported speech the rule cost 0.0012 speaker F1 in cross-validation
    // (its sourceless attributions are more often wrong, and a source makes them count).
    for a in atts.iter_mut().filter(|a| a.source.is_none() && a.direct) {
        let Some((c0, _)) = tok_range(p, a.cue) else {
            continue;
        };
        if c0 == 0 || p.toks[c0 - 1].sent != p.toks[c0].sent {
            continue;
        }
        let prev = &p.toks[c0 - 1];
        let end = prev.span.end();
        if let Some(n) = names.iter().find(|n| n.span.end() == end) {
            a.source = Some(n.span);
        } else if prev.class == class::WORD && prev.flags & flag::PRONOUN != 0 {
            a.source = Some(prev.span);
        }
    }
}

/// Share of the smaller content two attributions may have in common and both stay.
const NESTED: f64 = 0.8;

/// Where the clause of the attribution with cue tokens starting at `c0` and source `src` begins,
/// when it is a clause with its own subject right before the cue, after a comma, a dash or a
/// conjunction ("…, and he stressed that"): the first token of the comma or conjunction.
fn own_clause(p: &Prepared, c0: usize, src: Option<Span>) -> Option<usize> {
    let t = &p.toks;
    // The clause starts at its source, which comes right before the cue ("he stressed").
    let (k, se) = src.and_then(|s| tok_range(p, s))?;
    if se != c0 || k >= c0 || k == 0 {
        return None;
    }
    let boundary = |i: usize| t[i].class == class::COMMA || t[i].class == class::DASH;
    let conj = |i: usize| {
        t[i].class == class::WORD
            && ["and", "but", "while", "before", "after", "also"]
                .iter()
                .any(|w| tok_text(p, i).eq_ignore_ascii_case(w))
    };
    if boundary(k - 1) {
        Some(k - 1)
    } else if conj(k - 1) {
        Some(if k >= 2 && boundary(k - 2) {
            k - 2
        } else {
            k - 1
        })
    } else {
        None
    }
}

/// Applies the first rule of the module docs, in cue order.
fn merge_nested(p: &Prepared, atts: &mut Vec<Attribution>) {
    let size = |a: &Attribution| a.content.iter().map(|s| s.len()).sum::<usize>();
    // The hull of a content (its fragments are in text order) rules most pairs out cheaply.
    let hull = |a: &Attribution| match (a.content.first(), a.content.last()) {
        (Some(f), Some(l)) => (f.start(), l.end()),
        _ => (0, 0),
    };
    // A cut shortens a content after it was compared with earlier ones: pass again until nothing
    // changes (each pass cuts or drops, so this ends).
    let mut changed = true;
    while changed {
        changed = false;
        let mut keep = vec![true; atts.len()];
        for i in 0..atts.len() {
            for j in i + 1..atts.len() {
                let (hi, hj) = (hull(&atts[i]), hull(&atts[j]));
                if !keep[i] || !keep[j] || hi.1 <= hj.0 || hj.1 <= hi.0 {
                    continue;
                }
                let shared = overlap(&atts[i].content, &atts[j].content);
                let (si, sj) = (size(&atts[i]), size(&atts[j]));
                if shared as f64 <= NESTED * si.min(sj) as f64 {
                    continue;
                }
                // A clause of its own inside the other's content: cut the other short.
                let (outer, inner) = if si >= sj { (i, j) } else { (j, i) };
                let (ho, a) = (hull(&atts[outer]), &atts[inner]);
                let inside = a.cue.start() >= ho.0 && a.cue.end() <= ho.1;
                let after = a.cue.start() > atts[outer].cue.end();
                let cut = tok_range(p, a.cue)
                    .filter(|_| inside && after)
                    .and_then(|(c0, _)| own_clause(p, c0, a.source))
                    .filter(|&b| b > 0 && p.toks[b].span.start() > ho.0);
                // The smaller one stands on its own, with its source, in sentences that do not hold
                // the larger one's cue ("…, said he was alarmed. \"Jewish history …,\" Salkin
                // said."): the larger content lost its way into it, and gives that part back.
                if cut.is_none() && stands_apart(p, &atts[outer], &atts[inner]) {
                    let (hs, he) = hull(&atts[inner]);
                    let o = &mut atts[outer];
                    let mut parts = Vec::with_capacity(o.content.len() + 1);
                    for f in &o.content {
                        if f.end() <= hs || f.start() >= he {
                            parts.push(*f);
                            continue;
                        }
                        if f.start() < hs {
                            parts.push(Span::new(f.start(), hs));
                        }
                        if f.end() > he {
                            parts.push(Span::new(he, f.end()));
                        }
                    }
                    // Only words make a fragment.
                    parts.retain(|f| {
                        tok_range(p, *f).is_some_and(|(a, b)| {
                            p.toks[a..b].iter().any(|t| t.class == class::WORD)
                        })
                    });
                    o.content = parts;
                    changed = true;
                    if o.content.is_empty() {
                        keep[outer] = false;
                    }
                    continue;
                }
                if let Some(b) = cut {
                    // The outer content ends with the last token before the comma or conjunction.
                    let end = p.toks[b - 1].span.end();
                    let o = &mut atts[outer];
                    o.content.retain(|f| f.start() < end);
                    for f in o.content.iter_mut() {
                        if f.end() > end {
                            *f = Span::new(f.start(), end);
                        }
                    }
                    changed = true;
                    if o.content.is_empty() {
                        keep[outer] = false;
                    }
                    continue;
                }
                let rank = |k: usize, s: usize| (atts[k].source.is_some(), s);
                if rank(j, sj) <= rank(i, si) {
                    keep[j] = false;
                } else {
                    keep[i] = false;
                }
                changed = true;
            }
        }
        let mut k = 0;
        atts.retain(|_| {
            k += 1;
            keep[k - 1]
        });
    }
}

/// Whether `inner` has a source, and its cue and content lie in sentences that do not hold
/// `outer`'s cue.
fn stands_apart(p: &Prepared, outer: &Attribution, inner: &Attribution) -> bool {
    if inner.source.is_none() {
        return false;
    }
    let sent_of = |x: usize| p.toks[x].sent;
    let Some((oc, _)) = tok_range(p, outer.cue) else {
        return false;
    };
    let (Some(f), Some(l)) = (inner.content.first(), inner.content.last()) else {
        return false;
    };
    let hull = Span::new(
        f.start().min(inner.cue.start()),
        l.end().max(inner.cue.end()),
    );
    let Some((a, b)) = tok_range(p, hull) else {
        return false;
    };
    let os = sent_of(oc);
    !(sent_of(a)..=sent_of(b - 1)).contains(&os)
}

fn claimed(atts: &[Attribution], sp: Span) -> bool {
    atts.iter()
        .any(|a| a.content.iter().any(|c| c.overlap(sp) * 2 > sp.len()))
}

/// "“…” — Jane Doe": a dash after a closing quote (same line, or opening the next line), then a
/// name ending the line.
fn signatures(p: &Prepared, names: &[Name], atts: &mut Vec<Attribution>) {
    let t = &p.toks;
    for i in 1..t.len() {
        if t[i].class != class::DASH {
            continue;
        }
        let para = t[i].para;
        let (_, pe) = p.paras[para as usize];
        // Names are in text order: the first that starts after the dash, by bisection.
        debug_assert!(names
            .windows(2)
            .all(|w| w[0].span.start() < w[1].span.start()));
        let first = names.partition_point(|n| n.span.start() < t[i].span.end());
        let Some(n) = names.get(first) else {
            continue;
        };
        let Some((ns, ne)) = tok_range(p, n.span) else {
            continue;
        };
        // The name follows the dash and ends the line (or a comma follows it: "— Jane Doe, Reuters";
        // or a full stop ends the line: "— Jane Doe.").
        let ends_line = ne == pe as usize || (ne + 1 == pe as usize && t[ne].class == class::STOP);
        if ns != i + 1 || !(ends_line || t[ne].class == class::COMMA) {
            continue;
        }
        // Right after a closing quote, on the quote's line or opening the next one.
        let after_quote = t[i - 1].class == class::QCLOSE
            && (t[i - 1].para == para || t[i].flags & flag::PARA_START != 0);
        let q = if after_quote {
            p.quote_region(i - 1)
        } else {
            None
        };
        let Some((qs, qe)) = q else { continue };
        let content = Span::new(t[qs].span.start(), t[qe - 1].span.end());
        if claimed(atts, content) {
            continue;
        }
        atts.push(Attribution {
            content: vec![content],
            cue: t[i].span,
            source: Some(n.span),
            speaker: None,
            direct: true,
        });
    }
}

/// Quotations open at the end of their paragraph (never closed) that no attribution claims: the
/// speaker of the attribution just before, within the two paragraphs before. In one paragraph
/// written one sentence per line (PTC), a line that opens with a quotation no one claims goes on
/// the quotation of the line before: `“A,” he added.` then `“B.”` is his too.
fn open_quotes(p: &Prepared, atts: &mut Vec<Attribution>) {
    let t = &p.toks;
    let mut extra: Vec<Attribution> = Vec::new();
    for (para, &(ps, pe)) in p.paras.iter().enumerate() {
        let (ps, pe) = (ps as usize, pe as usize);
        // No quote mark in the paragraph (prefix counts): nothing to look for.
        if p.n_quote[pe] == p.n_quote[ps] {
            continue;
        }
        let Some(qs) = (ps..pe).find(|&i| t[i].class == class::QOPEN && t[i].inq) else {
            continue;
        };
        let Some((rs, re)) = p.quote_region(qs) else {
            continue;
        };
        let open = t[re - 1].class != class::QCLOSE && re >= pe;
        let soft = p.soft[para] && rs == ps;
        if !open && !soft {
            continue;
        }
        let content = Span::new(t[rs].span.start(), t[re - 1].span.end());
        if content.is_empty() || claimed(atts, content) || claimed(&extra, content) {
            continue;
        }
        let cue_para = |a: &Attribution| tok_range(p, a.cue).map(|(s, _)| t[s].para as usize);
        let before = |a: &&Attribution| a.source.is_some() && a.cue.end() <= content.start();
        let prev = if open {
            atts.iter()
                .filter(before)
                .filter(|a| cue_para(a).is_some_and(|c| c + 2 >= para))
                .max_by_key(|a| a.cue.start())
        } else {
            // The line before holds the cue or the end of a quotation (or is such a line).
            let ends_before = |a: &Attribution| {
                a.content.last().is_some_and(|c| {
                    let e = t.partition_point(|x| x.span.start() < c.end());
                    e > 0 && t[e - 1].para as usize + 1 == para
                })
            };
            atts.iter()
                .chain(&extra)
                .filter(before)
                .filter(|a| a.direct && (cue_para(a) == Some(para - 1) || ends_before(a)))
                .max_by_key(|a| a.cue.start())
        };
        if let Some(a) = prev {
            let source = a.source;
            extra.push(Attribution {
                content: vec![content],
                cue: t[qs].span,
                source,
                speaker: None,
                direct: true,
            });
        }
    }
    atts.extend(extra);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhetor_core::Document;

    #[test]
    fn sources_are_typed_by_their_words() {
        let text = "As said earlier, as a result, Officials in the Aegean, Greek Cypriot, \
                    the Eastern Mediterranean, Turkey, the ministry, he, the report. Many, others.";
        let doc = Document::new(text).unwrap();
        let core = rhetor_core::Prepared::new(&doc);
        let p = Prepared::new(&core);
        // Whole words: the needle with a space or comma before it (or at the start).
        let ty = |needle: &str| {
            let b = [" ", ","]
                .iter()
                .filter_map(|p| text.find(&format!("{p}{needle}")).map(|b| b + 1))
                .chain(text.starts_with(needle).then_some(0))
                .min()
                .unwrap();
            let s = text[..b].chars().count();
            source_type(&p, Span::new(s, s + needle.chars().count()))
        };
        assert_eq!(ty("As said earlier"), SourceType::Discourse);
        assert_eq!(ty("As"), SourceType::Discourse);
        assert_eq!(ty("as a result"), SourceType::Discourse);
        assert_eq!(ty("the Aegean"), SourceType::Place);
        assert_eq!(ty("the Eastern Mediterranean"), SourceType::Place);
        assert_eq!(ty("Greek Cypriot"), SourceType::Adjective);
        assert_eq!(ty("Officials"), SourceType::Source);
        assert_eq!(ty("Turkey"), SourceType::Source);
        assert_eq!(ty("the ministry"), SourceType::Source);
        assert_eq!(ty("he"), SourceType::Source);
        assert_eq!(ty("the report"), SourceType::Source);
        // Quantifiers alone stand for people; with other function words they do not.
        assert_eq!(ty("Many"), SourceType::Source);
        assert_eq!(ty("others"), SourceType::Source);
        assert_eq!(ty("as a result"), SourceType::Discourse);
    }

    fn att(content: &[(usize, usize)], cue: usize, source: Option<(usize, usize)>) -> Attribution {
        Attribution {
            content: content.iter().map(|&(s, e)| Span::new(s, e)).collect(),
            cue: Span::new(cue, cue + 4),
            source: source.map(|(s, e)| Span::new(s, e)),
            speaker: None,
            direct: false,
        }
    }

    #[test]
    fn nested_copies_of_one_attribution_are_merged() {
        // Words and spaces only: no clause boundary, so every nested pair is a copy.
        let doc = Document::new("word ".repeat(80)).unwrap();
        let core = rhetor_core::Prepared::new(&doc);
        let p = Prepared::new(&core);
        let merge_nested = |v: &mut Vec<Attribution>| merge_nested(&p, v);
        let outer = att(&[(10, 100)], 5, Some((0, 4)));
        let inner = att(&[(30, 100)], 25, Some((20, 24)));
        let unsourced = att(&[(12, 100)], 8, None);
        // Inner content wholly inside the outer one: the larger, both with sources.
        let mut v = vec![outer.clone(), inner.clone()];
        merge_nested(&mut v);
        assert_eq!(v, vec![outer.clone()]);
        // Whatever the order.
        let mut v = vec![inner.clone(), outer.clone()];
        merge_nested(&mut v);
        assert_eq!(v, vec![outer.clone()]);
        // One with a source beats a larger one without.
        let mut v = vec![att(&[(0, 200)], 205, None), inner.clone()];
        merge_nested(&mut v);
        assert_eq!(v, vec![inner.clone()]);
        // Split contents count fragment by fragment: [30, 60) + [70, 100) against [10, 100).
        let mut v = vec![
            outer.clone(),
            att(&[(30, 60), (70, 100)], 62, Some((62, 66))),
        ];
        merge_nested(&mut v);
        assert_eq!(v, vec![outer.clone()]);
        // Three copies leave one.
        let mut v = vec![unsourced, inner.clone(), outer.clone()];
        merge_nested(&mut v);
        assert_eq!(v, vec![outer.clone()]);
        // Neighbours and partial overlaps (at most 80% of the smaller) stay: 40 of 50 shared.
        let a = att(&[(0, 50)], 60, Some((55, 59)));
        let b = att(&[(10, 60)], 70, Some((65, 69)));
        let c = att(&[(200, 300)], 190, Some((180, 184)));
        let mut v = vec![a.clone(), b.clone(), c.clone()];
        merge_nested(&mut v);
        assert_eq!(v, vec![a.clone(), b, c]);
        // 41 of 50 shared is more than 80%: the one without a source goes.
        let mut v = vec![a.clone(), att(&[(9, 59)], 70, None)];
        merge_nested(&mut v);
        assert_eq!(v, vec![a]);
    }
}
