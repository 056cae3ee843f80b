//! PSKC parsing: any bytes, under each way of decrypting, must give a value or an error, never
//! a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_core::import::{parse_pskc, Decryption};

/// RFC 6030 figure 6's pre-shared key, so mutations of that seed reach the MAC and decryption.
const FIGURE6_KEY: [u8; 16] = [
    0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12,
];

fuzz_target!(|data: &[u8]| {
    let _ = parse_pskc(data, &Decryption::None);
    let _ = parse_pskc(data, &Decryption::PreSharedKey(FIGURE6_KEY.to_vec()));
    let _ = parse_pskc(data, &Decryption::Passphrase("qwerty".into()));
});
