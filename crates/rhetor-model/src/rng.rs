/// A 64-bit linear congruential generator: seeded, reproducible shuffles for training, with no
/// dependency (quality far beyond what shuffling training examples needs).
#[derive(Debug, Clone)]
pub struct Lcg(pub u64);

impl Lcg {
    /// Next value (the high 31 bits of the state).
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// Shuffles in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}
