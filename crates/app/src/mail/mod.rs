//! Mail: what Sekisho sends (templates in Japanese and English, text and HTML), how a mail is
//! recorded in the outbox (sealed, in the same transaction as its cause), and the background
//! sender that delivers it by SMTP or to the outbox folder.
//!
//! A request never waits for delivery: it only records the mail and wakes the sender.

pub mod notices;
mod sender;
pub mod templates;

pub use sender::{spawn_sender, Transport};

use crate::error::AppError;
use crate::state::App;
use sekisho_core::clock::random_bytes;
use sekisho_core::Error;
use sekisho_store::{NewMail, OutboxMail};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;
use templates::Rendered;

/// How the server reaches the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required; port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host, and for tests.
    None,
}

impl SmtpTls {
    /// Parses `starttls`, `tls` or `none`.
    pub fn parse(s: &str) -> Option<SmtpTls> {
        Some(match s {
            "starttls" => SmtpTls::Starttls,
            "tls" => SmtpTls::Tls,
            "none" => SmtpTls::None,
            _ => return None,
        })
    }
}

/// A secret setting that never shows in `Debug` output (and so never in a log).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// SMTP delivery.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Server host name (also the name its certificate must carry).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Encryption.
    pub tls: SmtpTls,
    /// User name for AUTH, if the server needs it.
    pub username: Option<String>,
    /// Password for AUTH.
    pub password: Option<Redacted>,
    /// Connections kept open to the server.
    pub pool_size: u32,
}

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// `.eml` files in a folder (the default; for development and for a separate relay).
    Folder(PathBuf),
    /// An SMTP server.
    Smtp(SmtpSettings),
}

/// Mail settings.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// Where mail goes.
    pub delivery: Delivery,
    /// Sender address.
    pub from: String,
    /// The firm's name: sender display name and signature.
    pub firm_name: String,
    /// How customers reach the support desk, named in notices (empty: "the support desk").
    pub support_contact: String,
    /// Longest time one delivery attempt may take.
    pub timeout: Duration,
    /// Attempts before a mail is given up (and shown to operators as failed).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled after each further failure.
    pub retry_base_secs: i64,
    /// Longest wait between attempts.
    pub retry_max_secs: i64,
    /// How often the sender looks for due mail when nothing wakes it.
    pub poll_interval: Duration,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            delivery: Delivery::Folder(PathBuf::from("./sekisho-data/outbox")),
            from: "no-reply@sekisho.invalid".into(),
            firm_name: "Sekisho".into(),
            support_contact: String::new(),
            timeout: Duration::from_secs(30),
            max_attempts: 8,
            retry_base_secs: 30,
            retry_max_secs: 3600,
            poll_interval: Duration::from_secs(5),
        }
    }
}

impl MailSettings {
    /// The wait after the `attempts`-th failed attempt: base × 2^(attempts−1), capped.
    pub fn backoff_secs(&self, attempts: i64) -> i64 {
        let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.retry_base_secs
            .saturating_mul(1_i64 << exp)
            .min(self.retry_max_secs)
            .max(1)
    }
}

/// The sealed part of a mail.
#[derive(Serialize, Deserialize)]
pub struct Body {
    pub text: String,
    pub html: String,
}

fn body_aad(uid: &str) -> Vec<u8> {
    format!("mail:{uid}").into_bytes()
}

/// Seals a rendered mail for the outbox; the caller records it (alone or with its cause).
pub fn seal(
    state: &App,
    login_id: Option<&str>,
    recipient: &str,
    rendered: Rendered,
) -> Result<NewMail, AppError> {
    let uid = hex::encode(random_bytes::<12>(state.rng.as_ref()));
    let body = serde_json::to_vec(&Body {
        text: rendered.text,
        html: rendered.html,
    })
    .map_err(|_| AppError::from(Error::Internal))?;
    let nonce: [u8; 12] = random_bytes(state.rng.as_ref());
    let body_enc = state
        .secrets
        .seal(&body, &body_aad(&uid), nonce)
        .ok_or(Error::Internal)?;
    Ok(NewMail {
        uid,
        login_id: login_id.map(str::to_owned),
        recipient: recipient.to_owned(),
        kind: rendered.kind.to_owned(),
        subject: rendered.subject,
        body_enc,
        now: state.clock.now(),
    })
}

/// Opens a mail's body for delivery.
pub fn open(state: &App, mail: &OutboxMail) -> Option<Body> {
    let raw = state.secrets.open(&mail.body_enc, &body_aad(&mail.uid))?;
    serde_json::from_slice(&raw).ok()
}

/// Tells the sender that a mail is waiting (after the transaction that recorded it).
pub fn wake(state: &App) {
    state.mail_wake.notify_one();
}

/// Records a mail that no other change causes, and wakes the sender.
pub async fn enqueue(state: &App, mail: &NewMail) -> Result<(), AppError> {
    state.store.enqueue_mail(mail).await?;
    wake(state);
    Ok(())
}

/// Whether `s` is an address the mail library accepts (for checking the configuration).
pub fn is_valid_address(s: &str) -> bool {
    s.parse::<lettre::Address>().is_ok()
}
