//! Audit events: what happened, to which login, by whom, from where. Records are append-only and
//! written in the same transaction as the change they describe.

use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// The customer acting on their own login.
    #[serde(rename = "self")]
    SelfService,
    /// An operator of the firm (by operator name).
    Operator(String),
    /// An API token (by token id and name, e.g. `"3:crm-sync"`).
    ApiToken(String),
    /// Sekisho itself (expiry, maintenance).
    System,
}

impl Actor {
    /// `(kind, id)` as stored.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Actor::SelfService => ("self", ""),
            Actor::Operator(n) => ("operator", n),
            Actor::ApiToken(n) => ("api_token", n),
            Actor::System => ("system", ""),
        }
    }

    /// Rebuilds an actor from its stored parts.
    pub fn from_parts(kind: &str, id: &str) -> Actor {
        match kind {
            "self" => Actor::SelfService,
            "operator" => Actor::Operator(id.to_owned()),
            "api_token" => Actor::ApiToken(id.to_owned()),
            _ => Actor::System,
        }
    }
}

macro_rules! event_types {
    ($($variant:ident => ($name:literal, $group:literal)),* $(,)?) => {
        /// The type of an audit event; each belongs to one event group.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum EventType { $(#[doc = $name] $variant),* }

        impl EventType {
            /// Every event type, for documentation and filters.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),*];
            /// The stored name.
            pub fn as_str(self) -> &'static str { match self { $(EventType::$variant => $name),* } }
            /// The event group (`authentication`, `credential`, `account`, `session`, `admin`, `mail`).
            pub fn group(self) -> &'static str { match self { $(EventType::$variant => $group),* } }
            /// Parses a stored name.
            pub fn parse(s: &str) -> Option<EventType> { match s { $($name => Some(EventType::$variant),)* _ => None } }
        }
    };
}

event_types! {
    LoginSucceeded => ("login_succeeded", "authentication"),
    LoginFailed => ("login_failed", "authentication"),
    LoginLocked => ("login_locked", "authentication"),
    LoginUnlocked => ("login_unlocked", "authentication"),
    PasswordSet => ("password_set", "credential"),
    PasswordChanged => ("password_changed", "credential"),
    TradingPasswordSet => ("trading_password_set", "credential"),
    TradingPasswordChanged => ("trading_password_changed", "credential"),
    LoginCreated => ("login_created", "account"),
    LoginUpdated => ("login_updated", "account"),
    LoginDeleted => ("login_deleted", "account"),
    SessionRevoked => ("session_revoked", "session"),
    ApiTokenCreated => ("api_token_created", "admin"),
    ApiTokenRevoked => ("api_token_revoked", "admin"),
    SecondFactorFailed => ("second_factor_failed", "authentication"),
    SecondFactorLocked => ("second_factor_locked", "authentication"),
    OtpValidated => ("otp_validated", "authentication"),
    FactorEnrolmentStarted => ("second_factor_enrolment_started", "credential"),
    FactorAdded => ("second_factor_added", "credential"),
    FactorRevealed => ("second_factor_revealed", "credential"),
    FactorRemoved => ("second_factor_removed", "credential"),
    EmailCodeSent => ("email_code_sent", "authentication"),
    MailFailed => ("mail_failed", "mail"),
    CodeAddressRequested => ("code_address_change_requested", "account"),
    CodeAddressConfirmationFailed => ("code_address_confirmation_failed", "account"),
    CodeAddressChanged => ("code_address_changed", "account"),
    StepUpFailed => ("step_up_failed", "authentication"),
    DeviceRemembered => ("device_remembered", "credential"),
    DeviceRevoked => ("device_revoked", "credential"),
    TokensImported => ("tokens_imported", "admin"),
    TokenAssigned => ("token_assigned", "credential"),
    TokenUnassigned => ("token_unassigned", "credential"),
    TokenRevoked => ("token_revoked", "credential"),
    TokenUnlocked => ("token_unlocked", "authentication"),
    TokenRegistered => ("token_registered", "credential"),
    TokenResynchronised => ("token_resynchronised", "credential"),
    SetupLinkCreated => ("setup_link_created", "account"),
    SetupLinkUsed => ("setup_link_used", "account"),
}

/// An audit record to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    /// When it happened.
    pub time: Timestamp,
    /// The login concerned (the ID as typed for an unknown login), if any.
    pub login_id: Option<String>,
    /// Who did it.
    pub actor: Actor,
    /// What happened.
    pub event_type: EventType,
    /// Human-readable details (never a secret).
    pub description: String,
    /// The stable error code of a refusal, if the event is one.
    pub error_code: Option<String>,
    /// Client IP address.
    pub client_ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

/// Where a request came from; copied into every audit event the request causes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// Client IP address.
    pub ip: Option<String>,
    /// User-Agent header (truncated).
    pub user_agent: Option<String>,
}

impl NewAuditEvent {
    /// An event at `time` for `login_id` by `actor`, from `client`.
    pub fn new(
        time: Timestamp,
        event_type: EventType,
        login_id: Option<&str>,
        actor: Actor,
        client: &ClientInfo,
        description: impl Into<String>,
    ) -> NewAuditEvent {
        NewAuditEvent {
            time,
            login_id: login_id.map(str::to_owned),
            actor,
            event_type,
            description: description.into(),
            error_code: None,
            client_ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
        }
    }

    /// The same event with the stable code of the error it reports.
    pub fn with_error(mut self, code: &str) -> NewAuditEvent {
        self.error_code = Some(code.to_owned());
        self
    }
}

/// A stored audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// Event ID: increasing, never reused.
    pub event_id: i64,
    /// When it happened (RFC 3339 in JSON).
    #[serde(serialize_with = "ser_time")]
    pub time: Timestamp,
    /// The login concerned.
    pub login_id: Option<String>,
    /// Who did it.
    pub actor: Actor,
    /// Event group.
    pub event_group: String,
    /// Event type.
    pub event_type: String,
    /// Details.
    pub description: String,
    /// Stable error code, if a refusal.
    pub error_code: Option<String>,
    /// Client IP address.
    pub client_ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
}

fn ser_time<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

/// Filters for reading the audit trail; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this login.
    pub login_id: Option<String>,
    /// Only this event type.
    pub event_type: Option<EventType>,
    /// Only this actor kind (`self`, `operator`, `api_token`, `system`).
    pub actor_kind: Option<String>,
    /// Only this actor id (operator name, API token).
    pub actor_id: Option<String>,
    /// At or after this time.
    pub since: Option<Timestamp>,
    /// Before this time.
    pub until: Option<Timestamp>,
    /// Only events with an ID below this (paging backwards from the newest).
    pub before_id: Option<i64>,
    /// At most this many (newest first).
    pub limit: u32,
}
