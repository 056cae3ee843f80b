//! Logins created in bulk, each with an active second factor, as an enrolment would leave them,
//! or with a password only, or with an e-mail code waiting to be typed: for benchmarks and load
//! tests, which need tens of thousands at once (one enrolment takes three transactions; a bulk
//! seed takes one statement per hundred rows).

use crate::factors::IssuedCode;
use crate::tokens::NewToken;
use crate::NewLogin;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::otp::Algorithm;
use sekisho_core::Timestamp;

/// A login to create with its second factor.
#[derive(Debug, Clone)]
pub struct SeedLogin {
    /// The login.
    pub login: NewLogin,
    /// Its permanent password (an Argon2id PHC string; many logins may share one), set at
    /// `login.now`; `None`: no password.
    pub password_hash: Option<String>,
    /// Its second factor, active from the start.
    pub factor: SeedFactor,
    /// A login waiting for its e-mail code, as after a correct password.
    pub challenge: Option<SeedChallenge>,
    /// The audit record of the creation, written with it.
    pub audit: NewAuditEvent,
}

/// A seeded login's pending challenge answered by an e-mail code (no mail is written: the
/// caller keeps the code).
#[derive(Debug, Clone)]
pub struct SeedChallenge {
    /// Hash of the challenge token the client sends.
    pub token_hash: String,
    /// The methods offered (`email`).
    pub methods: Vec<String>,
    /// The challenge's end.
    pub expires_at: Timestamp,
    /// The code, by its keyed hash, sent at `code.now`.
    pub code: IssuedCode,
}

/// A seeded login's second factor.
#[derive(Debug, Clone)]
pub enum SeedFactor {
    /// Nothing stored beside the login: a password only, or e-mail codes (which need only the
    /// registered address and `login.second_factor`).
    None,
    /// An authenticator app, confirmed at step 0 (so any current code is newer).
    App {
        /// Public identifier (the associated data of the sealed secret).
        uid: String,
        /// The secret, sealed with the server's keyring.
        secret_enc: String,
        /// The HMAC hash function.
        algorithm: Algorithm,
        /// Digits.
        digits: u32,
        /// Period.
        period: u32,
    },
    /// A token assigned to the login and through its start-of-use registration, expecting
    /// its `counter` next (HOTP).
    Token(NewToken),
}
