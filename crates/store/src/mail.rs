//! The mail outbox: mails recorded with the change that causes them, claimed and delivered by a
//! background sender on any instance, retried, and kept visible when they finally fail.

use crate::StoreResult;
use async_trait::async_trait;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;

/// Where a mail is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailState {
    /// Waiting for (another) attempt.
    Pending,
    /// Accepted by the SMTP server or written to the outbox folder.
    Sent,
    /// Given up after the last attempt; operators see it.
    Failed,
}

impl MailState {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MailState::Pending => "pending",
            MailState::Sent => "sent",
            MailState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<MailState> {
        Some(match s {
            "pending" => MailState::Pending,
            "sent" => MailState::Sent,
            "failed" => MailState::Failed,
            _ => return None,
        })
    }
}

/// A mail to record.
#[derive(Debug, Clone)]
pub struct NewMail {
    /// Public identifier (also the associated data of the sealed body).
    pub uid: String,
    /// The login it concerns, if any.
    pub login_id: Option<String>,
    /// The address it goes to.
    pub recipient: String,
    /// What it is (`email_code`, `login_notice`, …).
    pub kind: String,
    /// The subject (never a secret).
    pub subject: String,
    /// Text and HTML parts, sealed with the master key.
    pub body_enc: String,
    /// Now; the mail is due at once.
    pub now: Timestamp,
}

/// A mail in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMail {
    /// Internal key.
    pub id: i64,
    /// Public identifier.
    pub uid: String,
    /// The login it concerns.
    pub login_id: Option<String>,
    /// Recipient.
    pub recipient: String,
    /// Kind.
    pub kind: String,
    /// Subject.
    pub subject: String,
    /// Sealed body; empty once sent.
    pub body_enc: String,
    /// Delivery state.
    pub state: MailState,
    /// Attempts made (counted when an attempt starts).
    pub attempts: i64,
    /// When the next attempt is due (or, while one runs, when it may be retried elsewhere).
    pub next_attempt_at: Timestamp,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// Recorded.
    pub created_at: Timestamp,
    /// Delivered.
    pub sent_at: Option<Timestamp>,
    /// Given up.
    pub failed_at: Option<Timestamp>,
}

/// The outbox.
#[async_trait]
pub trait MailStore: Send + Sync {
    /// Records a mail on its own (one that no other change causes, such as a test mail).
    async fn enqueue_mail(&self, mail: &NewMail) -> StoreResult<()>;

    /// Takes the oldest due pending mail for an attempt: counts the attempt and moves its due
    /// time to `lease_until`, so no other sender takes it meanwhile. `None` if nothing is due.
    async fn claim_mail(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<Option<OutboxMail>>;

    /// Marks a mail delivered and forgets its body.
    async fn mail_sent(&self, id: i64, now: Timestamp) -> StoreResult<()>;

    /// Records a failed attempt and when to try again.
    async fn mail_retry(&self, id: i64, error: &str, next_attempt_at: Timestamp)
        -> StoreResult<()>;

    /// Gives a mail up after its last attempt, with its audit event.
    async fn mail_failed(
        &self,
        id: i64,
        error: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;

    /// Mails, newest first, optionally only in one state.
    async fn list_mail(&self, state: Option<MailState>, limit: u32)
        -> StoreResult<Vec<OutboxMail>>;
}
