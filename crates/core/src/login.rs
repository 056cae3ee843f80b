//! A login (a customer's account) and the rules applied once its password has been checked.

use crate::clock::Timestamp;
use crate::error::Error;
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

/// What follows a correct password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPassword {
    /// The login may proceed (to the second factor, when there is one).
    Proceed,
    /// The password must be changed first.
    ChangeRequired(ChangeReason),
}

/// What the login needs after a correct password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondStep {
    /// Nothing more: the password is the only factor.
    PasswordOnly,
    /// One of these registered methods must follow.
    Required(Vec<SecondFactor>),
    /// A second factor is needed but the customer has not registered one.
    NotInitialized,
}

/// What happens after the MFA deadline to a login that has no second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
/// logins without one go on with the password alone and are reminded of the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaRollout {
    /// When MFA becomes mandatory for everyone (`None`: only per login, `mfa_required`).
    pub mandatory_from: Option<Timestamp>,
    /// Days before the date during which the deadline counts as near (the logins list flag).
    pub reminder_days: u32,
    /// What happens after the date to logins without a factor.
    pub after_deadline: AfterDeadline,
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
                    AfterDeadline::EmailCode => SecondStep::Required(vec![SecondFactor::Email]),
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

    /// Decides the second step from the operator's setting and the methods the customer has
    /// registered (and that Sekisho can check). With a specific method set, only that method
    /// counts; with `any` or `none`, every registered one does. When none counts, the login goes
    /// on with the password alone unless MFA is mandatory (the opt-in period before a firm's
    /// deadline, during which customers can still log in to register) or the login is a token
    /// login: the token service refuses a login until its token is registered (利用開始登録,
    /// Shoko Chukin FX §2.2), so a token login without its token is `NotInitialized` whatever
    /// `mfa_required` says, and the doors offer the registration.
    pub fn second_step(&self, registered: &[SecondFactor]) -> SecondStep {
        let usable: Vec<SecondFactor> = match self.second_factor {
            SecondFactor::None | SecondFactor::Any => registered.to_vec(),
            method => registered
                .iter()
                .copied()
                .filter(|m| *m == method)
                .collect(),
        };
        if !usable.is_empty() {
            SecondStep::Required(usable)
        } else if self.mfa_required || self.second_factor == SecondFactor::Token {
            SecondStep::NotInitialized
        } else {
            SecondStep::PasswordOnly
        }
    }

    /// Whether the login is locked by password failures.
    pub fn is_locked(&self) -> bool {
        self.locked_at.is_some()
    }

    /// Whether the login has a second factor configured (which relaxes the NIST minimum length).
    pub fn has_second_factor(&self) -> bool {
        self.mfa_required || self.second_factor != SecondFactor::None
    }

    /// Applies the account rules once the password has been verified as correct: a disabled or
    /// locked login is refused (the customer learns this only with the right password, so the
    /// refusal tells an attacker nothing), a temporary or expired password must be changed.
    pub fn after_password(
        &self,
        policy: &PasswordPolicy,
        now: Timestamp,
    ) -> Result<AfterPassword, Error> {
        if self.disabled {
            return Err(Error::LoginDisabled);
        }
        if self.is_locked() {
            return Err(Error::LoginLocked);
        }
        if self.password_temporary {
            return Ok(AfterPassword::ChangeRequired(ChangeReason::Temporary));
        }
        if let (Some(days), Some(changed)) = (policy.max_age_days, self.password_changed_at) {
            if now >= changed.plus_secs(i64::from(days) * 86_400) {
                return Ok(AfterPassword::ChangeRequired(ChangeReason::Expired));
            }
        }
        Ok(AfterPassword::Proceed)
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
        assert_eq!(
            l.after_password(&jp, Timestamp(89 * day)),
            Ok(AfterPassword::Proceed)
        );
        assert_eq!(
            l.after_password(&jp, Timestamp(90 * day)),
            Ok(AfterPassword::ChangeRequired(ChangeReason::Expired))
        );
        assert_eq!(
            l.after_password(&nist, Timestamp(900 * day)),
            Ok(AfterPassword::Proceed)
        );
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
            SecondStep::Required(vec![SecondFactor::Email])
        );
        r.after_deadline = AfterDeadline::Refuse;
        assert_eq!(
            r.apply(SecondStep::PasswordOnly, d).step,
            SecondStep::NotInitialized
        );
        let req = SecondStep::Required(vec![SecondFactor::Totp]);
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
        use SecondFactor as F;
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
        l.second_factor = F::Totp;
        assert_eq!(
            step(&l, &[]),
            SecondStep::PasswordOnly,
            "not yet registered, not yet mandatory"
        );
        assert_eq!(step(&l, &[F::Totp]), SecondStep::Required(vec![F::Totp]));
        l.mfa_required = true;
        assert_eq!(step(&l, &[]), SecondStep::NotInitialized);
        l.second_factor = F::Passkey;
        assert_eq!(
            step(&l, &[F::Totp]),
            SecondStep::NotInitialized,
            "only the operator's method counts"
        );
        l.mfa_required = false;
        l.second_factor = F::Any;
        assert_eq!(step(&l, &[F::Totp]), SecondStep::Required(vec![F::Totp]));
        assert_eq!(step(&l, &[]), SecondStep::PasswordOnly);
    }

    #[test]
    fn a_token_login_without_its_token_must_register_it_first() {
        use SecondFactor as F;
        let mut l = login();
        l.second_factor = F::Token;
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
    fn temporary_disabled_locked() {
        let jp = PasswordPolicy::preset(Preset::JpBroker);
        let mut l = login();
        l.password_temporary = true;
        assert_eq!(
            l.after_password(&jp, Timestamp(1)),
            Ok(AfterPassword::ChangeRequired(ChangeReason::Temporary))
        );
        l.locked_at = Some(Timestamp(1));
        assert_eq!(l.after_password(&jp, Timestamp(1)), Err(Error::LoginLocked));
        l.disabled = true;
        assert_eq!(
            l.after_password(&jp, Timestamp(1)),
            Err(Error::LoginDisabled)
        );
    }
}
