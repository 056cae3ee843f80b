//! PSKC, the Portable Symmetric Key Container (RFC 6030): the XML file token vendors ship with
//! HOTP/TOTP tokens, and the layouts of its drafts that vendors still ship.
//!
//! Layouts read: RFC 6030 (`KeyContainer`/`KeyPackage`/`Key`); the pre-RFC drafts'
//! `KeyContainer`/`Device`/`Key` (draft-ietf-keyprov-pskc-02, the algorithm-profiles drafts,
//! draft-hoyer-keyprov-portable-symmetric-key-container-01 with `Data Name="SECRET"`) and
//! draft-hoyer-…-00's `SecretContainer`/`Device`/`Secret`. Values read: plaintext, or
//! encrypted with a pre-shared key (§6.1) or a PBKDF2 passphrase key (§6.2) by AES, triple-DES
//! or Camellia in CBC mode or by a key wrap (RFC 3394, RFC 5649, RFC 3217), each with its
//! ValueMAC checked before it is decrypted; secrets, counters, time intervals and drifts alike.
//! Refused, with the reason: asymmetric key transport (§6.3), keys derived from a master key
//! (`KeyReference`), the drafts' own password-based encryption (`PBE-3DES112-CBC`), PIN and
//! other non-OTP algorithms, and policies Sekisho cannot honour. Signatures (§7) are not
//! verified. The token ID is the device's `SerialNo`, or the key's `Id` when there is none.

use super::pskc_crypto::{Cipher, MacAlg, Prf, MAX_PBKDF2_ITERATIONS, MAX_SALT_BYTES};
use super::pskc_key::{read_package, Context};
use super::xml::{self, Element};
use super::{
    parse_bounded, ImportError, ImportedToken, Location, ParseOptions, ParsedFile, MAX_ENTRIES,
    MAX_FILE_BYTES,
};
use base64::Engine;

/// How to open a file's encrypted secrets.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Decryption {
    /// The file is expected to be plaintext.
    #[default]
    None,
    /// The key agreed with the vendor (RFC 6030 §6.1): 16, 24 or 32 bytes.
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
pub(super) struct Keys {
    pub cipher: Cipher,
    pub key: Vec<u8>,
    pub mac: MacAlg,
    pub mac_key: Vec<u8>,
}

/// Which generation of the format a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// RFC 6030: `KeyPackage`.
    Rfc6030,
    /// The drafts before it: `Device` holding one or more keys.
    Draft,
}

/// Reads a PSKC file with the default options (see [`parse_pskc_with`]).
pub fn parse_pskc(bytes: &[u8], decryption: &Decryption) -> Result<ParsedFile, ImportError> {
    parse_pskc_with(bytes, decryption, ParseOptions::default())
}

/// Reads a PSKC file. A file whose values are encrypted needs `decryption`; a plaintext file
/// given a key is refused ([`ImportError::KeyNotApplicable`]), since an operator who expects an
/// encrypted, MAC-protected file and receives a plaintext one may be looking at a substitute. A
/// file without any key package is [`ImportError::NoKeyPackage`], never an empty success.
pub fn parse_pskc_with(
    bytes: &[u8],
    decryption: &Decryption,
    options: ParseOptions,
) -> Result<ParsedFile, ImportError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ImportError::NotUtf8)?;
    // Editors and mail gateways leave a BOM or blank lines before the XML declaration; XML
    // forbids them there but they change nothing.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text).trim_start();
    let root = xml::parse(text)?;
    let (layout, packages) = match root.name.as_str() {
        "KeyContainer" => {
            let packages: Vec<&Element> = root.children_named("KeyPackage").collect();
            if packages.is_empty() {
                (Layout::Draft, root.children_named("Device").collect())
            } else {
                (Layout::Rfc6030, packages)
            }
        }
        "SecretContainer" => (Layout::Draft, root.children_named("Device").collect()),
        other => {
            return Err(ImportError::Malformed(format!(
                "the root element is {}, not KeyContainer",
                shown(other)
            )))
        }
    };
    if root.name == "KeyContainer" {
        if let Some(v) = root.attr("Version").or_else(|| root.attr("version")) {
            if !matches!(v.trim(), "1.0" | "1") {
                return Err(ImportError::Unsupported(format!(
                    "PSKC version {}",
                    shown(v)
                )));
            }
        }
    }
    if packages.is_empty() {
        return Err(ImportError::NoKeyPackage(format!(
            "the {} (namespace {}) has no KeyPackage and no pre-RFC Device",
            root.name,
            shown(root.attr("xmlns").unwrap_or("none"))
        )));
    }
    if packages.len() > MAX_ENTRIES {
        return Err(ImportError::TooManyEntries);
    }
    let encrypted = packages.iter().any(|p| has_descendant(p, "EncryptedValue"));
    let keys = if layout == Layout::Draft && !encrypted {
        legacy_encryption(&root, decryption)?
    } else {
        open_keys(&root, &packages, encrypted, decryption)?
    };

    let ctx = Context {
        keys: keys.as_ref(),
        layout,
        options,
    };
    let mut out = ParsedFile::default();
    for (i, package) in packages.iter().enumerate() {
        let location = Location::KeyPackage(i + 1);
        match read_package(package, &ctx) {
            Ok(token) => out.push(ImportedToken { location, ..token }),
            Err((id, reason)) => out.reject(location, id, reason),
        }
    }
    Ok(out)
}

/// Attacker-controlled text quoted in a message: at most 80 characters, no control characters;
/// an empty name says so rather than vanishing from the sentence.
pub(super) fn shown(s: &str) -> String {
    if s.trim().is_empty() {
        return "(none given)".into();
    }
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

/// Base64 as XML files hold it: wrapped over lines, indented.
pub(super) fn b64(s: &str) -> Option<Vec<u8>> {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

fn has_descendant(e: &Element, name: &str) -> bool {
    e.children
        .iter()
        .any(|c| c.name == name || has_descendant(c, name))
}

fn descendants<'a>(e: &'a Element, name: &str, out: &mut Vec<&'a Element>) {
    for c in &e.children {
        if c.name == name {
            out.push(c);
        }
        descendants(c, name, out);
    }
}

/// draft-hoyer's container-level `<EncryptionMethod algorithm="…">`: `NONE` is a plaintext
/// file; its password-based schemes are refused by name.
fn legacy_encryption(root: &Element, decryption: &Decryption) -> Result<Option<Keys>, ImportError> {
    let method = root
        .child("EncryptionMethod")
        .and_then(|m| m.attr("algorithm").or_else(|| m.attr("Algorithm")))
        .unwrap_or("NONE");
    if !method.trim().eq_ignore_ascii_case("NONE") {
        return Err(ImportError::Unsupported(format!(
            "the pre-RFC draft's encryption {} (draft-hoyer-keyprov-portable-symmetric-key-container); \
             ask the vendor for an RFC 6030 file",
            shown(method)
        )));
    }
    match decryption {
        Decryption::None => Ok(None),
        _ => Err(ImportError::KeyNotApplicable),
    }
}

/// Works out the encryption and MAC keys, or that none are needed.
fn open_keys(
    root: &Element,
    packages: &[&Element],
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
    let cipher = file_cipher(packages)?;
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
    // RFC 6030 has MACMethod; draft-ietf-keyprov-pskc-02 named only the algorithm, keyed with
    // the encryption key itself.
    let method = root.child("MACMethod");
    let alg = match (method, root.child("MACAlgorithm")) {
        (Some(m), _) => m.attr("Algorithm").unwrap_or_default(),
        (None, Some(a)) => a.text.as_str(),
        (None, None) => {
            return Err(ImportError::Unsupported(
                "encrypted values without a MACMethod: their integrity cannot be checked".into(),
            ))
        }
    };
    let mac = MacAlg::from_uri(alg)
        .ok_or_else(|| ImportError::Unsupported(format!("MAC algorithm {}", shown(alg))))?;
    // RFC 6030 §6.1.1: the MAC key travels encrypted under the same key; files from before
    // MACKey existed use the encryption key itself.
    let mac_key = match method.and_then(|m| m.child("MACKey")) {
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
fn file_cipher(packages: &[&Element]) -> Result<Cipher, ImportError> {
    let mut values = Vec::new();
    for p in packages {
        descendants(p, "EncryptedValue", &mut values);
    }
    let mut found: Option<Cipher> = None;
    for ev in values {
        let uri = ev
            .child("EncryptionMethod")
            .and_then(|m| m.attr("Algorithm"))
            .unwrap_or_default();
        let c = Cipher::from_uri(uri)
            .ok_or_else(|| ImportError::Unsupported(format!("encryption {}", shown(uri))))?;
        if found.is_some_and(|f| f != c) {
            return Err(ImportError::Unsupported(
                "values encrypted with different ciphers in one file".into(),
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

#[cfg(test)]
#[path = "pskc_tests.rs"]
mod tests;
