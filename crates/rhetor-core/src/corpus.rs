//! Reading and writing the PTC corpus: `article{ID}.txt` folders and label TSVs.

use crate::error::{Error, Result};
use crate::span::Span;
use crate::taxonomy::Technique;
use crate::text::{Document, DEFAULT_MAX_BYTES};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One article of a corpus.
#[derive(Debug, Clone)]
pub struct Article {
    /// The id, `N` in `articleN.txt`.
    pub id: String,
    /// The text.
    pub doc: Document,
}

/// A row of a PTC labels file: `ID<TAB>technique<TAB>start<TAB>end` (TC, FLC), with `?` for an unknown
/// technique, or `ID<TAB>start<TAB>end` (SI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRow {
    /// Article id.
    pub id: String,
    /// The technique, when the row names one.
    pub technique: Option<Technique>,
    /// Code-point span.
    pub span: Span,
    /// 1-based line in the file it was read from (0 when made in memory).
    pub line: usize,
}

impl LabelRow {
    /// The row of a model's detection in article `id`.
    pub fn predicted(id: &str, d: &crate::Detection) -> LabelRow {
        LabelRow {
            id: id.to_string(),
            technique: Some(d.technique),
            span: d.span,
            line: 0,
        }
    }
}

/// The text reflowed into paragraphs of `sentences` lines each, as users paste articles (PTC puts
/// one sentence per line). Each run of line breaks (`\n`, `\r\n`, blank lines) is one boundary;
/// every `sentences`-th is kept and the others become as many spaces as they had characters, so
/// every code-point offset, and so every label, stays valid.
pub fn reflow(text: &str, sentences: usize) -> String {
    let sentences = sentences.max(1);
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let mut boundaries = 0;
    let flush = |run: &mut String, out: &mut String, boundaries: &mut usize| {
        if run.is_empty() {
            return;
        }
        // Count boundaries since the last kept one: every `sentences`-th is kept.
        *boundaries += 1;
        if *boundaries == sentences {
            *boundaries = 0;
            out.push_str(run);
        } else {
            out.extend(run.chars().map(|_| ' '));
        }
        run.clear();
    };
    for c in text.chars() {
        if c == '\n' || c == '\r' {
            run.push(c);
        } else {
            flush(&mut run, &mut out, &mut boundaries);
            out.push(c);
        }
    }
    flush(&mut run, &mut out, &mut boundaries);
    out
}

/// Lists `article{ID}.txt` files in a folder, sorted by id (numerically when ids are numbers).
pub fn list_articles(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(id) = name
            .strip_prefix("article")
            .and_then(|r| r.strip_suffix(".txt"))
        {
            if !id.is_empty() {
                out.push((id.to_string(), entry.path()));
            }
        }
    }
    out.sort_by(|a, b| id_order(&a.0, &b.0));
    Ok(out)
}

/// Orders ids numerically when both are numbers, else as strings.
pub fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// Reads every article of a folder. Fails on the first unreadable one, naming it; fails when the
/// folder has no articles at all.
pub fn read_articles(dir: &Path) -> Result<Vec<Article>> {
    let list = list_articles(dir)?;
    if list.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: no article*.txt files",
            dir.display()
        )));
    }
    list.into_iter()
        .map(|(id, path)| {
            Ok(Article {
                id,
                doc: Document::read(&path, DEFAULT_MAX_BYTES)?,
            })
        })
        .collect()
}

/// Reads a labels file. Each row must have 3 fields (SI) or 4 (TC/FLC; the technique may be `?`);
/// offsets must be integers with `start <= end`. Empty lines are skipped.
pub fn read_labels(path: &Path) -> Result<Vec<LabelRow>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| Error::NotUtf8 {
        origin: path.display().to_string(),
        byte: e.utf8_error().valid_up_to(),
    })?;
    parse_labels(&text, path)
}

/// Parses labels text; `path` names it in errors.
pub fn parse_labels(text: &str, path: &Path) -> Result<Vec<LabelRow>> {
    let err = |line: usize, msg: String| Error::Labels {
        path: path.to_path_buf(),
        line,
        msg,
    };
    let mut rows = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = raw.split('\t').collect();
        let (id, tech, s, e) = match f.len() {
            3 => (f[0], None, f[1], f[2]),
            4 => (f[0], Some(f[1]), f[2], f[3]),
            n => {
                return Err(err(
                    line,
                    format!("expected 3 or 4 tab-separated fields, found {n}"),
                ))
            }
        };
        if id.is_empty() {
            return Err(err(line, "empty article id".into()));
        }
        let technique = match tech {
            None | Some("?") => None,
            Some(t) => Some(
                t.parse::<Technique>()
                    .map_err(|e| err(line, e.to_string()))?,
            ),
        };
        let num = |v: &str, what: &str| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| err(line, format!("{what} {v:?} is not a non-negative integer")))
        };
        let (start, end) = (num(s, "start")?, num(e, "end")?);
        let span = Span::try_new(start, end)
            .ok_or_else(|| err(line, format!("start {start} > end {end}")))?;
        rows.push(LabelRow {
            id: id.to_string(),
            technique,
            span,
            line,
        });
    }
    Ok(rows)
}

/// Checks rows against the articles: every id must be an article, every span inside it.
pub fn check_labels(rows: &[LabelRow], path: &Path, articles: &[Article]) -> Result<()> {
    let len: HashMap<&str, usize> = articles
        .iter()
        .map(|a| (a.id.as_str(), a.doc.len_chars()))
        .collect();
    for r in rows {
        let err = |msg: String| Error::Labels {
            path: path.to_path_buf(),
            line: r.line,
            msg,
        };
        match len.get(r.id.as_str()) {
            None => {
                return Err(err(format!(
                    "article {} is not in the articles folder",
                    r.id
                )))
            }
            Some(&n) if r.span.end() > n => {
                return Err(err(format!(
                    "span {} is past the end of article {} ({n} code points)",
                    r.span, r.id
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Formats rows as TSV: 4 fields when `with_technique` (`?` where unknown), else 3.
pub fn format_labels(rows: &[LabelRow], with_technique: bool) -> String {
    let mut s = Vec::with_capacity(rows.len() * 32);
    write_label_rows(&mut s, rows, with_technique).expect("writing to memory");
    String::from_utf8(s).expect("labels are UTF-8")
}

/// Writes `rows` as [`format_labels`] formats them (a stream of rows, for outputs too large to
/// hold).
pub fn write_label_rows(
    w: &mut impl Write,
    rows: &[LabelRow],
    with_technique: bool,
) -> std::io::Result<()> {
    for r in rows {
        let (start, end) = (r.span.start(), r.span.end());
        if with_technique {
            let t = r.technique.map_or("?", |t| t.name());
            writeln!(w, "{}\t{t}\t{start}\t{end}", r.id)?;
        } else {
            writeln!(w, "{}\t{start}\t{end}", r.id)?;
        }
    }
    Ok(())
}

/// Writes a file atomically: to a temporary file beside it, then renamed over it, so a reader never
/// sees half a file and a crash leaves the old one.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let mut w = AtomicWriter::create(path)?;
    w.write_all(data).map_err(|e| Error::io(path, e))?;
    w.commit()
}

/// A file written as a stream and published whole: the bytes go to a temporary file beside
/// `path`, which [`AtomicWriter::commit`] syncs and renames over it. Until then a reader sees the
/// old file (or none); dropped without a commit (an error, a panic), the temporary file is removed.
pub struct AtomicWriter {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl AtomicWriter {
    /// Starts writing `path` (its folder must exist).
    pub fn create(path: &Path) -> Result<AtomicWriter> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .ok_or_else(|| Error::Invalid(format!("{}: not a file path", path.display())))?;
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io(path, e))?;
        Ok(AtomicWriter {
            path: path.to_path_buf(),
            tmp,
            file: Some(std::io::BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        let file = self.file.take().expect("not yet committed");
        let res = (|| {
            let f = file.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            std::fs::rename(&self.tmp, &self.path)
        })();
        res.map_err(|e| Error::io(&self.path, e))
    }
}

impl Write for AtomicWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.as_mut().expect("not yet committed").write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.file
            .as_mut()
            .expect("not yet committed")
            .write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().expect("not yet committed").flush()
    }
}

impl Drop for AtomicWriter {
    fn drop(&mut self) {
        // Not committed (committing takes the file): the partial file goes.
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes rows as a labels TSV, atomically.
pub fn write_labels(path: &Path, rows: &[LabelRow], with_technique: bool) -> Result<()> {
    write_atomic(path, format_labels(rows, with_technique).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_both_formats_and_report_lines() {
        let p = Path::new("x.labels");
        let rows = parse_labels("1\tDoubt\t0\t5\r\n\n2\t?\t3\t4\n3\t7\t9\n", p).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].technique, Some(Technique::Doubt));
        assert_eq!(rows[1].technique, None);
        assert_eq!(rows[1].line, 3);
        assert_eq!(rows[2].span, Span::new(7, 9));
        let e = parse_labels("1\tDoubt\t0\n1\tDoubt\t0\t5\t6\n", p)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "x.labels:1: start \"Doubt\" is not a non-negative integer"
        );
        let e = parse_labels("1\tDoubt\t0\t5\t6\n", p)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "x.labels:1: expected 3 or 4 tab-separated fields, found 5"
        );
        let e = parse_labels("1\tdoubt\t0\t5\n", p).unwrap_err().to_string();
        assert!(
            e.starts_with("x.labels:1: unknown technique \"doubt\""),
            "{e}"
        );
        let e = parse_labels("1\tDoubt\t9\t5\n", p).unwrap_err().to_string();
        assert_eq!(e, "x.labels:1: start 9 > end 5");
    }

    #[test]
    fn check_labels_catches_offsets_past_the_end() {
        let arts = vec![Article {
            id: "7".into(),
            doc: Document::new("héllo").unwrap(),
        }];
        let p = Path::new("l.tsv");
        let ok = parse_labels("7\t?\t0\t5\n", p).unwrap();
        check_labels(&ok, p, &arts).unwrap();
        let bad = parse_labels("7\t?\t0\t5\n7\t?\t2\t6\n", p).unwrap();
        let e = check_labels(&bad, p, &arts).unwrap_err().to_string();
        assert_eq!(
            e,
            "l.tsv:2: span 2-6 is past the end of article 7 (5 code points)"
        );
        let missing = parse_labels("8\t?\t0\t1\n", p).unwrap();
        assert!(check_labels(&missing, p, &arts)
            .unwrap_err()
            .to_string()
            .contains("article 8 is not"));
    }

    #[test]
    fn write_then_read_roundtrips_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.tsv");
        let rows = parse_labels("1\tSlogans\t0\t5\n2\t?\t3\t4\n", Path::new("m")).unwrap();
        write_labels(&path, &rows, true).unwrap();
        let back = read_labels(&path).unwrap();
        assert_eq!(back, rows);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left behind"
        );
    }

    #[test]
    fn a_streamed_file_appears_whole_on_commit_and_not_at_all_without() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.tsv");
        std::fs::write(&path, "old\n").unwrap();
        let names = || {
            let mut v: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        // Dropped before its commit (an error midway): the old file stays, the partial one goes.
        {
            let mut w = AtomicWriter::create(&path).unwrap();
            w.write_all(b"partial").unwrap();
            assert_eq!(names().len(), 2, "the temporary file is beside the target");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        }
        assert_eq!(names(), ["out.tsv"]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        // Written in pieces larger than its buffer, then committed: all of it, in order.
        let mut w = AtomicWriter::create(&path).unwrap();
        let piece = "x".repeat(50_000) + "\n";
        for _ in 0..5 {
            w.write_all(piece.as_bytes()).unwrap();
        }
        w.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), piece.repeat(5));
        assert_eq!(names(), ["out.tsv"]);
        // A folder that does not exist is an error naming the path.
        let e = AtomicWriter::create(&dir.path().join("no/such.tsv"))
            .err()
            .unwrap();
        assert!(e.to_string().contains("such.tsv"), "{e}");
    }

    #[test]
    fn list_articles_sorts_ids_numerically() {
        let dir = tempfile::tempdir().unwrap();
        for id in ["10", "9", "100"] {
            std::fs::write(dir.path().join(format!("article{id}.txt")), "x").unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let ids: Vec<String> = list_articles(dir.path())
            .unwrap()
            .into_iter()
            .map(|a| a.0)
            .collect();
        assert_eq!(ids, ["9", "10", "100"]);
        assert!(read_articles(&dir.path().join("nope")).is_err());
    }
    #[test]
    fn reflow_keeps_every_code_point_offset() {
        let text = "Title 🙂\n\nOne.\r\n\r\nTwo é.\nThree.\n\nFour.\n";
        let r = reflow(text, 2);
        assert_eq!(r, "Title 🙂  One.\r\n\r\nTwo é. Three.\n\nFour. ");
        assert_eq!(r.chars().count(), text.chars().count());
        for (a, b) in text.chars().zip(r.chars()) {
            assert!(
                a == b || matches!(a, '\n' | '\r') && b == ' ',
                "{a:?} -> {b:?}"
            );
        }
        assert_eq!(reflow("a\nb", 1), "a\nb");
    }
}
