//! OATH CSV parsing: any bytes give tokens and rejections or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_core::import::parse_csv;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = parse_csv(data) {
        for t in &parsed.tokens {
            assert!(t.secret.expose().len() >= 16);
            assert!((6..=8).contains(&t.params.digits));
        }
    }
});
