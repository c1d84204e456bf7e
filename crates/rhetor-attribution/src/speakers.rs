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

use crate::prep::{class, flag, Prepared};
use crate::Attribution;
use rhetor_core::{Document, Span};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::OnceLock;

/// What kind of speaker an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeakerKind {
    /// A named or described person.
    Person,
    /// An organisation, outlet, government body, poll.
    Organization,
    /// An unnamed plural ("officials", "critics").
    Group,
    /// Not known.
    Unknown,
}

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

#[derive(Debug, Clone)]
struct Entity {
    /// Name words (no titles), original case.
    name: Vec<String>,
    /// The same, lower case.
    lname: Vec<String>,
    /// Title and description words, lower case ("foreign", "ministry", "spokesman").
    desc: Vec<String>,
    kind: SpeakerKind,
    gender: Gender,
    mentions: Vec<Span>,
    /// Position (code point) of the latest mention.
    last: usize,
    is_speaker: bool,
    /// Named from a description only ("the spokesman").
    nominal: bool,
}

/// A named mention found in the text.
#[derive(Debug, Clone)]
struct NameMention {
    span: Span,
    name: Vec<String>,
    lname: Vec<String>,
    desc: Vec<String>,
    kind: SpeakerKind,
    gender: Gender,
}

const STOP_CAPS: &[&str] = &[
    "the",
    "a",
    "an",
    "but",
    "and",
    "or",
    "in",
    "on",
    "at",
    "he",
    "she",
    "it",
    "they",
    "we",
    "i",
    "this",
    "that",
    "these",
    "those",
    "his",
    "her",
    "their",
    "its",
    "our",
    "my",
    "your",
    "if",
    "when",
    "while",
    "as",
    "after",
    "before",
    "for",
    "with",
    "from",
    "by",
    "to",
    "of",
    "so",
    "yet",
    "there",
    "here",
    "what",
    "who",
    "why",
    "how",
    "where",
    "which",
    "some",
    "many",
    "most",
    "all",
    "no",
    "not",
    "yes",
    "also",
    "still",
    "then",
    "now",
    "one",
    "two",
    "three",
    "last",
    "next",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "according",
    "although",
    "though",
    "because",
    "since",
    "even",
    "despite",
    "during",
    "under",
    "over",
    "about",
    "into",
    "like",
    "just",
    "only",
    "both",
    "each",
    "every",
    "any",
    "such",
    "than",
    "you",
    "we're",
    "it's",
    "i'm",
    "don't",
    "said",
    "says",
    "asked",
    "told",
    "meanwhile",
    "however",
    "instead",
    "today",
    "yesterday",
    "tomorrow",
    "tonight",
    "mr",
    "mrs",
    "ms",
    "dr",
];

const PERSON_TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "sen",
    "rep",
    "gov",
    "gen",
    "lt",
    "col",
    "capt",
    "sgt",
    "adm",
    "prof",
    "rev",
    "hon",
    "president",
    "senator",
    "governor",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "secretary",
    "minister",
    "chairman",
    "chairwoman",
    "chair",
    "director",
    "judge",
    "justice",
    "mayor",
    "candidate",
    "nominee",
    "representative",
    "congressman",
    "congresswoman",
    "ambassador",
    "adviser",
    "advisor",
    "aide",
    "leader",
    "chief",
    "ceo",
    "commissioner",
    "attorney",
    "general",
    "speaker",
    "vice",
    "deputy",
    "former",
    "prime",
    "premier",
    "king",
    "queen",
    "prince",
    "princess",
    "pope",
    "ayatollah",
    "sheikh",
    "host",
    "anchor",
    "correspondent",
    "reporter",
    "editor",
    "columnist",
    "analyst",
    "strategist",
    "manager",
    "professor",
    "economist",
    "officer",
    "lawmaker",
    "pastor",
    "bishop",
    "cardinal",
    "envoy",
    "diplomat",
    "commander",
    "colonel",
    "sergeant",
    "captain",
    "lieutenant",
    "founder",
    "executive",
    "head",
    "activist",
    "author",
    "chancellor",
    "counsel",
    "foreign",
    "defense",
    "state",
    "interior",
    "finance",
    "republican",
    "democratic",
    "democrat",
    "gop",
    "u.s",
    "us",
    "american",
    "white",
    "house",
    "press",
    "campaign",
    "senior",
    "top",
    "national",
    "security",
];

const ORG_WORDS: &[&str] = &[
    "ministry",
    "department",
    "party",
    "committee",
    "council",
    "agency",
    "office",
    "times",
    "post",
    "news",
    "journal",
    "network",
    "association",
    "union",
    "university",
    "institute",
    "foundation",
    "corporation",
    "inc",
    "corp",
    "co",
    "company",
    "court",
    "senate",
    "congress",
    "administration",
    "bureau",
    "service",
    "police",
    "army",
    "commission",
    "group",
    "center",
    "centre",
    "organization",
    "organisation",
    "reuters",
    "ap",
    "cnn",
    "fox",
    "msnbc",
    "nbc",
    "cbs",
    "abc",
    "bbc",
    "pentagon",
    "kremlin",
    "government",
    "embassy",
    "church",
    "bank",
    "fund",
    "board",
    "club",
    "coalition",
    "federation",
    "league",
    "alliance",
    "authority",
    "tribune",
    "herald",
    "magazine",
    "review",
    "politico",
    "breitbart",
    "fbi",
    "cia",
    "nsa",
    "gop",
    "dnc",
    "rnc",
    "un",
    "nato",
    "eu",
    "house",
    "poll",
    "survey",
    "study",
    "report",
    "guardian",
    "telegraph",
    "daily",
    "press",
    "media",
    "tv",
    "radio",
    "channel",
    "campaign",
    "staff",
    "team",
    "forces",
    "guard",
    "cabinet",
    "parliament",
    "assembly",
    "regime",
    "state",
    "states",
    "republic",
    "kingdom",
    "irna",
    "tasnim",
    "isna",
    "xinhua",
    "tass",
    "sputnik",
    "facebook",
    "twitter",
    "google",
    "amazon",
    "apple",
    "microsoft",
];

const FEMALE_NAMES: &[&str] = &[
    "hillary",
    "nancy",
    "elizabeth",
    "sarah",
    "kellyanne",
    "melania",
    "ivanka",
    "michelle",
    "nikki",
    "carly",
    "hope",
    "huma",
    "donna",
    "debbie",
    "kamala",
    "susan",
    "maria",
    "mary",
    "anne",
    "ann",
    "jennifer",
    "jessica",
    "amy",
    "lisa",
    "karen",
    "laura",
    "linda",
    "barbara",
    "katie",
    "kate",
    "samantha",
    "theresa",
    "angela",
    "marine",
    "loretta",
    "janet",
    "condoleezza",
    "madeleine",
    "sheryl",
    "oprah",
    "megyn",
    "rachel",
    "maxine",
    "dianne",
    "kirsten",
    "tammy",
    "claire",
    "heidi",
    "lindsey",
    "jill",
    "chelsea",
    "ruth",
    "sonia",
    "elena",
    "patricia",
    "jane",
    "julia",
    "emily",
    "emma",
    "olivia",
    "sophia",
    "hannah",
    "catherine",
    "katherine",
    "margaret",
    "helen",
    "sandra",
    "carol",
    "sharon",
    "deborah",
    "cynthia",
    "kathleen",
    "amanda",
    "stephanie",
    "rebecca",
    "virginia",
    "martha",
    "diane",
    "alice",
    "julie",
    "heather",
    "teresa",
    "doris",
    "gloria",
    "evelyn",
    "cheryl",
    "mildred",
    "joan",
    "judith",
    "rose",
    "janice",
    "kelly",
    "nicole",
    "judy",
    "christina",
    "kathy",
    "theresa",
    "beverly",
    "denise",
    "tammy",
    "irene",
    "jacqueline",
    "wendy",
    "lori",
    "tina",
    "marilyn",
    "andrea",
    "kim",
    "christine",
    "natalie",
    "valerie",
    "bernadette",
    "ilhan",
    "alexandria",
    "tulsi",
    "nadia",
    "fatima",
    "aisha",
    "leila",
    "marie",
    "sophie",
    "anna",
    "ana",
    "eva",
    "sara",
    "dana",
    "erin",
    "megan",
    "ashley",
];

const FEMALE_TITLES: &[&str] = &[
    "mrs",
    "ms",
    "miss",
    "spokeswoman",
    "congresswoman",
    "chairwoman",
    "queen",
    "princess",
    "businesswoman",
    "madam",
    "lady",
];

const MALE_TITLES: &[&str] = &[
    "mr",
    "spokesman",
    "congressman",
    "chairman",
    "king",
    "prince",
    "pope",
    "businessman",
    "sir",
];

const SUBJECT_PRONOUNS: &[&str] = &[
    "he", "she", "they", "i", "we", "it", "who", "which", "that", "him", "her", "them", "his",
    "their", "its", "me", "us", "you",
];

static STOP_CAPS_SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
static PERSON_TITLES_SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
static ORG_WORDS_SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
static FEMALE_NAMES_SET: OnceLock<HashSet<&'static str>> = OnceLock::new();

fn in_set(set: &OnceLock<HashSet<&'static str>>, words: &'static [&'static str], w: &str) -> bool {
    set.get_or_init(|| words.iter().copied().collect())
        .contains(w)
}

fn lower(s: &str) -> String {
    s.to_lowercase().replace('’', "'")
}

/// Strips a possessive ("Trump’s" → "Trump").
fn strip_poss(s: &str) -> &str {
    s.strip_suffix("’s")
        .or_else(|| s.strip_suffix("'s"))
        .or_else(|| s.strip_suffix('’'))
        .unwrap_or(s)
}

fn gender_of(name: &[String], desc: &[String]) -> Gender {
    for d in desc {
        if FEMALE_TITLES.contains(&d.as_str()) {
            return Gender::Female;
        }
        if MALE_TITLES.contains(&d.as_str()) {
            return Gender::Male;
        }
    }
    if name.len() >= 2 {
        let first = lower(&name[0]);
        if in_set(&FEMALE_NAMES_SET, FEMALE_NAMES, first.as_str()) {
            return Gender::Female;
        }
    }
    Gender::Unknown
}

/// Finds named mentions: runs of capitalised words (joined by "of", "for", "and", "the" when a
/// capitalised word follows), split into description (titles, affiliations) and name.
fn find_names(p: &Prepared) -> Vec<NameMention> {
    let t = &p.toks;
    let text = p.text;
    let word = |i: usize| &text[t[i].b0 as usize..t[i].b1 as usize];
    let is_cap = |i: usize| t[i].class == class::WORD && t[i].flags & flag::CAP != 0;
    let joiners: Vec<u64> = ["of", "for", "and", "on", "de"]
        .iter()
        .map(|w| crate::prep::hash_str(w))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
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
            if e < t.len()
                && t[e].class == class::STOP
                && word(e) == "."
                && e + 1 < t.len()
                && is_cap(e + 1)
                && word(e - 1).chars().count() <= 4
                && t[e].b0 == t[e - 1].b1
            {
                e += 1;
                continue;
            }
            if e + 1 < t.len()
                && joiners.contains(&t[e].w)
                && is_cap(e + 1)
                && t[e].sent == t[s].sent
            {
                e += 1;
                continue;
            }
            break;
        }
        // Words of the run (periods dropped), possessives stripped.
        let mut words: Vec<(usize, String)> = (s..e)
            .filter(|&k| t[k].class == class::WORD)
            .map(|k| (k, strip_poss(word(k)).to_string()))
            .collect();
        // Drop leading function words ("The", "But", "Monday").
        while let Some((_, w)) = words.first() {
            let lw = lower(w);
            if in_set(&STOP_CAPS_SET, STOP_CAPS, lw.as_str())
                && !matches!(lw.as_str(), "mr" | "mrs" | "ms" | "dr")
            {
                words.remove(0);
            } else {
                break;
            }
        }
        if words.is_empty() {
            i = e;
            continue;
        }
        let lw: Vec<String> = words.iter().map(|(_, w)| lower(w)).collect();
        let has_org = lw
            .iter()
            .any(|w| in_set(&ORG_WORDS_SET, ORG_WORDS, w.as_str()));
        // The last title word splits description from name: "Foreign Ministry Spokesman | Bahram
        // Qassemi".
        let mut split = 0;
        for (k, w) in lw.iter().enumerate() {
            if in_set(&PERSON_TITLES_SET, PERSON_TITLES, w.as_str()) && k + 1 < lw.len() {
                split = k + 1;
            }
        }
        // A title at the end ("Trump campaign spokesman") — no name.
        let ends_with_title = lw.last().is_some_and(|w| {
            in_set(&PERSON_TITLES_SET, PERSON_TITLES, w.as_str())
                && !in_set(&ORG_WORDS_SET, ORG_WORDS, w.as_str())
        });
        let name_words: Vec<String> = words[split..].iter().map(|(_, w)| w.clone()).collect();
        let desc: Vec<String> = lw[..split].to_vec();
        let name_has_org = lw[split..]
            .iter()
            .any(|w| in_set(&ORG_WORDS_SET, ORG_WORDS, w.as_str()));
        let kind = if name_has_org || (has_org && split == 0) {
            SpeakerKind::Organization
        } else if split > 0 || (name_words.len() >= 2 && name_words.len() <= 4) {
            SpeakerKind::Person
        } else {
            SpeakerKind::Unknown
        };
        if ends_with_title && split == 0 && !has_org {
            // "Spokesman" alone: leave it to the description rules.
            i = e;
            continue;
        }
        let first_k = words[split].0;
        let last_k = words.last().unwrap().0;
        let span = Span::new(t[first_k].span.start(), t[last_k].span.end());
        let gender = if kind == SpeakerKind::Person {
            gender_of(&name_words, &desc)
        } else {
            Gender::Unknown
        };
        out.push(NameMention {
            span,
            lname: lw[split..].to_vec(),
            name: name_words,
            desc,
            kind,
            gender,
        });
        i = e;
    }
    out
}

/// Does mention `m` name entity `e`? Same words, or `m`'s words are a tail of `e`'s name (surname),
/// or the other way round.
fn same_name(e: &Entity, b: &[String]) -> bool {
    if e.nominal || b.is_empty() || e.lname.is_empty() {
        return false;
    }
    let a = &e.lname;
    if a.last() != b.last() && a.len() > 1 && b.len() > 1 {
        // Quick reject: different surnames (initials aside).
        let ok = |v: &[String]| v.last().is_some_and(|w| w.chars().count() == 1);
        if !ok(a) && !ok(b) {
            return false;
        }
    }
    let tail = |long: &[String], short: &[String]| {
        short.len() <= long.len() && long[long.len() - short.len()..] == *short
    };
    // Middle initials: "Donald J. Trump" ~ "Donald Trump".
    let strip = |v: &[String]| -> Vec<String> {
        v.iter()
            .filter(|w| w.chars().count() > 1)
            .cloned()
            .collect()
    };
    if tail(a, b) || tail(b, a) {
        return true;
    }
    if !a.iter().chain(b).any(|w| w.chars().count() == 1) {
        return false;
    }
    let (a2, b2) = (strip(a), strip(b));
    !a2.is_empty() && (tail(&a2, &b2) || tail(&b2, &a2))
}

struct Resolver {
    ents: Vec<Entity>,
}

impl Resolver {
    fn add_name(&mut self, m: &NameMention, pos: usize) -> usize {
        // Most recent entity with a compatible name.
        let found = (0..self.ents.len())
            .filter(|&k| same_name(&self.ents[k], &m.lname))
            .max_by_key(|&k| self.ents[k].last);
        match found {
            Some(k) => {
                let e = &mut self.ents[k];
                if m.name.len() > e.name.len() {
                    e.name = m.name.clone();
                    e.lname = m.lname.clone();
                }
                for d in &m.desc {
                    if !e.desc.contains(d) {
                        e.desc.push(d.clone());
                    }
                }
                if e.kind == SpeakerKind::Unknown {
                    e.kind = m.kind;
                }
                if e.gender == Gender::Unknown {
                    e.gender = m.gender;
                }
                e.mentions.push(m.span);
                e.last = pos;
                k
            }
            None => {
                self.ents.push(Entity {
                    name: m.name.clone(),
                    lname: m.lname.clone(),
                    desc: m.desc.clone(),
                    kind: m.kind,
                    gender: m.gender,
                    mentions: vec![m.span],
                    last: pos,
                    is_speaker: false,
                    nominal: false,
                });
                self.ents.len() - 1
            }
        }
    }

    /// Most recent entity (mentioned before `pos`) accepted by `ok`.
    fn recent(&self, pos: usize, ok: impl Fn(&Entity) -> bool) -> Option<usize> {
        (0..self.ents.len())
            .filter(|&k| self.ents[k].mentions.iter().any(|m| m.start() < pos) && ok(&self.ents[k]))
            .max_by_key(|&k| {
                self.ents[k]
                    .mentions
                    .iter()
                    .filter(|m| m.start() < pos)
                    .map(|m| m.start())
                    .max()
            })
    }
}

const ORG_HEADS: &[&str] = &[
    "ministry",
    "department",
    "party",
    "committee",
    "council",
    "agency",
    "office",
    "newspaper",
    "paper",
    "network",
    "association",
    "union",
    "university",
    "institute",
    "foundation",
    "company",
    "court",
    "administration",
    "bureau",
    "service",
    "police",
    "army",
    "commission",
    "group",
    "organization",
    "government",
    "embassy",
    "campaign",
    "poll",
    "survey",
    "study",
    "report",
    "statement",
    "regime",
    "outlet",
    "site",
    "website",
    "magazine",
    "station",
    "channel",
    "firm",
    "house",
    "senate",
    "congress",
    "state",
    "country",
    "nation",
    "team",
    "ministry's",
    "board",
    "panel",
];

const GROUP_HEADS: &[&str] = &[
    "officials",
    "critics",
    "experts",
    "analysts",
    "people",
    "voters",
    "democrats",
    "republicans",
    "supporters",
    "opponents",
    "sources",
    "observers",
    "lawmakers",
    "residents",
    "members",
    "leaders",
    "activists",
    "protesters",
    "others",
    "many",
    "some",
    "americans",
    "conservatives",
    "liberals",
    "authorities",
    "investigators",
    "prosecutors",
    "police",
    "scientists",
    "researchers",
    "economists",
    "polls",
    "reports",
    "studies",
    "aides",
    "advisers",
    "diplomats",
    "sources",
    "witnesses",
    "users",
    "fans",
    "citizens",
];

/// Resolves the speakers of extracted attributions (see the module docs) and returns them with
/// their speaker ids set.
pub(crate) fn resolve(
    doc: &Document,
    p: &Prepared,
    mut atts: Vec<Attribution>,
) -> crate::Attributions {
    let names = find_names(p);
    let mut r = Resolver { ents: Vec::new() };
    // Events in text order: named mentions and source mentions (a name first when both start at the
    // same place, so a source that is a name finds its entity).
    let mut order: Vec<usize> = (0..atts.len())
        .filter(|&k| atts[k].source.is_some())
        .collect();
    order.sort_by_key(|&k| atts[k].source.unwrap().start());
    let mut ni = 0;
    let mut name_ent: Vec<Option<usize>> = vec![None; names.len()];
    let mut att_ent: Vec<Option<usize>> = vec![None; atts.len()];
    for &k in &order {
        let src = atts[k].source.unwrap();
        while ni < names.len() && names[ni].span.start() < src.end() {
            name_ent[ni] = Some(r.add_name(&names[ni], names[ni].span.start()));
            ni += 1;
        }
        let e = resolve_source(doc, p, &names, &name_ent, &r, &atts, &att_ent, k, src);
        let e = match e {
            Some(e) => e,
            None => new_nominal(doc, &mut r, src),
        };
        let ent = &mut r.ents[e];
        ent.is_speaker = true;
        if !ent.mentions.contains(&src) {
            ent.mentions.push(src);
        }
        ent.last = ent.last.max(src.start());
        att_ent[k] = Some(e);
    }
    while ni < names.len() {
        name_ent[ni] = Some(r.add_name(&names[ni], names[ni].span.start()));
        ni += 1;
    }
    // Ids and display names for speakers, in order of first mention.
    let mut spk: Vec<usize> = (0..r.ents.len())
        .filter(|&k| r.ents[k].is_speaker)
        .collect();
    spk.sort_by_key(|&k| r.ents[k].mentions.iter().map(|m| m.start()).min());
    let mut ids: Vec<Option<String>> = vec![None; r.ents.len()];
    let mut speakers = Vec::new();
    let mut used: Vec<String> = Vec::new();
    for k in spk {
        let e = &r.ents[k];
        let name = e.name.join(" ");
        let mut base: String = name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() {
                    c.to_lowercase().next().unwrap_or(c)
                } else {
                    '-'
                }
            })
            .collect();
        while base.contains("--") {
            base = base.replace("--", "-");
        }
        let base = base.trim_matches('-').to_string();
        let base = if base.is_empty() {
            "speaker".to_string()
        } else {
            base
        };
        let mut id = base.clone();
        let mut n = 2;
        while used.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        used.push(id.clone());
        ids[k] = Some(id.clone());
        let mut mentions = e.mentions.clone();
        mentions.sort();
        mentions.dedup();
        speakers.push(Speaker {
            id,
            name,
            kind: e.kind,
            mentions,
        });
    }
    for (k, a) in atts.iter_mut().enumerate() {
        a.speaker = att_ent[k].and_then(|e| ids[e].clone());
    }
    atts.sort_by_key(|a| (a.cue.start(), a.cue.end()));
    crate::Attributions {
        attributions: atts,
        speakers,
    }
}

#[allow(clippy::too_many_arguments)]
fn resolve_source(
    doc: &Document,
    p: &Prepared,
    names: &[NameMention],
    name_ent: &[Option<usize>],
    r: &Resolver,
    atts: &[Attribution],
    att_ent: &[Option<usize>],
    k: usize,
    src: Span,
) -> Option<usize> {
    // 1. A name inside the source: the first person (else the first name of any kind).
    let inside: Vec<usize> = (0..names.len())
        .filter(|&n| names[n].span.start() >= src.start() && names[n].span.end() <= src.end())
        .collect();
    if let Some(&n) = inside
        .iter()
        .find(|&&n| names[n].kind == SpeakerKind::Person)
        .or_else(|| inside.first())
    {
        return name_ent[n];
    }
    let text = doc.slice(src);
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '.'))
        .filter(|w| !w.is_empty())
        .map(|w| lower(strip_poss(w)).trim_end_matches('.').to_string())
        .collect();
    let first = words.first().map(String::as_str).unwrap_or("");
    let pos = src.start();
    // 2. Pronouns.
    if words.len() == 1 && SUBJECT_PRONOUNS.contains(&first) {
        match first {
            "i" | "me" | "we" | "us" => {
                // Inside another attribution's quotation: that speaker.
                let outer = (0..atts.len())
                    .filter(|&j| j != k && atts[j].content.iter().any(|c| c.overlap(src) > 0))
                    .filter_map(|j| att_ent[j])
                    .next_back();
                if outer.is_some() {
                    return outer;
                }
                return r.recent(pos, |e| e.kind == SpeakerKind::Person);
            }
            "he" | "him" | "his" => {
                return r
                    .recent(pos, |e| {
                        e.kind == SpeakerKind::Person && e.gender != Gender::Female
                    })
                    .or_else(|| r.recent(pos, |e| e.kind == SpeakerKind::Unknown && e.is_speaker));
            }
            "she" | "her" => {
                return r
                    .recent(pos, |e| {
                        e.kind == SpeakerKind::Person && e.gender == Gender::Female
                    })
                    .or_else(|| {
                        r.recent(pos, |e| {
                            e.kind == SpeakerKind::Person && e.gender != Gender::Male
                        })
                    });
            }
            "they" | "them" | "their" => {
                return r.recent(pos, |e| {
                    matches!(e.kind, SpeakerKind::Organization | SpeakerKind::Group)
                });
            }
            "it" | "its" => {
                return r.recent(pos, |e| {
                    matches!(e.kind, SpeakerKind::Organization | SpeakerKind::Unknown)
                });
            }
            "who" | "which" | "that" => {
                // The name right before the relative pronoun, in the same sentence.
                let t = &p.toks;
                let ti = t.partition_point(|x| x.span.start() < src.start());
                let sent = t.get(ti).map(|x| x.sent);
                let n = (0..names.len())
                    .filter(|&n| names[n].span.end() <= src.start())
                    .filter(|&n| {
                        let ni = t.partition_point(|x| x.span.start() < names[n].span.start());
                        t.get(ni).map(|x| x.sent) == sent
                    })
                    .max_by_key(|&n| names[n].span.end());
                if let Some(n) = n {
                    return name_ent[n];
                }
                return r.recent(pos, |e| e.kind == SpeakerKind::Person);
            }
            _ => return None,
        }
    }
    // 3. A description: match its head word against titles and names of earlier entities.
    let head = words.last().map(String::as_str).unwrap_or("");
    if head.is_empty() {
        return None;
    }
    let is_org_head = ORG_HEADS.contains(&head);
    let is_group = GROUP_HEADS.contains(&head);
    let matches_head =
        |e: &Entity| e.desc.iter().any(|d| d == head) || e.lname.iter().any(|w| w == head);
    if is_group {
        return r.recent(pos, |e| e.nominal && matches_head(e));
    }
    let want = |e: &Entity| {
        if is_org_head {
            e.kind == SpeakerKind::Organization || (e.nominal && e.kind != SpeakerKind::Person)
        } else {
            e.kind == SpeakerKind::Person || e.nominal
        }
    };
    let found = r.recent(pos, |e| want(e) && matches_head(e));
    if found.is_some() {
        return found;
    }
    // "the president" etc. with only titles known on a different kind: any entity with the head.
    if !is_org_head {
        if let Some(e) = r.recent(pos, |e| e.desc.iter().any(|d| d == head)) {
            return Some(e);
        }
    }
    None
}

/// A new entity named by the source text ("the ministry", "officials").
fn new_nominal(doc: &Document, r: &mut Resolver, src: Span) -> usize {
    let text = doc.slice(src);
    // Cut descriptions at the first comma or relative clause; keep at most six words.
    let cut = text
        .split([',', '(', '—', '–'])
        .next()
        .unwrap_or(text)
        .trim();
    let words: Vec<String> = cut.split_whitespace().take(6).map(str::to_string).collect();
    let head = words
        .last()
        .map(|w| lower(strip_poss(w)))
        .unwrap_or_default();
    let kind = if ORG_HEADS.contains(&head.as_str()) {
        SpeakerKind::Organization
    } else if GROUP_HEADS.contains(&head.as_str()) {
        SpeakerKind::Group
    } else if SUBJECT_PRONOUNS.contains(&head.as_str()) {
        SpeakerKind::Unknown
    } else {
        SpeakerKind::Person
    };
    let gender = if words
        .iter()
        .any(|w| FEMALE_TITLES.contains(&lower(w).as_str()))
    {
        Gender::Female
    } else {
        Gender::Unknown
    };
    let mut name = words;
    if let Some(f) = name.first_mut() {
        if matches!(f.as_str(), "The" | "A" | "An") {
            *f = f.to_lowercase();
        }
    }
    r.ents.push(Entity {
        lname: name.iter().map(|w| lower(w)).collect(),
        name,
        desc: vec![head],
        kind,
        gender,
        mentions: Vec::new(),
        last: src.start(),
        is_speaker: false,
        nominal: true,
    });
    r.ents.len() - 1
}
