//! What an editor sees of detection quality: spans are words, not function words or stray
//! punctuation; each carries its runner-up technique and the words behind it; `--min-confidence`
//! filters by the calibrated confidence.

use crate::util::*;
use rhetor::model::decode::is_function_word;

fn analyze_json(args: &[&str]) -> serde_json::Value {
    let o = rhetor(args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn fixture_paths() -> Vec<std::path::PathBuf> {
    let dir = root().join("tests/fixtures/ptc/train-articles");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v.push(sample());
    v
}

/// Checks the spans of one analysis: words, explanations, confidences.
fn check_spans(v: &serde_json::Value, what: &str) -> usize {
    let text: Vec<char> = v["text"].as_str().unwrap().chars().collect();
    let spans = v["spans"].as_array().unwrap();
    for s in spans {
        let snippet = s["snippet"].as_str().unwrap();
        let telling = snippet
            .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’' && c != '-')
            .any(|w| !w.is_empty() && !is_function_word(w));
        assert!(
            telling,
            "{what}: a span of function words or punctuation only: {s}"
        );
        let own: Vec<&str> = spans
            .iter()
            .filter(|o| o["start"] == s["start"] && o["end"] == s["end"])
            .map(|o| o["technique"].as_str().unwrap())
            .collect();
        let ru = &s["runner_up"];
        let rt = ru["technique"]
            .as_str()
            .expect("every span has a runner-up");
        rt.parse::<rhetor::Technique>().unwrap();
        assert!(
            !own.contains(&rt),
            "{what}: runner-up {rt} is already the span's: {s}"
        );
        let p = ru["probability"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{s}");
        let whole: String = text.iter().collect();
        for r in s["reason"].as_array().into_iter().flatten() {
            let r = r.as_str().unwrap();
            assert!(whole.contains(r), "{what}: reason {r:?} is not in the text");
            assert!(
                r.split(' ')
                    .any(|w| !is_function_word(w) && w.chars().any(char::is_alphanumeric)),
                "{what}: reason {r:?} names no content word"
            );
        }
    }
    spans.len()
}

#[test]
fn spans_are_words_with_a_runner_up_and_their_reasons() {
    let mut total = 0;
    let mut reasons = 0;
    for p in fixture_paths() {
        for model in ["fast", "accurate"] {
            let v = analyze_json(&["analyze", "--model", model, "--format", "json", s(&p)]);
            total += check_spans(&v, &format!("{model} on {}", p.display()));
            reasons += v["spans"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["reason"].as_array().is_some_and(|r| !r.is_empty()))
                .count();
        }
    }
    assert!(total > 20, "only {total} spans over the fixtures");
    assert!(
        reasons * 2 > total,
        "{reasons} of {total} spans give a reason"
    );
}

#[test]
fn a_pejorative_label_of_several_words_is_flagged_whole() {
    let v = analyze_json(&["analyze", "--format", "json", s(&sample())]);
    let text = v["text"].as_str().unwrap();
    let phrase = "a gang of radical activists";
    let at = text.find(phrase).unwrap();
    let start = text[..at].chars().count();
    let end = start + phrase.chars().count();
    let whole = v["spans"].as_array().unwrap().iter().any(|s| {
        s["start"].as_u64().unwrap() as usize <= start + 2
            && s["end"].as_u64().unwrap() as usize >= end
    });
    assert!(whole, "no span covers {phrase:?}: {v}");
}

#[test]
fn min_confidence_keeps_only_the_surer_spans() {
    let art = sample();
    let all = analyze_json(&["analyze", "--model", "fast", "--format", "json", s(&art)]);
    let sure = analyze_json(&[
        "analyze",
        "--model",
        "fast",
        "--format",
        "json",
        "--min-confidence",
        "0.3",
        s(&art),
    ]);
    let key =
        |s: &serde_json::Value| (s["start"].clone(), s["end"].clone(), s["technique"].clone());
    let all_spans: Vec<_> = all["spans"].as_array().unwrap().iter().map(key).collect();
    let kept = sure["spans"].as_array().unwrap();
    assert!(kept
        .iter()
        .all(|s| s["confidence"].as_f64().unwrap() >= 0.3));
    assert!(kept.iter().all(|s| all_spans.contains(&key(s))));
    let expected = all["spans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["confidence"].as_f64().unwrap() >= 0.3)
        .count();
    assert_eq!(kept.len(), expected);
    assert!(
        kept.len() < all_spans.len(),
        "the sample has unsure spans too"
    );
    for bad in ["1.5", "-0.1", "x"] {
        let flag = format!("--min-confidence={bad}");
        let o = rhetor(&["analyze", &flag, s(&art)]);
        assert!(!o.status.success());
        assert!(
            stderr(&o).contains("is not a probability between 0 and 1"),
            "{}",
            stderr(&o)
        );
    }
}
