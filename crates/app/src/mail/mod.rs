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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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

/// A secret setting that never shows in `Debug` output (and so never in a log), nor when the
/// settings are serialised.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Redacted(pub String);

impl Serialize for Redacted {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

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

/// `mail.*`: delivery, sender and notices.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// Folder for `.eml` files when no `smtp_host` is set (the binary fills in
    /// `<data_dir>/outbox`).
    pub outbox_dir: Option<PathBuf>,
    /// SMTP server; unset (or empty) writes mail to `outbox_dir`.
    pub smtp_host: Option<String>,
    /// SMTP port (587, or 465 with `tls`, when unset).
    pub smtp_port: Option<u16>,
    /// Encryption towards the SMTP server.
    pub smtp_tls: SmtpTls,
    /// User name for AUTH (unset or empty: no AUTH).
    pub smtp_username: Option<String>,
    /// Password for AUTH.
    pub smtp_password: Option<Redacted>,
    /// Connections kept open to the server.
    pub smtp_pool_size: u32,
    /// Longest time one delivery attempt may take.
    pub timeout_secs: u64,
    /// Sender address.
    pub from: String,
    /// The firm's name: sender display name and signature.
    pub firm_name: String,
    /// How customers reach the support desk, named in notices (empty: "the support desk").
    pub support_contact: String,
    /// Attempts before a mail is given up (and shown to operators as failed).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled after each further failure.
    pub retry_base_secs: i64,
    /// Longest wait between attempts.
    pub retry_max_secs: i64,
    /// How often the sender looks for due mail when nothing wakes it.
    pub poll_interval_ms: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            outbox_dir: None,
            smtp_host: None,
            smtp_port: None,
            smtp_tls: SmtpTls::Starttls,
            smtp_username: None,
            smtp_password: None,
            smtp_pool_size: 4,
            timeout_secs: 30,
            from: "no-reply@sekisho.invalid".into(),
            firm_name: "Sekisho".into(),
            support_contact: String::new(),
            max_attempts: 8,
            retry_base_secs: 30,
            retry_max_secs: 3600,
            poll_interval_ms: 5000,
        }
    }
}

impl MailSettings {
    /// Where mail goes: the SMTP server if `smtp_host` is set, else the outbox folder.
    pub fn delivery(&self) -> Delivery {
        match self.smtp_host.as_deref().filter(|h| !h.is_empty()) {
            None => Delivery::Folder(
                self.outbox_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("./sekisho-data/outbox")),
            ),
            Some(host) => Delivery::Smtp(SmtpSettings {
                host: host.to_owned(),
                port: self.smtp_port.unwrap_or(if self.smtp_tls == SmtpTls::Tls {
                    465
                } else {
                    587
                }),
                tls: self.smtp_tls,
                username: self.smtp_username.clone().filter(|u| !u.is_empty()),
                password: self.smtp_password.clone(),
                pool_size: self.smtp_pool_size.max(1),
            }),
        }
    }

    /// Longest time one delivery attempt may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// How often the sender looks for due mail when nothing wakes it.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    /// Checks the values; an error names the key.
    pub fn check(&self) -> Result<(), String> {
        if !is_valid_address(&self.from) {
            return Err(format!(
                "mail.from is not a valid e-mail address: {:?}",
                self.from
            ));
        }
        if self.max_attempts == 0
            || self.retry_base_secs < 1
            || self.retry_max_secs < self.retry_base_secs
        {
            return Err("mail.max_attempts must be at least 1 and 1 <= mail.retry_base_secs <= mail.retry_max_secs".into());
        }
        if self.timeout_secs == 0 || self.poll_interval_ms == 0 {
            return Err("mail.timeout_secs and mail.poll_interval_ms must be positive".into());
        }
        Ok(())
    }

    /// The wait after the `attempts`-th failed attempt: base × 2^(attempts−1), capped.
    pub fn backoff_secs(&self, attempts: i64) -> i64 {
        backoff_secs(self.retry_base_secs, self.retry_max_secs, attempts)
    }
}

/// The wait of an outbox (mail, back-channel logouts) after the `attempts`-th failed attempt:
/// base × 2^(attempts−1), capped at `max`.
pub fn backoff_secs(base: i64, max: i64, attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    base.saturating_mul(1_i64 << exp).min(max).max(1)
}

/// A link on the public URL for a mail's body (`{public_url}{path}`); the only place the
/// application puts a URL together (a mail is the application's own output; every other link
/// is made by the doors).
pub fn link(public_url: &str, path: &str) -> String {
    format!("{}{path}", public_url.trim_end_matches('/'))
}

/// The sealed part of a mail.
#[derive(Serialize, Deserialize)]
pub struct Body {
    pub text: String,
    pub html: String,
}

pub(crate) fn body_aad(uid: &str) -> Vec<u8> {
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
