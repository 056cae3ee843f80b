//! HTTP-level tests: each boots a real server on 127.0.0.1:0 with its own database and clock.

mod code_address;
mod common;
mod console;
mod console_browser;
mod console_logins;
mod credentials;
mod devices;
mod email_code;
mod smtp;

mod admin;
mod admin_tokens;
mod browser;
mod errors;
mod factor_choice;
mod health;
mod history;
mod listen;
mod lockout;
mod login;
mod mail;
mod notifications;
mod operators;
mod pages;
mod pages2_browser;
mod pages2_settings;
mod passwords;
mod recovery;
mod rollout;
mod sessions;
mod setup_links;
mod step_up;
mod stepup_browser;
mod tokens;
mod totp;
mod trading;
