//! The real clock and the operating system's random number generator, for production wiring.
//! The only module allowed to read either (the workspace `clippy.toml` forbids them elsewhere);
//! the `allow`s sit on the items so they move with this file.

use sekisho_core::{Clock, Random, Timestamp};

/// Reads the system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> Timestamp {
        Timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0),
        )
    }
}

/// Draws from the operating system's CSPRNG.
pub struct OsRandom;

impl Random for OsRandom {
    #[allow(clippy::disallowed_methods, clippy::disallowed_types)]
    fn fill(&self, buf: &mut [u8]) {
        use rand::RngCore;
        rand::rngs::OsRng.fill_bytes(buf);
    }
}
