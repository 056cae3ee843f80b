//! HTTP-level tests: each boots a real server on 127.0.0.1:0 with its own database and clock.

mod common;

mod admin;
mod admin_tokens;
mod errors;
mod health;
mod lockout;
mod login;
mod passwords;
mod sessions;
mod tokens;
mod totp;
