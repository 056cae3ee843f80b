//! Reading token seed files that vendors ship with hardware and software OTP tokens: PSKC
//! (RFC 6030) and OATH CSV. Pure functions from the file's bytes to the tokens it describes
//! plus, for every entry that cannot be used, the reason and where it is (line or KeyPackage).
//!
//! The input is untrusted (it travels by e-mail and USB stick between vendor and firm), so every
//! parser is bounded: file size, XML nesting depth, element count, entry count and every number
//! it reads are capped, XML document type declarations (and with them entity expansion) are
//! refused, and nothing panics. A problem with the whole file is an [`ImportError`]; a problem
//! with one entry is a [`Rejection`] next to the tokens that are fine, so the caller decides
//! whether to import the rest.

mod csv;
mod pskc;
mod pskc_crypto;
mod pskc_key;
mod xml;

pub use csv::{parse_csv, parse_csv_with};
pub use pskc::{parse_pskc, parse_pskc_with, Decryption};

use crate::otp::{OtpKind, OtpParams};
use crate::Timestamp;
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// The largest seed file accepted, in bytes. A vendor file of 10,000 tokens is about 15 MiB of
/// PSKC; anything larger is split by the operator rather than held in memory at once.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// The most entries (KeyPackages or CSV lines) in one file.
pub const MAX_ENTRIES: usize = 10_000;
/// The shortest shared secret accepted: 128 bits, RFC 4226's minimum (R6).
pub const MIN_SECRET_BYTES: usize = 16;
/// The longest shared secret accepted (an HMAC-SHA-512 block).
pub const MAX_SECRET_BYTES: usize = 128;
/// The longest token ID (VIP Access credential IDs are 12 characters; serials are shorter).
pub const MAX_TOKEN_ID_CHARS: usize = 64;
/// The longest TOTP period accepted, in seconds.
pub const MAX_PERIOD: u32 = 3600;
/// The largest clock drift a file may give a TOTP token, in steps either way (two hours at
/// 30 s): more is a broken token or a broken file, not a clock.
pub const MAX_DRIFT_STEPS: i64 = 240;
/// The highest starting HOTP counter accepted (far beyond any real token's presses, and well
/// inside the signed 64-bit range the database stores).
pub const MAX_COUNTER: u64 = 1 << 48;

/// Choices of the operator that change what a file may hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Accept secrets shorter than [`MIN_SECRET_BYTES`] (test tokens such as RFC 6030's
    /// examples); never for tokens given to customers.
    pub allow_short_secrets: bool,
}

/// Whether `text` looks like XML (a PSKC file) rather than CSV: its first character after a
/// byte-order mark and white space is `<`. Files whose name says nothing (multiOTP's `.txt`)
/// are told apart this way.
pub fn looks_like_xml(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'<')
}

/// A shared secret read from a seed file. Its `Debug` form never shows the bytes, so a token
/// logged by mistake leaks nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Wraps raw secret bytes.
    pub fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes(bytes)
    }

    /// The raw bytes, to seal them with the master key.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes>)", self.0.len())
    }
}

/// Where in the file an entry is: a 1-based CSV line, or the 1-based KeyPackage of a PSKC file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// Line number (1-based).
    Line(usize),
    /// KeyPackage index (1-based, in document order).
    KeyPackage(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::KeyPackage(n) => write!(f, "KeyPackage {n}"),
        }
    }
}

/// A token ready to be put in stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedToken {
    /// The credential ID printed on the token or shown in its app, normalised by
    /// [`normalize_token_id`].
    pub token_id: String,
    /// Counter-based or time-based.
    pub kind: OtpKind,
    /// Hash, digits and (for TOTP) period.
    pub params: OtpParams,
    /// HOTP: the next counter the token will use. TOTP: 0.
    pub counter: u64,
    /// TOTP: the clock drift the vendor measured, in steps (PSKC `TimeDrift`); the token's
    /// learnt drift starts there. HOTP: 0.
    pub drift: i64,
    /// The key may not be used before this time (PSKC `StartDate`).
    pub valid_from: Option<Timestamp>,
    /// The key may not be used after this time (PSKC `ExpiryDate`).
    pub valid_until: Option<Timestamp>,
    /// How many codes the key may give in all (PSKC `NumberOfTransactions`).
    pub max_transactions: Option<u64>,
    /// The shared secret, in clear: seal it at once.
    pub secret: SecretBytes,
    /// Where the entry was.
    pub location: Location,
}

impl ImportedToken {
    /// A token with no validity limits or drift; the parsers fill in the rest.
    fn new(token_id: String, kind: OtpKind, params: OtpParams, secret: Vec<u8>) -> ImportedToken {
        ImportedToken {
            token_id,
            kind,
            params,
            counter: 0,
            drift: 0,
            valid_from: None,
            valid_until: None,
            max_transactions: None,
            secret: SecretBytes::new(secret),
            location: Location::Line(0),
        }
    }

    /// The same key with the same parameters (the validity and position may differ).
    fn same_key(&self, other: &ImportedToken) -> bool {
        self.kind == other.kind && self.params == other.params && self.secret == other.secret
    }
}

/// An entry that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Where the entry was.
    pub location: Location,
    /// Its token ID, when one could be read.
    pub token_id: Option<String>,
    /// Why, in English, for the operator (never containing secret material).
    pub reason: String,
}

/// What a file holds: usable tokens and rejected entries, both in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFile {
    /// Usable tokens.
    pub tokens: Vec<ImportedToken>,
    /// Entries that cannot be imported.
    pub rejected: Vec<Rejection>,
}

impl ParsedFile {
    /// Adds a token. A second entry with an ID already seen is a rejection (two different
    /// secrets under one ID would make whichever was stored first a silent guess), except
    /// that the same key re-issued for a later validity period replaces the earlier entry, as
    /// RFC 6030's bulk example (figure 10) ships one serial per period.
    fn push(&mut self, token: ImportedToken) {
        let Some(first) = self
            .tokens
            .iter_mut()
            .find(|t| t.token_id == token.token_id)
        else {
            self.tokens.push(token);
            return;
        };
        let later = match (first.valid_from, token.valid_from) {
            (Some(a), Some(b)) => b > a,
            (None, Some(_)) => true,
            _ => false,
        };
        let detail = if !first.same_key(&token) {
            " with a different key"
        } else if later {
            *first = token;
            return;
        } else {
            ": the same key, without a later validity period"
        };
        let reason = format!(
            "duplicate token ID in the file (first at {}){detail}",
            first.location
        );
        self.rejected.push(Rejection {
            location: token.location,
            token_id: Some(token.token_id),
            reason,
        });
    }

    fn reject(&mut self, location: Location, token_id: Option<String>, reason: impl Into<String>) {
        self.rejected.push(Rejection {
            location,
            token_id,
            reason: reason.into(),
        });
    }
}

/// A problem with the whole file: nothing in it can be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// Larger than [`MAX_FILE_BYTES`].
    TooLarge,
    /// More than [`MAX_ENTRIES`] entries.
    TooManyEntries,
    /// Not UTF-8 text.
    NotUtf8,
    /// A document type declaration: refused, since it is how entity-expansion attacks start
    /// and no PSKC file needs one.
    DoctypeRefused,
    /// Elements nested deeper than any PSKC file needs.
    TooDeep,
    /// More elements than any file of [`MAX_ENTRIES`] tokens needs.
    TooManyElements,
    /// Not well-formed XML, or not a PSKC KeyContainer; the detail says where.
    Malformed(String),
    /// The file has encrypted secrets but no key or passphrase was given.
    KeyRequired,
    /// A key or passphrase was given but the file is not encrypted with that kind of key.
    KeyNotApplicable,
    /// The given key or passphrase does not open the file's MAC key.
    WrongKey,
    /// The file uses an encryption or MAC scheme Sekisho does not read; the detail names it.
    Unsupported(String),
    /// The file holds no key package Sekisho can read (no KeyPackage, or a layout whose keys
    /// are not where any PSKC version puts them); the detail says what was found.
    NoKeyPackage(String),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::TooLarge => write!(f, "the file is larger than {MAX_FILE_BYTES} bytes"),
            ImportError::TooManyEntries => {
                write!(f, "the file has more than {MAX_ENTRIES} entries; split it")
            }
            ImportError::NotUtf8 => write!(f, "the file is not UTF-8 text"),
            ImportError::DoctypeRefused => {
                write!(
                    f,
                    "the file has a document type declaration (DOCTYPE), which is refused"
                )
            }
            ImportError::TooDeep => write!(f, "XML elements are nested too deeply"),
            ImportError::TooManyElements => write!(f, "the file has too many XML elements"),
            ImportError::Malformed(d) => write!(f, "malformed file: {d}"),
            ImportError::KeyRequired => write!(
                f,
                "the file has encrypted secrets: give the pre-shared key or the passphrase"
            ),
            ImportError::KeyNotApplicable => write!(
                f,
                "the given key or passphrase does not fit how this file is protected"
            ),
            ImportError::WrongKey => write!(f, "the key or passphrase does not open this file"),
            ImportError::Unsupported(d) => write!(f, "unsupported: {d}"),
            ImportError::NoKeyPackage(d) => write!(f, "no usable key package: {d}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// The canonical form of a token ID as printed or typed: NFKC (so full-width characters from a
/// Japanese IME become ASCII), trimmed, upper case. `None` if it is empty, longer than
/// [`MAX_TOKEN_ID_CHARS`], or has characters other than ASCII letters, digits and `- _ . :`.
pub fn normalize_token_id(raw: &str) -> Option<String> {
    let id: String = raw.trim().nfkc().collect::<String>().to_ascii_uppercase();
    let ok = !id.is_empty()
        && id.chars().count() <= MAX_TOKEN_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    ok.then_some(id)
}

/// Checks a secret's length against [`MIN_SECRET_BYTES`] (unless the operator allowed short
/// test secrets) and [`MAX_SECRET_BYTES`].
fn check_secret(secret: &[u8], options: ParseOptions) -> Result<(), String> {
    if secret.is_empty() {
        Err("the secret is empty".into())
    } else if secret.len() < MIN_SECRET_BYTES && !options.allow_short_secrets {
        Err(format!(
            "secret is {} bytes; RFC 4226 section 4 (requirement R6) asks for at least \
             {MIN_SECRET_BYTES} (128 bits); test tokens can be imported with \
             --allow-short-secrets (allow_short_secrets=true in the API)",
            secret.len()
        ))
    } else if secret.len() > MAX_SECRET_BYTES {
        Err(format!(
            "secret is {} bytes; at most {MAX_SECRET_BYTES} are accepted",
            secret.len()
        ))
    } else {
        Ok(())
    }
}

/// Checks digits and period.
fn check_params(kind: OtpKind, params: OtpParams) -> Result<(), String> {
    if !params.is_valid() {
        return Err(format!(
            "{} digits / period {} are not supported (6 to 8 digits)",
            params.digits, params.period
        ));
    }
    if kind == OtpKind::Totp && params.period > MAX_PERIOD {
        return Err(format!(
            "period {} s is longer than {MAX_PERIOD} s",
            params.period
        ));
    }
    Ok(())
}

/// Parses a decimal number in `0..=max`, with a message naming `what` on failure.
fn parse_bounded(s: &str, what: &str, max: u64) -> Result<u64, String> {
    let s = s.trim();
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} is not a number"));
    }
    match s.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("{what} is larger than {max}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ids() {
        assert_eq!(
            normalize_token_id(" vsmt25772182 ").as_deref(),
            Some("VSMT25772182")
        );
        assert_eq!(
            normalize_token_id("ＶＳＭＴ２５７７２１８２").as_deref(),
            Some("VSMT25772182")
        );
        assert_eq!(
            normalize_token_id("ab-1_2.3:4").as_deref(),
            Some("AB-1_2.3:4")
        );
        for bad in ["", "   ", "a b", "トークン", "a/b", "x\u{0}"] {
            assert_eq!(normalize_token_id(bad), None, "{bad:?}");
        }
        assert!(normalize_token_id(&"A".repeat(64)).is_some());
        assert!(normalize_token_id(&"A".repeat(65)).is_none());
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let s = SecretBytes::new(b"12345678901234567890".to_vec());
        assert_eq!(format!("{s:?}"), "SecretBytes(<20 bytes>)");
        assert_eq!(s.expose().len(), 20);
    }

    #[test]
    fn bounded_numbers() {
        assert_eq!(parse_bounded(" 42 ", "n", 100), Ok(42));
        assert!(parse_bounded("101", "n", 100).is_err());
        assert!(parse_bounded("-1", "n", 100).is_err());
        assert!(parse_bounded("1e3", "n", 100000).is_err());
        assert!(parse_bounded(&"9".repeat(40), "n", u64::MAX).is_err());
    }
}

#[cfg(test)]
#[path = "corpus_tests.rs"]
mod corpus_tests;
