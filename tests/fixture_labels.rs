//! The fixture corpus (`tests/fixtures/ptc`) is what it claims to be: every label row slices, in
//! code points, to the text `intended-spans.tsv` says it covers; the SI file is the TC file
//! without techniques; rhetor reads and checks both; the articles carry the non-ASCII they promise.

use crate::util::*;

fn read(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_fixture_label_slices_to_its_intended_text() {
    let dir = fixtures();
    let intended: Vec<Vec<String>> = read(&dir.join("intended-spans.tsv"))
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    let tc = read(&dir.join("tc.labels"));
    let rows: Vec<Vec<&str>> = tc.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows.len(),
        intended.len(),
        "one label row per intended span"
    );
    assert!(rows.len() >= 20);
    for (row, want) in rows.iter().zip(&intended) {
        let [id, tech, start, end] = row[..] else {
            panic!("not a TC row: {row:?}")
        };
        assert_eq!((id, tech), (want[0].as_str(), want[1].as_str()));
        tech.parse::<rhetor::Technique>().unwrap();
        let text = read(&dir.join(format!("train-articles/article{id}.txt")));
        let chars: Vec<char> = text.chars().collect();
        let (a, b): (usize, usize) = (start.parse().unwrap(), end.parse().unwrap());
        assert!(a < b && b <= chars.len(), "{row:?}");
        let got: String = chars[a..b].iter().collect();
        assert_eq!(got, want[3], "{row:?} slices to {got:?}");
        // The occurrence column picks which copy of a repeated text is meant.
        let occurrence: usize = want[2].parse().unwrap();
        let before: String = chars[..a].iter().collect();
        assert_eq!(
            before.matches(want[3].as_str()).count(),
            occurrence - 1,
            "{row:?}"
        );
    }
    let si = read(&dir.join("si.labels"));
    let expected_si: String = rows
        .iter()
        .map(|r| format!("{}\t{}\t{}\n", r[0], r[2], r[3]))
        .collect();
    assert_eq!(si, expected_si);
    // rhetor's own reader accepts both files against the articles.
    let articles = rhetor::corpus::read_articles(&dir.join("train-articles")).unwrap();
    for name in ["tc.labels", "si.labels"] {
        let path = dir.join(name);
        let labels = rhetor::corpus::read_labels(&path).unwrap();
        assert_eq!(labels.len(), rows.len());
        rhetor::corpus::check_labels(&labels, &path, &articles).unwrap();
    }
}

#[test]
fn fixture_articles_are_ptc_shaped_and_not_only_ascii() {
    let dir = fixtures().join("train-articles");
    let list = rhetor::corpus::list_articles(&dir).unwrap();
    assert!(list.len() >= 6);
    let mut all = String::new();
    for (id, path) in &list {
        let text = read(path);
        let lines: Vec<&str> = text.lines().collect();
        assert!(!lines[0].trim().is_empty(), "article {id}: a title line");
        assert_eq!(
            lines[1].trim(),
            "",
            "article {id}: a blank line after the title"
        );
        all.push_str(&text);
    }
    assert!(all.contains("\r\n"), "a CRLF article");
    assert!(all.chars().any(|c| c >= '\u{1F300}'), "emoji");
    assert!(
        all.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
        "CJK"
    );
    assert!(all.contains('\u{301}'), "a combining mark");
    // Techniques: most of the 14 appear.
    let tc = read(&fixtures().join("tc.labels"));
    let used: std::collections::BTreeSet<&str> =
        tc.lines().filter_map(|l| l.split('\t').nth(1)).collect();
    assert!(used.len() >= 10, "{used:?}");
}
