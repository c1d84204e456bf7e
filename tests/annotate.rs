//! The correction loop end to end: `export-tasks` (Label Studio, brat), `import-annotations`, and
//! `train` on several data sets with `--weight` and `--from`.

use crate::util::*;
use serde_json::{json, Value};
use std::path::Path;

/// A text with emoji, CJK and CRLF, and the code-point offsets of a few phrases in it.
const TEXT: &str =
    "They are a gang of traitors 😀 and cowards.\r\n漢字 make America great again! Is it true?";

fn cp(needle: &str) -> (usize, usize) {
    let b = TEXT.find(needle).unwrap();
    let s = TEXT[..b].chars().count();
    (s, s + needle.chars().count())
}

fn region(needle: &str, labels: &[&str]) -> Value {
    let (s, e) = cp(needle);
    json!({"from_name": "label", "to_name": "text", "type": "labels",
           "value": {"start": s, "end": e, "text": needle, "labels": labels}})
}

fn import(args: &[&str], tmp: &TestDir) -> (String, std::process::Output) {
    let (arts, labels) = (tmp.join("out-articles"), tmp.join("out.labels"));
    let mut a = vec!["import-annotations"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--out-articles", s(&arts), "--out-labels", s(&labels)]);
    let o = rhetor(&a);
    (std::fs::read_to_string(labels).unwrap_or_default(), o)
}

#[test]
fn a_hand_written_label_studio_export_imports_to_exactly_its_annotations() {
    let tmp = TestDir::new();
    let export = json!([
        {
            "id": 1,
            "data": {"text": TEXT, "id": "77"},
            // The model's predictions: ignored.
            "predictions": [{"result": [region("gang of traitors", &["Loaded_Language"])]}],
            "annotations": [
                // An older annotation, then a cancelled one: the last completed one counts.
                {"id": 1, "result": [region("cowards", &["Doubt"])]},
                {"id": 2, "result": [
                    region("gang of traitors 😀 and cowards", &["Name_Calling,Labeling"]),
                    region("traitors", &["Loaded_Language", "Name_Calling,Labeling"]),
                    region("cowards.\r\n漢字 make", &["Exaggeration,Minimisation"]),
                    region("make America great again!", &["Slogans"]),
                    {"type": "relation", "from_id": "a", "to_id": "b"}
                ]},
                {"id": 3, "was_cancelled": true, "result": []}
            ]
        },
        {"id": 2, "data": {"text": "Unfinished.", "id": 78}, "annotations": []}
    ]);
    let file = tmp.write("export.json", export.to_string());
    let (rows, o) = import(&["--label-studio", s(&file)], &tmp);
    assert!(o.status.success(), "{}", stderr(&o));
    let row = |t: &str, n: &str| {
        let (s, e) = cp(n);
        format!("77\t{t}\t{s}\t{e}\n")
    };
    // Sorted by start, end, technique; the overlapping regions kept.
    let expected = [
        row("Name_Calling,Labeling", "gang of traitors 😀 and cowards"),
        row("Loaded_Language", "traitors"),
        row("Name_Calling,Labeling", "traitors"),
        row("Exaggeration,Minimisation", "cowards.\r\n漢字 make"),
        row("Slogans", "make America great again!"),
    ]
    .concat();
    assert_eq!(rows, expected);
    assert_eq!(rows, "77\tName_Calling,Labeling\t11\t41\n77\tLoaded_Language\t19\t27\n77\tName_Calling,Labeling\t19\t27\n77\tExaggeration,Minimisation\t34\t51\n77\tSlogans\t47\t72\n");
    let written = std::fs::read(tmp.join("out-articles/article77.txt")).unwrap();
    assert_eq!(written, TEXT.as_bytes());
    assert!(!tmp.join("out-articles/article78.txt").exists());
    assert!(stderr(&o).contains("1 tasks without a completed annotation left out"));
}

#[test]
fn a_hand_written_brat_folder_imports_to_exactly_its_annotations() {
    let tmp = TestDir::new();
    let dir = tmp.join("brat");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("0001-article12.txt"), TEXT).unwrap();
    let (a, b) = cp("traitors");
    let (c, d) = cp("cowards.\r\n漢字");
    let (e, f) = cp("America");
    let ann = format!(
        "T1\tLoaded_Language {a} {b}\ttraitors\n\
         T2\tName_Calling.Labeling {a} {b}\ttraitors\n\
         T3\tExaggeration,Minimisation {c} {d}\tcowards.  漢字\n\
         #1\tAnnotatorNotes T1\tcorrected\n\
         T4\tFlag-Waving {e} {f};{g} {h}\tAmerica great\n",
        g = cp("great").0,
        h = cp("great").1
    );
    std::fs::write(dir.join("0001-article12.ann"), ann).unwrap();
    std::fs::write(dir.join("annotation.conf"), "[entities]\n").unwrap();
    let (rows, o) = import(&["--brat", s(&dir)], &tmp);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        rows,
        format!(
            "12\tLoaded_Language\t{a}\t{b}\n12\tName_Calling,Labeling\t{a}\t{b}\n\
             12\tExaggeration,Minimisation\t{c}\t{d}\n12\tFlag-Waving\t{e}\t{}\n",
            cp("great").1
        )
    );
    assert_eq!(
        std::fs::read(tmp.join("out-articles/article12.txt")).unwrap(),
        TEXT.as_bytes()
    );
}

#[test]
fn bad_annotations_are_refused_with_file_and_position_and_nothing_is_written() {
    let tmp = TestDir::new();
    let task = |r: Value| json!([{"data": {"text": TEXT, "id": "5"}, "annotations": [{"result": [region("traitors", &["Doubt"]), r]}]}]);
    let cases = [
        (
            region("cowards", &["Propaganda"]),
            "task 1 (data.id 5), annotation result 2: unknown label \"Propaganda\"",
        ),
        (
            json!({"type": "labels", "value": {"start": 80, "end": 99, "labels": ["Doubt"]}}),
            "annotation result 2: offsets 80-99 are outside the text",
        ),
        (
            json!({"type": "labels", "value": {"start": 0, "end": 4, "text": "Then", "labels": ["Doubt"]}}),
            "the text at 0-4 is \"They\", not \"Then\"",
        ),
    ];
    for (r, needle) in cases {
        let file = tmp.write("export.json", task(r).to_string());
        let (_, o) = import(&["--label-studio", s(&file)], &tmp);
        assert_error(&o, needle);
        assert!(stderr(&o).contains("export.json: task 1"), "{}", stderr(&o));
        assert!(!tmp.join("out.labels").exists());
    }
    let dir = tmp.join("brat");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("article3.txt"), TEXT).unwrap();
    std::fs::write(
        dir.join("article3.ann"),
        "T1\tDoubt 0 4\tThey\nT2\tLies 5 8\tare\n",
    )
    .unwrap();
    let (_, o) = import(&["--brat", s(&dir)], &tmp);
    assert_error(&o, "article3.ann:2: T2: unknown label \"Lies\"");
    std::fs::write(dir.join("article3.ann"), "T1\tDoubt 0 4\tThem\n").unwrap();
    let (_, o) = import(&["--brat", s(&dir)], &tmp);
    assert_error(
        &o,
        "article3.ann:1: T1: the text at 0-4 is \"They\", not \"Them\"",
    );
    assert!(!tmp.join("out.labels").exists());
}

/// Sorted lines, to compare row sets.
fn sorted(rows: &str) -> Vec<&str> {
    let mut v: Vec<&str> = rows.lines().collect();
    v.sort_unstable();
    v
}

#[test]
fn export_then_import_unchanged_gives_back_the_predictions_exactly() {
    let tmp = TestDir::new();
    let arts = fixtures().join("train-articles");
    let pred = tmp.join("pred.tsv");
    let o = rhetor(&[
        "predict",
        "--model",
        "fast",
        "--articles",
        s(&arts),
        "--out",
        s(&pred),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pred = std::fs::read_to_string(pred).unwrap();
    assert!(pred.lines().count() > 5, "{pred}");

    // Label Studio: every prediction accepted as it is (copied into the annotation).
    let tasks = tmp.join("tasks.json");
    let o = rhetor(&[
        "export-tasks",
        "--format",
        "label-studio",
        "--model",
        "fast",
        "--articles",
        s(&arts),
        "--out",
        s(&tasks),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let config = std::fs::read_to_string(tmp.join("tasks.label-config.xml")).unwrap();
    assert!(config.contains("<Label value=\"Name_Calling,Labeling\" background=\"#9c755f\""));
    let mut list: Value = serde_json::from_str(&std::fs::read_to_string(&tasks).unwrap()).unwrap();
    for t in list.as_array_mut().unwrap() {
        let result = t["predictions"][0]["result"].clone();
        assert!(result
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["score"].as_f64().is_some()));
        t["annotations"] = json!([{"id": 1, "result": result}]);
    }
    let export = tmp.write("export.json", list.to_string());
    let (rows, o) = import(&["--label-studio", s(&export)], &tmp);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(sorted(&rows), sorted(&pred));
    for id in 9001..=9006 {
        let f = format!("article{id}.txt");
        assert_eq!(
            std::fs::read(tmp.join("out-articles").join(&f)).unwrap(),
            std::fs::read(arts.join(&f)).unwrap(),
            "{f}"
        );
    }

    // brat, in the order of uncertainty.
    let brat = tmp.join("brat");
    let o = rhetor(&[
        "export-tasks",
        "--format",
        "brat",
        "--model",
        "fast",
        "--articles",
        s(&arts),
        "--out",
        s(&brat),
        "--order",
        "uncertainty",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(brat.join("annotation.conf").is_file() && brat.join("visual.conf").is_file());
    assert!(std::fs::read_dir(&brat).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_str()
        .unwrap()
        .starts_with("0001-article")));
    std::fs::remove_file(tmp.join("out.labels")).unwrap();
    let (rows, o) = import(&["--brat", s(&brat)], &tmp);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(sorted(&rows), sorted(&pred));
}

#[test]
fn uncertainty_order_puts_the_least_sure_first() {
    let tmp = TestDir::new();
    let arts = fixtures().join("train-articles");
    let tasks = tmp.join("tasks.json");
    let o = rhetor(&[
        "export-tasks",
        "--format",
        "label-studio",
        "--model",
        "fast",
        "--articles",
        s(&arts),
        "--out",
        s(&tasks),
        "--order",
        "uncertainty",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list: Value = serde_json::from_str(&std::fs::read_to_string(&tasks).unwrap()).unwrap();
    let u: Vec<f64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["data"]["uncertainty"].as_f64().unwrap())
        .collect();
    assert_eq!(u.len(), 6);
    assert!(u.windows(2).all(|w| w[0] >= w[1]), "{u:?}");
    assert!(u[0] > u[5], "{u:?}");
}

#[test]
fn an_archive_exports_its_saved_analyses_by_outlet() {
    let tmp = TestDir::new();
    let db = tmp.join("rhetor.db");
    archive_exports_by_outlet(&tmp, s(&db));
    let o = rhetor(&[
        "export-tasks",
        "--format",
        "brat",
        "--db",
        s(&tmp.join("missing.db")),
        "--out",
        s(&tmp.join("b")),
    ]);
    assert_error(&o, "missing.db: no such archive");
}

#[test]
fn a_postgres_archive_exports_its_saved_analyses_by_outlet() {
    let Some(server) = rhetor_testkit::require(rhetor_testkit::postgres()) else {
        return;
    };
    let pg = server.create_db();
    archive_exports_by_outlet(&TestDir::new(), &pg.url);
}

/// Two outlets' analyses saved in the archive `db`; `export-tasks --db --outlet` gives one's.
fn archive_exports_by_outlet(tmp: &TestDir, db: &str) {
    use rhetor_store::NewArticle;
    let analyzer = rhetor::Analyzer::load_fast().unwrap();
    let (a, b) = {
        let archive = rhetor_store::open(db).unwrap();
        let one = analyzer
            .analyze("They are a gang of traitors and cowards, 漢字 😀.")
            .unwrap();
        let two = analyzer.analyze("The council met on Tuesday.").unwrap();
        (
            archive
                .insert(&NewArticle::new(one.clone()).with_source("Herald"))
                .unwrap(),
            archive
                .insert(&NewArticle::new(two).with_source("Gazette"))
                .unwrap(),
        )
    };
    let out = tmp.join("tasks.json");
    let o = rhetor(&[
        "export-tasks",
        "--format",
        "label-studio",
        "--db",
        db,
        "--outlet",
        "Herald",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["data"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.to_string()]);
    assert_ne!(a, b);
    assert!(list[0]["data"]["text"]
        .as_str()
        .unwrap()
        .contains("漢字 😀"));
}

/// Splits the fixture corpus in two data sets: 9001-9003 and 9004-9006.
fn two_sets(tmp: &TestDir) -> [(std::path::PathBuf, std::path::PathBuf); 2] {
    let c = Corpus::fixtures();
    let gold = std::fs::read_to_string(&c.labels).unwrap();
    let mut out = Vec::new();
    for (name, ids) in [("ptc", 9001..=9003), ("desk", 9004..=9006)] {
        let dir = tmp.join(name);
        std::fs::create_dir(&dir).unwrap();
        let mut rows = String::new();
        for id in ids {
            let f = format!("article{id}.txt");
            std::fs::copy(c.articles.join(&f), dir.join(&f)).unwrap();
            for l in gold.lines().filter(|l| l.starts_with(&format!("{id}\t"))) {
                rows.push_str(l);
                rows.push('\n');
            }
        }
        out.push((dir.clone(), tmp.write(&format!("{name}.labels"), rows)));
    }
    [out[0].clone(), out[1].clone()]
}

fn train_args<'a>(
    sets: &'a [(std::path::PathBuf, std::path::PathBuf)],
    out: &'a Path,
) -> Vec<&'a str> {
    let mut a = vec!["train"];
    for (arts, labels) in sets {
        a.extend_from_slice(&["--articles", s(arts), "--labels", s(labels)]);
    }
    a.extend_from_slice(&["--out", s(out)]);
    a
}

#[test]
fn train_takes_several_data_sets_with_a_weight_and_refuses_a_shared_id() {
    let tmp = TestDir::new();
    let sets = two_sets(&tmp);
    let out = tmp.join("two.rhm");
    let mut a = train_args(&sets, &out);
    a.extend_from_slice(&[
        "--weight",
        "3",
        "--tagger-epochs",
        "2",
        "--classifier-epochs",
        "2",
    ]);
    let o = rhetor(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("read 6 articles"), "{}", stderr(&o));
    let o = rhetor(&["model-info", "--model", s(&out)]);
    // 3 articles once and 3 three times.
    assert!(stdout(&o).contains("12 articles"), "{}", stdout(&o));
    // The same articles in both sets.
    let same = [sets[0].clone(), sets[0].clone()];
    let o = rhetor(&train_args(&same, &out));
    assert_error(&o, "article 9001 is in both");
    let mut a = train_args(&sets, &out);
    a.extend_from_slice(&["--weight", "2", "--cv", "2"]);
    assert_error(&rhetor(&a), "--cv with a --weight above 1");
    let o = rhetor(&[
        "train",
        "--articles",
        s(&sets[0].0),
        "--articles",
        s(&sets[1].0),
        "--labels",
        s(&sets[0].1),
        "--out",
        s(&out),
    ]);
    assert_error(
        &o,
        "give --articles and --labels in pairs (2 --articles, 1 --labels)",
    );
}

/// `--fast FILE` puts a retrained fast model beside the encoder: the desk's retrained fast tier,
/// or (for a clean score) one that never saw the test articles.
#[test]
fn fast_puts_another_fast_model_beside_the_encoder_and_is_refused_without_one() {
    let tmp = TestDir::new();
    let sets = two_sets(&tmp);
    let small = tmp.join("small.rhm");
    let mut a = train_args(&sets[..1], &small);
    a.extend_from_slice(&["--tagger-epochs", "1", "--classifier-epochs", "1"]);
    let o = rhetor(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let arts = s(&sets[1].0);
    let predict = |extra: &[&str], name: &str| {
        let out = tmp.join(name);
        let mut a = vec!["predict", "--articles", arts, "--out", s(&out)];
        a.extend_from_slice(extra);
        let o = rhetor(&a);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(out).unwrap()
    };
    let shipped = predict(&[], "shipped.tsv");
    let swapped = predict(&["--fast", s(&small)], "swapped.tsv");
    // A fast model trained 1 epoch on 3 articles reads these articles differently from the
    // shipped one, so the ensemble's rows change.
    assert_ne!(shipped, swapped);
    // The built-in partner as a file gives back the shipped ensemble exactly.
    let builtin = tmp.join("builtin.rhm");
    std::fs::write(&builtin, include_bytes!("../models/partner.rhm")).unwrap();
    assert_eq!(shipped, predict(&["--fast", s(&builtin)], "same.tsv"));
    // A fast model alone has no ensemble to change.
    let o = rhetor(&[
        "predict",
        "--model",
        "fast",
        "--fast",
        s(&small),
        "--articles",
        arts,
        "--out",
        s(&tmp.join("x.tsv")),
    ]);
    assert_error(&o, "only an encoder model is ensembled with a fast model");
}

#[test]
fn train_from_the_shipped_encoder_on_two_data_sets_runs_end_to_end() {
    // Continuing the shipped model needs no base weights; the rule still applies to encoder tests.
    let _base = require!(rhetor_testkit::encoder_weights());
    let tmp = TestDir::new();
    let sets = two_sets(&tmp);
    let out = tmp.join("desk.rhn");
    let mut a = train_args(&sets, &out);
    a.extend_from_slice(&[
        "--from",
        "accurate",
        "--weight",
        "2",
        "--batch",
        "4",
        "--window",
        "64",
        "--max-steps",
        "2",
        "--lr",
        "3e-5",
        "--head-lr",
        "3e-4",
    ]);
    let o = rhetor(&a);
    let log = stderr(&o);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("step 2/2: loss"), "{log}");
    let info = stdout(&rhetor(&["model-info", "--model", s(&out)]));
    assert!(
        info.contains("9 article passes (0 held out), continued from accurate"),
        "{info}"
    );
    let o = rhetor(&[
        "analyze",
        "--model",
        s(&out),
        "--format",
        "json",
        s(&sample()),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["model"].as_str().unwrap().starts_with("accurate@"));
    // --from and --encoder are two starting points: one at a time.
    let mut a = train_args(&sets, &out);
    a.extend_from_slice(&["--from", "accurate", "--encoder", "weights"]);
    let o = rhetor(&a);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}
