//! Why a new password is refused: the password policy's own rows of the catalogue. Their
//! messages name the policy's numbers, so each row holds a template with `{n}` for the number.

use super::{Entry, ErrorKind};
use crate::lang::Lang;

/// Why a password is refused by the password policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyViolation {
    /// Shorter than the minimum length (in characters).
    TooShort {
        /// The minimum length that applies to this login.
        min: usize,
    },
    /// Longer than the maximum length (in characters).
    TooLong {
        /// The maximum length.
        max: usize,
    },
    /// Letters and digits must both appear (jp-broker).
    Composition,
    /// Characters outside the allowed set (jp-broker: half-width ASCII; control characters everywhere).
    InvalidCharacters,
    /// Equal to, or contains, the login ID.
    ContainsLoginId,
    /// One of the last passwords of this login.
    Reused {
        /// How many previous passwords are remembered.
        generations: usize,
    },
    /// On the list of commonly used passwords.
    Common,
}

impl PolicyViolation {
    /// This violation's row: name, code, kind, and message templates (`{n}`: the number).
    pub(super) fn entry(&self) -> Entry {
        let (name, code, ja, en) = match self {
            PolicyViolation::TooShort { .. } => (
                "password_too_short",
                "SKS-PWD-0001",
                "パスワードは{n}文字以上で設定してください。",
                "The password must be at least {n} characters long.",
            ),
            PolicyViolation::TooLong { .. } => (
                "password_too_long",
                "SKS-PWD-0002",
                "パスワードは{n}文字以下で設定してください。",
                "The password must be at most {n} characters long.",
            ),
            PolicyViolation::Composition => (
                "password_composition",
                "SKS-PWD-0003",
                "パスワードには英字と数字を混在させてください。",
                "The password must contain both letters and digits.",
            ),
            PolicyViolation::InvalidCharacters => (
                "password_invalid_characters",
                "SKS-PWD-0004",
                "パスワードに使用できない文字が含まれています。使用できる文字は、パスワードの条件をご確認ください。",
                "The password contains characters that are not allowed. See the password rules for the characters you can use.",
            ),
            PolicyViolation::ContainsLoginId => (
                "password_contains_login_id",
                "SKS-PWD-0005",
                "パスワードにログインIDを含めることはできません。",
                "The password must not contain the login ID.",
            ),
            PolicyViolation::Reused { .. } => (
                "password_reused",
                "SKS-PWD-0006",
                "直近{n}世代前までに設定したパスワードは使用できません。",
                "The password must differ from the last {n} passwords.",
            ),
            PolicyViolation::Common => (
                "password_common",
                "SKS-PWD-0007",
                "このパスワードは広く使われているため使用できません。推測されにくいパスワードを設定してください。",
                "This password is commonly used and cannot be chosen. Pick one that is harder to guess.",
            ),
        };
        Entry {
            name,
            code,
            kind: ErrorKind::BadRequest,
            ja,
            en,
        }
    }

    /// The number the message names, if any.
    fn number(&self) -> Option<usize> {
        match self {
            PolicyViolation::TooShort { min: n }
            | PolicyViolation::TooLong { max: n }
            | PolicyViolation::Reused { generations: n } => Some(*n),
            _ => None,
        }
    }

    /// The message in `lang`, with the policy's number filled in.
    pub(super) fn message(&self, lang: Lang) -> String {
        let template = self.entry().text(lang);
        match self.number() {
            Some(n) => template.replace("{n}", &n.to_string()),
            None => template.to_owned(),
        }
    }

    /// The id of the rule broken by the refusal of this stable code (`SKS-PWD-…`), if it is one
    /// of the password policy's: what a page marks unmet after the server refused.
    pub fn rule_id_of_code(code: &str) -> Option<&'static str> {
        PolicyViolation::examples()
            .into_iter()
            .find(|v| v.entry().code == code)
            .map(|v| v.rule_id())
    }

    /// One of each (with the jp-broker preset's numbers), for the catalogue's checks.
    pub(super) fn examples() -> [PolicyViolation; 7] {
        [
            PolicyViolation::TooShort { min: 8 },
            PolicyViolation::TooLong { max: 16 },
            PolicyViolation::Composition,
            PolicyViolation::InvalidCharacters,
            PolicyViolation::ContainsLoginId,
            PolicyViolation::Reused { generations: 2 },
            PolicyViolation::Common,
        ]
    }
}
