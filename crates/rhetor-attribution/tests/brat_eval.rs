//! brat reading and writing, and the metric on a hand-computed example.

use rhetor_attribution::brat::{self, BratAttribution};
use rhetor_attribution::eval::{self, Scorer};
use rhetor_attribution::{Attribution, Attributions};
use rhetor_core::{Document, Span};
use std::collections::BTreeMap;

fn sp(s: usize, e: usize) -> Span {
    Span::new(s, e)
}

#[test]
fn parses_polnear_lines() {
    let ann = "T1\tSource 0 5\tAlice\n\
T2\tCue 6 10\tsaid\n\
T3\tContent 11 20;25 30\tsomething else\n\
T4\tAttribution 6 10\tsaid\n\
E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1\n\
T5\tAttribution-no-source 40 44\tseen\n\
T6\tCue 40 44\tseen\n\
T7\tContent 45 50\tthing\n\
T8\tContent 55 60\tmore\n\
E2\tAttribution-no-source:T5 Cue:T6 Content:T7 Content2:T8\n\
T9\tDiscuss 70 80\tnoise\n\
E3\tDiscuss:T9 Content:T7\n\
#1\tAnnotatorNotes T3\ta note\n\
T10\tContent broken\n\
E4\tAttribution:T99 Content:T98\n";
    let atts = brat::parse_ann(ann);
    assert_eq!(
        atts,
        [
            BratAttribution {
                content: vec![sp(11, 20), sp(25, 30)],
                cue: vec![sp(6, 10)],
                source: Some(vec![sp(0, 5)]),
            },
            BratAttribution {
                content: vec![sp(45, 50), sp(55, 60)],
                cue: vec![sp(40, 44)],
                source: None,
            },
        ]
    );
}

#[test]
fn round_trip_through_ann_text() {
    let text = "Alice said: \"We won,\" and then, \"we celebrate.\"\nIt rained, reports say.";
    let doc = Document::new(text).unwrap();
    let find = |s: &str| {
        let b = text.find(s).unwrap();
        let c = text[..b].chars().count();
        sp(c, c + s.chars().count())
    };
    let atts = Attributions {
        attributions: vec![
            Attribution {
                content: vec![find("\"We won,\""), find("\"we celebrate.\"")],
                cue: find("said"),
                source: Some(find("Alice")),
                speaker: Some("alice".into()),
                direct: true,
            },
            Attribution {
                content: vec![find("It rained")],
                cue: find("say"),
                source: None,
                speaker: None,
                direct: false,
            },
        ],
        speakers: vec![],
    };
    let b = brat::to_brat(&atts);
    let ann = brat::format_ann(&doc, &b);
    assert!(
        ann.contains("\tContent 12 21;32 47\t\"We won,\" \"we celebrate.\"\n"),
        "{ann}"
    );
    assert!(
        ann.contains("E1\tAttribution:T4 Source:T1 Cue:T2 Content:T3\n"),
        "{ann}"
    );
    assert!(ann.contains("\tAttribution-no-source "), "{ann}");
    assert!(
        ann.contains("E2\tAttribution-no-source:T7 Cue:T5 Content:T6\n"),
        "{ann}"
    );
    assert_eq!(brat::parse_ann(&ann), b);
    // And through files.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.ann");
    brat::write_ann(&path, &doc, &b).unwrap();
    assert_eq!(brat::read_ann(&path).unwrap(), b);
    let all = brat::read_dir(dir.path()).unwrap();
    assert_eq!(all.keys().collect::<Vec<_>>(), ["a"]);
}

#[test]
fn fragments_are_split_at_line_breaks_when_written() {
    let text = "“One.\n\n“Two,” she said.";
    let doc = Document::new(text).unwrap();
    let b = vec![BratAttribution {
        content: vec![sp(0, 13)],
        cue: vec![sp(18, 22)],
        source: Some(vec![sp(14, 17)]),
    }];
    let ann = brat::format_ann(&doc, &b);
    assert!(ann.contains("\tContent 0 5;7 13\t“One. “Two,”\n"), "{ann}");
    assert!(!ann.lines().any(|l| l.split('\t').count() > 3));
}

/// Gold and predictions of the doc comment's worked example (see `eval`):
/// content P = (0.75 + 0.5 + 0) / 3, R = (0.75 + 0.5 + 0 + 0) / 4; speaker 1 correct of 2
/// predicted sources and 3 gold sources.
#[test]
fn metric_on_a_hand_computed_example() {
    let g = |c: Vec<Span>, s: Option<Span>| BratAttribution {
        content: c,
        cue: vec![],
        source: s.map(|s| vec![s]),
    };
    let mut gold = BTreeMap::new();
    gold.insert(
        "a".to_string(),
        vec![
            g(vec![sp(10, 30)], Some(sp(0, 5))),
            g(vec![sp(40, 50), sp(60, 70)], Some(sp(35, 38))),
            g(vec![sp(100, 120)], None),
        ],
    );
    gold.insert("b".to_string(), vec![g(vec![sp(0, 10)], Some(sp(20, 25)))]);
    let mut pred = BTreeMap::new();
    pred.insert(
        "a".to_string(),
        vec![
            g(vec![sp(15, 35)], Some(sp(2, 4))),
            g(vec![sp(45, 65)], Some(sp(80, 85))),
            g(vec![sp(200, 210)], None),
        ],
    );
    let r = eval::evaluate(&gold, &pred);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(r.content.precision, 1.25 / 3.0), "{r}");
    assert!(close(r.content.recall, 1.25 / 4.0), "{r}");
    let f = 2.0 * (1.25 / 3.0) * (1.25 / 4.0) / (1.25 / 3.0 + 1.25 / 4.0);
    assert!(close(r.content.f1, f), "{r}");
    assert!(close(r.speaker.precision, 0.5), "{r}");
    assert!(close(r.speaker.recall, 1.0 / 3.0), "{r}");
    assert!(close(r.speaker.f1, 0.4), "{r}");
    assert_eq!((r.content.n_pred, r.content.n_gold), (3, 4));
    assert_eq!((r.speaker.n_pred, r.speaker.n_gold), (2, 3));
    assert_eq!(r.articles, 2);
    // Perfect predictions score 1.
    let r = eval::evaluate(&gold, &gold);
    assert!(close(r.content.f1, 1.0) && close(r.speaker.f1, 1.0), "{r}");
    // Nothing predicted scores 0, without dividing by zero.
    let mut sc = Scorer::new();
    sc.add(&gold["a"], &[]);
    assert_eq!(sc.report().content.f1, 0.0);
    assert_eq!(eval::overlap(&[sp(0, 10), sp(20, 30)], &[sp(5, 25)]), 10);
}
