//! brat: a `.txt` and `.ann` pair per article, with `annotation.conf` and `visual.conf` naming
//! the 14 techniques in rhetor's colours, and the import of a corrected folder.
//!
//! Each span is a `T` line typed by its technique (`T1<TAB>Loaded_Language 12 30<TAB>text`). A
//! comma separates arguments in brat's configuration files, so the three PTC names with a comma
//! are written with a `.` instead (`Name_Calling.Labeling`); import reads both spellings. Files are
//! named `article<ID>`; with an order they are prefixed by their rank (`0001-article<ID>`) so that
//! brat's alphabetical list shows them in that order. Import takes the id from `article<ID>` (rank
//! prefix dropped) or else from the whole file name; a discontinuous annotation becomes one PTC
//! span from its first fragment's start to its last fragment's end.

use super::{
    check_id, check_region, invalid, parse_technique, sort_articles, Corrected, Imported, Task,
};
use crate::corpus::{write_atomic, LabelRow};
use crate::{Document, Error, Span, Technique};
use rhetor_core::brat::{format_text_bound, parse_text_bound};
use rhetor_core::text::DEFAULT_MAX_BYTES;
use std::collections::HashSet;
use std::path::Path;

/// A technique's brat type: its PTC name with `,` written `.`.
pub fn type_name(t: Technique) -> String {
    t.name().replace(',', ".")
}

/// `annotation.conf`: the 14 techniques as entity types.
pub fn annotation_conf() -> String {
    let mut s = String::from(
        "# rhetor: the 14 PTC propaganda techniques (',' in a PTC name is written '.').\n[entities]\n",
    );
    for t in Technique::ALL {
        s.push_str(&type_name(t));
        s.push('\n');
    }
    s.push_str("\n[relations]\n\n[events]\n\n[attributes]\n");
    s
}

/// `visual.conf`: the techniques' display names and colours.
pub fn visual_conf() -> String {
    let mut labels = String::from("[labels]\n");
    let mut drawing = String::from("[drawing]\n");
    for t in crate::render::technique_list() {
        let ty = t.name.replace(',', ".");
        labels.push_str(&format!("{ty} | {}\n", t.name.replace(['_', ','], " ")));
        drawing.push_str(&format!("{ty}\tbgColor:{}\n", t.color));
    }
    format!("{labels}\n{drawing}")
}

/// A task's `.ann` text.
pub fn format_ann(task: &Task) -> String {
    task.detections
        .iter()
        .enumerate()
        .map(|(i, d)| {
            format_text_bound(
                &format!("T{}", i + 1),
                &type_name(d.technique),
                &task.doc,
                &[d.span],
            )
        })
        .collect()
}

/// Writes the tasks into `dir` (created if missing): `article<ID>.txt`/`.ann` (with `ranked`, a
/// `NNNN-` rank prefix), `annotation.conf` and `visual.conf`; every file atomically.
pub fn write_tasks(dir: &Path, tasks: &[Task], ranked: bool) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| rhetor_core::Error::io(dir, e))?;
    for (i, t) in tasks.iter().enumerate() {
        check_id(&t.id, "export")?;
        let stem = if ranked {
            format!("{:04}-article{}", i + 1, t.id)
        } else {
            format!("article{}", t.id)
        };
        write_atomic(&dir.join(format!("{stem}.txt")), t.doc.text().as_bytes())?;
        write_atomic(&dir.join(format!("{stem}.ann")), format_ann(t).as_bytes())?;
    }
    write_atomic(&dir.join("annotation.conf"), annotation_conf().as_bytes())?;
    write_atomic(&dir.join("visual.conf"), visual_conf().as_bytes())?;
    Ok(())
}

/// The article id of a brat file stem.
fn id_of(stem: &str) -> &str {
    let unranked = match stem.split_once('-') {
        Some((rank, rest)) if !rank.is_empty() && rank.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => stem,
    };
    match unranked.strip_prefix("article") {
        Some(id) if !id.is_empty() => id,
        _ => stem,
    }
}

/// Reads every `NAME.ann` of a folder with its `NAME.txt`. Errors name the file and line.
pub fn import_dir(dir: &Path) -> Result<Imported, Error> {
    let rd = std::fs::read_dir(dir).map_err(|e| rhetor_core::Error::io(dir, e))?;
    let mut names = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| rhetor_core::Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".ann") {
            if !stem.starts_with('.') {
                names.push(stem.to_string());
            }
        }
    }
    if names.is_empty() {
        return Err(invalid(format!("{}: no .ann files", dir.display())));
    }
    names.sort();
    let mut out = Imported::default();
    let mut seen = HashSet::new();
    for stem in names {
        let ann_path = dir.join(format!("{stem}.ann"));
        let txt_path = dir.join(format!("{stem}.txt"));
        let doc = Document::read(&txt_path, DEFAULT_MAX_BYTES)?;
        let ann =
            std::fs::read_to_string(&ann_path).map_err(|e| rhetor_core::Error::io(&ann_path, e))?;
        let id = id_of(&stem).to_string();
        let origin = ann_path.display().to_string();
        check_id(&id, &origin)?;
        if !seen.insert(id.clone()) {
            return Err(invalid(format!("{origin}: a second file for article {id}")));
        }
        let rows = parse_ann(&ann, &doc, &id, &origin)?;
        out.articles.push(Corrected::new(id, doc, rows));
    }
    sort_articles(&mut out.articles);
    Ok(out)
}

/// The `T` lines of an `.ann` as rows of article `id`; other lines (events, relations, notes)
/// are not spans and are skipped.
pub fn parse_ann(
    ann: &str,
    doc: &Document,
    id: &str,
    origin: &str,
) -> Result<Vec<LabelRow>, Error> {
    let mut rows = Vec::new();
    for (i, line) in ann.lines().enumerate() {
        let at = |msg: String| invalid(format!("{origin}:{}: {msg}", i + 1));
        let Some(t) = parse_text_bound(line) else {
            continue;
        };
        let t = t.map_err(at)?;
        let technique = parse_technique(&t.kind).ok_or_else(|| {
            at(format!(
                "{}: unknown label {:?} (`rhetor techniques` lists the 14 names)",
                t.id, t.kind
            ))
        })?;
        for &s in &t.spans {
            check_region(doc, s, None).map_err(|e| at(format!("{}: {e}", t.id)))?;
        }
        if let Some(text) = &t.text {
            let stored = rhetor_core::brat::line_text(doc, &t.spans);
            if *text != stored {
                return Err(at(format!(
                    "{}: the text at {} is {stored:?}, not {text:?}: the text changed since the export",
                    t.id,
                    offsets(&t.spans)
                )));
            }
        }
        let (Some(first), Some(last)) = (t.spans.first(), t.spans.last()) else {
            continue;
        };
        rows.push(LabelRow {
            id: id.to_string(),
            technique: Some(technique),
            span: Span::new(first.start(), last.end().max(first.start())),
            line: 0,
        });
    }
    Ok(rows)
}

fn offsets(spans: &[Span]) -> String {
    let v: Vec<String> = spans
        .iter()
        .map(|s| format!("{}-{}", s.start(), s.end()))
        .collect();
    v.join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_file_names() {
        assert_eq!(id_of("article123"), "123");
        assert_eq!(id_of("0007-article123"), "123");
        assert_eq!(id_of("desk-story"), "desk-story");
        assert_eq!(id_of("article"), "article");
    }

    #[test]
    fn the_config_names_every_technique_once() {
        let conf = annotation_conf();
        for t in Technique::ALL {
            assert_eq!(
                conf.lines().filter(|l| *l == type_name(t)).count(),
                1,
                "{t}"
            );
            assert!(visual_conf().contains(&format!("{}\tbgColor:{}", type_name(t), t.color())));
        }
        assert!(!conf.lines().any(|l| !l.starts_with('#') && l.contains(',')));
    }

    #[test]
    fn bad_lines_are_refused_with_file_and_line() {
        let doc = Document::new("Ab 😀\r\ncd").unwrap();
        let err = |ann: &str| parse_ann(ann, &doc, "1", "a.ann").unwrap_err().to_string();
        let ok = "T1\tDoubt 0 2\tAb\n";
        assert!(err(&format!("{ok}T2\tLies 3 4\t😀"))
            .starts_with("a.ann:2: T2: unknown label \"Lies\""));
        assert!(err(&format!("{ok}T2\tDoubt 3 40\t😀"))
            .contains("a.ann:2: T2: offsets 3-40 are outside"));
        assert!(
            err("T1\tDoubt 0 2\tcd").contains("a.ann:1: T1: the text at 0-2 is \"Ab\", not \"cd\"")
        );
        assert!(err("T1\tDoubt x 2\tAb").starts_with("a.ann:1: T1: offsets"));
        let rows = parse_ann("T1\tDoubt 3 7\t😀  c\nT2\tName_Calling.Labeling 0 2;3 4\tAb 😀\n#1\tAnnotatorNotes T1\tnote\n", &doc, "1", "a.ann").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].span, Span::new(0, 4));
        assert_eq!(rows[1].technique, Some(Technique::NameCallingLabeling));
    }
}
