//! A login (a customer's account) and the rules applied once its password has been checked.

use crate::clock::Timestamp;
use crate::flow::Factor;
use crate::lang::Lang;
use crate::password::PasswordPolicy;
use serde::{Deserialize, Serialize};

/// The second factor an operator sets for a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactor {
    /// Password only.
    #[default]
    None,
    /// A code sent by e-mail.
    Email,
    /// An authenticator app (TOTP).
    Totp,
    /// A hardware or software token identified by its token ID.
    Token,
    /// A passkey (WebAuthn).
    Passkey,
    /// Any factor the customer has registered.
    Any,
}

impl SecondFactor {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SecondFactor::None => "none",
            SecondFactor::Email => "email",
            SecondFactor::Totp => "totp",
            SecondFactor::Token => "token",
            SecondFactor::Passkey => "passkey",
            SecondFactor::Any => "any",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<SecondFactor> {
        Some(match s {
            "none" => SecondFactor::None,
            "email" => SecondFactor::Email,
            "totp" => SecondFactor::Totp,
            "token" => SecondFactor::Token,
            "passkey" => SecondFactor::Passkey,
            "any" => SecondFactor::Any,
            _ => return None,
        })
    }
}

/// A login as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// Internal key.
    pub id: i64,
    /// The login ID (canonical, lower case).
    pub login_id: String,
    /// Display name.
    pub display_name: String,
    /// Registered e-mail address.
    pub email: String,
    /// Where e-mail codes go, if the customer set an address of its own for them.
    pub code_email: Option<String>,
    /// A mail at every successful login (ログイン通知); `None`: the firm's default.
    pub notify_login: Option<bool>,
    /// Preferred language.
    pub lang: Lang,
    /// The second factor the operator set.
    pub second_factor: SecondFactor,
    /// Whether a second factor is mandatory.
    pub mfa_required: bool,
    /// Disabled by an operator.
    pub disabled: bool,
    /// Consecutive password failures.
    pub failed_logins: i64,
    /// When the login was locked, if it is.
    pub locked_at: Option<Timestamp>,
    /// Argon2id PHC string; `None` until a password is set.
    pub password_hash: Option<String>,
    /// When the password was last set.
    pub password_changed_at: Option<Timestamp>,
    /// The password was set by an operator and must be changed at the next login.
    pub password_temporary: bool,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// Last successful login.
    pub last_login_at: Option<Timestamp>,
}

/// Why a password must be changed before the login can go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeReason {
    /// An operator set a temporary password (first login, reset).
    Temporary,
    /// The password is older than the policy's maximum age.
    Expired,
}

impl ChangeReason {
    /// The stored / JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeReason::Temporary => "temporary",
            ChangeReason::Expired => "expired",
        }
    }
}

/// What the login needs after a correct password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondStep {
    /// Nothing more: the password is the only factor.
    PasswordOnly,
    /// One of these registered factors must follow.
    Required(Vec<Factor>),
    /// A second factor is needed but the customer has not registered one.
    NotInitialized,
}

/// What happens after the MFA deadline to a login that has no second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterDeadline {
    /// A code by e-mail to the registered address (JTG's fallback).
    #[default]
    EmailCode,
    /// Refusal with `second_factor_not_initialized` (CQG), pointing at the setup.
    Refuse,
}

impl AfterDeadline {
    /// Parses the configuration value (`email_code`, `refuse`).
    pub fn parse(s: &str) -> Option<AfterDeadline> {
        match s {
            "email_code" => Some(AfterDeadline::EmailCode),
            "refuse" => Some(AfterDeadline::Refuse),
            _ => None,
        }
    }
}

/// The firm's MFA rollout: from `mandatory_from` every login needs a second factor; before it,
/// logins without one go on with the password alone and are reminded of the date (the `mfa.*`
/// settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaRollout {
    /// When MFA becomes mandatory for everyone (`None`: only per login, `mfa_required`); an
    /// RFC 3339 time in the settings.
    #[serde(with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub mandatory_from: Option<Timestamp>,
    /// Days before the date during which the deadline counts as near (the logins list flag).
    pub reminder_days: u32,
    /// What happens after the date to logins without a factor.
    pub after_deadline: AfterDeadline,
}

/// `Option<Timestamp>` as an RFC 3339 string (the settings' form).
mod rfc3339_opt {
    use crate::clock::Timestamp;
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.to_rfc3339()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map(Some).ok_or_else(|| {
            D::Error::custom("must be an RFC 3339 time such as 2026-06-22T00:00:00+09:00")
        })
    }
}

impl Default for MfaRollout {
    fn default() -> Self {
        MfaRollout {
            mandatory_from: None,
            reminder_days: 14,
            after_deadline: AfterDeadline::EmailCode,
        }
    }
}

/// The rollout's effect on one login's second step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutStep {
    /// The step to take.
    pub step: SecondStep,
    /// Remind the customer of this deadline (password-only login before the date).
    pub reminder: Option<Timestamp>,
}

impl MfaRollout {
    /// Whether the deadline is set and has not passed but is within `reminder_days`.
    pub fn deadline_near(&self, now: Timestamp) -> bool {
        self.mandatory_from
            .is_some_and(|d| now < d && now >= d.plus_secs(-i64::from(self.reminder_days) * 86_400))
    }

    /// Applies the rollout to the step the login's own settings give: only a password-only
    /// login changes: reminded before the date; after it, an e-mail code or a refusal.
    pub fn apply(&self, step: SecondStep, now: Timestamp) -> RolloutStep {
        match (step, self.mandatory_from) {
            (SecondStep::PasswordOnly, Some(d)) if now >= d => RolloutStep {
                step: match self.after_deadline {
                    AfterDeadline::EmailCode => SecondStep::Required(vec![Factor::Email]),
                    AfterDeadline::Refuse => SecondStep::NotInitialized,
                },
                reminder: None,
            },
            (SecondStep::PasswordOnly, Some(d)) => RolloutStep {
                step: SecondStep::PasswordOnly,
                reminder: Some(d),
            },
            (step, _) => RolloutStep {
                step,
                reminder: None,
            },
        }
    }
}

impl Login {
    /// The address e-mail codes go to: the delivery address, else the registered one (JTG).
    pub fn code_address(&self) -> &str {
        self.code_email.as_deref().unwrap_or(&self.email)
    }

    /// Decides the second step from the operator's setting and the factors the customer has
    /// registered (see [`SecondStep::of`]).
    pub fn second_step(&self, registered: &[Factor]) -> SecondStep {
        SecondStep::of(self.second_factor, self.mfa_required, registered)
    }

    /// Whether the login is locked by password failures.
    pub fn is_locked(&self) -> bool {
        self.locked_at.is_some()
    }

    /// Whether the login has a second factor configured (which relaxes the NIST minimum length).
    pub fn has_second_factor(&self) -> bool {
        self.mfa_required || self.second_factor != SecondFactor::None
    }

    /// Whether the password must be changed before the login goes on: a temporary password
    /// set by an operator, or one older than the policy's maximum age.
    pub fn password_change(&self, policy: &PasswordPolicy, now: Timestamp) -> Option<ChangeReason> {
        if self.password_temporary {
            return Some(ChangeReason::Temporary);
        }
        match (policy.max_age_days, self.password_changed_at) {
            (Some(days), Some(changed)) if now >= changed.plus_secs(i64::from(days) * 86_400) => {
                Some(ChangeReason::Expired)
            }
            _ => None,
        }
    }
}

impl SecondStep {
    /// Decides the second step from the operator's setting (`configured`) and the factors the
    /// customer has registered (and that Sekisho can check). With a specific method set, only
    /// that factor counts; with `any` or `none`, every registered one does. When none counts,
    /// the login goes on with the password alone unless MFA is mandatory (the opt-in period
    /// before a firm's deadline, during which customers can still log in to register).
    pub fn of(configured: SecondFactor, mfa_required: bool, registered: &[Factor]) -> SecondStep {
        let usable: Vec<Factor> = match configured.factor() {
            None => registered.to_vec(),
            Some(only) => registered.iter().copied().filter(|m| *m == only).collect(),
        };
        if !usable.is_empty() {
            SecondStep::Required(usable)
        } else if mfa_required || configured == SecondFactor::Token {
            // The token service refuses a login until its token is registered (利用開始登録,
            // Shoko Chukin FX §2.2): a token login without its token must register it first,
            // `mfa_required` or not, and the doors offer the registration.
            SecondStep::NotInitialized
        } else {
            SecondStep::PasswordOnly
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::Preset;

    fn login() -> Login {
        Login {
            id: 1,
            login_id: "tanaka".into(),
            display_name: "田中".into(),
            email: "t@example.jp".into(),
            code_email: None,
            notify_login: None,
            lang: Lang::Ja,
            second_factor: SecondFactor::None,
            mfa_required: false,
            disabled: false,
            failed_logins: 0,
            locked_at: None,
            password_hash: Some("x".into()),
            password_changed_at: Some(Timestamp(0)),
            password_temporary: false,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            last_login_at: None,
        }
    }

    #[test]
    fn expiry_after_90_days_in_jp_broker_only() {
        let jp = PasswordPolicy::preset(Preset::JpBroker);
        let nist = PasswordPolicy::preset(Preset::Nist80063b4);
        let l = login();
        let day = 86_400;
        assert_eq!(l.password_change(&jp, Timestamp(89 * day)), None);
        assert_eq!(
            l.password_change(&jp, Timestamp(90 * day)),
            Some(ChangeReason::Expired)
        );
        assert_eq!(l.password_change(&nist, Timestamp(900 * day)), None);
    }

    #[test]
    fn rollout_reminds_before_the_date_and_enforces_after_it() {
        let d = Timestamp(1_000_000);
        let mut r = MfaRollout {
            mandatory_from: Some(d),
            reminder_days: 2,
            after_deadline: AfterDeadline::EmailCode,
        };
        let before = r.apply(SecondStep::PasswordOnly, Timestamp(999_999));
        assert_eq!(before.step, SecondStep::PasswordOnly);
        assert_eq!(before.reminder, Some(d));
        assert_eq!(
            r.apply(SecondStep::PasswordOnly, d).step,
            SecondStep::Required(vec![Factor::Email])
        );
        r.after_deadline = AfterDeadline::Refuse;
        assert_eq!(
            r.apply(SecondStep::PasswordOnly, d).step,
            SecondStep::NotInitialized
        );
        let req = SecondStep::Required(vec![Factor::Totp]);
        assert_eq!(
            r.apply(req.clone(), d).step,
            req,
            "a registered factor is used as before"
        );
        assert!(r.deadline_near(Timestamp(1_000_000 - 2 * 86_400)));
        assert!(!r.deadline_near(Timestamp(1_000_000 - 2 * 86_400 - 1)));
        assert!(!r.deadline_near(d), "passed, no longer near");
        assert!(!MfaRollout::default().deadline_near(d));
        assert_eq!(AfterDeadline::parse("refuse"), Some(AfterDeadline::Refuse));
        assert_eq!(AfterDeadline::parse("x"), None);
    }

    #[test]
    fn second_step_follows_the_operator_setting() {
        use Factor as F;
        use SecondFactor as S;
        let mut l = login();
        let step = |l: &Login, r: &[F]| l.second_step(r);
        assert_eq!(step(&l, &[]), SecondStep::PasswordOnly);
        assert_eq!(
            step(&l, &[F::Totp]),
            SecondStep::Required(vec![F::Totp]),
            "a registered factor is always used"
        );
        l.mfa_required = true;
        assert_eq!(step(&l, &[]), SecondStep::NotInitialized);
        l.mfa_required = false;
        l.second_factor = S::Totp;
        assert_eq!(
            step(&l, &[]),
            SecondStep::PasswordOnly,
            "not yet registered, not yet mandatory"
        );
        assert_eq!(step(&l, &[F::Totp]), SecondStep::Required(vec![F::Totp]));
        l.mfa_required = true;
        assert_eq!(step(&l, &[]), SecondStep::NotInitialized);
        l.second_factor = S::Passkey;
        assert_eq!(
            step(&l, &[F::Totp]),
            SecondStep::NotInitialized,
            "only the operator's method counts"
        );
        l.mfa_required = false;
        l.second_factor = S::Any;
        assert_eq!(step(&l, &[F::Totp]), SecondStep::Required(vec![F::Totp]));
        assert_eq!(step(&l, &[]), SecondStep::PasswordOnly);
    }

    #[test]
    fn a_token_login_without_its_token_must_register_it_first() {
        use crate::flow::Factor as F;
        let mut l = login();
        l.second_factor = SecondFactor::Token;
        assert_eq!(
            l.second_step(&[]),
            SecondStep::NotInitialized,
            "the token service refuses a login until the token is registered, mfa_required or not"
        );
        assert_eq!(
            l.second_step(&[F::Totp, F::Email]),
            SecondStep::NotInitialized,
            "only the token counts for a token login"
        );
        assert_eq!(
            l.second_step(&[F::Token]),
            SecondStep::Required(vec![F::Token])
        );
        l.mfa_required = true;
        assert_eq!(l.second_step(&[]), SecondStep::NotInitialized);
    }

    #[test]
    fn a_temporary_password_must_be_changed() {
        let jp = PasswordPolicy::preset(Preset::JpBroker);
        let mut l = login();
        l.password_temporary = true;
        assert_eq!(
            l.password_change(&jp, Timestamp(1)),
            Some(ChangeReason::Temporary)
        );
    }
}
