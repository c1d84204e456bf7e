//! The outlet view's numbers: one outlet's articles over a date range, aggregated in Rust from the
//! saved analyses, the same whatever database holds them.
//!
//! Each backend only selects the outlet's rows (bound parameters: the outlet and the day range,
//! on the `day` column, the publication day or else the day saved) and hands them to
//! [`Aggregator`]; [`Archive::outlet_report`](crate::Archive::outlet_report) does both. The CSV
//! tables ([`csv`]) are written from the reports, so every number shown has one source.
//!
//! Units:
//! - a **word** is a run of non-whitespace holding at least one letter or digit (`"traitors,"` is
//!   one word, `"—"` none);
//! - a word is **in a span** when one of its code points is inside a counted span;
//! - a **week** is an ISO week, named by its Monday (`YYYY-MM-DD`); weeks with no article between
//!   the first and the last are listed with zeros;
//! - with a technique filter only that technique's spans are counted; articles and words stay
//!   every article of the outlet in the range, so rates stay comparable.

use crate::StoreError;
use rhetor_core::{Analysis, SpeakerKind, Technique, Voice};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What the outlet view asks for.
#[derive(Debug, Clone, Default)]
pub struct OutletQuery {
    /// The outlet (exact name).
    pub outlet: String,
    /// First day (`YYYY-MM-DD`, inclusive), if any.
    pub from: Option<String>,
    /// Last day (`YYYY-MM-DD`, inclusive), if any.
    pub to: Option<String>,
    /// Count only this technique's spans.
    pub technique: Option<Technique>,
    /// How many quoted speakers to list (most spans first; 0 is read as 10).
    pub speakers: usize,
}

/// One saved article of the outlet, as a backend reads it.
#[derive(Debug, Clone)]
pub struct OutletRow {
    /// The article's id.
    pub id: i64,
    /// Its day (`YYYY-MM-DD`): publication day, else the day it was saved.
    pub day: String,
    /// The Analysis JSON as saved.
    pub analysis: String,
}

/// One outlet's aggregates over the range.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutletReport {
    /// The outlet.
    pub outlet: String,
    /// The range asked for (null: open).
    pub from: Option<String>,
    /// The range asked for (null: open).
    pub to: Option<String>,
    /// The technique filter (null: all).
    pub technique: Option<String>,
    /// Articles in the range.
    pub articles: i64,
    /// Their words.
    pub words: i64,
    /// Spans counted.
    pub spans: i64,
    /// Spans per 1,000 words.
    pub spans_per_1000_words: f64,
    /// Words inside at least one counted span.
    pub words_in_spans: i64,
    /// `words_in_spans / words` (the propaganda density in words).
    pub share_of_words_in_spans: f64,
    /// The first and last day of an article (null when none).
    pub first_day: Option<String>,
    /// See `first_day`.
    pub last_day: Option<String>,
    /// Per technique: all 14 in the taxonomy's order, or only the filtered one.
    pub techniques: Vec<OutletTechnique>,
    /// Per ISO week, oldest first.
    pub weeks: Vec<OutletWeek>,
    /// The outlet's own voice against quoted voices.
    pub voices: Vec<OutletVoice>,
    /// The quoted speakers with most spans, most first.
    pub speakers: Vec<OutletSpeaker>,
}

/// One technique's share of the outlet.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutletTechnique {
    /// Technique name.
    pub technique: String,
    /// Spans of it.
    pub spans: i64,
    /// Articles with at least one.
    pub articles: i64,
    /// Spans per 1,000 words of the outlet.
    pub spans_per_1000_words: f64,
}

/// One ISO week of the outlet.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutletWeek {
    /// The week's Monday, `YYYY-MM-DD`.
    pub week: String,
    /// Articles.
    pub articles: i64,
    /// Words.
    pub words: i64,
    /// Spans counted.
    pub spans: i64,
    /// Spans per 1,000 words of the week (0 when it has none).
    pub spans_per_1000_words: f64,
    /// Spans per technique (present techniques only).
    pub techniques: BTreeMap<String, i64>,
}

/// Spans in one voice: `author` (the outlet's own words), `quoted` (a speaker it quotes or
/// reports) or `unattributed` (analyses saved without attribution; listed only when there are
/// some).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutletVoice {
    /// `author`, `quoted` or `unattributed`.
    pub voice: String,
    /// Spans in it.
    pub spans: i64,
    /// Its share of the counted spans (0 when there are none).
    pub share_of_spans: f64,
    /// Spans per 1,000 words of the outlet.
    pub spans_per_1000_words: f64,
    /// Spans per technique (present techniques only).
    pub techniques: BTreeMap<String, i64>,
}

/// A quoted speaker of the outlet (by display name, across its articles).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutletSpeaker {
    /// Display name.
    pub speaker: String,
    /// `person`, `organization`, `group` or `unknown`.
    pub kind: String,
    /// Articles where a counted span is in their voice.
    pub articles: i64,
    /// Counted spans in their voice.
    pub spans: i64,
    /// Those spans per technique.
    pub techniques: BTreeMap<String, i64>,
}

fn per_1000(spans: i64, words: i64) -> f64 {
    if words == 0 {
        0.0
    } else {
        spans as f64 * 1000.0 / words as f64
    }
}

fn share(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// The day number of a `YYYY-MM-DD` date, if it is one.
fn day_number(day: &str) -> Option<i64> {
    let d = crate::day_of(day).filter(|_| day.len() == 10)?;
    let (y, m, dd) = (
        d[0..4].parse().ok()?,
        d[5..7].parse().ok()?,
        d[8..10].parse().ok()?,
    );
    let n = days_from_civil(y, m, dd);
    // 2026-02-31 is not a day: it must come back as itself.
    (civil_from_days(n) == (y, m, dd)).then_some(n)
}

/// Whether `day` is a real `YYYY-MM-DD` date (the form the outlet view's filters take).
pub fn is_date(day: &str) -> bool {
    day_number(day).is_some()
}

/// The Monday of the ISO week of a day number.
fn monday(n: i64) -> i64 {
    n - (n + 3).rem_euclid(7)
}

fn format_day(n: i64) -> String {
    let (y, m, d) = civil_from_days(n);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The ISO week of a `YYYY-MM-DD` day, named by its Monday.
pub fn week_of(day: &str) -> Option<String> {
    day_number(day).map(|n| format_day(monday(n)))
}

/// Words of a text as code-point ranges (see the module's units).
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut alnum = false;
    let mut n = 0;
    for (i, c) in text.chars().enumerate() {
        n = i + 1;
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                if alnum {
                    out.push((s, i));
                }
            }
            alnum = false;
        } else {
            start.get_or_insert(i);
            alnum |= c.is_alphanumeric();
        }
    }
    if let (Some(s), true) = (start, alnum) {
        out.push((s, n));
    }
    out
}

#[derive(Default)]
struct Acc {
    articles: i64,
    words: i64,
    spans: i64,
    techniques: BTreeMap<String, i64>,
}

/// Folds an outlet's rows into its [`OutletReport`].
pub struct Aggregator {
    query: OutletQuery,
    total: Acc,
    words_in_spans: i64,
    first: Option<String>,
    last: Option<String>,
    tech_articles: BTreeMap<String, i64>,
    weeks: BTreeMap<i64, Acc>,
    voices: BTreeMap<&'static str, Acc>,
    speakers: BTreeMap<String, (SpeakerKind, Acc)>,
}

impl Aggregator {
    /// An empty report for `query`.
    pub fn new(query: &OutletQuery) -> Aggregator {
        Aggregator {
            query: query.clone(),
            total: Acc::default(),
            words_in_spans: 0,
            first: None,
            last: None,
            tech_articles: BTreeMap::new(),
            weeks: BTreeMap::new(),
            voices: BTreeMap::new(),
            speakers: BTreeMap::new(),
        }
    }

    /// Adds one article.
    pub fn add(&mut self, row: &OutletRow) -> Result<(), StoreError> {
        let a: Analysis = serde_json::from_str(&row.analysis)
            .map_err(|source| StoreError::Corrupt { id: row.id, source })?;
        let counted: Vec<_> = a
            .spans
            .iter()
            .filter(|s| self.query.technique.iter().all(|&t| s.technique == t))
            .collect();
        let ws = words(&a.text);
        let mut ranges: Vec<(usize, usize)> = counted.iter().map(|s| (s.start, s.end)).collect();
        ranges.sort_unstable();
        let inside = ws
            .iter()
            .filter(|&&(ws, we)| ranges.iter().any(|&(s, e)| s < we && ws < e))
            .count() as i64;
        let nw = ws.len() as i64;
        let week = day_number(&row.day).map(monday);
        let total = &mut self.total;
        total.articles += 1;
        total.words += nw;
        total.spans += counted.len() as i64;
        self.words_in_spans += inside;
        if self.first.iter().all(|f| row.day < *f) {
            self.first = Some(row.day.clone());
        }
        if self.last.iter().all(|l| row.day > *l) {
            self.last = Some(row.day.clone());
        }
        if let Some(w) = week {
            let wk = self.weeks.entry(w).or_default();
            wk.articles += 1;
            wk.words += nw;
        }
        let mut seen_t: Vec<&str> = Vec::new();
        let mut seen_speaker: Vec<&str> = Vec::new();
        for s in &counted {
            let t = s.technique.name();
            *self.total.techniques.entry(t.to_string()).or_insert(0) += 1;
            if !seen_t.contains(&t) {
                seen_t.push(t);
                *self.tech_articles.entry(t.to_string()).or_insert(0) += 1;
            }
            if let Some(w) = week {
                let wk = self.weeks.entry(w).or_default();
                wk.spans += 1;
                *wk.techniques.entry(t.to_string()).or_insert(0) += 1;
            }
            let voice = match &s.voice {
                None => "unattributed",
                Some(Voice::Author) => "author",
                Some(Voice::Quoted { speaker }) => {
                    let kind = a
                        .speakers
                        .iter()
                        .find(|sc| &sc.name == speaker)
                        .map_or(SpeakerKind::Unknown, |sc| sc.kind);
                    let (k, acc) = self
                        .speakers
                        .entry(speaker.clone())
                        .or_insert_with(|| (kind, Acc::default()));
                    if *k == SpeakerKind::Unknown {
                        *k = kind;
                    }
                    acc.spans += 1;
                    *acc.techniques.entry(t.to_string()).or_insert(0) += 1;
                    if !seen_speaker.contains(&speaker.as_str()) {
                        seen_speaker.push(speaker);
                        acc.articles += 1;
                    }
                    "quoted"
                }
            };
            let v = self.voices.entry(voice).or_default();
            v.spans += 1;
            *v.techniques.entry(t.to_string()).or_insert(0) += 1;
        }
        Ok(())
    }

    /// The report.
    pub fn finish(self) -> OutletReport {
        let q = &self.query;
        let words = self.total.words;
        let spans = self.total.spans;
        let techniques = Technique::ALL
            .iter()
            .filter(|t| q.technique.iter().all(|&f| f == **t))
            .map(|t| {
                let n = self.total.techniques.get(t.name()).copied().unwrap_or(0);
                OutletTechnique {
                    technique: t.name().to_string(),
                    spans: n,
                    articles: self.tech_articles.get(t.name()).copied().unwrap_or(0),
                    spans_per_1000_words: per_1000(n, words),
                }
            })
            .collect();
        let mut weeks = Vec::new();
        if let (Some(&first), Some(&last)) = (self.weeks.keys().next(), self.weeks.keys().last()) {
            let mut w = first;
            while w <= last {
                let acc = self.weeks.get(&w);
                let (a, wd, s) = acc.map_or((0, 0, 0), |x| (x.articles, x.words, x.spans));
                weeks.push(OutletWeek {
                    week: format_day(w),
                    articles: a,
                    words: wd,
                    spans: s,
                    spans_per_1000_words: per_1000(s, wd),
                    techniques: acc.map(|x| x.techniques.clone()).unwrap_or_default(),
                });
                w += 7;
            }
        }
        let mut voices = Vec::new();
        for name in ["author", "quoted", "unattributed"] {
            let acc = self.voices.get(name);
            if name == "unattributed" && acc.is_none() {
                continue;
            }
            let n = acc.map_or(0, |a| a.spans);
            voices.push(OutletVoice {
                voice: name.to_string(),
                spans: n,
                share_of_spans: share(n, spans),
                spans_per_1000_words: per_1000(n, words),
                techniques: acc.map(|a| a.techniques.clone()).unwrap_or_default(),
            });
        }
        let mut speakers: Vec<OutletSpeaker> = self
            .speakers
            .into_iter()
            .map(|(name, (kind, acc))| OutletSpeaker {
                speaker: name,
                kind: kind.name().to_string(),
                articles: acc.articles,
                spans: acc.spans,
                techniques: acc.techniques,
            })
            .collect();
        speakers.sort_by(|a, b| {
            b.spans
                .cmp(&a.spans)
                .then_with(|| a.speaker.cmp(&b.speaker))
        });
        speakers.truncate(if q.speakers == 0 { 10 } else { q.speakers });
        OutletReport {
            outlet: q.outlet.clone(),
            from: q.from.clone(),
            to: q.to.clone(),
            technique: q.technique.map(|t| t.name().to_string()),
            articles: self.total.articles,
            words,
            spans,
            spans_per_1000_words: per_1000(spans, words),
            words_in_spans: self.words_in_spans,
            share_of_words_in_spans: share(self.words_in_spans, words),
            first_day: self.first,
            last_day: self.last,
            techniques,
            weeks,
            voices,
            speakers,
        }
    }
}

/// The tables of the outlet view, each downloadable as CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutletTable {
    /// One row per outlet: articles, words, spans, density.
    Summary,
    /// Per technique: spans, articles, spans per 1,000 words.
    Techniques,
    /// Per week: articles, words, spans, spans per 1,000 words.
    Weeks,
    /// Per week and technique present: spans, spans per 1,000 words (the trends).
    Trends,
    /// Per voice: spans, share, spans per 1,000 words.
    Voices,
    /// Per quoted speaker: kind, articles, spans, techniques.
    Speakers,
}

impl OutletTable {
    /// Every table, in the order the view shows them.
    pub const ALL: [OutletTable; 6] = [
        OutletTable::Summary,
        OutletTable::Techniques,
        OutletTable::Weeks,
        OutletTable::Trends,
        OutletTable::Voices,
        OutletTable::Speakers,
    ];

    /// The table's name in URLs and file names.
    pub fn name(self) -> &'static str {
        match self {
            OutletTable::Summary => "summary",
            OutletTable::Techniques => "techniques",
            OutletTable::Weeks => "weeks",
            OutletTable::Trends => "trends",
            OutletTable::Voices => "voices",
            OutletTable::Speakers => "speakers",
        }
    }

    /// The table named `name`.
    pub fn from_name(name: &str) -> Option<OutletTable> {
        OutletTable::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Numbers in CSV: integers as they are, rates with 4 decimals.
fn num(x: f64) -> String {
    format!("{x:.4}")
}

fn techniques_cell(m: &BTreeMap<String, i64>) -> String {
    let mut v: Vec<(&String, &i64)> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    v.iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One table of one or more outlets as CSV (header first, `outlet` the first column, RFC 4180
/// quoting, `\n` line ends).
pub fn csv(table: OutletTable, reports: &[OutletReport]) -> String {
    let mut out = String::new();
    let header = match table {
        OutletTable::Summary => {
            "outlet,from,to,technique,articles,words,spans,\
                                 spans_per_1000_words,words_in_spans,share_of_words_in_spans"
        }
        OutletTable::Techniques => "outlet,technique,spans,articles,spans_per_1000_words",
        OutletTable::Weeks => "outlet,week,articles,words,spans,spans_per_1000_words",
        OutletTable::Trends => "outlet,week,technique,spans,spans_per_1000_words",
        OutletTable::Voices => "outlet,voice,spans,share_of_spans,spans_per_1000_words",
        OutletTable::Speakers => "outlet,speaker,kind,articles,spans,techniques",
    };
    out.push_str(header);
    out.push('\n');
    let mut row = |cells: Vec<String>| {
        let cells: Vec<String> = cells.iter().map(|c| crate::export::csv_field(c)).collect();
        let _ = writeln!(out, "{}", cells.join(","));
    };
    for r in reports {
        let o = || r.outlet.clone();
        match table {
            OutletTable::Summary => row(vec![
                o(),
                r.from.clone().unwrap_or_default(),
                r.to.clone().unwrap_or_default(),
                r.technique.clone().unwrap_or_default(),
                r.articles.to_string(),
                r.words.to_string(),
                r.spans.to_string(),
                num(r.spans_per_1000_words),
                r.words_in_spans.to_string(),
                num(r.share_of_words_in_spans),
            ]),
            OutletTable::Techniques => {
                for t in &r.techniques {
                    row(vec![
                        o(),
                        t.technique.clone(),
                        t.spans.to_string(),
                        t.articles.to_string(),
                        num(t.spans_per_1000_words),
                    ]);
                }
            }
            OutletTable::Weeks => {
                for w in &r.weeks {
                    row(vec![
                        o(),
                        w.week.clone(),
                        w.articles.to_string(),
                        w.words.to_string(),
                        w.spans.to_string(),
                        num(w.spans_per_1000_words),
                    ]);
                }
            }
            OutletTable::Trends => {
                for w in &r.weeks {
                    for (t, n) in &w.techniques {
                        row(vec![
                            o(),
                            w.week.clone(),
                            t.clone(),
                            n.to_string(),
                            num(per_1000(*n, w.words)),
                        ]);
                    }
                }
            }
            OutletTable::Voices => {
                for v in &r.voices {
                    row(vec![
                        o(),
                        v.voice.clone(),
                        v.spans.to_string(),
                        num(v.share_of_spans),
                        num(v.spans_per_1000_words),
                    ]);
                }
            }
            OutletTable::Speakers => {
                for s in &r.speakers {
                    row(vec![
                        o(),
                        s.speaker.clone(),
                        s.kind.clone(),
                        s.articles.to_string(),
                        s.spans.to_string(),
                        techniques_cell(&s.techniques),
                    ]);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_and_dates_are_checked() {
        assert_eq!(week_of("2026-03-02").as_deref(), Some("2026-03-02"));
        assert_eq!(week_of("2026-03-08").as_deref(), Some("2026-03-02"));
        assert_eq!(week_of("2026-03-09").as_deref(), Some("2026-03-09"));
        assert_eq!(week_of("2027-01-01").as_deref(), Some("2026-12-28"));
        assert_eq!(week_of("2024-02-29").as_deref(), Some("2024-02-26"));
        assert_eq!(week_of("1970-01-01").as_deref(), Some("1969-12-29"));
        for bad in [
            "2026-02-31",
            "2026-13-01",
            "2026-3-1",
            "2026-03-01T10:00",
            "",
            "yesterday",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
        assert!(is_date("2024-02-29"));
    }

    #[test]
    fn words_are_runs_with_a_letter_or_digit() {
        assert_eq!(
            words("They are — “traitors,” 2026 !"),
            [(0, 4), (5, 8), (11, 22), (23, 27)]
        );
        assert_eq!(words("  "), []);
        assert_eq!(words("end"), [(0, 3)]);
    }

    #[test]
    fn csv_quotes_outlet_names() {
        let mut r = Aggregator::new(&OutletQuery {
            outlet: "A, \"B\"".into(),
            ..Default::default()
        })
        .finish();
        r.speakers.push(OutletSpeaker {
            speaker: "Smith".into(),
            kind: "person".into(),
            articles: 1,
            spans: 3,
            techniques: BTreeMap::from([("Doubt".into(), 1), ("Slogans".into(), 2)]),
        });
        assert_eq!(
            csv(OutletTable::Speakers, &[r]),
            "outlet,speaker,kind,articles,spans,techniques\n\
             \"A, \"\"B\"\"\",Smith,person,1,3,Slogans 2; Doubt 1\n"
        );
    }
}
