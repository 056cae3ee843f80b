//! HTTP-level tests: each boots a real server on 127.0.0.1:0 with its own database and clock.

mod code_address;
mod common;
mod console;
mod credentials;
mod devices;
mod email_code;
mod smtp;

mod admin;
mod admin_tokens;
mod browser;
mod errors;
mod health;
mod history;
mod listen;
mod lockout;
mod login;
mod mail;
mod notifications;
mod operators;
mod pages;
mod passkeys;
mod passkeys_browser;
mod passwords;
mod recovery;
mod rollout;
mod sessions;
mod setup_links;
mod tokens;
mod totp;
mod trading;
