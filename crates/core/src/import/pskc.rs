//! PSKC, the Portable Symmetric Key Container (RFC 6030): the XML file token vendors ship with
//! HOTP/TOTP tokens.
//!
//! Read: plaintext secrets (§6 `PlainValue`), secrets encrypted with a pre-shared AES key
//! (§6.1, `EncryptionKey/KeyName`) or with a key derived from a passphrase by PBKDF2 (§6.2,
//! `EncryptionKey/DerivedKey`), AES-128/192/256-CBC, HMAC-SHA-1/224/256/384/512 `ValueMAC`.
//! The MAC of every encrypted value is checked before it is decrypted, and an encrypted file
//! must carry a MACMethod. Not read (the entry or file is refused with the reason): asymmetric
//! key transport (§6.3, X.509), key derivation from a master key (`KeyReference`), encrypted
//! counters, PIN and other non-OTP algorithms. Signatures (§7) are not verified, policies'
//! start and expiry dates are not enforced; the token ID is the device's `SerialNo`, or the
//! Key's `Id` when the package has no serial.

use super::pskc_crypto::{Cipher, MacAlg, Prf, MAX_PBKDF2_ITERATIONS, MAX_SALT_BYTES};
use super::xml::{self, Element};
use super::{
    check_params, check_secret, normalize_token_id, parse_bounded, ImportError, ImportedToken,
    Location, ParsedFile, SecretBytes, MAX_COUNTER, MAX_ENTRIES, MAX_FILE_BYTES, MAX_PERIOD,
};
use crate::otp::{Algorithm, OtpKind, OtpParams, DEFAULT_PERIOD, MAX_DIGITS};
use base64::Engine;

/// How to open a file's encrypted secrets.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Decryption {
    /// The file is expected to be plaintext.
    #[default]
    None,
    /// The AES key agreed with the vendor (RFC 6030 §6.1), 16, 24 or 32 bytes.
    PreSharedKey(Vec<u8>),
    /// The passphrase from which PBKDF2 derives the key (RFC 6030 §6.2).
    Passphrase(String),
}

impl std::fmt::Debug for Decryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Decryption::None => "None",
            Decryption::PreSharedKey(_) => "PreSharedKey(<redacted>)",
            Decryption::Passphrase(_) => "Passphrase(<redacted>)",
        })
    }
}

/// The opened key material of an encrypted file.
struct Keys {
    cipher: Cipher,
    key: Vec<u8>,
    mac: MacAlg,
    mac_key: Vec<u8>,
}

/// Reads a PSKC file. A file whose secrets are encrypted needs `decryption`; a plaintext file
/// given a key is refused ([`ImportError::KeyNotApplicable`]), since an operator who expects an
/// encrypted, MAC-protected file and receives a plaintext one may be looking at a substitute.
pub fn parse_pskc(bytes: &[u8], decryption: &Decryption) -> Result<ParsedFile, ImportError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ImportError::NotUtf8)?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let root = xml::parse(text)?;
    if root.name != "KeyContainer" {
        return Err(ImportError::Malformed(format!(
            "the root element is {}, not KeyContainer",
            shown(&root.name)
        )));
    }
    if let Some(v) = root.attr("Version") {
        if v.trim() != "1.0" {
            return Err(ImportError::Unsupported(format!(
                "PSKC version {}",
                shown(v)
            )));
        }
    }
    let packages: Vec<&Element> = root.children_named("KeyPackage").collect();
    if packages.len() > MAX_ENTRIES {
        return Err(ImportError::TooManyEntries);
    }
    let encrypted = packages.iter().any(|p| {
        p.children_named("Key")
            .any(|k| k.path(&["Data", "Secret", "EncryptedValue"]).is_some())
    });
    let keys = open_keys(&root, encrypted, decryption)?;

    let mut out = ParsedFile::default();
    for (i, package) in packages.iter().enumerate() {
        let location = Location::KeyPackage(i + 1);
        match read_package(package, keys.as_ref()) {
            Ok(token) => out.push(ImportedToken { location, ..token }),
            Err((id, reason)) => out.reject(location, id, reason),
        }
    }
    Ok(out)
}

/// Attacker-controlled text quoted in a message: at most 80 characters, no control characters.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

/// Base64 as XML files hold it: wrapped over lines, indented.
fn b64(s: &str) -> Option<Vec<u8>> {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// Works out the encryption and MAC keys, or that none are needed.
fn open_keys(
    root: &Element,
    encrypted: bool,
    decryption: &Decryption,
) -> Result<Option<Keys>, ImportError> {
    let enc_key = root.child("EncryptionKey");
    if !encrypted {
        return match decryption {
            Decryption::None => Ok(None),
            _ => Err(ImportError::KeyNotApplicable),
        };
    }
    let derived = enc_key.and_then(|k| k.child("DerivedKey"));
    if enc_key.is_some_and(|k| k.child("X509Data").is_some()) {
        return Err(ImportError::Unsupported(
            "asymmetric key transport (X.509 EncryptionKey, RFC 6030 §6.3)".into(),
        ));
    }
    let cipher = file_cipher(root)?;
    let key = match (decryption, derived) {
        (Decryption::None, _) => return Err(ImportError::KeyRequired),
        (Decryption::PreSharedKey(_), Some(_)) | (Decryption::Passphrase(_), None) => {
            return Err(ImportError::KeyNotApplicable)
        }
        (Decryption::PreSharedKey(k), None) => {
            if k.len() != cipher.key_len() {
                return Err(ImportError::WrongKey);
            }
            k.clone()
        }
        (Decryption::Passphrase(p), Some(d)) => derive(d, p, cipher)?,
    };
    let method = root.child("MACMethod").ok_or_else(|| {
        ImportError::Unsupported(
            "encrypted secrets without a MACMethod: their integrity cannot be checked".into(),
        )
    })?;
    let alg = method.attr("Algorithm").unwrap_or_default();
    let mac = MacAlg::from_uri(alg)
        .ok_or_else(|| ImportError::Unsupported(format!("MAC algorithm {}", shown(alg))))?;
    // RFC 6030 §6.1.1: the MAC key travels encrypted under the same key; files from before
    // MACKey existed use the encryption key itself.
    let mac_key = match method.child("MACKey") {
        None => key.clone(),
        Some(mk) => {
            let m = mk
                .child("EncryptionMethod")
                .and_then(|m| m.attr("Algorithm"))
                .unwrap_or_default();
            if Cipher::from_uri(m) != Some(cipher) {
                return Err(ImportError::Unsupported(format!(
                    "MACKey encryption {}",
                    shown(m)
                )));
            }
            let data = mk
                .path(&["CipherData", "CipherValue"])
                .and_then(|v| b64(&v.text))
                .ok_or_else(|| ImportError::Malformed("MACKey has no valid CipherValue".into()))?;
            let opened = cipher.decrypt(&key, &data).ok_or(ImportError::WrongKey)?;
            if opened.is_empty() {
                return Err(ImportError::WrongKey);
            }
            opened
        }
    };
    Ok(Some(Keys {
        cipher,
        key,
        mac,
        mac_key,
    }))
}

/// The one cipher all encrypted values of the file use (files mixing ciphers are refused).
fn file_cipher(root: &Element) -> Result<Cipher, ImportError> {
    let mut found: Option<Cipher> = None;
    for key in root
        .children_named("KeyPackage")
        .flat_map(|p| p.children_named("Key"))
    {
        let Some(ev) = key.path(&["Data", "Secret", "EncryptedValue"]) else {
            continue;
        };
        let uri = ev
            .child("EncryptionMethod")
            .and_then(|m| m.attr("Algorithm"))
            .unwrap_or_default();
        let c = Cipher::from_uri(uri)
            .ok_or_else(|| ImportError::Unsupported(format!("encryption {}", shown(uri))))?;
        if found.is_some_and(|f| f != c) {
            return Err(ImportError::Unsupported(
                "secrets encrypted with different ciphers in one file".into(),
            ));
        }
        found = Some(c);
    }
    found.ok_or_else(|| ImportError::Malformed("no encrypted value".into()))
}

/// Derives the file key from the passphrase by the DerivedKey's PBKDF2 parameters.
fn derive(d: &Element, passphrase: &str, cipher: Cipher) -> Result<Vec<u8>, ImportError> {
    let method = d
        .child("KeyDerivationMethod")
        .ok_or_else(|| ImportError::Malformed("DerivedKey has no KeyDerivationMethod".into()))?;
    let alg = method.attr("Algorithm").unwrap_or_default();
    if !alg.trim().ends_with("#pbkdf2") {
        return Err(ImportError::Unsupported(format!(
            "key derivation {}",
            shown(alg)
        )));
    }
    let params = method
        .child("PBKDF2-params")
        .ok_or_else(|| ImportError::Malformed("no PBKDF2-params".into()))?;
    let salt = params
        .path(&["Salt", "Specified"])
        .and_then(|s| b64(&s.text))
        .ok_or_else(|| ImportError::Malformed("PBKDF2 salt missing or not base64".into()))?;
    if salt.len() > MAX_SALT_BYTES {
        return Err(ImportError::Unsupported(format!(
            "PBKDF2 salt longer than {MAX_SALT_BYTES} bytes"
        )));
    }
    let iterations = params
        .child("IterationCount")
        .map(|c| parse_bounded(&c.text, "IterationCount", u64::from(MAX_PBKDF2_ITERATIONS)))
        .transpose()
        .map_err(ImportError::Unsupported)?
        .ok_or_else(|| ImportError::Malformed("PBKDF2 IterationCount missing".into()))?;
    let iterations = u32::try_from(iterations).unwrap_or(0);
    if iterations == 0 {
        return Err(ImportError::Malformed("PBKDF2 IterationCount is 0".into()));
    }
    if let Some(len) = params.child("KeyLength") {
        let len = parse_bounded(&len.text, "KeyLength", 64).map_err(ImportError::Unsupported)?;
        if usize::try_from(len).ok() != Some(cipher.key_len()) {
            return Err(ImportError::Unsupported(format!(
                "PBKDF2 KeyLength {len} for a {}-byte cipher key",
                cipher.key_len()
            )));
        }
    }
    let prf_uri = params.child("PRF").and_then(|p| p.attr("Algorithm"));
    let prf = Prf::from_uri(prf_uri).ok_or_else(|| {
        ImportError::Unsupported(format!("PBKDF2 PRF {}", shown(prf_uri.unwrap_or_default())))
    })?;
    Ok(prf.derive(passphrase.as_bytes(), &salt, iterations, cipher.key_len()))
}

/// An entry's refusal: its token ID if known, and why.
type Refusal = (Option<String>, String);

/// Reads one KeyPackage into a token (its location is filled in by the caller).
fn read_package(package: &Element, keys: Option<&Keys>) -> Result<ImportedToken, Refusal> {
    let mut key_elems = package.children_named("Key");
    let key = key_elems
        .next()
        .ok_or_else(|| (None, "no Key in the KeyPackage".to_owned()))?;
    if key_elems.next().is_some() {
        return Err((None, "more than one Key in one KeyPackage".into()));
    }
    let raw_id = package
        .path(&["DeviceInfo", "SerialNo"])
        .map(|s| s.text.as_str())
        .filter(|s| !s.is_empty())
        .or_else(|| key.attr("Id"))
        .unwrap_or_default();
    let token_id = normalize_token_id(raw_id).ok_or_else(|| {
        (
            None,
            format!(
                "token ID {:?} is not 1 to 64 letters, digits or - _ . :",
                shown(raw_id)
            ),
        )
    })?;
    let fail = |reason: String| (Some(token_id.clone()), reason);

    // RFC 6030 registers `urn:ietf:params:xml:ns:keyprov:pskc:hotp`; TOTP files use `:totp` or
    // the algorithm-profiles draft's `#totp`.
    let alg = key.attr("Algorithm").unwrap_or_default().trim();
    let profile = alg.rsplit([':', '#']).next().unwrap_or_default();
    let kind = if alg.len() > profile.len() && profile.eq_ignore_ascii_case("hotp") {
        OtpKind::Hotp
    } else if alg.len() > profile.len() && profile.eq_ignore_ascii_case("totp") {
        OtpKind::Totp
    } else {
        return Err(fail(format!("unsupported algorithm {:?}", shown(alg))));
    };
    if let Some(policy) = key.child("Policy") {
        let mut usages = policy.children_named("KeyUsage").peekable();
        if usages.peek().is_some() && !usages.any(|u| u.text.eq_ignore_ascii_case("OTP")) {
            return Err(fail("the key's usage policy does not allow OTP".into()));
        }
    }

    let mut params = OtpParams {
        algorithm: Algorithm::Sha1,
        digits: 6,
        period: DEFAULT_PERIOD,
    };
    let alg_params = key.child("AlgorithmParameters");
    if let Some(suite) = alg_params.and_then(|p| p.child("Suite")) {
        let name = suite.text.trim();
        let name = name.strip_prefix("HMAC-").unwrap_or(name);
        params.algorithm = Algorithm::parse(name)
            .ok_or_else(|| fail(format!("unsupported Suite {:?}", shown(&suite.text))))?;
    }
    if let Some(format) = alg_params.and_then(|p| p.child("ResponseFormat")) {
        if let Some(enc) = format.attr("Encoding") {
            if !enc.trim().eq_ignore_ascii_case("DECIMAL") {
                return Err(fail(format!(
                    "response encoding {} is not DECIMAL",
                    shown(enc)
                )));
            }
        }
        let len = format
            .attr("Length")
            .ok_or_else(|| fail("ResponseFormat has no Length".into()))?;
        params.digits = parse_bounded(len, "ResponseFormat Length", u64::from(MAX_DIGITS))
            .map_err(fail)? as u32;
    }

    let data = key.child("Data");
    let plain_number = |name: &str, max: u64| -> Result<Option<u64>, Refusal> {
        let Some(elem) = data.and_then(|d| d.child(name)) else {
            return Ok(None);
        };
        if elem.child("EncryptedValue").is_some() {
            return Err(fail(format!("an encrypted {name} is not supported")));
        }
        let v = elem
            .child("PlainValue")
            .ok_or_else(|| fail(format!("{name} has no PlainValue")))?;
        parse_bounded(&v.text, name, max).map(Some).map_err(fail)
    };
    let counter = plain_number("Counter", MAX_COUNTER)?.unwrap_or(0);
    if let Some(period) = plain_number("TimeInterval", u64::from(MAX_PERIOD))? {
        params.period = period as u32;
    }
    if plain_number("Time", u64::MAX)?.is_some_and(|t| t != 0) {
        return Err(fail(
            "a TOTP time origin other than 0 is not supported".into(),
        ));
    }
    check_params(kind, params).map_err(fail)?;

    let secret_elem = data.and_then(|d| d.child("Secret")).ok_or_else(|| {
        fail("no Secret (keys derived from a master key by KeyReference are not supported)".into())
    })?;
    let secret = if let Some(plain) = secret_elem.child("PlainValue") {
        b64(&plain.text).ok_or_else(|| fail("the secret is not valid base64".into()))?
    } else if let Some(ev) = secret_elem.child("EncryptedValue") {
        let keys = keys.ok_or_else(|| fail("encrypted secret without a key".into()))?;
        let cipher_value = ev
            .path(&["CipherData", "CipherValue"])
            .and_then(|v| b64(&v.text))
            .ok_or_else(|| fail("the encrypted secret has no valid base64 CipherValue".into()))?;
        let mac = secret_elem
            .child("ValueMAC")
            .ok_or_else(|| fail("the encrypted secret has no ValueMAC".into()))?;
        let mac = b64(&mac.text).ok_or_else(|| fail("ValueMAC is not valid base64".into()))?;
        // Authenticate before decrypting: a padding error must not be observable on altered data.
        if !keys.mac.verify(&keys.mac_key, &cipher_value, &mac) {
            return Err(fail(
                "ValueMAC mismatch: the value was altered or the key is wrong".into(),
            ));
        }
        keys.cipher
            .decrypt(&keys.key, &cipher_value)
            .ok_or_else(|| fail("the secret cannot be decrypted".into()))?
    } else {
        return Err(fail(
            "the Secret has neither PlainValue nor EncryptedValue".into(),
        ));
    };
    check_secret(&secret).map_err(fail)?;
    Ok(ImportedToken {
        token_id,
        kind,
        params,
        counter: if kind == OtpKind::Hotp { counter } else { 0 },
        secret: SecretBytes::new(secret),
        location: Location::KeyPackage(0),
    })
}

#[cfg(test)]
#[path = "pskc_tests.rs"]
mod tests;
