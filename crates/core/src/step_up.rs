//! Step-up confirmation of one important operation (a withdrawal, a change of the withdrawal
//! account, a large order): the relying app asks, the customer confirms on Sekisho's page with
//! a fresh check of one of the login's second factors, and the app receives a signed,
//! short-lived proof naming the login, the operation, the method and the time.
//!
//! The confirming methods are one small enum: the codes (`totp`, `token`) and passkeys
//! (`passkey`), all ending in the same single-use answer and the same proof. The firm may
//! require a passkey for given kinds of operation ([`StepUpPolicy::passkey_required`]).

use crate::lang::Lang;
use crate::Error;
use serde::{Deserialize, Serialize};

/// The kind of operation a customer confirms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// 出金: money leaves the account.
    Withdrawal,
    /// 出金先口座の変更: the account withdrawals go to.
    WithdrawalAccountChange,
    /// 大口注文: an order above the firm's threshold.
    LargeOrder,
    /// Anything else the firm wants confirmed (described by the description alone).
    Other,
}

impl OperationKind {
    /// Every kind, for documentation and validation.
    pub const ALL: &'static [OperationKind] = &[
        OperationKind::Withdrawal,
        OperationKind::WithdrawalAccountChange,
        OperationKind::LargeOrder,
        OperationKind::Other,
    ];

    /// The name in the API, the database and the proof.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Withdrawal => "withdrawal",
            OperationKind::WithdrawalAccountChange => "withdrawal_account_change",
            OperationKind::LargeOrder => "large_order",
            OperationKind::Other => "other",
        }
    }

    /// Parses a name; `None` for an unknown kind.
    pub fn parse(s: &str) -> Option<OperationKind> {
        OperationKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// The kind in words, as the confirmation page shows it.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (OperationKind::Withdrawal, Lang::Ja) => "出金",
            (OperationKind::Withdrawal, Lang::En) => "Withdrawal",
            (OperationKind::WithdrawalAccountChange, Lang::Ja) => "出金先口座の変更",
            (OperationKind::WithdrawalAccountChange, Lang::En) => "Change of withdrawal account",
            (OperationKind::LargeOrder, Lang::Ja) => "大口注文",
            (OperationKind::LargeOrder, Lang::En) => "Large order",
            (OperationKind::Other, Lang::Ja) => "重要なお手続き",
            (OperationKind::Other, Lang::En) => "Important operation",
        }
    }
}

impl std::fmt::Display for OperationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A factor that can confirm a step-up. The trading password is deliberately absent: it is a
/// knowledge factor and never stands in for the second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmMethod {
    /// A current code of the login's authenticator app (TOTP).
    Totp,
    /// A current code of the login's registered hardware or software token.
    Token,
    /// A WebAuthn assertion of one of the login's passkeys, from a ceremony begun for this
    /// very request (phishing-resistant: bound to the site's origin).
    Passkey,
}

impl ConfirmMethod {
    /// Every method Sekisho can confirm with today.
    pub const ALL: &'static [ConfirmMethod] = &[
        ConfirmMethod::Passkey,
        ConfirmMethod::Totp,
        ConfirmMethod::Token,
    ];

    /// The `method` claim of the proof and the name in settings.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfirmMethod::Totp => "totp",
            ConfirmMethod::Token => "token",
            ConfirmMethod::Passkey => "passkey",
        }
    }

    /// Whether the method answers with a typed code (the code form) rather than a ceremony.
    pub fn is_code(self) -> bool {
        !matches!(self, ConfirmMethod::Passkey)
    }

    /// Parses a name; `None` for an unknown method.
    pub fn parse(s: &str) -> Option<ConfirmMethod> {
        ConfirmMethod::ALL.iter().copied().find(|m| m.as_str() == s)
    }

    /// The RFC 8176 authentication method references of this method (`amr` claim): a one-time
    /// password from an app (`otp`, a software-held key: `swk`) or from a token (`otp`, a
    /// hardware-held key: `hwk`; software tokens are imported the same way and cannot be told
    /// apart, so the firm's inventory decides what `hwk` means for it), or a passkey (`hwk`: a
    /// proof of possession of a key held by an authenticator — synced passkeys included, as
    /// RFC 8176 has no finer word — and `user`: webauthn-rs passkeys require user verification,
    /// and whether the authenticator checked a fingerprint, a face or a PIN is not reported to
    /// the relying party, so `user` rather than `pin` or a biometric reference).
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            ConfirmMethod::Totp => &["otp", "swk"],
            ConfirmMethod::Token => &["otp", "hwk"],
            ConfirmMethod::Passkey => &["hwk", "user"],
        }
    }
}

impl From<ConfirmMethod> for crate::flow::Factor {
    fn from(m: ConfirmMethod) -> Self {
        match m {
            ConfirmMethod::Totp => crate::flow::Factor::Totp,
            ConfirmMethod::Token => crate::flow::Factor::Token,
            ConfirmMethod::Passkey => crate::flow::Factor::Passkey,
        }
    }
}

/// Where a step-up request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepUpState {
    /// Waiting for the customer.
    Pending,
    /// Confirmed: a proof was signed.
    Confirmed,
    /// The customer refused (cancelled) the operation.
    Refused,
    /// Nobody answered before the request expired.
    Expired,
}

impl StepUpState {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            StepUpState::Pending => "pending",
            StepUpState::Confirmed => "confirmed",
            StepUpState::Refused => "refused",
            StepUpState::Expired => "expired",
        }
    }

    /// Parses a stored name (unknown names read as expired: never usable).
    pub fn parse(s: &str) -> StepUpState {
        match s {
            "pending" => StepUpState::Pending,
            "confirmed" => StepUpState::Confirmed,
            "refused" => StepUpState::Refused,
            _ => StepUpState::Expired,
        }
    }
}

/// Longest operation description in characters (it is shown on a page and signed).
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// Checks an operation description: 1–500 characters, no control characters but line breaks.
pub fn check_description(d: &str) -> Result<(), Error> {
    let n = d.chars().count();
    if n == 0 || n > MAX_DESCRIPTION_CHARS || d.trim().is_empty() {
        return Err(Error::InvalidRequest(format!(
            "description must be 1 to {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    if d.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::InvalidRequest(
            "description must not contain control characters".into(),
        ));
    }
    Ok(())
}

/// Checks an amount (a decimal number as text, so no precision is lost) and its currency
/// (three capital letters, ISO 4217).
pub fn check_amount(amount: &str, currency: &str) -> Result<(), Error> {
    let digits_ok = !amount.is_empty()
        && amount.len() <= 32
        && amount.split('.').count() <= 2
        && amount.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !amount.starts_with('.')
        && !amount.ends_with('.');
    if !digits_ok {
        return Err(Error::InvalidRequest(
            "amount must be a non-negative decimal number such as \"1500000\" or \"12.50\"".into(),
        ));
    }
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(Error::InvalidRequest(
            "currency must be three capital letters (ISO 4217)".into(),
        ));
    }
    Ok(())
}

/// An amount as the page shows it: digits grouped by three (`1,500,000 JPY`).
pub fn format_amount(amount: &str, currency: &str) -> String {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if !frac.is_empty() {
        grouped.push('.');
        grouped.push_str(frac);
    }
    format!("{grouped} {currency}")
}

/// Which methods may confirm an operation: the firm's allowed methods that the login has, and
/// for the kinds that require a passkey, only a passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUpPolicy {
    /// Methods allowed to confirm any kind of operation.
    pub allowed: Vec<ConfirmMethod>,
    /// Kinds only a passkey confirms (JSDA's guideline expects phishing-resistant MFA at
    /// withdrawal and change of the withdrawal account; empty during the interim period).
    pub passkey_required: Vec<OperationKind>,
}

impl Default for StepUpPolicy {
    fn default() -> Self {
        StepUpPolicy {
            allowed: ConfirmMethod::ALL.to_vec(),
            passkey_required: Vec::new(),
        }
    }
}

impl StepUpPolicy {
    /// Whether only a passkey confirms `kind`.
    pub fn requires_passkey(&self, kind: OperationKind) -> bool {
        self.passkey_required.contains(&kind)
    }

    /// The methods the customer may use for `kind`, given those the login has, in the order of
    /// the login's methods.
    pub fn usable(&self, kind: OperationKind, has: &[ConfirmMethod]) -> Vec<ConfirmMethod> {
        let only_passkey = self.requires_passkey(kind);
        has.iter()
            .copied()
            .filter(|m| self.allowed.contains(m))
            .filter(|m| !only_passkey || *m == ConfirmMethod::Passkey)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in OperationKind::ALL {
            assert_eq!(OperationKind::parse(k.as_str()), Some(*k));
        }
        for m in ConfirmMethod::ALL {
            assert_eq!(ConfirmMethod::parse(m.as_str()), Some(*m));
            assert_eq!(m.amr().contains(&"otp"), m.is_code());
        }
        assert_eq!(ConfirmMethod::Passkey.amr(), &["hwk", "user"]);
        assert_eq!(OperationKind::parse("transfer"), None);
        assert_eq!(ConfirmMethod::parse("trading_password"), None);
    }

    #[test]
    fn amounts_are_checked_and_grouped() {
        assert!(check_amount("1500000", "JPY").is_ok());
        assert!(check_amount("12.50", "USD").is_ok());
        assert!(check_amount("-1", "JPY").is_err());
        assert!(check_amount("1e9", "JPY").is_err());
        assert!(check_amount("1.2.3", "JPY").is_err());
        assert!(check_amount("100", "jpy").is_err());
        assert_eq!(format_amount("1500000", "JPY"), "1,500,000 JPY");
        assert_eq!(format_amount("999", "JPY"), "999 JPY");
        assert_eq!(format_amount("1234.5", "USD"), "1,234.5 USD");
    }

    #[test]
    fn descriptions_are_bounded() {
        assert!(check_description("出金 1,500,000円 → みずほ銀行 本店 普通 1234567").is_ok());
        assert!(check_description("").is_err());
        assert!(check_description("  ").is_err());
        assert!(check_description("a\u{7}b").is_err());
        assert!(check_description(&"x".repeat(501)).is_err());
    }

    #[test]
    fn policy_keeps_only_allowed_methods_the_login_has() {
        let p = StepUpPolicy {
            allowed: vec![ConfirmMethod::Token],
            passkey_required: Vec::new(),
        };
        let has = [ConfirmMethod::Totp, ConfirmMethod::Token];
        assert_eq!(
            p.usable(OperationKind::Withdrawal, &has),
            vec![ConfirmMethod::Token]
        );
        assert_eq!(
            StepUpPolicy::default().usable(OperationKind::Other, &has[..1]),
            vec![ConfirmMethod::Totp]
        );
    }

    #[test]
    fn kinds_requiring_a_passkey_take_only_a_passkey() {
        let p = StepUpPolicy {
            passkey_required: vec![OperationKind::Withdrawal],
            ..StepUpPolicy::default()
        };
        let all = [
            ConfirmMethod::Passkey,
            ConfirmMethod::Totp,
            ConfirmMethod::Token,
        ];
        assert_eq!(
            p.usable(OperationKind::Withdrawal, &all),
            vec![ConfirmMethod::Passkey]
        );
        assert!(p.usable(OperationKind::Withdrawal, &all[1..]).is_empty());
        assert_eq!(p.usable(OperationKind::LargeOrder, &all), all.to_vec());
        assert!(!StepUpPolicy::default().requires_passkey(OperationKind::Withdrawal));
    }
}
