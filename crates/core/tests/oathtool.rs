//! Cross-checks the OTP engine against `oathtool` (OATH Toolkit), an independent implementation.
//!
//! The test skips when `oathtool` is not installed, unless `SEKISHO_REQUIRE_OATHTOOL=1` is set
//! (as CI does), in which case a missing `oathtool` is a failure: a skipped cross-check must not
//! pass silently where it is meant to run.

use sekisho_core::otp::{
    base32_encode, hotp, totp_at, totp_step, verify_hotp, verify_totp, Algorithm, OtpParams,
    TotpCheck,
};
use sekisho_core::Timestamp;
use std::process::Command;

/// Whether `oathtool` can run here; fails the test if it is required and cannot.
fn oathtool_available() -> bool {
    let found = Command::new("oathtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let required = std::env::var("SEKISHO_REQUIRE_OATHTOOL").is_ok_and(|v| v == "1");
    assert!(
        found || !required,
        "SEKISHO_REQUIRE_OATHTOOL=1 but `oathtool` is not on PATH (apt-get install oathtool)"
    );
    if !found {
        eprintln!(
            "skipping: `oathtool` is not on PATH (apt-get install oathtool to run this test)"
        );
    }
    found
}

/// Runs `oathtool` and returns the codes it prints, one a line.
fn oathtool(args: &[String]) -> Vec<String> {
    let out = Command::new("oathtool")
        .args(args)
        .output()
        .unwrap_or_else(|e| unreachable!("oathtool ran a moment ago: {e:?}"));
    assert!(
        out.status.success(),
        "oathtool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Test keys: the RFC seeds, short and odd lengths, and one longer than the SHA-1/SHA-256 block
/// (64 bytes), which HMAC hashes before use.
fn keys() -> Vec<Vec<u8>> {
    let mut state: u32 = 0x2026_0522;
    let mut pseudo = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                // xorshift32: deterministic bytes without an RNG dependency.
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state.to_le_bytes()[0]
            })
            .collect()
    };
    vec![
        b"12345678901234567890".to_vec(),
        b"12345678901234567890123456789012".to_vec(),
        b"1234567890123456789012345678901234567890123456789012345678901234".to_vec(),
        pseudo(20),
        pseudo(10),
        pseudo(1),
        pseudo(100),
    ]
}

const ALGORITHMS: [(Algorithm, &str); 3] = [
    (Algorithm::Sha1, "sha1"),
    (Algorithm::Sha256, "sha256"),
    (Algorithm::Sha512, "sha512"),
];

#[test]
fn totp_matches_oathtool() {
    if !oathtool_available() {
        return;
    }
    // 2026-05-22T12:02:20Z, RFC 6238's times, and 2100-01-01.
    let times = [
        1_779_451_340,
        59,
        1_111_111_111,
        2_000_000_000,
        4_102_444_800,
    ];
    let mut compared = 0;
    for (k, key) in keys().iter().enumerate() {
        for (a, (algorithm, mode)) in ALGORITHMS.iter().enumerate() {
            for (t, unix) in times.iter().enumerate() {
                // Rotate through digits and periods rather than running every combination.
                let digits = 6 + ((k + a + t) % 3) as u32;
                let period = if (k + t) % 2 == 0 { 30 } else { 60 };
                let params = OtpParams {
                    algorithm: *algorithm,
                    digits,
                    period,
                };
                let codes = oathtool(&[
                    format!("--totp={mode}"),
                    format!("--digits={digits}"),
                    format!("--time-step-size={period}"),
                    format!("--now=@{unix}"),
                    "--window=3".into(),
                    hex::encode(key),
                ]);
                assert_eq!(codes.len(), 4, "{codes:?}");
                let now = Timestamp(*unix);
                let step = totp_step(now, period);
                for (i, code) in codes.iter().enumerate() {
                    let s = step + i as i64;
                    assert_eq!(
                        &totp_at(key, s, params),
                        code,
                        "key {k} {mode} digits {digits} period {period} at {unix} step +{i}"
                    );
                    compared += 1;
                }
                assert_eq!(
                    verify_totp(key, &codes[0], now, params, 1, 0, None),
                    TotpCheck::Accepted { step, new_drift: 0 }
                );
            }
        }
    }
    assert_eq!(compared, 7 * 3 * 5 * 4);
}

#[test]
fn hotp_matches_oathtool() {
    if !oathtool_available() {
        return;
    }
    // oathtool's HOTP mode is HMAC-SHA-1 only, as RFC 4226 defines it.
    let counters: [u64; 4] = [0, 1_000, (1 << 32) - 2, 123_456_789_012];
    for (k, key) in keys().iter().enumerate() {
        for (c, counter) in counters.iter().enumerate() {
            let digits = 6 + ((k + c) % 3) as u32;
            let codes = oathtool(&[
                "--hotp".into(),
                format!("--counter={counter}"),
                format!("--digits={digits}"),
                "--window=4".into(),
                hex::encode(key),
            ]);
            assert_eq!(codes.len(), 5, "{codes:?}");
            for (i, code) in codes.iter().enumerate() {
                assert_eq!(
                    &hotp(key, counter + i as u64, Algorithm::Sha1, digits),
                    code,
                    "key {k} counter {counter}+{i} digits {digits}"
                );
            }
            // The last code of the window is found by a look-ahead of 4, not of 3.
            assert_eq!(
                verify_hotp(key, &codes[4], *counter, 4, Algorithm::Sha1, digits),
                Some(counter + 4)
            );
            assert_eq!(
                verify_hotp(key, &codes[4], *counter, 3, Algorithm::Sha1, digits),
                None
            );
        }
    }
}

#[test]
fn base32_and_date_form_match_oathtool() {
    if !oathtool_available() {
        return;
    }
    // The key as a customer would receive it (our base32) gives the same code as the raw key,
    // and oathtool's date form of "now" agrees with our Timestamp.
    let now = Timestamp::parse_rfc3339("2026-05-22T12:02:20Z")
        .unwrap_or_else(|| unreachable!("a valid RFC 3339 time"));
    for key in keys() {
        let params = OtpParams {
            algorithm: Algorithm::Sha256,
            digits: 8,
            period: 30,
        };
        let codes = oathtool(&[
            "--totp=sha256".into(),
            "--digits=8".into(),
            "--time-step-size=30".into(),
            "--now".into(),
            "2026-05-22 12:02:20 UTC".into(),
            "--base32".into(),
            base32_encode(&key),
        ]);
        assert_eq!(codes, [totp_at(&key, totp_step(now, 30), params)]);
    }
}
