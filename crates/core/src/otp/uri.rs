//! The `otpauth://` key URI that authenticator apps read from a QR code.

use super::secret::base32_encode;
use super::OtpParams;
use std::fmt::Write;

/// The key URI for registering a TOTP secret in an authenticator app:
/// `otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
///
/// Issuer and account are UTF-8 and percent-encoded (a Japanese issuer name stays readable in
/// the app); only the `:` joining them in the label is literal, so a `:` inside either is
/// encoded and cannot be mistaken for the separator. The issuer is repeated as a parameter
/// because apps differ in which of the two they read. An empty issuer leaves both out.
/// Algorithm, digits and period are always written, even at their defaults, so no app has to
/// guess.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8], params: OtpParams) -> String {
    let mut uri = String::from("otpauth://totp/");
    if !issuer.is_empty() {
        push_encoded(&mut uri, issuer);
        uri.push(':');
    }
    push_encoded(&mut uri, account);
    uri.push_str("?secret=");
    uri.push_str(&base32_encode(secret));
    if !issuer.is_empty() {
        uri.push_str("&issuer=");
        push_encoded(&mut uri, issuer);
    }
    // Writing to a String cannot fail.
    let _ = write!(
        uri,
        "&algorithm={}&digits={}&period={}",
        params.algorithm.as_str(),
        params.digits,
        params.period
    );
    uri
}

/// Appends `s` percent-encoded: every byte of its UTF-8 form outside RFC 3986's unreserved set
/// (`A–Z a–z 0–9 - . _ ~`) becomes `%XX`, so a space is `%20`, never `+`, which some apps would
/// show literally.
fn push_encoded(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Algorithm;
    use super::*;

    #[test]
    fn japanese_issuer() {
        let uri = otpauth_uri(
            "北洋証券オンラインサービス",
            "tanaka taro",
            b"12345678901234567890",
            OtpParams::default(),
        );
        let issuer = "%E5%8C%97%E6%B4%8B%E8%A8%BC%E5%88%B8%E3%82%AA%E3%83%B3%E3%83%A9%E3%82%A4%E3%83%B3%E3%82%B5%E3%83%BC%E3%83%93%E3%82%B9";
        assert_eq!(
            uri,
            format!(
                "otpauth://totp/{issuer}:tanaka%20taro?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
                 &issuer={issuer}&algorithm=SHA1&digits=6&period=30"
            )
        );
        assert!(uri.is_ascii());
    }

    #[test]
    fn separators_and_parameters() {
        let params = OtpParams {
            algorithm: Algorithm::Sha256,
            digits: 8,
            period: 60,
        };
        let uri = otpauth_uri("A:B & Co", "user@example.jp", &[0xff; 5], params);
        assert_eq!(
            uri,
            "otpauth://totp/A%3AB%20%26%20Co:user%40example.jp?secret=77777777\
             &issuer=A%3AB%20%26%20Co&algorithm=SHA256&digits=8&period=60"
        );
        assert_eq!(
            uri.matches(':').count(),
            2,
            "scheme and label separator only"
        );
        let bare = otpauth_uri("", "taro-1_x.y~z", &[0; 5], OtpParams::default());
        assert_eq!(
            bare,
            "otpauth://totp/taro-1_x.y~z?secret=AAAAAAAA&algorithm=SHA1&digits=6&period=30"
        );
    }
}
