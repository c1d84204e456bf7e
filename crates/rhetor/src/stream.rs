//! Streaming batches: records in, one output line (JSONL) or rows (CSV) per record out, in input
//! order, with a bounded number of records in flight, and a resumable output file.
//!
//! [`ordered`] is the engine (a reader thread, `jobs` workers, the caller's thread writing in order);
//! [`run`] wires it to the inputs ([`crate::sources`]), the record shapes ([`crate::records`]) and
//! the output ([`crate::resume`]).

use crate::records::{csv_header, Failure, Outcome};
use crate::resume::{Output, Target};
use crate::sources::{Input, Raw, Records};
use crate::{Analyzer, Error};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Runs `job` over `items` on `jobs` worker threads and hands the results to `sink` in input order.
/// At most `window` items are in flight (read but not yet through `sink`), so memory does not grow
/// with the input, and a slow item stalls the workers only once the `window - 1` items after it are
/// done. An `Err` from `items` ends the reading: the items before it are still worked and sunk, and
/// the error is returned. An `Err` from `sink` stops the run at once (items in flight are dropped)
/// and is returned first.
///
/// There is no reader or writer thread: each worker takes the next item itself, and whoever
/// finishes the item the output waits for writes it, and every finished item after it. On 2 cores a
/// thread that exists only to hand items on would wake, take a core from a worker and sleep again
/// for every record; here a record costs two uncontended locks.
///
/// ```
/// let mut out = Vec::new();
/// rhetor::stream::ordered((0..100).map(Ok::<_, String>), 3, 8, |i| i * 2, |r| {
///     out.push(r);
///     Ok(())
/// })
/// .unwrap();
/// assert_eq!(out, (0..100).map(|i| i * 2).collect::<Vec<_>>());
/// ```
pub fn ordered<T, R, E, I, F, S>(
    items: I,
    jobs: usize,
    window: usize,
    job: F,
    sink: S,
) -> Result<(), E>
where
    I: Iterator<Item = Result<T, E>> + Send,
    T: Send,
    R: Send,
    E: Send,
    F: Fn(T) -> R + Sync,
    S: FnMut(R) -> Result<(), E> + Send,
{
    let window = window.max(1) as u64;
    let input = Mutex::new(Reading {
        items,
        next: 0,
        done: false,
        error: None,
    });
    let space = Condvar::new();
    let space_wanted = AtomicBool::new(false);
    // Items through the sink so far (the window's lower edge), and whether the sink failed.
    let written = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let inbox: Mutex<Vec<(u64, R)>> = Mutex::new(Vec::new());
    let writer = Mutex::new(Writing {
        sink,
        pending: BTreeMap::new(),
        next: 0,
        error: None,
    });
    let worker = || loop {
        // Take the next item, once the window has room for it.
        let (seq, item) = {
            let Ok(mut r) = input.lock() else { return };
            loop {
                if r.done || stop.load(Ordering::SeqCst) {
                    return;
                }
                // The flag goes up before the test, so a writer that moves the edge after the test
                // sees it and wakes this thread (both are sequentially consistent).
                space_wanted.store(true, Ordering::SeqCst);
                if r.next < written.load(Ordering::SeqCst) + window {
                    break;
                }
                r = match space.wait(r) {
                    Ok(r) => r,
                    Err(_) => return,
                };
            }
            match r.items.next() {
                None => {
                    r.done = true;
                    return;
                }
                Some(Err(e)) => {
                    r.done = true;
                    r.error = Some(e);
                    return;
                }
                Some(Ok(t)) => {
                    r.next += 1;
                    (r.next - 1, t)
                }
            }
        };
        let result = job(item);
        if stop.load(Ordering::SeqCst) {
            return;
        }
        // Hand the result in; whoever holds the writer writes it. A thread that finds the writer
        // taken leaves its result in the inbox, and the holder looks at the inbox again after it
        // lets go, so no result is left behind.
        if let Ok(mut b) = inbox.lock() {
            b.push((seq, result));
        }
        loop {
            let Ok(mut w) = writer.try_lock() else { break };
            let items = std::mem::take(&mut *inbox.lock().expect("inbox"));
            for (seq, r) in items {
                w.pending.insert(seq, r);
            }
            while w.error.is_none() {
                let next = w.next;
                let Some(r) = w.pending.remove(&next) else {
                    break;
                };
                if let Err(e) = (w.sink)(r) {
                    w.error = Some(e);
                    stop.store(true, Ordering::SeqCst);
                    break;
                }
                w.next += 1;
            }
            written.store(w.next, Ordering::SeqCst);
            drop(w);
            if space_wanted.swap(false, Ordering::SeqCst) || stop.load(Ordering::SeqCst) {
                // Taking the lock orders this wake-up after the waiter's test.
                drop(input.lock());
                space.notify_all();
            }
            if inbox.lock().map_or(true, |b| b.is_empty()) {
                break;
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(worker);
        }
    });
    let w = writer
        .into_inner()
        .expect("no worker panicked holding the writer");
    let r = input
        .into_inner()
        .expect("no worker panicked holding the input");
    match (w.error, r.error) {
        (Some(e), _) | (None, Some(e)) => Err(e),
        (None, None) => Ok(()),
    }
}

/// The input side of [`ordered`]: the items, the next sequence number, and how reading ended.
struct Reading<I, E> {
    items: I,
    next: u64,
    done: bool,
    error: Option<E>,
}

/// The output side of [`ordered`]: the sink, results waiting for their turn, and the next turn.
struct Writing<S, R, E> {
    sink: S,
    pending: BTreeMap<u64, R>,
    next: u64,
    error: Option<E>,
}

/// The output format of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON line per record: the analysis with `id` and passed-through fields, or an error.
    Jsonl,
    /// One CSV row per span (`records::CSV_HEADER`); failed records write no row.
    Csv,
}

impl Format {
    /// The name used on the command line and in the resume journal.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }
}

/// How a batch runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Output format.
    pub format: Format,
    /// Worker threads.
    pub jobs: usize,
    /// Records in flight at most (read, being analysed, or waiting for their turn to be written).
    pub window: usize,
    /// Continue the output file where a previous run with the same inputs stopped.
    pub resume: bool,
    /// Commit (fsync output and journal) at least this often…
    pub commit_interval: Duration,
    /// …and at least every this many records.
    pub commit_records: u64,
}

impl Options {
    /// Defaults: JSON Lines, one worker per core, 16 records in flight per worker, a commit a second.
    pub fn new(format: Format) -> Options {
        let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
        Options {
            format,
            jobs,
            window: 16 * jobs,
            resume: false,
            commit_interval: Duration::from_secs(1),
            commit_records: 10_000,
        }
    }
}

/// Where a batch stands, after each record written.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Records written by this run.
    pub records: u64,
    /// Of which failed.
    pub failed: u64,
    /// Spans found.
    pub spans: u64,
    /// Bytes of input consumed by the records written (not counting those skipped on resume).
    pub input_bytes: u64,
    /// Records already in the output when this run started (resume).
    pub skipped: u64,
}

/// What a finished batch did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Counts.
    pub progress: Progress,
    /// Time taken by this run.
    pub elapsed: Duration,
}

/// One record's result, formatted on a worker.
struct Done {
    bytes: Vec<u8>,
    spans: usize,
    input_bytes: u64,
    failure: Option<Failure>,
}

/// Runs a batch: every record of `inputs` through `analyzer`, written to `target` in input order.
/// `on_record` hears each record's failure (if any) and the progress after it, in input order,
/// one record at a time (on whichever worker writes that record). With `opts.resume` and a file target, the records already committed to it are skipped.
pub fn run(
    analyzer: &Analyzer,
    inputs: Vec<Input>,
    target: Target,
    opts: &Options,
    on_record: &mut (dyn FnMut(Option<&Failure>, &Progress) + Send),
) -> Result<Summary, Error> {
    for input in &inputs {
        input.check()?;
    }
    let started = Instant::now();
    let header = match opts.format {
        Format::Jsonl => Vec::new(),
        Format::Csv => csv_header(),
    };
    let mut out = Output::open(target, opts.format, &header, opts.resume)?;
    let skip = out.resumed_records();
    let mut progress = Progress {
        skipped: skip,
        ..Progress::default()
    };
    // A JSON-escaped text can take up to 6 bytes a byte (\u00XX); 4× lets through any real article
    // near the limit and keeps a runaway line (a whole dump on one line) out of memory.
    let max_line = analyzer.max_bytes().saturating_mul(4).max(1 << 20);
    let mut records = Records::new(inputs, max_line);
    let mut seen = 0u64;
    // Resuming: the records already written are read again (the order must be the same) but not
    // analysed.
    while seen < skip {
        match records.next() {
            Some(r) => {
                r?;
                seen += 1;
            }
            None => {
                return Err(rhetor_core::Error::Invalid(format!(
                    "cannot resume: the output already holds {skip} records but the input has only {seen}; \
                     resume with the same inputs, or remove the output to start over"
                ))
                .into())
            }
        }
    }
    let format = opts.format;
    let mut last_commit = Instant::now();
    let mut since_commit = 0u64;
    ordered(
        records,
        opts.jobs,
        opts.window,
        |raw: Raw| {
            let input_bytes = raw.input_len();
            let outcome = raw.analyze(analyzer);
            let mut bytes = Vec::new();
            match format {
                Format::Jsonl => outcome.write_jsonl(&mut bytes),
                Format::Csv => outcome.write_csv(&mut bytes),
            }
            Done {
                bytes,
                spans: outcome.n_spans(),
                input_bytes,
                failure: match outcome {
                    Outcome::Failed(f) => Some(f),
                    Outcome::Analysed { .. } => None,
                },
            }
        },
        |done: Done| {
            out.write_record(&done.bytes)?;
            progress.records += 1;
            progress.failed += u64::from(done.failure.is_some());
            progress.spans += done.spans as u64;
            progress.input_bytes += done.input_bytes;
            since_commit += 1;
            if since_commit >= opts.commit_records || last_commit.elapsed() >= opts.commit_interval
            {
                out.commit()?;
                since_commit = 0;
                last_commit = Instant::now();
            }
            on_record(done.failure.as_ref(), &progress);
            Ok(())
        },
    )?;
    out.finish()?;
    Ok(Summary {
        progress,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn ordered_keeps_order_bounds_the_window_and_stops_on_errors() {
        // Uneven work: results finish out of order, are written in order.
        let in_flight = AtomicUsize::new(0);
        let max_seen = AtomicUsize::new(0);
        let mut out = Vec::new();
        ordered(
            (0..300u64).map(|i| {
                let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                max_seen.fetch_max(n, Ordering::SeqCst);
                Ok::<_, String>(i)
            }),
            4,
            10,
            |i| {
                std::thread::sleep(Duration::from_micros((i * 7919) % 500));
                i
            },
            |r| {
                out.push(r);
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(out, (0..300).collect::<Vec<_>>());
        // The reader counts an item before it takes its permit, so one more may be counted.
        assert!(max_seen.load(Ordering::SeqCst) <= 11, "{max_seen:?}");

        let r = ordered(
            (0..1000u64).map(|i| if i == 500 { Err(i) } else { Ok(i) }),
            2,
            4,
            |i| i,
            |_| Ok(()),
        );
        assert_eq!(r, Err(500));
        let mut n = 0;
        let r = ordered(
            (0..1000u64).map(Ok),
            2,
            4,
            |i| i,
            |i| {
                n += 1;
                if i == 10 {
                    Err(i)
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!((r, n), (Err(10), 11));
    }
}
