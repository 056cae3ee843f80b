//! Time and randomness as parameters.

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch (UTC). The storage layer keeps times in this form on every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// This time plus `secs` seconds (saturating).
    pub fn plus_secs(self, secs: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs))
    }

    /// RFC 3339 form, e.g. `2026-05-22T12:02:20Z`.
    pub fn to_rfc3339(self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| self.0.to_string())
    }

    /// Parses an RFC 3339 time such as `2026-05-22T12:02:20Z` or `2026-05-22T21:02:20+09:00`.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| Timestamp(t.unix_timestamp()))
    }
}

/// The source of "now". Production reads the system clock; tests hold a clock they can move.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The source of randomness. Production uses the operating system's CSPRNG; tests may use a
/// seeded generator to make output repeatable.
pub trait Random: Send + Sync {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);

    /// Returns `N` random bytes.
    fn bytes<const N: usize>(&self) -> [u8; N]
    where
        Self: Sized,
    {
        let mut b = [0u8; N];
        self.fill(&mut b);
        b
    }
}

/// `N` random bytes from a `dyn Random`.
pub fn random_bytes<const N: usize>(rng: &dyn Random) -> [u8; N] {
    let mut b = [0u8; N];
    rng.fill(&mut b);
    b
}
