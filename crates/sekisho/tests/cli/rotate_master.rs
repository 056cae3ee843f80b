//! Issue 16 item 13: `sekisho keys rotate-master` re-seals every secret under a new master key
//! while a server keeps verifying authenticator-app codes; the server then runs with both keys,
//! and after `--finish` with the new key alone, and customers still log in with their codes.

use super::{free_port, ok, sekisho, wait_ready, Server};
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::otp::{base32_decode, totp_at, totp_step, OtpParams};
use sekisho_core::secret_box::key_id;
use sekisho_core::Timestamp;
use sekisho_store::{ConnectOptions, SealedColumn};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const OLD: [u8; 32] = [0x11; 32];
const NEW: [u8; 32] = [0x22; 32];
const CUSTOMERS: usize = 4;

/// Where the instance's data lives and which keys it is given.
struct Setup {
    dir: PathBuf,
    database_url: String,
}

impl Setup {
    fn key_file(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// A command with the database and the keys: `master` seals, `extra` only open.
    fn command(&self, master: &str, extra: &[&str]) -> std::process::Command {
        let mut c = sekisho(&self.dir);
        c.env("SEKISHO_DATABASE_URL", &self.database_url)
            .env("SEKISHO_MASTER_KEY_FILE", self.key_file(master))
            // Codes of the next steps are accepted, so one customer can answer many times
            // without the test waiting for real 30-second steps.
            .env("SEKISHO_TOTP_WINDOW", "10");
        if !extra.is_empty() {
            let files: Vec<String> = extra.iter().map(|f| self.key_file(f)).collect();
            c.env("SEKISHO_EXTRA_MASTER_KEY_FILES", files.join(","));
        }
        c
    }

    async fn serve(&self, master: &str, extra: &[&str]) -> (Server, String) {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let log = ok(std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log")));
        let mut server = Server(ok(self
            .command(master, extra)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()));
        wait_ready(&url, &mut server).await;
        (server, url)
    }

    fn run(&self, master: &str, extra: &[&str], args: &[&str]) -> (bool, String, String) {
        let out = ok(self.command(master, extra).args(args).output());
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    async fn store(&self) -> Arc<dyn sekisho_store::Store> {
        ok(sekisho_store::connect(&ConnectOptions {
            url: self.database_url.clone(),
            max_connections: 2,
            sqlite_synchronous: Default::default(),
        })
        .await)
    }
}

/// The customers' secrets and the last step each answered (a step is accepted once).
#[derive(Clone, Default)]
struct Apps(Arc<Mutex<HashMap<String, App>>>);

/// A customer's app: its secret and the last step it answered.
type App = (Vec<u8>, i64);

impl Apps {
    /// The next fresh code of `login`: the current step, or the one after the last used.
    #[allow(clippy::disallowed_methods)] // real processes run on real time
    fn next_code(&self, login: &str) -> String {
        let now = Timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default(),
        );
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let Some((secret, last)) = m.get_mut(login) else {
            return String::new();
        };
        *last = (*last + 1).max(totp_step(now, 30));
        totp_at(secret, *last, OtpParams::default())
    }

    fn set(&self, login: &str, secret: Vec<u8>, step: i64) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(login.to_owned(), (secret, step));
    }
}

async fn enrol(http: &reqwest::Client, url: &str, admin: &str, login: &str, apps: &Apps) {
    let r = ok(http
        .post(format!("{url}/api/admin/v1/logins"))
        .bearer_auth(admin)
        .json(
            &json!({ "login_id": login, "email": format!("{login}@example.jp"),
                       "display_name": login, "password": "abc12345", "temporary": false }),
        )
        .send()
        .await);
    assert_eq!(r.status(), 201);
    let r = ok(http
        .post(format!("{url}/api/v1/login"))
        .json(&json!({ "login_id": login, "password": "abc12345" }))
        .send()
        .await);
    let v: Value = ok(r.json().await);
    let session = v["session_token"].as_str().unwrap_or_default().to_owned();
    let r = ok(http
        .post(format!("{url}/api/v1/me/totp"))
        .bearer_auth(&session)
        .json(&json!({ "password": "abc12345" }))
        .send()
        .await);
    assert_eq!(r.status(), 200);
    let v: Value = ok(r.json().await);
    let secret = base32_decode(v["secret"].as_str().unwrap_or_default()).unwrap_or_default();
    apps.set(login, secret, 0);
    let r = ok(http
        .post(format!("{url}/api/v1/me/totp/confirm"))
        .bearer_auth(&session)
        .json(&json!({ "otp": apps.next_code(login) }))
        .send()
        .await);
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
}

async fn validate(http: &reqwest::Client, url: &str, token: &str, login: &str, apps: &Apps) -> u16 {
    let r = http
        .post(format!("{url}/api/v1/validate"))
        .bearer_auth(token)
        .json(&json!({ "login_id": login, "otp": apps.next_code(login) }))
        .send()
        .await;
    r.map(|r| r.status().as_u16()).unwrap_or(0)
}

async fn log_in_with_code(http: &reqwest::Client, url: &str, login: &str, apps: &Apps) -> u16 {
    let r = ok(http
        .post(format!("{url}/api/v1/login"))
        .json(&json!({ "login_id": login, "password": "abc12345", "otp": apps.next_code(login) }))
        .send()
        .await);
    r.status().as_u16()
}

// Paces the load over the rotation's run (real processes, real time; no domain time).
#[allow(clippy::disallowed_methods)]
async fn pause() {
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
}

fn token(out: &str) -> String {
    out.lines().last().unwrap_or_default().trim().to_owned()
}

pub(crate) async fn rotate_master_while_serving(dir: &Path, database_url: String) {
    let s = Setup {
        dir: dir.to_owned(),
        database_url,
    };
    ok(std::fs::write(dir.join("old.key"), hex::encode(OLD)));
    ok(std::fs::write(dir.join("new.key"), hex::encode(NEW)));
    let new_id = key_id(&NEW);
    let http = reqwest::Client::new();
    let apps = Apps::default();

    // An existing deployment on one key (its values under `k1`, as earlier versions wrote).
    let (server, url) = s.serve("old.key", &[]).await;
    let (done, out, err) = s.run(
        "old.key",
        &[],
        &["api-token", "create", "--name", "ops", "--scope", "admin"],
    );
    assert!(done, "{err}");
    let admin = token(&out);
    let (done, out, err) = s.run(
        "old.key",
        &[],
        &[
            "api-token",
            "create",
            "--name",
            "vpn",
            "--scope",
            "validate",
        ],
    );
    assert!(done, "{err}");
    let vpn = token(&out);
    let logins: Vec<String> = (0..CUSTOMERS).map(|i| format!("rot0000{i}")).collect();
    for l in &logins {
        enrol(&http, &url, &admin, l, &apps).await;
    }
    let store = s.store().await;
    let secrets = ok(store
        .count_not_under(SealedColumn::OtpFactorSecret, "k1")
        .await);
    assert_eq!(secrets, 0, "an untouched deployment still writes k1 values");
    drop(server);

    // Rotating needs the new key in the configuration first.
    let (done, _, err) = s.run(
        "old.key",
        &[],
        &[
            "keys",
            "rotate-master",
            "--new-key-file",
            &s.key_file("new.key"),
        ],
    );
    assert!(!done && err.contains("does not hold the new key"), "{err}");

    // Step 1: every instance learns the new key; step 2: it seals with it, the old one opens.
    let (server, url) = s.serve("old.key", &["new.key"]).await;
    assert_eq!(validate(&http, &url, &vpn, &logins[0], &apps).await, 200);
    drop(server);
    let (server, url) = s.serve("new.key", &["old.key"]).await;
    assert_eq!(validate(&http, &url, &vpn, &logins[0], &apps).await, 200);
    enrol(&http, &url, &admin, "rot00new", &apps).await;
    let (done, out, _) = s.run(
        "new.key",
        &["old.key"],
        &[
            "keys",
            "rotate-master",
            "--new-key-file",
            &s.key_file("new.key"),
            "--finish",
        ],
    );
    assert!(
        !done && out.contains("otp_factors.secret_enc"),
        "not finished yet: {out}"
    );

    // Step 3: re-seal in small batches while the server keeps verifying codes.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (http, url, vpn, apps, stop, logins) = (
            http.clone(),
            url.clone(),
            vpn.clone(),
            apps.clone(),
            stop.clone(),
            logins.clone(),
        );
        tokio::spawn(async move {
            let mut answers: HashMap<u16, u32> = HashMap::new();
            let mut i = 0;
            // At least a few rounds, and on until the rotation is done; each customer answers
            // at most 6 steps ahead here, within the window of 10.
            while (i < 8 || !stop.load(Ordering::Relaxed)) && i < 6 * CUSTOMERS {
                let l = &logins[i % logins.len()];
                *answers
                    .entry(validate(&http, &url, &vpn, l, &apps).await)
                    .or_default() += 1;
                i += 1;
                pause().await;
            }
            answers
        })
    };
    let (done, out, err) = tokio::task::spawn_blocking({
        let (s2, key) = (
            Setup {
                dir: s.dir.clone(),
                database_url: s.database_url.clone(),
            },
            s.key_file("new.key"),
        );
        move || {
            s2.run(
                "new.key",
                &["old.key"],
                &[
                    "keys",
                    "rotate-master",
                    "--new-key-file",
                    &key,
                    "--batch",
                    "2",
                ],
            )
        }
    })
    .await
    .unwrap_or_else(|e| unreachable!("{e}"));
    stop.store(true, Ordering::Relaxed);
    let answers = ok(load.await);
    assert!(done, "{err}");
    assert!(
        out.contains(&format!("Every sealed value is under {new_id}")),
        "{out}"
    );
    assert!(
        out.contains("otp_factors.secret_enc") && out.contains("sealed_keys.sealed"),
        "{out}"
    );
    assert_eq!(
        answers.keys().copied().collect::<Vec<_>>(),
        vec![200],
        "every code verified during the rotation: {answers:?}"
    );
    for &c in SealedColumn::ALL {
        assert_eq!(
            ok(store.count_not_under(c, &new_id).await),
            0,
            "{}",
            c.name()
        );
    }
    // Running it again finds nothing to do.
    let (done, out, err) = s.run(
        "new.key",
        &["old.key"],
        &[
            "keys",
            "rotate-master",
            "--new-key-file",
            &s.key_file("new.key"),
        ],
    );
    assert!(done && out.contains("Every sealed value"), "{out}{err}");
    assert_eq!(
        out.matches("re-sealed 0,").count(),
        SealedColumn::ALL.len(),
        "{out}"
    );
    assert_eq!(validate(&http, &url, &vpn, &logins[1], &apps).await, 200);

    // Step 4: finish, then the new key alone.
    let (done, out, err) = s.run(
        "new.key",
        &["old.key"],
        &[
            "keys",
            "rotate-master",
            "--new-key-file",
            &s.key_file("new.key"),
            "--finish",
        ],
    );
    assert!(done, "{err}");
    assert!(
        out.contains("the rotation is finished") && out.contains("extra_master_key_files"),
        "{out}"
    );
    drop(server);
    let (_server, url) = s.serve("new.key", &[]).await;
    for l in logins.iter().chain(["rot00new".to_owned()].iter()) {
        assert_eq!(
            log_in_with_code(&http, &url, l, &apps).await,
            200,
            "{l} logs in with the new key alone"
        );
    }
    // The old key alone no longer opens anything: the rotation really moved the secrets.
    let (done, _, err) = s.run(
        "old.key",
        &[],
        &[
            "keys",
            "rotate-master",
            "--new-key-file",
            &s.key_file("new.key"),
            "--finish",
        ],
    );
    assert!(!done && err.contains("code-hash key"), "{err}");

    let audit = ok(store
        .query_audit(&AuditFilter {
            event_types: Some(vec![
                EventType::MasterKeyRotationStarted,
                EventType::MasterKeyRotationFinished,
            ]),
            limit: 10,
            ..Default::default()
        })
        .await);
    let types: Vec<&str> = audit.iter().map(|e| e.event_type.as_str()).collect();
    assert!(
        types.contains(&"master_key_rotation_started")
            && types.contains(&"master_key_rotation_finished"),
        "{types:?}"
    );
    let (done, out, _) = s.run("new.key", &[], &["audit", "verify"]);
    assert!(done && out.contains("OK"), "{out}");
}

#[tokio::test]
async fn rotate_master_on_sqlite_while_a_server_verifies_codes() {
    let dir = ok(tempfile::tempdir());
    let url = sekisho_store::testing::sqlite_url(dir.path());
    rotate_master_while_serving(dir.path(), url).await;
}

#[tokio::test]
async fn rotate_master_on_postgres_while_a_server_verifies_codes() {
    let Some(url) = sekisho_store::testing::fresh_postgres_url("cli_rotate_master").await else {
        eprintln!("SEKISHO_TEST_DATABASE_URL not set: PostgreSQL case skipped");
        return;
    };
    let dir = ok(tempfile::tempdir());
    rotate_master_while_serving(dir.path(), url).await;
}
