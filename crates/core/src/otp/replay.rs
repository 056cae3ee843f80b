//! The replay rule of every one-time code (authenticator apps, tokens, operators' codes): a
//! time step (TOTP) or counter (HOTP) is accepted once, and only if it is greater than the last
//! accepted one. An older code after a newer one is refused too, so a code seen over a
//! customer's shoulder is useless once a later one was used.
//!
//! The engine applies [`is_fresh`] when it looks for a matching step; the store applies the
//! same test again, atomically, in the statement that records the accepted step
//! (`sekisho_store`'s `replay` module), so two requests with one code cannot both pass.

/// Whether `step` may still be accepted after `last_accepted` (`None`: nothing accepted yet).
///
/// For HOTP the store keeps the *next* expected counter `n`; the last accepted counter is then
/// `n - 1` (see [`last_accepted_counter`]).
pub fn is_fresh(last_accepted: Option<i64>, step: i64) -> bool {
    last_accepted.is_none_or(|last| step > last)
}

/// The last accepted HOTP counter when `next` is the next expected one (`None` before any).
pub fn last_accepted_counter(next: u64) -> Option<i64> {
    next.checked_sub(1)
        .map(|c| i64::try_from(c).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_is_fresh_only_after_the_last_accepted_one() {
        assert!(is_fresh(None, 0));
        assert!(is_fresh(None, -5));
        assert!(is_fresh(Some(10), 11));
        assert!(!is_fresh(Some(10), 10), "the same step twice");
        assert!(!is_fresh(Some(10), 9), "an older step");
        assert!(!is_fresh(Some(i64::MAX), i64::MAX));
    }

    #[test]
    fn hotp_counters_follow_the_same_rule() {
        // The store's next counter is 5: counters 0..=4 are spent.
        let last = last_accepted_counter(5);
        assert_eq!(last, Some(4));
        assert!(!is_fresh(last, 4));
        assert!(is_fresh(last, 5));
        assert_eq!(last_accepted_counter(0), None);
        assert!(is_fresh(last_accepted_counter(0), 0));
    }
}
