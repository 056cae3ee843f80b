//! From configuration to a running server: master key, store, hashing pool, settings.

use crate::config::Config;
use anyhow::{anyhow, bail, Context, Result};
use sekisho_app::mail::{Delivery, MailSettings, Redacted, SmtpSettings, SmtpTls};
use sekisho_app::system::{OsRandom, SystemClock};
use sekisho_app::{
    HashPool, PagesSettings, RecoverySettings, Settings, TokenSettings, TotpSettings,
};
use sekisho_core::clock::random_bytes;
use sekisho_core::device::DevicePolicy;
use sekisho_core::email_code::EmailCodePolicy;
use sekisho_core::otp::{Algorithm, OtpParams};
use sekisho_core::password::{HashParams, PasswordHasher, PasswordPolicy, Preset};
use sekisho_core::secret_box::SecretBox;
use sekisho_core::session::SessionPolicy;
use sekisho_core::Random;
use sekisho_server::AppState;
use sekisho_store::{ConnectOptions, SqliteSynchronous, Store};
use std::path::Path;
use std::sync::Arc;

/// The master key for secrets at rest: configured, or generated in the data folder once.
pub fn master_key(config: &Config) -> Result<[u8; 32]> {
    let parse = |hex_text: &str, from: &str| -> Result<[u8; 32]> {
        let bytes = hex::decode(hex_text.trim())
            .map_err(|_| anyhow!("the master key in {from} is not hex"))?;
        bytes
            .try_into()
            .map_err(|_| anyhow!("the master key in {from} must be 32 bytes (64 hex characters)"))
    };
    if let Some(k) = config.master_key.as_deref().filter(|k| !k.is_empty()) {
        return parse(k, "master_key");
    }
    if let Some(file) = &config.master_key_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read master_key_file {}", file.display()))?;
        return parse(&text, &file.display().to_string());
    }
    let file = config.data_dir.join("master.key");
    if file.exists() {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        return parse(&text, &file.display().to_string());
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let key: [u8; 32] = random_bytes(&OsRandom);
    write_private(&file, &hex::encode(key))?;
    tracing::warn!(
        path = %file.display(),
        "generated a new master key in the data folder; this is for development only: production \
         supplies its own key (SEKISHO_MASTER_KEY or master_key_file), the same on every instance, \
         kept apart from the database backups"
    );
    Ok(key)
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// Connects to the configured database (running migrations).
pub async fn store(config: &Config) -> Result<Arc<dyn Store>> {
    let url = config.database_url()?;
    let sqlite_synchronous = sqlite_synchronous(config)?;
    sekisho_store::connect(&ConnectOptions {
        url,
        max_connections: config.database_max_connections,
        sqlite_synchronous,
    })
    .await
    .map_err(|e| anyhow!("cannot open the database: {e}"))
}

/// How SQLite commits are made durable.
pub fn sqlite_synchronous(config: &Config) -> Result<SqliteSynchronous> {
    SqliteSynchronous::parse(&config.database_sqlite_synchronous)
        .ok_or_else(|| anyhow!("database_sqlite_synchronous must be normal or full"))
}

/// The password policy: the preset with any overrides.
pub fn password_policy(config: &Config) -> Result<PasswordPolicy> {
    let preset = match config.password.preset.as_str() {
        "jp-broker" => Preset::JpBroker,
        "nist-800-63b-4" => Preset::Nist80063b4,
        other => bail!("password.preset must be jp-broker or nist-800-63b-4, not {other:?}"),
    };
    let mut p = PasswordPolicy::preset(preset);
    let c = &config.password;
    if let Some(v) = c.min_length {
        p.min_length = v as usize;
    }
    if let Some(v) = c.min_length_with_mfa {
        p.min_length_with_mfa = v as usize;
    }
    if let Some(v) = c.max_length {
        p.max_length = v as usize;
    }
    if let Some(v) = c.history {
        p.history = v as usize;
    }
    if let Some(v) = c.max_age_days {
        p.max_age_days = (v > 0).then_some(v);
    }
    if let Some(v) = c.lockout_threshold {
        if v == 0 {
            bail!("password.lockout_threshold must be at least 1");
        }
        p.lockout_threshold = v;
    }
    if p.min_length == 0
        || p.min_length_with_mfa == 0
        || p.max_length < p.min_length.max(p.min_length_with_mfa)
    {
        bail!(
            "password lengths are inconsistent: min {} / with MFA {} / max {}",
            p.min_length,
            p.min_length_with_mfa,
            p.max_length
        );
    }
    Ok(p)
}

/// Builds the whole server state.
pub async fn app_state(config: &Config) -> Result<AppState> {
    let master_key = master_key(config)?;
    let store = store(config).await?;
    let policy = password_policy(config)?;
    let hasher = PasswordHasher::new(HashParams {
        memory_kib: config.password.argon2_memory_kib,
        iterations: config.password.argon2_iterations,
        parallelism: config.password.argon2_parallelism,
    })
    .map_err(|e| anyhow!("password.argon2_*: {e}"))?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let concurrency = config
        .password
        .hash_concurrency
        .map(|c| c as usize)
        .unwrap_or(cores);
    let rng: Arc<dyn Random> = Arc::new(OsRandom);
    let dummy = hex::encode(random_bytes::<16>(rng.as_ref()));
    let hashes = HashPool::new(
        hasher,
        concurrency,
        config.password.hash_queue_limit as usize,
        &dummy,
        random_bytes(rng.as_ref()),
    )
    .map_err(|e| anyhow!("cannot prepare password hashing: {e}"))?;
    let settings = Settings {
        public_url: config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.listen)),
        password_policy: policy,
        session: SessionPolicy {
            idle_secs: config.session.idle_timeout_secs,
            absolute_secs: config.session.absolute_timeout_secs,
        },
        password_change_secs: config.session.password_change_timeout_secs,
        trust_forwarded_for: config.trust_forwarded_for,
        max_body_bytes: usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX),
        api_token_cache_secs: i64::from(config.api_token_cache_secs),
        challenge_secs: config.session.challenge_timeout_secs,
        totp: totp_settings(config)?,
        trading_password_reauth: config.trading_password.reauth,
        mail: mail_settings(config)?,
        email_code: email_code_policy(config)?,
        devices: device_policy(config)?,
        notify_login_default: config.notify.login_default,
        tokens: token_settings(config)?,
        recovery: recovery_settings(config)?,
        mfa: mfa_rollout(config)?,
        pages: pages_settings(config)?,
        step_up: step_up_settings(config)?,
        passkeys: passkey_settings(config)?,
        oidc: oidc_settings(config)?,
    };
    let secrets = SecretBox::new("k1", &master_key);
    Ok(AppState::new(
        store,
        Arc::new(SystemClock),
        rng,
        settings,
        hashes,
        secrets,
    ))
}

/// Step-up settings, checked.
/// The OpenID Connect settings: an issuer given explicitly must be an https URL (or http on
/// the loopback, for development) without a trailing `/`, query or fragment (OIDC Discovery §3).
pub fn oidc_settings(config: &Config) -> Result<sekisho_app::oidc::OidcSettings> {
    let issuer = config.oidc.issuer.trim().to_owned();
    if !issuer.is_empty() {
        let ok = (issuer.starts_with("https://") || issuer.starts_with("http://"))
            && !issuer.ends_with('/')
            && !issuer.contains(['?', '#']);
        if !ok {
            bail!("oidc.issuer must be an https URL without a trailing /, query or fragment");
        }
    }
    Ok(sekisho_app::oidc::OidcSettings { issuer })
}

pub fn step_up_settings(config: &Config) -> Result<sekisho_app::StepUpSettings> {
    use sekisho_core::step_up::{ConfirmMethod, OperationKind, StepUpPolicy};
    let s = &config.step_up;
    if !(60..=86_400).contains(&s.request_ttl_secs) {
        bail!("step_up.request_ttl_secs must be 60 to 86400");
    }
    if !(30..=3_600).contains(&s.proof_ttl_secs) {
        bail!("step_up.proof_ttl_secs must be 30 to 3600");
    }
    let mut allowed = Vec::new();
    for m in &s.allowed_methods {
        match ConfirmMethod::parse(m.trim()) {
            Some(c) => allowed.push(c),
            None => bail!("step_up.allowed_methods: unknown method {m:?} (passkey, totp, token)"),
        }
    }
    if allowed.is_empty() {
        bail!("step_up.allowed_methods must name at least one method");
    }
    let mut passkey_required = Vec::new();
    for k in &s.passkey_required_kinds {
        match OperationKind::parse(k.trim()) {
            Some(kind) => passkey_required.push(kind),
            None => bail!(
                "step_up.passkey_required_kinds: unknown kind {k:?} (withdrawal, withdrawal_account_change, large_order, other)"
            ),
        }
    }
    if !passkey_required.is_empty() && !allowed.contains(&ConfirmMethod::Passkey) {
        bail!("step_up.passkey_required_kinds needs \"passkey\" in step_up.allowed_methods");
    }
    Ok(sekisho_app::StepUpSettings {
        request_secs: s.request_ttl_secs,
        proof_secs: s.proof_ttl_secs,
        issuer: s.issuer.trim_end_matches('/').to_owned(),
        policy: StepUpPolicy {
            allowed,
            passkey_required,
        },
    })
}

/// Hosted pages settings, checked.
/// The passkey relying party: by default the host of `public_url`, its origin and the firm's
/// name; refused at start when webauthn-rs would not accept it.
pub fn passkey_settings(config: &Config) -> Result<sekisho_app::passkey::PasskeySettings> {
    let p = &config.passkeys;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let origin = public_url.trim_end_matches('/').to_owned();
    let host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(&origin)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_owned();
    // An IP address is no relying party ID: a server on an IP (the development default,
    // 127.0.0.1) offers passkeys on http://localhost with the same port instead.
    let (host, origin) = if host.parse::<std::net::IpAddr>().is_ok() {
        let o = origin.replacen(&host, "localhost", 1);
        ("localhost".to_owned(), o)
    } else {
        (host, origin)
    };
    let explicit = p.rp_id.is_some() || p.origins.is_some();
    let settings = sekisho_app::passkey::PasskeySettings {
        rp_id: p.rp_id.clone().unwrap_or(host),
        rp_name: p
            .rp_name
            .clone()
            .unwrap_or_else(|| config.mail.firm_name.clone()),
        origins: p.origins.clone().unwrap_or_else(|| vec![origin]),
        ceremony_secs: i64::from(p.ceremony_secs.max(30)),
        required: p.required,
        instead_of_codes: p.instead_of_codes,
    };
    match settings.build() {
        Ok(_) => {}
        Err(e) if explicit => bail!("{e}"),
        Err(e) => tracing::warn!("passkeys are off until passkeys.rp_id is set: {e}"),
    }
    Ok(settings)
}

pub fn pages_settings(config: &Config) -> Result<PagesSettings> {
    let b = &config.branding;
    let p = &config.pages;
    let c = &b.primary_color;
    if !(c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit())) {
        bail!("branding.primary_color must be #rrggbb, not {c:?}");
    }
    let logo = &b.logo_url;
    let path = logo.starts_with('/') && !logo.starts_with("//");
    let https = logo
        .strip_prefix("https://")
        .is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
    if !logo.is_empty() && !path && !https && !logo.starts_with("data:image/") {
        bail!(
            "branding.logo_url must be an https:// URL, a path on this server or a data:image/ URL"
        );
    }
    for e in &p.return_to_allowlist {
        let rest = e
            .strip_prefix("https://")
            .or_else(|| e.strip_prefix("http://"));
        match rest {
            Some(r) if !r.is_empty() && !r.starts_with('/') => {}
            _ => {
                bail!("pages.return_to_allowlist entries must be absolute http(s) URLs, not {e:?}")
            }
        }
    }
    if p.rate_per_ip_per_minute == 0 || p.rate_per_login_per_minute == 0 {
        bail!(
            "pages.rate_per_ip_per_minute and pages.rate_per_login_per_minute must be at least 1"
        );
    }
    Ok(PagesSettings {
        firm_name: b.firm_name.clone(),
        logo_url: b.logo_url.clone(),
        primary_color: b.primary_color.clone(),
        return_to_allowlist: p.return_to_allowlist.clone(),
        rate_per_ip_per_minute: p.rate_per_ip_per_minute,
        rate_per_login_per_minute: p.rate_per_login_per_minute,
    })
}

/// Token inventory settings, checked.
pub fn token_settings(config: &Config) -> Result<TokenSettings> {
    let t = &config.tokens;
    if t.max_per_login == 0 || t.max_per_login > 100 {
        bail!("tokens.max_per_login must be 1 to 100");
    }
    if t.lockout_threshold == 0 || t.totp_window > 10 || t.hotp_look_ahead > 1000 {
        bail!(
            "tokens.lockout_threshold must be at least 1, tokens.totp_window at most 10 and \
             tokens.hotp_look_ahead at most 1000"
        );
    }
    if t.hotp_resync_window > 10_000 || t.totp_resync_steps > 1000 {
        bail!("tokens.hotp_resync_window must be at most 10000 and tokens.totp_resync_steps at most 1000");
    }
    Ok(TokenSettings {
        max_per_login: t.max_per_login,
        lockout_threshold: t.lockout_threshold,
        hotp_look_ahead: t.hotp_look_ahead,
        hotp_resync_window: t.hotp_resync_window,
        totp_window: t.totp_window,
        totp_resync_steps: t.totp_resync_steps,
    })
}

/// Recovery-code settings, checked.
pub fn recovery_settings(config: &Config) -> Result<RecoverySettings> {
    let r = &config.recovery;
    if r.lockout_threshold == 0 {
        bail!("recovery.lockout_threshold must be at least 1");
    }
    Ok(RecoverySettings {
        lockout_threshold: r.lockout_threshold,
    })
}

/// Authenticator-app settings, checked.
pub fn totp_settings(config: &Config) -> Result<TotpSettings> {
    let t = &config.totp;
    let params = OtpParams {
        algorithm: Algorithm::parse(&t.algorithm)
            .ok_or_else(|| anyhow!("totp.algorithm must be SHA1, SHA256 or SHA512"))?,
        digits: t.digits,
        period: t.period,
    };
    if !params.is_valid() || t.period > 300 {
        bail!("totp.digits must be 6 to 8 and totp.period 1 to 300 seconds");
    }
    if t.lockout_threshold == 0 || t.window > 10 {
        bail!("totp.lockout_threshold must be at least 1 and totp.window at most 10");
    }
    Ok(TotpSettings {
        issuer: t.issuer.clone(),
        account_name: t.account_name.clone(),
        params,
        window: t.window,
        enrolment_secs: t.enrolment_timeout_secs,
        lockout_threshold: t.lockout_threshold,
    })
}

/// Mail settings, checked.
pub fn mail_settings(config: &Config) -> Result<MailSettings> {
    let m = &config.mail;
    let tls = SmtpTls::parse(&m.smtp_tls)
        .ok_or_else(|| anyhow!("mail.smtp_tls must be starttls, tls or none"))?;
    let delivery = match m.smtp_host.as_deref().filter(|h| !h.is_empty()) {
        None => Delivery::Folder(config.outbox_dir()),
        Some(host) => Delivery::Smtp(SmtpSettings {
            host: host.to_owned(),
            port: m
                .smtp_port
                .unwrap_or(if tls == SmtpTls::Tls { 465 } else { 587 }),
            tls,
            username: m.smtp_username.clone().filter(|u| !u.is_empty()),
            password: m.smtp_password.clone().map(Redacted),
            pool_size: m.smtp_pool_size.max(1),
        }),
    };
    if !sekisho_app::mail::is_valid_address(&m.from) {
        bail!("mail.from is not a valid e-mail address: {:?}", m.from);
    }
    if m.max_attempts == 0 || m.retry_base_secs < 1 || m.retry_max_secs < m.retry_base_secs {
        bail!("mail.max_attempts must be at least 1 and 1 <= mail.retry_base_secs <= mail.retry_max_secs");
    }
    if m.timeout_secs == 0 || m.poll_interval_ms == 0 {
        bail!("mail.timeout_secs and mail.poll_interval_ms must be positive");
    }
    Ok(MailSettings {
        delivery,
        from: m.from.clone(),
        firm_name: m.firm_name.clone(),
        support_contact: m.support_contact.clone(),
        timeout: std::time::Duration::from_secs(m.timeout_secs),
        max_attempts: m.max_attempts,
        retry_base_secs: m.retry_base_secs,
        retry_max_secs: m.retry_max_secs,
        poll_interval: std::time::Duration::from_millis(m.poll_interval_ms),
    })
}

/// E-mail code rules, checked.
pub fn email_code_policy(config: &Config) -> Result<EmailCodePolicy> {
    let c = &config.email_code;
    if !(4..=10).contains(&c.digits) || c.ttl_secs < 30 || c.max_tries == 0 {
        bail!("email_code.digits must be 4 to 10, email_code.ttl_secs at least 30 and email_code.max_tries at least 1");
    }
    if c.resend_cooldown_secs < 0 || c.login_timeout_secs < c.ttl_secs {
        bail!("email_code.resend_cooldown_secs must not be negative and email_code.login_timeout_secs not shorter than email_code.ttl_secs");
    }
    Ok(EmailCodePolicy {
        digits: c.digits,
        ttl_secs: c.ttl_secs,
        max_tries: c.max_tries,
        resend_cooldown_secs: c.resend_cooldown_secs,
        max_resends: c.max_resends,
        login_timeout_secs: c.login_timeout_secs,
    })
}

/// Familiar-browser rules, checked.
pub fn device_policy(config: &Config) -> Result<DevicePolicy> {
    let d = &config.devices;
    if d.remember_days == 0 || d.remember_days > 400 {
        bail!("devices.remember_days must be 1 to 400");
    }
    for m in &d.allowed_methods {
        if !["email", "totp"].contains(&m.as_str()) {
            bail!("devices.allowed_methods may hold only email and totp, not {m:?}");
        }
    }
    Ok(DevicePolicy {
        remember_secs: i64::from(d.remember_days) * 86_400,
        allowed_methods: d.allowed_methods.clone(),
    })
}

/// The MFA rollout policy, checked.
pub fn mfa_rollout(config: &Config) -> Result<sekisho_core::login::MfaRollout> {
    use sekisho_core::login::{AfterDeadline, MfaRollout};
    let m = &config.mfa;
    let mandatory_from = m
        .mandatory_from
        .as_deref()
        .map(|s| {
            sekisho_core::Timestamp::parse_rfc3339(s).ok_or_else(|| {
                anyhow!(
                    "mfa.mandatory_from must be an RFC 3339 time such as 2026-06-22T00:00:00+09:00"
                )
            })
        })
        .transpose()?;
    let after_deadline = AfterDeadline::parse(&m.after_deadline)
        .ok_or_else(|| anyhow!("mfa.after_deadline must be email_code or refuse"))?;
    if m.reminder_days > 3650 {
        bail!("mfa.reminder_days must be at most 3650");
    }
    Ok(MfaRollout {
        mandatory_from,
        reminder_days: m.reminder_days,
        after_deadline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sekisho_core::step_up::{ConfirmMethod, OperationKind};

    #[test]
    fn passkey_required_kinds_are_checked_and_need_passkeys_allowed() {
        let mut c = Config::default();
        let s = step_up_settings(&c).map_err(|e| e.to_string());
        assert_eq!(
            s.map(|s| (s.policy.allowed, s.policy.passkey_required)),
            Ok((ConfirmMethod::ALL.to_vec(), Vec::new()))
        );
        c.step_up.passkey_required_kinds =
            vec!["withdrawal".into(), " withdrawal_account_change".into()];
        let s = step_up_settings(&c).map_err(|e| e.to_string());
        assert_eq!(
            s.map(|s| s.policy.passkey_required),
            Ok(vec![
                OperationKind::Withdrawal,
                OperationKind::WithdrawalAccountChange
            ])
        );
        c.step_up.allowed_methods = vec!["totp".into()];
        assert!(step_up_settings(&c).is_err(), "passkey must be allowed");
        c.step_up.allowed_methods = vec!["passkey".into()];
        c.step_up.passkey_required_kinds = vec!["transfer".into()];
        assert!(step_up_settings(&c).is_err(), "unknown kind");
    }
}
