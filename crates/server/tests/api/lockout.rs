use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn five_failures_lock_until_an_operator_unlocks() {
    let app = spawn_app().await;
    app.create_login("yamada01", "abc12345").await;
    for _ in 0..5 {
        let r = app.login("yamada01", "wrong1234").await;
        expect_error(
            r,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "SKS-LGN-0001",
        )
        .await;
    }
    // Locked: the right password gets the same answer as a wrong one (issue 16: no password
    // oracle); the customer learns of the lock from the notice mail.
    let r = app.login("yamada01", "abc12345").await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
    let r = app.login("yamada01", "wrong1234").await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;

    let l: Value = ok(app
        .admin(Method::GET, "/logins/yamada01", None)
        .await
        .json()
        .await);
    assert_eq!(l["locked"], true);
    assert_eq!(
        l["failed_logins"], 5,
        "failures past the lock are not counted"
    );
    assert_eq!(app.count_events("yamada01", "login_locked").await, 1);

    let r = app
        .admin(Method::POST, "/logins/yamada01/unlock", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["was_locked"], true);
    assert_eq!(
        app.login("yamada01", "abc12345").await.status(),
        StatusCode::OK
    );
    let unlock = app
        .audit("yamada01")
        .await
        .into_iter()
        .find(|e| e["event_type"] == "login_unlocked");
    let unlock = unlock.unwrap_or_default();
    assert_eq!(unlock["actor"]["kind"], "api_token");
    assert!(unlock["actor"]["id"]
        .as_str()
        .unwrap_or("")
        .ends_with(":tests"));
}

/// Issue 16: a locked login told the right password apart (`login_locked` 403 against
/// `invalid_credentials` 401) and kept counting failures. Now every password gets the same
/// answer, nothing more is counted, and the history still says what happened.
#[tokio::test]
async fn a_locked_login_answers_every_password_alike_and_counts_no_more() {
    let app = spawn_app().await;
    app.create_login("oracle01", "abc12345").await;
    for _ in 0..5 {
        app.login("oracle01", "wrong1234").await;
    }
    assert_eq!(failed(&app).await, 5);
    let mut answers = Vec::new();
    for password in ["abc12345", "wrong1234", "abc12345", "other999"] {
        let r = app.login("oracle01", password).await;
        let status = r.status();
        let v: Value = ok(r.json().await);
        answers.push((
            status,
            v["error"].clone(),
            v["code"].clone(),
            v["message"].clone(),
        ));
    }
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "every password gets the same answer: {answers:?}"
    );
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    assert_eq!(answers[0].1, "invalid_credentials");
    assert_eq!(
        failed(&app).await,
        5,
        "failures past the lock are not counted"
    );
    assert_eq!(app.count_events("oracle01", "login_locked").await, 1);
    let refusals: Vec<Value> = app
        .audit("oracle01")
        .await
        .into_iter()
        .filter(|e| {
            e["event_type"] == "login_failed"
                && e["description"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("login locked"))
        })
        .collect();
    assert_eq!(refusals.len(), 4, "each refusal is in the history");
    assert!(refusals.iter().all(|e| e["error_code"] == "SKS-LGN-0002"));
}

/// The login's failure count, checking that it is locked.
async fn failed(app: &TestApp) -> Value {
    let l: Value = ok(app
        .admin(Method::GET, "/logins/oracle01", None)
        .await
        .json()
        .await);
    assert_eq!(l["locked"], true, "{l}");
    l["failed_logins"].clone()
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let app = spawn_app().await;
    app.create_login("abe00001", "abc12345").await;
    for _ in 0..4 {
        app.login("abe00001", "wrong1234").await;
    }
    assert_eq!(
        app.login("abe00001", "abc12345").await.status(),
        StatusCode::OK
    );
    for _ in 0..4 {
        app.login("abe00001", "wrong1234").await;
    }
    assert_eq!(
        app.login("abe00001", "abc12345").await.status(),
        StatusCode::OK,
        "4 + 4 failures with a success between do not lock"
    );
}

async fn concurrent_wrong_passwords(apps: &[TestApp]) {
    apps[0].create_login("target01", "abc12345").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let app = &apps[i % apps.len()];
        let (http, url) = (app.http.clone(), app.url.clone());
        tasks.push(tokio::spawn(async move {
            ok(http.post(format!("{url}/api/v1/login"))
                .json(&serde_json::json!({ "login_id": "target01", "password": format!("wrong{i:04}") }))
                .send().await).status()
        }));
    }
    for t in tasks {
        assert_eq!(ok(t.await), StatusCode::UNAUTHORIZED);
    }
    let l: Value = ok(apps[1 % apps.len()]
        .admin(Method::GET, "/logins/target01", None)
        .await
        .json()
        .await);
    // Failures are counted atomically up to the lock; once a request sees the login locked it
    // counts no more (issue 16), so the 50 concurrent failures leave a count between the
    // threshold and the failures already in flight when the lock landed.
    let counted = l["failed_logins"].as_i64().unwrap_or_default();
    assert!((5..=50).contains(&counted), "{l}");
    assert_eq!(l["locked"], true);
    assert_eq!(apps[0].count_events("target01", "login_failed").await, 50);
    assert_eq!(
        apps[0].count_events("target01", "login_locked").await,
        1,
        "locked exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_failures_sqlite() {
    let app = spawn_app().await;
    concurrent_wrong_passwords(&[app]).await;
}

/// Two server instances on one PostgreSQL database, 50 concurrent wrong passwords between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_failures_two_instances_postgres() {
    let Some(url) = postgres("api_lock_two_instances").await else {
        return;
    };
    let a = spawn_with(Options {
        database_url: Some(url.clone()),
        ..Default::default()
    })
    .await;
    let b = spawn_with(Options {
        database_url: Some(url),
        ..Default::default()
    })
    .await;
    concurrent_wrong_passwords(&[a, b]).await;
}

/// Issue 16 item 7: wrong re-authentications in an open session locked the login, and the
/// session then went on to generate recovery codes with the right password. The lock now ends
/// the login's sessions.
#[tokio::test]
async fn a_lock_by_re_authentication_ends_the_logins_sessions() {
    let app = spawn_app().await;
    let session = crate::recovery::with_app(&app, "reauth01").await;
    let body = |password: &str| serde_json::json!({ "password": password });
    for _ in 0..5 {
        let r = app
            .post(
                "/api/v1/me/recovery-codes",
                Some(&session),
                body("wrong9999"),
            )
            .await;
        expect_error(
            r,
            StatusCode::UNAUTHORIZED,
            "current_password_invalid",
            "SKS-PWD-0008",
        )
        .await;
    }
    assert_eq!(app.count_events("reauth01", "login_locked").await, 1);
    let r = app
        .post(
            "/api/v1/me/recovery-codes",
            Some(&session),
            body(crate::recovery::PASSWORD),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "session_invalid",
        "SKS-AUT-0003",
    )
    .await;
    let r = app.get("/api/v1/me", Some(&session)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "session_invalid",
        "SKS-AUT-0003",
    )
    .await;
    let revoked = app
        .audit("reauth01")
        .await
        .into_iter()
        .filter(|e| {
            e["event_type"] == "session_revoked"
                && e["description"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("sessions revoked: login locked"))
        })
        .count();
    assert_eq!(revoked, 1, "the revocation is in the history");
}

/// Issue 16: the hosted login page showed the lock message (`SKS-LGN-0002`) to the right
/// password of a locked login. Now it shows what a wrong password gets, with the pointer to
/// the lock notice mail that every wrong password gets too.
#[tokio::test]
async fn the_login_page_answers_a_locked_login_like_a_wrong_password() {
    use crate::pages::{csrf, Browser};
    let app = spawn_app().await;
    app.create_login("pagelock01", "abc12345").await;
    for _ in 0..5 {
        app.login("pagelock01", "wrong1234").await;
    }
    let mut b = Browser::new();
    let (_, _, html) = b.get(&app, "/login").await;
    let token = csrf(&html);
    let mut pages = Vec::new();
    for password in ["abc12345", "wrong1234"] {
        let form = [
            ("csrf", token.as_str()),
            ("login_id", "pagelock01"),
            ("password", password),
        ];
        let (status, _, html) = b.post(&app, "/login", &form).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{html}");
        assert!(html.contains("SKS-LGN-0001"), "{html}");
        assert!(!html.contains("SKS-LGN-0002"), "no lock message: {html}");
        assert!(
            html.contains("ログインIDもしくはパスワードに誤りがあります。"),
            "{html}"
        );
        assert!(
            html.contains("ご登録のメールアドレスにお知らせをお送りしています"),
            "{html}"
        );
        let alert = html
            .split("role=\"alert\"")
            .nth(1)
            .and_then(|a| a.split("</div>").next())
            .unwrap_or_default()
            .to_owned();
        pages.push(alert);
    }
    assert_eq!(pages[0], pages[1], "the same words for both passwords");
}
