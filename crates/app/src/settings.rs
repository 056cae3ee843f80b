//! The settings, once: one struct per area, deserialised straight from the merged configuration
//! (file ← `SEKISHO_*` variables ← flags, see the binary's `config.rs`) with its one `Default`,
//! and checked (and the few derived values filled in) by [`Settings::resolve`]. The struct a use
//! case reads is the struct the configuration deserialises; there is no second copy.
//!
//! Adding a setting: a field (with its doc and default) on the area's struct here, and a `KEYS`
//! row in `crates/sekisho/src/config.rs` (documentation and environment variable). A range
//! check, if any, goes into `resolve`.

use crate::mail::MailSettings;
use crate::passkey::PasskeySettings;
pub use crate::sessions::SessionSettings;
use crate::step_up::StepUpSettings;
use sekisho_core::device::DevicePolicy;
use sekisho_core::email_code::EmailCodePolicy;
use sekisho_core::lockout::LockoutMode;
use sekisho_core::login::MfaRollout;
use sekisho_core::otp::{Algorithm, OtpParams};
use sekisho_core::password::{PasswordPolicy, Preset};
use sekisho_core::throttle::{Backoff, Rate};
use serde::{Deserialize, Serialize};

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Every setting the application reads (all keys but the process's own: listen address, data
/// folder, database, master key, logging, `admin_listen`, which the binary keeps).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `public_url`: the externally visible base URL (`https://login.example-sec.co.jp`);
    /// empty until resolved (the binary fills in `http://<listen>`).
    pub public_url: String,
    /// `trust_forwarded_for`: take the client IP from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// `trusted_proxies`: the networks of the proxies in front (right-to-left walk of
    /// `X-Forwarded-For`).
    pub trusted_proxies: Vec<crate::client_addr::IpNetwork>,
    /// `max_body_bytes`: largest accepted request body.
    pub max_body_bytes: usize,
    /// `api_token_cache_secs`: how long a checked API token is trusted without reading it
    /// again (0: never).
    pub api_token_cache_secs: u32,
    /// `password.*`.
    pub password: PasswordSettings,
    /// `session.*`.
    pub session: SessionSettings,
    /// `totp.*`: authenticator apps.
    pub totp: TotpSettings,
    /// `trading_password.*`.
    pub trading_password: TradingPasswordSettings,
    /// `email_code.*`: e-mail codes at login.
    pub email_code: EmailCodePolicy,
    /// `tokens.*`: hardware and software tokens.
    pub tokens: TokenSettings,
    /// `recovery.*`: recovery codes.
    pub recovery: RecoverySettings,
    /// `operators.*`: the operators' lock thresholds.
    pub operators: OperatorSettings,
    /// `mail.*`: delivery, sender, notices.
    pub mail: MailSettings,
    /// `devices.*`: familiar browsers.
    pub devices: DevicePolicy,
    /// `notify.*`: login notifications.
    pub notify: NotifySettings,
    /// `mfa.*`: the firm's MFA rollout (deadline, reminder, what happens after it).
    pub mfa: MfaRollout,
    /// `step_up.*`: step-up confirmation of important operations.
    pub step_up: StepUpSettings,
    /// `branding.*`: the hosted pages' look.
    pub branding: BrandingSettings,
    /// `pages.*`: the hosted pages' `return_to` allow-list.
    pub pages: PagesSettings,
    /// `throttle.*`: the limits of every door that checks a secret, and the growing delay.
    pub throttle: ThrottleSettings,
    /// `passkeys.*`: the relying party and the firm's policy.
    pub passkeys: PasskeySettings,
    /// `oidc.*`: the OpenID Connect provider.
    pub oidc: crate::oidc::OidcSettings,
    /// `audit.*`: how long the audit trail stays in the database.
    pub audit: crate::audit_history::AuditSettings,
    /// Derived by [`Settings::resolve`] from `password.*` (the preset with its overrides).
    #[serde(skip)]
    pub password_policy: PasswordPolicy,
    /// Derived by [`Settings::resolve`] from `pages.time_zone`: the zone every time a person
    /// reads is shown in.
    #[serde(skip)]
    pub zone: crate::zone::Zone,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: String::new(),
            trust_forwarded_for: false,
            trusted_proxies: Vec::new(),
            max_body_bytes: 64 * 1024,
            api_token_cache_secs: 5,
            password: PasswordSettings::default(),
            session: SessionSettings::default(),
            totp: TotpSettings::default(),
            trading_password: TradingPasswordSettings::default(),
            email_code: EmailCodePolicy::default(),
            tokens: TokenSettings::default(),
            recovery: RecoverySettings::default(),
            operators: OperatorSettings::default(),
            mail: MailSettings::default(),
            devices: DevicePolicy::default(),
            notify: NotifySettings::default(),
            mfa: MfaRollout::default(),
            step_up: StepUpSettings::default(),
            branding: BrandingSettings::default(),
            pages: PagesSettings::default(),
            throttle: ThrottleSettings::default(),
            passkeys: PasskeySettings::default(),
            oidc: crate::oidc::OidcSettings::default(),
            audit: crate::audit_history::AuditSettings::default(),
            password_policy: PasswordPolicy::default(),
            zone: crate::zone::Zone::default(),
        }
    }
}

/// `password.*`: the policy preset and its overrides, and the hashing cost.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordSettings {
    /// `jp-broker` or `nist-800-63b-4`.
    pub preset: Preset,
    /// Minimum length alone (preset's when unset).
    pub min_length: Option<u32>,
    /// Minimum length with a second factor (preset's when unset).
    pub min_length_with_mfa: Option<u32>,
    /// Maximum length (preset's when unset).
    pub max_length: Option<u32>,
    /// Recent passwords that may not be reused (preset's when unset).
    pub history: Option<u32>,
    /// Days until a password must be changed, 0 for never (preset's when unset).
    pub max_age_days: Option<u32>,
    /// Consecutive failures that lock the login (preset's when unset).
    pub lockout_threshold: Option<u32>,
    /// How a password lock ends: `operator` (the support desk unlocks, the seeds' way) or
    /// `timed` (it lifts by itself after `lockout_duration_secs`); preset's when unset
    /// (jp-broker: operator, nist-800-63b-4: timed).
    pub lockout_mode: Option<LockoutMode>,
    /// With `lockout_mode = "timed"`: how long a password lock lasts.
    pub lockout_duration_secs: i64,
    /// Argon2id memory cost.
    pub argon2_memory_kib: u32,
    /// Argon2id passes.
    pub argon2_iterations: u32,
    /// Argon2id lanes.
    pub argon2_parallelism: u32,
    /// Hashes computed at once (the number of cores when unset).
    pub hash_concurrency: Option<u32>,
    /// Hashes allowed to wait.
    pub hash_queue_limit: u32,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        PasswordSettings {
            preset: Preset::JpBroker,
            min_length: None,
            min_length_with_mfa: None,
            max_length: None,
            history: None,
            max_age_days: None,
            lockout_threshold: None,
            lockout_mode: None,
            lockout_duration_secs: 900,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            hash_concurrency: None,
            hash_queue_limit: 1024,
        }
    }
}

impl PasswordSettings {
    /// How a password lock ends (the preset's way unless set).
    pub fn lockout_mode(&self) -> LockoutMode {
        self.lockout_mode.unwrap_or(match self.preset {
            Preset::JpBroker => LockoutMode::Operator,
            Preset::Nist80063b4 => LockoutMode::Timed,
        })
    }

    /// The preset with the overrides, checked.
    pub fn policy(&self) -> Result<PasswordPolicy, String> {
        let mut p = PasswordPolicy::preset(self.preset);
        let usize_of = |v: u32| usize::try_from(v).unwrap_or(usize::MAX);
        if let Some(v) = self.min_length {
            p.min_length = usize_of(v);
        }
        if let Some(v) = self.min_length_with_mfa {
            p.min_length_with_mfa = usize_of(v);
        }
        if let Some(v) = self.max_length {
            p.max_length = usize_of(v);
        }
        if let Some(v) = self.history {
            p.history = usize_of(v);
        }
        if let Some(v) = self.max_age_days {
            p.max_age_days = (v > 0).then_some(v);
        }
        if let Some(v) = self.lockout_threshold {
            if v == 0 {
                return Err("password.lockout_threshold must be at least 1".into());
            }
            p.lockout_threshold = v;
        }
        if p.min_length == 0
            || p.min_length_with_mfa == 0
            || p.max_length < p.min_length.max(p.min_length_with_mfa)
        {
            return Err(format!(
                "password lengths are inconsistent: min {} / with MFA {} / max {}",
                p.min_length, p.min_length_with_mfa, p.max_length
            ));
        }
        Ok(p)
    }
}

/// `totp.*`: authenticator apps.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TotpSettings {
    /// The issuer shown in the app (the firm or service name).
    pub issuer: String,
    /// The account name shown in the app; `{login_id}` is replaced by the login ID.
    pub account_name: String,
    /// Algorithm of new enrolments (`SHA1`, `SHA256`, `SHA512`; `sha-1` and the like too).
    #[serde(deserialize_with = "algorithm")]
    pub algorithm: Algorithm,
    /// Digits of new enrolments.
    pub digits: u32,
    /// Seconds per code of new enrolments.
    pub period: u32,
    /// Steps accepted either side of the expected one.
    pub window: u32,
    /// How long an enrolment may stay unconfirmed.
    pub enrolment_timeout_secs: i64,
    /// Consecutive wrong codes that lock the factor.
    pub lockout_threshold: u32,
}

impl Default for TotpSettings {
    fn default() -> Self {
        TotpSettings {
            issuer: "Sekisho".into(),
            account_name: "{login_id}".into(),
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 30,
            window: 1,
            enrolment_timeout_secs: 600,
            lockout_threshold: 10,
        }
    }
}

impl TotpSettings {
    /// Algorithm, digits and period of new enrolments.
    pub fn params(&self) -> OtpParams {
        OtpParams {
            algorithm: self.algorithm,
            digits: self.digits,
            period: self.period,
        }
    }
}

fn algorithm<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Algorithm, D::Error> {
    let s = String::deserialize(d)?;
    Algorithm::parse(&s).ok_or_else(|| {
        serde::de::Error::custom(format!("must be SHA1, SHA256 or SHA512, not {s:?}"))
    })
}

/// `trading_password.*`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TradingPasswordSettings {
    /// Ask for the trading password (for logins that have one) instead of the login password
    /// before sensitive changes.
    pub reauth: bool,
}

/// `notify.*`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// Login notifications for new logins (the customer can switch them).
    pub login_default: bool,
}

/// `tokens.*`: hardware and software tokens (the token inventory).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    /// How many tokens one login may have assigned at once.
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

/// `recovery.*`: recovery codes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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

/// `operators.*`: when an operator's sign-in locks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OperatorSettings {
    /// Consecutive wrong passwords that lock an operator; unset: the customers' threshold, at
    /// most 10 (filled in by [`Settings::resolve`]).
    pub lockout_threshold: Option<u32>,
    /// Consecutive wrong authenticator-app codes that lock an operator.
    pub code_lockout_threshold: u32,
}

impl Default for OperatorSettings {
    fn default() -> Self {
        OperatorSettings {
            lockout_threshold: None,
            code_lockout_threshold: 10,
        }
    }
}

impl OperatorSettings {
    /// The password threshold (resolved).
    pub fn password_threshold(&self) -> u32 {
        self.lockout_threshold.unwrap_or(10)
    }

    /// The code threshold.
    pub fn code_threshold(&self) -> u32 {
        self.code_lockout_threshold
    }
}

/// `branding.*`: the hosted pages' look.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrandingSettings {
    /// The firm's name in the page header (empty: `mail.firm_name`).
    pub firm_name: String,
    /// The firm's logo (a path on this server, an `https://` URL or a `data:image/` URL;
    /// empty: the name only).
    pub logo_url: String,
    /// The firm's colour for the header and buttons (`#rrggbb`).
    pub primary_color: String,
}

impl Default for BrandingSettings {
    fn default() -> Self {
        BrandingSettings {
            firm_name: String::new(),
            logo_url: String::new(),
            primary_color: "#1f4e79".into(),
        }
    }
}

/// `pages.*`: the hosted customer pages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PagesSettings {
    /// Where a relying app may send the customer back to: each entry an origin plus path
    /// prefix (`https://trade.example.co.jp/`); a `return_to` must start with one of them.
    pub return_to_allowlist: Vec<String>,
    /// Offer the on-screen keyboard (ソフトウェアキーボード) beside password fields; unset, it
    /// follows the preset (the seeds' brokers offer it: on for `jp-broker`, off for NIST).
    /// [`Settings::resolve`] fills it in.
    pub software_keyboard: Option<bool>,
    /// The firm's time zone (IANA name): times people read (pages, mails, the console, the
    /// history CSV) are shown in it with the zone named; the JSON API keeps UTC.
    pub time_zone: String,
}

impl Default for PagesSettings {
    fn default() -> Self {
        PagesSettings {
            return_to_allowlist: Vec::new(),
            software_keyboard: None,
            time_zone: "Asia/Tokyo".into(),
        }
    }
}

impl PagesSettings {
    /// Whether the pages offer the software keyboard (after [`Settings::resolve`]).
    pub fn software_keyboard(&self) -> bool {
        self.software_keyboard.unwrap_or(false)
    }
}

/// `throttle.*`: how often a client address and a login ID may try a secret, at every door
/// that checks one (JSON login and second step, passwordless begin, code validation, the
/// operators' session, the hosted pages), kept in the database so every instance shares them
/// (issue 16 item 2); and the delay that grows with a login ID's consecutive wrong passwords.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleSettings {
    /// Sustained attempts a minute from one client address.
    pub per_address_per_minute: u32,
    /// Attempts at once from one client address.
    pub per_address_burst: u32,
    /// Sustained attempts a minute for one login ID (or operator name).
    pub per_login_per_minute: u32,
    /// Attempts at once for one login ID.
    pub per_login_burst: u32,
    /// Wrong codes a minute for one login ID at `/api/v1/validate` (only failures count there).
    pub validate_failures_per_minute: u32,
    /// Wrong codes at once for one login ID at `/api/v1/validate`.
    pub validate_failures_burst: u32,
    /// Consecutive wrong passwords that cost no wait.
    pub delay_free_failures: u32,
    /// The first wait after them, in seconds (doubling with each further failure; 0: off).
    pub delay_base_secs: i64,
    /// The longest wait, in seconds.
    pub delay_cap_secs: i64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        ThrottleSettings {
            per_address_per_minute: 120,
            per_address_burst: 60,
            per_login_per_minute: 10,
            per_login_burst: 10,
            validate_failures_per_minute: 10,
            validate_failures_burst: 10,
            delay_free_failures: 2,
            delay_base_secs: 1,
            delay_cap_secs: 60,
        }
    }
}

impl ThrottleSettings {
    /// The per-address rate.
    pub fn per_address(&self) -> Rate {
        Rate {
            per_minute: self.per_address_per_minute,
            burst: self.per_address_burst,
        }
    }

    /// The per-login rate.
    pub fn per_login(&self) -> Rate {
        Rate {
            per_minute: self.per_login_per_minute,
            burst: self.per_login_burst,
        }
    }

    /// The rate of wrong codes per login at `/api/v1/validate`.
    pub fn validate_failures(&self) -> Rate {
        Rate {
            per_minute: self.validate_failures_per_minute,
            burst: self.validate_failures_burst,
        }
    }

    /// The growing delay.
    pub fn backoff(&self) -> Backoff {
        Backoff {
            free: self.delay_free_failures,
            base_secs: self.delay_base_secs,
            cap_secs: self.delay_cap_secs,
        }
    }

    fn check(&self) -> Result<(), String> {
        for (v, key) in [
            (
                self.per_address_per_minute,
                "throttle.per_address_per_minute",
            ),
            (self.per_address_burst, "throttle.per_address_burst"),
            (self.per_login_per_minute, "throttle.per_login_per_minute"),
            (self.per_login_burst, "throttle.per_login_burst"),
            (
                self.validate_failures_per_minute,
                "throttle.validate_failures_per_minute",
            ),
            (
                self.validate_failures_burst,
                "throttle.validate_failures_burst",
            ),
        ] {
            ensure!((1..=60_000).contains(&v), "{key} must be 1 to 60000");
        }
        ensure!(
            (0..=3600).contains(&self.delay_base_secs)
                && (self.delay_base_secs..=3600).contains(&self.delay_cap_secs),
            "throttle.delay_base_secs must be 0 to 3600 and throttle.delay_cap_secs from it to 3600 (a longer wait would be a lock-out tool)"
        );
        Ok(())
    }
}

impl Settings {
    /// Checks every setting and fills in what is derived: the password policy from its preset,
    /// the step-up issuer's form, the passkey relying party from `public_url` and
    /// `mail.firm_name`. An error names the key at fault. `public_url` must be set (the binary
    /// puts `http://<listen>` there when the configuration has none).
    pub fn resolve(mut self) -> Result<Settings, String> {
        ensure!(!self.public_url.is_empty(), "public_url must be set");
        self.password_policy = self.password.policy()?;
        self.zone = crate::zone::Zone::parse(&self.pages.time_zone)?;
        self.pages.software_keyboard = Some(
            self.pages
                .software_keyboard
                .unwrap_or(self.password.preset == sekisho_core::password::Preset::JpBroker),
        );

        let t = &self.totp;
        ensure!(
            t.params().is_valid() && t.period <= 300,
            "totp.digits must be 6 to 8 and totp.period 1 to 300 seconds"
        );
        ensure!(
            t.lockout_threshold > 0 && t.window <= 10,
            "totp.lockout_threshold must be at least 1 and totp.window at most 10"
        );

        let c = &self.email_code;
        ensure!(
            (4..=10).contains(&c.digits) && c.ttl_secs >= 30 && c.max_tries > 0,
            "email_code.digits must be 4 to 10, email_code.ttl_secs at least 30 and email_code.max_tries at least 1"
        );
        ensure!(
            c.resend_cooldown_secs >= 0 && c.login_timeout_secs >= c.ttl_secs,
            "email_code.resend_cooldown_secs must not be negative and email_code.login_timeout_secs not shorter than email_code.ttl_secs"
        );

        let t = &self.tokens;
        ensure!(
            (1..=100).contains(&t.max_per_login),
            "tokens.max_per_login must be 1 to 100"
        );
        ensure!(
            t.lockout_threshold > 0 && t.totp_window <= 10 && t.hotp_look_ahead <= 1000,
            "tokens.lockout_threshold must be at least 1, tokens.totp_window at most 10 and tokens.hotp_look_ahead at most 1000"
        );
        ensure!(
            t.hotp_resync_window <= 10_000 && t.totp_resync_steps <= 1000,
            "tokens.hotp_resync_window must be at most 10000 and tokens.totp_resync_steps at most 1000"
        );
        let o = &mut self.operators;
        o.lockout_threshold = Some(
            o.lockout_threshold
                .unwrap_or(self.password_policy.lockout_threshold.clamp(1, 10)),
        );
        ensure!(
            o.password_threshold() > 0 && o.code_threshold() > 0,
            "operators.lockout_threshold and operators.code_lockout_threshold must be at least 1"
        );
        ensure!(
            self.recovery.lockout_threshold > 0,
            "recovery.lockout_threshold must be at least 1"
        );

        self.mail.check()?;

        let d = &self.devices;
        ensure!(
            (1..=400).contains(&d.remember_days),
            "devices.remember_days must be 1 to 400"
        );
        if let Some(m) = d
            .allowed_methods
            .iter()
            .find(|m| !["email", "totp"].contains(&m.as_str()))
        {
            return Err(format!(
                "devices.allowed_methods may hold only email and totp, not {m:?}"
            ));
        }

        ensure!(
            self.mfa.reminder_days <= 3650,
            "mfa.reminder_days must be at most 3650"
        );

        ensure!(
            (60..=30 * 86_400).contains(&self.password.lockout_duration_secs),
            "password.lockout_duration_secs must be 60 to 2592000"
        );
        self.session.check()?;
        self.throttle.check()?;
        self.step_up.check()?;
        self.oidc.check()?;
        self.check_pages()?;
        self.passkeys = self
            .passkeys
            .resolve(&self.public_url, &self.mail.firm_name)?;
        Ok(self)
    }

    fn check_pages(&self) -> Result<(), String> {
        let c = &self.branding.primary_color;
        ensure!(
            c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit()),
            "branding.primary_color must be #rrggbb, not {c:?}"
        );
        let logo = &self.branding.logo_url;
        let path = logo.starts_with('/') && !logo.starts_with("//");
        let https = logo
            .strip_prefix("https://")
            .is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
        ensure!(
            logo.is_empty() || path || https || logo.starts_with("data:image/"),
            "branding.logo_url must be an https:// URL, a path on this server or a data:image/ URL"
        );
        for e in &self.pages.return_to_allowlist {
            let rest = e
                .strip_prefix("https://")
                .or_else(|| e.strip_prefix("http://"));
            ensure!(
                rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/')),
                "pages.return_to_allowlist entries must be absolute http(s) URLs, not {e:?}"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(toml_text: &str) -> Result<Settings, String> {
        let mut s: Settings = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        s.public_url = "https://login.example.co.jp".into();
        s.resolve()
    }

    #[test]
    fn defaults_resolve() {
        let s = resolved("");
        assert!(s.is_ok(), "{s:?}");
    }

    #[test]
    fn derived_values_are_filled_in() {
        let s = resolved("[password]\npreset = \"nist-800-63b-4\"\nhistory = 4\n")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(s.password_policy.preset, Preset::Nist80063b4);
        assert_eq!(s.password_policy.history, 4);
        assert_eq!(s.passkeys.rp_id.as_deref(), Some("login.example.co.jp"));
        assert_eq!(
            s.passkeys.origins,
            Some(vec!["https://login.example.co.jp".to_owned()])
        );
        assert_eq!(s.passkeys.rp_name.as_deref(), Some("Sekisho"));
    }

    #[test]
    fn the_software_keyboard_follows_the_preset_unless_set() {
        let keyboard = |t: &str| resolved(t).map(|s| s.pages.software_keyboard()).ok();
        assert_eq!(keyboard(""), Some(true), "jp-broker offers it");
        let nist = "[password]\npreset = \"nist-800-63b-4\"\n";
        assert_eq!(keyboard(nist), Some(false));
        assert_eq!(
            keyboard(&format!("{nist}[pages]\nsoftware_keyboard = true\n")),
            Some(true),
            "an explicit setting wins"
        );
        assert_eq!(
            keyboard("[pages]\nsoftware_keyboard = false\n"),
            Some(false)
        );
    }

    #[test]
    fn the_lockout_mode_follows_the_preset_unless_set() {
        let jp = resolved("").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(jp.password.lockout_mode(), LockoutMode::Operator);
        let nist = resolved("[password]\npreset = \"nist-800-63b-4\"\n")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(nist.password.lockout_mode(), LockoutMode::Timed);
        let timed = resolved("[password]\nlockout_mode = \"timed\"\n")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(timed.password.lockout_mode(), LockoutMode::Timed);
    }

    #[test]
    fn checks_name_the_key() {
        for (text, key) in [
            ("[totp]\nwindow = 11\n", "totp.window"),
            ("[tokens]\nmax_per_login = 0\n", "tokens.max_per_login"),
            (
                "[devices]\nallowed_methods = [\"sms\"]\n",
                "devices.allowed_methods",
            ),
            (
                "[branding]\nprimary_color = \"red\"\n",
                "branding.primary_color",
            ),
            ("[mail]\nfrom = \"nobody\"\n", "mail.from"),
            (
                "[password]\nlockout_threshold = 0\n",
                "password.lockout_threshold",
            ),
            ("[step_up]\nproof_ttl_secs = 5\n", "step_up.proof_ttl_secs"),
            (
                "[oidc]\nissuer = \"https://login.example.co.jp/\"\n",
                "oidc.issuer",
            ),
            ("[oidc]\nissuer = \"login.example.co.jp\"\n", "oidc.issuer"),
        ] {
            let e = resolved(text).err().unwrap_or_default();
            assert!(e.contains(key), "{text}: {e}");
        }
    }
}
