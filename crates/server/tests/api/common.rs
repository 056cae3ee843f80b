//! `spawn_app()`: a real server on a free port, a fresh database, a clock the test moves, built
//! from a configuration through the same wiring as `sekisho serve`.

use reqwest::{Client, Response, StatusCode};
use sekisho::config::Config;
use sekisho::wiring;
use sekisho_app::system::OsRandom;
use sekisho_core::audit::{Actor, ClientInfo};
use sekisho_core::password::Preset;
use sekisho_core::{Clock, Timestamp};
use sekisho_store::testing::{fresh_postgres_url, sqlite_url};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A clock tests move by hand.
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn at(secs: i64) -> TestClock {
        TestClock(AtomicI64::new(secs))
    }

    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

pub fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| unreachable!("{e:?}"))
}

pub struct TestApp {
    pub url: String,
    /// Where the admin API is served (`url` unless `admin_listen`).
    pub admin_url: String,
    /// The SMTP server the app delivers to.
    pub smtp: crate::smtp::SmtpServer,
    pub http: Client,
    pub clock: Arc<TestClock>,
    pub admin_token: String,
    /// The application behind the server, for checks only the application can make (a client
    /// secret's hash).
    pub state: sekisho_server::AppState,
    _dir: Option<tempfile::TempDir>,
}

/// What a test changes in the settings every test server starts from ([`BASE`]). Each field is
/// a configuration key; [`spawn_with`] writes them into the configuration, which goes through
/// the same deserialisation, checks and wiring as `sekisho serve`.
pub struct Options {
    /// `password.preset`.
    pub preset: Preset,
    /// `database_url` (a fresh SQLite database in a temporary folder when `None`).
    pub database_url: Option<String>,
    pub clock: Option<Arc<TestClock>>,
    /// `trading_password.reauth`.
    pub trading_password_reauth: bool,
    /// `mail.max_attempts`: delivery attempts before a mail is given up.
    pub mail_max_attempts: u32,
    /// The SMTP server is down (nothing listens on its port, delivery fails) until the test
    /// calls `app.smtp.up()`.
    pub smtp_down: bool,
    /// `notify.login_default`.
    pub notify_login_default: bool,
    /// `mfa.*`: the rollout policy.
    pub mfa: sekisho_core::login::MfaRollout,
    /// Serve the admin API on a second listener (`admin_listen`).
    pub admin_listen: bool,
    /// Passkeys required for every login (`passkeys.required`).
    pub passkeys_required: bool,
    /// Step-up kinds only a passkey confirms (`step_up.passkey_required_kinds`).
    pub step_up_passkey_kinds: Vec<sekisho_core::step_up::OperationKind>,
    /// `totp.lockout_threshold`.
    pub totp_lockout_threshold: u32,
    /// `recovery.lockout_threshold`.
    pub recovery_lockout_threshold: u32,
    /// Any other keys, by dotted path (`("tokens.max_per_login", 2.into())`).
    pub settings: Vec<(&'static str, toml::Value)>,
    /// `server.*`: the transport's timeouts and connection cap.
    pub transport: sekisho_server::Transport,
    /// The test CA (PEM) that signed `transport.tls`'s certificate for localhost: the server is
    /// then reached, and its public URL is, `https://localhost:PORT`.
    pub https_ca: Option<Vec<u8>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            preset: Preset::JpBroker,
            database_url: None,
            clock: None,
            trading_password_reauth: false,
            mail_max_attempts: 3,
            smtp_down: false,
            notify_login_default: false,
            mfa: Default::default(),
            admin_listen: false,
            passkeys_required: false,
            step_up_passkey_kinds: Vec::new(),
            totp_lockout_threshold: 10,
            recovery_lockout_threshold: 10,
            settings: Vec::new(),
            transport: sekisho_server::Transport::default(),
            https_ca: None,
        }
    }
}

/// The configuration every test server starts from; [`Options`] adds to it.
const BASE: &str = r#"
public_url = "http://sekisho.test"
database_max_connections = 8
master_key = "0707070707070707070707070707070707070707070707070707070707070707"

[password]
# Cheap Argon2 parameters keep the suite fast; the benchmark uses the real ones.
argon2_memory_kib = 256
argon2_iterations = 1
argon2_parallelism = 1
hash_concurrency = 2

[mail]
smtp_host = "127.0.0.1"
smtp_tls = "none"
smtp_pool_size = 2
from = "no-reply@sekisho.test"
firm_name = "関所証券"
support_contact = "関所証券サポートデスク(0120-000-000)"
timeout_secs = 5
retry_max_secs = 600
poll_interval_ms = 50

[pages]
return_to_allowlist = ["https://trade.example.co.jp/"]

[throttle]
# Out of the way: the suite logs in many times from 127.0.0.1 at a frozen clock. The throttle's
# own tests (throttle.rs) set tight limits and the growing delay.
per_address_per_minute = 60000
per_address_burst = 60000
per_login_per_minute = 60000
per_login_burst = 60000
validate_failures_per_minute = 60000
validate_failures_burst = 60000
delay_base_secs = 0

[passkeys]
# Passkeys need a domain, so the relying party is `localhost` and pages that run ceremonies
# are opened on http://localhost:PORT.
rp_id = "localhost"
"#;

/// Sets a dotted key in a TOML table.
fn set(table: &mut toml::Table, path: &str, value: impl Into<toml::Value>) {
    let mut t = table;
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    for p in parts {
        t = t
            .entry(p)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .unwrap_or_else(|| unreachable!("{p} is not a table"));
    }
    t.insert(last.to_owned(), value.into());
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Options::default()).await
}

/// A PostgreSQL database for this test, or `None` (test skipped) when no test server is set.
pub async fn postgres(name: &str) -> Option<String> {
    let url = fresh_postgres_url(name).await;
    if url.is_none() {
        eprintln!("SEKISHO_TEST_DATABASE_URL not set: PostgreSQL case skipped");
    }
    url
}

/// Starts a server the way `sekisho serve` does (`Config` → `wiring::app_state_with` →
/// `serve_split`), with the test's clock and on free ports.
pub async fn spawn_with(opts: Options) -> TestApp {
    let mut config = ok(BASE.parse::<toml::Table>());
    let dir = match opts.database_url {
        Some(u) => {
            set(&mut config, "database_url", u);
            None
        }
        None => {
            let d = ok(tempfile::tempdir());
            set(&mut config, "database_url", sqlite_url(d.path()));
            set(&mut config, "data_dir", d.path().display().to_string());
            Some(d)
        }
    };
    let clock = opts
        .clock
        .unwrap_or_else(|| Arc::new(TestClock(AtomicI64::new(1_780_000_000))));
    // A server that is down can be brought up by the test (`app.smtp.up()`).
    let smtp = if opts.smtp_down {
        crate::smtp::SmtpServer::down().await
    } else {
        crate::smtp::SmtpServer::start().await
    };
    set(&mut config, "mail.smtp_port", i64::from(smtp.port));
    set(
        &mut config,
        "mail.max_attempts",
        i64::from(opts.mail_max_attempts),
    );
    set(&mut config, "password.preset", opts.preset.as_str());
    set(
        &mut config,
        "trading_password.reauth",
        opts.trading_password_reauth,
    );
    set(
        &mut config,
        "notify.login_default",
        opts.notify_login_default,
    );
    if let Some(d) = opts.mfa.mandatory_from {
        set(&mut config, "mfa.mandatory_from", d.to_rfc3339());
    }
    set(
        &mut config,
        "mfa.reminder_days",
        i64::from(opts.mfa.reminder_days),
    );
    let after = match opts.mfa.after_deadline {
        sekisho_core::login::AfterDeadline::EmailCode => "email_code",
        sekisho_core::login::AfterDeadline::Refuse => "refuse",
    };
    set(&mut config, "mfa.after_deadline", after);
    set(&mut config, "passkeys.required", opts.passkeys_required);
    let kinds: Vec<toml::Value> = opts
        .step_up_passkey_kinds
        .iter()
        .map(|k| k.as_str().into())
        .collect();
    set(&mut config, "step_up.passkey_required_kinds", kinds);
    set(
        &mut config,
        "totp.lockout_threshold",
        i64::from(opts.totp_lockout_threshold),
    );
    set(
        &mut config,
        "recovery.lockout_threshold",
        i64::from(opts.recovery_lockout_threshold),
    );
    // Bound first: the passkey origin names the port. Browsers use the page's own origin; the
    // Rust authenticator in the tests uses http://localhost, which every test instance accepts
    // (as instances of one site do).
    let listener = ok(tokio::net::TcpListener::bind("127.0.0.1:0").await);
    let addr = ok(listener.local_addr());
    let mut origins = vec![
        format!("http://localhost:{}", addr.port()),
        "http://localhost".to_owned(),
    ];
    // Served over HTTPS (a test CA's certificate for localhost): the public URL is the one
    // relying parties and browsers reach.
    let base = match &opts.https_ca {
        Some(_) => format!("https://localhost:{}", addr.port()),
        None => format!("http://{addr}"),
    };
    if opts.https_ca.is_some() {
        let public = format!("https://localhost:{}", addr.port());
        set(&mut config, "public_url", public.clone());
        origins.push(public);
    }
    set(&mut config, "passkeys.origins", origins);
    for (path, value) in opts.settings {
        set(&mut config, path, value);
    }
    let config = ok(Config::from_toml(&ok(toml::to_string(&config))));
    let state = ok(wiring::app_state_with(&config, clock.clone(), Arc::new(OsRandom)).await);
    let (admin_token, _) = ok(sekisho_app::tokens::issue_api_token(
        state.store.as_ref(),
        &OsRandom,
        clock.now(),
        "tests",
        "admin",
        Actor::System,
        &ClientInfo::default(),
    )
    .await);
    let (admin, admin_url) = if opts.admin_listen {
        let l = ok(tokio::net::TcpListener::bind("127.0.0.1:0").await);
        let a = ok(l.local_addr());
        (Some(l), format!("http://{a}"))
    } else {
        (None, base.clone())
    };
    let mut http = Client::builder().user_agent("sekisho-tests/1.0");
    if let Some(ca) = &opts.https_ca {
        http = http
            .tls_built_in_root_certs(false)
            .add_root_certificate(ok(reqwest::Certificate::from_pem(ca)));
    }
    let app_state = state.clone();
    tokio::spawn(sekisho_server::serve_with(
        listener,
        admin,
        state,
        opts.transport,
        std::future::pending(),
    ));
    TestApp {
        url: base,
        admin_url,
        smtp,
        http: ok(http.build()),
        clock,
        admin_token,
        state: app_state,
        _dir: dir,
    }
}

impl TestApp {
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut r = self
            .http
            .request(method, format!("{}/api/admin/v1{path}", self.admin_url))
            .bearer_auth(&self.admin_token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        ok(r.send().await)
    }

    /// A login without a password created as an operator would (its e-mail address
    /// `{login_id}@example.co.jp`, its second factor, its language), and the path (`/setup/…`)
    /// of the setup link made with `link` (the admin API's setup-link body).
    pub async fn newcomer(
        &self,
        login_id: &str,
        second_factor: &str,
        lang: &str,
        link: Value,
    ) -> String {
        let r = self
            .admin(
                reqwest::Method::POST,
                "/logins",
                Some(json!({
                    "login_id": login_id,
                    "email": format!("{login_id}@example.co.jp"),
                    "display_name": "中村 誠",
                    "lang": lang,
                    "second_factor": second_factor,
                })),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
        let r = self
            .admin(
                reqwest::Method::POST,
                &format!("/logins/{login_id}/setup-link"),
                Some(link),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = ok(r.json().await);
        let url = v["url"].as_str().unwrap_or_default();
        url.strip_prefix("http://sekisho.test")
            .unwrap_or_default()
            .to_owned()
    }

    /// Creates a login with a permanent password.
    pub async fn create_login(&self, login_id: &str, password: &str) {
        let r = self
            .admin(
                reqwest::Method::POST,
                "/logins",
                Some(json!({
                    "login_id": login_id,
                    "email": format!("{login_id}@example.co.jp"),
                    "display_name": "山田 太郎",
                    "password": password,
                    "temporary": false,
                })),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }

    pub async fn login(&self, login_id: &str, password: &str) -> Response {
        ok(self
            .http
            .post(format!("{}/api/v1/login", self.url))
            .json(&json!({ "login_id": login_id, "password": password }))
            .send()
            .await)
    }

    /// Logs in and returns the session token.
    pub async fn session(&self, login_id: &str, password: &str) -> String {
        let r = self.login(login_id, password).await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = ok(r.json().await);
        v["session_token"].as_str().unwrap_or_default().to_owned()
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Response {
        let mut r = self.http.get(format!("{}{path}", self.url));
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        ok(r.send().await)
    }

    pub async fn post(&self, path: &str, bearer: Option<&str>, body: Value) -> Response {
        let mut r = self.http.post(format!("{}{path}", self.url)).json(&body);
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        ok(r.send().await)
    }

    /// Audit events (newest first) for a login.
    pub async fn audit(&self, login_id: &str) -> Vec<Value> {
        let r = self
            .admin(
                reqwest::Method::GET,
                &format!("/audit?login_id={login_id}&limit=1000"),
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = ok(r.json().await);
        v["events"].as_array().cloned().unwrap_or_default()
    }

    pub async fn count_events(&self, login_id: &str, event_type: &str) -> usize {
        self.audit(login_id)
            .await
            .iter()
            .filter(|e| e["event_type"] == event_type)
            .count()
    }

    /// The value of a metric line (first sample whose line starts with `name`).
    pub async fn metric(&self, name: &str) -> f64 {
        let r = self
            .http
            .get(format!("{}/metrics", self.admin_url))
            .bearer_auth(&self.admin_token)
            .send()
            .await;
        let text = ok(ok(r).text().await);
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    }
}

/// Asserts an error response: status, `error` and `code`; returns the body.
pub async fn expect_error(r: Response, status: StatusCode, error: &str, code: &str) -> Value {
    assert_eq!(r.status(), status);
    let v: Value = ok(r.json().await);
    assert_eq!(v["error"], error, "{v}");
    assert_eq!(v["code"], code, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    v
}
