//! Speaker resolution: every source mention is linked to a speaker entity of the article.
//!
//! Named mentions (runs of capitalised words, with titles such as "Foreign Ministry Spokesman" split
//! off) are collected over the whole text, so that a pronoun can point at a person who was named but
//! never quoted before. Then, in text order, each source mention resolves to:
//! - a **name** ("Bahram Qassemi", "Qassemi", "Mr. Qassemi"): the entity whose full name ends with the
//!   same words (surname match), else a new entity;
//! - **he / she**: the most recent person compatible in gender (from titles and a first-name list);
//!   **they / it**: the most recent organisation or group; **who / which**: the name just before it;
//!   **I / we** inside a quotation: the speaker of that quotation;
//! - a **description** ("the spokesman", "the ministry", "the Iranian president"): the most recent
//!   entity whose title or name has the same head word, else a new entity named by the description.
//!
//! Speaker ids are slugs of the display name (`bahram-qassemi`, `the-ministry`), made unique with a
//! numeric suffix; the display name is the longest name seen for the entity, without titles.

use crate::extract::tok_range;
use crate::lexicon::{fx, key, lexicon, Lexicon, WordSet};
use crate::prep::{class, flag, Prepared};
use crate::Attribution;
use rhetor_core::{Document, Span};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// What kind of speaker an entity is (defined in the core, where an analysis carries it).
pub use rhetor_core::SpeakerKind;

/// A speaker of an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Speaker {
    /// Stable id within the article (a slug of the name).
    pub id: String,
    /// Display name ("Bahram Qassemi", "the ministry").
    pub name: String,
    /// Person, organisation, group.
    pub kind: SpeakerKind,
    /// Every mention linked to the speaker, sources and other mentions, in text order.
    pub mentions: Vec<Span>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gender {
    Male,
    Female,
    Unknown,
}

/// A short list kept inline (names have a few words): no allocation per mention. Pushing past
/// the capacity drops the item.
#[derive(Debug, Clone, Copy)]
struct Small<T: Copy + Default, const N: usize> {
    len: u8,
    items: [T; N],
}

impl<T: Copy + Default, const N: usize> Default for Small<T, N> {
    fn default() -> Self {
        Small {
            len: 0,
            items: [T::default(); N],
        }
    }
}

impl<T: Copy + Default, const N: usize> Small<T, N> {
    fn push(&mut self, x: T) {
        if (self.len as usize) < N {
            self.items[self.len as usize] = x;
            self.len += 1;
        }
    }
}

impl<T: Copy + Default, const N: usize> std::ops::Deref for Small<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items[..self.len as usize]
    }
}

impl<T: Copy + Default, const N: usize> FromIterator<T> for Small<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(it: I) -> Self {
        let mut s = Small::default();
        for x in it {
            s.push(x);
        }
        s
    }
}

/// A named mention found in the text, or a source mention turned into an entity.
#[derive(Debug, Clone)]
pub(crate) struct Name {
    pub(crate) span: Span,
    /// Tokens of the name (no titles), for display.
    toks: Small<u32, 8>,
    /// Keys (lower case, possessive stripped) of the name words.
    key: Small<u64, 8>,
    /// The same without initials ("Donald J. Trump" → donald, trump).
    core: Small<u64, 8>,
    /// Keys of title and description words ("foreign", "ministry", "spokesman").
    desc: Small<u64, 12>,
    pub(crate) kind: SpeakerKind,
    gender: Gender,
}

#[derive(Debug, Clone)]
struct Entity {
    /// The longest name seen.
    name: Name,
    /// Display name of an entity made from a description ("the ministry").
    display: Option<String>,
    mentions: Vec<Span>,
    is_speaker: bool,
    /// Stable number (its position in the resolver).
    uid: usize,
    /// Recency tick of the latest mention.
    seen: usize,
}

/// Keys of the words the resolver's own rules name: the pronoun classes, the words that join the
/// parts of a name ("Ministry of Foreign Affairs") and articles.
struct Words {
    i: [u64; 4],
    he: [u64; 3],
    she: [u64; 2],
    they: [u64; 3],
    it: [u64; 2],
    who: [u64; 3],
    joiners: [u64; 4],
    of_for: [u64; 2],
    /// Words that open a modifier inside a noun phrase ("of", "at", "from"): a name after one is
    /// not the phrase's head.
    modifiers: [u64; 6],
    articles: [u64; 3],
    locative: [u64; 8],
}

/// The shared word lists and the resolver's own words.
fn lists() -> (&'static Lexicon, &'static Words) {
    static W: OnceLock<Words> = OnceLock::new();
    let k = key;
    let w = W.get_or_init(|| Words {
        i: [k("i"), k("me"), k("we"), k("us")],
        he: [k("he"), k("him"), k("his")],
        she: [k("she"), k("her")],
        they: [k("they"), k("them"), k("their")],
        it: [k("it"), k("its")],
        who: [k("who"), k("which"), k("that")],
        joiners: [k("of"), k("for"), k("and"), k("de")],
        of_for: [k("of"), k("for")],
        modifiers: [k("of"), k("at"), k("from"), k("for"), k("with"), k("in")],
        articles: [k("the"), k("a"), k("an")],
        locative: [
            k("in"),
            k("at"),
            k("near"),
            k("across"),
            k("throughout"),
            k("into"),
            k("off"),
            k("outside"),
        ],
    });
    (lexicon(), w)
}

fn has(v: &WordSet, k: u64) -> bool {
    v.contains(k)
}

/// [`key`] of token `i`: its lower-case hash unless it ends with a possessive.
fn tok_key(p: &Prepared, i: usize) -> u64 {
    let s = tok_text(p, i);
    if s.ends_with("'s") || s.ends_with("’s") || s.ends_with('’') {
        key(s)
    } else {
        p.toks[i].w
    }
}

fn tok_text<'a>(p: &'a Prepared, i: usize) -> &'a str {
    &p.text[p.toks[i].b0 as usize..p.toks[i].b1 as usize]
}

fn is_initial(p: &Prepared, i: usize) -> bool {
    tok_text(p, i).chars().nth(1).is_none()
}

fn gender_of(p: &Prepared, toks: &[u32], desc: &[u64]) -> Gender {
    let (l, _) = lists();
    for &d in desc {
        if has(&l.female_titles, d) {
            return Gender::Female;
        }
        if has(&l.male_titles, d) {
            return Gender::Male;
        }
    }
    if toks.len() >= 2 && has(&l.female_names, tok_key(p, toks[0] as usize)) {
        return Gender::Female;
    }
    Gender::Unknown
}

/// Does an agency's dateline tag start at token `e`: "(AFP) –", as in "Philadelphia (AFP) – …"?
fn agency_dateline(p: &Prepared, e: usize) -> bool {
    let t = &p.toks;
    e + 3 < t.len()
        && t[e].class == class::PAREN
        && t[e + 1].class == class::WORD
        && t[e + 1].shape == 2
        && t[e + 2].class == class::PAREN
        && t[e + 3].class == class::DASH
}

/// Finds named mentions: runs of capitalised words (joined by "of", "for", "and", "on" when a
/// capitalised word follows, and by the period of an abbreviation), with leading function words
/// dropped and the last title word splitting description from name.
fn find_names(p: &Prepared) -> Vec<Name> {
    let (l, w) = lists();
    let t = &p.toks;
    let is_cap = |i: usize| t[i].class == class::WORD && t[i].flags & flag::CAP != 0;
    // A name is a few hundred bytes: reserve for a typical article (about one name in 27 tokens)
    // instead of growing and copying.
    let mut out = Vec::with_capacity(t.len() / 16 + 4);
    // The last words of the persons' names met so far.
    let mut surnames: Vec<u64> = Vec::new();
    let mut i = 0;
    let mut words: Vec<(u32, u64)> = Vec::new();
    while i < t.len() {
        if !is_cap(i) {
            i += 1;
            continue;
        }
        let s = i;
        let mut e = i + 1;
        loop {
            if e < t.len() && is_cap(e) && t[e].para == t[s].para {
                e += 1;
                continue;
            }
            // "Mr." / "U.S." abbreviation periods.
            if e + 1 < t.len()
                && t[e].class == class::STOP
                && t[e].b1 - t[e].b0 == 1
                && p.text.as_bytes()[t[e].b0 as usize] == b'.'
                && t[e].b0 == t[e - 1].b1
                && t[e - 1].b1 - t[e - 1].b0 <= 4
                && is_cap(e + 1)
            {
                e += 1;
                continue;
            }
            // A titled person's name is complete: "Professor Anand Menon | of King's College",
            // but "Secretary of State Mike Pompeo", "Bank of England" go on.
            let titled_person = || {
                let last_title = (s..e).rev().find(|&k| has(&l.titles, t[k].w));
                last_title.is_some_and(|k| {
                    (k + 1..e)
                        .filter(|&j| t[j].class == class::WORD && !has(&l.titles, t[j].w))
                        .count()
                        >= 2
                })
            };
            if e + 1 < t.len()
                && w.joiners.contains(&t[e].w)
                && is_cap(e + 1)
                && t[e].sent == t[s].sent
                && !has(&l.stop, t[e + 1].w)
                && !titled_person()
            {
                e += 1;
                continue;
            }
            break;
        }
        words.clear();
        words.extend(
            (s..e)
                .filter(|&k| t[k].class == class::WORD)
                .map(|k| (k as u32, tok_key(p, k))),
        );
        // Drop leading function words ("The", "But", "Monday"), but not "Mr", nor the surname of
        // a name already met ("May told …" after "Theresa May").
        let mut lead = 0;
        while lead < words.len()
            && has(&l.stop, words[lead].1)
            && !has(&l.honorifics, words[lead].1)
            && !(words.len() == 1 && surnames.contains(&words[0].1))
        {
            lead += 1;
        }
        let words = &words[lead..];
        if words.is_empty() {
            i = e;
            continue;
        }
        let has_org = words.iter().any(|&(_, k)| has(&l.org, k));
        // Places and adjectives ("Cyprus", "the Eastern Mediterranean", "Greek Cypriot") are
        // never speakers nor antecedents; nor is a name right after a locative preposition
        // ("in Dalton") or a dateline ("TEHRAN —", "Philadelphia (AFP) –": +0.0002 CV speaker F1).
        let placeish = |k: u64| has(&l.places, k) || has(&l.place_words, k) || has(&l.demonyms, k);
        let after_loc = s > 0 && w.locative.contains(&t[s - 1].w);
        let dateline = t[s].flags & flag::PARA_START != 0
            && ((s..e).all(|k| t[k].shape == 2 || t[k].class != class::WORD)
                && t.get(e).is_some_and(|x| x.class == class::DASH)
                || agency_dateline(p, e));
        let no_title = !words.iter().any(|&(_, k)| has(&l.titles, k));
        if !has_org
            && no_title
            && (words
                .iter()
                .all(|&(_, k)| placeish(k) || w.joiners.contains(&k))
                || after_loc
                || dateline)
        {
            i = e;
            continue;
        }
        // Lower-case titles right before the name ("ministry spokeswoman Maria Lopez").
        let mut pre: Small<u64, 4> = Small::default();
        let mut b = s;
        while b > 0 && pre.len() < 3 {
            let x = &t[b - 1];
            if x.class == class::WORD && x.shape == 0 && has(&l.titles, x.w) {
                pre.push(x.w);
                b -= 1;
            } else {
                break;
            }
        }
        let mut split = 0;
        for (k, &(_, wk)) in words.iter().enumerate() {
            if has(&l.titles, wk) && k + 1 < words.len() {
                split = k + 1;
            }
        }
        let last = words[words.len() - 1].1;
        let ends_with_title = has(&l.titles, last) && !has(&l.org, last);
        if ends_with_title && split == 0 && !has_org {
            // "Spokesman" alone: left to the description rules.
            i = e;
            continue;
        }
        let mut name = &words[split..];
        let name_has_org = name.iter().any(|&(_, k)| has(&l.org, k));
        // An organisation keeps its description words: "Foreign Ministry", not "Ministry".
        if name_has_org {
            split = 0;
            name = words;
        }
        // A people named by a plural ("Turkish Cypriots", "Palestinians", "Senate Republicans")
        // is a group, which "he" and "she" never refer to.
        let last_tok = &t[name[name.len() - 1].0 as usize];
        let plural_people = has(&l.group_heads, name[name.len() - 1].1)
            || (last_tok.lem != last_tok.w && has(&l.demonyms, last_tok.lem));
        // One word in capitals ("UKIP", "NATO", "RT") with no title before it is an acronym.
        let acronym = name.len() == 1
            && split == 0
            && pre.is_empty()
            && last_tok.shape == 2
            && last_tok.b1 - last_tok.b0 >= 2;
        let kind = if name_has_org || (has_org && split == 0) || acronym {
            SpeakerKind::Organization
        } else if plural_people && split == 0 && pre.is_empty() {
            SpeakerKind::Group
        } else if split > 0
            || !pre.is_empty()
            // "Game of Thrones", "House of Commons": a name joined by "of" or "for" is a person
            // only with a title.
            || (2..=4).contains(&name.len()) && !name.iter().any(|&(_, k)| w.of_for.contains(&k))
        {
            SpeakerKind::Person
        } else {
            SpeakerKind::Unknown
        };
        let toks: Small<u32, 8> = name.iter().map(|&(k, _)| k).collect();
        let mut desc: Small<u64, 12> = words[..split].iter().map(|&(_, k)| k).collect();
        if kind == SpeakerKind::Person {
            for &d in pre.iter() {
                desc.push(d);
            }
        }
        let gender = if kind == SpeakerKind::Person {
            gender_of(p, &toks, &desc)
        } else {
            Gender::Unknown
        };
        let span = Span::new(
            t[toks[0] as usize].span.start(),
            t[*toks.last().unwrap() as usize].span.end(),
        );
        if kind == SpeakerKind::Person && name.len() >= 2 {
            surnames.push(name[name.len() - 1].1);
        }
        out.push(Name {
            span,
            key: name.iter().map(|&(_, k)| k).collect(),
            core: name
                .iter()
                .filter(|&&(k, _)| !is_initial(p, k as usize))
                .map(|&(_, k)| k)
                .collect(),
            toks,
            desc,
            kind,
            gender,
        });
        i = e;
    }
    out
}

/// Is `short` the end of `long`?
fn tail(long: &[u64], short: &[u64]) -> bool {
    !short.is_empty() && short.len() <= long.len() && long[long.len() - short.len()..] == *short
}

/// Do two names name the same entity? One is the end of the other ("Qassemi", "Bahram Qassemi"),
/// initials aside ("Donald J. Trump", "Donald Trump").
fn same_name(a: &Name, b: &Name) -> bool {
    tail(&a.key, &b.key) || tail(&b.key, &a.key) || tail(&a.core, &b.core) || tail(&b.core, &a.core)
}

struct Resolver {
    /// Entities in order of creation (their position is their stable number).
    ents: Vec<Entity>,
    /// Recency clock: `Entity::seen` is the tick of its latest mention.
    clock: usize,
    /// Entities by the key of their last name word (with and without initials).
    by_last: std::collections::HashMap<u64, Ids, KeyHash>,
}

/// The entities under one key: nearly always one, kept inline (no allocation per key).
#[derive(Debug, Default)]
struct Ids {
    first: Option<usize>,
    more: Vec<usize>,
}

impl Ids {
    fn contains(&self, k: usize) -> bool {
        self.first == Some(k) || self.more.contains(&k)
    }

    fn push(&mut self, k: usize) {
        if self.first.is_none() {
            self.first = Some(k);
        } else {
            self.more.push(k);
        }
    }

    /// In the order pushed.
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.first.into_iter().chain(self.more.iter().copied())
    }
}

/// A mention list for a new entity: room for a few mentions, so that the first ones do not
/// reallocate.
fn mention_list(first: Option<Span>) -> Vec<Span> {
    let mut v = Vec::with_capacity(4);
    v.extend(first);
    v
}

/// Keys are hashes already: the map uses them as they are.
#[derive(Default, Clone, Copy)]
struct KeyHash;

impl std::hash::BuildHasher for KeyHash {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = fx(self.0, b as u64);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Resolver {
    /// A resolver for about `n` entities (reserved, so that entities are not copied as it grows).
    fn new(n: usize) -> Resolver {
        Resolver {
            ents: Vec::with_capacity(n),
            clock: 0,
            by_last: std::collections::HashMap::with_capacity_and_hasher(2 * n, KeyHash),
        }
    }

    fn index(&mut self, k: usize) {
        let n = &self.ents[k].name;
        for last in [n.key.last(), n.core.last()].into_iter().flatten() {
            let v = self.by_last.entry(*last).or_default();
            if !v.contains(k) {
                v.push(k);
            }
        }
    }

    /// Links a named mention to the most recent entity with a compatible name, or makes one.
    fn add_name(&mut self, m: &Name) -> usize {
        let mut found: Option<usize> = None;
        for last in [m.key.last(), m.core.last()].into_iter().flatten() {
            for k in self.by_last.get(last).into_iter().flat_map(Ids::iter) {
                let e = &self.ents[k];
                if e.display.is_none()
                    && !matches!(found, Some(f) if self.ents[f].seen >= e.seen)
                    && same_name(&e.name, m)
                {
                    found = Some(k);
                }
            }
        }
        match found {
            Some(k) => {
                let e = &mut self.ents[k];
                for &d in m.desc.iter() {
                    if !e.name.desc.contains(&d) {
                        e.name.desc.push(d);
                    }
                }
                if m.key.len() > e.name.key.len() {
                    e.name.toks = m.toks;
                    e.name.key = m.key;
                    e.name.core = m.core;
                }
                if e.name.kind == SpeakerKind::Unknown {
                    e.name.kind = m.kind;
                }
                if e.name.gender == Gender::Unknown {
                    e.name.gender = m.gender;
                }
                e.mentions.push(m.span);
                self.touch(k);
                self.index(k);
                k
            }
            None => {
                let k = self.push(Entity {
                    name: m.clone(),
                    display: None,
                    mentions: mention_list(Some(m.span)),
                    is_speaker: false,
                    uid: 0,
                    seen: 0,
                });
                self.index(k);
                k
            }
        }
    }

    /// Adds an entity as the most recent; returns its position.
    fn push(&mut self, mut e: Entity) -> usize {
        e.uid = self.ents.len();
        self.ents.push(e);
        let k = self.ents.len() - 1;
        self.touch(k);
        k
    }

    /// Marks entity `k` as the most recently mentioned.
    fn touch(&mut self, k: usize) {
        self.clock += 1;
        self.ents[k].seen = self.clock;
    }

    /// Most recent entity accepted by `ok`.
    fn recent(&self, ok: impl Fn(&Entity) -> bool) -> Option<usize> {
        (0..self.ents.len())
            .filter(|&k| ok(&self.ents[k]))
            .max_by_key(|&k| self.ents[k].seen)
    }
}

/// Resolves the speakers of extracted attributions (see the module docs) and returns them with
/// their speaker ids set.
pub(crate) fn resolve(
    doc: &Document,
    p: &Prepared,
    mut atts: Vec<Attribution>,
) -> crate::Attributions {
    let names = find_names(p);
    crate::sources::refine(p, &names, &mut atts);
    // Each attribution remembers its entity by its stable number.
    let mut r = Resolver::new(names.len() + atts.len());
    let mut order: Vec<usize> = (0..atts.len())
        .filter(|&k| atts[k].source.is_some())
        .collect();
    order.sort_by_key(|&k| atts[k].source.unwrap().start());
    let mut att_uid: Vec<Option<usize>> = vec![None; atts.len()];
    let mut ni = 0;
    for &k in &order {
        let src = atts[k].source.unwrap();
        // Names are added before the sources that end after them start.
        while ni < names.len() && names[ni].span.start() < src.end() {
            r.add_name(&names[ni]);
            ni += 1;
        }
        let pos = match resolve_source(p, &names, &r, &atts, &att_uid, k, src) {
            Some(e) => e,
            None => r.push(nominal(doc, p, src)),
        };
        let e = &mut r.ents[pos];
        // A bare capitalised word that speaks ("Aksoy noted") is a person unless an
        // organisation word says otherwise.
        if e.name.kind == SpeakerKind::Unknown && e.display.is_none() {
            let (l, _) = lists();
            let last = e.name.key.last().copied().unwrap_or(0);
            e.name.kind = if has(&l.group_heads, last) {
                SpeakerKind::Group
            } else {
                SpeakerKind::Person
            };
        }
        e.is_speaker = true;
        if !e.mentions.contains(&src) {
            e.mentions.push(src);
        }
        att_uid[k] = Some(e.uid);
        r.touch(pos);
    }
    while ni < names.len() {
        r.add_name(&names[ni]);
        ni += 1;
    }
    // Ids and display names, in order of first mention.
    let mut spk: Vec<usize> = (0..r.ents.len())
        .filter(|&k| r.ents[k].is_speaker)
        .collect();
    spk.sort_by_key(|&k| r.ents[k].mentions.iter().map(|m| m.start()).min());
    let mut id_of: Vec<(usize, String)> = Vec::with_capacity(spk.len());
    let mut speakers = Vec::with_capacity(spk.len());
    for k in spk {
        let e = &r.ents[k];
        let name = match &e.display {
            Some(d) => d.clone(),
            None => {
                let words: Vec<&str> = e
                    .name
                    .toks
                    .iter()
                    .map(|&i| {
                        let w = tok_text(p, i as usize);
                        w.strip_suffix("’s")
                            .or_else(|| w.strip_suffix("'s"))
                            .unwrap_or(w)
                    })
                    .collect();
                words.join(" ")
            }
        };
        let mut base = String::new();
        for c in name.chars() {
            if c.is_alphanumeric() {
                base.extend(c.to_lowercase());
            } else if !base.ends_with('-') && !base.is_empty() {
                base.push('-');
            }
        }
        let base = base.trim_end_matches('-');
        let base = if base.is_empty() { "speaker" } else { base };
        let mut id = base.to_string();
        let mut n = 2;
        while id_of.iter().any(|(_, x)| *x == id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id_of.push((e.uid, id.clone()));
        let mut mentions = e.mentions.clone();
        mentions.sort();
        mentions.dedup();
        speakers.push(Speaker {
            id,
            name,
            kind: e.name.kind,
            mentions,
        });
    }
    for (k, a) in atts.iter_mut().enumerate() {
        a.speaker = att_uid[k].and_then(|u| {
            id_of
                .iter()
                .find(|(x, _)| *x == u)
                .map(|(_, id)| id.clone())
        });
    }
    atts.sort_by_key(|a| (a.cue.start(), a.cue.end()));
    crate::Attributions {
        attributions: atts,
        speakers,
    }
}

/// Word tokens of a span, with their keys.
fn words_of(p: &Prepared, span: Span) -> Vec<(usize, u64)> {
    match tok_range(p, span) {
        Some((s, e)) => (s..e)
            .filter(|&k| p.toks[k].class == class::WORD)
            .map(|k| (k, tok_key(p, k)))
            .collect(),
        None => Vec::new(),
    }
}

/// The entity (position in `r.ents`) a source mention refers to, if any.
#[allow(clippy::too_many_arguments)]
fn resolve_source(
    p: &Prepared,
    names: &[Name],
    r: &Resolver,
    atts: &[Attribution],
    att_uid: &[Option<usize>],
    k: usize,
    src: Span,
) -> Option<usize> {
    let (l, w) = lists();
    // 1. A name inside the source: the last person not inside a modifier ("Real Time host Bill
    // Maher", "Former UKIP leader and MEP Nigel Farage", but not the "King's College London" of
    // "Anand Menon of King's College London"), else the first person, else the first name.
    let inside = |n: &&Name| n.span.start() >= src.start() && n.span.end() <= src.end();
    let person = |n: &&Name| n.kind == SpeakerKind::Person;
    let ti = p.toks.partition_point(|x| x.span.start() < src.start());
    let head_of_phrase = |n: &&Name| {
        let i = n.toks[0] as usize;
        !(ti..i).any(|k| p.toks[k].class == class::COMMA || w.modifiers.contains(&p.toks[k].w))
    };
    // Names are in text order: those inside the source are a slice found by two binary searches.
    let lo = names.partition_point(|n| n.span.start() < src.start());
    let hi = lo + names[lo..].partition_point(|n| n.span.start() < src.end());
    let near = &names[lo..hi];
    // A name that only modifies the phrase's head ("Five Trump aides", "the Trump administration",
    // "a Clinton spokesman") is not its speaker: the head is a lower-case group, organisation or
    // title word after the last name.
    let modifier_only = || {
        // The head phrase ends at the first comma or dash: "Sen. Chuck Grassley, the committee's
        // chairman" is Grassley.
        let last = tok_range(p, src).and_then(|(s, e)| {
            let e = (s..e)
                .find(|&k| matches!(p.toks[k].class, class::COMMA | class::DASH | class::PAREN))
                .unwrap_or(e);
            (s..e).rev().find(|&k| p.toks[k].class == class::WORD)
        });
        last.is_some_and(|k| {
            let x = &p.toks[k];
            x.shape == 0
                && (has(&l.group_heads, x.w) || has(&l.org_heads, x.w) || has(&l.titles, x.w))
                && !near
                    .iter()
                    .any(|n| inside(&n) && n.span.end() >= x.span.end())
        })
    };
    let named = near
        .iter()
        .rfind(|n| inside(n) && person(n) && head_of_phrase(n))
        .or_else(|| near.iter().filter(inside).find(person))
        .or_else(|| near.iter().find(inside))
        .filter(|_| !modifier_only());
    if let Some(n) = named {
        return r
            .recent(|e| e.display.is_none() && e.mentions.contains(&n.span))
            .or_else(|| r.recent(|e| e.display.is_none() && same_name(&e.name, n)));
    }
    let words = words_of(p, src);
    let (first_tok, first) = *words.first()?;
    // A name the speaker only quotes ("in the words of Jon Snow, 'winter is coming,'" he said) is
    // not who "he" is: an entity all of whose mentions lie in this attribution's own content is
    // passed over.
    let own = &atts[k].content;
    let outside = |e: &Entity| {
        !e.mentions.iter().all(|m| {
            own.iter()
                .any(|c| c.start() <= m.start() && m.end() <= c.end())
        })
    };
    let person = |e: &Entity| e.name.kind == SpeakerKind::Person && outside(e);
    // 2. Pronouns.
    if words.len() == 1 {
        if w.i.contains(&first) {
            // Inside another attribution's quotation: that speaker.
            let outer = (0..atts.len())
                .filter(|&j| j != k && atts[j].content.iter().any(|c| c.overlap(src) > 0))
                .filter_map(|j| att_uid[j])
                .next_back();
            if let Some(u) = outer {
                return Some(u);
            }
            return r.recent(person);
        }
        if w.he.contains(&first) {
            return r.recent(|e| person(e) && e.name.gender != Gender::Female);
        }
        if w.she.contains(&first) {
            return r
                .recent(|e| person(e) && e.name.gender == Gender::Female)
                .or_else(|| r.recent(|e| person(e) && e.name.gender != Gender::Male));
        }
        if w.they.contains(&first) {
            return r.recent(|e| {
                matches!(e.name.kind, SpeakerKind::Organization | SpeakerKind::Group) && outside(e)
            });
        }
        if w.it.contains(&first) {
            return r.recent(|e| e.name.kind == SpeakerKind::Organization && outside(e));
        }
        if w.who.contains(&first) {
            // The name right before the relative pronoun, in the same sentence.
            let sent = p.toks[first_tok].sent;
            let n = names.iter().rev().find(|n| {
                n.span.end() <= src.start() && {
                    let ni = p.toks.partition_point(|x| x.span.start() < n.span.start());
                    p.toks.get(ni).map(|x| x.sent) == Some(sent)
                }
            });
            if let Some(n) = n {
                return r.recent(|e| e.display.is_none() && e.mentions.contains(&n.span));
            }
            return r.recent(person);
        }
    }
    // 3. A description: its head word against the titles and names of earlier entities.
    let head = words[words.len() - 1].1;
    let is_org_head = has(&l.org_heads, head);
    let matches_head = |e: &Entity| e.name.desc.contains(&head) || e.name.key.contains(&head);
    if has(&l.group_heads, head) {
        return r.recent(|e| e.display.is_some() && matches_head(e));
    }
    let want = |e: &Entity| {
        if is_org_head {
            e.name.kind == SpeakerKind::Organization
        } else {
            e.name.kind == SpeakerKind::Person || e.display.is_some()
        }
    };
    let gender = if has(&l.female_titles, head) {
        Gender::Female
    } else if has(&l.male_titles, head) {
        Gender::Male
    } else {
        Gender::Unknown
    };
    let fits = |e: &Entity| {
        person(e)
            && (gender == Gender::Unknown
                || e.name.gender == Gender::Unknown
                || e.name.gender == gender)
    };
    r.recent(|e| want(e) && matches_head(e))
        .or_else(|| r.recent(|e| !is_org_head && e.name.desc.contains(&head)))
        // A role noun ("the spokesman") with no named holder: the most recent compatible
        // person who has spoken.
        .or_else(|| {
            let role = words.len() <= 3 && has(&l.titles, head) && !is_org_head;
            role.then(|| r.recent(|e| fits(e) && e.is_speaker && e.display.is_none()))
                .flatten()
        })
}

/// A new entity named by the source text ("the ministry", "officials"): cut at the first comma or
/// dash, at most six words.
fn nominal(doc: &Document, p: &Prepared, src: Span) -> Entity {
    let (l, w) = lists();
    let text = doc.slice(src);
    // Cut at the first comma that is not inside a number ("more than 1,000 voters").
    let b = text.as_bytes();
    let end = text
        .char_indices()
        .find(|&(i, c)| {
            matches!(c, '(' | '—' | '–')
                || c == ','
                    && !(i > 0
                        && b[i - 1].is_ascii_digit()
                        && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        })
        .map_or(text.len(), |(i, _)| i);
    let cut = text[..end].trim();
    // And before "of" after two words or more: "the General Secretary | of the Unite union",
    // "Two members | of the Cabinet", "a study | of more than 1,000 voters".
    let cut = match cut.find(" of ") {
        Some(i) if cut[..i].split_whitespace().count() >= 2 => &cut[..i],
        _ => cut,
    };
    let mut name: Vec<&str> = cut.split_whitespace().take(6).collect();
    let lower_first;
    if let Some(f) = name.first() {
        if w.articles.contains(&key(f)) {
            lower_first = f.to_lowercase();
            name[0] = &lower_first;
        }
    }
    let display = name.join(" ");
    let cut_span = Span::new(
        src.start(),
        src.start() + cut.chars().count().min(src.len()),
    );
    let words = words_of(p, cut_span);
    let head = words.last().map_or(0, |w| w.1);
    // A country or capital that speaks is its government.
    let kind = if has(&l.org_heads, head) || has(&l.places, head) {
        SpeakerKind::Organization
    } else if has(&l.group_heads, head) {
        SpeakerKind::Group
    } else {
        SpeakerKind::Person
    };
    let gender = if words.iter().any(|w| has(&l.female_titles, w.1)) {
        Gender::Female
    } else if words.iter().any(|w| has(&l.male_titles, w.1)) {
        Gender::Male
    } else {
        Gender::Unknown
    };
    let keys: Small<u64, 8> = words.iter().map(|w| w.1).collect();
    Entity {
        name: Name {
            span: src,
            toks: Small::default(),
            core: keys,
            desc: keys.iter().copied().collect(),
            key: keys,
            kind,
            gender,
        },
        display: Some(display),
        mentions: mention_list(None),
        is_speaker: false,
        uid: 0,
        seen: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_keys_equal_word_keys() {
        let doc = Document::new("Trump’s aide, Mr. O’Malley, Ülker's and JOSÉ said").unwrap();
        let core = rhetor_core::Prepared::new(&doc);
        let p = Prepared::new(&core);
        for i in 0..p.toks.len() {
            if p.toks[i].class == class::WORD {
                assert_eq!(tok_key(&p, i), key(tok_text(&p, i)), "{}", tok_text(&p, i));
            }
        }
        // Every token, words and punctuation, of a few texts: the key from the token's hash.
        for text in [
            "Trump’s aide, Mr. O’Malley, Ülker's and JOSÉ said. The U.S. envoys’ “view” — ’90s",
            &rhetor_testkit::fixture_article("9001"),
        ] {
            let doc = Document::new(text).unwrap();
            let core = rhetor_core::Prepared::new(&doc);
            let p = Prepared::new(&core);
            for i in 0..p.toks.len() {
                let w = tok_text(&p, i);
                assert_eq!(
                    crate::lexicon::key_from_lower(w, p.toks[i].w),
                    key(w),
                    "{w}"
                );
            }
        }
        assert_eq!(crate::lexicon::key_from_lower("U.S.", 0), key("u.s"));
        assert_eq!(key("Trump’s"), key("trump"));
        assert_eq!(key("Mr."), key("mr"));
    }
}
