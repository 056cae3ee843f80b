//! Checking codes: TOTP with a window, clock drift and replay protection, HOTP with a look-ahead,
//! and the two-consecutive-codes search used to register or resynchronise a token.
//!
//! These functions decide; they store nothing. The caller writes the returned step (or the
//! counter after the returned one) and drift in the same statement that checks the stored value
//! has not moved meanwhile, so two concurrent logins with one code cannot both succeed.

use super::code::{ct_eq, normalize_code};
use super::replay::is_fresh;
use super::{hotp, totp_at, totp_step, Algorithm, OtpParams, MAX_DIGITS, MIN_DIGITS};
use crate::clock::Timestamp;

/// The most steps or counters one search looks at in each direction, whatever the caller asks:
/// a misconfigured window must not turn one login attempt into minutes of HMAC work.
pub const MAX_SEARCH_STEPS: u32 = 10_000;

/// Why a TOTP code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpReject {
    /// The code matches no step in the window (or is not a code at all).
    Invalid,
    /// The code matches a step already used or older than the last used one: it is right but
    /// spent, so the customer can be told to wait for the next code.
    Replayed,
}

/// The outcome of [`verify_totp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpCheck {
    /// The code is good. Store `step` as the last used step and `new_drift` as the drift.
    Accepted {
        /// The time step the code belongs to.
        step: i64,
        /// How many steps the token is ahead of (positive) or behind (negative) the server.
        new_drift: i64,
    },
    /// The code is refused; nothing is to be stored except, as the caller's policy says, a
    /// failure count.
    Rejected {
        /// Why.
        reason: TotpReject,
    },
}

impl TotpCheck {
    /// Whether the code was accepted.
    pub fn is_accepted(&self) -> bool {
        matches!(self, TotpCheck::Accepted { .. })
    }
}

/// Offsets 0, −1, +1, −2, +2, … up to ±`w`: the nearest step first, and of two equally near
/// the earlier one, since a code typed just as it rolls over is the common case.
fn nearest_first(w: u32) -> impl Iterator<Item = i64> {
    std::iter::once(0).chain((1..=i64::from(w)).flat_map(|d| [-d, d]))
}

/// Whether a normalised code has the length `digits` (as the engine clamps it) gives. The
/// length is public, so refusing early on it costs no secrecy and saves the HMAC work.
fn right_length(given: &str, digits: u32) -> bool {
    given.len() == digits.clamp(MIN_DIGITS, MAX_DIGITS) as usize
}

/// Checks a TOTP `code` as typed (see [`normalize_code`](super::normalize_code)) at `now`.
///
/// The steps tried are (current step + `drift`) ± `window`, nearest first. A step at or before
/// `last_used_step` is never accepted: a code is good once, and an older code after a newer one
/// is refused too. When the code matches only such steps the reason is
/// [`TotpReject::Replayed`]. Every step in the window is computed and compared whatever
/// matched, so the time taken does not depend on the code.
///
/// `new_drift` is the matched step minus the current step (without the old drift), so storing
/// it re-centres the next check on the token's clock.
pub fn verify_totp(
    secret: &[u8],
    code: &str,
    now: Timestamp,
    params: OtpParams,
    window: u32,
    drift: i64,
    last_used_step: Option<i64>,
) -> TotpCheck {
    let invalid = TotpCheck::Rejected {
        reason: TotpReject::Invalid,
    };
    let Some(given) = normalize_code(code) else {
        return invalid;
    };
    if !right_length(&given, params.digits) {
        return invalid;
    }
    let current = totp_step(now, params.period);
    let center = current.saturating_add(drift);
    let mut accepted: Option<i64> = None;
    let mut replayed = false;
    for offset in nearest_first(window.min(MAX_SEARCH_STEPS)) {
        let Some(step) = center.checked_add(offset) else {
            continue;
        };
        if !ct_eq(&totp_at(secret, step, params), &given) {
            continue;
        }
        if !is_fresh(last_used_step, step) {
            replayed = true;
        } else if accepted.is_none() {
            accepted = Some(step);
        }
    }
    match accepted {
        Some(step) => TotpCheck::Accepted {
            step,
            new_drift: step.saturating_sub(current),
        },
        None if replayed => TotpCheck::Rejected {
            reason: TotpReject::Replayed,
        },
        None => invalid,
    }
}

/// Finds two consecutive TOTP codes, `code1` then `code2` one step later, for registering a
/// token or resynchronising one whose clock has drifted beyond the login window. Two codes in a
/// row are a 1-in-10^(2·digits) coincidence, which is what makes a wide search safe here.
///
/// The step of `code2` is searched within the current step ± `max_drift_steps`, nearest first;
/// it must be after `last_used_step`. Returns `(step of code2, drift)`, drift being that step
/// minus the current step; store the step as the last used step and the drift.
pub fn find_consecutive_totp(
    secret: &[u8],
    code1: &str,
    code2: &str,
    now: Timestamp,
    params: OtpParams,
    max_drift_steps: u32,
    last_used_step: Option<i64>,
) -> Option<(i64, i64)> {
    let (c1, c2) = (normalize_code(code1)?, normalize_code(code2)?);
    if !right_length(&c1, params.digits) || !right_length(&c2, params.digits) {
        return None;
    }
    let current = totp_step(now, params.period);
    let w = i64::from(max_drift_steps.min(MAX_SEARCH_STEPS));
    // Each code of the range once, not twice: step s serves as second code and as first code
    // of the pair after it.
    let lo = current.checked_sub(w + 1)?;
    let hi = current.checked_add(w)?;
    let codes: Vec<String> = (lo..=hi).map(|s| totp_at(secret, s, params)).collect();
    let at = |s: i64| {
        usize::try_from(s - lo)
            .ok()
            .and_then(|i| codes.get(i))
            .map_or("", String::as_str)
    };
    nearest_first(max_drift_steps.min(MAX_SEARCH_STEPS))
        .map(|offset| current + offset)
        .filter(|&s2| is_fresh(last_used_step, s2))
        .find(|&s2| ct_eq(at(s2 - 1), &c1) && ct_eq(at(s2), &c2))
        .map(|s2| (s2, s2 - current))
}

/// Checks an HOTP `code` as typed against counters `counter` (the next one expected) up to
/// `counter + look_ahead`, for a token whose button was pressed without logging in. Returns the
/// counter that matched, the lowest if several do; the caller stores that counter + 1, which
/// also refuses every earlier code from then on. All counters in the range are compared, so the
/// time taken does not depend on the code.
pub fn verify_hotp(
    secret: &[u8],
    code: &str,
    counter: u64,
    look_ahead: u32,
    algorithm: Algorithm,
    digits: u32,
) -> Option<u64> {
    let given = normalize_code(code)?;
    if !right_length(&given, digits) {
        return None;
    }
    let mut found = None;
    for i in 0..=u64::from(look_ahead.min(MAX_SEARCH_STEPS)) {
        let Some(c) = counter.checked_add(i) else {
            break;
        };
        if ct_eq(&hotp(secret, c, algorithm, digits), &given) && found.is_none() {
            found = Some(c);
        }
    }
    found
}

/// Finds two consecutive HOTP codes, `code1` at some counter from `counter` to
/// `counter + window` and `code2` at the counter after it, to resynchronise a token pressed
/// more often than the login look-ahead allows (or to register one). Returns the counter of
/// `code2`; the caller stores it + 1. Counters before `counter` are spent and never searched.
pub fn find_consecutive_hotp(
    secret: &[u8],
    code1: &str,
    code2: &str,
    counter: u64,
    window: u32,
    algorithm: Algorithm,
    digits: u32,
) -> Option<u64> {
    let (c1, c2) = (normalize_code(code1)?, normalize_code(code2)?);
    if !right_length(&c1, digits) || !right_length(&c2, digits) {
        return None;
    }
    let last = counter.checked_add(u64::from(window.min(MAX_SEARCH_STEPS)) + 1)?;
    let codes: Vec<String> = (counter..=last)
        .map(|c| hotp(secret, c, algorithm, digits))
        .collect();
    codes
        .windows(2)
        .position(|pair| ct_eq(&pair[0], &c1) && ct_eq(&pair[1], &c2))
        .map(|i| counter + i as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"12345678901234567890";
    /// 2026-05-22T12:02:20Z.
    const NOW: Timestamp = Timestamp(1_779_451_340);

    fn p() -> OtpParams {
        OtpParams::default()
    }

    fn code_at(step: i64) -> String {
        totp_at(SECRET, step, p())
    }

    fn current() -> i64 {
        totp_step(NOW, 30)
    }

    fn accepted(step: i64, new_drift: i64) -> TotpCheck {
        TotpCheck::Accepted { step, new_drift }
    }

    fn rejected(reason: TotpReject) -> TotpCheck {
        TotpCheck::Rejected { reason }
    }

    #[test]
    fn window_accepts_one_step_either_way() {
        let cur = current();
        for d in [-1, 0, 1] {
            let check = verify_totp(SECRET, &code_at(cur + d), NOW, p(), 1, 0, None);
            assert_eq!(check, accepted(cur + d, d), "offset {d}");
            assert!(check.is_accepted());
        }
        for d in [-2, 2, 3] {
            assert_eq!(
                verify_totp(SECRET, &code_at(cur + d), NOW, p(), 1, 0, None),
                rejected(TotpReject::Invalid),
                "offset {d}"
            );
        }
        assert_eq!(
            verify_totp(SECRET, &code_at(cur + 1), NOW, p(), 0, 0, None),
            rejected(TotpReject::Invalid),
            "window 0 is the current step only"
        );
        // Forms a customer types, and garbage.
        let c = code_at(cur);
        let spaced = format!("  {} {}\n", &c[..3], &c[3..]);
        assert_eq!(
            verify_totp(SECRET, &spaced, NOW, p(), 1, 0, None),
            accepted(cur, 0)
        );
        let wide: String = c
            .chars()
            .filter_map(|d| char::from_u32(u32::from(d) - u32::from('0') + 0xFF10))
            .collect();
        assert_eq!(
            verify_totp(SECRET, &wide, NOW, p(), 1, 0, None),
            accepted(cur, 0)
        );
        for bad in ["", "abcdef", "12345", "1234567", &format!("{c}0")] {
            assert_eq!(
                verify_totp(SECRET, bad, NOW, p(), 1, 0, None),
                rejected(TotpReject::Invalid),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn drift_moves_the_window() {
        let cur = current();
        // Two steps ahead is outside the window at first...
        assert_eq!(
            verify_totp(SECRET, &code_at(cur + 2), NOW, p(), 1, 0, None),
            rejected(TotpReject::Invalid)
        );
        // ...one step ahead is accepted and records drift 1...
        let TotpCheck::Accepted { step, new_drift } =
            verify_totp(SECRET, &code_at(cur + 1), NOW, p(), 1, 0, None)
        else {
            unreachable!("one step ahead is inside the window")
        };
        assert_eq!((step, new_drift), (cur + 1, 1));
        // ...and the next login, a minute later with the token still ahead, is centred on it.
        let later = NOW.plus_secs(60);
        let cur2 = totp_step(later, 30);
        assert_eq!(
            verify_totp(
                SECRET,
                &code_at(cur2 + 2),
                later,
                p(),
                1,
                new_drift,
                Some(step)
            ),
            accepted(cur2 + 2, 2)
        );
        // A negative drift works the same way.
        assert_eq!(
            verify_totp(SECRET, &code_at(cur - 3), NOW, p(), 1, -2, None),
            accepted(cur - 3, -3)
        );
        assert_eq!(
            verify_totp(SECRET, &code_at(cur), NOW, p(), 1, -2, None),
            rejected(TotpReject::Invalid),
            "the window follows the drift, away from the server's step"
        );
    }

    #[test]
    fn replay_and_older_codes_are_refused() {
        let cur = current();
        let first = verify_totp(SECRET, &code_at(cur), NOW, p(), 1, 0, None);
        assert_eq!(first, accepted(cur, 0));
        // The same code again, even seconds later in the same step.
        assert_eq!(
            verify_totp(
                SECRET,
                &code_at(cur),
                NOW.plus_secs(5),
                p(),
                1,
                0,
                Some(cur)
            ),
            rejected(TotpReject::Replayed)
        );
        // The previous step's code is still in the window but older than the used one.
        assert_eq!(
            verify_totp(SECRET, &code_at(cur - 1), NOW, p(), 1, 0, Some(cur)),
            rejected(TotpReject::Replayed)
        );
        // The next step's code is fine.
        assert_eq!(
            verify_totp(SECRET, &code_at(cur + 1), NOW, p(), 1, 0, Some(cur)),
            accepted(cur + 1, 1)
        );
        // A wrong code is Invalid, not Replayed, whatever was used before.
        assert_eq!(
            verify_totp(SECRET, &code_at(cur + 5), NOW, p(), 1, 0, Some(cur)),
            rejected(TotpReject::Invalid)
        );
    }

    #[test]
    fn other_parameters_and_extremes() {
        let params = OtpParams {
            algorithm: Algorithm::Sha512,
            digits: 8,
            period: 60,
        };
        let step = totp_step(NOW, 60);
        let code = totp_at(SECRET, step, params);
        assert_eq!(code.len(), 8);
        assert_eq!(
            verify_totp(SECRET, &code, NOW, params, 1, 0, None),
            accepted(step, 0)
        );
        assert_eq!(
            verify_totp(SECRET, &code, NOW, p(), 1, 0, None),
            rejected(TotpReject::Invalid),
            "8 digits against a 6-digit setting"
        );
        // Absurd inputs stay panic-free and refuse.
        let c = code_at(current());
        for (now, drift, window) in [
            (Timestamp(i64::MAX), i64::MAX, u32::MAX),
            (Timestamp(i64::MIN), i64::MIN, u32::MAX),
            (Timestamp(0), 0, u32::MAX),
        ] {
            let _ = verify_totp(SECRET, &c, now, p(), window, drift, Some(i64::MAX));
            let _ = find_consecutive_totp(SECRET, &c, &c, now, p(), window, None);
        }
        assert_eq!(
            verify_hotp(SECRET, "755224", u64::MAX, 10, Algorithm::Sha1, 6),
            None
        );
        assert_eq!(
            find_consecutive_hotp(SECRET, "755224", "287082", u64::MAX, 3, Algorithm::Sha1, 6),
            None
        );
    }

    #[test]
    fn consecutive_totp() {
        let cur = current();
        let find = |a: i64, b: i64, max: u32, used: Option<i64>| {
            find_consecutive_totp(SECRET, &code_at(a), &code_at(b), NOW, p(), max, used)
        };
        assert_eq!(find(cur + 5, cur + 6, 10, None), Some((cur + 6, 6)));
        assert_eq!(find(cur - 8, cur - 7, 10, None), Some((cur - 7, -7)));
        assert_eq!(find(cur - 1, cur, 0, None), Some((cur, 0)));
        assert_eq!(
            find(cur, cur + 1, 0, None),
            None,
            "drift 1 with a maximum of 0"
        );
        assert_eq!(find(cur + 6, cur + 5, 10, None), None, "wrong order");
        assert_eq!(find(cur + 5, cur + 7, 10, None), None, "not consecutive");
        assert_eq!(find(cur + 20, cur + 21, 10, None), None, "too far");
        assert_eq!(
            find(cur + 5, cur + 6, 10, Some(cur + 6)),
            None,
            "second step used"
        );
        assert_eq!(
            find(cur + 5, cur + 6, 10, Some(cur + 5)),
            Some((cur + 6, 6)),
            "only the second code's step must be new"
        );
        let c = code_at(cur);
        assert_eq!(
            find_consecutive_totp(SECRET, "x", &c, NOW, p(), 10, None),
            None
        );
    }

    #[test]
    fn hotp_look_ahead() {
        let h = |c: u64| hotp(SECRET, c, Algorithm::Sha1, 6);
        assert_eq!(
            verify_hotp(SECRET, &h(0), 0, 0, Algorithm::Sha1, 6),
            Some(0)
        );
        assert_eq!(
            verify_hotp(SECRET, &h(3), 0, 5, Algorithm::Sha1, 6),
            Some(3)
        );
        assert_eq!(verify_hotp(SECRET, &h(3), 0, 2, Algorithm::Sha1, 6), None);
        assert_eq!(
            verify_hotp(SECRET, &h(3), 4, 5, Algorithm::Sha1, 6),
            None,
            "spent"
        );
        assert_eq!(
            verify_hotp(SECRET, "287 082", 0, 5, Algorithm::Sha1, 6),
            Some(1)
        );
        assert_eq!(verify_hotp(SECRET, "28708", 0, 5, Algorithm::Sha1, 6), None);
    }

    #[test]
    fn consecutive_hotp() {
        let h = |c: u64| hotp(SECRET, c, Algorithm::Sha256, 8);
        let find = |a: u64, b: u64, counter: u64, window: u32| {
            find_consecutive_hotp(SECRET, &h(a), &h(b), counter, window, Algorithm::Sha256, 8)
        };
        assert_eq!(find(57, 58, 10, 100), Some(58));
        assert_eq!(find(10, 11, 10, 0), Some(11));
        assert_eq!(find(110, 111, 10, 100), Some(111));
        assert_eq!(find(111, 112, 10, 100), None, "beyond the window");
        assert_eq!(find(9, 10, 10, 100), None, "first code spent");
        assert_eq!(find(58, 57, 10, 100), None, "wrong order");
        assert_eq!(find(57, 59, 10, 100), None, "not consecutive");
    }
}
