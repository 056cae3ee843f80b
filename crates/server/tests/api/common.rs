//! `spawn_app()`: a real server on a free port, a fresh database, a clock the test moves.

use reqwest::{Client, Response, StatusCode};
use sekisho_app::mail::{Delivery, MailSettings, SmtpSettings, SmtpTls};
use sekisho_app::system::OsRandom;
use sekisho_app::{HashPool, PagesSettings, Settings, TokenSettings, TotpSettings};
use sekisho_core::audit::{Actor, ClientInfo};
use sekisho_core::device::DevicePolicy;
use sekisho_core::email_code::EmailCodePolicy;
use sekisho_core::password::{HashParams, PasswordHasher, PasswordPolicy, Preset};
use sekisho_core::secret_box::SecretBox;
use sekisho_core::session::SessionPolicy;
use sekisho_core::{Clock, Timestamp};
use sekisho_server::AppState;
use sekisho_store::testing::{fresh_postgres_url, sqlite_url};
use sekisho_store::{connect, ConnectOptions};
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
    pub state: AppState,
    _dir: Option<tempfile::TempDir>,
}

pub struct Options {
    pub preset: Preset,
    pub database_url: Option<String>,
    pub clock: Option<Arc<TestClock>>,
    pub trading_password_reauth: bool,
    /// Delivery attempts before a mail is given up.
    pub mail_max_attempts: u32,
    /// Point the app at a port where no SMTP server listens (delivery fails).
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
        }
    }
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

pub async fn spawn_with(opts: Options) -> TestApp {
    let (url, dir) = match opts.database_url {
        Some(u) => (u, None),
        None => {
            let d = ok(tempfile::tempdir());
            (sqlite_url(d.path()), Some(d))
        }
    };
    let store = ok(connect(&ConnectOptions {
        url,
        max_connections: 8,
        sqlite_synchronous: Default::default(),
    })
    .await);
    let clock = opts
        .clock
        .unwrap_or_else(|| Arc::new(TestClock(AtomicI64::new(1_780_000_000))));
    // Cheap Argon2 parameters keep the suite fast; the benchmark uses the real ones.
    let hasher = ok(PasswordHasher::new(HashParams {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    }));
    let hashes = ok(HashPool::new(hasher, 2, 1024, "dummy", [3; 16]));
    let smtp = crate::smtp::SmtpServer::start().await;
    let smtp_port = if opts.smtp_down {
        crate::smtp::closed_port().await
    } else {
        smtp.port
    };
    let mail = MailSettings {
        delivery: Delivery::Smtp(SmtpSettings {
            host: "127.0.0.1".into(),
            port: smtp_port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            pool_size: 2,
        }),
        from: "no-reply@sekisho.test".into(),
        firm_name: "関所証券".into(),
        support_contact: "関所証券サポートデスク(0120-000-000)".into(),
        timeout: std::time::Duration::from_secs(5),
        max_attempts: opts.mail_max_attempts,
        retry_base_secs: 30,
        retry_max_secs: 600,
        poll_interval: std::time::Duration::from_millis(50),
    };
    // Bound first: the passkey origin names the port. Passkeys need a domain, so the relying
    // party is `localhost` and pages that run ceremonies are opened on http://localhost:PORT.
    let listener = ok(tokio::net::TcpListener::bind("127.0.0.1:0").await);
    let addr = ok(listener.local_addr());
    let settings = Settings {
        public_url: "http://sekisho.test".into(),
        password_policy: PasswordPolicy::preset(opts.preset),
        session: SessionPolicy {
            idle_secs: 1800,
            absolute_secs: 12 * 3600,
        },
        password_change_secs: 600,
        trust_forwarded_for: false,
        max_body_bytes: 64 * 1024,
        api_token_cache_secs: 5,
        challenge_secs: 300,
        totp: TotpSettings {
            lockout_threshold: opts.totp_lockout_threshold,
            ..TotpSettings::default()
        },
        trading_password_reauth: opts.trading_password_reauth,
        mail,
        email_code: EmailCodePolicy::default(),
        devices: DevicePolicy::default(),
        notify_login_default: opts.notify_login_default,
        tokens: TokenSettings::default(),
        recovery: sekisho_app::RecoverySettings {
            lockout_threshold: opts.recovery_lockout_threshold,
        },
        mfa: opts.mfa,
        pages: PagesSettings {
            return_to_allowlist: vec!["https://trade.example.co.jp/".into()],
            ..PagesSettings::default()
        },
        step_up: sekisho_app::StepUpSettings {
            policy: sekisho_core::step_up::StepUpPolicy {
                passkey_required: opts.step_up_passkey_kinds.clone(),
                ..Default::default()
            },
            ..Default::default()
        },
        passkeys: sekisho_app::passkey::PasskeySettings {
            rp_id: "localhost".into(),
            rp_name: "関所証券".into(),
            // Browsers use the page's own origin; the Rust authenticator in the tests uses
            // http://localhost, which every test instance accepts (as instances of one site do).
            origins: vec![
                format!("http://localhost:{}", addr.port()),
                "http://localhost".into(),
            ],
            required: opts.passkeys_required,
            ..Default::default()
        },
        oidc: Default::default(),
    };
    let secrets = SecretBox::new("k1", &[7; 32]);
    let state = AppState::new(
        store.clone(),
        clock.clone(),
        Arc::new(OsRandom),
        settings,
        hashes,
        secrets,
    );
    let (admin_token, _) = ok(sekisho_app::tokens::issue_api_token(
        store.as_ref(),
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
        (None, format!("http://{addr}"))
    };
    let app_state = state.clone();
    tokio::spawn(sekisho_server::serve_split(
        listener,
        admin,
        state,
        std::future::pending(),
    ));
    TestApp {
        url: format!("http://{addr}"),
        admin_url,
        smtp,
        http: ok(Client::builder().user_agent("sekisho-tests/1.0").build()),
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
        let text = ok(self.get("/metrics", None).await.text().await);
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
