//! Everything the benchmark takes from Sekisho's application modules, in one place: the real
//! clock and RNG, and how a TOTP secret is sealed. The validate workload seeds its logins
//! directly in the server's database, so it must seal secrets exactly as an enrolment does.

pub use sekisho_app::system::{OsRandom, SystemClock};
pub use sekisho_app::totp::secret_aad;
