//! `rhetor batch`'s readers: JSON Lines records, WARC files (plain and gzipped) with their HTTP
//! responses (chunked, gzip, deflate) and article extraction, the output lines a resume re-reads,
//! and the resume journal. Any input is read or refused with an error; none panics or hangs.
//!
//! The first byte chooses the reader; the rest is its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rhetor::records::{InputRecord, OutputLine};
use rhetor::resume::{journal_path, Output, Target};
use rhetor::sources::{web_article, Input, Raw, Records};
use rhetor::stream::Format;
use std::path::PathBuf;

/// A scratch file of this process (libFuzzer's forks and jobs each have their own), in memory
/// where the system has a tmpfs: resuming syncs files, which on a disk costs milliseconds.
fn scratch(ext: &str) -> PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("rhetor-fuzz-{}.{ext}", std::process::id()))
}

/// Every record of one input file, read as `rhetor batch` reads it (analysis aside).
fn read_all(path: PathBuf) {
    for raw in Records::new(
        vec![Input::from_arg(path.to_str().expect("utf-8 path"))],
        1 << 16,
    ) {
        match raw {
            Ok(Raw::Line { line, bytes }) => {
                if let Ok(rec) = InputRecord::from_json_line(&bytes, line) {
                    assert!(!rec.id.is_empty());
                }
            }
            Ok(Raw::Web {
                uri,
                body,
                chunked,
                encoding,
            }) => {
                let _ = web_article(&uri, body, chunked, encoding.as_deref());
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => {
            let p = scratch("jsonl");
            std::fs::write(&p, rest).expect("scratch file");
            read_all(p);
        }
        1 => {
            let p = scratch("warc");
            std::fs::write(&p, rest).expect("scratch file");
            read_all(p);
        }
        2 => {
            let p = scratch("warc.gz");
            std::fs::write(&p, rest).expect("scratch file");
            read_all(p);
        }
        3 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                for line in text.lines() {
                    let _ = OutputLine::parse(line);
                }
            }
        }
        _ => {
            // A resume: the journal, a NUL, then the output file it describes.
            let (journal, output) = match rest.iter().position(|&b| b == 0) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &[][..]),
            };
            let out = scratch("out.jsonl");
            for format in [Format::Jsonl, Format::Csv] {
                std::fs::write(&out, output).expect("scratch file");
                std::fs::write(journal_path(&out), journal).expect("scratch file");
                if let Ok(o) = Output::open(Target::File(out.clone()), format, b"", true) {
                    let len = std::fs::metadata(&out).expect("output").len();
                    assert!(
                        len <= output.len() as u64,
                        "a resume never grows the output"
                    );
                    drop(o);
                }
            }
        }
    }
});
