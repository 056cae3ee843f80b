//! Everything the benchmark takes from Sekisho's application modules, in one place: the real
//! clock and RNG, and how a TOTP secret is sealed. The validate workload seeds its logins
//! directly in the server's database, so it must seal secrets exactly as an enrolment does.
//! (These modules are moving from `sekisho-server` to the application crate; only this file and
//! `Cargo.toml` name them.)

pub use sekisho_server::system::{OsRandom, SystemClock};
pub use sekisho_server::totp::secret_aad;
