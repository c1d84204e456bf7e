//! The 14 propaganda techniques of the PTC corpus (SemEval-2020 Task 11).

use crate::error::Error;
use serde::{Deserialize, Serialize};

macro_rules! techniques {
    ($( $var:ident => $name:literal, $color:literal, $def:literal, $ex:literal; )*) => {
        /// A propaganda technique. `name()` is the exact PTC spelling, used in every output.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)]
        pub enum Technique { $( $var, )* }

        impl Technique {
            /// All techniques, in the PTC file's (alphabetical) order.
            pub const ALL: [Technique; 14] = [ $( Technique::$var, )* ];

            /// The name exactly as PTC writes it, e.g. `Name_Calling,Labeling`.
            pub fn name(self) -> &'static str {
                match self { $( Technique::$var => $name, )* }
            }

            /// One sentence saying what the technique is.
            pub fn definition(self) -> &'static str {
                match self { $( Technique::$var => $def, )* }
            }

            /// A short made-up example of the technique.
            pub fn example(self) -> &'static str {
                match self { $( Technique::$var => $ex, )* }
            }

            /// A colour for highlights (CSS hex), distinct per technique.
            pub fn color(self) -> &'static str {
                match self { $( Technique::$var => $color, )* }
            }
        }
    };
}

techniques! {
    AppealToAuthority => "Appeal_to_Authority", "#4e79a7",
        "Claiming something is true only because an authority or expert says so, without other evidence.",
        "Top scientists agree, so there is nothing left to discuss.";
    AppealToFearPrejudice => "Appeal_to_fear-prejudice", "#e15759",
        "Building support for an idea by stirring anxiety or panic about an alternative, or by playing on prejudice.",
        "If this bill passes, criminals will walk into your home.";
    BandwagonReductioAdHitlerum => "Bandwagon,Reductio_ad_hitlerum", "#b07aa1",
        "Urging people to join a side because everyone else does, or rejecting an idea because a hated group supports it.",
        "Millions have already switched; the dictator liked the plan too.";
    BlackAndWhiteFallacy => "Black-and-White_Fallacy", "#76b7b2",
        "Presenting two alternatives as the only possibilities when more exist.",
        "You are either with our party or against the nation.";
    CausalOversimplification => "Causal_Oversimplification", "#59a14f",
        "Pinning a complex outcome on a single cause.",
        "Crime went up the day the new mayor took office.";
    Doubt => "Doubt", "#edc948",
        "Questioning the credibility of someone or something to undermine it.",
        "Can we really trust a minister who changes his mind every week?";
    ExaggerationMinimisation => "Exaggeration,Minimisation", "#f28e2b",
        "Making something look much bigger, better or worse than it is, or far less important than it is.",
        "The greatest economic disaster in human history.";
    FlagWaving => "Flag-Waving", "#ff9da7",
        "Justifying an idea by appealing to patriotism or to a group's identity.",
        "Every true patriot will stand behind this law.";
    LoadedLanguage => "Loaded_Language", "#d4a6c8",
        "Using words with strong emotional charge to sway the reader.",
        "A shameful, cowardly surrender.";
    NameCallingLabeling => "Name_Calling,Labeling", "#9c755f",
        "Attaching a label the audience fears, hates or admires to a person or group.",
        "That gang of traitors in the capital.";
    Repetition => "Repetition", "#bab0ac",
        "Saying the same message again and again until the audience accepts it.",
        "Secure borders. Secure jobs. Secure borders, now.";
    Slogans => "Slogans", "#86bcb6",
        "A short, striking phrase that packs in labels and stereotypes.",
        "Take back our streets!";
    ThoughtTerminatingCliches => "Thought-terminating_Cliches", "#8cd17d",
        "A stock phrase that discourages critical thought and ends the discussion.",
        "It is what it is.";
    WhataboutismStrawMenRedHerring => "Whataboutism,Straw_Men,Red_Herring", "#a0cbe8",
        "Deflecting criticism by pointing at the opponent's hypocrisy, misrepresenting their position, or changing the subject.",
        "And what about the scandals of the last government?";
}

impl Technique {
    /// Position in [`Technique::ALL`] (a dense index for model outputs).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The technique at `i` in [`Technique::ALL`].
    pub fn from_index(i: usize) -> Option<Technique> {
        Technique::ALL.get(i).copied()
    }
}

impl std::str::FromStr for Technique {
    type Err = Error;
    fn from_str(s: &str) -> Result<Technique, Error> {
        Technique::ALL
            .iter()
            .copied()
            .find(|t| t.name() == s)
            .ok_or_else(|| Error::UnknownTechnique(s.to_string()))
    }
}

impl std::fmt::Display for Technique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Technique {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Technique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Technique, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_ptc_file() {
        let ptc = rhetor_testkit::require!(rhetor_testkit::ptc());
        let file = std::fs::read_to_string(ptc.join("techniques.txt")).unwrap();
        let names: Vec<&str> = file.lines().filter(|l| !l.trim().is_empty()).collect();
        let ours: Vec<&str> = Technique::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(names, ours);
    }

    #[test]
    fn parse_roundtrip_and_unknown() {
        for t in Technique::ALL {
            assert_eq!(t.name().parse::<Technique>().unwrap(), t);
            assert_eq!(Technique::from_index(t.index()), Some(t));
        }
        let err = "Loaded_language".parse::<Technique>().unwrap_err();
        assert!(err.to_string().contains("unknown technique"));
    }
}
