//! Password policy presets: `jp-broker` (the seeds' rules) and `nist-800-63b-4`.

use crate::error::{Error, PolicyViolation};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

pub(super) const COMMON_TEXT: &str = include_str!("common-passwords.txt");

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_TEXT
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
});

/// A named starting point for the password policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Preset {
    /// Japanese brokers' rules as in the seeds: 8–16 half-width characters mixing letters and
    /// digits, the last 2 passwords refused, 90-day expiry, lock after 5 failures.
    #[default]
    #[serde(rename = "jp-broker")]
    JpBroker,
    /// NIST SP 800-63B-4: ≥ 15 characters as the only factor (≥ 8 with MFA), up to 64, no
    /// composition rules, no expiry, a blocklist of common passwords, lock only after 100.
    #[serde(rename = "nist-800-63b-4")]
    Nist80063b4,
}

impl Preset {
    /// The preset's configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::JpBroker => "jp-broker",
            Preset::Nist80063b4 => "nist-800-63b-4",
        }
    }
}

/// The rules a new password must meet, plus the lock and expiry settings that go with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// The preset these values came from.
    pub preset: Preset,
    /// Minimum length (characters) when the password is the only factor.
    pub min_length: usize,
    /// Minimum length (characters) when the login also has a second factor.
    pub min_length_with_mfa: usize,
    /// Maximum length (characters).
    pub max_length: usize,
    /// Letters and digits must both appear.
    pub require_letters_and_digits: bool,
    /// Only half-width ASCII (letters, digits, symbols) is allowed.
    pub ascii_only: bool,
    /// How many of the most recent passwords (the current one included) may not be reused.
    pub history: usize,
    /// Days after which a password must be changed; `None` for never.
    pub max_age_days: Option<u32>,
    /// Refuse passwords on the common-password list.
    pub blocklist: bool,
    /// Consecutive password failures that lock the login.
    pub lockout_threshold: u32,
}

impl Default for PasswordPolicy {
    /// The default preset's policy.
    fn default() -> Self {
        PasswordPolicy::preset(Preset::default())
    }
}

impl PasswordPolicy {
    /// The policy a preset prescribes.
    pub fn preset(preset: Preset) -> PasswordPolicy {
        match preset {
            Preset::JpBroker => PasswordPolicy {
                preset,
                min_length: 8,
                min_length_with_mfa: 8,
                max_length: 16,
                require_letters_and_digits: true,
                ascii_only: true,
                history: 2,
                max_age_days: Some(90),
                blocklist: false,
                lockout_threshold: 5,
            },
            Preset::Nist80063b4 => PasswordPolicy {
                preset,
                min_length: 15,
                min_length_with_mfa: 8,
                max_length: 64,
                require_letters_and_digits: false,
                ascii_only: false,
                history: 0,
                max_age_days: None,
                blocklist: true,
                lockout_threshold: 100,
            },
        }
    }

    /// NFKC-normalises a password so that the same text typed on different keyboards (full-width
    /// digits on a Japanese IME, say) hashes the same. Applied before checking and hashing.
    pub fn normalize(password: &str) -> String {
        password.nfkc().collect()
    }

    /// The minimum length that applies to a login with or without a second factor.
    pub fn min_length_for(&self, has_second_factor: bool) -> usize {
        if has_second_factor {
            self.min_length_with_mfa
        } else {
            self.min_length
        }
    }

    /// Whether a (normalised) password may contain `c`: never a control character; with
    /// `ascii_only`, only half-width letters, digits and symbols.
    pub fn allows(&self, c: char) -> bool {
        !c.is_control() && (!self.ascii_only || c.is_ascii_graphic())
    }

    /// The symbols (ASCII characters other than letters and digits, the space included) a
    /// password may contain: what the hosted pages' software keyboard offers besides letters
    /// and digits.
    pub fn symbols(&self) -> String {
        (' '..='~')
            .filter(|c| !c.is_ascii_alphanumeric() && self.allows(*c))
            .collect()
    }

    /// Checks a (normalised) new password against the rules that need no history. The history
    /// check needs the stored hashes and is done by the caller with [`crate::password::PasswordHasher`].
    pub fn check(
        &self,
        password: &str,
        login_id: &str,
        has_second_factor: bool,
    ) -> Result<(), Error> {
        let v = |v| Err(Error::PasswordPolicy(v));
        let len = password.chars().count();
        if !password.chars().all(|c| self.allows(c)) {
            return v(PolicyViolation::InvalidCharacters);
        }
        let min = self.min_length_for(has_second_factor);
        if len < min {
            return v(PolicyViolation::TooShort { min });
        }
        if len > self.max_length {
            return v(PolicyViolation::TooLong {
                max: self.max_length,
            });
        }
        if self.require_letters_and_digits
            && !(password.chars().any(|c| c.is_ascii_alphabetic())
                && password.chars().any(|c| c.is_ascii_digit()))
        {
            return v(PolicyViolation::Composition);
        }
        if !login_id.is_empty() && password.to_lowercase().contains(&login_id.to_lowercase()) {
            return v(PolicyViolation::ContainsLoginId);
        }
        if self.blocklist && COMMON.contains(password.to_lowercase().as_str()) {
            return v(PolicyViolation::Common);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jp() -> PasswordPolicy {
        PasswordPolicy::preset(Preset::JpBroker)
    }
    fn nist() -> PasswordPolicy {
        PasswordPolicy::preset(Preset::Nist80063b4)
    }
    fn violation(p: &PasswordPolicy, pw: &str, id: &str, mfa: bool) -> Option<PolicyViolation> {
        match p.check(pw, id, mfa) {
            Ok(()) => None,
            Err(Error::PasswordPolicy(v)) => Some(v),
            Err(e) => unreachable!("{e:?}"),
        }
    }

    #[test]
    fn the_symbols_offered_are_the_ones_allowed() {
        let symbols = jp().symbols();
        assert_eq!(
            symbols, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
            "every half-width symbol"
        );
        assert_eq!(
            nist().symbols(),
            format!(" {symbols}"),
            "NIST allows the space"
        );
        for c in symbols.chars() {
            let pw = format!("abc1234{c}");
            assert_eq!(violation(&jp(), &pw, "tanaka", false), None, "{pw}");
        }
        assert!(
            !jp().allows('　') && nist().allows('　'),
            "full-width space"
        );
    }

    #[test]
    fn jp_broker_rules_as_in_the_seeds() {
        let p = jp();
        assert_eq!(violation(&p, "abc12345", "tanaka", false), None);
        assert_eq!(
            violation(&p, "abc1234", "tanaka", false),
            Some(PolicyViolation::TooShort { min: 8 })
        );
        assert_eq!(
            violation(&p, "abcd1234abcd12345", "tanaka", false),
            Some(PolicyViolation::TooLong { max: 16 })
        );
        assert_eq!(
            violation(&p, "abcdefgh", "tanaka", false),
            Some(PolicyViolation::Composition)
        );
        assert_eq!(
            violation(&p, "12345678", "tanaka", false),
            Some(PolicyViolation::Composition)
        );
        assert_eq!(
            violation(&p, "Tanaka123", "tanaka", false),
            Some(PolicyViolation::ContainsLoginId)
        );
        assert_eq!(
            violation(&p, "パスワード1234a", "tanaka", false),
            Some(PolicyViolation::InvalidCharacters)
        );
        assert_eq!(
            violation(&p, "abc 12345", "tanaka", false),
            Some(PolicyViolation::InvalidCharacters)
        );
        assert_eq!(p.history, 2);
        assert_eq!(p.max_age_days, Some(90));
        assert_eq!(p.lockout_threshold, 5);
    }

    #[test]
    fn nist_rules() {
        let p = nist();
        assert_eq!(
            violation(&p, "correct horse battery", "tanaka", false),
            None
        );
        assert_eq!(violation(&p, "short but ok", "tanaka", true), None);
        assert_eq!(
            violation(&p, "short but ok", "tanaka", false),
            Some(PolicyViolation::TooShort { min: 15 })
        );
        assert_eq!(
            violation(&p, "password", "tanaka", true),
            Some(PolicyViolation::Common)
        );
        assert_eq!(
            violation(&p, "Qwertyuiop", "tanaka", true),
            Some(PolicyViolation::Common)
        );
        assert_eq!(
            violation(&p, "すごく長い日本語のパスワードです", "tanaka", false),
            None
        );
        assert_eq!(
            violation(&p, &"x".repeat(65), "tanaka", false),
            Some(PolicyViolation::TooLong { max: 64 })
        );
        assert_eq!(
            violation(&p, "my name is tanaka ok", "tanaka", false),
            Some(PolicyViolation::ContainsLoginId)
        );
        assert_eq!(p.history, 0);
        assert_eq!(p.max_age_days, None);
    }

    #[test]
    fn normalisation_folds_full_width() {
        assert_eq!(PasswordPolicy::normalize("ａｂｃ１２３"), "abc123");
    }
}
