//! Whose voice, v2 (issue 15): typed sources, resolution and coverage, each construction on short
//! articles written for these tests (not corpus text), through the shipped model.

use rhetor_attribution::{Attributions, Attributor, SpeakerKind, Voice};
use rhetor_core::{Document, Span};

/// One spokesman quoted throughout, with places and adjectives around him.
const AKSOY: &str = "Border incidents raise tension in the Aegean

ANKARA — Foreign Ministry spokesman Hami Aksoy on Thursday accused Greece of provoking tension in the Aegean, underlining that Turkey would defend its rights at sea.

\"Greece must stop these provocations immediately,\" Aksoy said in a written statement.

As said earlier, the ministry has called for dialogue. As a result, the talks in Brussels were postponed.

The spokesman added that the Turkish navy had monitored every movement of the Greek vessels, saying that the patrols would continue.

Tension has also risen around Cyprus. Aksoy noted that the Greek Cypriot administration was acting irresponsibly.

He argued that the dispute could be solved by talks, and he stressed that Ankara had always been open to them.

\"We will not accept any fait accompli in the Eastern Mediterranean. Our patience is not without limits,
";

/// A role noun with a lower-case title, an organisation and its pronoun, a woman and her pronoun.
const LOPEZ: &str = "City hall defends water plan

Interior Ministry spokeswoman Maria Lopez said on Monday that the new water plan would protect every household.

The ministry said it had consulted farmers before the decision. It added that the costs would be shared.

Critics disagree. The plan is \"a gift to the big developers,\" said Tom Becker, a local activist.

The spokeswoman rejected the criticism, adding that the numbers had been checked twice.

Lopez argued that the plan was fair, and she wrote that the council had approved it unanimously.
";

const LETTER: &str = "Letters: the bridge can wait

\"The council should repair the schools before it builds a bridge that nobody asked for.\"
— Anna Kowalski, Dalton

Readers wrote in large numbers this week.
";

fn extract(text: &str) -> (Document, Attributions) {
    let doc = Document::new(text).unwrap();
    let atts = Attributor::shared().extract(&doc);
    (doc, atts)
}

fn find(text: &str, needle: &str) -> Span {
    let b = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in text"));
    let s = text[..b].chars().count();
    Span::new(s, s + needle.chars().count())
}

/// The display name of the speaker whose voice `needle` is in.
fn voice(text: &str, atts: &Attributions, needle: &str) -> Voice {
    atts.voice(find(text, needle))
}

fn quoted(name: &str) -> Voice {
    Voice::Quoted {
        speaker: name.into(),
    }
}

#[test]
fn one_spokesman_quoted_throughout() {
    let (_, atts) = extract(AKSOY);
    let aksoy = quoted("Hami Aksoy");
    for said in [
        "Greece of provoking tension",
        "Turkey would defend its rights at sea",
        "Greece must stop these provocations",
        "the Turkish navy had monitored every movement",
        "the patrols would continue",
        "the Greek Cypriot administration was acting irresponsibly",
        "the dispute could be solved by talks",
        "Ankara had always been open to them",
        "Our patience is not without limits",
    ] {
        assert_eq!(voice(AKSOY, &atts, said), aksoy, "{said:?}");
    }
    // The narration stays the outlet's.
    for own in [
        "the talks in Brussels were postponed",
        "Tension has also risen",
    ] {
        assert_eq!(voice(AKSOY, &atts, own), Voice::Author, "{own:?}");
    }
    // No place, adjective or discourse marker is a speaker.
    let names: Vec<&str> = atts.speakers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["Foreign Ministry", "Hami Aksoy"],
        "{:?}",
        atts.speakers
    );
    let a = atts
        .speakers
        .iter()
        .find(|s| s.name == "Hami Aksoy")
        .unwrap();
    assert_eq!(a.kind, SpeakerKind::Person);
    assert_eq!(atts.speakers[0].kind, SpeakerKind::Organization);
}

#[test]
fn participle_clause_takes_the_main_subject() {
    let (doc, atts) = extract(AKSOY);
    let a = atts
        .attributions
        .iter()
        .find(|a| doc.slice(a.cue) == "underlining")
        .expect("the participle cue");
    assert_eq!(
        doc.slice(a.source.unwrap()),
        "Foreign Ministry spokesman Hami Aksoy"
    );
    // "The spokesman added that X, saying that Y": the participle's content lies inside the main
    // clause's, which keeps it (nested copies are merged); it is the spokesman's either way.
    let patrols = find(AKSOY, "the patrols would continue");
    let holder = atts
        .attributions
        .iter()
        .find(|a| {
            a.content
                .iter()
                .any(|c| c.overlap(patrols) == patrols.len())
        })
        .expect("an attribution holding the participle's content");
    assert_eq!(doc.slice(holder.source.unwrap()), "The spokesman");
    assert_eq!(
        voice(AKSOY, &atts, "the patrols would continue"),
        quoted("Hami Aksoy")
    );
}

#[test]
fn as_said_earlier_is_no_source() {
    let (doc, atts) = extract(AKSOY);
    for a in &atts.attributions {
        if let Some(s) = a.source {
            assert!(!doc.slice(s).starts_with("As"), "{:?}", doc.slice(s));
        }
    }
    let (doc, atts) =
        extract("As said earlier, prices will rise. As a result, people will suffer.\n");
    for a in &atts.attributions {
        assert!(a.source.is_none(), "{:?}", a.source.map(|s| doc.slice(s)));
    }
    assert!(atts.speakers.is_empty());
}

#[test]
fn pronouns_agree_with_their_antecedents() {
    // "he" after "Cyprus" and "Greek Cypriot": the spokesman, not the place or the adjective.
    let (_, atts) = extract(AKSOY);
    assert_eq!(
        voice(AKSOY, &atts, "the dispute could be solved"),
        quoted("Hami Aksoy")
    );
    // "It" after a woman and an organisation: the organisation.
    let (_, atts) = extract(LOPEZ);
    assert_eq!(
        voice(LOPEZ, &atts, "the costs would be shared"),
        quoted("Interior Ministry")
    );
    let m = atts
        .speakers
        .iter()
        .find(|s| s.name == "Interior Ministry")
        .unwrap();
    assert_eq!(m.kind, SpeakerKind::Organization);
    // "she": the woman.
    assert_eq!(
        voice(LOPEZ, &atts, "the council had approved it unanimously"),
        quoted("Maria Lopez")
    );
}

/// A quote of several sentences before its cue, and a people named by a plural near a pronoun.
const NICOSIA: &str = "Ankara rejects the offshore deal

Foreign Ministry spokesman Hami Aksoy said the deal was an attempt to ignore the Turkish Cypriots.

\"We will not bow to threats. We will defend our rights to the end,\" he noted, adding that the world must see the truth.
";

#[test]
fn a_quote_of_several_sentences_is_all_the_speakers() {
    let (doc, atts) = extract(NICOSIA);
    let aksoy = quoted("Hami Aksoy");
    // The first sentence of the quote as well as the one next to the cue.
    for said in [
        "We will not bow to threats",
        "We will defend our rights",
        "the world must see the truth",
    ] {
        assert_eq!(voice(NICOSIA, &atts, said), aksoy, "{said:?}");
    }
    let a = atts
        .attributions
        .iter()
        .find(|a| doc.slice(a.cue) == "noted")
        .expect("the cue \"noted\"");
    let first = find(NICOSIA, "\"We will not bow");
    assert!(
        a.content.iter().any(|c| c.start() == first.start()),
        "the content starts at the opening quote mark: {:?}",
        a.content.iter().map(|&c| doc.slice(c)).collect::<Vec<_>>()
    );
}

#[test]
fn a_people_named_by_a_plural_is_a_group_that_he_does_not_refer_to() {
    // "Turkish Cypriots" comes between the spokesman and "he": two capitalised words, once taken
    // for a person's name.
    let (_, atts) = extract(NICOSIA);
    let names: Vec<&str> = atts.speakers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Ankara", "Hami Aksoy"], "{:?}", atts.speakers);
    // Spoken of as a source, such a people is a group.
    let (doc, atts) = extract("Palestinians said the checkpoint had been closed for a week.\n");
    let a = atts.attributions.first().expect("one attribution");
    assert_eq!(doc.slice(a.source.unwrap()), "Palestinians");
    let who = atts.speaker(a.speaker.as_deref().unwrap()).unwrap();
    assert_eq!(who.kind, SpeakerKind::Group, "{who:?}");
}

/// Speakers as a reader of British and American political news would list them.
const WESTMINSTER: &str = "MPs return to the deal

\"I will vote against it,\" Conservative MP and top Brexiteer Jacob Rees-Mogg said on Tuesday.

Real Time host Bill Maher said the vote was a farce. Professor Anand Menon of King's College London said the numbers were clear.

UKIP said it would stand candidates. Tory MPs said they would not back the deal.

The party consistently bleated that it honoured the result, although obviously hoping to sabotage it.

Five Trump aides said they had cooperated. The Trump administration said the report was a hoax. Sen. Chuck Grassley, the committee's chairman, said the hearing would go ahead.

A study of more than 1,000 Labour members found that most wanted a second vote.
";

#[test]
fn speakers_are_the_heads_of_their_phrases_and_typed() {
    let (_, atts) = extract(WESTMINSTER);
    let kind_of = |name: &str| {
        atts.speakers
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no speaker {name:?} in {:?}", atts.speakers))
            .kind
    };
    // The name a title ("MP", "Brexiteer", "host") describes, not the words before it, nor a
    // name inside a modifier ("of King's College London").
    assert_eq!(
        voice(WESTMINSTER, &atts, "I will vote against it"),
        quoted("Jacob Rees-Mogg")
    );
    assert_eq!(
        voice(WESTMINSTER, &atts, "the vote was a farce"),
        quoted("Bill Maher")
    );
    assert_eq!(
        voice(WESTMINSTER, &atts, "the numbers were clear"),
        quoted("Anand Menon")
    );
    assert_eq!(kind_of("Jacob Rees-Mogg"), SpeakerKind::Person);
    // An acronym is an organisation; a plural of people is a group.
    assert_eq!(kind_of("UKIP"), SpeakerKind::Organization);
    assert_eq!(kind_of("Tory MPs"), SpeakerKind::Group);
    // A name that only modifies the head of its phrase is not the speaker; an apposition after a
    // comma does not change the head; a description is cut before "of" and at a comma that is
    // not inside a number.
    assert_eq!(kind_of("Five Trump aides"), SpeakerKind::Group);
    assert_eq!(
        kind_of("the Trump administration"),
        SpeakerKind::Organization
    );
    assert_eq!(
        voice(WESTMINSTER, &atts, "the hearing would go ahead"),
        quoted("Chuck Grassley")
    );
    assert_eq!(
        voice(WESTMINSTER, &atts, "most wanted a second vote"),
        quoted("a study")
    );
    // No adverb is a speaker ("obviously hoping").
    let names: Vec<&str> = atts.speakers.iter().map(|s| s.name.as_str()).collect();
    for junk in [
        "Real Time",
        "College London",
        "obviously",
        "Brexiteer Jacob Rees-Mogg",
    ] {
        assert!(!names.contains(&junk), "{junk:?} in {names:?}");
    }
}

/// A surname that is also a function word, a title joined by "of", a name quoted by its speaker.
const COMMONS: &str = "May faces defeat in the Commons

Prime Minister Theresa May met her cabinet on Monday.

May told a packed House of Commons that \"we have a duty to deliver on the choices of the British people.\"

Environment Secretary Michael Gove sought to rally the party, using a Game of Thrones reference.

\"In the words of Jon Snow, 'winter is coming,'\" he said on the radio.
";

#[test]
fn surnames_titles_and_quoted_names_resolve_to_the_speaker() {
    let (_, atts) = extract(COMMONS);
    // "May told …": the surname of a name met before, not the modal verb.
    assert_eq!(
        voice(COMMONS, &atts, "we have a duty to deliver"),
        quoted("Theresa May")
    );
    // "he" is the man who quotes Jon Snow, not Jon Snow, nor the "Game of Thrones" (a name joined
    // by "of" with no title is no person).
    assert_eq!(
        voice(COMMONS, &atts, "winter is coming"),
        quoted("Michael Gove")
    );
    let names: Vec<&str> = atts.speakers.iter().map(|s| s.name.as_str()).collect();
    for junk in ["Jon Snow", "Game of Thrones"] {
        assert!(!names.contains(&junk), "{junk:?} in {names:?}");
    }
}

#[test]
fn role_noun_resolves_to_its_named_holder() {
    let (_, atts) = extract(LOPEZ);
    assert_eq!(
        voice(LOPEZ, &atts, "the numbers had been checked twice"),
        quoted("Maria Lopez")
    );
    let lopez: Vec<_> = atts
        .speakers
        .iter()
        .filter(|s| s.name.contains("Lopez") || s.name.contains("spokeswoman"))
        .collect();
    assert_eq!(lopez.len(), 1, "{:?}", atts.speakers);
    // Display name: the fullest mention, without the title.
    assert_eq!(lopez[0].name, "Maria Lopez");
    // A role noun with no named holder: the most recent person who spoke.
    let (_, atts) = extract(AKSOY);
    assert_eq!(
        voice(AKSOY, &atts, "the Turkish navy had monitored"),
        quoted("Hami Aksoy")
    );
}

#[test]
fn coordinated_clauses_each_get_their_cue() {
    let (doc, atts) = extract(LOPEZ);
    let wrote = atts
        .attributions
        .iter()
        .find(|a| doc.slice(a.cue) == "wrote")
        .expect("the second clause's cue");
    assert_eq!(doc.slice(wrote.source.unwrap()), "she");
    let b = find(LOPEZ, "the council had approved it unanimously");
    assert!(wrote.content.iter().any(|c| c.overlap(b) == b.len()));
    assert_eq!(
        voice(LOPEZ, &atts, "the plan was fair"),
        quoted("Maria Lopez")
    );
}

#[test]
fn open_quote_at_the_end_is_the_last_speakers() {
    let (doc, atts) = extract(AKSOY);
    let a = atts
        .attributions
        .iter()
        .find(|a| {
            a.content
                .iter()
                .any(|&c| doc.slice(c).contains("Our patience"))
        })
        .expect("the open quote");
    assert!(a.direct);
    let first = find(AKSOY, "We will not accept any fait accompli");
    assert!(a.content.iter().any(|c| c.overlap(first) == first.len()));
}

#[test]
fn signature_after_a_quote() {
    let (doc, atts) = extract(LETTER);
    let a = atts
        .attributions
        .iter()
        .find(|a| doc.slice(a.cue) == "—")
        .expect("the signature");
    assert_eq!(doc.slice(a.source.unwrap()), "Anna Kowalski");
    assert_eq!(
        voice(LETTER, &atts, "repair the schools"),
        quoted("Anna Kowalski")
    );
    assert_eq!(voice(LETTER, &atts, "Readers wrote"), Voice::Author);
    // A dash in narration is no signature.
    let (_, atts) = extract("The vote — Anna Kowalski\nwas close.\n");
    assert!(atts.attributions.is_empty());
}

/// Reader quotes signed with a horizontal bar (U+2015), as some outlets print them, with and
/// without a space after the closing quote and a no-break space before the name.
#[test]
fn signature_with_a_horizontal_bar() {
    let text = "Readers sent us their thoughts on the debate.\n                \u{201c}He is ignorant of our culture and lives.\u{201d}\u{2015} Pamela Padilla\u{a0}\n                \u{201c}I cannot believe a man with no credentials is the nominee.\u{201d}\u{a0}\u{2015} Jacklyn Ashley\n\
                \u{201c}We are hard-working, tax-paying entrepreneurs.\u{201d}\u{2015} Carla Sanchez.\n";
    let (doc, atts) = extract(text);
    let signed: Vec<(&str, &str)> = atts
        .attributions
        .iter()
        .filter(|a| doc.slice(a.cue) == "\u{2015}")
        .map(|a| (doc.slice(a.source.unwrap()), doc.slice(a.content[0])))
        .collect();
    assert_eq!(signed.len(), 3, "{:?}", atts.attributions);
    assert_eq!(signed[0].0, "Pamela Padilla");
    assert!(signed[0].1.contains("ignorant of our culture"));
    assert_eq!(signed[1].0, "Jacklyn Ashley");
    // A full stop after the name still ends the line.
    assert_eq!(signed[2].0, "Carla Sanchez");
    assert_eq!(
        voice(text, &atts, "no credentials"),
        quoted("Jacklyn Ashley")
    );
    assert_eq!(voice(text, &atts, "Readers sent us"), Voice::Author);
}

#[test]
fn a_country_that_speaks_is_its_government() {
    let (_, atts) = extract("Turkey said on Monday that the border would stay closed.\n");
    assert_eq!(atts.speakers.len(), 1, "{:?}", atts.speakers);
    assert_eq!(atts.speakers[0].name, "Turkey");
    assert_eq!(atts.speakers[0].kind, SpeakerKind::Organization);
}

/// PTC's layout: one sentence per line, paragraphs parted by blank lines.
const HARBOUR: &str = "Harbour deal collapses

The harbour board walked away from the deal on Friday.
Board chairman Peter Lindqvist spoke to reporters after the vote.
“The buyers lied to us from the first day,” he said.
“They never had the money.
Nobody on this board will trust them again.”
“We owe the town an apology.”

“The workers deserve better than this.”
Lindqvist added.
Union leader Sara Holm was not surprised.
'We warned the board about these people months ago,' she said.
''It is a scandal from start to finish,'' said Holm.
";

#[test]
fn one_sentence_per_line_quotes_and_single_quotes_keep_their_speakers() {
    let (_, atts) = extract(HARBOUR);
    let lindqvist = quoted("Peter Lindqvist");
    let holm = quoted("Sara Holm");
    // A quotation of several lines, and the quoted lines after it: his.
    assert_eq!(voice(HARBOUR, &atts, "The buyers lied to us"), lindqvist);
    assert_eq!(voice(HARBOUR, &atts, "They never had the money"), lindqvist);
    assert_eq!(voice(HARBOUR, &atts, "Nobody on this board"), lindqvist);
    assert_eq!(
        voice(HARBOUR, &atts, "We owe the town an apology"),
        lindqvist
    );
    // A quotation, then a line that only says whose it was.
    assert_eq!(
        voice(HARBOUR, &atts, "The workers deserve better"),
        lindqvist
    );
    // The narration between stays the outlet's.
    assert_eq!(voice(HARBOUR, &atts, "was not surprised"), Voice::Author);
    // Single quotes, and two apostrophes as one double quote.
    assert_eq!(voice(HARBOUR, &atts, "We warned the board"), holm);
    assert_eq!(voice(HARBOUR, &atts, "It is a scandal"), holm);
}
