//! PSKC parsing: any bytes, under each way of decrypting, must give a value or an error, never
//! a panic, a hang or unbounded memory. The seeds cover RFC 6030, the pre-RFC layouts, encrypted
//! counters and the key-wrap and triple-DES transports; the keys below open them, so mutations
//! reach the MAC checks, the key unwraps and the integer decoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_core::import::{parse_pskc, parse_pskc_with, Decryption, ParseOptions};

/// RFC 6030 figure 6's pre-shared key (also the corpus's AES-128 and Camellia files' key).
const FIGURE6_KEY: [u8; 16] = [
    0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12,
];
/// The corpus's triple-DES key (kw-tripledes, tripledes-cbc).
const TRIPLEDES_KEY: [u8; 24] = [
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0xff,
];

fuzz_target!(|data: &[u8]| {
    let _ = parse_pskc(data, &Decryption::None);
    let _ = parse_pskc(data, &Decryption::PreSharedKey(FIGURE6_KEY.to_vec()));
    let _ = parse_pskc(data, &Decryption::PreSharedKey(TRIPLEDES_KEY.to_vec()));
    let _ = parse_pskc(data, &Decryption::Passphrase("qwerty".into()));
    let short = ParseOptions {
        allow_short_secrets: true,
    };
    if let Ok(parsed) = parse_pskc_with(data, &Decryption::None, short) {
        for t in &parsed.tokens {
            assert!(!t.secret.expose().is_empty());
            assert!(t.drift.abs() <= sekisho_core::import::MAX_DRIFT_STEPS);
        }
    }
});
