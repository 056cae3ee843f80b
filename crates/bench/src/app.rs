//! Everything the benchmark takes from Sekisho's application modules, in one place: the real
//! clock (authenticator-app codes follow the time the server reads) and randomness (the run
//! tag that keeps login IDs apart).

pub use sekisho_app::system::{OsRandom, SystemClock};
