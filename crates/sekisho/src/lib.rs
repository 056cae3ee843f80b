//! The Sekisho binary's library half: configuration ([`config`]) and wiring ([`wiring`]), so that
//! `sekisho serve` and the API tests build a server the same way.

pub mod audit_archive;
pub mod backup;
pub mod config;
pub mod wiring;
