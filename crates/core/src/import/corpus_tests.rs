//! The vendor-style corpus (`testdata/vendor`, written by its `make_corpus.py` from the
//! published layouts): every file imports the tokens its manifest lists, and each token gives
//! the codes oathtool gave for it. Files that must be refused are checked for the reason.

use super::*;
use crate::otp::{hotp, totp_at, totp_step, Algorithm};

fn vendor_file(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/src/import/testdata/vendor/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| unreachable!("{path}: {e}"))
}

fn open(name: &str, key: &str) -> Result<ParsedFile, ImportError> {
    let (decryption, options) = match key.split_once(':') {
        Some(("psk", hex_key)) => (
            Decryption::PreSharedKey(hex::decode(hex_key).unwrap_or_default()),
            ParseOptions::default(),
        ),
        Some(("pass", p)) => (Decryption::Passphrase(p.into()), ParseOptions::default()),
        _ if key == "short" => (
            Decryption::None,
            ParseOptions {
                allow_short_secrets: true,
            },
        ),
        _ => (Decryption::None, ParseOptions::default()),
    };
    parse_pskc_with(&vendor_file(name), &decryption, options)
}

#[test]
fn every_listed_token_gives_oathtools_codes() {
    let manifest = String::from_utf8(vendor_file("corpus.txt")).unwrap_or_default();
    let mut checked = 0;
    for line in manifest.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let [file, key, id, kind, alg, digits, period, counter, drift, secret, codes, extra] =
            f[..]
        else {
            unreachable!("manifest line {line}")
        };
        let parsed = open(file, key).unwrap_or_else(|e| unreachable!("{file}: {e}"));
        let t = parsed
            .tokens
            .iter()
            .find(|t| t.token_id == id)
            .unwrap_or_else(|| unreachable!("{file}: no {id} in {parsed:?}"));
        let num = |s: &str| {
            s.parse::<i64>()
                .unwrap_or_else(|e| unreachable!("{s}: {e}"))
        };
        assert_eq!(t.kind.as_str(), kind, "{file} {id}");
        assert_eq!(
            t.params.algorithm,
            Algorithm::parse(alg).unwrap_or(Algorithm::Sha1)
        );
        assert_eq!(i64::from(t.params.digits), num(digits), "{file} {id}");
        if kind == "totp" {
            assert_eq!(i64::from(t.params.period), num(period), "{file} {id}");
        }
        assert_eq!(t.counter as i64, num(counter), "{file} {id}");
        assert_eq!(t.drift, num(drift), "{file} {id}");
        assert_eq!(hex::encode(t.secret.expose()), secret, "{file} {id}");
        for pair in codes.split_whitespace() {
            let (at, code) = pair.split_once(':').unwrap_or_default();
            let got = if kind == "hotp" {
                hotp(
                    t.secret.expose(),
                    num(at) as u64,
                    t.params.algorithm,
                    t.params.digits,
                )
            } else {
                let step = totp_step(Timestamp(num(at)), t.params.period);
                totp_at(t.secret.expose(), step, t.params)
            };
            assert_eq!(got, code, "{file} {id} at {at}");
        }
        if let Some(range) = extra.strip_prefix("valid:") {
            let (from, until) = range.split_once('/').unwrap_or_default();
            assert_eq!(t.valid_from, Timestamp::parse_rfc3339(from), "{file} {id}");
            assert_eq!(
                t.valid_until,
                Timestamp::parse_rfc3339(until),
                "{file} {id}"
            );
        }
        if let Some(n) = extra.strip_prefix("transactions:") {
            assert_eq!(t.max_transactions, n.parse().ok(), "{file} {id}");
        }
        checked += 1;
    }
    assert_eq!(checked, 19, "tokens in the manifest");
}

#[test]
fn refusals_say_why() {
    let p = open("yubico-oath-hotp.xml", "-").unwrap_or_default();
    assert_eq!(p.rejected.len(), 1);
    assert_eq!(p.rejected[0].location, Location::KeyPackage(1));
    assert!(p.rejected[0].reason.contains("yubikey-aes"), "{p:?}");

    let p = open("policy-unknown-element.xml", "-").unwrap_or_default();
    assert_eq!(p.rejected.len(), 1);
    assert_eq!(p.rejected[0].token_id.as_deref(), Some("POL0001"));
    assert!(
        p.rejected[0].reason.contains("GeoFence") && p.rejected[0].reason.contains("section 5"),
        "{p:?}"
    );

    assert!(matches!(
        open("draft-hoyer-01-pbe.xml", "-"),
        Err(ImportError::Unsupported(d)) if d.contains("PBE-3DES112-CBC")
    ));
    assert!(matches!(
        open("no-key-package.xml", "-"),
        Err(ImportError::NoKeyPackage(d)) if d.contains("urn:example:vendor:tokens")
    ));

    let p = open("../rfc6030-figure2.xml", "-").unwrap_or_default();
    assert!(
        p.rejected[0]
            .reason
            .contains("RFC 4226 section 4 (requirement R6)"),
        "{p:?}"
    );

    // A plaintext draft file given a key is refused like an RFC 6030 one.
    assert_eq!(
        open(
            "draft-hoyer-01-plain.xml",
            "psk:12345678901234567890123456789012"
        )
        .err(),
        Some(ImportError::KeyNotApplicable)
    );
    // Wrong keys for the new transports: the MAC (or the key wrap's own check) says so.
    for (file, key) in [
        ("kw-aes128.xml", "psk:12345678901234567890123456789013"),
        (
            "kw-tripledes.xml",
            "psk:0123456789abcdeffedcba987654321000112233445566fe",
        ),
        (
            "tripledes-cbc.xml",
            "psk:0123456789abcdeffedcba987654321000112233445566fe",
        ),
        ("privacyidea-totp-sha256.xml", "pass:qwertz"),
    ] {
        match open(file, key) {
            Err(ImportError::WrongKey) => {}
            Ok(p) => assert!(
                p.tokens.is_empty() && p.rejected[0].reason.contains("ValueMAC"),
                "{file}: {p:?}"
            ),
            Err(e) => unreachable!("{file}: {e}"),
        }
    }
}

#[test]
fn encrypted_counters_are_authenticated() {
    let xml = String::from_utf8(vendor_file("multiotp-encrypted-counters.xml")).unwrap_or_default();
    // Swap the counter's ciphertext for the time interval's: both decrypt, neither MAC fits.
    let counter_ct = xml
        .split("<pskc:Counter>")
        .nth(1)
        .and_then(|s| s.split("<xenc:CipherValue>").nth(1))
        .and_then(|s| s.split('<').next())
        .unwrap_or_default()
        .to_owned();
    let altered = xml.replacen(
        &counter_ct,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        1,
    );
    let p = parse_pskc(
        altered.as_bytes(),
        &Decryption::PreSharedKey(
            hex::decode("12345678901234567890123456789012").unwrap_or_default(),
        ),
    )
    .unwrap_or_default();
    assert_eq!(p.tokens.len(), 1);
    assert!(
        p.rejected[0]
            .reason
            .contains("ValueMAC mismatch on Counter"),
        "{p:?}"
    );
}

#[test]
fn csv_and_xml_are_told_apart_by_content() {
    assert!(looks_like_xml(
        b"\xEF\xBB\xBF\r\n  <?xml version=\"1.0\"?><a/>"
    ));
    assert!(looks_like_xml(&vendor_file("yubico-oath-hotp.xml")));
    assert!(!looks_like_xml(b"serial,secret,type\nA1,00,hotp"));
    assert!(!looks_like_xml(b""));
}
