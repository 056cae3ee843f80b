//! Configuration: embedded defaults, then a TOML file (`--config`), then `SEKISHO_*` environment
//! variables, then command-line flags. Every key is listed in [`KEYS`], which also drives the
//! environment mapping and `sekisho config keys`; an unknown key anywhere is an error.

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One documented configuration key.
pub struct Key {
    /// Dotted path in the TOML file (`password.preset`).
    pub path: &'static str,
    /// `string`, `integer` or `bool`.
    pub kind: &'static str,
    /// Default as written in TOML.
    pub default: &'static str,
    /// What it does.
    pub doc: &'static str,
}

/// Every configuration key.
pub const KEYS: &[Key] = &[
    Key { path: "listen", kind: "string", default: "\"127.0.0.1:8080\"", doc: "Address and port the server listens on." },
    Key { path: "data_dir", kind: "string", default: "\"./sekisho-data\"", doc: "Folder for the embedded SQLite database, the generated master key and the mail outbox." },
    Key { path: "database_url", kind: "string", default: "SQLite in data_dir", doc: "`sqlite:///path/file.db` or `postgres://user@host/db`. Several instances may share one PostgreSQL database." },
    Key { path: "database_max_connections", kind: "integer", default: "10", doc: "Pool size on PostgreSQL. SQLite uses one writer and at most 3 readers (WAL has five reader slots)." },
    Key { path: "public_url", kind: "string", default: "\"http://<listen>\"", doc: "The URL customers and apps reach Sekisho at." },
    Key { path: "master_key", kind: "string", default: "unset", doc: "Master key for secrets at rest, 64 hex characters. Prefer `SEKISHO_MASTER_KEY` or `master_key_file`." },
    Key { path: "master_key_file", kind: "string", default: "\"<data_dir>/master.key\"", doc: "File holding the master key in hex. If neither this nor `master_key` is set, a key is generated in data_dir on first start (development only; production supplies its own, the same on every instance)." },
    Key { path: "log_format", kind: "string", default: "\"text\"", doc: "`text` or `json`." },
    Key { path: "log_level", kind: "string", default: "\"info\"", doc: "A tracing filter such as `info` or `sekisho=debug` (`RUST_LOG` overrides)." },
    Key { path: "trust_forwarded_for", kind: "bool", default: "false", doc: "Take the client IP from `X-Forwarded-For` (only behind a proxy you control)." },
    Key { path: "max_body_bytes", kind: "integer", default: "65536", doc: "Largest accepted request body; larger ones get `payload_too_large`." },
    Key { path: "password.preset", kind: "string", default: "\"jp-broker\"", doc: "`jp-broker` (8–16 letters and digits, last 2 refused, 90-day expiry, lock after 5) or `nist-800-63b-4` (≥15 alone / ≥8 with MFA, up to 64, blocklist, no expiry, lock after 100)." },
    Key { path: "password.min_length", kind: "integer", default: "preset", doc: "Minimum length when the password is the only factor." },
    Key { path: "password.min_length_with_mfa", kind: "integer", default: "preset", doc: "Minimum length when the login has a second factor." },
    Key { path: "password.max_length", kind: "integer", default: "preset", doc: "Maximum length." },
    Key { path: "password.history", kind: "integer", default: "preset", doc: "How many recent passwords (the current one included) may not be reused; 0 for none." },
    Key { path: "password.max_age_days", kind: "integer", default: "preset", doc: "Days until a password must be changed; 0 for never." },
    Key { path: "password.lockout_threshold", kind: "integer", default: "preset", doc: "Consecutive password failures that lock the login until an operator unlocks it." },
    Key { path: "password.argon2_memory_kib", kind: "integer", default: "19456", doc: "Argon2id memory cost (OWASP: 19 MiB)." },
    Key { path: "password.argon2_iterations", kind: "integer", default: "2", doc: "Argon2id passes." },
    Key { path: "password.argon2_parallelism", kind: "integer", default: "1", doc: "Argon2id lanes." },
    Key { path: "password.hash_concurrency", kind: "integer", default: "number of cores", doc: "Hashes computed at once; bounds CPU and memory (memory cost × this)." },
    Key { path: "password.hash_queue_limit", kind: "integer", default: "1024", doc: "Hashes allowed to wait; beyond it logins get `server_busy` (503)." },
    Key { path: "session.idle_timeout_secs", kind: "integer", default: "1800", doc: "A session unused this long ends." },
    Key { path: "session.absolute_timeout_secs", kind: "integer", default: "43200", doc: "A session ends this long after login." },
    Key { path: "session.password_change_timeout_secs", kind: "integer", default: "600", doc: "Lifetime of the restricted token for changing a temporary or expired password." },
    Key { path: "session.challenge_timeout_secs", kind: "integer", default: "300", doc: "How long a login may wait between the password and the second factor." },
    Key { path: "totp.issuer", kind: "string", default: "\"Sekisho\"", doc: "Issuer shown in authenticator apps (the firm or service name)." },
    Key { path: "totp.account_name", kind: "string", default: "\"{login_id}\"", doc: "Account name shown in authenticator apps; `{login_id}` is replaced by the login ID (e.g. `北洋証券オンラインサービス` as in the Hokuyo manual)." },
    Key { path: "totp.algorithm", kind: "string", default: "\"SHA1\"", doc: "`SHA1`, `SHA256` or `SHA512` for new enrolments. Some apps (Google Authenticator on some platforms) ignore anything but SHA1." },
    Key { path: "totp.digits", kind: "integer", default: "6", doc: "Code length for new enrolments (6–8; some apps ignore 8)." },
    Key { path: "totp.period", kind: "integer", default: "30", doc: "Seconds per code for new enrolments (some apps ignore anything but 30)." },
    Key { path: "totp.window", kind: "integer", default: "1", doc: "Steps accepted either side of the expected one (after the device's learnt drift)." },
    Key { path: "totp.enrolment_timeout_secs", kind: "integer", default: "600", doc: "How long an enrolment may stay unconfirmed." },
    Key { path: "totp.lockout_threshold", kind: "integer", default: "10", doc: "Consecutive wrong codes that lock the factor until an operator unlocks the login." },
    Key { path: "tokens.max_per_login", kind: "integer", default: "1", doc: "How many hardware/software tokens one login may have assigned at once (the Shoko Chukin manual allows one)." },
    Key { path: "tokens.lockout_threshold", kind: "integer", default: "10", doc: "Consecutive wrong codes that lock a token until an operator unlocks it." },
    Key { path: "tokens.hotp_look_ahead", kind: "integer", default: "10", doc: "HOTP tokens: counters after the expected one accepted at login and registration (button presses without logging in)." },
    Key { path: "tokens.hotp_resync_window", kind: "integer", default: "100", doc: "HOTP tokens: counters searched for two consecutive codes by a resynchronisation (同期ズレ補正)." },
    Key { path: "tokens.totp_window", kind: "integer", default: "1", doc: "TOTP tokens: steps accepted either side of the expected one at login (after the token's learnt drift)." },
    Key { path: "tokens.totp_resync_steps", kind: "integer", default: "10", doc: "TOTP tokens: steps either side of the server's time searched by a resynchronisation." },
    Key { path: "mail.outbox_dir", kind: "string", default: "\"<data_dir>/outbox\"", doc: "Folder where outgoing mail is written as `.eml` files (created at start; the e-mail features write to it)." },
];

/// The resolved configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub database_max_connections: u32,
    pub public_url: Option<String>,
    pub master_key: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub log_format: String,
    pub log_level: String,
    pub trust_forwarded_for: bool,
    pub max_body_bytes: u64,
    pub password: PasswordConfig,
    pub session: SessionConfig,
    pub totp: TotpConfig,
    pub tokens: TokensConfig,
    pub mail: MailConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensConfig {
    pub max_per_login: u32,
    pub lockout_threshold: u32,
    pub hotp_look_ahead: u32,
    pub hotp_resync_window: u32,
    pub totp_window: u32,
    pub totp_resync_steps: u32,
}

impl Default for TokensConfig {
    fn default() -> Self {
        TokensConfig {
            max_per_login: 1,
            lockout_threshold: 10,
            hotp_look_ahead: 10,
            hotp_resync_window: 100,
            totp_window: 1,
            totp_resync_steps: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TotpConfig {
    pub issuer: String,
    pub account_name: String,
    pub algorithm: String,
    pub digits: u32,
    pub period: u32,
    pub window: u32,
    pub enrolment_timeout_secs: i64,
    pub lockout_threshold: u32,
}

impl Default for TotpConfig {
    fn default() -> Self {
        TotpConfig {
            issuer: "Sekisho".into(),
            account_name: "{login_id}".into(),
            algorithm: "SHA1".into(),
            digits: 6,
            period: 30,
            window: 1,
            enrolment_timeout_secs: 600,
            lockout_threshold: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    pub preset: String,
    pub min_length: Option<u32>,
    pub min_length_with_mfa: Option<u32>,
    pub max_length: Option<u32>,
    pub history: Option<u32>,
    pub max_age_days: Option<u32>,
    pub lockout_threshold: Option<u32>,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    pub hash_concurrency: Option<u32>,
    pub hash_queue_limit: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    pub idle_timeout_secs: i64,
    pub absolute_timeout_secs: i64,
    pub password_change_timeout_secs: i64,
    pub challenge_timeout_secs: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    pub outbox_dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./sekisho-data"),
            database_url: None,
            database_max_connections: 10,
            public_url: None,
            master_key: None,
            master_key_file: None,
            log_format: "text".into(),
            log_level: "info".into(),
            trust_forwarded_for: false,
            max_body_bytes: 64 * 1024,
            password: PasswordConfig::default(),
            session: SessionConfig::default(),
            totp: TotpConfig::default(),
            tokens: TokensConfig::default(),
            mail: MailConfig::default(),
        }
    }
}

impl Default for PasswordConfig {
    fn default() -> Self {
        PasswordConfig {
            preset: "jp-broker".into(),
            min_length: None,
            min_length_with_mfa: None,
            max_length: None,
            history: None,
            max_age_days: None,
            lockout_threshold: None,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            hash_concurrency: None,
            hash_queue_limit: 1024,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout_secs: 1800,
            absolute_timeout_secs: 12 * 3600,
            password_change_timeout_secs: 600,
            challenge_timeout_secs: 300,
        }
    }
}

/// Flags that override the file and the environment.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data folder (SQLite database, generated master key, mail outbox).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (`sqlite:///…` or `postgres://…`).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

fn env_name(path: &str) -> String {
    format!("SEKISHO_{}", path.replace('.', "_").to_ascii_uppercase())
}

/// Environment variables that belong to the test harness or tools, not to the server.
const IGNORED_ENV: &[&str] = &["SEKISHO_TEST_", "SEKISHO_BENCH_"];

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) -> Result<()> {
    let mut parts = path.split('.').peekable();
    let mut t = table;
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            t.insert(p.to_owned(), value);
            return Ok(());
        }
        let entry = t
            .entry(p.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| anyhow!("configuration key {p} must be a table"))?;
    }
    Ok(())
}

fn parse_env_value(key: &Key, raw: &str) -> Result<toml::Value> {
    let name = env_name(key.path);
    Ok(match key.kind {
        "integer" => toml::Value::Integer(
            raw.trim()
                .parse()
                .with_context(|| format!("{name} must be an integer, got {raw:?}"))?,
        ),
        "bool" => toml::Value::Boolean(match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => bail!("{name} must be true or false, got {raw:?}"),
        }),
        _ => toml::Value::String(raw.to_owned()),
    })
}

impl Config {
    /// Loads defaults ← file ← environment (`vars`) ← flags.
    pub fn load(
        args: &ConfigArgs,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config> {
        let mut table = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read configuration file {}", path.display())
                })?;
                text.parse::<toml::Table>()
                    .with_context(|| format!("invalid TOML in {}", path.display()))?
            }
            None => toml::Table::new(),
        };
        for (name, raw) in vars {
            if !name.starts_with("SEKISHO_") || IGNORED_ENV.iter().any(|p| name.starts_with(p)) {
                continue;
            }
            let key = KEYS
                .iter()
                .find(|k| env_name(k.path) == name)
                .ok_or_else(|| {
                    anyhow!("unknown configuration variable {name} (see `sekisho config keys`)")
                })?;
            set_path(&mut table, key.path, parse_env_value(key, &raw)?)?;
        }
        let mut config: Config = Config::deserialize(toml::Value::Table(table)).map_err(|e| {
            anyhow!(
                "invalid configuration{}: {}",
                args.config
                    .as_ref()
                    .map(|p| format!(" in {}", p.display()))
                    .unwrap_or_default(),
                e.to_string().trim()
            )
        })?;
        if let Some(d) = &args.data_dir {
            config.data_dir = d.clone();
        }
        if let Some(u) = &args.database_url {
            config.database_url = Some(u.clone());
        }
        Ok(config)
    }

    /// The database URL: the configured one, or SQLite in the data folder.
    pub fn database_url(&self) -> Result<String> {
        if let Some(u) = self.database_url.as_ref().filter(|u| !u.is_empty()) {
            return Ok(u.clone());
        }
        let dir = absolute(&self.data_dir)?;
        Ok(format!(
            "sqlite://{}?mode=rwc",
            dir.join("sekisho.db").display()
        ))
    }

    /// The mail outbox folder.
    pub fn outbox_dir(&self) -> PathBuf {
        self.mail
            .outbox_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("outbox"))
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(p)
        .with_context(|| format!("cannot create data folder {}", p.display()))?;
    p.canonicalize()
        .with_context(|| format!("cannot resolve data folder {}", p.display()))
}

/// The keys as a Markdown table (the body of docs/configuration.md).
pub fn keys_markdown() -> String {
    let mut s = String::from(
        "| key | environment variable | type | default | meaning |\n|---|---|---|---|---|\n",
    );
    for k in KEYS {
        s.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            k.path,
            env_name(k.path),
            k.kind,
            k.default,
            k.doc
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn every_documented_key_is_accepted_from_the_environment() {
        let v: Vec<(String, String)> = KEYS
            .iter()
            .map(|k| {
                let val = match k.kind {
                    "integer" => "7",
                    "bool" => "true",
                    _ => "x",
                };
                (env_name(k.path), val.to_owned())
            })
            .collect();
        let c = Config::load(&ConfigArgs::default(), v);
        assert!(c.is_ok(), "{c:?}");
    }

    #[test]
    fn precedence_file_env_flags() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\n[password]\npreset = \"nist-800-63b-4\"\nlockout_threshold = 7\n")
            .unwrap_or_else(|e| unreachable!("{e}"));
        let args = ConfigArgs {
            config: Some(file),
            data_dir: Some("/tmp/x".into()),
            database_url: None,
        };
        let c = Config::load(
            &args,
            vars(&[
                ("SEKISHO_PASSWORD_LOCKOUT_THRESHOLD", "9"),
                ("SEKISHO_TEST_DATABASE_URL", "ignored"),
            ]),
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.listen, "127.0.0.1:9000");
        assert_eq!(c.password.preset, "nist-800-63b-4");
        assert_eq!(c.password.lockout_threshold, Some(9));
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "[password]\npresett = \"x\"\n")
            .unwrap_or_else(|e| unreachable!("{e}"));
        let args = ConfigArgs {
            config: Some(file),
            ..Default::default()
        };
        let e = Config::load(&args, vec![])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("presett"), "{e}");
        let e = Config::load(&ConfigArgs::default(), vars(&[("SEKISHO_LISTN", "x")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("SEKISHO_LISTN"), "{e}");
        let e = Config::load(
            &ConfigArgs::default(),
            vars(&[("SEKISHO_PASSWORD_HISTORY", "two")]),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("integer"), "{e}");
    }

    #[test]
    fn configuration_doc_lists_every_key() {
        let doc = include_str!("../../../docs/configuration.md");
        assert!(
            doc.contains(&keys_markdown()),
            "docs/configuration.md is out of date: run `sekisho config keys`"
        );
    }
}
