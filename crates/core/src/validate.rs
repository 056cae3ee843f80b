//! Validated identifiers: parse once at the edge, then trust the type.

use crate::error::Error;
use serde::Serialize;

/// A login ID: 4–64 characters of ASCII letters, digits and `. _ - @`, starting with a letter or
/// digit. Login IDs compare case-insensitively, so they are kept in lower case. They get the same
/// NFKC normalisation as passwords first, so an ID typed with a Japanese IME in full width
/// (`９９９９０００００１`, `ＴＡＮＡＫＡ`) is the same ID, and surrounding spaces (full-width ones
/// too) are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct LoginId(String);

impl LoginId {
    /// Checks the rules and returns the canonical (lower-case) form.
    pub fn parse(s: &str) -> Result<LoginId, Error> {
        let typed = typed_identifier(s);
        let s = typed.as_str();
        let len = s.chars().count();
        let first_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        let chars_ok = s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
        if !(4..=64).contains(&len) || !first_ok || !chars_ok {
            return Err(Error::InvalidLoginId);
        }
        Ok(LoginId(s.to_ascii_lowercase()))
    }

    /// The canonical string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LoginId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An identifier as typed (an operator name, a login ID before its checks): NFKC-normalised, as
/// passwords are, with surrounding spaces dropped, so full-width input from a Japanese IME is
/// the identifier it shows.
pub fn typed_identifier(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let normalized: String = s.nfkc().collect();
    normalized.trim().to_owned()
}

/// A registered e-mail address: syntactically valid (RFC 5322 addr-spec), at most 254 characters,
/// with a dotted domain name (no IP literals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates and returns the address with surrounding whitespace removed and the domain in
    /// lower case.
    pub fn parse(s: &str) -> Result<EmailAddress, Error> {
        let s = s.trim();
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::InvalidEmail);
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            s,
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal(),
        )
        .map_err(|_| Error::InvalidEmail)?;
        let domain = parsed.domain();
        let labels_ok = domain.split('.').count() >= 2
            && domain.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !labels_ok {
            return Err(Error::InvalidEmail);
        }
        Ok(EmailAddress(format!(
            "{}@{}",
            parsed.local_part(),
            domain.to_lowercase()
        )))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: 1–100 characters after trimming, no control characters.
pub fn display_name(s: &str) -> Result<String, Error> {
    let t = s.trim();
    let n = t.chars().count();
    if n == 0 || n > 100 || t.chars().any(char::is_control) {
        return Err(Error::InvalidDisplayName);
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_id_rules() {
        assert_eq!(
            LoginId::parse("Tanaka.Taro").map(|l| l.0),
            Ok("tanaka.taro".into())
        );
        assert!(LoginId::parse("9999000001").is_ok());
        assert!(LoginId::parse("a@b-c_d").is_ok());
        // Full width, as a Japanese IME types it, is the same ID (issue 16 item 8).
        assert_eq!(
            LoginId::parse("９９９９０００００１").map(|l| l.0),
            Ok("9999000001".into())
        );
        assert_eq!(
            LoginId::parse("\u{3000}ＴＡＮＡＫＡ．ｔａｒｏ ").map(|l| l.0),
            Ok("tanaka.taro".into())
        );
        for bad in [
            "abc",
            "",
            "-abcd",
            "tanaka taro",
            "たなかたろう",
            &"a".repeat(65),
            "ab/cd",
        ] {
            assert_eq!(LoginId::parse(bad), Err(Error::InvalidLoginId), "{bad}");
        }
    }

    #[test]
    fn email_rules() {
        assert_eq!(
            EmailAddress::parse(" Taro@Example.CO.JP ").map(|e| e.0),
            Ok("Taro@example.co.jp".into())
        );
        for bad in [
            "taro",
            "taro@",
            "@example.com",
            "taro@localhost",
            "a b@example.com",
            "taro@[127.0.0.1]",
            "taro@-x.com",
            "Taro <taro@example.com>",
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(Error::InvalidEmail), "{bad}");
        }
    }

    #[test]
    fn display_name_rules() {
        assert_eq!(display_name(" 山田 太郎 "), Ok("山田 太郎".into()));
        assert!(display_name("  ").is_err());
        assert!(display_name("a\u{0007}b").is_err());
        assert!(display_name(&"あ".repeat(101)).is_err());
    }
}
