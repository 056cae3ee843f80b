//! What a login waits for after a right password: the challenges and restricted sessions the
//! next step answers, as typed values the doors render (JSON fields, page steps).

use crate::login::Issued;
use sekisho_core::flow::Factor;
use sekisho_core::login::ChangeReason;
use sekisho_core::{Error, Timestamp};

/// A second factor is due: the challenge it answers and the ways it may be answered.
#[derive(Debug, Clone)]
pub struct ChallengeOffer {
    /// The challenge token (shown once).
    pub challenge: String,
    /// The factors offered (`totp`, `token`, `passkey`, `recovery_code`, …).
    pub methods: Vec<Factor>,
    /// When the challenge expires.
    pub expires_at: Timestamp,
    /// The ID of the login's token, when the token may answer.
    pub token_id: Option<String>,
}

impl ChallengeOffer {
    /// Whether a passkey may answer.
    pub fn passkey(&self) -> bool {
        self.methods.contains(&Factor::Passkey)
    }
}

/// A code was e-mailed: the challenge it answers.
#[derive(Debug, Clone)]
pub struct EmailCodeOffer {
    /// The challenge token (shown once).
    pub challenge: String,
    /// The factors offered (the e-mail code).
    pub methods: Vec<Factor>,
    /// The delivery address, masked.
    pub sent_to: String,
    /// Whether that is the separate code delivery address (認証コードの送信先), not the
    /// registered one, so the page does not say "your registered address".
    pub to_delivery_address: bool,
    /// When the code expires.
    pub code_expires_at: Timestamp,
    /// When the challenge expires.
    pub expires_at: Timestamp,
}

/// The password must be changed before the login goes on: the restricted session that may.
#[derive(Debug, Clone)]
pub struct PasswordChangeOffer {
    /// Why (temporary password, expired, …).
    pub reason: ChangeReason,
    /// The restricted session's token (shown once).
    pub token: String,
    /// When that session expires.
    pub expires_at: Timestamp,
}

/// The login's token must be registered (利用開始登録) before the login goes on.
#[derive(Debug, Clone)]
pub struct TokenRegistrationOffer {
    /// The challenge token (shown once).
    pub challenge: String,
    /// The factors offered (the registration).
    pub methods: Vec<Factor>,
    /// When the challenge expires.
    pub expires_at: Timestamp,
}

/// Where a login stands after its password (and any code sent with it): done, or waiting for
/// the next step. Denials are errors, never steps.
pub enum LoginStep {
    /// The login is complete: a full session (boxed: the other steps are small).
    Done(Box<Issued>),
    /// A second factor must answer the challenge.
    SecondFactor(ChallengeOffer),
    /// A code was e-mailed; it must answer the challenge.
    EmailCodeSent(EmailCodeOffer),
    /// The password must be changed first (a restricted session may).
    PasswordChangeRequired(PasswordChangeOffer),
    /// The login's token must be registered first (利用開始登録).
    TokenRegistrationRequired(TokenRegistrationOffer),
}

impl LoginStep {
    /// The completed login.
    pub fn done(issued: Issued) -> LoginStep {
        LoginStep::Done(Box::new(issued))
    }

    /// The outcome's name in the login metrics: `succeeded`, or the name the client's answer
    /// carries for a step still to take.
    pub fn outcome_name(&self) -> &'static str {
        match self {
            LoginStep::Done(_) => "succeeded",
            LoginStep::SecondFactor(_) | LoginStep::EmailCodeSent(_) => {
                step_names::SECOND_FACTOR_REQUIRED
            }
            LoginStep::PasswordChangeRequired(_) => step_names::PASSWORD_CHANGE_REQUIRED,
            LoginStep::TokenRegistrationRequired(_) => Error::SecondFactorNotInitialized.name(),
        }
    }
}

/// The names (and the one code the audit log records) that clients have always been given for
/// a pending step. The rows themselves are the doors' (the server crate's catalogue), since a
/// step is not an error; the app needs them for its metrics and audit records, and a server
/// test keeps the two in step.
pub mod step_names {
    /// A second factor must follow.
    pub const SECOND_FACTOR_REQUIRED: &str = "second_factor_required";
    /// The password must be changed first.
    pub const PASSWORD_CHANGE_REQUIRED: &str = "password_change_required";
    /// The code of a password change required, as the audit record carries it.
    pub const PASSWORD_CHANGE_REQUIRED_CODE: &str = "SKS-LGN-0004";
}

/// The associated data binding a hosted pages' sealed flow to (the hash of) its cookie.
pub fn flow_aad(cookie_hash: &str) -> Vec<u8> {
    format!("sekisho-login-flow:{cookie_hash}").into_bytes()
}
