//! The model's big tables on huge pages. The feature tables (16–32 MB) and the weight vectors are read
//! at random, one cache line per feature: with 4 KB pages nearly every read also misses the TLB
//! and walks the page tables, and loading them takes a page fault per 4 KB. Where the kernel
//! grants transparent huge pages on request (`madvise`, the usual default), asking for them before
//! the memory is first written gives 2 MB pages: one fault and one TLB entry per 2 MB. Elsewhere
//! the request is a no-op and nothing changes.

/// A vector of `n` copies of `x`, its memory advised onto huge pages before it is written.
pub(crate) fn filled<T: Copy>(n: usize, x: T) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    advise(&v);
    v.resize(n, x);
    v
}

/// The items of `it` (`n` of them, or about), in a vector advised onto huge pages before it is
/// written.
pub(crate) fn collect<T>(n: usize, it: impl Iterator<Item = T>) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    advise(&v);
    v.extend(it);
    v
}

/// Asks for huge pages under the 2 MB-aligned part of `v`'s buffer (its capacity).
fn advise<T>(v: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        const PAGE: usize = 4096;
        let bytes = v.capacity() * std::mem::size_of::<T>();
        if bytes < 2 * HUGE {
            return;
        }
        let at = v.as_ptr() as usize;
        let (start, end) = ((at + PAGE - 1) & !(PAGE - 1), (at + bytes) & !(PAGE - 1));
        // SAFETY: the range lies inside the vector's own allocation, page-aligned; MADV_HUGEPAGE
        // changes how the pages are backed, never their contents. A refusal is harmless.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_vectors_hold_what_was_asked() {
        let v = super::filled(3 << 20, 7u32);
        assert_eq!(v.len(), 3 << 20);
        assert!(v.iter().all(|&x| x == 7));
        let w = super::collect(5 << 20, (0..5u64 << 20).map(|x| x * 3));
        assert_eq!(w.len(), 5 << 20);
        assert!(w.iter().enumerate().all(|(i, &x)| x == i as u64 * 3));
        assert!(super::filled(0, 1u8).is_empty());
    }
}
