//! Sekisho's domain: identifiers, password policy and hashing, the login rules, sessions,
//! audit event types, and the one error enum every layer maps from.
//!
//! Nothing here performs I/O, reads the clock or draws from the OS random number generator:
//! time arrives as a [`Timestamp`] and randomness through a [`Random`] handed in by the caller,
//! so every expiry, lock and token can be tested by moving a clock.

pub mod audit;
pub mod audit_chain;
pub mod clock;
pub mod device;
pub mod email_code;
pub mod error;
pub mod flow;
pub mod import;
pub mod lang;
pub mod lockout;
pub mod login;
pub mod operator;
pub mod otp;
pub mod password;
pub mod recovery;
pub mod secret_box;
pub mod session;
pub mod step_up;
pub mod throttle;
pub mod token;
pub mod validate;

pub use clock::{Clock, Random, Timestamp};
pub use error::{Error, PolicyViolation};
pub use lang::Lang;
