//! Reads the fast model's payload without serde. The bytes are bincode's (what `encode` wrote:
//! little-endian fixed-width numbers, a `u64` length before each vector); this reader copies each
//! weight vector whole, where serde reads it one number at a time, a fifth of a command's start-up
//! for the distilled model's 11 million weights. The small tail (decoding settings) still goes
//! through serde. `tests::hand_read_equals_serde` holds the two readers together.

/// A cursor over payload bytes; every read checks what is left, so a short or altered payload is
/// an error, not a panic.
pub(crate) struct Reader<'a> {
    pub(crate) rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if n > self.rest.len() {
            return Err(format!("the payload ends inside {what}"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64, String> {
        let b = self.take(8, what)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// A vector's length, which must fit in what is left at `size` bytes an element.
    pub(crate) fn len(&mut self, size: usize, what: &str) -> Result<usize, String> {
        let n = self.u64(what)?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n.checked_mul(size).is_some_and(|b| b <= self.rest.len()))
            .ok_or_else(|| format!("{what}: a length of {n} runs past the payload's end"))
    }

    pub(crate) fn f32s(&mut self, what: &str) -> Result<Vec<f32>, String> {
        let n = self.len(4, what)?;
        let b = self.take(n * 4, what)?;
        Ok(crate::huge::collect(
            n,
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))),
        ))
    }

    pub(crate) fn u64s(&mut self, what: &str) -> Result<Vec<u64>, String> {
        let n = self.len(8, what)?;
        let b = self.take(n * 8, what)?;
        Ok(crate::huge::collect(
            n,
            b.chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))),
        ))
    }

    /// `N` floats with no length before them (a fixed-size array).
    pub(crate) fn f32_array<const N: usize>(&mut self, what: &str) -> Result<[f32; N], String> {
        let b = self.take(N * 4, what)?;
        let mut out = [0f32; N];
        for (o, c) in out.iter_mut().zip(b.chunks_exact(4)) {
            *o = f32::from_le_bytes(c.try_into().expect("4 bytes"));
        }
        Ok(out)
    }
}
