//! Audit events: what happened, to which login, by whom, from where. Records are append-only and
//! written in the same transaction as the change they describe.

use crate::clock::Timestamp;
use crate::lang::Lang;
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
    ($($variant:ident => ($name:literal, $group:literal, $ja:literal, $en:literal)),* $(,)?) => {
        /// The type of an audit event; each belongs to one event group.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum EventType { $(#[doc = $name] $variant),* }

        impl EventType {
            /// Every event type, for documentation and filters.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),*];
            /// The stored name.
            pub fn as_str(self) -> &'static str { match self { $(EventType::$variant => $name),* } }
            /// The event group (one of [`EVENT_GROUPS`]).
            pub fn group(self) -> &'static str { match self { $(EventType::$variant => $group),* } }
            /// Parses a stored name.
            pub fn parse(s: &str) -> Option<EventType> { match s { $($name => Some(EventType::$variant),)* _ => None } }
            /// What happened, in words for the activity history.
            pub fn label(self, lang: Lang) -> &'static str {
                match (self, lang) { $((EventType::$variant, Lang::Ja) => $ja, (EventType::$variant, Lang::En) => $en),* }
            }
        }
    };
}

/// The event groups of the activity history, in display order.
pub const EVENT_GROUPS: &[&str] = &[
    "login",
    "second_factor",
    "password",
    "credentials",
    "account",
    "token",
    "operator",
    "api_token",
    "mail",
];

/// The event types of one group (`None` for an unknown group).
pub fn types_of_group(group: &str) -> Option<Vec<EventType>> {
    EVENT_GROUPS.contains(&group).then(|| {
        EventType::ALL
            .iter()
            .copied()
            .filter(|t| t.group() == group)
            .collect()
    })
}

event_types! {
    LoginSucceeded => ("login_succeeded", "login", "ログイン成功", "Login succeeded"),
    LoginFailed => ("login_failed", "login", "ログイン失敗", "Login failed"),
    LoginLocked => ("login_locked", "login", "ロック(パスワード)", "Locked (password)"),
    LoginUnlocked => ("login_unlocked", "login", "ロック解除", "Unlocked"),
    SessionRevoked => ("session_revoked", "login", "セッション無効化", "Session revoked"),
    StepUpFailed => ("step_up_failed", "login", "追加認証失敗", "Step-up failed"),
    StepUpRequested => ("step_up_requested", "login", "お手続き確認依頼", "Step-up requested"),
    StepUpConfirmed => ("step_up_confirmed", "login", "お手続き確認", "Step-up confirmed"),
    StepUpRefused => ("step_up_refused", "login", "お手続き取消", "Step-up refused"),
    SigningKeyCreated => ("signing_key_created", "api_token", "署名鍵作成", "Signing key created"),
    SigningKeyRetired => ("signing_key_retired", "api_token", "署名鍵廃止", "Signing key retired"),
    MasterKeyRotationStarted => ("master_key_rotation_started", "api_token", "マスター鍵の切り替え開始", "Master key rotation started"),
    MasterKeyRotationFinished => ("master_key_rotation_finished", "api_token", "マスター鍵の切り替え完了", "Master key rotation finished"),
    AuditArchived => ("audit_archived", "api_token", "監査ログのアーカイブ", "Audit records archived"),
    OidcClientCreated => ("oidc_client_created", "api_token", "OIDCクライアント登録", "OIDC client created"),
    OidcClientUpdated => ("oidc_client_updated", "api_token", "OIDCクライアント変更", "OIDC client updated"),
    OidcClientDisabled => ("oidc_client_disabled", "api_token", "OIDCクライアント停止", "OIDC client disabled"),
    OidcClientEnabled => ("oidc_client_enabled", "api_token", "OIDCクライアント再開", "OIDC client enabled"),
    OidcClientSecretRotated => ("oidc_client_secret_rotated", "api_token", "OIDCクライアントシークレット再発行", "OIDC client secret rotated"),
    OidcClientDeleted => ("oidc_client_deleted", "api_token", "OIDCクライアント削除", "OIDC client deleted"),
    OidcAuthorized => ("oidc_authorized", "login", "アプリへのログイン", "Signed in to an app"),
    OidcTokenIssued => ("oidc_token_issued", "login", "アプリへのトークン発行", "Tokens issued to an app"),
    OidcRefused => ("oidc_refused", "login", "アプリからの要求の拒否", "App request refused"),
    OidcTokenRefreshed => ("oidc_token_refreshed", "login", "アプリのトークン更新", "App tokens refreshed"),
    OidcTokenRevoked => ("oidc_token_revoked", "login", "アプリのトークン失効", "App tokens revoked"),
    OidcLogout => ("oidc_logout", "login", "アプリからのログアウト", "Logged out from an app"),
    OidcBackchannelDelivered => ("oidc_backchannel_delivered", "login", "アプリへのログアウト通知", "App told of a logout"),
    OidcBackchannelFailed => ("oidc_backchannel_failed", "login", "アプリへのログアウト通知失敗", "Logout notice to an app failed"),
    OidcConsentGiven => ("oidc_consent_given", "login", "アプリへの情報提供の同意", "Consent given to an app"),
    OidcConsentRevoked => ("oidc_consent_revoked", "login", "アプリへの同意の取消", "Consent to an app revoked"),
    DeviceRemembered => ("device_remembered", "login", "ブラウザ記憶", "Browser remembered"),
    DeviceRevoked => ("device_revoked", "login", "記憶ブラウザ削除", "Remembered browser revoked"),
    PasswordSet => ("password_set", "password", "パスワード設定", "Password set"),
    PasswordChanged => ("password_changed", "password", "パスワード変更", "Password changed"),
    TradingPasswordSet => ("trading_password_set", "password", "取引パスワード設定", "Trading password set"),
    TradingPasswordChanged => ("trading_password_changed", "password", "取引パスワード変更", "Trading password changed"),
    CredentialsErased => ("credentials_erased", "credentials", "認証情報消去", "Credentials erased"),
    LoginCreated => ("login_created", "account", "ログインID作成", "Login created"),
    LoginUpdated => ("login_updated", "account", "ログイン設定変更", "Login updated"),
    LoginDeleted => ("login_deleted", "account", "ログインID削除", "Login deleted"),
    CodeAddressRequested => ("code_address_change_requested", "account", "認証コード送信先の変更申込", "Code address change requested"),
    CodeAddressConfirmationFailed => ("code_address_confirmation_failed", "account", "認証コード送信先の確認失敗", "Code address confirmation failed"),
    CodeAddressChanged => ("code_address_changed", "account", "認証コード送信先の変更", "Code address changed"),
    ApiTokenCreated => ("api_token_created", "api_token", "APIトークン発行", "API token created"),
    ApiTokenRevoked => ("api_token_revoked", "api_token", "APIトークン失効", "API token revoked"),
    SecondFactorFailed => ("second_factor_failed", "second_factor", "二段階認証失敗", "Second factor failed"),
    SecondFactorLocked => ("second_factor_locked", "second_factor", "ロック(二段階認証)", "Locked (second factor)"),
    OtpValidated => ("otp_validated", "second_factor", "ワンタイムパスワード検証", "One-time code validated"),
    FactorEnrolmentStarted => ("second_factor_enrolment_started", "second_factor", "二段階認証キー登録開始", "Second factor enrolment started"),
    FactorAdded => ("second_factor_added", "second_factor", "二段階認証キー登録", "Second factor added"),
    FactorRevealed => ("second_factor_revealed", "second_factor", "二段階認証キー表示", "Second factor key shown"),
    FactorRemoved => ("second_factor_removed", "second_factor", "二段階認証キー削除", "Second factor removed"),
    RecoveryCodesGenerated => ("recovery_codes_generated", "second_factor", "リカバリーコード発行", "Recovery codes generated"),
    RecoveryCodeUsed => ("recovery_code_used", "second_factor", "リカバリーコード使用", "Recovery code used"),
    PasskeyAdded => ("passkey_added", "second_factor", "パスキー登録", "Passkey added"),
    PasskeyUsed => ("passkey_used", "second_factor", "パスキー使用", "Passkey used"),
    PasskeyRenamed => ("passkey_renamed", "second_factor", "パスキー名変更", "Passkey renamed"),
    PasskeyRemoved => ("passkey_removed", "second_factor", "パスキー削除", "Passkey removed"),
    PasskeyFailed => ("passkey_failed", "second_factor", "パスキー認証失敗", "Passkey failed"),
    PasskeyCounterRegressed => ("passkey_counter_regressed", "second_factor", "パスキー署名カウンタ逆行", "Passkey counter went backwards"),
    EmailCodeSent => ("email_code_sent", "second_factor", "メール認証コード送信", "E-mail code sent"),
    MailFailed => ("mail_failed", "mail", "メール送信失敗", "Mail failed"),
    TokensImported => ("tokens_imported", "token", "トークン取込", "Tokens imported"),
    TokenAssigned => ("token_assigned", "token", "トークン割当", "Token assigned"),
    TokenUnassigned => ("token_unassigned", "token", "トークン割当解除", "Token unassigned"),
    TokenRevoked => ("token_revoked", "token", "トークン失効", "Token revoked"),
    TokenUnlocked => ("token_unlocked", "token", "トークンロック解除", "Token unlocked"),
    TokenRegistered => ("token_registered", "token", "トークン利用登録", "Token registered"),
    TokenResynchronised => ("token_resynchronised", "token", "トークン同期", "Token resynchronised"),
    OperatorCreated => ("operator_created", "operator", "オペレーター作成", "Operator created"),
    OperatorUpdated => ("operator_updated", "operator", "オペレーター変更", "Operator updated"),
    OperatorDeleted => ("operator_deleted", "operator", "オペレーター削除", "Operator deleted"),
    OperatorSetupCompleted => ("operator_setup_completed", "operator", "オペレーター初期設定完了", "Operator setup completed"),
    OperatorLoginSucceeded => ("operator_login_succeeded", "operator", "オペレーターログイン成功", "Operator login succeeded"),
    OperatorLoginFailed => ("operator_login_failed", "operator", "オペレーターログイン失敗", "Operator login failed"),
    OperatorLocked => ("operator_locked", "operator", "オペレーターロック", "Operator locked"),
    OperatorUnlocked => ("operator_unlocked", "operator", "オペレーターロック解除", "Operator unlocked"),
    OperatorLoggedOut => ("operator_logged_out", "operator", "オペレーターログアウト", "Operator logged out"),
    SetupLinkCreated => ("setup_link_created", "credentials", "設定用リンク発行", "Setup link created"),
    SetupLinkUsed => ("setup_link_used", "credentials", "設定用リンク使用", "Setup link used"),
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
    /// The display name of that login, while it exists.
    pub login_name: Option<String>,
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
    /// Only these event types (an event group), if given.
    pub event_types: Option<Vec<EventType>>,
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

/// Version of the canonical encoding hashed into [`chain_hash`]; stored with each record so the
/// encoding can change later without breaking old links.
pub const CHAIN_VERSION: i64 = 1;

/// The "previous hash" of the first chained record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of a stored audit record that its chain hash covers (all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainFields<'a> {
    /// Event ID.
    pub id: i64,
    /// Time (Unix seconds).
    pub time: i64,
    /// Login concerned.
    pub login_id: Option<&'a str>,
    /// Actor kind.
    pub actor_kind: &'a str,
    /// Actor ID.
    pub actor_id: &'a str,
    /// Event group.
    pub event_group: &'a str,
    /// Event type.
    pub event_type: &'a str,
    /// Description.
    pub description: &'a str,
    /// Error code.
    pub error_code: Option<&'a str>,
    /// Client IP.
    pub client_ip: Option<&'a str>,
    /// User agent.
    pub user_agent: Option<&'a str>,
}

impl<'a> ChainFields<'a> {
    /// The fields of a new event as it is stored with `id`.
    pub fn of(id: i64, ev: &'a NewAuditEvent) -> Self {
        let (actor_kind, actor_id) = ev.actor.parts();
        ChainFields {
            id,
            time: ev.time.0,
            login_id: ev.login_id.as_deref(),
            actor_kind,
            actor_id,
            event_group: ev.event_type.group(),
            event_type: ev.event_type.as_str(),
            description: &ev.description,
            error_code: ev.error_code.as_deref(),
            client_ip: ev.client_ip.as_deref(),
            user_agent: ev.user_agent.as_deref(),
        }
    }
}

/// SHA-256 (lowercase hex) over the canonical encoding of a record and the hash of the record
/// before it. The encoding is unambiguous: a domain tag with the version, then every field in a
/// fixed order, integers as 8 bytes big-endian, text as a presence byte (0 absent, 1 present)
/// followed by its byte length (8 bytes big-endian) and its UTF-8 bytes.
pub fn chain_hash(prev_hash: &str, f: &ChainFields<'_>) -> String {
    use sha2::{Digest, Sha256};
    fn text(h: &mut Sha256, v: Option<&str>) {
        match v {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    let mut h = Sha256::new();
    h.update(b"sekisho-audit-chain\0");
    h.update(CHAIN_VERSION.to_be_bytes());
    text(&mut h, Some(prev_hash));
    h.update(f.id.to_be_bytes());
    h.update(f.time.to_be_bytes());
    text(&mut h, f.login_id);
    text(&mut h, Some(f.actor_kind));
    text(&mut h, Some(f.actor_id));
    text(&mut h, Some(f.event_group));
    text(&mut h, Some(f.event_type));
    text(&mut h, Some(f.description));
    text(&mut h, f.error_code);
    text(&mut h, f.client_ip);
    text(&mut h, f.user_agent);
    hex::encode(h.finalize())
}

#[cfg(test)]
mod chain_tests {
    use super::*;

    fn fields(desc: &str) -> ChainFields<'_> {
        ChainFields {
            id: 7,
            time: 1_700_000_000_000,
            login_id: Some("u1"),
            actor_kind: "self",
            actor_id: "",
            event_group: "authentication",
            event_type: "login_succeeded",
            description: desc,
            error_code: None,
            client_ip: Some("192.0.2.1"),
            user_agent: None,
        }
    }

    #[test]
    fn hash_covers_every_field_and_the_previous_hash() {
        let base = chain_hash(GENESIS_HASH, &fields("ok"));
        assert_eq!(base.len(), 64);
        assert_eq!(base, chain_hash(GENESIS_HASH, &fields("ok")));
        assert_ne!(base, chain_hash(&base, &fields("ok")));
        assert_ne!(base, chain_hash(GENESIS_HASH, &fields("ok ")));
        let mut f = fields("ok");
        f.user_agent = Some("");
        assert_ne!(
            base,
            chain_hash(GENESIS_HASH, &f),
            "absent differs from empty"
        );
        let mut f = fields("ok");
        f.id = 8;
        assert_ne!(base, chain_hash(GENESIS_HASH, &f));
        // Moving text between adjacent fields changes the hash (length prefixes).
        let mut a = fields("ok");
        a.actor_kind = "selfx";
        a.actor_id = "";
        let mut b = fields("ok");
        b.actor_kind = "self";
        b.actor_id = "x";
        assert_ne!(chain_hash(GENESIS_HASH, &a), chain_hash(GENESIS_HASH, &b));
    }
}

#[cfg(test)]
mod group_tests {
    use super::*;

    #[test]
    fn every_type_is_in_a_known_group_and_every_group_has_types() {
        for t in EventType::ALL {
            assert!(EVENT_GROUPS.contains(&t.group()), "{}", t.as_str());
            assert!(!t.label(Lang::Ja).is_empty() && !t.label(Lang::En).is_empty());
        }
        for g in EVENT_GROUPS {
            assert!(types_of_group(g).is_some_and(|v| !v.is_empty()), "{g}");
        }
        assert!(types_of_group("nope").is_none());
    }
}
