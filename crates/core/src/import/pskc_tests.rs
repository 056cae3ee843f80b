//! RFC 6030's examples (figures 2 to 10) and hostile files.

use super::*;
use crate::otp::{hotp, Algorithm, OtpKind};
use crate::Timestamp;

const FIG2: &str = include_str!("testdata/rfc6030-figure2.xml");
const FIG3: &str = include_str!("testdata/rfc6030-figure3.xml");
const FIG4: &str = include_str!("testdata/rfc6030-figure4.xml");
const FIG5: &str = include_str!("testdata/rfc6030-figure5.xml");
const FIG6: &str = include_str!("testdata/rfc6030-figure6.xml");
const FIG7: &str = include_str!("testdata/rfc6030-figure7.xml");
const FIG8: &str = include_str!("testdata/rfc6030-figure8.xml");
const FIG9: &str = include_str!("testdata/rfc6030-figure9.xml");
const FIG10: &str = include_str!("testdata/rfc6030-figure10.xml");

const RFC_SECRET: &[u8] = b"12345678901234567890";

fn psk() -> Decryption {
    Decryption::PreSharedKey(
        hex::decode("12345678901234567890123456789012").unwrap_or_else(|e| unreachable!("{e}")),
    )
}

fn parse(xml: &str, d: &Decryption) -> ParsedFile {
    parse_pskc(xml.as_bytes(), d).unwrap_or_else(|e| unreachable!("{e}"))
}

fn reasons(p: &ParsedFile) -> Vec<String> {
    p.rejected
        .iter()
        .map(|r| format!("{}: {}", r.location, r.reason))
        .collect()
}

#[test]
fn figure2_secret_too_short() {
    let p = parse(FIG2, &Decryption::None);
    assert!(p.tokens.is_empty());
    assert_eq!(p.rejected.len(), 1);
    let r = &p.rejected[0];
    assert_eq!(r.location, Location::KeyPackage(1));
    assert_eq!(
        r.token_id.as_deref(),
        Some("12345678"),
        "Key Id without a serial"
    );
    assert!(r.reason.contains("4 bytes"), "{}", r.reason);
}

#[test]
fn figure3_plain_hotp() {
    let p = parse(FIG3, &Decryption::None);
    assert!(p.rejected.is_empty(), "{:?}", reasons(&p));
    let t = &p.tokens[0];
    assert_eq!(t.token_id, "987654321");
    assert_eq!(t.kind, OtpKind::Hotp);
    assert_eq!(t.params.digits, 8);
    assert_eq!(t.params.algorithm, Algorithm::Sha1);
    assert_eq!(t.counter, 0);
    assert_eq!(t.secret.expose(), RFC_SECRET);
    assert_eq!(t.location, Location::KeyPackage(1));
    // RFC 4226's first code, in 8 digits.
    assert_eq!(
        hotp(t.secret.expose(), 0, t.params.algorithm, 8),
        "84755224"
    );
}

#[test]
fn figure4_no_secret() {
    let p = parse(FIG4, &Decryption::None);
    assert!(p.tokens.is_empty());
    assert!(
        p.rejected[0].reason.contains("no Secret"),
        "{:?}",
        reasons(&p)
    );
}

#[test]
fn figure5_pin_key_rejected() {
    let p = parse(FIG5, &Decryption::None);
    assert_eq!(p.tokens.len(), 1);
    assert_eq!(p.tokens[0].secret.expose(), RFC_SECRET);
    assert_eq!(p.rejected.len(), 1);
    assert_eq!(p.rejected[0].location, Location::KeyPackage(2));
    assert!(
        p.rejected[0].reason.contains("pskc:pin"),
        "{:?}",
        reasons(&p)
    );
}

#[test]
fn figure6_pre_shared_key() {
    let p = parse(FIG6, &psk());
    assert!(p.rejected.is_empty(), "{:?}", reasons(&p));
    assert_eq!(p.tokens[0].token_id, "987654321");
    assert_eq!(p.tokens[0].secret.expose(), RFC_SECRET);
    assert_eq!(p.tokens[0].params.digits, 8);

    assert_eq!(
        parse_pskc(FIG6.as_bytes(), &Decryption::None).err(),
        Some(ImportError::KeyRequired)
    );
    assert_eq!(
        parse_pskc(FIG6.as_bytes(), &Decryption::Passphrase("qwerty".into())).err(),
        Some(ImportError::KeyNotApplicable)
    );
    let wrong = Decryption::PreSharedKey(vec![0x11; 16]);
    assert_eq!(
        parse_pskc(FIG6.as_bytes(), &wrong).err(),
        Some(ImportError::WrongKey)
    );
    let short = Decryption::PreSharedKey(vec![0x12; 5]);
    assert_eq!(
        parse_pskc(FIG6.as_bytes(), &short).err(),
        Some(ImportError::WrongKey)
    );
}

#[test]
fn figure6_altered_values_fail_the_mac() {
    // One bit of the MAC, then one byte of the ciphertext (the last block, so padding would
    // likely break too: the MAC must say so first).
    let bad_mac = FIG6.replace(
        "Su+NvtQfmvfJzF6bmQiJqoLRExc=",
        "Su+NvtQfmvfJzF6bmQiJqoLRExY=",
    );
    let bad_ct = FIG6.replace("wZqIUqGv", "wZqIUqGw");
    for xml in [bad_mac, bad_ct] {
        let p = parse(&xml, &psk());
        assert!(p.tokens.is_empty());
        assert!(
            p.rejected[0].reason.contains("ValueMAC mismatch"),
            "{:?}",
            reasons(&p)
        );
    }
    let no_mac = FIG6.replace(
        "<ValueMAC>Su+NvtQfmvfJzF6bmQiJqoLRExc=\n                    </ValueMAC>",
        "",
    );
    assert!(parse(&no_mac, &psk()).rejected[0]
        .reason
        .contains("no ValueMAC"));
    let no_method = FIG6
        .split("<MACMethod")
        .next()
        .map(|head| {
            format!(
                "{head}{}",
                FIG6.split("</MACMethod>").nth(1).unwrap_or_default()
            )
        })
        .unwrap_or_default();
    assert!(matches!(
        parse_pskc(no_method.as_bytes(), &psk()),
        Err(ImportError::Unsupported(_))
    ));
    let bad_b64 = FIG6.replace("Su+NvtQfmvfJzF6bmQiJqoLRExc=", "Su+Nv!!!");
    assert!(parse(&bad_b64, &psk()).rejected[0]
        .reason
        .contains("base64"));
}

#[test]
fn figure7_pbkdf2_passphrase() {
    let p = parse(FIG7, &Decryption::Passphrase("qwerty".into()));
    assert!(p.rejected.is_empty(), "{:?}", reasons(&p));
    assert_eq!(p.tokens[0].token_id, "987654321");
    assert_eq!(p.tokens[0].secret.expose(), RFC_SECRET);
    let wrong = parse_pskc(FIG7.as_bytes(), &Decryption::Passphrase("qwertz".into()));
    match wrong {
        Err(ImportError::WrongKey) => {}
        Ok(p) => assert!(p.tokens.is_empty() && p.rejected[0].reason.contains("ValueMAC")),
        Err(e) => unreachable!("{e}"),
    }
    assert_eq!(
        parse_pskc(FIG7.as_bytes(), &psk()).err(),
        Some(ImportError::KeyNotApplicable)
    );
    let slow = FIG7.replace("<IterationCount>1000<", "<IterationCount>4000000000<");
    assert!(matches!(
        parse_pskc(slow.as_bytes(), &Decryption::Passphrase("qwerty".into())),
        Err(ImportError::Unsupported(_))
    ));
    let long = FIG7.replace("<KeyLength>16<", "<KeyLength>104857600<");
    assert!(matches!(
        parse_pskc(long.as_bytes(), &Decryption::Passphrase("qwerty".into())),
        Err(ImportError::Unsupported(_))
    ));
}

#[test]
fn figure8_asymmetric_is_unsupported() {
    assert!(matches!(
        parse_pskc(FIG8.as_bytes(), &psk()),
        Err(ImportError::Unsupported(d)) if d.contains("X.509")
    ));
}

#[test]
fn figure9_signed_plain() {
    let p = parse(FIG9, &Decryption::None);
    assert!(p.rejected.is_empty(), "{:?}", reasons(&p));
    assert_eq!(p.tokens[0].token_id, "0755225266");
    assert_eq!(p.tokens[0].params.digits, 6);
}

#[test]
fn figure10_bulk_with_a_duplicate_serial() {
    let p = parse(FIG10, &Decryption::None);
    let ids: Vec<&str> = p.tokens.iter().map(|t| t.token_id.as_str()).collect();
    assert_eq!(ids, ["654321", "123456", "9999999"]);
    // Serial 9999999 comes twice with the same key, for March then April 2006: the later
    // period replaces the earlier one (issue 18, class 5).
    assert!(p.rejected.is_empty(), "{:?}", reasons(&p));
    let reissued = &p.tokens[2];
    assert_eq!(reissued.location, Location::KeyPackage(4));
    assert_eq!(
        reissued.valid_from,
        Timestamp::parse_rfc3339("2006-04-01T00:00:00Z")
    );
    assert_eq!(
        reissued.valid_until,
        Timestamp::parse_rfc3339("2006-04-30T00:00:00Z")
    );
    // In the other order, or with another key, the second entry is refused and says why.
    let swapped = FIG10
        .replace("2006-03-01T00:00:00Z", "2006-06-01T00:00:00Z")
        .replace("2006-03-31T00:00:00Z", "2006-06-30T00:00:00Z");
    let p = parse(&swapped, &Decryption::None);
    assert_eq!(p.rejected.len(), 1);
    assert_eq!(p.rejected[0].location, Location::KeyPackage(4));
    assert!(
        p.rejected[0]
            .reason
            .contains("first at KeyPackage 3): the same key, without a later validity period"),
        "{:?}",
        reasons(&p)
    );
    // A key given for a plaintext file is refused: it may be a substitute for the real one.
    assert_eq!(
        parse_pskc(FIG10.as_bytes(), &psk()).err(),
        Some(ImportError::KeyNotApplicable)
    );
}

/// Encrypts `secret` as a PSKC file would: AES-256-CBC, HMAC-SHA-256 over IV ‖ ciphertext.
fn aes256_file(secret: &[u8], key: &[u8; 32], mac_key: &[u8]) -> String {
    use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
    use hmac::{Hmac, Mac};
    let enc = |iv: [u8; 16], pt: &[u8]| {
        let mut buf = vec![0u8; pt.len() + 16];
        let n = cbc::Encryptor::<aes::Aes256>::new_from_slices(key, &iv)
            .ok()
            .and_then(|c| {
                c.encrypt_padded_b2b_mut::<Pkcs7>(pt, &mut buf)
                    .ok()
                    .map(|b| b.len())
            })
            .unwrap_or(0);
        buf.truncate(n);
        [iv.to_vec(), buf].concat()
    };
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mac_key_ct = enc([3; 16], mac_key);
    let secret_ct = enc([7; 16], secret);
    let mut m = <Hmac<sha2::Sha256> as hmac::digest::KeyInit>::new_from_slice(mac_key)
        .unwrap_or_else(|e| unreachable!("{e}"));
    m.update(&secret_ct);
    let mac = m.finalize().into_bytes();
    format!(
        r#"<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
  xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
 <EncryptionKey><ds:KeyName>Pre-shared-key</ds:KeyName></EncryptionKey>
 <MACMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256">
  <MACKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/>
   <xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></MACKey>
 </MACMethod>
 <KeyPackage><DeviceInfo><SerialNo>vsmt25772182</SerialNo></DeviceInfo>
  <Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc#totp">
   <AlgorithmParameters><Suite>HMAC-SHA256</Suite><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>
   <Data><Secret><EncryptedValue>
     <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/>
     <xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData>
    </EncryptedValue><ValueMAC>{}</ValueMAC></Secret>
    <Time><PlainValue>0</PlainValue></Time>
    <TimeInterval><PlainValue>60</PlainValue></TimeInterval></Data>
  </Key></KeyPackage>
</KeyContainer>"#,
        b64(&mac_key_ct),
        b64(&secret_ct),
        b64(&mac)
    )
}

#[test]
fn aes256_hmac_sha256_totp() {
    let key = [0x42u8; 32];
    let xml = aes256_file(&[9; 32], &key, &[5; 32]);
    let p = parse(&xml, &Decryption::PreSharedKey(key.to_vec()));
    assert!(p.rejected.is_empty(), "{:?}", reasons(&p));
    let t = &p.tokens[0];
    assert_eq!(t.token_id, "VSMT25772182", "upper-cased");
    assert_eq!(t.kind, OtpKind::Totp);
    assert_eq!(t.params.algorithm, Algorithm::Sha256);
    assert_eq!(t.params.period, 60);
    assert_eq!(t.secret.expose(), &[9; 32]);
    assert_eq!(
        parse_pskc(xml.as_bytes(), &Decryption::PreSharedKey(vec![0x42; 16])).err(),
        Some(ImportError::WrongKey),
        "a 16-byte key for AES-256"
    );
}

fn plain_package(extra_key_attrs: &str, params: &str, data: &str) -> String {
    format!(
        r#"<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage>
<DeviceInfo><SerialNo>T1</SerialNo></DeviceInfo>
<Key Id="1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp" {extra_key_attrs}>
<AlgorithmParameters>{params}</AlgorithmParameters>
<Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>{data}</Data>
</Key></KeyPackage></KeyContainer>"#
    )
}

#[test]
fn entry_level_refusals() {
    let cases = [
        (
            plain_package("", r#"<ResponseFormat Length="100000000"/>"#, ""),
            "Length",
        ),
        (
            plain_package("", r#"<ResponseFormat Length="4"/>"#, ""),
            "digits",
        ),
        (
            plain_package(
                "",
                r#"<ResponseFormat Length="6" Encoding="HEXADECIMAL"/>"#,
                "",
            ),
            "DECIMAL",
        ),
        (plain_package("", "<Suite>HMAC-MD5</Suite>", ""), "Suite"),
        (
            plain_package(
                "",
                "",
                "<Counter><PlainValue>99999999999999999999999</PlainValue></Counter>",
            ),
            "Counter",
        ),
        (
            plain_package("", "", "<Counter><PlainValue>-1</PlainValue></Counter>"),
            "Counter",
        ),
        (
            plain_package("", "", "<Time><PlainValue>5</PlainValue></Time>"),
            "time origin",
        ),
        (
            plain_package(
                "",
                "",
                "<TimeInterval><PlainValue>0</PlainValue></TimeInterval>",
            ),
            "period",
        ),
    ];
    for (xml, want) in cases {
        let p = parse(&xml, &Decryption::None);
        assert!(p.tokens.is_empty(), "{want}");
        assert!(
            p.rejected[0].reason.contains(want),
            "{want}: {:?}",
            reasons(&p)
        );
        assert_eq!(p.rejected[0].token_id.as_deref(), Some("T1"));
    }
    // An encrypted counter is read now (see the corpus); one without an encryption method
    // names the missing algorithm instead of leaving a blank.
    let no_method = plain_package("", "", "<Counter><EncryptedValue/></Counter>");
    assert_eq!(
        parse_pskc(no_method.as_bytes(), &psk()).err(),
        Some(ImportError::Unsupported("encryption (none given)".into()))
    );
    let bad_b64 = plain_package("", "", "").replace("MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=", "!!notbase64");
    assert!(parse(&bad_b64, &Decryption::None).rejected[0]
        .reason
        .contains("base64"));
    let bad_id =
        plain_package("", "", "").replace("<SerialNo>T1</SerialNo>", "<SerialNo>a b</SerialNo>");
    let p = parse(&bad_id, &Decryption::None);
    assert_eq!(p.rejected[0].token_id, None);
    let ok = parse(
        &plain_package("", "", "<Counter><PlainValue>42</PlainValue></Counter>"),
        &Decryption::None,
    );
    assert_eq!(ok.tokens[0].counter, 42);
}

#[test]
fn hostile_files() {
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE KeyContainer [<!ENTITY a \"aaaaaaaaaa\">{}]>\
         <KeyContainer Version=\"1.0\"><KeyPackage><Key Id=\"&a9;\"/></KeyPackage></KeyContainer>",
        (1..10)
            .map(|i| format!("<!ENTITY a{i} \"{}\">", format!("&a{};", i - 1).repeat(10)))
            .collect::<String>()
    );
    assert_eq!(
        parse_pskc(laughs.as_bytes(), &Decryption::None).err(),
        Some(ImportError::DoctypeRefused)
    );
    let deep = format!(
        "<KeyContainer>{}{}</KeyContainer>",
        "<KeyPackage>".repeat(5000),
        "</KeyPackage>".repeat(5000)
    );
    assert_eq!(
        parse_pskc(deep.as_bytes(), &Decryption::None).err(),
        Some(ImportError::TooDeep)
    );
    let many = format!(
        "<KeyContainer>{}</KeyContainer>",
        "<KeyPackage/>".repeat(MAX_ENTRIES + 1)
    );
    assert_eq!(
        parse_pskc(many.as_bytes(), &Decryption::None).err(),
        Some(ImportError::TooManyEntries)
    );
    let huge = vec![b' '; MAX_FILE_BYTES + 1];
    assert_eq!(
        parse_pskc(&huge, &Decryption::None).err(),
        Some(ImportError::TooLarge)
    );
    assert_eq!(
        parse_pskc(b"<KeyContainer>\xff</KeyContainer>", &Decryption::None).err(),
        Some(ImportError::NotUtf8)
    );
    assert!(matches!(
        parse_pskc(b"<Other/>", &Decryption::None),
        Err(ImportError::Malformed(_))
    ));
    assert!(matches!(
        parse_pskc(b"<KeyContainer Version=\"2.0\"/>", &Decryption::None),
        Err(ImportError::Unsupported(_))
    ));
    // Every truncation of real files fails cleanly (or parses, for the whole file).
    for xml in [FIG3, FIG6, FIG7] {
        for end in 0..xml.len() {
            if let Some(prefix) = xml.get(..end) {
                let _ = parse_pskc(prefix.as_bytes(), &Decryption::Passphrase("qwerty".into()));
                let _ = parse_pskc(prefix.as_bytes(), &psk());
            }
        }
    }
    let empty = parse(
        "<KeyContainer Version=\"1.0\"><KeyPackage/></KeyContainer>",
        &Decryption::None,
    );
    assert!(empty.rejected[0].reason.contains("no Key"));
}

#[test]
fn decryption_debug_hides_keys() {
    assert_eq!(format!("{:?}", psk()), "PreSharedKey(<redacted>)");
    assert!(!format!("{:?}", Decryption::Passphrase("qwerty".into())).contains("qwerty"));
}
