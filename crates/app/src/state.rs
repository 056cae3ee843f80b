//! The application's context, handed to every use case: settings, storage, clock, randomness,
//! hashing, metrics, secrets and the WebAuthn relying party.

use crate::hashing::HashPool;
use crate::mail::MailSettings;
use crate::metrics::Metrics;
use crate::tokens::TokenCache;
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::device::DevicePolicy;
use sekisho_core::email_code::EmailCodePolicy;
use sekisho_core::otp::OtpParams;
use sekisho_core::password::PasswordPolicy;
use sekisho_core::secret_box::SecretBox;
use sekisho_core::session::SessionPolicy;
use sekisho_core::{Clock, Random};
use sekisho_store::Store;
use std::sync::Arc;

/// Server settings, resolved from the configuration by the binary.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The externally visible base URL (`https://login.example-sec.co.jp`).
    pub public_url: String,
    /// The password policy (preset plus overrides).
    pub password_policy: PasswordPolicy,
    /// Session lifetimes.
    pub session: SessionPolicy,
    /// Lifetime of the restricted session handed out to change a temporary or expired password.
    pub password_change_secs: i64,
    /// Take the client IP from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// How long a checked API token is trusted without reading it again (0: never).
    pub api_token_cache_secs: i64,
    /// How long a login may wait between its password and its second factor.
    pub challenge_secs: i64,
    /// Authenticator-app settings.
    pub totp: TotpSettings,
    /// Ask for the trading password (for logins that have one) instead of the login password
    /// before sensitive changes.
    pub trading_password_reauth: bool,
    /// Mail delivery.
    pub mail: MailSettings,
    /// E-mail codes at login.
    pub email_code: EmailCodePolicy,
    /// Familiar browsers.
    pub devices: DevicePolicy,
    /// Login notifications for new logins (the customer can switch them).
    pub notify_login_default: bool,
    /// Hardware and software token settings.
    pub tokens: TokenSettings,
    /// Recovery-code settings.
    pub recovery: RecoverySettings,
    /// The firm's MFA rollout (deadline, reminder, what happens after it).
    pub mfa: sekisho_core::login::MfaRollout,
    /// The hosted customer pages: branding, `return_to` allow-list, rate limits.
    pub pages: PagesSettings,
    /// Step-up confirmation of important operations.
    pub step_up: crate::step_up::StepUpSettings,
    /// Passkeys: the relying party and the firm's policy.
    pub passkeys: crate::passkey::PasskeySettings,
    /// OpenID Connect: the issuer.
    pub oidc: crate::oidc::OidcSettings,
}

/// The hosted customer pages.
#[derive(Debug, Clone)]
pub struct PagesSettings {
    /// The firm's name in the page header (empty: `mail.firm_name`).
    pub firm_name: String,
    /// The firm's logo (a URL on this server or a `data:` URL; empty: the name only).
    pub logo_url: String,
    /// The firm's colour for the header and buttons (`#rrggbb`).
    pub primary_color: String,
    /// Where a relying app may send the customer back to: each entry an origin plus path
    /// prefix (`https://trade.example.co.jp/`); a `return_to` must start with one of them.
    pub return_to_allowlist: Vec<String>,
    /// Form submissions accepted per minute from one IP address.
    pub rate_per_ip_per_minute: u32,
    /// Form submissions accepted per minute for one login ID.
    pub rate_per_login_per_minute: u32,
}

impl Default for PagesSettings {
    fn default() -> Self {
        PagesSettings {
            firm_name: String::new(),
            logo_url: String::new(),
            primary_color: "#1f4e79".into(),
            return_to_allowlist: Vec::new(),
            rate_per_ip_per_minute: 60,
            rate_per_login_per_minute: 20,
        }
    }
}

/// Hardware and software token (token inventory) settings.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// How many tokens one login may have assigned at once (the seed's firm allows one).
    pub max_per_login: u32,
    /// Consecutive wrong codes that lock the token.
    pub lockout_threshold: u32,
    /// HOTP: counters after the expected one accepted at login (and registration).
    pub hotp_look_ahead: u32,
    /// HOTP: counters searched by a resynchronisation.
    pub hotp_resync_window: u32,
    /// TOTP: steps accepted either side at login (after the learnt drift).
    pub totp_window: u32,
    /// TOTP: steps either side searched by a resynchronisation.
    pub totp_resync_steps: u32,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            max_per_login: 1,
            lockout_threshold: 10,
            hotp_look_ahead: 10,
            hotp_resync_window: 100,
            totp_window: 1,
            totp_resync_steps: 10,
        }
    }
}

/// Recovery-code settings.
#[derive(Debug, Clone)]
pub struct RecoverySettings {
    /// Consecutive wrong recovery codes that lock the set.
    pub lockout_threshold: u32,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        RecoverySettings {
            lockout_threshold: 10,
        }
    }
}

/// Authenticator-app (TOTP) settings.
#[derive(Debug, Clone)]
pub struct TotpSettings {
    /// The issuer shown in the app (the firm or service name).
    pub issuer: String,
    /// The account name shown in the app; `{login_id}` is replaced by the login ID.
    pub account_name: String,
    /// Algorithm, digits and period of new enrolments.
    pub params: OtpParams,
    /// Steps accepted either side of the expected one.
    pub window: u32,
    /// How long an enrolment may stay unconfirmed.
    pub enrolment_secs: i64,
    /// Consecutive wrong codes that lock the factor.
    pub lockout_threshold: u32,
}

impl Default for TotpSettings {
    fn default() -> Self {
        TotpSettings {
            issuer: "Sekisho".into(),
            account_name: "{login_id}".into(),
            params: OtpParams::default(),
            window: 1,
            enrolment_secs: 600,
            lockout_threshold: 10,
        }
    }
}

/// The application's context: shared and cheaply clonable.
#[derive(Clone)]
pub struct App(Arc<Inner>);

/// The shared parts (reached through [`App`]'s `Deref`).
pub struct Inner {
    /// The storage.
    pub store: Arc<dyn Store>,
    /// The one clock every use case reads.
    pub clock: Arc<dyn Clock>,
    /// The one source of randomness.
    pub rng: Arc<dyn Random>,
    /// The settings, resolved from the configuration by the binary.
    pub settings: Settings,
    /// Password hashing off the async workers.
    pub hashes: HashPool,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Seals and opens the shared secrets kept at rest.
    pub secrets: SecretBox,
    /// Checked API tokens, trusted for a short while.
    pub api_tokens: TokenCache,
    /// Wakes the mail sender when a mail was recorded.
    pub mail_wake: tokio::sync::Notify,
    /// The WebAuthn relying party (`None` if `passkeys.*` do not describe a valid one; the
    /// binary refuses to start then, so only embedders see it).
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
}

impl App {
    /// Assembles the context.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Random>,
        settings: Settings,
        hashes: HashPool,
        secrets: SecretBox,
    ) -> App {
        let settings_ttl = settings.api_token_cache_secs;
        let webauthn = match settings.passkeys.build() {
            Ok(w) => Some(Arc::new(w)),
            Err(e) => {
                tracing::error!("passkeys disabled: {e}");
                None
            }
        };
        App(Arc::new(Inner {
            store,
            clock,
            rng,
            settings,
            hashes,
            metrics: Metrics::default(),
            secrets,
            api_tokens: TokenCache::new(settings_ttl),
            mail_wake: tokio::sync::Notify::new(),
            webauthn,
        }))
    }

    /// An audit event stamped with the context's clock, so use cases and doors stamp records
    /// without reaching for a feature module.
    pub fn event(
        &self,
        event_type: EventType,
        login_id: Option<&str>,
        actor: Actor,
        client: &ClientInfo,
        description: impl Into<String>,
    ) -> NewAuditEvent {
        NewAuditEvent::new(
            self.clock.now(),
            event_type,
            login_id,
            actor,
            client,
            description,
        )
    }
}

impl Inner {
    /// The storage.
    pub fn store(&self) -> &std::sync::Arc<dyn Store> {
        &self.store
    }
}

impl std::ops::Deref for App {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
