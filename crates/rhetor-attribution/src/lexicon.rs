//! The word lists (`data/*.txt`, one file per concept, each word in one file) as hashed sets,
//! loaded once and shared by the taggers' features and the speaker resolver. A set a stage asks
//! about may be the union of several files (the cue tagger's titles are the honorifics, the titles
//! and a few words of its own).

use rhetor_core::sentence::word_list;
use std::sync::OnceLock;

/// A set of word hashes.
#[derive(Debug, Clone)]
pub(crate) struct WordSet {
    /// Open addressing with linear probing, at most half full; 0 marks an empty slot, so a hash
    /// of 0 is kept aside in `zero`. The hashes are already well mixed: the top bits pick a slot.
    /// A lookup is one or two probes, where a sorted list took a dozen (the taggers and the
    /// speaker resolver ask these sets about every token).
    slots: Box<[u64]>,
    shift: u32,
    zero: bool,
    sorted: Vec<u64>,
}

impl WordSet {
    pub fn new(mut v: Vec<u64>) -> WordSet {
        v.sort_unstable();
        v.dedup();
        let size = (2 * v.len()).next_power_of_two().max(16);
        let mask = size - 1;
        let shift = 64 - size.trailing_zeros();
        let mut slots = vec![0u64; size].into_boxed_slice();
        let mut zero = false;
        for &h in &v {
            if h == 0 {
                zero = true;
                continue;
            }
            let mut i = (h >> shift) as usize;
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = h;
        }
        WordSet {
            slots,
            shift,
            zero,
            sorted: v,
        }
    }

    #[inline]
    pub fn contains(&self, h: u64) -> bool {
        if h == 0 {
            return self.zero;
        }
        let mask = self.slots.len() - 1;
        let mut i = (h >> self.shift) as usize;
        loop {
            let s = self.slots[i];
            if s == h {
                return true;
            }
            if s == 0 {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The hashes, sorted.
    pub fn as_slice(&self) -> &[u64] {
        &self.sorted
    }
}

pub(crate) const fn fx(mut h: u64, x: u64) -> u64 {
    h = (h.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    h
}

pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in s.bytes() {
        h = fx(h, b as u64);
    }
    fx(h, 0xff)
}

/// A word's key: lower case, curly apostrophes straightened, a possessive ('s) and a final period
/// dropped, hashed. No allocation. For a lower-case word with neither, the same as [`hash_str`]
/// (a token's lower-case hash).
pub(crate) fn key(w: &str) -> u64 {
    let w = w
        .strip_suffix("’s")
        .or_else(|| w.strip_suffix("'s"))
        .or_else(|| w.strip_suffix('’'))
        .unwrap_or(w);
    let w = w.strip_suffix('.').unwrap_or(w);
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut buf = [0u8; 4];
    for c in w.chars() {
        if c.is_ascii() {
            h = fx(h, c.to_ascii_lowercase() as u64);
        } else if c == '’' || c == '‘' {
            h = fx(h, b'\'' as u64);
        } else {
            for l in c.to_lowercase() {
                for &b in l.encode_utf8(&mut buf).as_bytes() {
                    h = fx(h, b as u64);
                }
            }
        }
    }
    fx(h, 0xff)
}

/// [`key`] of a word whose lower-case hash (as a token's, curly apostrophes straightened) is
/// `lower`: the same value, without hashing again, unless [`key`] would strip something.
pub(crate) fn key_from_lower(w: &str, lower: u64) -> u64 {
    if w.ends_with("'s") || w.ends_with('’') || w.ends_with("’s") || w.ends_with('.') {
        key(w)
    } else {
        lower
    }
}

/// The list files.
mod file {
    pub const HONORIFICS: &str = include_str!("../data/honorifics.txt");
    pub const PRONOUNS: &str = include_str!("../data/pronouns.txt");
    pub const OBJECT_PRONOUNS: &str = include_str!("../data/object-pronouns.txt");
    pub const TITLES: &str = include_str!("../data/titles.txt");
    pub const TAGGER_TITLES: &str = include_str!("../data/tagger-titles.txt");
    pub const NAME_TITLES: &str = include_str!("../data/name-titles.txt");
    pub const STOP_WORDS: &str = include_str!("../data/stop-words.txt");
    pub const ORG_NOUNS: &str = include_str!("../data/org-nouns.txt");
    pub const ORG_NAMES: &str = include_str!("../data/org-names.txt");
    pub const ORG_DESCRIPTIONS: &str = include_str!("../data/org-descriptions.txt");
    pub const GROUP_HEADS: &str = include_str!("../data/group-heads.txt");
    pub const FEMALE_NAMES: &str = include_str!("../data/female-names.txt");
    pub const FEMALE_TITLES: &str = include_str!("../data/female-titles.txt");
    pub const MALE_TITLES: &str = include_str!("../data/male-titles.txt");
    pub const CUE_WORDS: &str = include_str!("../data/cue-words.txt");
    pub const CUE_OPENERS: &str = include_str!("../data/cue-openers.txt");
    pub const PLACES: &str = include_str!("../data/places.txt");
    pub const PLACE_WORDS: &str = include_str!("../data/place-words.txt");
    pub const DEMONYMS: &str = include_str!("../data/demonyms.txt");
    pub const NON_SOURCES: &str = include_str!("../data/non-sources.txt");
}

/// The sets the stages ask about, by word key (see [`key`]).
pub(crate) struct Lexicon {
    /// The cue tagger's pronoun flag.
    pub pronouns: WordSet,
    /// The cue tagger's title flag.
    pub tagger_titles: WordSet,
    /// Both sets in one: most tokens are in neither, and one probe tells.
    pub pronouns_or_titles: WordSet,
    /// Honorifics ("mr"): a name may start with one.
    pub honorifics: WordSet,
    /// Capitalised words that start no name.
    pub stop: WordSet,
    /// Title words that split a name from its description.
    pub titles: WordSet,
    /// Words that make a name an organisation.
    pub org: WordSet,
    /// Heads of descriptions of organisations.
    pub org_heads: WordSet,
    /// Heads of descriptions of groups.
    pub group_heads: WordSet,
    /// Female first names.
    pub female_names: WordSet,
    /// Female titles.
    pub female_titles: WordSet,
    /// Male titles.
    pub male_titles: WordSet,
    /// Lemma hashes of the cue words (see [`crate::prep::lemma`]).
    pub cue_words: WordSet,
    /// Token hashes of words that open a cue but are not its head.
    pub cue_openers: WordSet,
    /// Names of countries, capitals and regions.
    pub places: WordSet,
    /// Words that make a name a geographic place ("sea", "province", "eastern").
    pub place_words: WordSet,
    /// Adjectives of nationality, religion and politics.
    pub demonyms: WordSet,
    /// Function words and discourse-marker words: a source made only of these names no one.
    pub non_sources: WordSet,
}

fn set(files: &[&str]) -> WordSet {
    WordSet::new(files.iter().flat_map(|f| word_list(f)).map(key).collect())
}

/// The lists, loaded once per process.
pub(crate) fn lexicon() -> &'static Lexicon {
    use file::*;
    static L: OnceLock<Lexicon> = OnceLock::new();
    L.get_or_init(|| Lexicon {
        pronouns: set(&[PRONOUNS, OBJECT_PRONOUNS]),
        tagger_titles: set(&[HONORIFICS, TITLES, TAGGER_TITLES]),
        pronouns_or_titles: set(&[PRONOUNS, OBJECT_PRONOUNS, HONORIFICS, TITLES, TAGGER_TITLES]),
        honorifics: set(&[HONORIFICS]),
        stop: set(&[STOP_WORDS, PRONOUNS, HONORIFICS]),
        titles: set(&[HONORIFICS, TITLES, NAME_TITLES]),
        org: set(&[ORG_NOUNS, ORG_NAMES]),
        org_heads: set(&[ORG_NOUNS, ORG_DESCRIPTIONS]),
        group_heads: set(&[GROUP_HEADS]),
        female_names: set(&[FEMALE_NAMES]),
        female_titles: set(&[FEMALE_TITLES]),
        male_titles: set(&[MALE_TITLES]),
        cue_words: WordSet::new(
            word_list(CUE_WORDS)
                .map(|w| hash_str(crate::prep::lemma(w)))
                .collect(),
        ),
        // Compared with a token's lower-case hash, which keeps a possessive: not `key`.
        cue_openers: WordSet::new(
            word_list(CUE_OPENERS)
                .map(|w| hash_str(&w.replace('’', "'")))
                .collect(),
        ),
        places: set(&[PLACES]),
        place_words: set(&[PLACE_WORDS]),
        demonyms: set(&[DEMONYMS]),
        non_sources: set(&[STOP_WORDS, NON_SOURCES]),
    })
}

impl Default for WordSet {
    fn default() -> WordSet {
        WordSet::new(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probing table answers as the sorted list does: members (0 and colliding top bits
    /// included) are found, and nothing else is.
    #[test]
    fn word_set_finds_members_only() {
        let mut h = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            h = fx(h, 1);
            h
        };
        let mut members: Vec<u64> = (0..700).map(|_| next()).collect();
        // Same top bits, different low bits: they share a first slot.
        members.extend([0, 1, 2, u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) | 5]);
        let set = WordSet::new(members.clone());
        assert_eq!(set.len(), members.len());
        for &m in &members {
            assert!(set.contains(m), "{m:#x}");
        }
        let mut sorted = members.clone();
        sorted.sort_unstable();
        for _ in 0..20_000 {
            let x = next();
            assert_eq!(set.contains(x), sorted.binary_search(&x).is_ok());
        }
        for x in [3, 4, u64::MAX - 2, (1 << 63) | 1] {
            assert!(!set.contains(x));
        }
        let empty = WordSet::default();
        assert!(!empty.contains(0) && !empty.contains(42) && empty.len() == 0);
        let zero_only = WordSet::new(vec![0]);
        assert!(zero_only.contains(0) && !zero_only.contains(1));
    }

    /// The tagger's sets are matched against a token's plain lower-case hash: their words must
    /// hash the same through `key`.
    #[test]
    fn tagger_words_need_no_key_normalisation() {
        use file::*;
        for f in [HONORIFICS, PRONOUNS, OBJECT_PRONOUNS, TITLES, TAGGER_TITLES] {
            for w in word_list(f) {
                assert_eq!(key(w), hash_str(w), "{w}");
            }
        }
    }

    /// One list per concept: no word is in two files that a set unites.
    #[test]
    fn united_files_do_not_overlap() {
        use file::*;
        let groups: [&[&str]; 8] = [
            &[PRONOUNS, OBJECT_PRONOUNS],
            &[HONORIFICS, TITLES, TAGGER_TITLES],
            &[STOP_WORDS, PRONOUNS, HONORIFICS],
            &[HONORIFICS, TITLES, NAME_TITLES],
            &[ORG_NOUNS, ORG_NAMES],
            &[ORG_NOUNS, ORG_DESCRIPTIONS],
            &[PLACES, PLACE_WORDS],
            &[STOP_WORDS, NON_SOURCES],
        ];
        for g in groups {
            let mut all: Vec<u64> = g.iter().flat_map(|f| word_list(f)).map(key).collect();
            let n = all.len();
            all.sort_unstable();
            all.dedup();
            assert_eq!(all.len(), n);
        }
        let l = lexicon();
        assert!(l.stop.contains(key("Mr.")) && l.titles.contains(key("Spokesman")));
        assert!(l.org.contains(key("Ministry’s")) && !l.org_heads.contains(key("Reuters")));
    }
}
