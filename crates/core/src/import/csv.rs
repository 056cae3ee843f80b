//! OATH CSV, the plain seed format many token vendors also offer. Sekisho reads:
//!
//! ```text
//! # comment lines and blank lines are skipped
//! serial,secret,type,digits,counter_or_period,algorithm      <- optional header line
//! VSMT25772182,3132333435363738393031323334353637383930,totp,6,30
//! ABC-0001,base32:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,hotp,6,0,SHA1
//! ```
//!
//! One token per line; fields separated by commas, spaces around them ignored; no quoting.
//! - `serial`: the token ID (1 to 64 letters, digits, `- _ . :`; stored upper case).
//! - `secret`: hex or base32, optionally prefixed `hex:` or `base32:`. Without a prefix, a
//!   value of hex digits only with an even length is hex, anything else base32.
//! - `type`: `hotp` or `totp`.
//! - `digits`: 6 to 8; empty means 6.
//! - `counter_or_period`: HOTP the next counter (empty: 0), TOTP the period in seconds
//!   (empty: 30).
//! - `algorithm` (optional sixth field): `SHA1` (default), `SHA256` or `SHA512`.

use super::{
    check_params, check_secret, normalize_token_id, parse_bounded, ImportError, ImportedToken,
    Location, ParseOptions, ParsedFile, MAX_COUNTER, MAX_ENTRIES, MAX_FILE_BYTES, MAX_PERIOD,
};
use crate::otp::{base32_decode, Algorithm, OtpKind, OtpParams, DEFAULT_PERIOD, MAX_DIGITS};

/// The longest line read; longer lines are rejected without being split.
const MAX_LINE_BYTES: usize = 1024;

/// Reads an OATH CSV file (format above) with the default options.
pub fn parse_csv(bytes: &[u8]) -> Result<ParsedFile, ImportError> {
    parse_csv_with(bytes, ParseOptions::default())
}

/// Reads an OATH CSV file (format above). A file without a single token line is an
/// [`ImportError::NoKeyPackage`].
pub fn parse_csv_with(bytes: &[u8], options: ParseOptions) -> Result<ParsedFile, ImportError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ImportError::NotUtf8)?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut out = ParsedFile::default();
    let mut entries = 0usize;
    let mut seen_data = false;
    for (i, raw) in text.split('\n').enumerate() {
        let location = Location::Line(i + 1);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let first = line.split(',').next().unwrap_or_default().trim();
        if !seen_data && first.eq_ignore_ascii_case("serial") {
            seen_data = true;
            continue;
        }
        seen_data = true;
        entries += 1;
        if entries > MAX_ENTRIES {
            return Err(ImportError::TooManyEntries);
        }
        match read_line(line, options) {
            Ok(token) => out.push(ImportedToken { location, ..token }),
            Err((id, reason)) => out.reject(location, id, reason),
        }
    }
    if entries == 0 {
        return Err(ImportError::NoKeyPackage(
            "the CSV file has no token line (only blank lines, comments or a header)".into(),
        ));
    }
    Ok(out)
}

/// A line's refusal: its token ID if known, and why.
type Refusal = (Option<String>, String);

fn read_line(line: &str, options: ParseOptions) -> Result<ImportedToken, Refusal> {
    if line.len() > MAX_LINE_BYTES {
        return Err((
            None,
            format!("the line is longer than {MAX_LINE_BYTES} bytes"),
        ));
    }
    if line.contains('"') {
        return Err((None, "quoted fields are not supported".into()));
    }
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if !(5..=6).contains(&fields.len()) {
        return Err((
            None,
            format!("{} fields; expected 5 or 6 (serial,secret,type,digits,counter_or_period[,algorithm])", fields.len()),
        ));
    }
    let field = |i: usize| fields.get(i).copied().unwrap_or_default();
    let token_id = normalize_token_id(field(0)).ok_or_else(|| {
        (
            None,
            "the serial is not 1 to 64 letters, digits or - _ . :".to_owned(),
        )
    })?;
    let fail = |reason: String| (Some(token_id.clone()), reason);

    let secret = decode_secret(field(1))
        .ok_or_else(|| fail("the secret is neither hex nor base32".into()))?;
    check_secret(&secret, options).map_err(fail)?;
    let kind =
        OtpKind::parse(field(2)).ok_or_else(|| fail("the type is neither hotp nor totp".into()))?;
    let digits = match field(3) {
        "" => 6,
        d => parse_bounded(d, "digits", u64::from(MAX_DIGITS)).map_err(fail)? as u32,
    };
    let algorithm = match field(5) {
        "" => Algorithm::Sha1,
        a => Algorithm::parse(a)
            .ok_or_else(|| fail("the algorithm is not SHA1, SHA256 or SHA512".into()))?,
    };
    let mut params = OtpParams {
        algorithm,
        digits,
        period: DEFAULT_PERIOD,
    };
    let mut counter = 0;
    match (kind, field(4)) {
        (_, "") => {}
        (OtpKind::Hotp, c) => counter = parse_bounded(c, "counter", MAX_COUNTER).map_err(fail)?,
        (OtpKind::Totp, p) => {
            params.period = parse_bounded(p, "period", u64::from(MAX_PERIOD)).map_err(fail)? as u32
        }
    }
    check_params(kind, params).map_err(fail)?;
    Ok(ImportedToken {
        counter,
        ..ImportedToken::new(token_id, kind, params, secret)
    })
}

/// Hex or base32, by prefix or by shape (see the module documentation).
fn decode_secret(s: &str) -> Option<Vec<u8>> {
    if let Some(h) = strip_prefix_ci(s, "hex:") {
        return hex::decode(h.trim()).ok();
    }
    if let Some(b) = strip_prefix_ci(s, "base32:") {
        return base32_decode(b.trim());
    }
    if !s.is_empty() && s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(s).ok();
    }
    base32_decode(s)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "3132333435363738393031323334353637383930";
    const B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    fn parse(s: &str) -> ParsedFile {
        parse_csv(s.as_bytes()).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn documented_example() {
        let p = parse(&format!(
            "\u{FEFF}# vendor file\r\nserial,secret,type,digits,counter_or_period,algorithm\r\n\
             VSMT25772182,{HEX},totp,6,30\r\n\r\nABC-0001,base32:{B32},hotp,6,0,SHA1\r\n\
             t3, {B32} , TOTP , 8 , 60 , sha256\n"
        ));
        assert!(p.rejected.is_empty(), "{:?}", p.rejected);
        assert_eq!(p.tokens.len(), 3);
        let [a, b, c] = [&p.tokens[0], &p.tokens[1], &p.tokens[2]];
        assert_eq!(
            (a.token_id.as_str(), a.kind, a.params.period),
            ("VSMT25772182", OtpKind::Totp, 30)
        );
        assert_eq!(a.location, Location::Line(3));
        assert_eq!(a.secret.expose(), b"12345678901234567890");
        assert_eq!(
            (b.kind, b.counter, b.location),
            (OtpKind::Hotp, 0, Location::Line(5))
        );
        assert_eq!(b.secret, a.secret);
        assert_eq!(c.token_id, "T3");
        assert_eq!(
            (c.params.digits, c.params.period, c.params.algorithm),
            (8, 60, Algorithm::Sha256)
        );
        assert_eq!(c.secret, a.secret, "base32 without a prefix");
    }

    #[test]
    fn header_is_optional_and_defaults_apply() {
        let p = parse(&format!("X1,hex:{HEX},hotp,,\nX2,{HEX},totp,,"));
        assert_eq!(p.tokens.len(), 2);
        assert_eq!((p.tokens[0].params.digits, p.tokens[0].counter), (6, 0));
        assert_eq!(p.tokens[1].params.period, 30);
        let p = parse(&format!("X1,{HEX},hotp,6,41"));
        assert_eq!(p.tokens[0].counter, 41);
    }

    #[test]
    fn rejected_lines_say_why_and_where() {
        let p = parse(&format!(
            "serial,secret,type,digits,counter_or_period\n\
             A1,{HEX},hotp\n\
             A2,zz!!,hotp,6,0\n\
             A3,{HEX},motp,6,0\n\
             A4,{HEX},hotp,5,0\n\
             A5,{HEX},hotp,6,99999999999999999999999999\n\
             A6,{HEX},totp,6,0\n\
             A7,{HEX},totp,6,86400\n\
             A8,31323334,hotp,6,0\n\
             A9,{HEX},hotp,6,0,MD5\n\
             \"A10\",{HEX},hotp,6,0\n\
             a b,{HEX},hotp,6,0\n\
             A1,{HEX},hotp,6,0\n\
             a1,{HEX},hotp,6,0\n\
             {}\n",
            "A".repeat(2000)
        ));
        let got: Vec<(usize, Option<&str>, &str)> = p
            .rejected
            .iter()
            .map(|r| {
                let Location::Line(n) = r.location else {
                    unreachable!()
                };
                (n, r.token_id.as_deref(), r.reason.as_str())
            })
            .collect();
        let want_lines = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15];
        assert_eq!(
            got.iter().map(|g| g.0).collect::<Vec<_>>(),
            want_lines,
            "{got:#?}"
        );
        let has = |line: usize, text: &str| {
            got.iter()
                .any(|(n, _, reason)| *n == line && reason.contains(text))
        };
        assert!(has(2, "3 fields"));
        assert!(has(3, "neither hex nor base32"));
        assert!(has(4, "hotp nor totp"));
        assert!(has(5, "digits"));
        assert!(has(6, "counter"));
        assert!(has(7, "period"));
        assert!(has(8, "period"));
        assert!(has(9, "4 bytes"));
        assert!(has(10, "algorithm"));
        assert!(has(11, "quoted"));
        assert!(has(12, "serial"));
        assert!(has(14, "duplicate token ID in the file (first at line 13)"));
        assert!(has(15, "longer than"));
        assert_eq!(p.tokens.len(), 1);
        assert_eq!(p.tokens[0].token_id, "A1");
        assert_eq!(p.tokens[0].location, Location::Line(13));
    }

    #[test]
    fn whole_file_limits() {
        assert_eq!(
            parse_csv(&vec![b'#'; MAX_FILE_BYTES + 1]).err(),
            Some(ImportError::TooLarge)
        );
        assert_eq!(
            parse_csv(b"A1,\xff,hotp,6,0").err(),
            Some(ImportError::NotUtf8)
        );
        let many = format!("A,{HEX},hotp,6,0\n").repeat(MAX_ENTRIES + 1);
        assert_eq!(
            parse_csv(many.as_bytes()).err(),
            Some(ImportError::TooManyEntries)
        );
        for empty in ["", "serial\n# only a header\n", "\n\n# nothing\n"] {
            assert!(
                matches!(
                    parse_csv(empty.as_bytes()),
                    Err(ImportError::NoKeyPackage(_))
                ),
                "{empty:?}"
            );
        }
        for s in [
            ",,,,",
            ",,,,,,,,,,,,",
            "\0,\0,\0,\0,\0",
            "é,é,é,é,é",
            "hex:",
            "A,hex:,hotp,6,0",
            "A,base32:,hotp,6,0",
        ] {
            let _ = parse(s);
        }
    }

    #[test]
    fn short_secrets_only_when_allowed() {
        let line = "T1,31323334,hotp,6,0";
        let p = parse(line);
        assert!(p.rejected[0].reason.contains("RFC 4226 section 4"), "{p:?}");
        let allowed = ParseOptions {
            allow_short_secrets: true,
        };
        let p = parse_csv_with(line.as_bytes(), allowed).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(p.tokens[0].secret.expose(), b"1234");
    }
}
