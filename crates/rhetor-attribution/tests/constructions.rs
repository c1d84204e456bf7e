//! Each construction of issue 5 on short articles written for these tests (not corpus text), run
//! through the shipped model.

use rhetor_attribution::{Attribution, Attributions, Attributor, SpeakerKind, Voice};
use rhetor_core::{Document, Span};
use rhetor_model::ModelKind;

const IRAN: &str = "Iran rejects new sanctions

TEHRAN — Foreign Ministry Spokesman Bahram Qassemi on Monday condemned the new sanctions announced by Washington.

\"These sanctions are a crime against the Iranian people,\" Qassemi said at his weekly press conference.

“The occupying regime will pay for its aggression,” he said, “and its allies will regret it.”

The spokesman underlined that Tehran would continue to honour the nuclear deal.

According to the ministry, the measures violate international law.

Qassemi also told reporters that the country was ready for talks. The talks were postponed last month. He said the European side had failed to keep its promises.
";

const PARK: &str = "Council votes on new park

The city council voted on Tuesday to build a park on the old factory site. Mayor Linda Harper welcomed the decision.

“For ten years this land has been a wound in the middle of our town. Children walked past broken fences on their way to school.

“Now we can finally give them something better,” Harper said.

Neighbours were less pleased. “They told us, ‘the decision is already made,’ before we even spoke,” said Tom Becker, who lives next to the site.
";

const BUDGET: &str = "Budget cuts worry rural districts

Senator Maria Lopez said that the budget would hurt rural schools. She spoke after a meeting with teachers in Dalton.

Lopez argued that the governor had ignored the numbers. Later on Twitter, she wrote that the cuts were “a betrayal of every small town in this state.”
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

fn covered(a: &Attribution, want: Span) -> usize {
    a.content.iter().map(|c| c.overlap(want)).sum()
}

/// The attribution whose content covers most of `content`; it must cover at least 80% of it.
fn attribution_for<'a>(doc: &Document, atts: &'a Attributions, content: &str) -> &'a Attribution {
    let want = find(doc.text(), content);
    let a = atts
        .attributions
        .iter()
        .max_by_key(|a| covered(a, want))
        .expect("some attribution");
    assert!(
        covered(a, want) * 10 >= want.len() * 8,
        "no attribution covers {content:?}; got {:#?}",
        atts.attributions
            .iter()
            .map(|a| a.content.iter().map(|&c| doc.slice(c)).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    );
    a
}

fn check(doc: &Document, atts: &Attributions, content: &str, source: &str, speaker: &str) {
    let a = attribution_for(doc, atts, content);
    let src = a
        .source
        .unwrap_or_else(|| panic!("no source for {content:?}"));
    assert_eq!(doc.slice(src), source, "source of {content:?}");
    let id = a.speaker.as_deref().expect("speaker id");
    assert_eq!(
        atts.speaker(id).unwrap().name,
        speaker,
        "speaker of {content:?}"
    );
}

#[test]
fn straight_quote_then_cue() {
    let (doc, atts) = extract(IRAN);
    check(
        &doc,
        &atts,
        "These sanctions are a crime against the Iranian people",
        "Qassemi",
        "Bahram Qassemi",
    );
    let a = attribution_for(&doc, &atts, "These sanctions are a crime");
    assert!(a.direct);
    assert_eq!(doc.slice(a.cue), "said");
}

#[test]
fn curly_quote_split_by_its_cue_is_one_discontinuous_content() {
    let (doc, atts) = extract(IRAN);
    let a = attribution_for(
        &doc,
        &atts,
        "The occupying regime will pay for its aggression",
    );
    let second = find(IRAN, "and its allies will regret it");
    assert!(covered(a, second) == second.len(), "second half missing");
    assert_eq!(a.content.len(), 2, "two fragments around the cue");
    assert_eq!(doc.slice(a.source.unwrap()), "he");
    assert_eq!(
        atts.speaker(a.speaker.as_deref().unwrap()).unwrap().name,
        "Bahram Qassemi"
    );
}

#[test]
fn indirect_speech_with_that() {
    let (doc, atts) = extract(IRAN);
    // "The spokesman underlined that …": a description resolved to the named spokesman.
    check(
        &doc,
        &atts,
        "Tehran would continue to honour the nuclear deal",
        "The spokesman",
        "Bahram Qassemi",
    );
    let (doc, atts) = extract(BUDGET);
    check(
        &doc,
        &atts,
        "the budget would hurt rural schools",
        "Senator Maria Lopez",
        "Maria Lopez",
    );
    check(
        &doc,
        &atts,
        "the governor had ignored the numbers",
        "Lopez",
        "Maria Lopez",
    );
}

#[test]
fn according_to() {
    let (doc, atts) = extract(IRAN);
    check(
        &doc,
        &atts,
        "the measures violate international law",
        "the ministry",
        "the ministry",
    );
    let s = atts
        .speakers
        .iter()
        .find(|s| s.name == "the ministry")
        .unwrap();
    assert_eq!(s.kind, SpeakerKind::Organization);
}

#[test]
fn pronoun_two_sentences_after_its_speaker() {
    let (doc, atts) = extract(IRAN);
    // "Qassemi also told … . The talks were postponed last month. He said …"
    check(
        &doc,
        &atts,
        "the European side had failed to keep its promises",
        "He",
        "Bahram Qassemi",
    );
    // Every mention of the spokesman is one speaker.
    let q = atts
        .speakers
        .iter()
        .filter(|s| s.name.contains("Qassemi"))
        .collect::<Vec<_>>();
    assert_eq!(q.len(), 1, "{:?}", atts.speakers);
    assert_eq!(q[0].id, "bahram-qassemi");
    assert_eq!(q[0].kind, SpeakerKind::Person);
    let (doc, atts) = extract(BUDGET);
    check(
        &doc,
        &atts,
        "a betrayal of every small town in this state",
        "she",
        "Maria Lopez",
    );
}

#[test]
fn quote_over_two_paragraphs() {
    let (doc, atts) = extract(PARK);
    let a = attribution_for(&doc, &atts, "Now we can finally give them something better");
    let first = find(PARK, "For ten years this land has been a wound");
    assert_eq!(
        covered(a, first),
        first.len(),
        "first paragraph of the quote"
    );
    // One fragment per paragraph.
    assert_eq!(a.content.len(), 2);
    assert_eq!(
        atts.speaker(a.speaker.as_deref().unwrap()).unwrap().name,
        "Linda Harper"
    );
}

#[test]
fn nested_quote_belongs_to_the_outer_speaker() {
    let (doc, atts) = extract(PARK);
    check(
        &doc,
        &atts,
        "They told us, ‘the decision is already made,’ before we even spoke",
        "Tom Becker, who lives next to the site",
        "Tom Becker",
    );
    let inner = find(PARK, "the decision is already made");
    assert_ne!(atts.voice(inner), Voice::Author);
}

#[test]
fn voice_of_spans_and_per_speaker_groups() {
    let (_, atts) = extract(IRAN);
    let spans = [
        find(IRAN, "a crime against the Iranian people"),
        find(IRAN, "The talks were postponed"),
        find(IRAN, "The occupying regime"),
        find(IRAN, "violate international law"),
    ];
    let v = atts.voices(&spans);
    let q = |s: &str| Voice::Quoted { speaker: s.into() };
    assert_eq!(
        v,
        [
            q("Bahram Qassemi"),
            Voice::Author,
            q("Bahram Qassemi"),
            q("the ministry")
        ]
    );
    let groups = atts.by_speaker(&spans);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].name, "Bahram Qassemi");
    assert_eq!(groups[0].spans, [0, 2]);
    assert_eq!(groups[1].spans, [3]);
    // The one-call form an analyser uses.
    let doc = Document::new(IRAN).unwrap();
    let (_, v2) = Attributor::shared().voices(&doc, &spans);
    assert_eq!(v, v2);
}

#[test]
fn voice_serialises_as_author_or_quoted_name() {
    let q = Voice::Quoted {
        speaker: "Bahram Qassemi".into(),
    };
    assert_eq!(serde_json::to_string(&Voice::Author).unwrap(), "\"author\"");
    assert_eq!(
        serde_json::to_string(&q).unwrap(),
        "{\"quoted\":\"Bahram Qassemi\"}"
    );
    assert_eq!(
        serde_json::from_str::<Voice>("\"author\"").unwrap(),
        Voice::Author
    );
    assert_eq!(
        serde_json::from_str::<Voice>("{\"quoted\":\"Bahram Qassemi\"}").unwrap(),
        q
    );
    assert!(serde_json::from_str::<Voice>("\"narrator\"").is_err());
    assert_eq!(q.to_string(), "quoted(Bahram Qassemi)");
}

#[test]
fn offsets_are_code_points_with_non_ascii_text() {
    let text =
        "Der Minister — Jürgen Müller — sagte: „Ça va.“ 😀 \"Prices will fall,\" Müller said.";
    let doc = Document::new(text).unwrap();
    let atts = Attributor::shared().extract(&doc);
    let a = atts
        .attributions
        .iter()
        .find(|a| {
            a.content
                .iter()
                .any(|&c| doc.slice(c).contains("Prices will fall"))
        })
        .expect("the English quote");
    assert_eq!(doc.slice(a.source.unwrap()), "Müller");
    for a in &atts.attributions {
        for &c in &a.content {
            doc.check_span(c).unwrap();
        }
    }
}

#[test]
fn empty_and_unquoted_texts() {
    for t in ["", "\n\n", "Stocks rose on Monday. Bonds fell.", "\"", "“"] {
        let doc = Document::new(t).unwrap();
        let atts = Attributor::shared().extract(&doc);
        assert!(
            atts.attributions.is_empty(),
            "{t:?}: {:?}",
            atts.attributions
        );
        assert!(atts.speakers.is_empty());
    }
}

#[test]
fn model_bytes_round_trip_and_corruption_is_an_error() {
    let m = Attributor::shared();
    let bytes = m.to_bytes();
    let back = Attributor::from_bytes(&bytes).unwrap();
    let doc = Document::new(IRAN).unwrap();
    assert_eq!(back.extract(&doc), m.extract(&doc));
    assert_eq!(back.to_bytes(), bytes);
    // The shipped file is what the model writes: the reader takes the writer's format.
    assert!(bytes == include_bytes!("../model/attribution.bin"));
    for bad in [
        &b""[..],
        &b"RHATTR01"[..],
        &bytes[..bytes.len() / 2],
        &bytes[1..],
    ] {
        let e = Attributor::from_bytes(bad).unwrap_err().to_string();
        assert!(e.contains("attribution model"), "{e}");
    }
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(Attributor::from_bytes(&extra).is_err());
}

#[test]
fn the_model_is_a_checked_attribution_container() {
    let m = Attributor::shared();
    let man = m.manifest();
    assert_eq!(man.kind, ModelKind::Attribution);
    assert_eq!(man.labels, rhetor_attribution::LABELS);
    assert!(man.scores["dev_content_f1"] > 0.7, "{:?}", man.scores);
    assert!(man.trained_with.contains("train-attribution"));
    // The same payload under another kind, or with other labels, is refused before use.
    let mut fast = man.clone();
    fast.kind = ModelKind::Fast;
    let bytes = m.clone().with_manifest(fast).to_bytes();
    let e = Attributor::from_bytes_named(&bytes, "x.bin")
        .unwrap_err()
        .to_string();
    assert!(e.contains("x.bin") && e.contains("kind `fast`"), "{e}");
    let mut other = man.clone();
    other.labels.pop();
    let bytes = m.clone().with_manifest(other).to_bytes();
    let e = Attributor::from_bytes(&bytes).unwrap_err().to_string();
    assert!(e.contains("labels"), "{e}");
}

#[test]
fn cue_after_its_content_with_inverted_subject() {
    let text = "Mayor Harper: new park will open in spring\n\nThe park will have a lake and a playground, said Mayor Linda Harper.\n";
    let (doc, atts) = extract(text);
    check(
        &doc,
        &atts,
        "The park will have a lake and a playground",
        "Mayor Linda Harper",
        "Linda Harper",
    );
    // The headline's "Harper" is the same speaker (the headline may be an attribution of its
    // own, "Mayor Harper:", so its mentions may be counted twice; one of them is in the headline).
    assert_eq!(atts.speakers.len(), 1);
    let headline = find(text, "Mayor Harper: new park will open in spring");
    let mentions = &atts.speakers[0].mentions;
    assert!(mentions.len() >= 3, "{mentions:?}");
    assert!(
        mentions.iter().any(|m| m.overlap(headline) > 0),
        "{mentions:?}"
    );
}

#[test]
fn a_quote_paragraph_with_its_own_cue_is_not_the_paragraph_befores() {
    // "Clinton said." ends its paragraph: the next quote has a cue of its own, and a different
    // speaker would make the difference visible.
    let text = "Clinton calls the health law crazy\n\n\
        During the rally Monday, the former president spoke about premiums.\n\n\
        “It doesn’t make any sense. The insurance model doesn’t work here,” Clinton said.\n\n\
        “So you’ve got this crazy system where people work sixty hours a week and their premiums \
        double,” said Mayor Karen Weaver.\n";
    let (doc, atts) = extract(text);
    let first = attribution_for(&doc, &atts, "The insurance model doesn’t work here");
    let second = find(text, "So you’ve got this crazy system");
    assert_eq!(
        covered(first, second),
        0,
        "the second quote went to the first cue"
    );
    check(
        &doc,
        &atts,
        "So you’ve got this crazy system where people work sixty hours a week",
        "Mayor Karen Weaver",
        "Karen Weaver",
    );
}

#[test]
fn a_quote_with_its_own_cue_is_not_swallowed_by_the_sentence_before() {
    // One paragraph: a reported clause, then a quote with its own cue and speaker.
    let text = "Rabbis plan a boycott\n\n\
        Rabbi Jeffrey Salkin, who is helping to organize the boycott, said he and other rabbis were \
        alarmed about the rhetoric on the campaign trail. \"Jewish history teaches that when hatred \
        is unleashed, it takes on a life of its own,\" said Miriam Lowe.\n";
    let (doc, atts) = extract(text);
    check(
        &doc,
        &atts,
        "Jewish history teaches that when hatred is unleashed",
        "Miriam Lowe",
        "Miriam Lowe",
    );
    check(
        &doc,
        &atts,
        "he and other rabbis were alarmed about the rhetoric",
        "Rabbi Jeffrey Salkin, who is helping to organize the boycott,",
        "Rabbi Jeffrey Salkin",
    );
}

#[test]
fn a_coordinated_cue_without_its_own_subject_takes_the_sentences() {
    // "…, and said", "…, but told": the cue's clause shares the sentence's subject. The agency
    // dateline ("Philadelphia (AFP) –") and a word capitalised only for its position ("Harbour"
    // after the dateline, "Outside") are not that subject.
    let text = "Harbour plan divides the town\n\n\
        Philadelphia (AFP) – Harbour master Ellen Voss on Monday toured the docks with the \
        fishermen, and said the new quay would be ready by spring.\n\n\
        Outside the town hall, Mayor Dana Whitfield spoke with the volunteers for an hour, but \
        told reporters that no decision had been taken.\n";
    let (doc, atts) = extract(text);
    check(
        &doc,
        &atts,
        "the new quay would be ready by spring",
        "Ellen Voss",
        "Ellen Voss",
    );
    check(
        &doc,
        &atts,
        "no decision had been taken",
        "Dana Whitfield",
        "Dana Whitfield",
    );
    for s in &atts.speakers {
        assert!(
            !["Philadelphia", "Harbour", "Outside"].contains(&s.name.as_str()),
            "{:?} listed as a speaker",
            s.name
        );
    }
}

#[test]
fn an_opening_participle_takes_the_subject_after_its_comma() {
    // "After thanking the volunteers, she told …": the participle's subject is the main clause's,
    // which comes after the participle clause.
    let text = "Harbour plan divides the town\n\n\
        Mayor Dana Whitfield promised the fishermen a busier harbour by spring.\n\n\
        After thanking the volunteers, she told reporters that the vote would be held in June.\n";
    let (doc, atts) = extract(text);
    check(&doc, &atts, "the volunteers", "she", "Dana Whitfield");
    check(
        &doc,
        &atts,
        "the vote would be held in June",
        "she",
        "Dana Whitfield",
    );
}
