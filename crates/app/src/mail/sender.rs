//! The background sender: takes due mail from the outbox (on whichever instance gets there
//! first), delivers it within a bounded time, and on failure retries with exponential backoff
//! until the attempts run out; then the mail is marked failed, audited, and listed for
//! operators. Nothing is dropped: a mail leaves `pending` only as `sent` or `failed`.

use super::{open, Delivery, MailSettings, SmtpTls};
use crate::state::App;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_store::OutboxMail;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A configured way of delivering mail.
#[derive(Clone)]
pub enum Transport {
    /// `.eml` files in a folder.
    Folder(PathBuf),
    /// A pooled SMTP client.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    /// Builds the transport from the settings; an error names the setting at fault.
    pub fn new(settings: &MailSettings) -> Result<Transport, String> {
        let s = match settings.delivery() {
            Delivery::Folder(dir) => return Ok(Transport::Folder(dir)),
            Delivery::Smtp(s) => s,
        };
        let tls = |wrap: fn(TlsParameters) -> Tls| {
            TlsParameters::new(s.host.clone())
                .map(wrap)
                .map_err(|e| format!("mail.smtp_tls: {e}"))
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
            .port(s.port)
            .timeout(Some(settings.timeout()))
            .tls(match s.tls {
                SmtpTls::None => Tls::None,
                SmtpTls::Starttls => tls(Tls::Required)?,
                SmtpTls::Tls => tls(Tls::Wrapper)?,
            })
            .pool_config(PoolConfig::new().max_size(s.pool_size.max(1)));
        if let (Some(user), Some(password)) = (&s.username, &s.password) {
            b = b.credentials(Credentials::new(user.clone(), password.0.clone()));
        }
        Ok(Transport::Smtp(b.build()))
    }

    async fn deliver(&self, uid: &str, message: Message) -> Result<(), String> {
        match self {
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Folder(dir) => write_eml(dir, uid, &message.formatted())
                .await
                .map_err(|e| format!("outbox folder {}: {e}", dir.display())),
        }
    }
}

/// Writes the mail under a temporary name and renames it, so a reader of the folder never sees
/// half a mail. Mail holds setup links and codes: the folder is 0700, each file 0600.
async fn write_eml(dir: &Path, uid: &str, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut folder = tokio::fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    folder.mode(0o700);
    folder.create(dir).await?;
    let tmp = dir.join(format!(".{uid}.tmp"));
    let mut opts = tokio::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut file = opts.open(&tmp).await?;
    file.write_all(bytes).await?;
    file.flush().await?;
    drop(file);
    tokio::fs::rename(&tmp, dir.join(format!("{uid}.eml"))).await
}

fn build(state: &App, mail: &OutboxMail) -> Result<Message, String> {
    let s = &state.settings.mail;
    let body = open(state, mail).ok_or("cannot open the sealed body (master key changed?)")?;
    let from = Mailbox::new(
        Some(s.firm_name.clone()),
        s.from.parse().map_err(|e| format!("mail.from: {e}"))?,
    );
    let to: Mailbox = mail
        .recipient
        .parse()
        .map_err(|e| format!("recipient: {e}"))?;
    let domain = s.from.rsplit('@').next().unwrap_or("sekisho.invalid");
    let created = u64::try_from(mail.created_at.0).unwrap_or(0);
    Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .header(Kind(mail.kind.clone()))
        .date(SystemTime::UNIX_EPOCH + Duration::from_secs(created))
        .message_id(Some(format!("<{}@{domain}>", mail.uid)))
        .multipart(MultiPart::alternative_plain_html(body.text, body.html))
        .map_err(|e| format!("message: {e}"))
}

/// Starts the sender on the current runtime. A change of `nudge` makes it look for due mail at
/// once (a shutdown begins); when `nudge`'s sender is dropped it delivers what is due one last
/// time and ends, so a shutdown sends the mail of the last requests. A delivery that keeps
/// failing stays in the outbox for the next start or another instance.
pub fn spawn_sender(
    state: App,
    transport: Transport,
    mut nudge: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            loop {
                match send_next(&state, &transport).await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "mail sender: storage failure");
                        break;
                    }
                }
            }
            if nudge.has_changed().is_err() {
                return;
            }
            tokio::select! {
                _ = state.mail_wake.notified() => {}
                _ = tokio::time::sleep(state.settings.mail.poll_interval()) => {}
                // A nudge, or the owner gone (then the next pass is the last).
                _ = nudge.changed() => {}
            }
        }
    })
}

/// Takes one due mail and tries it; false when nothing was due.
async fn send_next(state: &App, transport: &Transport) -> Result<bool, sekisho_store::StoreError> {
    let s = &state.settings.mail;
    let now = state.clock.now();
    let lease = i64::try_from(s.timeout().as_secs())
        .unwrap_or(60)
        .saturating_add(60);
    let Some(mail) = state.store.claim_mail(now, now.plus_secs(lease)).await? else {
        return Ok(false);
    };
    let outcome = match build(state, &mail) {
        // A mail that cannot be built will not build next time either.
        Err(e) => Err((e, true)),
        Ok(message) => {
            match tokio::time::timeout(s.timeout(), transport.deliver(&mail.uid, message)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err((e, false)),
                Err(_) => Err((
                    format!("no answer within {} s", s.timeout().as_secs()),
                    false,
                )),
            }
        }
    };
    let now = state.clock.now();
    match outcome {
        Ok(()) => {
            tracing::info!(mail = %mail.uid, kind = %mail.kind, "mail delivered");
            state.store.mail_sent(mail.id, now).await?;
        }
        Err((error, permanent)) if permanent || mail.attempts >= i64::from(s.max_attempts) => {
            tracing::error!(mail = %mail.uid, kind = %mail.kind, attempts = mail.attempts, %error, "mail given up");
            let ev = state.event(
                EventType::MailFailed,
                mail.login_id.as_deref(),
                Actor::System,
                &ClientInfo::default(),
                format!(
                    "{} mail {} to {} not delivered after {} attempt(s): {error}",
                    mail.kind, mail.uid, mail.recipient, mail.attempts
                ),
            );
            state.store.mail_failed(mail.id, &error, now, &ev).await?;
        }
        Err((error, _)) => {
            let wait = s.backoff_secs(mail.attempts);
            tracing::warn!(mail = %mail.uid, kind = %mail.kind, attempts = mail.attempts, retry_in_secs = wait, %error, "mail delivery failed; will retry");
            state
                .store
                .mail_retry(mail.id, &error, now.plus_secs(wait))
                .await?;
        }
    }
    Ok(true)
}

/// `X-Sekisho-Kind: email_code`: lets a mail system (and the tests) sort Sekisho's mails without
/// reading them.
#[derive(Clone)]
struct Kind(String);

impl lettre::message::header::Header for Kind {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("X-Sekisho-Kind")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Kind(s.to_owned()))
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}
