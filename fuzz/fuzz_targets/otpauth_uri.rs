//! otpauth:// URI parsing: never a panic; whatever parses writes back to a URI that parses to
//! the same TOTP key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_core::otp::{otpauth_uri, parse_otpauth_uri, OtpKind};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(key) = parse_otpauth_uri(s) else {
        return;
    };
    if key.kind == OtpKind::Totp {
        let issuer = key.issuer.clone().unwrap_or_default();
        let again = otpauth_uri(&issuer, &key.account, key.secret.expose(), key.params);
        if let Ok(back) = parse_otpauth_uri(&again) {
            assert_eq!(back.secret, key.secret);
            assert_eq!(back.params, key.params);
            assert_eq!(back.account, key.account);
        }
    }
});
