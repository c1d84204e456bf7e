//! The one batch API: run a per-article job over many articles in parallel, keeping their order.
//!
//! Every multi-article command (`predict`, `classify`, `attribute`, `bench`) goes through [`pipe`]:
//! each article gets its own `Result`, so that the error of one is reported and counted while the
//! batch goes on, and a progress callback hears how many articles are done.

use crate::{Analysis, Analyzer, Document, Error};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `job` on every item in parallel (rayon) and returns one result per item, in input order.
/// `progress` is called with the number of items finished so far after each one finishes (from
/// worker threads, so it must be `Sync`).
///
/// ```
/// let lens = rhetor::batch::pipe(&["a", "bb", ""], &|_| {}, |s: &&str| {
///     if s.is_empty() { Err("empty") } else { Ok(s.len()) }
/// });
/// assert_eq!(lens, vec![Ok(1), Ok(2), Err("empty")]);
/// ```
pub fn pipe<T, R, E, F>(items: &[T], progress: &(dyn Fn(usize) + Sync), job: F) -> Vec<Result<R, E>>
where
    T: Sync,
    R: Send,
    E: Send,
    F: Fn(&T) -> Result<R, E> + Sync,
{
    let done = AtomicUsize::new(0);
    items
        .par_iter()
        .map(|item| {
            let r = job(item);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            r
        })
        .collect()
}

/// The successful results of a batch, in order, and the errors, in order: the caller reports each
/// error and counts them while keeping what did succeed.
pub fn split<R, E>(results: Vec<Result<R, E>>) -> (Vec<R>, Vec<E>) {
    let mut ok = Vec::with_capacity(results.len());
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(v) => ok.push(v),
            Err(e) => failed.push(e),
        }
    }
    (ok, failed)
}

impl Analyzer {
    /// Analyses many documents in parallel, keeping their order, with one result per document.
    pub fn pipe(
        &self,
        docs: &[Document],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Vec<Result<Analysis, Error>> {
        pipe(docs, progress, |d| self.analyze_document(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn order_is_kept_errors_are_per_item_and_progress_counts_every_item() {
        let items: Vec<usize> = (0..200).collect();
        let seen = Mutex::new(Vec::new());
        let out = pipe(&items, &|n| seen.lock().unwrap().push(n), |&i| {
            if i % 7 == 3 {
                Err(i)
            } else {
                Ok(i * 2)
            }
        });
        for (i, r) in out.iter().enumerate() {
            if i % 7 == 3 {
                assert_eq!(r, &Err(i));
            } else {
                assert_eq!(r, &Ok(i * 2));
            }
        }
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, (1..=200).collect::<Vec<_>>());
        let (ok, failed) = split(out);
        assert_eq!(failed.len(), (0..200).filter(|i| i % 7 == 3).count());
        assert_eq!(ok.len() + failed.len(), 200);
        assert!(ok.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn analyzer_pipe_matches_one_at_a_time() {
        let an = Analyzer::load_fast().unwrap();
        let docs: Vec<Document> = [
            "They are a gang of traitors and cowards.",
            "The weather was mild on Tuesday.",
        ]
        .iter()
        .map(|t| Document::new(*t).unwrap())
        .collect();
        let batch = an.pipe(&docs, &|_| {});
        for (d, r) in docs.iter().zip(batch) {
            let one = an.analyze_document(d).unwrap();
            assert_eq!(
                serde_json::to_string(&r.unwrap()).unwrap(),
                serde_json::to_string(&one).unwrap()
            );
        }
    }
}
