//! The output of a batch, and how a killed run resumes it.
//!
//! The guarantee: with a file output, a run killed at any moment (`kill -9`, power loss) and started
//! again with `resume` and the same inputs ends with every input record's output exactly once, in
//! input order, with no torn or repeated line.
//!
//! How: beside `FILE` a journal `FILE.rhetor-journal` records checkpoints `records bytes`: the first
//! `records` input records are in the first `bytes` bytes of `FILE`, and both are on disk. A commit
//! (each second, or every so many records) flushes `FILE`, fsyncs it, then appends a checkpoint to
//! the journal and fsyncs that. Resuming reads the last complete checkpoint, cuts `FILE` back to
//! its `bytes` (dropping whatever was written after it, torn line included) and skips its `records`
//! input records. The journal is removed when a run finishes; a finished JSON Lines output resumes
//! from the output itself (one line per record: the complete lines are the records done).

use crate::stream::Format;
use crate::Error;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Where a batch writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Standard output (not resumable).
    Stdout,
    /// A file (resumable).
    File(PathBuf),
}

/// The journal beside an output file.
pub fn journal_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".rhetor-journal");
    PathBuf::from(name)
}

const MAGIC: &str = "rhetor-batch-journal 1";

fn io(p: &Path, e: std::io::Error) -> Error {
    rhetor_core::Error::io(p, e).into()
}

fn invalid(msg: String) -> Error {
    rhetor_core::Error::Invalid(msg).into()
}

/// A batch's output, written record by record and committed in chunks.
pub struct Output {
    sink: Sink,
    /// Records in the output (committed or not).
    records: u64,
    /// Bytes in the output (committed or not).
    bytes: u64,
    /// Records in the output when it was opened.
    initial: u64,
}

enum Sink {
    Stdout(BufWriter<std::io::Stdout>),
    File {
        path: PathBuf,
        out: BufWriter<File>,
        journal_path: PathBuf,
        journal: File,
    },
}

impl Output {
    /// Opens the output. For a file with `resume`, continues after its last checkpoint (or, for a
    /// finished JSON Lines file, after its last complete line); otherwise starts it afresh with
    /// `header`.
    pub fn open(
        target: Target,
        format: Format,
        header: &[u8],
        resume: bool,
    ) -> Result<Output, Error> {
        let path = match target {
            Target::Stdout => {
                if resume {
                    return Err(invalid(
                        "resuming needs an output file (--out FILE)".to_string(),
                    ));
                }
                let mut w = BufWriter::with_capacity(1 << 16, std::io::stdout());
                w.write_all(header)
                    .map_err(|e| io(Path::new("<stdout>"), e))?;
                return Ok(Output {
                    sink: Sink::Stdout(w),
                    records: 0,
                    bytes: header.len() as u64,
                    initial: 0,
                });
            }
            Target::File(p) => p,
        };
        let jpath = journal_path(&path);
        let start = if !resume {
            None
        } else if jpath.exists() {
            Some(read_journal(&jpath, format)?)
        } else if path.exists() {
            if format != Format::Jsonl {
                return Err(invalid(format!(
                    "cannot resume {}: no journal {} (it is removed when a run finishes); remove the output to start over",
                    path.display(),
                    jpath.display()
                )));
            }
            Some(complete_lines(&path)?)
        } else {
            None
        };
        // A checkpoint before the header was committed is a fresh start.
        let start = start.filter(|&(records, bytes)| records > 0 || bytes >= header.len() as u64);
        let (records, bytes, file) = match start {
            Some((records, bytes)) => {
                let mut f = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&path)
                    .map_err(|e| io(&path, e))?;
                let len = f.metadata().map_err(|e| io(&path, e))?.len();
                if len < bytes {
                    return Err(invalid(format!(
                        "cannot resume {}: it has {len} bytes but its journal records {bytes}; it was changed since (remove it and {} to start over)",
                        path.display(),
                        jpath.display()
                    )));
                }
                // Whatever follows the checkpoint (a torn line, lines not committed) is redone.
                f.set_len(bytes).map_err(|e| io(&path, e))?;
                f.seek(SeekFrom::End(0)).map_err(|e| io(&path, e))?;
                f.sync_all().map_err(|e| io(&path, e))?;
                (records, bytes, f)
            }
            None => {
                let mut f = File::create(&path).map_err(|e| io(&path, e))?;
                f.write_all(header).map_err(|e| io(&path, e))?;
                f.sync_all().map_err(|e| io(&path, e))?;
                (0, header.len() as u64, f)
            }
        };
        // A fresh journal holding just the starting checkpoint, swapped in atomically.
        let mut tmp = jpath.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        {
            let mut j = File::create(&tmp).map_err(|e| io(&tmp, e))?;
            writeln!(j, "{MAGIC} {}\n{records} {bytes}", format.name()).map_err(|e| io(&tmp, e))?;
            j.sync_all().map_err(|e| io(&tmp, e))?;
        }
        std::fs::rename(&tmp, &jpath).map_err(|e| io(&jpath, e))?;
        sync_dir(&path)?;
        let journal = OpenOptions::new()
            .append(true)
            .open(&jpath)
            .map_err(|e| io(&jpath, e))?;
        Ok(Output {
            sink: Sink::File {
                path,
                out: BufWriter::with_capacity(1 << 16, file),
                journal_path: jpath,
                journal,
            },
            records,
            bytes,
            initial: records,
        })
    }

    /// Records already in the output when it was opened (the input records to skip).
    pub fn resumed_records(&self) -> u64 {
        self.initial
    }

    /// Appends one record's output (a line, or CSV rows, possibly none).
    pub fn write_record(&mut self, bytes: &[u8]) -> Result<(), Error> {
        match &mut self.sink {
            Sink::Stdout(w) => w
                .write_all(bytes)
                .map_err(|e| io(Path::new("<stdout>"), e))?,
            Sink::File { path, out, .. } => out.write_all(bytes).map_err(|e| io(path, e))?,
        }
        self.records += 1;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Makes everything written so far durable, and records the checkpoint.
    pub fn commit(&mut self) -> Result<(), Error> {
        match &mut self.sink {
            Sink::Stdout(w) => w.flush().map_err(|e| io(Path::new("<stdout>"), e)),
            Sink::File {
                path,
                out,
                journal_path,
                journal,
            } => {
                out.flush().map_err(|e| io(path, e))?;
                out.get_ref().sync_data().map_err(|e| io(path, e))?;
                // One write of one short line: it lands whole or, torn, without its newline.
                journal
                    .write_all(format!("{} {}\n", self.records, self.bytes).as_bytes())
                    .map_err(|e| io(journal_path, e))?;
                journal.sync_data().map_err(|e| io(journal_path, e))
            }
        }
    }

    /// Commits, and ends the run: the journal is removed.
    pub fn finish(mut self) -> Result<(), Error> {
        self.commit()?;
        if let Sink::File {
            path, journal_path, ..
        } = &self.sink
        {
            std::fs::remove_file(journal_path).map_err(|e| io(journal_path, e))?;
            sync_dir(path)?;
        }
        Ok(())
    }
}

/// Makes a file's creation, rename or removal durable (fsync of its folder).
fn sync_dir(file: &Path) -> Result<(), Error> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Some file systems refuse to open or sync a folder; the data files are synced regardless.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The last complete checkpoint of a journal.
fn read_journal(path: &Path, format: Format) -> Result<(u64, u64), Error> {
    let mut text = String::new();
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|e| io(path, e))?;
    let mut lines = text.split_inclusive('\n');
    let head = lines.next().unwrap_or("");
    let written_as = head.trim_end().strip_prefix(MAGIC).map(str::trim);
    match written_as {
        Some(f) if f == format.name() => {}
        Some(f) => {
            return Err(invalid(format!(
                "cannot resume: the output was written as --format {f}, not {}",
                format.name()
            )))
        }
        None => {
            return Err(invalid(format!(
                "{}: not a rhetor batch journal",
                path.display()
            )))
        }
    }
    let last = lines
        .filter(|l| l.ends_with('\n'))
        .filter_map(|l| {
            let (r, b) = l.trim_end().split_once(' ')?;
            Some((r.parse().ok()?, b.parse().ok()?))
        })
        .next_back();
    Ok(last.unwrap_or((0, 0)))
}

/// Records and bytes of the complete lines of a JSON Lines output.
fn complete_lines(path: &Path) -> Result<(u64, u64), Error> {
    let f = File::open(path).map_err(|e| io(path, e))?;
    let mut r = BufReader::with_capacity(1 << 16, f);
    let (mut lines, mut bytes, mut pos) = (0u64, 0u64, 0u64);
    loop {
        let buf = r.fill_buf().map_err(|e| io(path, e))?;
        if buf.is_empty() {
            return Ok((lines, bytes));
        }
        for (i, &b) in buf.iter().enumerate() {
            if b == b'\n' {
                lines += 1;
                bytes = pos + i as u64 + 1;
            }
        }
        let n = buf.len();
        pos += n as u64;
        r.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("rhetor-resume-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_resumed_output_keeps_the_committed_prefix_and_drops_the_rest() {
        let d = dir();
        let p = d.join("out.jsonl");
        let mut o = Output::open(Target::File(p.clone()), Format::Jsonl, b"", false).unwrap();
        o.write_record(b"{\"id\":1}\n").unwrap();
        o.write_record(b"{\"id\":2}\n").unwrap();
        o.commit().unwrap();
        o.write_record(b"{\"id\":3}\n").unwrap();
        o.write_record(b"{\"id\":4").unwrap(); // torn
        drop(o); // flushed by BufWriter's drop: past the checkpoint, as after a kill
                 // A torn journal entry too.
        OpenOptions::new()
            .append(true)
            .open(journal_path(&p))
            .unwrap()
            .write_all(b"4 3")
            .unwrap();
        let o = Output::open(Target::File(p.clone()), Format::Jsonl, b"", true).unwrap();
        assert_eq!(o.resumed_records(), 2);
        assert_eq!(std::fs::read(&p).unwrap(), b"{\"id\":1}\n{\"id\":2}\n");
        o.finish().unwrap();
        assert!(!journal_path(&p).exists());
        // Finished JSON Lines: resumes from its complete lines.
        std::fs::write(&p, b"a\nb\nc").unwrap();
        let o = Output::open(Target::File(p.clone()), Format::Jsonl, b"", true).unwrap();
        assert_eq!(o.resumed_records(), 2);
        assert_eq!(std::fs::read(&p).unwrap(), b"a\nb\n");
        o.finish().unwrap();
        // A CSV output keeps its header, and refuses to resume as JSON Lines.
        let c = d.join("out.csv");
        let mut o = Output::open(Target::File(c.clone()), Format::Csv, b"h\n", false).unwrap();
        o.write_record(b"").unwrap();
        o.commit().unwrap();
        drop(o);
        assert!(Output::open(Target::File(c.clone()), Format::Jsonl, b"", true).is_err());
        let o = Output::open(Target::File(c.clone()), Format::Csv, b"h\n", true).unwrap();
        assert_eq!(o.resumed_records(), 1);
        o.finish().unwrap();
        assert_eq!(std::fs::read(&c).unwrap(), b"h\n");
        let _ = std::fs::remove_dir_all(d);
    }
}
