//! The real binary: `serve` on embedded defaults in a fresh folder, `api-token create`, and
//! configuration errors.

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

pub(crate) use support::{free_port, ok, sekisho, wait_ready, Server};

#[tokio::test]
async fn serve_on_embedded_defaults_then_log_in() {
    let dir = ok(tempfile::tempdir());
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let log = ok(std::fs::File::create(dir.path().join("server.log")));
    let mut server = Server(ok(sekisho(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()));
    wait_ready(&url, &mut server).await;

    let data = dir.path().join("sekisho-data");
    assert!(data.join("sekisho.db").exists(), "SQLite in ./sekisho-data");
    assert!(
        data.join("outbox").is_dir(),
        "mail outbox in ./sekisho-data/outbox"
    );
    let key = ok(std::fs::read_to_string(data.join("master.key")));
    assert_eq!(key.trim().len(), 64, "a generated 256-bit master key");
    let logged = ok(std::fs::read_to_string(dir.path().join("server.log")));
    assert!(
        logged.contains("development only"),
        "warns about the generated key: {logged}"
    );
    // The way in (issue 17 item 14): both addresses in the log, and `/` leads to the login.
    assert!(
        logged.contains(&format!("customer login page: {url}/login")),
        "names the login page: {logged}"
    );
    assert!(
        logged.contains(&format!("operator console: {url}/admin")),
        "names the console: {logged}"
    );
    let no_redirects = ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build());
    let r = ok(no_redirects.get(format!("{url}/")).send().await);
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/login")
    );

    let out = ok(sekisho(dir.path())
        .args(["api-token", "create", "--name", "ops", "--scope", "admin"])
        .output());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let token = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_owned();
    assert!(
        token.starts_with("sksa_"),
        "token on the last line: {stdout}"
    );

    let http = reqwest::Client::new();
    let r = ok(http.post(format!("{url}/api/admin/v1/logins")).bearer_auth(&token)
        .json(&json!({ "login_id": "cli00001", "email": "c@example.jp", "display_name": "C", "password": "abc12345", "temporary": false }))
        .send().await);
    assert_eq!(r.status(), 201);
    let r = ok(http
        .post(format!("{url}/api/v1/login"))
        .json(&json!({ "login_id": "cli00001", "password": "abc12345" }))
        .send()
        .await);
    assert_eq!(r.status(), 200);
    let v: Value = ok(r.json().await);
    let session = v["session_token"].as_str().unwrap_or("").to_owned();
    assert!(session.starts_with("skss_"));

    // A setup link from the shell, with the setup mail queued for the running server to send.
    let out = ok(sekisho(dir.path())
        .args(["login", "setup-link", "cli00001", "--send-email"])
        .output());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("setup mail queued for c@example.jp"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let link = stdout.lines().last().unwrap_or_default();
    assert!(link.contains("/setup/skst_"), "{stdout}");
    let r = ok(http
        .get(format!("{url}/api/admin/v1/mail"))
        .bearer_auth(&token)
        .send()
        .await);
    let v: Value = ok(r.json().await);
    assert!(
        v.to_string().contains("\"kind\":\"setup_link\""),
        "setup mail in the outbox: {v}"
    );
    let r = ok(http
        .get(format!("{url}/api/admin/v1/logins/cli00001"))
        .bearer_auth(&token)
        .send()
        .await);
    let v: Value = ok(r.json().await);
    assert_eq!(v["flags"]["setup_link_pending"], true);
    let out = ok(sekisho(dir.path())
        .args(["login", "setup-link", "nobody01"])
        .output());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SKS-"));

    drop(server);
    // No password, session token or API token in the server's log.
    let logged = ok(std::fs::read_to_string(dir.path().join("server.log")));
    for secret in ["abc12345", session.as_str(), token.as_str()] {
        assert!(!logged.contains(secret), "secret leaked into the log");
    }
    let list = ok(sekisho(dir.path()).args(["api-token", "list"]).output());
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains("ops") && !listed.contains(&token));
}

#[test]
fn unknown_configuration_is_an_error() {
    let dir = ok(tempfile::tempdir());
    std::fs::write(
        dir.path().join("s.toml"),
        "listen = \"127.0.0.1:0\"\n[sesion]\nidle_timeout_secs = 5\n",
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let out = ok(sekisho(dir.path())
        .args(["serve", "--config", "s.toml"])
        .output());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sesion"));

    let out = ok(sekisho(dir.path())
        .args(["config", "check"])
        .env("SEKISHO_PASSWORD_PRESET", "lenient")
        .output());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password.preset"));

    let out = ok(sekisho(dir.path())
        .args(["config", "check"])
        .env("SEKISHO_LISTNE", "x")
        .output());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SEKISHO_LISTNE"));
}

#[tokio::test]
async fn serve_on_postgres_from_the_environment() {
    let Some(db) = sekisho_store::testing::fresh_postgres_url("cli_serve").await else {
        eprintln!("SEKISHO_TEST_DATABASE_URL not set: PostgreSQL case skipped");
        return;
    };
    let dir = ok(tempfile::tempdir());
    let port = free_port();
    let mut server = Server(ok(sekisho(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("SEKISHO_DATABASE_URL", &db)
        .env("SEKISHO_MASTER_KEY", "00".repeat(32))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()));
    wait_ready(&format!("http://127.0.0.1:{port}"), &mut server).await;
    assert!(
        !dir.path().join("sekisho-data/sekisho.db").exists(),
        "no SQLite file when on PostgreSQL"
    );
}

/// `sekisho tokens import`: a PBKDF2-protected PSKC file into the embedded database; the
/// secret is nowhere in the database files in any form; a second run reports a duplicate; a
/// wrong passphrase fails with its code.
#[test]
fn tokens_import_from_the_shell() {
    let dir = ok(tempfile::tempdir());
    let fig7 = include_str!("../../core/src/import/testdata/rfc6030-figure7.xml");
    ok(std::fs::write(dir.path().join("acme.xml"), fig7));
    let run = |args: &[&str]| ok(sekisho(dir.path()).args(args).output());

    let out = run(&["tokens", "import", "acme.xml", "--passphrase", "qwerty"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("imported   987654321"), "{stdout}");
    assert!(stderr.contains("batch acme.xml: 1 imported"), "{stderr}");

    let out = run(&["tokens", "import", "acme.xml", "--passphrase", "qwerty"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("duplicate  987654321"));

    let out = run(&["tokens", "import", "acme.xml", "--passphrase", "qwertz"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.contains("SKS-HWT-0005"), "{stderr}");

    let out = run(&["tokens", "import", "acme.txt"]);
    assert!(!out.status.success(), "unknown extension");

    let secret_forms = [
        "12345678901234567890".as_bytes().to_vec(),
        b"MTIzNDU2Nzg5MDEyMzQ1Njc4OTA".to_vec(),
        b"3132333435363738393031323334353637383930".to_vec(),
        b"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".to_vec(),
    ];
    for entry in ok(std::fs::read_dir(dir.path().join("sekisho-data"))) {
        let path = ok(entry).path();
        if path.is_file() {
            let bytes = ok(std::fs::read(&path));
            for form in &secret_forms {
                assert!(
                    !bytes.windows(form.len()).any(|w| w == form.as_slice()),
                    "{} holds a form of the secret",
                    path.display()
                );
            }
        }
    }
}

/// `sekisho tokens import` of vendor files named `.txt` (multiOTP's habit): the content says
/// PSKC or CSV; a file with nothing in it is an error with its code, never "0 imported"; short
/// test secrets need `--allow-short-secrets`.
#[test]
fn tokens_import_sniffs_txt_and_refuses_nothing() {
    let dir = ok(tempfile::tempdir());
    let draft = include_str!("../../core/src/import/testdata/vendor/draft-hoyer-01-plain.xml");
    let empty = include_str!("../../core/src/import/testdata/vendor/no-key-package.xml");
    let fig2 = include_str!("../../core/src/import/testdata/rfc6030-figure2.xml");
    ok(std::fs::write(dir.path().join("draft.txt"), draft));
    ok(std::fs::write(
        dir.path().join("seeds.txt"),
        "T-1,3132333435363738393031323334353637383930,totp,6,30\n",
    ));
    ok(std::fs::write(dir.path().join("empty.txt"), empty));
    ok(std::fs::write(dir.path().join("fig2.xml"), fig2));
    let run = |args: &[&str]| {
        let out = ok(sekisho(dir.path()).args(args).output());
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (success, text) = run(&["tokens", "import", "draft.txt"]);
    assert!(success && text.contains("imported   98765432187"), "{text}");
    let (success, text) = run(&["tokens", "import", "seeds.txt"]);
    assert!(success && text.contains("imported   T-1"), "{text}");
    let (success, text) = run(&["tokens", "import", "empty.txt"]);
    assert!(!success && text.contains("SKS-HWT-0007"), "{text}");
    let (success, text) = run(&["tokens", "import", "fig2.xml"]);
    assert!(!success && text.contains("RFC 4226 section 4"), "{text}");
    let (success, text) = run(&["tokens", "import", "fig2.xml", "--allow-short-secrets"]);
    assert!(success && text.contains("imported   12345678"), "{text}");
}

/// `sekisho audit verify` walks the chain the CLI's own actions wrote, then names the record a
/// tamperer changed and exits with status 1.
#[tokio::test]
async fn audit_verify_reports_ok_then_the_tampered_record() {
    let dir = ok(tempfile::tempdir());
    for name in ["a", "b", "c"] {
        let out = ok(sekisho(dir.path())
            .args(["api-token", "create", "--name", name, "--scope", "admin"])
            .output());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let verify = |dir: &Path| {
        ok(sekisho(dir)
            .args(["audit", "verify", "--page-size", "2"])
            .output())
    };
    let out = verify(dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("3 chained records verified"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("OK"));

    sqlx::any::install_default_drivers();
    let db = dir.path().join("sekisho-data").join("sekisho.db");
    let pool = ok(sqlx::AnyPool::connect(&format!("sqlite://{}", db.display())).await);
    for sql in [
        "DROP TRIGGER audit_events_no_update",
        "UPDATE audit_events SET actor_kind = 'operator', actor_id = 'mallory' WHERE id = 2",
    ] {
        ok(sqlx::query(sql).execute(&pool).await);
    }
    pool.close().await;
    let out = verify(dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("BROKEN at event 2 ("), "{stdout}");
    assert!(
        stdout.contains("1 chained records verified before the break"),
        "{stdout}"
    );
}

/// `sekisho operator create` prints the one-time setup URL on the last line; a second operator
/// of the same name is refused.
#[test]
fn operator_create_prints_a_setup_link() {
    let dir = ok(tempfile::tempdir());
    let out = ok(sekisho(dir.path())
        .args(["operator", "create", "root", "--role", "admin"])
        .env("SEKISHO_PUBLIC_URL", "https://login.example-sec.co.jp")
        .output());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let url = stdout.lines().last().unwrap_or_default();
    assert!(
        url.starts_with("https://login.example-sec.co.jp/admin/setup/skst_") && url.len() > 60,
        "{stdout}"
    );
    let again = ok(sekisho(dir.path())
        .args(["operator", "create", "root", "--role", "support"])
        .output());
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("SKS-OPR-0003"));
    let list = ok(sekisho(dir.path()).args(["operator", "list"]).output());
    assert!(String::from_utf8_lossy(&list.stdout).contains("root"));
    let verify = ok(sekisho(dir.path()).args(["audit", "verify"]).output());
    assert!(verify.status.success());
}

#[tokio::test]
async fn keys_rotate_list_retire_and_the_published_set() {
    let dir = ok(tempfile::tempdir());
    let run = |args: &[&str]| ok(sekisho(dir.path()).args(args).output());
    let last_line = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned()
    };
    let first = run(&["keys", "rotate"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let kid1 = last_line(&first);
    let kid2 = last_line(&run(&["keys", "rotate"]));
    assert!(kid1.starts_with("sks-") && kid2.starts_with("sks-") && kid1 != kid2);
    let list = String::from_utf8_lossy(&run(&["keys", "list"]).stdout).into_owned();
    assert!(
        list.lines()
            .any(|l| l.starts_with("published") && l.ends_with(&kid1)),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("signing") && l.ends_with(&kid2)),
        "{list}"
    );

    // Both keys are published until one is retired.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let jwks = |url: String| async move {
        let v: Value = ok(
            ok(reqwest::get(format!("{url}/.well-known/jwks.json")).await)
                .json()
                .await,
        );
        v["keys"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|k| k["kid"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    let mut server = Server(ok(sekisho(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()));
    wait_ready(&url, &mut server).await;
    assert_eq!(jwks(url.clone()).await, vec![kid2.clone(), kid1.clone()]);
    let retired = run(&["keys", "retire", &kid1]);
    assert!(retired.status.success());
    assert_eq!(jwks(url.clone()).await, vec![kid2.clone()]);
    let list = String::from_utf8_lossy(&run(&["keys", "list"]).stdout).into_owned();
    assert!(
        list.lines()
            .any(|l| l.starts_with("retired") && l.ends_with(&kid1)),
        "{list}"
    );
    assert!(!run(&["keys", "retire", "sks-nosuchkey"]).status.success());

    // The OpenID Connect algorithms rotate the same way, each on its own: the EdDSA key keeps
    // signing.
    let ps = last_line(&run(&["keys", "rotate", "--alg", "PS256"]));
    assert!(ps.starts_with("sks-") && ps != kid2, "{ps}");
    let list = String::from_utf8_lossy(&run(&["keys", "list"]).stdout).into_owned();
    for (alg, kid) in [("PS256", &ps), ("EdDSA", &kid2)] {
        assert!(
            list.lines().any(|l| l.starts_with("signing")
                && l.contains(&format!(" {alg} "))
                && l.ends_with(kid.as_str())),
            "{list}"
        );
    }
    assert!(!run(&["keys", "rotate", "--alg", "HS256"]).status.success());
    let verify = run(&["audit", "verify"]);
    assert!(verify.status.success());
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    ok(std::fs::metadata(p)).permissions().mode() & 0o777
}

/// Reads an HTTP response until the server closes or `Content-Length` is complete.
async fn read_response(s: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .and_then(|v| v.trim().parse::<usize>().ok())
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return text;
            }
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return text,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// `sekisho serve` as a service (issue 16 items 8 and 16): its files are the server user's
/// alone; SIGTERM stops accepting, answers the request in flight, sends the mail that is due,
/// and exits 0 within `server.shutdown_timeout_secs` even with a client that never finishes.
// A real process and real signals: the waits are real time, not domain time.
#[allow(clippy::disallowed_methods)]
#[tokio::test]
async fn sigterm_answers_requests_in_flight_sends_due_mail_and_exits_0() {
    use tokio::io::AsyncWriteExt;
    let dir = ok(tempfile::tempdir());
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let log = ok(std::fs::File::create(dir.path().join("server.log")));
    let mut server = Server(ok(sekisho(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("SEKISHO_SERVER_SHUTDOWN_TIMEOUT_SECS", "4")
        // The sender would look for mail queued by other processes only every 10 minutes.
        .env("SEKISHO_MAIL_POLL_INTERVAL_MS", "600000")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()));
    wait_ready(&url, &mut server).await;

    let data = dir.path().join("sekisho-data");
    let outbox = data.join("outbox");
    assert_eq!(mode(&data), 0o700, "data folder");
    assert_eq!(mode(&outbox), 0o700, "outbox folder");
    assert_eq!(mode(&data.join("master.key")), 0o600);
    for f in ["sekisho.db", "sekisho.db-wal", "sekisho.db-shm"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }

    let out = ok(sekisho(dir.path())
        .args(["api-token", "create", "--name", "ops", "--scope", "admin"])
        .output());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let token = stdout.lines().last().unwrap_or("").trim().to_owned();
    let http = reqwest::Client::new();
    let r = ok(http.post(format!("{url}/api/admin/v1/logins")).bearer_auth(&token)
        .json(&json!({ "login_id": "sig00001", "email": "s@example.jp", "display_name": "S", "password": "abc12345", "temporary": false }))
        .send().await);
    assert_eq!(r.status(), 201);
    let out = ok(sekisho(dir.path())
        .args(["login", "setup-link", "sig00001", "--send-email"])
        .output());
    assert!(out.status.success());
    let mails = || {
        ok(std::fs::read_dir(&outbox))
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect::<Vec<_>>()
    };
    assert!(
        mails().is_empty(),
        "the sender is asleep: the setup mail waits"
    );

    // A login whose body is still on its way when the signal comes, and a client that never
    // finishes its body.
    let body = json!({ "login_id": "sig00001", "password": "abc12345" }).to_string();
    let head = |len: usize| {
        format!("POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n")
    };
    let addr = format!("127.0.0.1:{port}");
    let mut inflight = ok(tokio::net::TcpStream::connect(&addr).await);
    ok(inflight.write_all(head(body.len()).as_bytes()).await);
    ok(inflight.write_all(&body.as_bytes()[..10]).await);
    let mut stuck = ok(tokio::net::TcpStream::connect(&addr).await);
    ok(stuck.write_all(head(100).as_bytes()).await);
    ok(stuck.write_all(b"{\"login_id\"").await);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let signalled = Instant::now();
    let kill = ok(Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status());
    assert!(kill.success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "no new connection is accepted once stopping"
    );
    ok(inflight.write_all(&body.as_bytes()[10..]).await);
    let answer = read_response(&mut inflight).await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the request in flight is answered: {answer}"
    );
    assert!(answer.contains("skss_"), "{answer}");

    let status = loop {
        if let Some(status) = ok(server.0.try_wait()) {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM");
    assert!(
        took >= Duration::from_millis(3500) && took < Duration::from_secs(7),
        "the stuck client is waited for server.shutdown_timeout_secs (4 s), no longer: {took:?}"
    );
    let sent = mails();
    assert_eq!(sent.len(), 1, "the due setup mail was sent before exiting");
    assert_eq!(mode(&sent[0]), 0o600, "mail files are private");
    let logged = ok(std::fs::read_to_string(dir.path().join("server.log")));
    assert!(logged.contains("stopped"), "{logged}");
}

fn run(cwd: &Path, args: &[&str]) -> (bool, String, String) {
    let out = ok(sekisho(cwd).args(args).output());
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn start(dir: &Path) -> (Server, String) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let log = ok(std::fs::File::create(dir.join("server.log")));
    let mut server = Server(ok(sekisho(dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()));
    wait_ready(&url, &mut server).await;
    (server, url)
}

/// Issue 16 item 14: a backup taken while customers log in, restored into a fresh folder with
/// the master key, serves the same customers and its audit chain verifies.
#[tokio::test]
async fn backup_under_load_then_restore_into_a_fresh_folder() {
    let a = ok(tempfile::tempdir());
    let (server, url) = start(a.path()).await;
    let (done, out, err) = run(
        a.path(),
        &["api-token", "create", "--name", "ops", "--scope", "admin"],
    );
    assert!(done, "{err}");
    let token = out.lines().last().unwrap_or_default().trim().to_owned();
    let http = reqwest::Client::new();
    let r = ok(http.post(format!("{url}/api/admin/v1/logins")).bearer_auth(&token)
        .json(&json!({ "login_id": "bkp00001", "email": "b@example.jp", "display_name": "B", "password": "abc12345", "temporary": false }))
        .send().await);
    assert_eq!(r.status(), 201);

    // Customers keep logging in (each a session and audit records) while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (http, url, stop) = (http.clone(), url.clone(), stop.clone());
        tokio::spawn(async move {
            let mut logged_in = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = http
                    .post(format!("{url}/api/v1/login"))
                    .json(&json!({ "login_id": "bkp00001", "password": "abc12345" }))
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status() == 200) {
                    logged_in += 1;
                }
            }
            logged_in
        })
    };
    let backup = a.path().join("backup.db");
    let backup_arg = backup.display().to_string();
    let (done, out, err) = tokio::task::spawn_blocking({
        let cwd = a.path().to_owned();
        let arg = backup_arg.clone();
        move || run(&cwd, &["backup", "--to", &arg])
    })
    .await
    .unwrap_or_else(|e| unreachable!("{e}"));
    assert!(done, "{err}");
    assert!(out.contains("backup written"), "{out}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let logged_in = ok(load.await);
    assert!(logged_in > 0, "the load ran");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = ok(std::fs::metadata(&backup)).permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the backup is the server user's alone");
    }
    let (done, _, err) = run(a.path(), &["backup", "--to", &backup_arg]);
    assert!(!done && err.contains("never overwrites"), "{err}");
    drop(server);

    // Without the master key, nothing is restored.
    let c = ok(tempfile::tempdir());
    let (done, _, err) = run(c.path(), &["restore", "--from", &backup_arg]);
    assert!(!done && err.contains("no master key"), "{err}");
    assert!(!c.path().join("sekisho-data/sekisho.db").exists());

    // A fresh folder with the master key: restored, chain verified, customers log in.
    let b = ok(tempfile::tempdir());
    let data = b.path().join("sekisho-data");
    ok(std::fs::create_dir_all(&data));
    ok(std::fs::copy(
        a.path().join("sekisho-data/master.key"),
        data.join("master.key"),
    ));
    let (done, out, err) = run(b.path(), &["restore", "--from", &backup_arg]);
    assert!(done, "{err}");
    assert!(
        out.contains("chained audit records verified") && out.contains("OK"),
        "{out}"
    );
    let (done, _, err) = run(b.path(), &["restore", "--from", &backup_arg]);
    assert!(
        !done && err.contains("exists"),
        "a restore never overwrites: {err}"
    );
    let (done, out, _) = run(b.path(), &["audit", "verify"]);
    assert!(done && out.contains("OK"), "{out}");

    let (_server, url) = start(b.path()).await;
    let r = ok(http
        .post(format!("{url}/api/v1/login"))
        .json(&json!({ "login_id": "bkp00001", "password": "abc12345" }))
        .send()
        .await);
    assert_eq!(r.status(), 200, "the restored server knows the customer");
    let r = ok(http
        .get(format!("{url}/api/admin/v1/logins/bkp00001"))
        .bearer_auth(&token)
        .send()
        .await);
    assert_eq!(r.status(), 200, "and the API token");
}

#[tokio::test]
async fn oidc_clients_from_the_command_line() {
    let dir = ok(tempfile::tempdir());
    let run = |args: &[&str]| ok(sekisho(dir.path()).args(args).output());
    let doc = |o: &std::process::Output| -> Value {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        ok(serde_json::from_slice(&o.stdout))
    };
    let file = dir.path().join("crm.json");
    ok(std::fs::write(
        &file,
        json!({
            "client_name": "CRM",
            "profile": "basic",
            "redirect_uris": ["https://crm.example.co.jp/cb"],
        })
        .to_string(),
    ));
    let path = file.to_string_lossy().into_owned();
    let created = doc(&run(&["oidc", "client", "create", "--metadata", &path]));
    let id = created["client_id"].as_str().unwrap_or_default().to_owned();
    let secret = created["client_secret"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        id.starts_with("skc_") && secret.starts_with("skcs_"),
        "{created}"
    );
    assert_eq!(created["token_endpoint_auth_method"], "client_secret_basic");

    let shown = doc(&run(&["oidc", "client", "show", &id]));
    assert_eq!(shown["client_name"], "CRM");
    assert!(shown.get("client_secret").is_none(), "{shown}");
    let rotated = doc(&run(&["oidc", "client", "rotate-secret", &id]));
    let second = rotated["client_secret"].as_str().unwrap_or_default();
    assert!(second.starts_with("skcs_") && second != secret);
    assert!(run(&["oidc", "client", "disable", &id]).status.success());
    let list = String::from_utf8_lossy(&run(&["oidc", "client", "list"]).stdout).into_owned();
    assert!(
        list.lines()
            .any(|l| l.starts_with(&id) && l.contains("disabled") && l.ends_with("CRM")),
        "{list}"
    );

    // Bad metadata is refused with its code, naming the field.
    ok(std::fs::write(
        &file,
        json!({"client_name": "x", "redirect_uris": ["http://crm.example.co.jp/cb"], "profile": "basic"})
            .to_string(),
    ));
    let bad = run(&["oidc", "client", "create", "--metadata", &path]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("SKS-OIC-0001") && err.contains("redirect_uris"),
        "{err}"
    );
    assert!(!run(&["oidc", "client", "show", "skc_nosuch"])
        .status
        .success());
    assert!(run(&["audit", "verify"]).status.success());
}

#[path = "cli/audit_archive.rs"]
mod audit_archive;
#[path = "cli/rotate_master.rs"]
mod rotate_master;
