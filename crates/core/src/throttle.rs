//! The throttle's rule (issue 16 item 2): how many secret-checking requests a client address
//! or a login ID may make, and how long a login ID waits after consecutive wrong passwords.
//!
//! Rates are a generic cell rate algorithm (GCRA, a token bucket kept as one timestamp per key):
//! a key may send `burst` requests at once and then one every `60 s / per_minute`; unlike a
//! fixed one-minute window, no boundary lets a second burst through right after the first. The
//! store applies [`gcra`] in one atomic statement on one row per key, so every instance sharing
//! the database shares the limits; this module is the decision that statement encodes (and the
//! tests that pin it).
//!
//! The growing delay ([`Backoff`]) holds a login ID after its k-th consecutive password
//! failure for `base · 2^(k − free − 1)` seconds, capped: it slows a guesser down without
//! becoming a lock-out tool by itself (the cap is short, and the lock, if any, is the lockout
//! rule's: `password.lockout_mode`).

/// A rate: `burst` requests at once, then `per_minute` a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Sustained requests per minute (at least 1).
    pub per_minute: u32,
    /// Requests allowed at once (at least 1).
    pub burst: u32,
}

impl Rate {
    /// Milliseconds between two requests at the sustained rate (the emission interval).
    pub fn interval_ms(self) -> i64 {
        (60_000 / i64::from(self.per_minute.max(1))).max(1)
    }

    /// How far ahead of now the bucket's theoretical arrival time may run (burst − 1 intervals).
    pub fn tolerance_ms(self) -> i64 {
        self.interval_ms() * i64::from(self.burst.max(1) - 1)
    }
}

/// What one check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// The request may go on.
    pub allowed: bool,
    /// The key's theoretical arrival time after the check (ms since the epoch).
    pub tat_ms: i64,
    /// When refused: milliseconds until a request would be allowed.
    pub retry_after_ms: i64,
}

/// The GCRA decision for a key whose stored arrival time is `tat_ms` (`None`: never seen) and
/// whose growing delay holds it until `hold_until_ms`, at `now_ms`. An allowed request moves
/// the arrival time one interval on; a refused one changes nothing (refusals do not deepen
/// the debt, so a client that backs off gets through as the rate says).
pub fn gcra(tat_ms: Option<i64>, hold_until_ms: i64, now_ms: i64, rate: Rate) -> Checked {
    let tat = tat_ms.map_or(now_ms, |t| t.max(now_ms));
    if hold_until_ms > now_ms {
        return Checked {
            allowed: false,
            tat_ms: tat_ms.unwrap_or(now_ms),
            retry_after_ms: hold_until_ms - now_ms,
        };
    }
    let tolerance = rate.tolerance_ms();
    if tat - now_ms > tolerance {
        Checked {
            allowed: false,
            tat_ms: tat_ms.unwrap_or(now_ms),
            retry_after_ms: tat - tolerance - now_ms,
        }
    } else {
        Checked {
            allowed: true,
            tat_ms: tat + rate.interval_ms(),
            retry_after_ms: 0,
        }
    }
}

/// Whole seconds to tell a refused client (`Retry-After`), at least 1.
pub fn retry_after_secs(ms: i64) -> i64 {
    ((ms + 999) / 1000).max(1)
}

/// The delay that grows with a login ID's consecutive password failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures that cost no wait (typos).
    pub free: u32,
    /// The first wait, in seconds (0: no growing delay).
    pub base_secs: i64,
    /// The longest wait, in seconds.
    pub cap_secs: i64,
}

impl Backoff {
    /// Seconds the login ID waits after its `failures`-th consecutive failure:
    /// `base · 2^(failures − free − 1)`, at most `cap`; 0 up to `free` failures.
    pub fn delay_secs(self, failures: i64) -> i64 {
        let over = failures - i64::from(self.free);
        if over <= 0 || self.base_secs <= 0 {
            return 0;
        }
        let doublings = u32::try_from(over - 1).unwrap_or(u32::MAX).min(40);
        self.base_secs
            .saturating_mul(1_i64 << doublings)
            .min(self.cap_secs.max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_A_MINUTE: Rate = Rate {
        per_minute: 60,
        burst: 5,
    };

    /// Runs `n` checks at `now`, carrying the arrival time; how many were allowed.
    fn allowed(tat: &mut Option<i64>, n: u32, now: i64, rate: Rate) -> u32 {
        let mut ok = 0;
        for _ in 0..n {
            let c = gcra(*tat, 0, now, rate);
            if c.allowed {
                ok += 1;
                *tat = Some(c.tat_ms);
            }
        }
        ok
    }

    #[test]
    fn a_burst_passes_then_the_sustained_rate() {
        let mut tat = None;
        assert_eq!(allowed(&mut tat, 20, 1_000_000, FIVE_A_MINUTE), 5);
        // One more each second (60 a minute).
        assert_eq!(allowed(&mut tat, 20, 1_001_000, FIVE_A_MINUTE), 1);
        assert_eq!(allowed(&mut tat, 20, 1_001_500, FIVE_A_MINUTE), 0);
        assert_eq!(allowed(&mut tat, 20, 1_002_000, FIVE_A_MINUTE), 1);
    }

    #[test]
    fn no_window_boundary_lets_a_second_burst_through() {
        // A fixed window would let 5 through at 59.9 s and 5 more at 60.0 s.
        let rate = Rate {
            per_minute: 5,
            burst: 5,
        };
        let mut tat = None;
        assert_eq!(allowed(&mut tat, 10, 59_900, rate), 5);
        assert_eq!(allowed(&mut tat, 10, 60_000, rate), 0);
        // One interval (12 s) later, one.
        assert_eq!(allowed(&mut tat, 10, 71_900, rate), 1);
    }

    #[test]
    fn a_refusal_says_when_to_come_back_and_changes_nothing() {
        let rate = Rate {
            per_minute: 6,
            burst: 1,
        };
        let first = gcra(None, 0, 0, rate);
        assert!(first.allowed);
        assert_eq!(first.tat_ms, 10_000);
        let second = gcra(Some(first.tat_ms), 0, 4_000, rate);
        assert!(!second.allowed);
        assert_eq!(second.tat_ms, 10_000);
        assert_eq!(second.retry_after_ms, 6_000);
        assert_eq!(retry_after_secs(second.retry_after_ms), 6);
        assert_eq!(retry_after_secs(1), 1);
        assert!(gcra(Some(10_000), 0, 10_000, rate).allowed);
    }

    #[test]
    fn a_hold_refuses_until_it_ends() {
        let c = gcra(None, 5_000, 2_000, FIVE_A_MINUTE);
        assert!(!c.allowed);
        assert_eq!(c.retry_after_ms, 3_000);
        assert!(gcra(None, 5_000, 5_000, FIVE_A_MINUTE).allowed);
    }

    #[test]
    fn the_delay_doubles_from_the_first_failure_past_the_free_ones_and_is_capped() {
        let b = Backoff {
            free: 2,
            base_secs: 1,
            cap_secs: 60,
        };
        let d: Vec<i64> = (0..=10).map(|k| b.delay_secs(k)).collect();
        assert_eq!(d, [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(b.delay_secs(i64::MAX), 60);
        let off = Backoff { base_secs: 0, ..b };
        assert_eq!(off.delay_secs(9), 0);
    }
}
