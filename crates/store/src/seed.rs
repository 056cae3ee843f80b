//! Logins created in bulk, each with an active second factor, as an enrolment would leave them:
//! for benchmarks and load tests, which need tens of thousands at once (one enrolment takes
//! three transactions; a bulk seed takes one statement per thousand rows).

use crate::tokens::NewToken;
use crate::NewLogin;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::otp::Algorithm;

/// A login to create with its second factor.
#[derive(Debug, Clone)]
pub struct SeedLogin {
    /// The login.
    pub login: NewLogin,
    /// Its second factor, active from the start.
    pub factor: SeedFactor,
    /// The audit record of the creation, written with it.
    pub audit: NewAuditEvent,
}

/// A seeded login's second factor.
#[derive(Debug, Clone)]
pub enum SeedFactor {
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
