//! Two consecutive codes (OTP1, OTP2), as a token's start-of-use registration (利用開始登録) and
//! resynchronisation (同期ズレ補正) ask for them, with the refusal reasons the Shoko Chukin
//! manual distinguishes: not consecutive, already used, expired, or simply wrong.
//!
//! Like the rest of the engine these functions decide and store nothing; the caller records
//! the returned step or counter atomically.

use super::code::{ct_eq, normalize_code};
use super::replay::is_fresh;
use super::verify::MAX_SEARCH_STEPS;
use super::{hotp, totp_at, totp_step, Algorithm, OtpParams, MAX_DIGITS, MIN_DIGITS};
use crate::clock::Timestamp;

/// How far back (in TOTP steps) a pair is still recognised, to tell an expired pair from a
/// wrong one: 20 steps, ten minutes at 30 s.
pub const EXPIRED_LOOKBACK_STEPS: u32 = 20;

/// Why a pair of codes was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairReject {
    /// Neither a pair nor two codes of this token: counts toward the lock.
    Invalid,
    /// Both are codes of this token, but not one right after the other (or in the wrong
    /// order): the customer should enter two codes shown in a row.
    NotConsecutive,
    /// A consecutive pair, but the second code's step or counter was already used.
    AlreadyUsed,
    /// A consecutive pair from a few minutes ago (TOTP only): the customer should enter the
    /// current codes.
    Expired,
}

fn normalized_pair(code1: &str, code2: &str, digits: u32) -> Option<(String, String)> {
    let len = digits.clamp(MIN_DIGITS, MAX_DIGITS) as usize;
    let (c1, c2) = (normalize_code(code1)?, normalize_code(code2)?);
    (c1.len() == len && c2.len() == len).then_some((c1, c2))
}

/// Offsets 0, −1, +1, … ±`w`: the pair nearest the expected position wins.
fn nearest_first(w: i64) -> impl Iterator<Item = i64> {
    std::iter::once(0).chain((1..=w).flat_map(|d| [-d, d]))
}

/// Checks a TOTP pair: `code2` must belong to a step within `center` ± `max_drift_steps`, where
/// `center` is the current step plus `drift`, after `last_used_step`, and `code1` to the step
/// before it. Returns `(step of code2, new drift)` with the drift measured from the current
/// step (without the old one). Every code of the searched range is computed and compared, so
/// the time taken does not depend on the codes.
#[allow(clippy::too_many_arguments)]
pub fn check_totp_pair(
    secret: &[u8],
    code1: &str,
    code2: &str,
    now: Timestamp,
    params: OtpParams,
    drift: i64,
    max_drift_steps: u32,
    last_used_step: Option<i64>,
) -> Result<(i64, i64), PairReject> {
    let (c1, c2) = normalized_pair(code1, code2, params.digits).ok_or(PairReject::Invalid)?;
    let current = totp_step(now, params.period);
    let center = current.checked_add(drift).ok_or(PairReject::Invalid)?;
    let w = i64::from(max_drift_steps.min(MAX_SEARCH_STEPS));
    let back = w + i64::from(EXPIRED_LOOKBACK_STEPS) + 1;
    let lo = center.checked_sub(back).ok_or(PairReject::Invalid)?;
    let hi = center.checked_add(w).ok_or(PairReject::Invalid)?;
    let mut m1 = Vec::new();
    let mut m2 = Vec::new();
    for s in lo..=hi {
        let code = totp_at(secret, s, params);
        m1.push(ct_eq(&code, &c1));
        m2.push(ct_eq(&code, &c2));
    }
    let at = |v: &[bool], s: i64| {
        usize::try_from(s - lo)
            .ok()
            .and_then(|i| v.get(i).copied())
            .unwrap_or(false)
    };
    let pair_at = |s2: i64| at(&m1, s2 - 1) && at(&m2, s2);
    let mut used = false;
    for s2 in nearest_first(w).map(|o| center + o) {
        if !pair_at(s2) {
            continue;
        }
        if !is_fresh(last_used_step, s2) {
            used = true;
        } else {
            return Ok((s2, s2.saturating_sub(current)));
        }
    }
    if used {
        return Err(PairReject::AlreadyUsed);
    }
    if (lo + 1..center - w).any(pair_at) {
        return Err(
            if last_used_step.is_some_and(|u| (lo + 1..=u).any(pair_at)) {
                PairReject::AlreadyUsed
            } else {
                PairReject::Expired
            },
        );
    }
    if m1.contains(&true) && m2.contains(&true) {
        return Err(PairReject::NotConsecutive);
    }
    Err(PairReject::Invalid)
}

/// Checks an HOTP pair: `code1` at a counter from `counter` (the next one expected) to
/// `counter + window`, `code2` at the one after. Returns the counter of `code2`; the caller
/// stores it + 1. Counters up to `lookback` before `counter` are searched only to recognise an
/// already used pair.
#[allow(clippy::too_many_arguments)]
pub fn check_hotp_pair(
    secret: &[u8],
    code1: &str,
    code2: &str,
    counter: u64,
    window: u32,
    lookback: u32,
    algorithm: Algorithm,
    digits: u32,
) -> Result<u64, PairReject> {
    let (c1, c2) = normalized_pair(code1, code2, digits).ok_or(PairReject::Invalid)?;
    let lo = counter.saturating_sub(u64::from(lookback.min(MAX_SEARCH_STEPS)));
    let hi = counter
        .checked_add(u64::from(window.min(MAX_SEARCH_STEPS)) + 1)
        .ok_or(PairReject::Invalid)?;
    let mut m1 = Vec::new();
    let mut m2 = Vec::new();
    for c in lo..=hi {
        let code = hotp(secret, c, algorithm, digits);
        m1.push(ct_eq(&code, &c1));
        m2.push(ct_eq(&code, &c2));
    }
    let pair_at =
        |i: usize| m1.get(i).copied().unwrap_or(false) && m2.get(i + 1).copied().unwrap_or(false);
    let first_new = usize::try_from(counter - lo).unwrap_or(usize::MAX);
    if let Some(i) = (first_new..m1.len()).find(|&i| pair_at(i)) {
        return Ok(lo + i as u64 + 1);
    }
    if (0..first_new.min(m1.len())).any(pair_at) {
        return Err(PairReject::AlreadyUsed);
    }
    if m1.contains(&true) && m2.contains(&true) {
        return Err(PairReject::NotConsecutive);
    }
    Err(PairReject::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"12345678901234567890";
    const NOW: Timestamp = Timestamp(1_779_451_340);

    fn p() -> OtpParams {
        OtpParams::default()
    }

    fn code(step: i64) -> String {
        totp_at(SECRET, step, p())
    }

    fn cur() -> i64 {
        totp_step(NOW, 30)
    }

    fn totp_pair(
        a: i64,
        b: i64,
        drift: i64,
        max: u32,
        used: Option<i64>,
    ) -> Result<(i64, i64), PairReject> {
        check_totp_pair(SECRET, &code(a), &code(b), NOW, p(), drift, max, used)
    }

    #[test]
    fn totp_registration_cases() {
        let c = cur();
        // OTP1 then OTP2, the second current: registered, drift 0.
        assert_eq!(totp_pair(c - 1, c, 0, 1, None), Ok((c, 0)));
        // One step of skew either way is within a registration's ±1.
        assert_eq!(totp_pair(c, c + 1, 0, 1, None), Ok((c + 1, 1)));
        // The seed's error cases.
        assert_eq!(
            totp_pair(c, c - 1, 0, 1, None),
            Err(PairReject::NotConsecutive),
            "wrong order"
        );
        assert_eq!(
            totp_pair(c - 2, c, 0, 1, None),
            Err(PairReject::NotConsecutive),
            "a code skipped"
        );
        assert_eq!(
            totp_pair(c - 1, c, 0, 1, Some(c)),
            Err(PairReject::AlreadyUsed)
        );
        assert_eq!(
            totp_pair(c - 6, c - 5, 0, 1, None),
            Err(PairReject::Expired),
            "2.5 minutes old"
        );
        assert_eq!(
            totp_pair(c - 6, c - 5, 0, 1, Some(c - 5)),
            Err(PairReject::AlreadyUsed)
        );
        assert_eq!(
            totp_pair(c - 60, c - 59, 0, 1, None),
            Err(PairReject::Invalid),
            "beyond the look-back"
        );
        assert_eq!(
            check_totp_pair(SECRET, "000000", "111111", NOW, p(), 0, 1, None),
            Err(PairReject::Invalid)
        );
        assert_eq!(
            check_totp_pair(SECRET, "12345", &code(c), NOW, p(), 0, 1, None),
            Err(PairReject::Invalid),
            "wrong length"
        );
    }

    #[test]
    fn totp_resynchronisation() {
        let c = cur();
        // A token 8 steps fast: beyond a login's ±1, within a resync's ±10.
        assert_eq!(
            totp_pair(c + 7, c + 8, 0, 1, None),
            Err(PairReject::Invalid),
            "codes ahead of the window are unknown codes"
        );
        assert_eq!(totp_pair(c + 7, c + 8, 0, 10, None), Ok((c + 8, 8)));
        // With the learnt drift the window is centred on the token's clock.
        assert_eq!(totp_pair(c + 11, c + 12, 8, 10, None), Ok((c + 12, 12)));
        assert_eq!(
            totp_pair(c - 12, c - 11, 0, 10, None),
            Err(PairReject::Expired),
            "just beyond ±10"
        );
        // Extremes stay panic-free.
        for (drift, max) in [(i64::MAX, u32::MAX), (i64::MIN, u32::MAX), (0, u32::MAX)] {
            let _ = check_totp_pair(SECRET, &code(c), &code(c), NOW, p(), drift, max, None);
        }
    }

    #[test]
    fn hotp_cases() {
        let h = |c: u64| hotp(SECRET, c, Algorithm::Sha1, 6);
        let pair = |a: u64, b: u64, counter: u64, window: u32| {
            check_hotp_pair(
                SECRET,
                &h(a),
                &h(b),
                counter,
                window,
                100,
                Algorithm::Sha1,
                6,
            )
        };
        assert_eq!(pair(0, 1, 0, 10), Ok(1));
        assert_eq!(pair(9, 10, 0, 10), Ok(10));
        assert_eq!(pair(57, 58, 10, 100), Ok(58), "resync window");
        assert_eq!(
            pair(57, 58, 10, 10),
            Err(PairReject::Invalid),
            "beyond the window"
        );
        assert_eq!(pair(3, 4, 10, 10), Err(PairReject::AlreadyUsed));
        assert_eq!(
            pair(9, 10, 10, 10),
            Err(PairReject::AlreadyUsed),
            "OTP1 spent"
        );
        assert_eq!(pair(12, 14, 10, 10), Err(PairReject::NotConsecutive));
        assert_eq!(pair(14, 13, 10, 10), Err(PairReject::NotConsecutive));
        assert_eq!(
            check_hotp_pair(SECRET, "000000", "111111", 0, 10, 100, Algorithm::Sha1, 6),
            Err(PairReject::Invalid)
        );
        assert_eq!(
            check_hotp_pair(SECRET, &h(0), &h(1), u64::MAX, 10, 100, Algorithm::Sha1, 6),
            Err(PairReject::Invalid)
        );
    }
}
