//! Shared helpers of the example programs.

/// Initializes rshmem or exits with the error message (status 1).
pub fn init_or_exit(program: &str) -> rshmem::Shmem {
    rshmem::init().unwrap_or_else(|e| {
        eprintln!("{program}: {e}");
        std::process::exit(1)
    })
}

/// A small, fast, seedable pseudo-random generator (xorshift64*), so the examples need no
/// dependency and every PE draws a different, reproducible stream.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A uniform float in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
