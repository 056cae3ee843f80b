//! The `otpauth://` key URI that authenticator apps read from a QR code.

use super::secret::{base32_decode, base32_encode};
use super::{Algorithm, OtpKind, OtpParams};
use crate::import::SecretBytes;
use std::fmt::{self, Write};

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

/// The longest URI [`parse_otpauth_uri`] reads; real ones are under 300 bytes.
pub const MAX_URI_BYTES: usize = 2048;

/// A key read from an `otpauth://` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpauthKey {
    /// `hotp` or `totp`.
    pub kind: OtpKind,
    /// The issuer, from the label prefix or the `issuer` parameter.
    pub issuer: Option<String>,
    /// The account name.
    pub account: String,
    /// The shared secret.
    pub secret: SecretBytes,
    /// Algorithm, digits, period (defaults SHA1, 6, 30).
    pub params: OtpParams,
    /// HOTP: the `counter` parameter. TOTP: 0.
    pub counter: u64,
}

/// Why an `otpauth://` URI was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriError {
    /// Longer than [`MAX_URI_BYTES`].
    TooLong,
    /// Not `otpauth://hotp/…` or `otpauth://totp/…`.
    NotOtpauth,
    /// A bad `%XX` escape, or percent-decoding gave something that is not UTF-8.
    BadEncoding,
    /// The label has no account name.
    MissingAccount,
    /// No `secret` parameter, or one that is not base32.
    BadSecret,
    /// A parameter with a bad value, or given twice; the name says which.
    BadParameter(String),
    /// The label's issuer differs from the `issuer` parameter.
    IssuerMismatch,
    /// An HOTP URI without `counter`.
    MissingCounter,
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UriError::TooLong => write!(f, "the URI is longer than {MAX_URI_BYTES} bytes"),
            UriError::NotOtpauth => write!(f, "not an otpauth://hotp/ or otpauth://totp/ URI"),
            UriError::BadEncoding => write!(f, "bad percent-encoding"),
            UriError::MissingAccount => write!(f, "the label has no account name"),
            UriError::BadSecret => write!(f, "the secret is missing or not base32"),
            UriError::BadParameter(p) => write!(f, "bad or repeated parameter {p}"),
            UriError::IssuerMismatch => {
                write!(f, "the label's issuer differs from the issuer parameter")
            }
            UriError::MissingCounter => write!(f, "an HOTP URI needs a counter"),
        }
    }
}

impl std::error::Error for UriError {}

/// Reads an `otpauth://` key URI, the inverse of [`otpauth_uri`] (and of what token vendors and
/// other servers produce): `otpauth://TYPE/[ISSUER:]ACCOUNT?secret=…[&issuer=…][&algorithm=…]
/// [&digits=…][&period=…][&counter=…]`.
///
/// Only a literal `:` separates issuer and account (a `%3A` belongs to the name), so every URI
/// [`otpauth_uri`] makes reads back to the same values. Parameter names are matched in any
/// letter case; unknown ones (`image`, …) are ignored; a repeated one is an error, as is an
/// issuer parameter that contradicts the label.
pub fn parse_otpauth_uri(uri: &str) -> Result<OtpauthKey, UriError> {
    if uri.len() > MAX_URI_BYTES {
        return Err(UriError::TooLong);
    }
    let uri = uri.trim();
    let rest = uri
        .get(..10)
        .filter(|s| s.eq_ignore_ascii_case("otpauth://"))
        .and_then(|_| uri.get(10..))
        .ok_or(UriError::NotOtpauth)?;
    let (kind, rest) = rest.split_once('/').ok_or(UriError::NotOtpauth)?;
    let kind = OtpKind::parse(kind).ok_or(UriError::NotOtpauth)?;
    let (label, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (label_issuer, account) = match label.split_once(':') {
        Some((i, a)) => (Some(percent_decode(i)?), percent_decode(a)?),
        None => (None, percent_decode(label)?),
    };
    let account = account.trim_start().to_owned();
    if account.is_empty() {
        return Err(UriError::MissingAccount);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut secret = None;
    let mut issuer_param = None;
    let mut params = OtpParams::default();
    let mut counter = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(k)?.to_ascii_lowercase();
        let bad = || UriError::BadParameter(key.clone());
        if seen.contains(&key) {
            return Err(bad());
        }
        seen.push(key.clone());
        let value = percent_decode(v)?;
        match key.as_str() {
            "secret" => {
                secret = Some(
                    base32_decode(&value)
                        .filter(|s| !s.is_empty())
                        .ok_or(UriError::BadSecret)?,
                )
            }
            "issuer" => issuer_param = Some(value),
            "algorithm" => params.algorithm = Algorithm::parse(&value).ok_or_else(bad)?,
            "digits" => params.digits = value.parse().map_err(|_| bad())?,
            "period" => params.period = value.parse().map_err(|_| bad())?,
            "counter" => counter = Some(value.parse::<u64>().map_err(|_| bad())?),
            _ => {}
        }
    }
    if !(super::MIN_DIGITS..=super::MAX_DIGITS).contains(&params.digits) {
        return Err(UriError::BadParameter("digits".into()));
    }
    if params.period == 0 {
        return Err(UriError::BadParameter("period".into()));
    }
    let issuer = match (label_issuer, issuer_param) {
        (Some(a), Some(b)) if a != b => return Err(UriError::IssuerMismatch),
        (Some(a), _) => Some(a),
        (None, b) => b,
    }
    .filter(|i| !i.is_empty());
    let counter = match kind {
        OtpKind::Hotp => counter.ok_or(UriError::MissingCounter)?,
        OtpKind::Totp => 0,
    };
    Ok(OtpauthKey {
        kind,
        issuer,
        account,
        secret: SecretBytes::new(secret.ok_or(UriError::BadSecret)?),
        params,
        counter,
    })
}

/// Decodes `%XX` escapes; the result must be UTF-8. `+` stays a plus sign (the encoder never
/// writes one for a space).
fn percent_decode(s: &str) -> Result<String, UriError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(UriError::BadEncoding)?;
            let hex = std::str::from_utf8(hex).map_err(|_| UriError::BadEncoding)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| UriError::BadEncoding)?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UriError::BadEncoding)
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

    #[test]
    fn parse_round_trips() {
        let params = OtpParams {
            algorithm: Algorithm::Sha512,
            digits: 8,
            period: 60,
        };
        for (issuer, account) in [
            ("北洋証券オンラインサービス", "tanaka taro"),
            ("A:B & Co", "user@example.jp"),
            ("", "a:b%c+d"),
        ] {
            let uri = otpauth_uri(issuer, account, b"12345678901234567890", params);
            let k = parse_otpauth_uri(&uri).unwrap_or_else(|e| unreachable!("{uri}: {e}"));
            assert_eq!(k.kind, OtpKind::Totp);
            assert_eq!(k.issuer.as_deref(), (!issuer.is_empty()).then_some(issuer));
            assert_eq!(k.account, account);
            assert_eq!(k.secret.expose(), b"12345678901234567890");
            assert_eq!(k.params, params);
            assert_eq!(k.counter, 0);
        }
    }

    #[test]
    fn parse_common_forms() {
        let k = parse_otpauth_uri(
            "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (k.issuer.as_deref(), k.account.as_str()),
            (Some("Example"), "alice@google.com")
        );
        assert_eq!(k.params, OtpParams::default());
        let k = parse_otpauth_uri(
            "OTPAUTH://HOTP/ACME:%20bob?SECRET=jbswy3dpehpk3pxp&Counter=42&image=x",
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (k.kind, k.counter, k.account.as_str()),
            (OtpKind::Hotp, 42, "bob")
        );
    }

    #[test]
    fn parse_refusals() {
        let s = "secret=JBSWY3DPEHPK3PXP";
        let cases: [(String, UriError); 14] = [
            ("https://x/y".into(), UriError::NotOtpauth),
            ("otpauth://".into(), UriError::NotOtpauth),
            (format!("otpauth://motp/a?{s}"), UriError::NotOtpauth),
            (format!("otpauth://totp/?{s}"), UriError::MissingAccount),
            ("otpauth://totp/a".into(), UriError::BadSecret),
            ("otpauth://totp/a?secret=0189".into(), UriError::BadSecret),
            (format!("otpauth://totp/a%2?{s}"), UriError::BadEncoding),
            (format!("otpauth://totp/a%ff?{s}"), UriError::BadEncoding),
            (
                format!("otpauth://totp/a?{s}&{s}"),
                UriError::BadParameter("secret".into()),
            ),
            (
                format!("otpauth://totp/a?{s}&digits=5"),
                UriError::BadParameter("digits".into()),
            ),
            (
                format!("otpauth://totp/a?{s}&period=0"),
                UriError::BadParameter("period".into()),
            ),
            (
                format!("otpauth://totp/a?{s}&algorithm=MD5"),
                UriError::BadParameter("algorithm".into()),
            ),
            (
                format!("otpauth://totp/X:a?{s}&issuer=Y"),
                UriError::IssuerMismatch,
            ),
            (format!("otpauth://hotp/a?{s}"), UriError::MissingCounter),
        ];
        for (uri, want) in cases {
            assert_eq!(parse_otpauth_uri(&uri).err(), Some(want), "{uri}");
        }
        assert_eq!(
            parse_otpauth_uri(&format!("otpauth://totp/a?{s}&x={}", "y".repeat(3000))).err(),
            Some(UriError::TooLong)
        );
        // Multi-byte characters where the scheme is expected must not split a character.
        assert_eq!(
            parse_otpauth_uri("otpauth:/éé").err(),
            Some(UriError::NotOtpauth)
        );
        assert_eq!(parse_otpauth_uri("%").err(), Some(UriError::NotOtpauth));
    }
}
