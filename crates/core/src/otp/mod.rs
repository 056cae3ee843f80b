//! The one-time password engine shared by authenticator apps (TOTP, RFC 6238) and hardware or
//! software tokens (HOTP, RFC 4226, or TOTP with other parameters).
//!
//! Everything here is pure: the time arrives as a [`Timestamp`], randomness through a
//! [`Random`](crate::Random), and a verification returns what the database should record (the
//! step or counter used, the clock drift) instead of recording it, so the store can apply it
//! atomically together with its replay check.

mod code;
mod pair;
pub mod replay;
mod secret;
mod uri;
mod verify;

pub use code::{code_matches, normalize_code};
pub use pair::{check_hotp_pair, check_totp_pair, PairReject, EXPIRED_LOOKBACK_STEPS};
pub use secret::{base32_decode, base32_encode, generate_secret, SECRET_LEN};
pub use uri::{otpauth_uri, parse_otpauth_uri, OtpauthKey, UriError};
pub use verify::{
    find_consecutive_hotp, find_consecutive_totp, verify_hotp, verify_totp, TotpCheck, TotpReject,
    MAX_SEARCH_STEPS,
};

use crate::clock::Timestamp;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};

/// The fewest digits a code may have. Fewer would make a guess too likely to succeed.
pub const MIN_DIGITS: u32 = 6;
/// The most digits a code may have (RFC 4226 allows up to 8 with a 31-bit truncated value).
pub const MAX_DIGITS: u32 = 8;
/// The TOTP period every common authenticator app uses.
pub const DEFAULT_PERIOD: u32 = 30;

/// The HMAC hash function of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Algorithm {
    /// HMAC-SHA-1, the RFC 4226 original and the only one every authenticator app supports.
    #[default]
    #[serde(rename = "SHA1", alias = "sha1")]
    Sha1,
    /// HMAC-SHA-256.
    #[serde(rename = "SHA256", alias = "sha256")]
    Sha256,
    /// HMAC-SHA-512.
    #[serde(rename = "SHA512", alias = "sha512")]
    Sha512,
}

impl Algorithm {
    /// The name used in `otpauth://` URIs and in storage: `SHA1`, `SHA256` or `SHA512`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }

    /// Parses a name in any letter case (token vendors' seed files and URIs differ); also accepts
    /// the hyphenated `SHA-1` spelling.
    pub fn parse(s: &str) -> Option<Algorithm> {
        let s = s.trim();
        let eq = |name: &str| s.eq_ignore_ascii_case(name);
        if eq("SHA1") || eq("SHA-1") {
            Some(Algorithm::Sha1)
        } else if eq("SHA256") || eq("SHA-256") {
            Some(Algorithm::Sha256)
        } else if eq("SHA512") || eq("SHA-512") {
            Some(Algorithm::Sha512)
        } else {
            None
        }
    }
}

/// Whether a token counts button presses (HOTP, RFC 4226) or time steps (TOTP, RFC 6238).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtpKind {
    /// Counter-based.
    Hotp,
    /// Time-based.
    Totp,
}

impl OtpKind {
    /// `hotp` or `totp`, as stored and as written in URIs and seed files.
    pub fn as_str(self) -> &'static str {
        match self {
            OtpKind::Hotp => "hotp",
            OtpKind::Totp => "totp",
        }
    }

    /// Parses `hotp` or `totp` in any letter case.
    pub fn parse(s: &str) -> Option<OtpKind> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("hotp") {
            Some(OtpKind::Hotp)
        } else if s.eq_ignore_ascii_case("totp") {
            Some(OtpKind::Totp)
        } else {
            None
        }
    }
}

/// How a token makes its codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OtpParams {
    /// The HMAC hash function.
    pub algorithm: Algorithm,
    /// Digits per code, [`MIN_DIGITS`]..=[`MAX_DIGITS`].
    pub digits: u32,
    /// Seconds per TOTP step (ignored for HOTP).
    pub period: u32,
}

impl Default for OtpParams {
    /// SHA-1, 6 digits, 30 seconds: what Google Authenticator, Microsoft Authenticator and
    /// FreeOTP all understand (several ignore any other value in the URI and show wrong codes).
    fn default() -> Self {
        OtpParams {
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: DEFAULT_PERIOD,
        }
    }
}

impl OtpParams {
    /// Whether the digits are in range and the period is positive. The engine never panics on
    /// bad values (it clamps them, see [`hotp`] and [`totp_step`]), but configuration and
    /// imported seed files should be refused with this before they are stored.
    pub fn is_valid(&self) -> bool {
        (MIN_DIGITS..=MAX_DIGITS).contains(&self.digits) && self.period > 0
    }
}

/// The HOTP code (RFC 4226) of `secret` at `counter`: HMAC, dynamic truncation to 31 bits, the
/// last `digits` decimal digits, zero-padded.
///
/// `digits` is clamped to [`MIN_DIGITS`]..=[`MAX_DIGITS`] so that a corrupt row can neither make
/// a trivially guessable short code nor ask for more digits than the 31-bit value holds.
pub fn hotp(secret: &[u8], counter: u64, algorithm: Algorithm, digits: u32) -> String {
    let digits = digits.clamp(MIN_DIGITS, MAX_DIGITS);
    let msg = counter.to_be_bytes();
    let value = match algorithm {
        Algorithm::Sha1 => truncated::<Hmac<sha1::Sha1>>(secret, &msg),
        Algorithm::Sha256 => truncated::<Hmac<sha2::Sha256>>(secret, &msg),
        Algorithm::Sha512 => truncated::<Hmac<sha2::Sha512>>(secret, &msg),
    };
    match value {
        Some(v) => format!("{:0width$}", v % 10u32.pow(digits), width = digits as usize),
        // HMAC takes keys of any length, so this does not happen; an empty code matches no
        // input, so the failure is closed rather than a panic in the login path.
        None => String::new(),
    }
}

/// HMAC of `msg` under `key`, dynamically truncated (RFC 4226 §5.3) to a 31-bit number.
fn truncated<M: Mac + KeyInit>(key: &[u8], msg: &[u8]) -> Option<u32> {
    let mut mac = <M as KeyInit>::new_from_slice(key).ok()?;
    mac.update(msg);
    let h = mac.finalize().into_bytes();
    // The low nibble of the last byte picks where the 4 bytes start; with at least 20 bytes of
    // digest and an offset of at most 15 they always fit, `get` only keeps this panic-free.
    let offset = usize::from(h.last()? & 0x0f);
    let b = h.get(offset..offset + 4)?;
    Some(u32::from_be_bytes([b[0] & 0x7f, b[1], b[2], b[3]]))
}

/// The TOTP time step containing `now`: floor(unix seconds / `period`). A `period` of 0 is
/// treated as 1 rather than dividing by zero; floor division keeps times before 1970 monotonic.
pub fn totp_step(now: Timestamp, period: u32) -> i64 {
    now.0.div_euclid(i64::from(period.max(1)))
}

/// The TOTP code of `secret` at time step `step`. Steps before the Unix epoch (negative) have no
/// code: the result is empty, which no input matches.
pub fn totp_at(secret: &[u8], step: i64, params: OtpParams) -> String {
    match u64::try_from(step) {
        Ok(counter) => hotp(secret, counter, params.algorithm, params.digits),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SEED_20: &[u8] = b"12345678901234567890";
    const RFC_SEED_32: &[u8] = b"12345678901234567890123456789012";
    const RFC_SEED_64: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    #[test]
    fn rfc4226_appendix_d() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(
                hotp(RFC_SEED_20, counter as u64, Algorithm::Sha1, 6),
                *want,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn rfc6238_appendix_b() {
        let times = [
            59,
            1111111109,
            1111111111,
            1234567890,
            2000000000,
            20000000000,
        ];
        let cases: [(Algorithm, &[u8], [&str; 6]); 3] = [
            (
                Algorithm::Sha1,
                RFC_SEED_20,
                [
                    "94287082", "07081804", "14050471", "89005924", "69279037", "65353130",
                ],
            ),
            (
                Algorithm::Sha256,
                RFC_SEED_32,
                [
                    "46119246", "68084774", "67062674", "91819424", "90698825", "77737706",
                ],
            ),
            (
                Algorithm::Sha512,
                RFC_SEED_64,
                [
                    "90693936", "25091201", "99943326", "93441116", "38618901", "47863826",
                ],
            ),
        ];
        for (algorithm, seed, expected) in cases {
            let params = OtpParams {
                algorithm,
                digits: 8,
                period: 30,
            };
            for (t, want) in times.iter().zip(expected) {
                let step = totp_step(Timestamp(*t), params.period);
                assert_eq!(totp_at(seed, step, params), want, "{algorithm:?} at {t}");
            }
        }
    }

    #[test]
    fn steps_and_edges() {
        assert_eq!(totp_step(Timestamp(0), 30), 0);
        assert_eq!(totp_step(Timestamp(29), 30), 0);
        assert_eq!(totp_step(Timestamp(30), 30), 1);
        assert_eq!(totp_step(Timestamp(-1), 30), -1, "floor, not truncation");
        assert_eq!(totp_step(Timestamp(7), 0), 7, "period 0 is read as 1");
        assert_eq!(totp_at(RFC_SEED_20, -1, OtpParams::default()), "");
        // Out-of-range digits are clamped, never a panic or a 1-digit code.
        assert_eq!(hotp(RFC_SEED_20, 0, Algorithm::Sha1, 1).len(), 6);
        assert_eq!(hotp(RFC_SEED_20, 0, Algorithm::Sha1, 12).len(), 8);
        // 7 digits: the last seven of RFC 6238's 94287082 (step 1); "07081804" above covers padding.
        assert_eq!(hotp(RFC_SEED_20, 1, Algorithm::Sha1, 7), "4287082");
        // Keys longer than the hash block are hashed first by HMAC; they still work.
        assert_eq!(hotp(&[7u8; 200], 0, Algorithm::Sha256, 6).len(), 6);
        assert_eq!(hotp(&[], 0, Algorithm::Sha1, 6).len(), 6);
    }

    #[test]
    fn algorithm_names_and_params() {
        for a in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
            assert_eq!(Algorithm::parse(a.as_str()), Some(a));
            assert_eq!(Algorithm::parse(&a.as_str().to_lowercase()), Some(a));
            let json = serde_json::to_string(&a).unwrap_or_else(|e| unreachable!("{e:?}"));
            assert_eq!(json, format!("\"{}\"", a.as_str()));
            let back: Algorithm = serde_json::from_str(&json.to_lowercase())
                .unwrap_or_else(|e| unreachable!("{e:?}"));
            assert_eq!(back, a);
        }
        assert_eq!(Algorithm::parse("sha-256"), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::parse("MD5"), None);
        let d = OtpParams::default();
        assert_eq!((d.algorithm, d.digits, d.period), (Algorithm::Sha1, 6, 30));
        assert!(d.is_valid());
        assert!(!OtpParams { digits: 5, ..d }.is_valid());
        assert!(!OtpParams { digits: 9, ..d }.is_valid());
        assert!(!OtpParams { period: 0, ..d }.is_valid());
        assert!(OtpParams {
            digits: 8,
            period: 60,
            ..d
        }
        .is_valid());
    }
}
